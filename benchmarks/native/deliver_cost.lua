-- deliver_cost.lua: the producer's cost of one C deliver, on pthreads, into a queue nobody
-- drains while they run (the Lua thread sleeps), for a bounded count.
--   lua5.4 deliver_cost.lua <producer threads> <items per thread> [dispatch|poll]
-- dss_producer's threads deliver as in poll_loop.lua (each item malloc'd by the thread that
-- delivers it: that malloc is part of the figure, as it is of any C utility's deliver; no
-- mutex of dss_producer's). The clock runs from u:start to the moment u:running() reads 0
-- (the Lua thread looks every 0.2 ms), and the process's CPU time (os.clock: all threads;
-- the Lua thread only sleeps) over the same stretch. Then the Lua thread drains the queue
-- with dispatch() (not timed), or with the poll() loop when the third argument is `poll` (a
-- DSS without dispatch(): the original C DSS 1.0, vs_original.lua). A first round of the same size is not recorded: afterwards the
-- engine's node pool holds enough nodes, so the recorded deliveries allocate nothing on the
-- managed heap (steady state), as in a loop where Lua keeps up.
local darksidesync = require "darksidesync"
local producer = require "dss_producer"
local socket = require "socket"
local result = require "result"

local threads = assert(math.tointeger(tonumber(arg[1])), "producer threads?")
local items = assert(math.tointeger(tonumber(arg[2])), "items per thread?")
local drain = arg[3] or "dispatch"
assert(drain == "dispatch" or drain == "poll", "drain: dispatch or poll")

local received = 0
local u = assert(producer.new{ callback = function(pid, seq) received = received + 1 end })
local TIMEOUT_S = 60

local function run(n)
  local total = threads * n
  received = 0
  collectgarbage()
  local cpu0 = os.clock()
  local t0 = socket.gettime()
  u:start{ threads = threads, items = n }
  while u:running() > 0 do
    socket.sleep(0.0002)
    if socket.gettime() - t0 > TIMEOUT_S then error("producers still running after " .. TIMEOUT_S .. " s") end
  end
  local seconds = socket.gettime() - t0
  local cpu = os.clock() - cpu0
  u:join()
  assert(darksidesync.queuesize() == total, "queuesize() ~= items delivered")
  if drain == "dispatch" then
    local dispatch = darksidesync.dispatch
    while received < total do
      if dispatch() == 0 then error(("queue empty after %d of %d items"):format(received, total)) end
    end
  else
    local poll, unpack = darksidesync.poll, table.unpack
    while received < total do
      local count, cb, args = poll()
      if cb then cb(unpack(args)) end
      if count == -1 then error(("queue empty after %d of %d items"):format(received, total)) end
    end
  end
  return total, seconds, cpu
end

run(items)
local total, seconds, cpu = run(items)
local s = u:stats()
assert(s.deliveries == (s.codes.SUCCESS or 0), "a delivery was refused")
u:close()
-- wall_ns_per_item: wall time per delivery of one thread (1 thread: its cost per deliver);
-- cpu_ns_per_item: CPU of all threads per delivery (with more threads than cores, the cost).
result.emit{ items = total, seconds = seconds, per_s = total / seconds,
             wall_ns_per_item = seconds * 1e9 / items, cpu_ns_per_item = cpu * 1e9 / total }
