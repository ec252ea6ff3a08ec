-- wrk script for the sluice benchmark: every request is the same Converse call.
--
--   wrk -c 64 -d 8s -s bench/converse.lua http://127.0.0.1:PORT/model/ID/converse -- BODY_FILE
--
-- The request body is read from BODY_FILE (the argument after "--"), so run.sh keeps a single
-- copy of it for wrk, h2load and curl. When wrk finishes, done() prints one machine-readable line
-- starting with "BENCH" with the exact latency percentiles in microseconds, which wrk's own
-- summary only shows rounded.

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function init(args)
  local path = args[1]
  if path == nil then
    error("converse.lua: pass the request body file after --")
  end
  local file = assert(io.open(path, "rb"))
  wrk.body = file:read("*a")
  file:close()
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d " ..
    "mean_us=%.1f max_us=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0),
    latency:percentile(99.9), latency.mean, latency.max,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
