-- The Lua side of the benchmark: the consumer loops (what a DSS application runs) and the
-- micro-loops that split the Lua thread's cost per item. Every function takes a count and
-- returns an integer, so the host calls them all the same way.
local dss = darksidesync
local poll = dss.poll

-- The engine's poll without the Lua wrapper of darksidesync.lua (to price the wrapper).
local function upvalue(f, wanted)
  for i = 1, 255 do
    local name, value = debug.getupvalue(f, i)
    if name == nil then break end
    if name == wanted then return value end
  end
  error("no upvalue " .. wanted)
end
local core_poll = upvalue(poll, "core_poll")

local count = 0

bench = {}

-- The callbacks the utilities push in decode (kept as registry references by the host).
function bench.on_item(x) count = count + 1 end
function bench.on_request(reply, x) count = count + 1 reply(x + 1) end

-- Non-blocking: poll until `total` callbacks ran. Returns how many polls found the queue empty.
function bench.consume_items(total)
  count = 0
  local empty = 0
  while count < total do
    local c, cb, args = poll()
    if c ~= -1 then cb(args[1]) else empty = empty + 1 end
  end
  return empty
end

-- Blocking: the same loop; the callback answers with args[1](x + 1), releasing the producer.
function bench.consume_requests(total)
  count = 0
  local empty = 0
  while count < total do
    local c, cb, args = poll()
    if c ~= -1 then cb(args[1], args[2]) else empty = empty + 1 end
  end
  return empty
end

-- Micro-loops for the cost split, one thread, no producer running.
function bench.empty_loop(n) for _ = 1, n do end return n end
function bench.lua_call(n) local f = bench.on_item for i = 1, n do f(i) end return n end
function bench.lua_table_call(n) local f = bench.on_item for i = 1, n do local t = { i } f(t[1]) end return n end
function bench.core_poll_only(n) for _ = 1, n do core_poll() end return n end
function bench.poll_only(n) for _ = 1, n do poll() end return n end
function bench.poll_and_call(n)
  for _ = 1, n do local _, cb, args = poll() cb(args[1]) end
  return n
end
function bench.core_poll_and_call(n)
  for _ = 1, n do local _, cb, args = core_poll() cb(args[1]) end
  return n
end
function bench.queuesize() return dss.queuesize() end
