-- memory.lua: resident memory of this lua5.4 process, from /proc/self/status (VmRSS).
--   lua5.4 memory.lua module   -- RSS at start, right after require "darksidesync", and idle
--   lua5.4 memory.lua bare     -- RSS at start and idle, nothing loaded
-- "Idle" is after IDLE_S of doing nothing, so threads the module started have settled
-- (their stacks touched, the ActorSystem's timers run once). The wait is a child `sleep`
-- process, which adds nothing to this process; requiring LuaSocket for socket.sleep would.
-- result.lua is the only thing loaded in the bare case (a few KB of Lua, in both cases).
local result = require "result"

local mode = arg[1] or "module"
assert(mode == "module" or mode == "bare", "usage: memory.lua module|bare")
local IDLE_S = 0.5

local function status_kb(field)
  local f = assert(io.open("/proc/self/status"))
  local status = f:read("a")
  f:close()
  return assert(tonumber(status:match(field .. ":%s*(%d+)")), "no " .. field .. " in /proc/self/status")
end

local function rss_kb() return status_kb("VmRSS") end

-- Resident kB of the file mappings whose path matches `pattern` (from /proc/self/smaps):
-- where the file-backed part of the extra memory lives. Such pages are clean and shared
-- with every other process mapping the same file; anonymous pages are this process's own.
local function mapped_kb(pattern)
  local kb, inside = 0, false
  for line in io.lines("/proc/self/smaps") do
    local path = line:match("^%x+%-%x+ %S+ %x+ %S+ %d+%s*(.*)$")
    if path then
      inside = path:find(pattern) ~= nil
    elseif inside then
      local rss = line:match("^Rss:%s+(%d+)")
      if rss then kb = kb + tonumber(rss) end
    end
  end
  return kb
end

local r = { start_kb = rss_kb() }
if mode == "module" then
  local darksidesync = require "darksidesync"
  assert(type(darksidesync.poll) == "function", "darksidesync did not load")
  r.loaded_kb = rss_kb()
end
os.execute("sleep " .. IDLE_S)
r.idle_kb = rss_kb()
r.anon_kb = status_kb("RssAnon")
r.file_kb = status_kb("RssFile")
r.image_kb = mapped_kb("darksidesync%.so$")
-- The .NET runtime brings OpenSSL in with it; a bare lua5.4 never maps it.
r.openssl_kb = mapped_kb("/libssl%.so") + mapped_kb("/libcrypto%.so")
result.emit(r)
