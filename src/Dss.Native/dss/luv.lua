-- dss.luv: darksidesync deliveries in a luv (libuv) loop, woken by darksidesync.getfd().
--
--   local uv = require "luv"
--   local watcher = require("dss.luv").start()   -- or .start{ errorhandler = f, max = 1000 }
--   -- ... timers, sockets, processes: they all share the one uv.run() with DSS's callbacks
--   uv.run()
--   watcher:close()                              -- when done (or watcher:unref(), see below)
--
-- A uv_poll handle watches getfd()'s descriptor for "r". Each time libuv reports it
-- readable, the watcher runs one darksidesync.dispatch(max, errorhandler) and goes back to
-- libuv: max nil (the default) takes what was queued at that moment, a number caps the
-- callbacks per wake-up. The descriptor is level-triggered and libuv polls it that way, so
-- while anything is left (a capped batch, items that came meanwhile) the next loop
-- iteration wakes the watcher again: nothing is stranded, and timers and I/O run between
-- batches. Callbacks run in the loop's thread, as any luv callback; a callback's error goes
-- to errorhandler (default: the error and a traceback to stderr) and dispatch goes on.
--
-- The watcher is a table:
--   watcher.handle                 the uv_poll_t (luv's userdata)
--   watcher.fd                     darksidesync.getfd()
--   watcher:start()                watches again after stop() (or after DSS stopped it); returns watcher
--   watcher:stop()                 stops watching; deliveries wait in the queue
--   watcher:close()                closes the handle; start() of this module makes a new one
--   watcher:is_active()            watching now?
--   watcher:ref(), watcher:unref() an active watcher keeps uv.run() going (libuv's handle ref);
--                                  unref() lets uv.run() return once the rest of the loop is done
--   watcher.wakeups                how many times libuv woke it
--   watcher.stopped                nil while it watches; else why it stopped ("stop", "close",
--                                  the dispatch error that stopped it, or libuv's poll error)
--
-- stop()/start() of DSS: the descriptor stays the same, and darksidesync.stop() leaves it
-- unreadable, so a watcher normally sleeps through a stop and serves the restarted DSS.
-- Should it wake while DSS is stopped (dispatch then raises "DSS was not started yet, or
-- already stopped"), it stops itself instead of spinning on a descriptor nobody can make
-- quiet; call watcher:start() after darksidesync.start() (harmless if it still runs).
-- libuv allows one poll handle per descriptor, so this module keeps one watcher per Lua
-- state: start() while one exists takes the new options and returns that one.
local uv = require "luv"
local darksidesync = require "darksidesync"

local dispatch, pcall, type = darksidesync.dispatch, pcall, type

local NOT_STARTED = "DSS was not started yet, or already stopped"

local M = {}

local Watcher = {}
Watcher.__index = Watcher

local current -- this state's watcher until it is closed

local function report(what, err)
  io.stderr:write("dss.luv: ", what, ": ", tostring(err), "\n")
end

local function options_of(options)
  if options == nil then return nil, nil end
  if type(options) == "function" then return options, nil end
  if type(options) ~= "table" then
    error("bad argument #1 to 'start' (table, function or nil expected, got " .. type(options) .. ")", 3)
  end
  local handler, max = options.errorhandler, options.max
  if handler ~= nil and type(handler) ~= "function" then
    error("bad argument #1 to 'start' (field 'errorhandler' must be a function)", 3)
  end
  if max ~= nil and (math.type(max) ~= "integer" or max < 1) then
    error("bad argument #1 to 'start' (field 'max' must be a positive integer)", 3)
  end
  return handler, max
end

local function on_readable(self, err)
  if err then
    -- libuv could not poll the descriptor (it should not happen: DSS never closes it).
    self.handle:stop()
    self.stopped = err
    report("poll failed, watcher stopped", err)
    return
  end
  self.wakeups = self.wakeups + 1
  local ok, failure = pcall(dispatch, self.max, self.errorhandler)
  if not ok then
    -- A luv callback must not raise (luv ends the process); DSS stopped is the usual reason.
    self.handle:stop()
    self.stopped = failure
    if not (type(failure) == "string" and failure:find(NOT_STARTED, 1, true)) then
      report("dispatch failed, watcher stopped", failure)
    end
  end
end

function Watcher:start()
  if self.handle == nil then error("dss.luv: the watcher is closed", 2) end
  self.stopped = nil
  assert(self.handle:start("r", self.callback))
  return self
end

function Watcher:stop()
  if self.handle then
    self.handle:stop()
    self.stopped = "stop"
  end
  return self
end

function Watcher:close()
  if self.handle then
    local handle = self.handle
    self.handle = nil
    self.stopped = "close"
    if not handle:is_closing() then handle:close() end
  end
  if current == self then current = nil end
end

function Watcher:is_active()
  return self.handle ~= nil and self.handle:is_active()
end

function Watcher:ref()
  if self.handle then self.handle:ref() end
  return self
end

function Watcher:unref()
  if self.handle then self.handle:unref() end
  return self
end

--- Starts watching darksidesync.getfd() in luv's loop (see the top of this file).
-- @param options nil, an error handler, or { errorhandler = f, max = n }
-- @return the watcher
function M.start(options)
  local handler, max = options_of(options)
  local self = current
  if self == nil then
    local fd = darksidesync.getfd() -- raises when DSS is stopped
    self = setmetatable({ fd = fd, wakeups = 0 }, Watcher)
    self.handle = assert(uv.new_poll(fd))
    self.callback = function(err) on_readable(self, err) end
    current = self
  end
  self.errorhandler, self.max = handler, max
  return self:start()
end

--- The watcher start() made, or nil.
function M.watcher()
  return current
end

return M
