-- select_loop.lua: a LuaSocket program that sleeps in socket.select on the DSS socket
-- and handles events from C utilities: prime searches from dss_workers, and SIGINT
-- from dss_signal, which ends the loop. The script sends SIGINT to itself once every
-- result is in, as a user pressing Ctrl-C would.
--   lua5.4 samples/c/select_loop.lua
local socket = require "socket"
local darksidesync = require "darksidesync"
local dss = require "dss"               -- the helper next to darksidesync.so
local workers = require "dss_workers"
local signal = require "dss_signal"

local skt, port = assert(dss.getsocket())
local handler = dss.gethandler()
print(("DSS wakes this loop through UDP port %d"):format(port))

local running = true
local watcher = signal.watch({ "INT", "TERM" }, function(name)
  print(("SIG%s: leaving the loop"):format(name))
  running = false
end)

local pool = workers.new(2)
local outstanding = 0
for _, limit in ipairs{ 2000000, 1000000, 3000000, 500000 } do
  outstanding = outstanding + 1
  pool:primes(limit, function(count, largest, seconds)
    outstanding = outstanding - 1
    print(("primes <= %d: %d (largest %d) after %.3f s"):format(limit, count, largest, seconds))
    if outstanding == 0 then
      print("all results in; sending SIGINT to myself")
      signal.kill("INT")
    end
  end)
end

local wakeups, timeouts = 0, 0
while running do
  local readable = socket.select({ skt }, nil, 2)
  if readable[1] then
    wakeups = wakeups + 1
    handler(skt)                         -- drains the queue, callbacks under xpcall
  else
    timeouts = timeouts + 1
    assert(timeouts < 5, "no wake-up for 10 s")
  end
end
print(("%d wake-ups, %d select timeouts"):format(wakeups, timeouts))
pool:close()
watcher:close()
