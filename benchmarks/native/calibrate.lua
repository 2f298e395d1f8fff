-- calibrate.lua: how fast this machine runs plain Lua today, with no module loaded, so
-- figures taken on different days can be compared (this VM's speed varies by 2-3x between
-- days with the host's load, which the load average inside the VM does not show).
--   lua5.4 calibrate.lua <iterations>
-- loop_ns: one iteration of `for i = 1, n do x = x + i end`; call_ns: one iteration of
-- `for i = 1, n do f(i) end` with f = function(v) c = c + 1 end (an upvalue, like the
-- benchmarks' callbacks), the loop's own cost included. CPU time (os.clock), best of 3.
local result = require "result"
local n = assert(math.tointeger(tonumber(arg[1])), "iterations?")

local function best(f)
  local t = math.huge
  for _ = 1, 3 do
    local c0 = os.clock()
    f()
    t = math.min(t, os.clock() - c0)
  end
  return t * 1e9 / n
end

local loop_ns = best(function() local x = 0 for i = 1, n do x = x + i end return x end)
local c = 0
local function f(v) c = c + 1 end
local call_ns = best(function() for i = 1, n do f(i) end end)
result.emit{ loop_ns = loop_ns, call_ns = call_ns }
