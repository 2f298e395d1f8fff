-- cg_items.lua: a fixed amount of work for callgrind (callgrind.sh runs it; not timed).
--   lua5.4 cg_items.lua <mode> <items>
-- Every mode first does the same unrecorded-by-difference warm-up (deliver `items` from the
-- Lua thread, drain them with dispatch()), so the engine's node pool holds `items` nodes.
-- Then: base: nothing; deliver: u:deliver(items); poll: deliver + the poll() loop;
-- dispatch: deliver + the dispatch() loop; dispatch_bare: the same with a decode that pushes
-- nothing (no callback). Then os.exit(0) at once, so no mode pays for closing the state.
-- Instructions per item of a part = (its mode - the mode before it) / items.
local darksidesync = require "darksidesync"
local producer = require "dss_producer"

local mode = assert(arg[1], "mode?")
local items = assert(math.tointeger(tonumber(arg[2])), "items?")

local n = 0
local u = assert(producer.new{ callback = function(pid, seq) n = n + 1 end, push = mode ~= "dispatch_bare" })
local dispatch = darksidesync.dispatch

assert(u:deliver(items) == items)
dispatch()
assert(darksidesync.queuesize() == 0)
n = 0

if mode == "base" then os.exit(0) end
assert(u:deliver(items) == items)
if mode == "deliver" then os.exit(0) end
if mode == "poll" then
  local poll, unpack = darksidesync.poll, table.unpack
  while n < items do
    local count, cb, args = poll()
    if cb then cb(unpack(args)) end
  end
elseif mode == "dispatch" then
  while n < items do dispatch() end
elseif mode == "dispatch_bare" then
  dispatch()
  assert(darksidesync.queuesize() == 0)
else
  error("mode: base, deliver, poll, dispatch or dispatch_bare")
end
os.exit(0)
