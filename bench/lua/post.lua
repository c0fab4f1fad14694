-- A fixed JSON POST (login): path and body from BENCH_PATH and BENCH_BODY.
-- With BENCH_COUNT_STATUS=1 it counts answers by status and prints them as one
-- "statuses {...}" line at the end (the overload phase tells 503 from other errors).
wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH")
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

if os.getenv("BENCH_COUNT_STATUS") == "1" then
  statuses = {}
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  if os.getenv("BENCH_COUNT_STATUS") ~= "1" then return end
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  io.write("statuses {" .. table.concat(parts, ", ") .. "}\n")
end
