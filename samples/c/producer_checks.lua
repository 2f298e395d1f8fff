-- producer_checks.lua: the stop-utility and bad-input scenarios of the spec, driven
-- through dss_producer, each checked with assert. Prints "ok <scenario>" per check.
--   lua5.4 samples/c/producer_checks.lua
local darksidesync = require "darksidesync"
local producer = require "dss_producer"
local C, raw = producer.codes, producer.raw

local function check(name, f)
  f()
  print("ok " .. name)
end

local function wait_queued(n)
  local deadline = os.time() + 10
  while darksidesync.queuesize() < n do
    assert(os.time() < deadline, "timed out waiting for " .. n .. " queued items")
    darksidesync.wait(0.05)
  end
end

-- Until the producer's threads ended. After stop() wait() raises, so nap with sleep(1).
local function settle(u, stopped)
  local deadline = os.time() + 10
  while u:running() > 0 do
    assert(os.time() < deadline, "producer threads did not finish")
    if stopped then os.execute("sleep 0.01") else darksidesync.wait(0.01) end
  end
  u:join()
end

check("unregister cancels queued and Lua-side items once each and releases every thread", function()
  local held = {}
  local u = assert(producer.new{ callback = function(answer) held[#held + 1] = answer end })
  u:start{ threads = 3, items = 2, blocking = true }  -- each thread blocks on its first item
  wait_queued(3)
  for _ = 1, 2 do                                      -- two go to the Lua side, unanswered
    local _, cb, args = darksidesync.poll()
    cb(table.unpack(args))
  end
  u:deliver(3)                                         -- three non-blocking ones queue behind
  assert(u:unregister() == C.SUCCESS)
  settle(u)                                            -- every blocked thread was released
  local s = u:stats()
  assert(darksidesync.queuesize() == 0, "items of an unregistered utility left in the queue")
  assert(s.decode == 2 and s.ret == 0, "unexpected hook calls")
  assert(s.ret_null == 2, "ret(NULL) for the two Lua-side items: " .. s.ret_null)
  assert(s.decode_null == 4, "decode(NULL) for the four queued items: " .. s.decode_null)
  assert(s.outcomes.cancelled == 3 and s.outcomes.pending == 0)
  assert(s.codes.SUCCESS == 6 and s.codes.INVALID_UTILID == 3, "second items must be refused")
  assert(select("#", held[1](1)) == 0, "answering a cancelled item must do nothing")
  assert(u:unregister() == C.INVALID_UTILID)
  u:close()
end)

check("bad calls return the spec's codes", function()
  local u = assert(producer.new{ callback = print })
  assert(raw.deliver(0) == C.INVALID_UTILID, "NULL utilid")
  assert(raw.deliver(0x7eadbeef) == C.INVALID_UTILID, "bogus utilid")
  assert(raw.unreg(0) == C.INVALID_UTILID, "unreg(NULL)")
  assert(raw.unreg(0x7eadbeef) == C.INVALID_UTILID, "unreg(bogus)")
  assert(raw.deliver(u:utilid(), { decode = false }) == C.NO_DECODE_PROVIDED)
  local id, code = raw.reg{ cancel = false, libid = "fresh" }
  assert(id == 0 and code == C.NO_CANCEL_PROVIDED)
  id, code = raw.reg{}                                   -- the library's libid again
  assert(id == u:utilid() and code == C.ALREADY_REGISTERED)
  local again, code2, existing = producer.new{ callback = print }
  assert(again == nil and code2 == C.ALREADY_REGISTERED and existing == u:utilid())
  id, code = raw.getutilid("fresh")
  assert(id == 0 and code == C.UNKNOWN_LIB)
  id, code = raw.getutilid()
  assert(id == u:utilid() and code == C.SUCCESS)
  assert(raw.deliver(u:utilid()) == C.SUCCESS)           -- a good one still works
  assert(darksidesync.poll() == 0)                       -- decode pushed nothing
  assert(raw.stats().decode == 1)
  u:close()
  assert(raw.deliver(id) == C.INVALID_UTILID, "deliver after unregister")
end)

check("a cancel that does not unregister: stop-DSS unregisters the utility itself", function()
  local u = assert(producer.new{ callback = print, cancel = "ignore" })
  u:start{ threads = 2, items = 100000000, pace_us = 100 }
  u:start{ threads = 2, items = 5, blocking = true }
  wait_queued(4)
  darksidesync.stop()                                   -- returns: no hang
  settle(u, true)
  local s = u:stats()
  assert(s.cancel == 1 and s.cancel_unreg == nil)
  assert(s.decode_null + s.ret_null >= 4, "queued items must be cancelled")
  assert(s.outcomes.pending == 0)
  assert(u:unregister() == C.INVALID_UTILID, "DSS should have unregistered it")
  local refused = raw.deliver(s.utilid)
  assert(refused == C.INVALID_UTILID or refused == C.NOT_STARTED)
  assert(select(2, raw.reg{ libid = "fresh" }) == C.NOT_STARTED)
  assert(not pcall(darksidesync.poll), "poll after stop must raise")
  u:close()
end)

check("after start() old utilids stay invalid and a new registration works", function()
  darksidesync.start()
  assert(raw.deliver(1) == C.INVALID_UTILID)
  local u, code = producer.new{ callback = function() end }
  assert(u and code == C.SUCCESS)
  assert(u:deliver(5) == 5)
  assert(darksidesync.drain() == 5)
  u:close()
end)
