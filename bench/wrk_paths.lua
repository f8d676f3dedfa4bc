-- wrk script of bench/bench_api.py: GET each path of $WRK_PATHS in turn ("path<TAB>etag"
-- per line), with If-None-Match when $WRK_ETAG is 1; prints the summary as one JSON line.
local paths, etags = {}, {}
for line in io.lines(os.getenv("WRK_PATHS")) do
  local path, etag = line:match("^([^\t]*)\t?(.*)$")
  paths[#paths + 1] = path
  etags[#etags + 1] = etag
end
local use_etag = os.getenv("WRK_ETAG") == "1"
local i = 0

request = function()
  i = i % #paths + 1
  local headers = {}
  if use_etag then headers["If-None-Match"] = etags[i] end
  return wrk.format("GET", paths[i], headers)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "status_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    e.status, latency:percentile(50), latency:percentile(99), latency.mean))
end
