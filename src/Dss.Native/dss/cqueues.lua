-- dss.cqueues: darksidesync deliveries in a cqueues controller, woken by darksidesync.getfd().
--
--   local cqueues = require "cqueues"
--   local cq = cqueues.new()
--   local watcher = require("dss.cqueues").wrap(cq)  -- or .wrap(cq, { errorhandler = f, max = n })
--   cq:wrap(function() ... end)                       -- your other coroutines
--   assert(cq:loop())                                 -- until every coroutine ended: watcher:stop() ends its own
--
-- Or poll it yourself, beside other objects, in any coroutine of a controller:
--
--   local pollable = require("dss.cqueues").pollable()
--   while true do
--     cqueues.poll(pollable, other, 5)                -- wakes when deliveries are queued
--     darksidesync.dispatch()                         -- one batch; still readable if more is queued
--   end
--
-- pollable() is an object of cqueues' polling protocol: pollfd() returns getfd()'s
-- descriptor, events() returns "r" (timeout() returns nil: no timeout of its own). wrap()
-- runs a coroutine of cq that polls it and runs one dispatch(max, errorhandler) per
-- wake-up: max nil (the default) takes what was queued at that moment. The descriptor is
-- level-triggered, so the next poll returns at once while anything is left, and the other
-- coroutines of cq run between batches; nothing is stranded.
--
-- Callbacks run inside dispatch, a C function: a callback must not yield (no
-- cqueues.sleep, no cqueues socket I/O that would block; Lua raises "attempt to yield
-- across a C-call boundary"). Work that must wait goes into a coroutine of its own, which
-- the callback starts: cq:wrap(function() ... cqueues.sleep(1) ... end). Or let wrap() do
-- that for every callback: wrap(cq, { spawn = true }) takes each delivery with
-- darksidesync.poll() and runs its callback in a new coroutine of cq (under xpcall with
-- errorhandler), where it may yield; that costs a table and a coroutine per item.
--
-- The watcher is a table:
--   watcher:stop()      ends its coroutine (at once: a condition variable wakes it); deliveries wait in the queue
--   watcher:start()     a new coroutine of the same controller, after stop() or after DSS stopped it
--   watcher.pollable    the pollable object
--   watcher.wakeups     how many times its poll returned
--   watcher.stopped     nil while it runs; else "stop" or the dispatch error that ended it
--
-- stop()/start() of DSS: the descriptor stays the same, and darksidesync.stop() leaves it
-- unreadable, so the coroutine normally sleeps through a stop and serves the restarted DSS.
-- Should it wake while DSS is stopped (dispatch raises "DSS was not started yet, or
-- already stopped"), its coroutine ends (so cq:loop() can return); call watcher:start()
-- after darksidesync.start() (harmless if it still runs). Any other dispatch error is
-- raised in the coroutine, which makes cq:loop() return false and the error.
local cqueues = require "cqueues"
local condition = require "cqueues.condition"
local darksidesync = require "darksidesync"

local dispatch, poll, queuesize = darksidesync.dispatch, darksidesync.poll, darksidesync.queuesize
local pcall, xpcall, type, unpack, error = pcall, xpcall, type, table.unpack, error

local NOT_STARTED = "DSS was not started yet, or already stopped"

local M = {}

local Pollable = {}
Pollable.__index = Pollable
function Pollable:pollfd() return self.fd end
function Pollable:events() return "r" end
function Pollable:timeout() return nil end

--- A cqueues pollable object for darksidesync.getfd(): readable while deliveries are queued.
function M.pollable()
  return setmetatable({ fd = darksidesync.getfd() }, Pollable)
end

local function default_errorhandler(err)
  io.stderr:write(debug.traceback("darksidesync: error in a callback: " .. tostring(err), 2), "\n")
end

local function options_of(options)
  if options == nil then return {} end
  if type(options) == "function" then return { errorhandler = options } end
  if type(options) ~= "table" then
    error("bad argument #2 to 'wrap' (table, function or nil expected, got " .. type(options) .. ")", 3)
  end
  if options.errorhandler ~= nil and type(options.errorhandler) ~= "function" then
    error("bad argument #2 to 'wrap' (field 'errorhandler' must be a function)", 3)
  end
  local max = options.max
  if max ~= nil and (math.type(max) ~= "integer" or max < 1) then
    error("bad argument #2 to 'wrap' (field 'max' must be a positive integer)", 3)
  end
  return options
end

local Watcher = {}
Watcher.__index = Watcher

local function is_not_started(err)
  return type(err) == "string" and err:find(NOT_STARTED, 1, true) ~= nil
end

-- spawn mode: each delivery's callback in a coroutine of its own.
local function run_callback(handler, callback, args)
  xpcall(callback, handler, unpack(args))
end

local function spawn_batch(self)
  local handler = self.errorhandler or default_errorhandler
  local n = self.max or queuesize()
  for _ = 1, n do
    local ok, count, callback, args = pcall(poll)
    if not ok then
      if is_not_started(count) then error(count, 0) end
      handler(count) -- a decode that raised: that delivery ended
    elseif count == -1 then
      break
    else
      if callback then self.cq:wrap(run_callback, handler, callback, args) end
      if count == 0 then break end
    end
  end
end

local function body(self, generation)
  local pollable, wakeup = self.pollable, self.wakeup
  while self.generation == generation do
    cqueues.poll(pollable, wakeup)
    if self.generation ~= generation then break end
    self.wakeups = self.wakeups + 1
    local ok, err
    if self.spawn then
      ok, err = pcall(spawn_batch, self)
    else
      ok, err = pcall(dispatch, self.max, self.errorhandler)
    end
    if not ok then
      self.generation = self.generation + 1
      self.stopped = err
      if not is_not_started(err) then error(err, 0) end
    end
  end
end

function Watcher:start()
  if self.stopped == nil then return self end
  self.stopped = nil
  self.generation = self.generation + 1
  self.cq:wrap(body, self, self.generation)
  return self
end

function Watcher:stop()
  if self.stopped == nil then
    self.generation = self.generation + 1 -- the running coroutine sees this and ends
    self.stopped = "stop"
    self.wakeup:signal()
  end
  return self
end

--- Runs a coroutine of controller cq that dispatches deliveries as they come (see the top of this file).
-- @param cq a cqueues controller
-- @param options nil, an error handler, or { errorhandler = f, max = n, spawn = true }
-- @return the watcher
function M.wrap(cq, options)
  if type(cq) ~= "userdata" or type(cq.wrap) ~= "function" then
    error("bad argument #1 to 'wrap' (cqueues controller expected)", 2)
  end
  local o = options_of(options)
  local self = setmetatable({
    cq = cq, pollable = M.pollable(), wakeup = condition.new(),
    errorhandler = o.errorhandler, max = o.max, spawn = o.spawn and true or false,
    wakeups = 0, generation = 0, stopped = "new",
  }, Watcher)
  return self:start()
end

return M
