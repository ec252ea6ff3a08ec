#!/usr/bin/env python3
"""Arithmetic for bench/run.sh (standard library only).

Subcommands:
  record  parse one wrk or h2load run, turn the CPU counters into per-request figures, append a
          row to the results TSV and print a one-line summary; exits 3 if any request failed.
  report  read the results TSV and the metadata file, print the tables and write RESULTS.md.
"""

import argparse
import csv
import os
import re
import statistics
import sys

FIELDS = [
    "protocol", "round", "target", "requests", "seconds", "rps", "p50_us", "p90_us", "p99_us",
    "mean_us", "max_us", "proxy_cpu_us_per_req", "mock_cpu_us_per_req",
    "client_cpu_us_per_req", "other_cpu_pct", "steal_pct", "kept",
]
NUMERIC = FIELDS[3:-1]

TARGETS = ["direct", "nginx", "sluice"]
PROTOCOL_TITLES = {
    "http1": "HTTP/1.1 (wrk)",
    "h2": "HTTP/2 cleartext, prior knowledge (h2load)",
}

# The goal, as stated in bench/README.md.
GOAL_ADDED_LATENCY = 1.5
GOAL_THROUGHPUT = 0.8
GOAL_CPU = 1.5


class RunFailed(Exception):
    pass


def parse_kv(text):
    return {key: value for key, value in re.findall(r"(\w+)=(\S+)", text)}


def parse_wrk(out_path):
    """Reads the BENCH line that bench/converse.lua prints when wrk finishes."""
    with open(out_path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    lines = [line for line in text.splitlines() if line.startswith("BENCH ")]
    if not lines:
        raise RunFailed(f"no BENCH line in wrk output {out_path}:\n{text}")
    kv = parse_kv(lines[-1])
    errors = {name: int(kv[name]) for name in kv if name.startswith("err_")}
    bad = {name: count for name, count in errors.items() if count}
    if bad:
        # err_status counts responses with a status of 400 or more.
        raise RunFailed(f"wrk reported errors {bad} (see {out_path})")
    requests = int(kv["requests"])
    seconds = int(kv["duration_us"]) / 1e6
    if requests == 0:
        raise RunFailed(f"wrk completed no requests (see {out_path})")
    return {
        "requests": requests,
        "seconds": seconds,
        "rps": requests / seconds,
        "p50_us": float(kv["p50_us"]),
        "p90_us": float(kv["p90_us"]),
        "p99_us": float(kv["p99_us"]),
        "mean_us": float(kv["mean_us"]),
        "max_us": float(kv["max_us"]),
    }


def percentile(sorted_values, pct):
    """Nearest-rank percentile: the smallest value with at least pct% of the values at or below."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * pct // 100))  # ceil without floats
    return float(sorted_values[int(rank) - 1])


def parse_h2load(out_path, log_path):
    """Counts and status codes from h2load's summary, latencies from its per-request log."""
    with open(out_path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    finished = re.search(r"finished in ([\d.]+)(\w+), ([\d.]+) req/s", text)
    counts = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
        r"(\d+) errored, (\d+) timeout", text)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if not (finished and counts and codes):
        raise RunFailed(f"cannot parse h2load output {out_path}:\n{text}")
    done, succeeded, failed, errored, timeout = (int(counts.group(i)) for i in (3, 4, 5, 6, 7))
    ok, s3xx, s4xx, s5xx = (int(codes.group(i)) for i in (1, 2, 3, 4))
    if failed or errored or timeout or s3xx or s4xx or s5xx or succeeded != done or ok < done:
        raise RunFailed(
            f"h2load reported failures: done={done} succeeded={succeeded} failed={failed} "
            f"errored={errored} timeout={timeout} 2xx={ok} 3xx={s3xx} 4xx={s4xx} 5xx={s5xx} "
            f"(see {out_path})")
    if done == 0:
        raise RunFailed(f"h2load completed no requests (see {out_path})")

    latencies = []
    bad_rows = 0
    with open(log_path, encoding="utf-8") as handle:
        for row in handle:
            fields = row.split("\t")
            if len(fields) < 3:
                continue
            status = int(fields[1])
            if status == 200:
                latencies.append(int(fields[2]))
            elif status != 0:  # 0: a stream h2load gave up on when the duration ended
                bad_rows += 1
    if bad_rows:
        raise RunFailed(f"h2load log has {bad_rows} non-200 responses ({log_path})")
    if abs(len(latencies) - done) > max(2, done // 1000):
        raise RunFailed(f"h2load log has {len(latencies)} rows but {done} requests were done")
    latencies.sort()
    rps = float(finished.group(3))
    return {
        "requests": done,
        "seconds": done / rps if rps else float("nan"),
        "rps": rps,
        "p50_us": percentile(latencies, 50),
        "p90_us": percentile(latencies, 90),
        "p99_us": percentile(latencies, 99),
        "mean_us": statistics.fmean(latencies),
        "max_us": float(latencies[-1]),
    }


def cmd_record(args):
    try:
        if args.tool == "wrk":
            run = parse_wrk(args.out)
        else:
            run = parse_h2load(args.out, args.log)
    except RunFailed as failure:
        print(f"FAILED {args.protocol} {args.target}: {failure}", file=sys.stderr)
        return 3

    us_per_tick = 1e6 / args.clk_tck
    requests = run["requests"]
    run["proxy_cpu_us_per_req"] = args.proxy_ticks * us_per_tick / requests
    run["mock_cpu_us_per_req"] = args.mock_ticks * us_per_tick / requests
    run["client_cpu_us_per_req"] = args.client_cpu_ms * 1e3 / requests
    # Machine-wide busy time the benchmark's own processes do not account for: other tenants,
    # builds, kernel threads (including softirq work that ran outside our processes).
    capacity_ticks = args.wall_seconds * args.clk_tck * args.ncpu
    ours_ticks = args.proxy_ticks + args.mock_ticks + args.client_cpu_ms * args.clk_tck / 1e3
    other = max(0.0, args.busy_ticks - ours_ticks)
    run["other_cpu_pct"] = 100.0 * other / capacity_ticks if capacity_ticks else float("nan")
    run["steal_pct"] = 100.0 * args.steal_ticks / capacity_ticks if capacity_ticks else 0.0

    label = f"{args.protocol:6} round {args.round} {args.target:7}"
    print(f"  {label} {run['rps']:9.0f} req/s  p50 {run['p50_us']:7.0f} us  "
          f"p99 {run['p99_us']:7.0f} us  proxy cpu {run['proxy_cpu_us_per_req']:6.1f} us/req  "
          f"mock cpu {run['mock_cpu_us_per_req']:5.1f} us/req  other {run['other_cpu_pct']:4.1f}%")

    if args.tsv:
        new_file = not os.path.exists(args.tsv)
        with open(args.tsv, "a", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter="\t")
            if new_file:
                writer.writerow(FIELDS)
            row = {"protocol": args.protocol, "round": args.round, "target": args.target,
                   "kept": 1, **run}
            writer.writerow([row[name] if isinstance(row[name], str) else
                             (f"{row[name]:.3f}" if isinstance(row[name], float) else row[name])
                             for name in FIELDS])
    return 0


def read_rows(tsv_path):
    with open(tsv_path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        for name in NUMERIC:
            row[name] = float(row[name])
        row["round"] = int(row["round"])
        row["kept"] = int(row["kept"])
    return rows


def write_rows(tsv_path, rows):
    with open(tsv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(FIELDS)
        for row in rows:
            writer.writerow([f"{row[name]:.3f}" if isinstance(row[name], float) else row[name]
                             for name in FIELDS])


def round_noise(rows, protocol, round_id):
    """The worst share of the CPUs (%) that other work took during any run of the round."""
    mine = [row for row in rows if row["protocol"] == protocol and row["round"] == round_id]
    return max(row["other_cpu_pct"] + row["steal_pct"] for row in mine) if mine else None


def cmd_settle(args):
    """Judges a finished round: exits 0 if it was quiet, 10 if other work on the machine took
    more than the limit during one of its runs."""
    noise = round_noise(read_rows(args.tsv), args.protocol, args.round)
    if noise is None:
        print(f"no rows for {args.protocol} round {args.round}", file=sys.stderr)
        return 2
    if noise <= args.limit:
        return 0
    print(f"  {args.protocol} round {args.round} was noisy: {noise:.0f}% of the CPUs went to "
          f"other work (limit {args.limit:g}%)")
    return 10


def cmd_select(args):
    """Keeps the `keep` quietest rounds of a protocol and marks the others as discarded."""
    rows = read_rows(args.tsv)
    rounds = sorted({row["round"] for row in rows if row["protocol"] == args.protocol})
    ranked = sorted(rounds, key=lambda r: (round_noise(rows, args.protocol, r), r))
    chosen = set(ranked[:args.keep])
    for row in rows:
        if row["protocol"] == args.protocol:
            row["kept"] = 1 if row["round"] in chosen else 0
    write_rows(args.tsv, rows)
    dropped = [r for r in rounds if r not in chosen]
    if dropped:
        print(f"  {args.protocol}: keeping the {len(chosen)} quietest rounds "
              f"{sorted(chosen)}, discarding {dropped}")
    return 0


def median(values):
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def ratio(numerator, denominator):
    if denominator != denominator or numerator != numerator or denominator <= 0:
        return float("nan")
    return numerator / denominator


def fmt(value, digits=0):
    if value != value:
        return "n/a"
    return f"{value:.{digits}f}"


def fmt_ratio(value):
    return "n/a" if value != value else f"{value:.2f}x"


def summarise(rows, protocol):
    """Median figures per target, plus per-round added latencies relative to direct."""
    mine = [row for row in rows if row["protocol"] == protocol and row["kept"]]
    by_target = {target: [row for row in mine if row["target"] == target] for target in TARGETS}
    direct_by_round = {row["round"]: row for row in by_target["direct"]}
    summary = {}
    for target in TARGETS:
        runs = by_target[target]
        if not runs:
            continue
        entry = {name: median([row[name] for row in runs]) for name in NUMERIC}
        entry["runs"] = len(runs)
        for pct in ("p50", "p99"):
            added = [row[f"{pct}_us"] - direct_by_round[row["round"]][f"{pct}_us"]
                     for row in runs if row["round"] in direct_by_round]
            entry[f"added_{pct}_us"] = median(added) if target != "direct" else 0.0
        summary[target] = entry
    ratios = {}
    if "sluice" in summary and "nginx" in summary:
        sluice, nginx = summary["sluice"], summary["nginx"]
        ratios = {
            "added_p50": ratio(sluice["added_p50_us"], nginx["added_p50_us"]),
            "added_p99": ratio(sluice["added_p99_us"], nginx["added_p99_us"]),
            "throughput": ratio(sluice["rps"], nginx["rps"]),
            "cpu": ratio(sluice["proxy_cpu_us_per_req"], nginx["proxy_cpu_us_per_req"]),
        }
    return summary, ratios


def goal_verdicts(summary, ratios):
    """(criterion, ratio text, True/False, or None when the figures cannot decide it)."""
    def added_ok(pct):
        sluice = summary.get("sluice", {}).get(f"added_{pct}_us", float("nan"))
        nginx = summary.get("nginx", {}).get(f"added_{pct}_us", float("nan"))
        if not (sluice > 0 and nginx > 0):  # also false for NaN
            return None  # a proxy cannot take away latency: the direct figure was noise
        return sluice / nginx <= GOAL_ADDED_LATENCY

    def check(value, test):
        return None if value is None or value != value else bool(test(value))

    return [
        ("added p50 within 1.5x of nginx's", fmt_ratio(ratios.get("added_p50", float("nan"))),
         added_ok("p50")),
        ("added p99 within 1.5x of nginx's", fmt_ratio(ratios.get("added_p99", float("nan"))),
         added_ok("p99")),
        ("throughput at least 0.8x nginx's", fmt_ratio(ratios.get("throughput", float("nan"))),
         check(ratios.get("throughput"), lambda r: r >= GOAL_THROUGHPUT)),
        ("CPU per request at most 1.5x nginx's", fmt_ratio(ratios.get("cpu", float("nan"))),
         check(ratios.get("cpu"), lambda r: r <= GOAL_CPU)),
    ]


def goal_state(verdicts):
    if any(v[2] is False for v in verdicts):
        return "not met"
    if any(v[2] is None for v in verdicts):
        return "undecided (some figures are within noise)"
    return "met"


def round_counts(rows, protocol):
    """Rounds kept and discarded for a protocol."""
    kept = {row["round"] for row in rows if row["protocol"] == protocol and row["kept"]}
    dropped = {row["round"] for row in rows if row["protocol"] == protocol and not row["kept"]}
    return len(kept), len(dropped)


def noise_warnings(results):
    """Flags added latencies that are not positive: a proxy cannot be faster than no proxy, so
    such a figure means the direct run's percentile was inflated by noise in that round."""
    warnings = []
    for protocol, (summary, _) in results.items():
        for target in ("nginx", "sluice"):
            for pct in ("p50", "p99"):
                value = summary.get(target, {}).get(f"added_{pct}_us")
                if value is not None and value == value and value <= 0:
                    warnings.append(
                        f"{PROTOCOL_TITLES.get(protocol, protocol)}: {target}'s added {pct} is "
                        f"{value:.0f} µs (not positive). A proxy cannot take latency away, so "
                        f"the direct run's {pct} was inflated by something else (scheduling "
                        f"noise, or a client-bound baseline: see bench/README.md) and ratios "
                        f"built on it mean nothing.")
    return warnings


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def text_table(header, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    out = []
    for index, row in enumerate([header] + rows):
        out.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                             for i, (cell, w) in enumerate(zip(row, widths))))
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


SUMMARY_HEADER = ["target", "p50 µs", "p99 µs", "mean µs", "req/s", "proxy CPU µs/req",
                  "mock CPU µs/req", "added p50 µs", "added p99 µs"]


def summary_rows(summary):
    rows = []
    for target in TARGETS:
        if target not in summary:
            continue
        s = summary[target]
        direct = target == "direct"
        rows.append([
            target, fmt(s["p50_us"]), fmt(s["p99_us"]), fmt(s["mean_us"]), fmt(s["rps"]),
            "—" if direct else fmt(s["proxy_cpu_us_per_req"], 1),
            fmt(s["mock_cpu_us_per_req"], 1),
            "—" if direct else fmt(s["added_p50_us"]),
            "—" if direct else fmt(s["added_p99_us"]),
        ])
    return rows


RAW_HEADER = ["round", "kept", "target", "requests", "req/s", "p50 µs", "p90 µs", "p99 µs",
              "max µs", "proxy CPU µs/req", "mock CPU µs/req", "client CPU µs/req",
              "other CPU %", "steal %"]


def raw_rows(rows, protocol):
    out = []
    for row in rows:
        if row["protocol"] != protocol:
            continue
        out.append([str(row["round"]), "yes" if row["kept"] else "no (noisy)", row["target"],
                    fmt(row["requests"]), fmt(row["rps"]),
                    fmt(row["p50_us"]), fmt(row["p90_us"]), fmt(row["p99_us"]),
                    fmt(row["max_us"]),
                    "—" if row["target"] == "direct" else fmt(row["proxy_cpu_us_per_req"], 1),
                    fmt(row["mock_cpu_us_per_req"], 1), fmt(row["client_cpu_us_per_req"], 1),
                    fmt(row["other_cpu_pct"], 1), fmt(row["steal_pct"], 1)])
    return out


def read_meta(path):
    meta = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            key, _, value = line.rstrip("\n").partition("\t")
            if key:
                meta[key] = value
    return meta


def cmd_report(args):
    rows = read_rows(args.tsv)
    meta = read_meta(args.meta)
    protocols = [p for p in meta.get("protocols", "http1 h2").split() if
                 any(row["protocol"] == p for row in rows)]
    results = {p: summarise(rows, p) for p in protocols}

    # stdout: the readable version.
    for protocol in protocols:
        summary, ratios = results[protocol]
        print()
        kept, dropped = round_counts(rows, protocol)
        print(f"== {PROTOCOL_TITLES.get(protocol, protocol)}: medians of {kept} rounds"
              f"{f' ({dropped} noisy rounds discarded)' if dropped else ''}, "
              f"{meta.get('connections')} connections ==")
        for line in text_table(SUMMARY_HEADER, summary_rows(summary)):
            print(line)
        if ratios:
            print(f"sluice/nginx: added p50 {fmt_ratio(ratios['added_p50'])}, "
                  f"added p99 {fmt_ratio(ratios['added_p99'])}, "
                  f"throughput {fmt_ratio(ratios['throughput'])}, "
                  f"cpu per request {fmt_ratio(ratios['cpu'])}")

    headline_summary, headline = results.get("http1", ({}, {}))
    verdicts = goal_verdicts(headline_summary, headline)
    state = goal_state(verdicts)

    md = []
    md.append("# sluice benchmark results")
    md.append("")
    md.append("Generated by `bench/run.sh` (see `bench/README.md` for what is measured and how). "
              "Re-running the benchmark overwrites this file.")
    md.append("")
    md.append(f"- Date: {meta.get('date')}")
    md.append(f"- Machine: {meta.get('nproc')} CPUs ({meta.get('cpu_model')}), "
              f"kernel {meta.get('kernel')}, load average at start {meta.get('loadavg')}")
    md.append(f"- sluice: `{meta.get('sluice_bin')}` ({meta.get('sluice_version')}), "
              f"git {meta.get('git_rev')}")
    md.append(f"- Tools: {meta.get('nginx_version')}; {meta.get('wrk_version')}; "
              f"{meta.get('h2load_version')}")
    threads = meta.get("threads")
    md.append(f"- Parameters: {meta.get('connections')} connections, {threads} load-generator "
              f"thread{'' if threads == '1' else 's'}, {meta.get('warmup')} s warm-up per "
              f"target and protocol, "
              f"{meta.get('runs')} measured rounds of {meta.get('seconds')} s per target and "
              f"protocol, targets interleaved (direct, nginx, sluice, direct, ...); figures are "
              f"medians over the rounds. When other work on the machine used more than "
              f"{meta.get('noise_limit')}% of the CPUs during a round, another round was run "
              f"(at most {meta.get('extra_rounds')} extra per protocol) and the "
              f"{meta.get('runs')} quietest rounds were kept")
    md.append(f"- Request: `POST {meta.get('path')}`, `Content-Type: application/json`, "
              f"{meta.get('body_bytes')}-byte body `{meta.get('body')}`")
    md.append(f"- Mock upstream: nginx, 1 worker, `return 200` with a "
              f"{meta.get('answer_bytes')}-byte "
              f"Converse response, no access log")
    md.append("- nginx proxy: 2 workers, `keepalive 64` upstream, HTTP/1.1 to the mock, default "
              "(unbuffered) access log to a file")
    md.append(f"- sluice: {meta.get('sluice_workers')} workers (default), Bedrock-protocol "
              "provider to the mock, access log to a file")
    if meta.get("notes"):
        md.append(f"- Notes: {meta.get('notes')}")
    md.append("")
    md.append("Latencies are what the load generator measured per request (wrk: from writing the "
              "request to reading the whole response; h2load: from opening the stream to the end "
              "of the response, percentiles computed from h2load's per-request `--log-file`). "
              "CPU µs/req is the proxy's own user+system time (from `/proc/<pid>/stat`, all "
              "nginx processes or all sluice threads) over the run, divided by the requests "
              "completed in it. Added latency is target minus direct in the same round, median "
              "over rounds.")
    md.append("")
    for protocol in protocols:
        summary, ratios = results[protocol]
        kept, dropped = round_counts(rows, protocol)
        md.append(f"## {PROTOCOL_TITLES.get(protocol, protocol)}")
        md.append("")
        md.append(f"Medians of {kept} rounds" +
                  (f"; {dropped} noisy rounds were discarded." if dropped else "."))
        md.append("")
        md += markdown_table(SUMMARY_HEADER, summary_rows(summary))
        md.append("")
        if ratios:
            md.append(f"sluice relative to nginx: added p50 {fmt_ratio(ratios['added_p50'])}, "
                      f"added p99 {fmt_ratio(ratios['added_p99'])}, throughput "
                      f"{fmt_ratio(ratios['throughput'])}, CPU per request "
                      f"{fmt_ratio(ratios['cpu'])}.")
            md.append("")
        md.append("<details><summary>Every measured run</summary>")
        md.append("")
        md.append("\"other CPU %\" is machine-wide busy time (from `/proc/stat`) not spent in the "
                  "client, the mock or the proxy, as a share of all CPUs: other tenants, builds, "
                  "kernel threads. A few % is the kernel's own network work; high values mean a "
                  "noisy run.")
        md.append("")
        md += markdown_table(RAW_HEADER, raw_rows(rows, protocol))
        md.append("")
        md.append("</details>")
        md.append("")
    md.append("## Goal")
    md.append("")
    md.append(f"At {meta.get('connections')} concurrent connections over HTTP/1.1: sluice's added "
              "p50 and p99 latency within 1.5x of nginx's, at least 80% of nginx's throughput, "
              "and at most 1.5x nginx's CPU per request.")
    md.append("")
    for name, value, ok in verdicts:
        verdict = "undecided (noise)" if ok is None else ("met" if ok else "NOT met")
        md.append(f"- {name}: {value} — {verdict}")
    md.append("")
    for warning in noise_warnings(results):
        md.append(f"> Note: {warning}")
        md.append("")
    md.append(f"Goal {state}.")
    md.append("")

    def two(value):
        return "n/a" if value is None or value != value else f"{value:.2f}x"
    md.append(f"sluice vs nginx: added p50 {two(headline.get('added_p50'))}, "
              f"added p99 {two(headline.get('added_p99'))}, "
              f"throughput {two(headline.get('throughput'))}, "
              f"cpu per request {two(headline.get('cpu'))}")

    with open(args.results, "w", encoding="utf-8") as handle:
        handle.write("\n".join(md) + "\n")

    for warning in noise_warnings(results):
        print(f"note: {warning}")
    print()
    print(f"goal {state}:")
    for name, value, ok in verdicts:
        verdict = "undecided (noise)" if ok is None else ("ok" if ok else "MISSED")
        print(f"  {name}: {value} {verdict}")
    print()
    print(md[-1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    rec = sub.add_parser("record")
    rec.add_argument("--tool", choices=["wrk", "h2load"], required=True)
    rec.add_argument("--out", required=True, help="the load generator's stdout")
    rec.add_argument("--log", help="h2load --log-file output")
    rec.add_argument("--protocol", required=True)
    rec.add_argument("--target", required=True)
    rec.add_argument("--round", type=int, default=0)
    rec.add_argument("--proxy-ticks", type=float, default=0.0)
    rec.add_argument("--mock-ticks", type=float, default=0.0)
    rec.add_argument("--client-cpu-ms", type=float, default=0.0)
    rec.add_argument("--busy-ticks", type=float, default=0.0)
    rec.add_argument("--steal-ticks", type=float, default=0.0)
    rec.add_argument("--wall-seconds", type=float, default=0.0)
    rec.add_argument("--ncpu", type=int, default=1)
    rec.add_argument("--clk-tck", type=float, required=True)
    rec.add_argument("--tsv", help="append the run to this TSV (omit for warm-up runs)")
    rec.set_defaults(func=cmd_record)

    settle = sub.add_parser("settle")
    settle.add_argument("--tsv", required=True)
    settle.add_argument("--protocol", required=True)
    settle.add_argument("--round", type=int, required=True)
    settle.add_argument("--limit", type=float, required=True)
    settle.set_defaults(func=cmd_settle)

    select = sub.add_parser("select")
    select.add_argument("--tsv", required=True)
    select.add_argument("--protocol", required=True)
    select.add_argument("--keep", type=int, required=True)
    select.set_defaults(func=cmd_select)

    rep = sub.add_parser("report")
    rep.add_argument("--tsv", required=True)
    rep.add_argument("--meta", required=True)
    rep.add_argument("--results", required=True)
    rep.set_defaults(func=cmd_report)

    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
