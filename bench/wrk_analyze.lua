-- wrk script: POST /v1/analyze with one text per request, cycling through texts
-- read from the file named by the WRK_TEXTS environment variable (one per line).
local texts = {}
local n = 0
local path = os.getenv("WRK_TEXTS")
for line in io.lines(path) do
  n = n + 1
  texts[n] = line
end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local function escape(s)
  return (s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('[%c]', ' '))
end

request = function()
  i = i % n + 1
  return wrk.format(nil, "/v1/analyze", nil, '{"text": "' .. escape(texts[i]) .. '"}')
end

done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "errors": %d, "requests_per_second": %.1f, ' ..
    '"p50_ms": %.1f, "p95_ms": %.1f, "p99_ms": %.1f, "max_ms": %.1f}\n',
    summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
      summary.errors.write + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
