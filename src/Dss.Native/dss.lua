-- dss: UDP wake-ups for darksidesync, on LuaSocket.
--
--   local dss = require "dss"
--   local skt, port = dss.getsocket()     -- DSS now sends a datagram to port after deliveries
--   local handler = dss.gethandler()
--   while true do
--     socket.select({ skt }, nil, 1)      -- or let a scheduler such as Copas watch skt
--     handler(skt)                        -- runs every queued callback; never blocks
--   end
--
-- The handler drains the whole queue on every wake-up, whatever the datagrams said: with
-- per-delivery notification the receiving socket drops datagrams under bursts, and with
-- coalesced notification one datagram announces every item queued until the queue is empty
-- again. Either way, polling once per datagram would strand items.
local socket = require "socket"
local darksidesync = require "darksidesync"

local FIRST_PORT, LAST_PORT = 50000, 50200

local M = {}

local skt, port          -- the one socket of this Lua state, created by getsocket()
local errorhandler = nil -- nil: darksidesync.drain's default (error and traceback to stderr)

local function bind(candidate)
  local udp, err = socket.udp()
  if not udp then return nil, err end
  local ok
  ok, err = udp:setsockname("127.0.0.1", candidate)
  if not ok then
    udp:close()
    return nil, err
  end
  udp:settimeout(0) -- the handler must never block a scheduler
  return udp
end

--- Creates (once) a UDP socket on 127.0.0.1, bound to the first free port of 50000..50200,
-- and tells darksidesync to send its wake-ups there.
-- @return the LuaSocket UDP socket and its port; or nil and an error message.
function M.getsocket()
  if skt then return skt, port end
  local lasterr
  for candidate = FIRST_PORT, LAST_PORT do
    local udp, err = bind(candidate)
    if udp then
      darksidesync.setport(candidate)
      skt, port = udp, candidate
      return skt, port
    end
    lasterr = err
  end
  return nil, ("dss: no free UDP port in %d..%d (%s)"):format(FIRST_PORT, LAST_PORT, tostring(lasterr))
end

-- Reads every datagram that is waiting, without blocking. Their payloads (" N") are only
-- hints; the queue itself is the truth.
local function discard_datagrams(udp)
  if not udp then return end
  repeat
    local data = udp:receive()
  until data == nil
end

local function handler(udp)
  discard_datagrams(udp or skt)
  return darksidesync.drain(errorhandler)
end

--- Returns handler(skt): reads the pending datagram(s) of skt (default: the getsocket()
-- socket), then runs the callback of every queued delivery, oldest first, each under xpcall
-- with the error handler. Returns how many callbacks ran.
function M.gethandler()
  return handler
end

--- The number of deliveries waiting in the queue.
function M.queuesize()
  return darksidesync.queuesize()
end

--- Sets the error handler for callbacks (an xpcall message handler); nil restores the
-- default, which prints the error and a traceback to stderr.
function M.seterrorhandler(f)
  if f ~= nil and type(f) ~= "function" then
    error("bad argument #1 to 'seterrorhandler' (function or nil expected, got " .. type(f) .. ")", 2)
  end
  errorhandler = f
end

return M
