-- copas_loop.lua: the DSS socket in a Copas scheduler. A Copas thread waits for the
-- wake-up datagram (yielding, so other Copas threads run), then the dss handler drains
-- the queue. The work comes from dss_workers.
--   lua5.4 samples/c/copas_loop.lua
--
-- Debian 12's lua-copas (1.2.0, "Copas 1.1.7" inside) installs for Lua 5.1 and 5.2 only;
-- its pure-Lua code runs unchanged on 5.4, so this script falls back to that directory.
local ok, copas = pcall(require, "copas")
if not ok then
  package.path = package.path .. ";/usr/share/lua/5.2/?.lua"
  ok, copas = pcall(require, "copas")
end
if not ok then
  print("copas is not installed (apt-get install lua-copas); nothing to show")
  return
end
local darksidesync = require "darksidesync"
local dss = require "dss"
local workers = require "dss_workers"

local skt = assert(dss.getsocket())
local handler = dss.gethandler()
local done = false

copas.addthread(function()
  local wrapped = copas.wrap(skt)       -- receive() yields to Copas until a datagram arrives
  while not done do
    wrapped:receive()                   -- the wake-up (its payload is only a hint)
    handler(skt)                        -- the rest of the datagrams, and every queued callback
  end
end)

local pool = workers.new(2)
local outstanding = 0
for _, path in ipairs{ "/etc/services", "/etc/passwd", "/no/such/file" } do
  outstanding = outstanding + 1
  pool:hashfile(path, function(hash, size)
    outstanding = outstanding - 1
    print(hash and ("%s: %s, %d bytes"):format(path, hash, size) or ("error: " .. size))
  end)
end
for _, limit in ipairs{ 2000000, 1000000 } do
  outstanding = outstanding + 1
  pool:primes(limit, function(count)
    outstanding = outstanding - 1
    print(("primes <= %d: %d"):format(limit, count))
  end)
end

local steps = 0
while outstanding > 0 do
  copas.step(1)
  steps = steps + 1
  assert(steps < 100, "Copas never saw the results")
end
done = true
print(("%s: all %d results handled in %d Copas steps"):format(copas._VERSION, 5, steps))
pool:close()
