-- bounded_memory.lua: resident memory while 4 pthreads flood a bounded queue faster than
-- the Lua thread polls it (DSS 1v1's setlimit, overflow "block": producers wait for room).
--   lua5.4 bounded_memory.lua [seconds [capacity [producers]]]   -- defaults: 10 10000 4
--   (capacity "unbounded": the same flood without a bound, for comparison)
-- Needs bounded_producer.so (tests/Dss.Native.Tests/c/bounded_producer) and darksidesync.so
-- on package.cpath; bounded_memory.sh builds and sets both. Prints the RSS every second and
-- a RESULT line: with a bound the queue holds at most `capacity` items, so after the warm-up
-- the RSS must stay flat however long the flood runs.
local result = require "result"
local socket = require "socket"
local darksidesync = require "darksidesync"
local bp = require "bounded_producer"

local seconds = tonumber(arg[1]) or 10
local capacity = math.tointeger(tonumber(arg[2])) or (arg[2] ~= "unbounded" and 10000 or nil) -- "unbounded": for comparison
local producers = math.tointeger(tonumber(arg[3])) or 4

local function rss_mb()
  local f = assert(io.open("/proc/self/status"))
  local status = f:read("a")
  f:close()
  return tonumber(status:match("VmRSS:%s*(%d+)")) / 1024
end

local items = 0
bp.callback(function() items = items + 1 end)
darksidesync.setlimit(capacity)
local before = rss_mb()
bp.flood(producers, -1, -1)

local poll, unpack = darksidesync.poll, table.unpack
local start, next_sample, most, at1, samples = socket.gettime(), 1, 0, nil, {}
local largest_queue = 0
while true do
  for _ = 1, 1000 do
    local n, callback, args = poll()
    if n == -1 then break end
    if callback then callback(unpack(args)) end
  end
  largest_queue = math.max(largest_queue, darksidesync.queuesize())
  local now = socket.gettime() - start
  if now >= next_sample then
    local rss = rss_mb()
    samples[#samples + 1] = string.format("%.1f", rss)
    if next_sample == 1 then at1 = rss end
    most = math.max(most, rss)
    io.stderr:write(string.format("t=%2d s  RSS %6.1f MB  items %d  queued %d\n", next_sample, rss, items, darksidesync.queuesize()))
    next_sample = next_sample + 1
  end
  if now >= seconds then break end
end
bp.halt()
while bp.running() > 0 or darksidesync.queuesize() > 0 do
  local n, callback, args = poll()
  if n ~= -1 and callback then callback(unpack(args)) end
end
local statuses = bp.join()
local elapsed = socket.gettime() - start

result.emit {
  seconds = elapsed, capacity = capacity or 0, producers = producers, items = items,
  items_per_s = items / elapsed, delivered = statuses.SUCCESS or 0,
  rss_before_mb = before, rss_at_1s_mb = at1 or 0, rss_max_mb = most,
  growth_after_1s_mb = most - (at1 or most), largest_queue = largest_queue,
}
io.stderr:write("RSS samples (MB, one per second): ", table.concat(samples, " "), "\n")
