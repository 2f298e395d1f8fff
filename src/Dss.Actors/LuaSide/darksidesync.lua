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

for _, name in ipairs { "queuesize", "setport", "getport", "start", "stop", "wait" } do
  local f = core[name]
  M[name] = function(...) return check(f(...)) end
end

local function default_error_handler(err)
  io.stderr:write(traceback("darksidesync: error in a callback: " .. tostring(err), 2), "\n")
end

-- Runs the callback of every queued delivery, oldest first, each under xpcall with
-- `errorhandler` (default: print the error and a traceback to stderr). Returns how many
-- callbacks ran. With coalesced UDP wake-ups, call this on every wake-up.
function M.drain(errorhandler)
  errorhandler = errorhandler or default_error_handler
  local ran = 0
  while true do
    local size, callback, args = poll()
    if size == -1 then return ran end
    if callback ~= nil then
      ran = ran + 1
      xpcall(callback, errorhandler, unpack(args))
    end
  end
end

return M
