-- Refresh along rotating chains: each request presents the refresh token that
-- the previous answer of its chain returned. BENCH_TOKENS names a file with one
-- refresh token per line (one chain each) and BENCH_THREADS the wrk thread
-- count; thread i takes lines i, i + threads, ... Each thread keeps its chains
-- in a queue: a connection takes a chain's token, and the answer puts the
-- chain's next token back. Run as many connections as chains.
local count = 0

function setup(thread)
  thread:set("index", count)
  -- wrk calls request() of the first thread once before the run, to see whether it
  -- pipelines: that call must not take a chain.
  thread:set("probe", count == 0 and 1 or 0)
  count = count + 1
end

function init(args)
  queue, first, last = {}, 1, 0
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  local line = 0
  for token in io.lines(os.getenv("BENCH_TOKENS")) do
    if line % threads == index then
      last = last + 1
      queue[last] = token
    end
    line = line + 1
  end
end

function request()
  if probe == 1 then
    probe = 0
    return wrk.format("POST", "/auth/refresh", {["Content-Type"] = "application/json"}, "{}")
  end
  local token = "no-chain-left"
  if first <= last then
    token = queue[first]
    queue[first] = nil
    first = first + 1
  end
  return wrk.format("POST", "/auth/refresh", {["Content-Type"] = "application/json"},
    '{"refresh_token": "' .. token .. '"}')
end

function response(status, headers, body)
  local token = string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
  if status == 200 and token then
    last = last + 1
    queue[last] = token
  end
end
