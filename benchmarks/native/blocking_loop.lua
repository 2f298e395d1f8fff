-- blocking_loop.lua: round trips of blocking deliveries through the same poll() loop.
--   lua5.4 blocking_loop.lua <producer threads> <round trips per thread>
-- Each pthread delivers with a return hook and waits; the Lua callback answers with
-- args[1](seq), which runs the return hook and releases the thread. dss_producer times each
-- deliver() call from the pthread's side (CLOCK_MONOTONIC), so a round trip is: queue ->
-- Lua polls -> decode -> callback -> answer -> ret -> the deliverer wakes up.
local darksidesync = require "darksidesync"
local producer = require "dss_producer"
local socket = require "socket"
local result = require "result"

local threads = assert(math.tointeger(tonumber(arg[1])), "producer threads?")
local per = assert(math.tointeger(tonumber(arg[2])), "round trips per thread?")

local answered = 0
local u = assert(producer.new{ callback = function() end })
local function on_request(answer, pid, seq)
  answer(seq)
  answered = answered + 1
end

-- A run that makes no progress (no round trip answered) for STALL_S fails; a slow one, on
-- a machine busy with other work, does not.
local STALL_S = 10

local function run(n)
  answered = 0
  local total = threads * n
  local poll, unpack = darksidesync.poll, table.unpack
  local start = socket.gettime()
  u:start{ threads = threads, items = n, blocking = true, callback = on_request }
  local empty, seen, seen_at = 0, 0, start
  while answered < total do
    local count, cb, args = poll()
    if cb then cb(unpack(args)) end
    if count == -1 then
      empty = empty + 1
      if empty % (1 << 16) == 0 then
        local now = socket.gettime()
        if answered ~= seen then
          seen, seen_at = answered, now
        elseif now - seen_at > STALL_S then
          error(("stalled: %d of %d round trips, none for %.0f s, queuesize() = %d, %d producer threads running")
            :format(answered, total, now - seen_at, darksidesync.queuesize(), u:running()))
        end
      end
    end
  end
  local seconds = socket.gettime() - start
  u:join()
  return total, seconds
end

-- Warm-up, then forget its round trips (latency(true) resets them).
run(math.max(1, per // 10))
u:latency(true)
collectgarbage()
local total, seconds = run(per)
local l = u:latency(true)

local s = u:stats()
assert(l.count == total, "a round trip went unrecorded")
assert(s.fifo_violations == 0, "FIFO violated")
assert(s.outcomes.answered == s.ret and s.outcomes.pending == 0, "a deliverer was released without its answer")
u:close()
result.emit{ round_trips = total, per_s = total / seconds, p50_us = l.p50, p90_us = l.p90,
             p99_us = l.p99, max_us = l.max, mean_us = l.mean }
