-- udp_loop.lua: the UDP wake-up loop. Lua sleeps in socket.select on the dss.getsocket()
-- socket and runs dss.gethandler()'s handler on every wake-up, while producer pthreads
-- deliver non-blocking items.
--   [DARKSIDESYNC_CONFIG=coalesced.conf] lua5.4 udp_loop.lua <producer threads> <items per thread>
-- The notification mode comes from the module's configuration (per-delivery by default).
--
-- Besides items/s it reports what a wake-up loop must never do: strand items. A run ends
-- when every callback ran, or when the producers are done and no datagram came for
-- QUIET_S; whatever is still queued then is stranded (reported, not drained).
-- Datagrams: `received` counts what the handler read (through a counting view of the
-- socket); `dropped` is the kernel's drop counter of our socket in /proc/net/udp (receive
-- buffer full). Every datagram DSS sent to the port is one or the other.
local darksidesync = require "darksidesync"
local dss = require "dss"
local producer = require "dss_producer"
local socket = require "socket"
local result = require "result"

local threads = assert(math.tointeger(tonumber(arg[1])), "producer threads?")
local items = assert(math.tointeger(tonumber(arg[2])), "items per thread?")

local QUIET_S = 0.25   -- no datagram for this long after the producers ended: the run is over
local LIMIT_S = 60     -- a run that takes longer than this is reported as stuck

local received = 0
local u = assert(producer.new{ callback = function(pid, seq) received = received + 1 end })
local skt, port = assert(dss.getsocket())
local handler = dss.gethandler()

-- The handler reads datagrams with skt:receive() until none is left. This view counts
-- them and leaves everything else to the real socket.
local datagrams = 0
local counting = setmetatable({
  receive = function(_, ...)
    local data, err = skt:receive(...)
    if data then datagrams = datagrams + 1 end
    return data, err
  end,
}, { __index = function(_, k)
  local v = skt[k]
  if type(v) == "function" then return function(_, ...) return v(skt, ...) end end
  return v
end })

-- The kernel's count of datagrams dropped by our socket (last column of its /proc/net/udp
-- line, matched by local address 127.0.0.1:port), or nil if the line is not there.
local function kernel_drops()
  local f = io.open("/proc/net/udp")
  if not f then return nil end
  local want = ("0100007F:%04X"):format(port)
  local drops
  for line in f:lines() do
    local fields = {}
    for w in line:gmatch("%S+") do fields[#fields + 1] = w end
    if fields[2] == want then drops = tonumber(fields[#fields]) end
  end
  f:close()
  return drops
end

-- CPU seconds (user, system) this process has used, all threads: where the per-delivery
-- mode's time goes (each sendto is a system call on the producer's thread). Clock ticks of
-- /proc/self/stat fields 14 and 15; USER_HZ is 100 on Linux.
local function cpu_s()
  local f = assert(io.open("/proc/self/stat"))
  local stat = f:read("a")
  f:close()
  local fields = {}
  for w in stat:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = w end
  return tonumber(fields[12]) / 100, tonumber(fields[13]) / 100 -- fields 14, 15 after "pid (comm)"
end

local function run(n)
  received, datagrams = 0, 0
  local user0, sys0 = cpu_s()
  local total = threads * n
  local wakeups, empty_wakeups = 0, 0
  local drops_before = kernel_drops() or 0
  local start = socket.gettime()
  local finished -- when the last callback ran
  u:start{ threads = threads, items = n }
  local readable = { skt }
  while true do
    local ready = socket.select(readable, nil, QUIET_S)
    if ready[1] then
      wakeups = wakeups + 1
      if handler(counting) == 0 then empty_wakeups = empty_wakeups + 1 end
      -- The clock stops at the last callback, but the loop goes on until the producers
      -- are done and QUIET_S passes, so late datagrams are counted, not left to the next run.
      if received == total and not finished then finished = socket.gettime() end
    elseif u:running() == 0 then
      break -- producers done and silence: whatever is queued now stays queued
    end
    if socket.gettime() - start > LIMIT_S then break end
  end
  local stranded = darksidesync.queuesize()
  local seconds = (finished or socket.gettime()) - start
  u:join()
  local drops = kernel_drops()
  local user1, sys1 = cpu_s()
  local s = u:stats() -- cumulative: the warm-up's failures count too (there should be none)
  return {
    cpu_user_s = user1 - user0, cpu_sys_s = sys1 - sys0,
    items = total, received_items = received, stranded = stranded,
    seconds = seconds, items_per_s = received / seconds,
    wakeups = wakeups, empty_wakeups = empty_wakeups,
    datagrams_received = datagrams,
    datagrams_dropped = drops and (drops - drops_before) or -1,
    send_failed = s.codes.UDP_SEND_FAILED or 0,
    complete = finished and 1 or 0,
  }
end

run(math.max(1, items // 10))
-- The warm-up must leave nothing behind, or the measured run would start with a backlog.
darksidesync.drain()
collectgarbage()
local r = run(items)
local s = u:stats()
assert(s.fifo_violations == 0, "FIFO violated")
assert(s.deliveries == (s.codes.SUCCESS or 0) + (s.codes.UDP_SEND_FAILED or 0), "a delivery was refused")
darksidesync.drain() -- stranded items, if any, so close() finds an empty queue
u:close()
result.emit(r)
