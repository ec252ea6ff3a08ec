#!/usr/bin/env bash
# Measures what a client sees when it calls a fixed-answer mock Bedrock upstream three ways:
# directly, through an nginx reverse proxy, and through sluice. Prints a table and writes
# bench/RESULTS.md. See bench/README.md.
#
#   bench/run.sh PATH/TO/sluice
#
# Environment (defaults in brackets):
#   BENCH_SECONDS [8]       length of each measured run
#   BENCH_WARMUP [2]        warm-up per target and protocol, seconds (0 skips it)
#   BENCH_RUNS [3]          measured runs per target and protocol (the median is reported)
#   BENCH_CONNECTIONS [64]  concurrent client connections
#   BENCH_THREADS [1]       load-generator threads (see bench/README.md for why one)
#   BENCH_PROTOCOLS ["http1 h2"]  which of http1 (wrk) and h2 (h2load) to run
#   BENCH_RESULTS [bench/RESULTS.md]  where to write the report
#   BENCH_KEEP_LOGS [0]     1 keeps access logs and h2load request logs in the work dir
#   BENCH_NOISE_LIMIT [10]  after a round in which other work used more than this % of the
#                           CPUs, run another round ...
#   BENCH_EXTRA_ROUNDS [2]  ... at most this many per protocol; the BENCH_RUNS quietest count
#   BENCH_PROFILE [0]       1 profiles sluice with perf under HTTP/1.1 load instead of
#                           benchmarking (no RESULTS.md); see bench/README.md
#   NGINX [/usr/sbin/nginx]
set -euo pipefail

readonly MODEL_ID="anthropic.claude-sonnet-4-5-20250929-v1:0"
readonly REQUEST_PATH="/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
readonly REQUEST_BODY='{"messages":[{"role":"user","content":[{"text":"What is the capital of France?"}]}],"inferenceConfig":{"maxTokens":64}}'
readonly FIXED_ANSWER='{"output":{"message":{"role":"assistant","content":[{"text":"fixed answer"}]}},"stopReason":"end_turn","usage":{"inputTokens":12,"outputTokens":3,"totalTokens":15},"metrics":{"latencyMs":1}}'
readonly TARGETS=(direct nginx sluice)

BENCH_SECONDS=${BENCH_SECONDS:-8}
BENCH_WARMUP=${BENCH_WARMUP:-2}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-64}
BENCH_THREADS=${BENCH_THREADS:-1}
BENCH_PROTOCOLS=${BENCH_PROTOCOLS:-http1 h2}
BENCH_KEEP_LOGS=${BENCH_KEEP_LOGS:-0}
BENCH_PROFILE=${BENCH_PROFILE:-0}
BENCH_NOISE_LIMIT=${BENCH_NOISE_LIMIT:-10}
BENCH_EXTRA_ROUNDS=${BENCH_EXTRA_ROUNDS:-2}
NGINX=${NGINX:-/usr/sbin/nginx}

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_DIR/RESULTS.md}

die() {
  echo "bench: error: $*" >&2
  exit 1
}

note() {
  echo "bench: $*" >&2
}

# ---------------------------------------------------------------------------------------------
# Arguments, tools, parameters.

[[ $# -eq 1 ]] || die "usage: $0 PATH/TO/sluice"
[[ -x $1 ]] || die "sluice binary '$1' is missing or not executable (build it first)"
SLUICE=$(realpath "$1")

for tool in "$NGINX" wrk h2load curl python3 getconf pgrep realpath; do
  command -v "$tool" >/dev/null || die "'$tool' is not installed (see bench/README.md)"
done
if [[ $BENCH_PROFILE == 1 ]]; then
  command -v perf >/dev/null || die "BENCH_PROFILE=1 needs perf (linux-perf)"
fi
for name in BENCH_SECONDS BENCH_RUNS BENCH_CONNECTIONS BENCH_THREADS; do
  [[ ${!name} =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, got '${!name}'"
done
[[ $BENCH_WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a whole number of seconds"
[[ $BENCH_EXTRA_ROUNDS =~ ^[0-9]+$ ]] || die "BENCH_EXTRA_ROUNDS must be a whole number"
[[ $BENCH_NOISE_LIMIT =~ ^[0-9]+([.][0-9]+)?$ ]] || die "BENCH_NOISE_LIMIT must be a number (%)"
((BENCH_CONNECTIONS >= BENCH_THREADS)) || die "BENCH_CONNECTIONS must be >= BENCH_THREADS"
for protocol in $BENCH_PROTOCOLS; do
  [[ $protocol == http1 || $protocol == h2 ]] || die "unknown protocol '$protocol' (http1, h2)"
done

CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)

# HTTP/2 to nginx needs its http_v2 module; without it only sluice could be measured over h2,
# which has nothing to compare against, so h2 is skipped.
NGINX_H2=1
if ! "$NGINX" -V 2>&1 | grep -q -- '--with-http_v2_module'; then
  NGINX_H2=0
  if [[ " $BENCH_PROTOCOLS " == *" h2 "* ]]; then
    note "$NGINX was built without the http_v2 module: skipping the HTTP/2 measurements"
    BENCH_PROTOCOLS=${BENCH_PROTOCOLS//h2/}
  fi
fi
[[ -n ${BENCH_PROTOCOLS// /} ]] || die "no protocol left to measure"

# ---------------------------------------------------------------------------------------------
# Work directory and process bookkeeping.

mkdir -p "$BENCH_DIR/work"
# Keep the work dirs of the last few runs only.
find "$BENCH_DIR/work" -mindepth 1 -maxdepth 1 -type d -name 'run-*' -printf '%T@ %p\n' |
  sort -rn | tail -n +5 | cut -d' ' -f2- | while read -r old; do rm -rf -- "$old"; done
WORK=$(mktemp -d "$BENCH_DIR/work/run-$(date +%Y%m%d-%H%M%S)-XXXX")
mkdir -p "$WORK/tmp" "$WORK/runs" "$WORK/sluice-data"
BODY_FILE=$WORK/body.json
printf '%s' "$REQUEST_BODY" >"$BODY_FILE"
TSV=$WORK/results.tsv
META=$WORK/meta.tsv

PIDS=()
declare -A PID_NAME=()
CHECK_RESULT=

alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

cleanup() {
  local status=$? pid i
  # Finish the cleanup whatever happens to stdout/stderr (a reader such as `| head` may be gone).
  set +e
  trap - EXIT INT TERM HUP
  trap '' PIPE
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for ((i = 0; i < 50; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      note "${PID_NAME[$pid]} (pid $pid) did not exit within 5 s of SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if [[ $BENCH_KEEP_LOGS != 1 ]]; then
    rm -f "$WORK/proxy_access.log" "$WORK/sluice-data/access.log" "$WORK"/runs/*.h2log
  fi
  if ((status != 0)); then
    note "failed; logs are in $WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

# start NAME COMMAND...: runs COMMAND in the background, output in $WORK/NAME.{out,err}.
start() {
  local name=$1
  shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=("$!")
  PID_NAME[$!]=$name
  LAST_PID=$!
}

# ---------------------------------------------------------------------------------------------
# Ports: ask the kernel for free ones.

read -r MOCK_PORT MOCK_H2_PORT PROXY_PORT PROXY_H2_PORT SLUICE_PORT < <(python3 - <<'EOF'
import socket
sockets = []
for _ in range(5):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    sockets.append(s)
print(" ".join(str(s.getsockname()[1]) for s in sockets))
EOF
)

target_port() {
  local protocol=$1 target=$2
  case "$target/$protocol" in
    direct/http1) echo "$MOCK_PORT" ;;
    direct/h2) echo "$MOCK_H2_PORT" ;;
    nginx/http1) echo "$PROXY_PORT" ;;
    nginx/h2) echo "$PROXY_H2_PORT" ;;
    sluice/*) echo "$SLUICE_PORT" ;;
    *) die "no port for $target/$protocol" ;;
  esac
}

target_url() {
  echo "http://127.0.0.1:$(target_port "$1" "$2")$REQUEST_PATH"
}

# ---------------------------------------------------------------------------------------------
# Configuration files.

h2_listen() {
  if ((NGINX_H2)); then
    echo "listen 127.0.0.1:$1 http2;"
  fi
}

# Settings both nginx instances share: temp paths inside the work dir (never the system ones),
# and no cap on requests per keep-alive connection (nginx closes a connection after 1000
# requests by default, which would make the clients reconnect in the middle of a run).
nginx_common() {
  cat <<EOF
  client_body_temp_path $WORK/tmp/client_body;
  proxy_temp_path $WORK/tmp/proxy;
  fastcgi_temp_path $WORK/tmp/fastcgi;
  uwsgi_temp_path $WORK/tmp/uwsgi;
  scgi_temp_path $WORK/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
EOF
}

cat >"$WORK/mock.conf" <<EOF
# Fixed-answer Bedrock upstream for the benchmark (generated by bench/run.sh).
worker_processes 1;
pid $WORK/mock.pid;
error_log $WORK/mock_error.log warn;
events { worker_connections 4096; }
http {
$(nginx_common)
  access_log off;
  server {
    listen 127.0.0.1:$MOCK_PORT;
    $(h2_listen "$MOCK_H2_PORT")
    default_type application/json;
    location / {
      return 200 '$FIXED_ANSWER';
    }
  }
}
EOF

cat >"$WORK/proxy.conf" <<EOF
# nginx reverse proxy in front of the mock (generated by bench/run.sh).
worker_processes 2;
pid $WORK/proxy.pid;
error_log $WORK/proxy_error.log warn;
events { worker_connections 4096; }
http {
$(nginx_common)
  access_log $WORK/proxy_access.log;
  upstream mock {
    server 127.0.0.1:$MOCK_PORT;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$PROXY_PORT;
    $(h2_listen "$PROXY_H2_PORT")
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF

cat >"$WORK/sluice.yaml" <<EOF
# sluice in front of the mock (generated by bench/run.sh).
region: us-east-1
log: {level: warn, access_log: access.log}
auth: {anonymous: loopback}
simulator: {enabled: false}
upstreams:
  - {name: mock, type: bedrock, endpoint: "http://127.0.0.1:$MOCK_PORT", region: us-east-1}
deployments:
  - {model: "$MODEL_ID", upstream: mock}
EOF

# ---------------------------------------------------------------------------------------------
# Start everything and check each target answers.

# check_target PROTOCOL TARGET: one request with curl; returns non-zero unless it got a 200 with
# the fixed answer over the expected HTTP version.
check_target() {
  local protocol=$1 target=$2 flags=() want=1.1
  if [[ $protocol == h2 ]]; then
    flags=(--http2-prior-knowledge)
    want=2
  fi
  CHECK_RESULT=$(curl -sS --max-time 5 "${flags[@]}" -o "$WORK/check-$target-$protocol.body" \
    -w '%{http_code} %{http_version}' -X POST -H 'Content-Type: application/json' \
    --data-binary "@$BODY_FILE" "$(target_url "$protocol" "$target")" 2>&1) || return 1
  [[ $CHECK_RESULT == "200 $want" ]] || return 1
  grep -q '"fixed answer"' "$WORK/check-$target-$protocol.body"
}

# wait_ready NAME PID TARGET: waits up to 10 s for TARGET to answer over HTTP/1.1.
wait_ready() {
  local name=$1 pid=$2 target=$3 i
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || die "$name exited at startup: $(cat "$WORK/$name.err")"
    if check_target http1 "$target"; then
      return 0
    fi
    sleep 0.1
  done
  die "$name did not answer 200 on $(target_url http1 "$target") within 10 s:" \
    "$(cat "$WORK/$name.err")"
}

"$NGINX" -t -q -p "$WORK" -c "$WORK/mock.conf" 2>"$WORK/mock-t.err" ||
  die "mock nginx config rejected: $(cat "$WORK/mock-t.err")"
"$NGINX" -t -q -p "$WORK" -c "$WORK/proxy.conf" 2>"$WORK/proxy-t.err" ||
  die "proxy nginx config rejected: $(cat "$WORK/proxy-t.err")"

start mock "$NGINX" -p "$WORK" -c "$WORK/mock.conf" -g 'daemon off;'
MOCK_PID=$LAST_PID
wait_ready mock "$MOCK_PID" direct
start proxy "$NGINX" -p "$WORK" -c "$WORK/proxy.conf" -g 'daemon off;'
PROXY_PID=$LAST_PID
wait_ready proxy "$PROXY_PID" nginx
start sluice "$SLUICE" serve --config "$WORK/sluice.yaml" --data-dir "$WORK/sluice-data" \
  --listen "127.0.0.1:$SLUICE_PORT"
SLUICE_PID=$LAST_PID
wait_ready sluice "$SLUICE_PID" sluice

# nginx's `return` answers without reading the request body, and over HTTP/2 it then sends
# RST_STREAM(NO_ERROR) after the complete response to stop the upload. curl 7.88 reports that
# as error 92 even though the whole answer arrived; h2load (the tool that measures) does not.
# So the mock's HTTP/2 port is checked with h2load; the proxies read the body before answering
# and are checked with curl like everything else.
check_direct_h2() {
  local out=$WORK/check-direct-h2.out
  CHECK_RESULT=$(h2load -n 10 -c 1 -m 1 -d "$BODY_FILE" -H 'content-type: application/json' \
    "$(target_url h2 direct)" 2>&1) || return 1
  printf '%s\n' "$CHECK_RESULT" >"$out"
  grep -q '^requests: 10 total, 10 started, 10 done, 10 succeeded' "$out" &&
    grep -q '^status codes: 10 2xx' "$out"
}

for protocol in $BENCH_PROTOCOLS; do
  for target in "${TARGETS[@]}"; do
    if [[ $protocol/$target == h2/direct ]]; then
      check_direct_h2 && continue
    else
      check_target "$protocol" "$target" && continue
    fi
    die "$target did not answer 200 over $protocol on $(target_url "$protocol" "$target"):" \
      "curl said '$CHECK_RESULT'; body:" \
      "$(head -c 300 "$WORK/check-$target-$protocol.body" 2>/dev/null)"
  done
done
note "mock :$MOCK_PORT/:$MOCK_H2_PORT, nginx :$PROXY_PORT/:$PROXY_H2_PORT, sluice :$SLUICE_PORT" \
  "all answer 200; work dir $WORK"

# ---------------------------------------------------------------------------------------------
# Measurement.

# pids_of TARGET: the processes whose CPU counts as the proxy's (none for direct).
nginx_family() {
  echo "$1"
  pgrep -P "$1" || true
}

proxy_pids() {
  case "$1" in
    direct) ;;
    nginx) nginx_family "$PROXY_PID" ;;
    sluice) echo "$SLUICE_PID" ;;
  esac
}

# cpu_ticks_of DIR: user + system clock ticks from DIR/stat (a /proc/PID or /proc/PID/task/TID).
cpu_ticks_of() {
  local stat fields
  stat=$(cat "$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  read -r -a fields <<<"$stat"
  # After "pid (comm) ", field 3 (state) is index 0: utime (14) and stime (15) are 11 and 12.
  echo $((fields[11] + fields[12]))
}

# cpu_ticks PID...: user + system time of the processes (all their threads), in clock ticks.
cpu_ticks() {
  local total=0 pid ticks
  for pid in "$@"; do
    ticks=$(cpu_ticks_of "/proc/$pid") || die "process $pid (${PID_NAME[$pid]:-worker}) is gone"
    total=$((total + ticks))
  done
  echo "$total"
}

# machine_ticks: busy (user nice system irq softirq) and steal ticks over all CPUs. Softirq time
# spent in a process's context is also in that process's own times, so the benchmark's share of
# it cancels out when "other" CPU is computed.
machine_ticks() {
  awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $9 }' /proc/stat
}

# children_ms FILE: CPU time (ms) of this shell's finished children, from a `times` snapshot.
children_ms() {
  awk 'NR == 2 {
    total = 0
    for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); total += t[1] * 60 + t[2] }
    printf "%.0f\n", total * 1000
  }' "$1"
}

truncate_access_logs() {
  : >"$WORK/proxy_access.log"
  if [[ -f $WORK/sluice-data/access.log ]]; then
    : >"$WORK/sluice-data/access.log"
  fi
}

# run_load PROTOCOL TARGET ROUND SECONDS: one load-generator run; ROUND 0 is a warm-up and is
# not recorded. Fails the benchmark if any request failed.
run_load() {
  local protocol=$1 target=$2 round=$3 seconds=$4
  local tag out log url tool
  local -a proxy mock
  if ((round == 0)); then tag=$protocol-$target-warmup; else tag=$protocol-$target-$round; fi
  out=$WORK/runs/$tag.out
  log=$WORK/runs/$tag.h2log
  url=$(target_url "$protocol" "$target")
  mapfile -t proxy < <(proxy_pids "$target")
  mapfile -t mock < <(nginx_family "$MOCK_PID")

  local p0 m0 p1 m1 busy0 steal0 busy1 steal1 t0 t1
  rm -f "$log"
  times >"$WORK/times.before"
  read -r busy0 steal0 < <(machine_ticks)
  p0=$(cpu_ticks "${proxy[@]}")
  m0=$(cpu_ticks "${mock[@]}")
  t0=$(date +%s.%N)
  if [[ $protocol == http1 ]]; then
    tool=wrk
    wrk -t "$BENCH_THREADS" -c "$BENCH_CONNECTIONS" -d "${seconds}s" --latency \
      -s "$BENCH_DIR/converse.lua" "$url" -- "$BODY_FILE" >"$out" 2>&1 ||
      die "wrk failed against $target: $(tail -5 "$out")"
  else
    tool=h2load
    h2load -t "$BENCH_THREADS" -c "$BENCH_CONNECTIONS" -m 1 -D "$seconds" -d "$BODY_FILE" \
      -H 'content-type: application/json' --log-file="$log" "$url" >"$out" 2>&1 ||
      die "h2load failed against $target: $(tail -5 "$out")"
  fi
  t1=$(date +%s.%N)
  p1=$(cpu_ticks "${proxy[@]}")
  m1=$(cpu_ticks "${mock[@]}")
  read -r busy1 steal1 < <(machine_ticks)
  times >"$WORK/times.after"

  local client_ms record=()
  client_ms=$(($(children_ms "$WORK/times.after") - $(children_ms "$WORK/times.before")))
  if ((round > 0)); then
    record=(--tsv "$TSV")
  fi
  python3 "$BENCH_DIR/benchlib.py" record --tool "$tool" --out "$out" --log "$log" \
    --protocol "$protocol" --target "$target" --round "$round" \
    --proxy-ticks $((p1 - p0)) --mock-ticks $((m1 - m0)) --client-cpu-ms "$client_ms" \
    --busy-ticks $((busy1 - busy0)) --steal-ticks $((steal1 - steal0)) \
    --wall-seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    --ncpu "$NCPU" --clk-tck "$CLK_TCK" "${record[@]}" ||
    die "requests failed during the $tag run against $target (see $out)"
  if [[ $BENCH_KEEP_LOGS != 1 ]]; then
    rm -f "$log"
    truncate_access_logs
  fi
}

# profile_sluice: HTTP/1.1 load on sluice while perf samples it; prints where its CPU goes.
profile_sluice() {
  local url seconds=$BENCH_SECONDS tid name requests switches
  local -A before=()
  url=$(target_url http1 sluice)
  for tid in /proc/"$SLUICE_PID"/task/*; do
    before[${tid##*/}]=$(cpu_ticks_of "$tid")
  done
  wrk -t "$BENCH_THREADS" -c "$BENCH_CONNECTIONS" -d "$((seconds + 2))s" \
    -s "$BENCH_DIR/converse.lua" "$url" -- "$BODY_FILE" >"$WORK/profile-wrk.out" 2>&1 &
  local wrk_pid=$!
  sleep 1
  perf record -F 999 -g -p "$SLUICE_PID" -o "$WORK/perf.data" -- sleep "$seconds" \
    >"$WORK/perf-record.out" 2>&1 || die "perf record failed: $(tail -3 "$WORK/perf-record.out")"
  wait "$wrk_pid" || die "wrk failed: $(tail -5 "$WORK/profile-wrk.out")"
  if grep -q 'err_[a-z]*=[1-9]' "$WORK/profile-wrk.out"; then
    die "requests failed during profiling: $(grep '^BENCH' "$WORK/profile-wrk.out")"
  fi
  requests=$(sed -n 's/^BENCH requests=\([0-9]*\).*/\1/p' "$WORK/profile-wrk.out")
  echo "sluice under $BENCH_CONNECTIONS connections for $((seconds + 2)) s: $requests requests"
  echo "CPU per request by thread (µs); the access-log thread is the one with many voluntary"
  echo "context switches:"
  for tid in /proc/"$SLUICE_PID"/task/*; do
    name=${tid##*/}
    switches=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "$tid/status")
    awk -v t="$(($(cpu_ticks_of "$tid") - ${before[$name]:-0}))" -v n="$requests" \
      -v hz="$CLK_TCK" -v id="$name" -v sw="$switches" 'BEGIN {
        printf "  thread %-8s %6.1f µs/req  (voluntary switches since start %s)\n",
          id, t * 1e6 / hz / n, sw
      }'
  done
  echo
  perf report -i "$WORK/perf.data" --no-children --sort dso --stdio -g none \
    >"$WORK/perf-dso.txt" 2>/dev/null || die "perf report failed"
  perf report -i "$WORK/perf.data" --no-children --sort dso,sym --stdio -g none \
    >"$WORK/perf-sym.txt" 2>/dev/null || die "perf report failed"
  echo "Samples by binary:"
  grep -v -e '^#' -e '^$' "$WORK/perf-dso.txt" | sed -n '1,10p'
  echo
  echo "Top symbols (self time):"
  grep -v -e '^#' -e '^$' "$WORK/perf-sym.txt" | sed -n '1,40p' | cut -c1-160
  echo
  echo "perf data kept in $WORK/perf.data (perf report -i $WORK/perf.data)"
}

if [[ $BENCH_PROFILE == 1 ]]; then
  profile_sluice
  exit 0
fi

total=0
for protocol in $BENCH_PROTOCOLS; do
  total=$((total + 3 * (BENCH_WARMUP + BENCH_RUNS * BENCH_SECONDS)))
done
note "measuring: protocols '$BENCH_PROTOCOLS', $BENCH_CONNECTIONS connections, $BENCH_THREADS" \
  "load-generator thread(s), ${BENCH_WARMUP}s warm-up + $BENCH_RUNS x ${BENCH_SECONDS}s per target" \
  "(about ${total}s of load, more if noisy rounds are repeated)"

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
for protocol in $BENCH_PROTOCOLS; do
  if ((BENCH_WARMUP > 0)); then
    for target in "${TARGETS[@]}"; do
      run_load "$protocol" "$target" 0 "$BENCH_WARMUP" >/dev/null
    done
  fi
  # Interleave the targets so slow drifts in the machine's load hit all three alike. When other
  # work took more than BENCH_NOISE_LIMIT % of the CPUs during a round, run another one (at most
  # BENCH_EXTRA_ROUNDS more), then keep the BENCH_RUNS quietest rounds.
  quiet=0
  round=0
  while ((quiet < BENCH_RUNS && round < BENCH_RUNS + BENCH_EXTRA_ROUNDS)); do
    round=$((round + 1))
    for target in "${TARGETS[@]}"; do
      run_load "$protocol" "$target" "$round" "$BENCH_SECONDS"
    done
    settle=0
    python3 "$BENCH_DIR/benchlib.py" settle --tsv "$TSV" --protocol "$protocol" \
      --round "$round" --limit "$BENCH_NOISE_LIMIT" || settle=$?
    case $settle in
      0) quiet=$((quiet + 1)) ;;
      10) ;;
      *) die "cannot judge round $round" ;;
    esac
  done
  python3 "$BENCH_DIR/benchlib.py" select --tsv "$TSV" --protocol "$protocol" --keep "$BENCH_RUNS"
done

# ---------------------------------------------------------------------------------------------
# Report.

version_of() {
  "$@" 2>&1 | head -n 1 || true
}

GIT_REV=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$REPO_DIR" status --porcelain 2>/dev/null || true) ]]; then
  GIT_REV="$GIT_REV (working tree has uncommitted changes)"
fi

{
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf 'nproc\t%s\n' "$NCPU"
  printf 'cpu_model\t%s\n' "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  printf 'kernel\t%s\n' "$(uname -sr)"
  printf 'loadavg\t%s\n' "$LOADAVG"
  printf 'sluice_bin\t%s\n' "$SLUICE"
  printf 'sluice_version\t%s\n' "$(version_of "$SLUICE" --version)"
  printf 'git_rev\t%s\n' "$GIT_REV"
  printf 'sluice_workers\t%s\n' "$NCPU"
  printf 'nginx_version\t%s\n' "$(version_of "$NGINX" -v)"
  printf 'wrk_version\t%s\n' "$(version_of wrk -v | sed 's/ Copyright.*//')"
  printf 'h2load_version\t%s\n' "$(version_of h2load --version)"
  printf 'protocols\t%s\n' "$BENCH_PROTOCOLS"
  printf 'connections\t%s\n' "$BENCH_CONNECTIONS"
  printf 'threads\t%s\n' "$BENCH_THREADS"
  printf 'warmup\t%s\n' "$BENCH_WARMUP"
  printf 'seconds\t%s\n' "$BENCH_SECONDS"
  printf 'runs\t%s\n' "$BENCH_RUNS"
  printf 'noise_limit\t%s\n' "$BENCH_NOISE_LIMIT"
  printf 'extra_rounds\t%s\n' "$BENCH_EXTRA_ROUNDS"
  printf 'path\t%s\n' "$REQUEST_PATH"
  printf 'body\t%s\n' "$REQUEST_BODY"
  printf 'body_bytes\t%s\n' "${#REQUEST_BODY}"
  printf 'answer_bytes\t%s\n' "${#FIXED_ANSWER}"
  if ((!NGINX_H2)); then
    printf 'notes\t%s\n' "nginx lacks the http_v2 module, so HTTP/2 was not measured"
  fi
} >"$META"

python3 "$BENCH_DIR/benchlib.py" report --tsv "$TSV" --meta "$META" --results "$BENCH_RESULTS"
note "wrote $BENCH_RESULTS; raw runs in $WORK"
