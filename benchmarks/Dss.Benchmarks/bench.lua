-- The Lua side of the benchmark: the consumer loops (what a DSS application runs) and the
-- micro-loops that split the Lua thread's cost per item. Every function takes a count and
-- returns one or two integers, so the host calls them all the same way.
local dss = darksidesync
local poll = dss.poll

local count = 0

-- So many empty polls in a row (some seconds) means an item was lost: fail instead of hanging.
local STALLED = 1 << 26
local function stalled(total)
  error(string.format("stalled: %d of %d callbacks ran, queuesize() = %d", count, total, dss.queuesize()))
end

bench = {}

-- The callbacks the utilities push in decode (kept as registry references by the host).
function bench.on_item(x) count = count + 1 end
function bench.on_request(reply, x) count = count + 1 reply(x + 1) end

-- Non-blocking: poll until `total` callbacks ran. Returns how many polls found the queue
-- empty, and how many items poll() handed over with a count of -1.
function bench.consume_items(total)
  count = 0
  local empty, idle, misreported = 0, 0, 0
  while count < total do
    local c, cb, args = poll()
    if c ~= -1 then
      cb(args[1])
      idle = 0
    elseif cb ~= nil then
      -- Contract violation: -1 means "empty", yet an item came with it (engine 0c6acd7 did
      -- this when poll() raced a post). Run it and count it, so the run ends and the report shows it.
      misreported = misreported + 1
      cb(args[1])
    else
      empty, idle = empty + 1, idle + 1
      if idle == STALLED then stalled(total) end
    end
  end
  return empty, misreported
end

-- Blocking: the same loop; the callback answers with args[1](x + 1), releasing the producer.
function bench.consume_requests(total)
  count = 0
  local empty, idle, misreported = 0, 0, 0
  while count < total do
    local c, cb, args = poll()
    if c ~= -1 then
      cb(args[1], args[2])
      idle = 0
    elseif cb ~= nil then
      -- Contract violation: -1 means "empty", yet an item came with it (engine 0c6acd7 did
      -- this when poll() raced a post). Run it and count it, so the run ends and the report shows it.
      misreported = misreported + 1
      cb(args[1], args[2])
    else
      empty, idle = empty + 1, idle + 1
      if idle == STALLED then stalled(total) end
    end
  end
  return empty, misreported
end

-- Micro-loops for the cost split, one thread, no producer running.
function bench.empty_loop(n) for _ = 1, n do end return n end
function bench.lua_call(n) local f = bench.on_item for i = 1, n do f(i) end return n end
function bench.lua_table_call(n) local f = bench.on_item for i = 1, n do local t = { i } f(t[1]) end return n end
function bench.poll_only(n) for _ = 1, n do poll() end return n end
function bench.poll_and_call(n)
  for _ = 1, n do local _, cb, args = poll() cb(args[1]) end
  return n
end
function bench.queuesize() return dss.queuesize() end

-- Non-blocking through DSS 1.1's dispatch(): each call takes what is queued when it is
-- called and runs the callbacks from the engine's C loop. Returns how many calls found the
-- queue empty, and 0 (dispatch has no count to misreport).
local dispatch = dss.dispatch
function bench.dispatch_items(total)
  count = 0
  local empty, idle = 0, 0
  while count < total do
    if dispatch() == 0 then
      empty, idle = empty + 1, idle + 1
      if idle == STALLED then stalled(total) end
    else
      idle = 0
    end
  end
  return empty, 0
end

-- One dispatch() on a pre-filled queue takes it whole (for the cost split). Returns ran.
function bench.dispatch_queue(n)
  count = 0
  local ran, remaining = dispatch()
  if remaining ~= 0 then error("dispatch() left " .. remaining .. " items") end
  return ran
end
