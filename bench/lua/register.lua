-- Registrations of fresh accounts: every request a new email and username.
-- BENCH_TAG keeps names unique across runs against the same database.
local threads, counter = {}, 0
local tag = os.getenv("BENCH_TAG") or "r"
local password = os.getenv("BENCH_PASSWORD")

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local name = string.format("%s%dn%d", tag, id, counter)
  local body = string.format(
    '{"email": "%s@bench.example", "username": "%s", "password": "%s"}',
    name, name, password)
  return wrk.format("POST", "/auth/register", {["Content-Type"] = "application/json"}, body)
end
