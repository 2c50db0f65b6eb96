-- wrk script: replays pre-signed requests from one file per wrk thread, each request once.
-- Line format: METHOD \t PATH \t header:value|header:value \t BODY
-- args: <file prefix> [pace ms per connection, 0 = as fast as possible]
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  lines, index, pace = {}, 0, tonumber(args[2] or "0")
  for line in io.lines(args[1] .. "." .. tid) do lines[#lines + 1] = line end
end

function delay()
  return pace
end

function request()
  index = index + 1
  if index > #lines then
    wrk.thread:stop()
    index = 1
  end
  local method, path, header_text, body = lines[index]:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  local headers = {}
  for name, value in header_text:gmatch("([^|:]+):([^|]*)") do headers[name] = value end
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format(
    "RESULT {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p95_us\": %d, \"p99_us\": %d, " ..
    "\"socket_errors\": %d, \"non_2xx\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, non2xx))
end
