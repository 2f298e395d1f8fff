-- The darksidesync module as Lua sees it.
--
-- The engine's functions (in `core`) never raise a Lua error, because a Lua error would
-- unwind through a C# frame. On bad input, or when DSS is stopped, they return nil and a
-- message; the wrappers below raise it at the level of the code that called them.
local core, version = ...

local error, type = error, type

local function check(ok, ...)
  if ok == nil then error((...), 2) end
  return ok, ...
end

-- poll and dispatch are the hot path: they raise their own errors, so they need no wrapper.
local poll, dispatch = core.poll, core.dispatch

local M = {
  _VERSION = version,
  poll = poll,
  dispatch = dispatch,
}

for _, name in ipairs { "queuesize", "setport", "getport", "start", "stop", "wait", "getfd", "stats" } do
  local f = core[name]
  M[name] = function(...) return check(f(...)) end
end

-- setlimit([capacity [, overflow]]): returns the previous capacity (nil: unbounded) and overflow.
-- Its core function puts true in front, since a previous capacity of nil is no error.
local core_setlimit = core.setlimit
function M.setlimit(...)
  local ok, capacity, overflow = core_setlimit(...)
  if ok == nil then error(capacity, 2) end
  return capacity, overflow
end

local core_queuesize = core.queuesize

-- Runs the callback of every queued delivery, oldest first, until the queue is empty, each
-- protected with `errorhandler` as the message handler (default: the error and a traceback
-- to stderr); a utility's decode that raises goes to the same handler. Returns how many
-- callbacks ran; returns early when a callback stops DSS. With coalesced UDP wake-ups, call
-- this on every wake-up.
function M.drain(errorhandler)
  if errorhandler ~= nil and type(errorhandler) ~= "function" then
    error("bad argument #1 to 'drain' (function expected, got " .. type(errorhandler) .. ")", 2)
  end
  local size, message = core_queuesize()
  if size == nil then error(message, 2) end
  local total = 0
  repeat
    local ran, remaining = dispatch(nil, errorhandler)
    total = total + ran
  until remaining == 0 -- 0 too once a callback stopped DSS
  return total
end

return M
