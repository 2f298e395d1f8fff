-- dss.socket: darksidesync deliveries in a LuaSocket socket.select loop or in Copas,
-- woken by darksidesync.getfd() (no UDP socket, no datagrams).
--
--   local socket = require "socket"
--   local waker = require("dss.socket").new()       -- or .new{ errorhandler = f, max = n }
--   while running do
--     local readable = socket.select({ waker, server }, nil, 1)
--     if readable[waker] then waker:dispatch() end  -- one batch; still readable if more is queued
--     -- ... server, timers ...
--   end
--
-- Copas 1.x (Debian 12's lua-copas 1.2.0, "Copas 1.1.7"):
--
--   local copas = require "copas"
--   local waker = require("dss.socket").addthread(copas)   -- a Copas thread that dispatches
--   copas.loop()                                           -- or copas.step(timeout) in your loop
--
-- new() returns an object LuaSocket's socket.select accepts beside its sockets: getfd()
-- returns getfd()'s descriptor, dirty() returns false (select asks every object it is
-- given for both). waker:dispatch() runs one darksidesync.dispatch(max, errorhandler): max
-- nil (the default) takes what was queued when it was called. The descriptor is
-- level-triggered: while anything is left the next select returns at once, so one batch
-- per wake-up strands nothing and lets the rest of the loop run between batches.
-- select(2) takes descriptors below FD_SETSIZE (1024) only; LuaSocket raises otherwise.
--
-- Copas 1.x waits for sockets in socket.select too, but its only public ways into its
-- reading set are copas.receive and friends, which call the object's receive() and wait
-- for readability whenever it answers "timeout". addthread() starts a Copas thread that
-- calls copas.receive(waker): the waker's receive() runs one dispatch batch and answers
-- "timeout", so the thread goes back to Copas' select after every batch, and the other
-- Copas threads run between batches. Callbacks run in that Copas thread but inside
-- dispatch, a C function: a callback must not yield (no copas.receive/send in it; start a
-- copas.addthread for such work).
--
-- The waker is a table:
--   waker:getfd(), waker:dirty()   for socket.select
--   waker:dispatch()               one batch: ran, remaining; nil and the message when DSS is stopped
--   waker:receive()                Copas' protocol (one batch, then "timeout"; "closed" once
--                                  closed or DSS stopped)
--   waker:close()                  ends the Copas thread at its next wake-up (Copas 1.x cannot
--                                  wake a thread that waits on a socket); the descriptor stays DSS's
--   waker.thread                   addthread(): the Copas thread (a coroutine)
--   waker.wakeups                  how many batches it ran
--   waker.closed                   nil while open; else "close" or the dispatch error that closed it
--
-- stop()/start() of DSS: the descriptor stays the same, and darksidesync.stop() leaves it
-- unreadable, so a waker normally sleeps through a stop and serves the restarted DSS.
-- Should it wake while DSS is stopped, waker:dispatch() returns nil and the message (a
-- select loop should drop the waker, or stop selecting it, until darksidesync.start()),
-- and the Copas thread of addthread() ends; call addthread() again after
-- darksidesync.start().
local darksidesync = require "darksidesync"

local dispatch, pcall, type, error = darksidesync.dispatch, pcall, type, error

local NOT_STARTED = "DSS was not started yet, or already stopped"

local M = {}

local Waker = {}
Waker.__index = Waker

function Waker:getfd() return self.fd end

function Waker:dirty() return false end

function Waker:dispatch()
  self.wakeups = self.wakeups + 1
  local ok, ran, remaining = pcall(dispatch, self.max, self.errorhandler)
  if ok then return ran, remaining end
  if type(ran) == "string" and ran:find(NOT_STARTED, 1, true) then
    return nil, ran
  end
  error(ran, 0)
end

-- copas.receive(waker) calls this, and waits for readability while it says "timeout".
function Waker:receive()
  if self.closed then return nil, "closed" end
  local ran, err = self:dispatch()
  if ran == nil then
    self.closed = err
    return nil, "closed"
  end
  return nil, "timeout"
end

function Waker:close()
  self.closed = self.closed or "close"
  return 1
end

-- LuaSocket's select and Copas' error messages print it.
function Waker:__tostring()
  return "dss.socket waker (fd " .. tostring(self.fd) .. ")"
end

local function options_of(options, name)
  if options == nil then return {} end
  if type(options) == "function" then return { errorhandler = options } end
  if type(options) ~= "table" then
    error(("bad argument #%d to '%s' (table, function or nil expected, got %s)"):format(name == "new" and 1 or 2, name, type(options)), 3)
  end
  if options.errorhandler ~= nil and type(options.errorhandler) ~= "function" then
    error(("bad argument to '%s' (field 'errorhandler' must be a function)"):format(name), 3)
  end
  local max = options.max
  if max ~= nil and (math.type(max) ~= "integer" or max < 1) then
    error(("bad argument to '%s' (field 'max' must be a positive integer)"):format(name), 3)
  end
  return options
end

local function new(o)
  return setmetatable({
    fd = darksidesync.getfd(), -- raises when DSS is stopped
    errorhandler = o.errorhandler, max = o.max, wakeups = 0,
  }, Waker)
end

--- An object for socket.select (see the top of this file).
-- @param options nil, an error handler, or { errorhandler = f, max = n }
function M.new(options)
  return new(options_of(options, "new"))
end

--- Starts a Copas (1.x) thread that dispatches deliveries as they come; returns its waker.
-- @param copas the Copas module
-- @param options nil, an error handler, or { errorhandler = f, max = n }
function M.addthread(copas, options)
  if type(copas) ~= "table" or type(copas.addthread) ~= "function" or type(copas.receive) ~= "function" then
    error("bad argument #1 to 'addthread' (the copas module expected)", 2)
  end
  local waker = new(options_of(options, "addthread"))
  waker.thread = copas.addthread(function()
    copas.receive(waker) -- returns only once the waker is closed
  end)
  return waker
end

return M
