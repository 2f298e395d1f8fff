-- workers_demo.lua: dss_workers in a loop-driven host. Slow C computations run on a
-- pool of pthreads while the Lua thread stays free; results come back as callbacks.
--   lua5.4 samples/c/workers_demo.lua
local darksidesync = require "darksidesync"
local workers = require "dss_workers"

local pool = workers.new(2)
local pending = 0

local function submit(what, f)
  pending = pending + 1
  return what, f
end

for _, limit in ipairs{ 1000000, 3000000, 5000000 } do
  pool:primes(submit(limit, function(count, largest, seconds)
    pending = pending - 1
    print(("primes <= %d: %d, the largest %d (%.3f s on a pool thread)"):format(limit, count, largest, seconds))
  end))
end
for _, path in ipairs{ "/etc/services", "/no/such/file" } do
  pool:hashfile(submit(path, function(hash, size, seconds)
    pending = pending - 1
    if hash then
      print(("FNV-1a 64 of %s: %s (%d bytes, %.3f s)"):format(path, hash, size, seconds))
    else
      print(("hash failed: %s"):format(size))
    end
  end))
end

local ticks = 0
while pending > 0 do
  if darksidesync.wait(0.01) == 0 then
    ticks = ticks + 1 -- the Lua thread is free while the pool works
  end
  darksidesync.drain()
end
local s = pool:stats()
print(("%d jobs, %d results, %d cancelled, %d idle ticks of the Lua thread meanwhile")
  :format(s.submitted, s.decoded, s.cancelled, ticks))
assert(s.decoded == s.submitted)

-- A job still running when DSS stops: its result is refused, never delivered into a
-- stopped state, and the pool's threads are joined when it closes.
pool:primes(3000000, function() error("must not run after stop") end)
darksidesync.stop()
while not pool:idle() do os.execute("sleep 0.05") end -- wait() raises once DSS stopped
s = pool:stats()
print(("after stop-DSS: %d results, %d cancelled, %d refused"):format(s.decoded, s.cancelled, s.refused))
-- (If no thread had picked it up yet, stop-DSS dropped it from the pool's queue:
-- then it is neither refused nor cancelled. Either way it never reached Lua.)
assert(s.decoded == s.submitted - 1)
pool:close()
