-- signal_demo.lua: SIGINT and SIGTERM as Lua callbacks (dss_signal), in the spirit of
-- the original's luaexit. The script signals itself, as `kill -INT <pid>` would.
--   lua5.4 samples/c/signal_demo.lua
local darksidesync = require "darksidesync"
local signal = require "dss_signal"

local seen = {}
local w = signal.watch({ "INT", "TERM", "USR1" }, function(name, signum)
  seen[#seen + 1] = name
  print(("caught SIG%s (%d) on the Lua thread"):format(name, signum))
end)

print("pid " .. signal.getpid() .. ": sending USR1, TERM, then INT to myself")
for _, name in ipairs{ "USR1", "TERM", "INT" } do
  signal.kill(name)
  local deadline = os.time() + 5
  while #seen == 0 or seen[#seen] ~= name do   -- one at a time: signals of one kind coalesce
    assert(os.time() < deadline, "SIG" .. name .. " never arrived")
    darksidesync.wait(0.5)
    darksidesync.drain()
  end
end

local s = w:stats()
print(("received %d, delivered %d, cancelled %d"):format(s.received, s.delivered, s.cancelled))
w:close() -- SIGINT goes to whoever handled it before (lua5.4: "interrupted!")
print("closed; the previous handlers are back")
