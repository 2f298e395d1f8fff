-- drain_cost.lua: the two halves of a delivery, each on one thread with nobody to contend
-- with, so the poll_loop.lua figures can be read as "who is the bottleneck".
--   lua5.4 drain_cost.lua <items>
-- 1. deliver: the Lua thread itself delivers `items` non-blocking items (u:deliver, which
--    also takes dss_producer's own counter mutex once per item, ~20 ns of the figure).
-- 2. poll: the same poll() loop as poll_loop.lua drains the now full queue.
-- 3. poll, nothing pushed: a producer whose decode pushes nothing, so poll() returns only
--    the count: the engine's share of (2), without the args table, unpack and callback.
-- ns per item of each; 1e9 / poll_ns is the most any number of producers can get through
-- this Lua loop.
local darksidesync = require "darksidesync"
local producer = require "dss_producer"
local socket = require "socket"
local result = require "result"

local items = assert(math.tointeger(tonumber(arg[1])), "items?")

local received = 0
local u = assert(producer.new{ callback = function(pid, seq) received = received + 1 end })

local function run(n)
  received = 0
  local t0 = socket.gettime()
  local accepted, code = u:deliver(n)
  local t1 = socket.gettime()
  assert(accepted == n, "deliver refused: " .. producer.statusname(code))
  local poll, unpack = darksidesync.poll, table.unpack
  while received < n do
    local count, cb, args = poll()
    if cb then cb(unpack(args)) end
    if count == -1 then error(("queue empty after %d of %d items"):format(received, n)) end
  end
  local t2 = socket.gettime()
  return (t1 - t0) * 1e9 / n, (t2 - t1) * 1e9 / n
end

-- Phase 3 needs a producer created with push = false; one registration per state and
-- library, so it replaces the first.
local function run_bare(n)
  local accepted, code = u:deliver(n)
  assert(accepted == n, "deliver refused: " .. producer.statusname(code))
  local poll, polls = darksidesync.poll, 0
  local t0 = socket.gettime()
  repeat polls = polls + 1 until poll() == -1
  local t1 = socket.gettime()
  assert(polls == n + 1, "poll() returned -1 early")
  return (t1 - t0) * 1e9 / n
end

run(math.max(1, items // 10))
collectgarbage()
local deliver_ns, poll_ns = run(items)
u:close()
u = assert(producer.new{ callback = function() end, push = false })
run_bare(math.max(1, items // 10))
collectgarbage()
local bare_ns = run_bare(items)
u:close()
result.emit{ items = items, deliver_ns = deliver_ns, poll_ns = poll_ns, poll_bare_ns = bare_ns }
