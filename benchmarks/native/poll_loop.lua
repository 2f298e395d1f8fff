-- poll_loop.lua: non-blocking throughput through the plain poll() loop the original C DSS
-- was measured with. One fresh process per repetition (run.lua starts it):
--   lua5.4 poll_loop.lua <producer threads> <items per thread>
-- dss_producer's pthreads deliver non-blocking items as fast as deliver() returns; the Lua
-- thread polls until every item's callback ran. The clock runs from u:start (threads are
-- created inside it: ~50 µs, noise at these counts) to the last callback.
local darksidesync = require "darksidesync"
local producer = require "dss_producer"
local socket = require "socket"
local result = require "result"

local threads = assert(math.tointeger(tonumber(arg[1])), "producer threads?")
local items = assert(math.tointeger(tonumber(arg[2])), "items per thread?")

local received = 0
local u = assert(producer.new{ callback = function(pid, seq) received = received + 1 end })

-- A loop that never ends is worse than a failed run: after STALL_S with nothing to poll and
-- the producers gone, report what is missing and stop.
local STALL_S = 10
local CHECK_EVERY = 1 << 20 -- empty polls between two looks at the clock (it costs ~30 ns)

-- CPU seconds the Lua thread (the main thread: its tid is the pid) has used, from
-- /proc/self/task/<pid>/stat (utime + stime, USER_HZ = 100). CPU over wall time is the
-- share of a core the loop got: on two cores with 4 producers it competes for one.
local function lua_thread_cpu_s()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("a"):match("^(%d+)")
  f:close()
  f = assert(io.open("/proc/self/task/" .. pid .. "/stat"))
  local stat = f:read("a")
  f:close()
  local fields = {}
  for w in stat:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = w end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100 -- fields 14, 15 after "pid (comm)"
end

local function run(n)
  received = 0
  local total = threads * n
  local empty = 0
  local poll, unpack = darksidesync.poll, table.unpack
  local cpu0 = lua_thread_cpu_s()
  local start = socket.gettime()
  u:start{ threads = threads, items = n }
  while received < total do
    -- The loop under test, exactly as a DSS application writes it.
    local count, cb, args = poll()
    if cb then cb(unpack(args)) end
    if count == -1 then
      empty = empty + 1
      if empty % CHECK_EVERY == 0 and u:running() == 0 and socket.gettime() - start > STALL_S then
        error(("stalled: %d of %d items arrived, queuesize() = %d"):format(received, total, darksidesync.queuesize()))
      end
    end
  end
  local seconds = socket.gettime() - start
  local cpu = lua_thread_cpu_s() - cpu0
  u:join()
  return total, seconds, empty, cpu
end

-- Warm-up in the same process: the first items pay for the module's first-touch costs
-- (queue segments, actor mailboxes, malloc arenas of the producer threads).
run(math.max(1, items // 10))
collectgarbage()
local total, seconds, empty, cpu = run(items)

local s = u:stats()
assert(s.fifo_violations == 0, "FIFO violated")
assert(s.deliveries == (s.codes.SUCCESS or 0), "a delivery was refused")
u:close()
result.emit{ items = total, seconds = seconds, items_per_s = total / seconds, empty_polls = empty,
             lua_cpu_share = cpu / seconds, lua_ns_per_item = cpu * 1e9 / total }
