-- drain_cost.lua: the two halves of a delivery, each on one thread with nobody to contend
-- with, so the poll_loop.lua figures can be read as "who is the bottleneck".
--   lua5.4 drain_cost.lua <items> [poll-first|dispatch-first|poll-only|dispatch-only]
-- 1. deliver: the Lua thread itself delivers `items` non-blocking items (u:deliver, which
--    also takes dss_producer's own counter mutex once per item, ~20 ns of the figure).
-- 2. poll: the same poll() loop as poll_loop.lua drains the now full queue.
-- 3. dispatch: (1) again, then `while received < n do dispatch() end` drains it (one call
--    takes the whole queue). (2) and (3) run in the order the second argument says, so
--    run.lua can alternate it between processes. poll-only skips (3) and dispatch-only
--    skips (2), with their halves of (4): poll-only runs on a DSS without dispatch() (the
--    original C DSS 1.0, vs_original.lua), dispatch-only is its counterpart.
-- 4. nothing pushed: a producer whose decode pushes nothing, so poll() returns only the
--    count and dispatch() calls no callback: the engine's share of (2) and (3), without the
--    args table, unpack and the callback (dss_producer's decode still runs: free() and its
--    counters).
-- ns per item of each; 1e9 / poll_ns is the most any number of producers can get through
-- the poll loop, 1e9 / dispatch_ns through the dispatch loop. Every phase runs once
-- unrecorded with the same count first: the engine's node pool then holds `items` nodes,
-- so the recorded deliveries allocate nothing on the managed heap (steady state).
local darksidesync = require "darksidesync"
local producer = require "dss_producer"
local socket = require "socket"
local result = require "result"

local items = assert(math.tointeger(tonumber(arg[1])), "items?")
local order = arg[2] or "poll-first"
local ORDERS = { ["poll-first"] = { "poll", "dispatch" }, ["dispatch-first"] = { "dispatch", "poll" },
                 ["poll-only"] = { "poll" }, ["dispatch-only"] = { "dispatch" } }
local phases = assert(ORDERS[order], "order: poll-first, dispatch-first, poll-only or dispatch-only")

local received = 0
local u

local function fill(n)
  local t0 = socket.gettime()
  local accepted, code = u:deliver(n)
  local t1 = socket.gettime()
  assert(accepted == n, "deliver refused: " .. producer.statusname(code))
  return (t1 - t0) * 1e9 / n
end

-- Each drains a full queue of n items; returns ns per item.
local drains = {}
function drains.poll(n)
  local poll, unpack = darksidesync.poll, table.unpack
  local t0 = socket.gettime()
  while received < n do
    local count, cb, args = poll()
    if cb then cb(unpack(args)) end
    if count == -1 then error(("queue empty after %d of %d items"):format(received, n)) end
  end
  return (socket.gettime() - t0) * 1e9 / n
end
function drains.dispatch(n)
  local dispatch = darksidesync.dispatch
  local t0 = socket.gettime()
  while received < n do
    if dispatch() == 0 then error(("queue empty after %d of %d items"):format(received, n)) end
  end
  return (socket.gettime() - t0) * 1e9 / n
end
-- Decode pushes nothing: poll() returns the count only, dispatch() calls nothing.
function drains.poll_bare(n)
  local poll, polls = darksidesync.poll, 0
  local t0 = socket.gettime()
  repeat polls = polls + 1 until poll() == -1
  local t1 = socket.gettime()
  assert(polls == n + 1, "poll() returned -1 early")
  return (t1 - t0) * 1e9 / n
end
function drains.dispatch_bare(n)
  local t0 = socket.gettime()
  local ran, remaining = darksidesync.dispatch()
  local t1 = socket.gettime()
  assert(ran == 0 and remaining == 0, "dispatch() without pushes: ran " .. tostring(ran) .. ", remaining " .. tostring(remaining))
  return (t1 - t0) * 1e9 / n
end

-- Returns deliver ns and drain ns per item of one round.
local function round(drain, n)
  received = 0
  local deliver_ns = fill(n)
  collectgarbage()
  return deliver_ns, drains[drain](n)
end

local out = { items = items, dispatch_first = phases[1] == "dispatch" and 1 or 0 }

u = assert(producer.new{ callback = function(pid, seq) received = received + 1 end })
for _, phase in ipairs(phases) do round(phase, items) end -- warm-up: the pool grows to `items`
collectgarbage()
for _, phase in ipairs(phases) do
  out[phase .. "_deliver_ns"], out[phase .. "_ns"] = round(phase, items)
end
u:close()

-- One registration per state and library: the bare producer replaces the first.
u = assert(producer.new{ callback = function() end, push = false })
for _, phase in ipairs(phases) do round(phase .. "_bare", items) end
collectgarbage()
for _, phase in ipairs(phases) do
  local _, ns = round(phase .. "_bare", items)
  out[phase .. "_bare_ns"] = ns
end
u:close()
-- The deliver figure: the mean of the recorded fills (two, or one with a single phase).
local fills = 0
for _, phase in ipairs(phases) do fills = fills + out[phase .. "_deliver_ns"] end
out.deliver_ns = fills / #phases
result.emit(out)
