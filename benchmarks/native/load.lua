-- load.lua: wall time of `require "darksidesync"` in a fresh lua5.4 (run.lua starts one
-- process per sample, since only the first require in a process loads anything).
--   lua5.4 load.lua
-- LuaSocket is loaded first, for its clock; its own load is not in the figure.
local socket = require "socket"
local result = require "result"

local before = socket.gettime()
local darksidesync = require "darksidesync"
local after = socket.gettime()
assert(type(darksidesync.poll) == "function", "darksidesync did not load")
result.emit{ require_ms = (after - before) * 1e3 }
