-- producer_demo.lua: dss_producer through a plain poll() loop. Non-blocking throughput
-- with 1 and 4 producer threads, then blocking round trips (p50/p99) with 1 and 4.
--   lua5.4 samples/c/producer_demo.lua [items per producer, default 200000]
local darksidesync = require "darksidesync"
local producer = require "dss_producer"
local clock = os.clock -- CPU time of this process; wall time comes from socket.gettime if present
local ok, socket = pcall(require, "socket")
if ok then clock = socket.gettime end

local items = tonumber(arg and arg[1]) or 200000
local received = 0
local u = assert(producer.new{ callback = function(pid, seq) received = received + 1 end })

local function nonblocking(threads)
  received = 0
  local total = threads * items
  local start = clock()
  u:start{ threads = threads, items = items }
  local poll = darksidesync.poll
  while received < total do
    local n, cb, args = poll()
    if n ~= -1 and cb then cb(args[1], args[2]) end
  end
  local seconds = clock() - start
  u:join()
  print(("non-blocking, %d producer(s): %d items in %.3f s = %.0f items/s")
    :format(threads, total, seconds, total / seconds))
end

local function blocking(threads, per)
  local total = threads * per
  local answered = 0
  u:start{ threads = threads, items = per, blocking = true,
           callback = function(answer, pid, seq) answer(seq); answered = answered + 1 end }
  while answered < total do
    local n, cb, args = darksidesync.poll()
    if n ~= -1 and cb then cb(table.unpack(args)) end
  end
  u:join()
  local l = u:latency(true)
  print(("blocking, %d producer(s): %d round trips, p50 %.1f us, p99 %.1f us, max %.1f us")
    :format(threads, l.count, l.p50, l.p99, l.max))
end

nonblocking(1)
nonblocking(4)
blocking(1, 20000)
blocking(4, 5000)

local s = u:stats()
print(("decode %d, ret %d, answered %d, FIFO violations %d, refused %d")
  :format(s.decode, s.ret, s.outcomes.answered, s.fifo_violations, s.deliveries - (s.codes.SUCCESS or 0)))
assert(s.fifo_violations == 0 and s.deliveries == s.codes.SUCCESS and s.outcomes.answered == s.ret)
u:close()
