-- The darksidesync module as Lua sees it.
--
-- The engine's functions (in `core`) never raise a Lua error, because a Lua error would
-- unwind through a C# frame. On bad input, or when DSS is stopped, they return nil and a
-- message; the wrappers below raise it at the level of the code that called them.
local core, version = ...

local error, tostring, xpcall, unpack = error, tostring, xpcall, table.unpack
local traceback = debug.traceback

local function check(ok, ...)
  if ok == nil then error((...), 2) end
  return ok, ...
end

-- poll is the hot path: it raises its own errors, so it needs no wrapper.
local poll = core.poll

local M = {
  _VERSION = version,
  poll = poll,
}

for _, name in ipairs { "queuesize", "setport", "getport", "start", "wait" } do
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

-- Counts stop() calls, so a drain can tell that one of its callbacks stopped DSS.
local stops = 0
local core_stop, core_queuesize = core.stop, core.queuesize
function M.stop(...)
  stops = stops + 1
  return check(core_stop(...))
end

local function default_error_handler(err)
  io.stderr:write(traceback("darksidesync: error in a callback: " .. tostring(err), 2), "\n")
end

-- Runs the callback of every queued delivery, oldest first, each under xpcall with
-- `errorhandler` (default: print the error and a traceback to stderr). A utility's decode
-- that raises an error (it must not, but DSS survives it) goes to the same handler, and
-- draining goes on. Returns how many callbacks ran; returns early when a callback stops
-- DSS. With coalesced UDP wake-ups, call this on every wake-up.
function M.drain(errorhandler)
  if errorhandler ~= nil and type(errorhandler) ~= "function" then
    error("bad argument #1 to 'drain' (function expected, got " .. type(errorhandler) .. ")", 2)
  end
  local size, message = core_queuesize()
  if size == nil then error(message, 2) end
  errorhandler = errorhandler or default_error_handler
  local ran, stopped = 0, stops
  local function run()
    while stops == stopped do
      local count, callback, args = poll()
      if count == -1 then return end
      if callback ~= nil then
        ran = ran + 1
        xpcall(callback, errorhandler, unpack(args))
      end
    end
  end
  -- One protected call for the whole loop, not one per item: only a raising decode ends it.
  while not xpcall(run, errorhandler) do
    if core_queuesize() == nil then break end -- DSS stopped meanwhile: nothing left to drain
  end
  return ran
end

return M
