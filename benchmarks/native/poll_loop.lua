-- poll_loop.lua: non-blocking throughput through the plain poll() loop the original C DSS
-- was measured with, or through dispatch() (DSS 1.1). One fresh process per repetition
-- (run.lua starts it):
--   lua5.4 poll_loop.lua <producer threads> <items per thread> [poll|dispatch]
-- dss_producer's pthreads deliver non-blocking items as fast as deliver() returns; the Lua
-- thread polls (or dispatches) until every item's callback ran. The clock runs from u:start
-- (threads are created inside it: ~50 µs, noise at these counts) to the last callback.
local darksidesync = require "darksidesync"
local producer = require "dss_producer"
local socket = require "socket"
local result = require "result"

local threads = assert(math.tointeger(tonumber(arg[1])), "producer threads?")
local items = assert(math.tointeger(tonumber(arg[2])), "items per thread?")
local loop = arg[3] or "poll"
assert(loop == "poll" or loop == "dispatch", "loop: poll or dispatch")

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

local function stalled(total, start)
  if u:running() == 0 and socket.gettime() - start > STALL_S then
    error(("stalled: %d of %d items arrived, queuesize() = %d"):format(received, total, darksidesync.queuesize()))
  end
end

-- The loops under test, exactly as a DSS application writes them. Each returns how many
-- of its calls found the queue empty.
local function poll_loop(total, start)
  local empty = 0
  local poll, unpack = darksidesync.poll, table.unpack
  while received < total do
    local count, cb, args = poll()
    if cb then cb(unpack(args)) end
    if count == -1 then
      empty = empty + 1
      if empty % CHECK_EVERY == 0 then stalled(total, start) end
    end
  end
  return empty, 0
end

-- dispatch() takes what is queued when it is called (its default max), oldest first.
local function dispatch_loop(total, start)
  local empty, calls = 0, 0
  local dispatch = darksidesync.dispatch
  while received < total do
    calls = calls + 1
    if dispatch() == 0 then
      empty = empty + 1
      if empty % CHECK_EVERY == 0 then stalled(total, start) end
    end
  end
  return empty, calls
end

local function run(n)
  received = 0
  local total = threads * n
  local body = loop == "dispatch" and dispatch_loop or poll_loop
  local cpu0 = lua_thread_cpu_s()
  local start = socket.gettime()
  u:start{ threads = threads, items = n }
  local empty, calls = body(total, start)
  local seconds = socket.gettime() - start
  local cpu = lua_thread_cpu_s() - cpu0
  u:join()
  return total, seconds, empty, cpu, calls
end

-- Warm-up in the same process: the first items pay for the module's first-touch costs
-- (queue segments, actor mailboxes, malloc arenas of the producer threads).
run(math.max(1, items // 10))
collectgarbage()
local total, seconds, empty, cpu, calls = run(items)

local s = u:stats()
assert(s.fifo_violations == 0, "FIFO violated")
assert(s.deliveries == (s.codes.SUCCESS or 0), "a delivery was refused")
u:close()
-- dispatch: items per call that found something (the batch the loop got per Lua->C call).
result.emit{ items = total, seconds = seconds, items_per_s = total / seconds, empty_polls = empty,
             lua_cpu_share = cpu / seconds, lua_ns_per_item = cpu * 1e9 / total,
             dispatch_calls = calls, items_per_dispatch = calls > empty and total / (calls - empty) or 0 }
