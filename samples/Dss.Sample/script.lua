-- The Lua side of the sample. Two C# utilities (globals `timer` and `workers`) and an actor
-- (through `on_audit`) produce events on threads of their own; this one thread handles them
-- all, sleeping in darksidesync.wait() until something is queued.
local dss = require "darksidesync"

local function say(who, what) print(("%-9s| %s"):format(who, what)) end

local TICKS, QUESTIONS = 5, 4
local ticks, answered, audited = 0, 0, false
local put_aside -- one worker's reply, kept on purpose until after that worker stops waiting

local function on_tick(n, count)
  ticks = n
  say("lua", ("tick %d of %d"):format(n, count))
  if n == 3 and put_aside then
    -- The worker gave up at 300 ms; a reply stays callable, DSS just discards the late answer.
    say("lua", "tick 3: now answering the question put aside: keep")
    put_aside("keep")
    put_aside = nil
    answered = answered + 1
  end
end

local function review(reply, worker, from, to, count)
  local question = ("worker %d asks about %d primes in [%d, %d)"):format(worker, count, from, to)
  if to - from > 10000 then
    say("lua", question .. ": too many to check now, answering at tick 3")
    put_aside = reply
    return
  end
  local verdict = count > 0 and "keep" or "drop"
  say("lua", question .. ": " .. verdict)
  reply(verdict)
  answered = answered + 1
end

-- Called through DSS when the auditor actor asks; the answer goes back to the actor.
function on_audit(reply)
  audited = true
  say("lua", "the auditor asks how far we are")
  reply(("%d of %d ticks seen, %d of %d questions answered"):format(ticks, TICKS, answered, QUESTIONS))
end

assert(timer.every(200, TICKS, on_tick))
assert(workers.primes(2, 100, review))
assert(workers.primes(100, 1000, review))
assert(workers.primes(114, 127, review))          -- a prime gap: nothing to keep
assert(workers.primes(1000, 100000, review, 300)) -- this worker waits 300 ms at most

local idle = 0
while ticks < TICKS or answered < QUESTIONS or not audited do
  if dss.wait(1) == 0 then
    idle = idle + 1
    if idle == 3 then
      say("lua", "nothing happened for 3 s; giving up")
      break
    end
  else
    idle = 0
  end
  dss.drain()
end
say("lua", ("done: %d ticks, %d answers, audit %s; stopping DSS"):format(
  ticks, answered, audited and "answered" or "missing"))
dss.stop()
