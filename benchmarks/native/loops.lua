-- loops.lua: deliveries through the loop integrations (src/Dss.Native/dss/), woken by
-- darksidesync.getfd(), beside the UDP wake-up loops; and what arming the fd costs.
--
-- Two roles. As a child (one fresh lua5.4 per run, one RESULT line, see result.lua):
--   lua5.4 loops.lua <mode> <producer threads> <items per thread> [nowarm]
-- modes:
--   luv, cqueues, select, copas   the loop integration (dss.luv, dss.cqueues, dss.socket's
--                                 waker in socket.select, dss.socket's Copas thread), default batches
--   spin-armed, spin-unarmed      a consumer that keeps up: `while n < total do dispatch() end`,
--                                 with getfd() called first (armed) or never
--   behind-armed, behind-unarmed  a consumer that falls behind: dispatch(1000), then sleeps 1 ms
--   paced-armed, paced-unarmed    spinning as spin-*, but the producers pause (pace_us = 10)
--                                 after each delivery: the queue empties after almost every item,
--                                 the worst case for the fd (a write per delivery)
-- As the driver (loops.sh runs it; needs --module DIR --utilities DIR):
--   lua5.4 loops.lua run --module DIR --utilities DIR [--repetitions N] [--quick] [--no-strace]
-- Every child does a 10% warm-up in the same process first (unless `nowarm`) and times the
-- recorded run from u:start to the last callback; a run that makes no progress for STALL_S
-- while items are missing fails (a lost wake-up must not hang the benchmark).
local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
package.path = here .. "/?.lua;" .. package.path
local result = require "result"
local socket = require "socket"

local STALL_S = 10

-----------------------------------------------------------------------------------------
-- The child.

local function child_main(mode, threads, items, nowarm)
  local darksidesync = require "darksidesync"
  local producer = require "dss_producer"
  local dispatch = darksidesync.dispatch

  local received, total = 0, 0
  local done_at     -- when the producer threads had all finished (spin and behind modes)
  local finished_at -- when the last callback of a run ran: the clock stops there
  local u
  local on_last -- loop-specific: called by the callback that completes the run
  u = assert(producer.new{ callback = function(pid, seq)
    received = received + 1
    if received == total then
      finished_at = socket.gettime()
      if on_last then on_last() end
    end
  end })

  -- CPU seconds (utime + stime, USER_HZ = 100) of a /proc stat file: the process's own
  -- (every thread, ended ones too) or the Lua thread's (the main thread: its tid is the pid).
  local function stat_cpu_s(path)
    local f = assert(io.open(path))
    local stat = f:read("a")
    f:close()
    local fields = {}
    for w in stat:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = w end
    return (tonumber(fields[12]) + tonumber(fields[13])) / 100 -- fields 14, 15 after "pid (comm)"
  end
  local pid
  do
    local f = assert(io.open("/proc/self/stat"))
    pid = f:read("a"):match("^(%d+)")
    f:close()
  end
  local function lua_thread_cpu_s() return stat_cpu_s("/proc/self/task/" .. pid .. "/stat") end
  local function process_cpu_s() return stat_cpu_s("/proc/self/stat") end

  local progress, progress_at = -1, socket.gettime()
  local function stalled()
    if received ~= progress then
      progress, progress_at = received, socket.gettime()
      return false
    end
    return socket.gettime() - progress_at > STALL_S
  end

  local fd = -1
  local emptied = 0 -- spin, behind, paced: dispatch calls that left the queue empty (each one
                    -- clears an armed fd, and the next delivery writes it)
  local setup, body -- setup() once per process; body() runs until received == total
  local wakeups = function() return 0 end

  if mode == "luv" then
    local uv = require "luv"
    local watcher
    setup = function()
      watcher = require("dss.luv").start()
      fd = watcher.fd
      wakeups = function() return watcher.wakeups end
    end
    body = function()
      watcher:start()
      local guard = uv.new_timer()
      on_last = function() watcher:stop(); guard:close() end
      guard:start(500, 500, function()
        if stalled() then guard:close(); watcher:stop() end
      end)
      uv.run() -- until neither the watcher nor the guard is active
    end
  elseif mode == "cqueues" then
    local cqueues = require "cqueues"
    local cq = cqueues.new()
    local watcher
    setup = function()
      watcher = require("dss.cqueues").wrap(cq)
      watcher:stop()
      assert(cq:loop())
      fd = watcher.pollable.fd
      wakeups = function() return watcher.wakeups end
    end
    body = function()
      watcher:start()
      on_last = function() watcher:stop() end
      cq:wrap(function() -- the guard; may sleep past the last callback (the clock stopped there)
        while received < total and not stalled() do cqueues.sleep(0.2) end
        watcher:stop()
      end)
      assert(cq:loop())
    end
  elseif mode == "select" then
    local waker
    setup = function()
      waker = require("dss.socket").new()
      fd = waker.fd
      wakeups = function() return waker.wakeups end
    end
    body = function()
      local watched = { waker }
      while received < total and not stalled() do
        if socket.select(watched, nil, 1)[waker] then waker:dispatch() end
      end
    end
  elseif mode == "copas" then
    local ok, copas = pcall(require, "copas")
    if not ok then
      package.path = package.path .. ";/usr/share/lua/5.2/?.lua" -- Debian's lua-copas (1.x) installs for 5.1/5.2 only
      copas = require "copas"
    end
    local waker
    setup = function()
      waker = require("dss.socket").addthread(copas) -- one Copas thread for both runs
      fd = waker.fd
      wakeups = function() return waker.wakeups end
    end
    body = function()
      while received < total and not stalled() do copas.step(1) end
    end
  elseif mode:match("^spin%-") or mode:match("^paced%-") then
    setup = function()
      if mode:match("%-armed$") then fd = darksidesync.getfd() end
    end
    body = function()
      local calls = 0
      while received < total do
        local ran, remaining = dispatch()
        if remaining == 0 and ran > 0 then emptied = emptied + 1 end
        if not done_at and u:running() == 0 then done_at = socket.gettime() end
        calls = calls + 1
        if calls % 65536 == 0 and stalled() then break end
      end
    end
  elseif mode == "behind-armed" or mode == "behind-unarmed" then
    setup = function()
      if mode == "behind-armed" then fd = darksidesync.getfd() end
    end
    body = function()
      while received < total and not stalled() do
        local ran, remaining = dispatch(1000)
        if remaining == 0 and ran > 0 then emptied = emptied + 1 end
        if not done_at and u:running() == 0 then done_at = socket.gettime() end
        socket.sleep(0.001)
      end
    end
  else
    error("unknown mode " .. tostring(mode))
  end

  setup()
  io.stderr:write(("fd %d\n"):format(fd))

  local pace_us = mode:match("^paced%-") and 10 or 0
  local function run(n)
    received, total, done_at, finished_at, emptied = 0, threads * n, nil, nil, 0
    progress = -1
    local w0 = wakeups()
    local cpu0, all0 = lua_thread_cpu_s(), process_cpu_s()
    local start = socket.gettime()
    u:start{ threads = threads, items = n, pace_us = pace_us }
    body()
    local seconds = (finished_at or socket.gettime()) - start
    local cpu = lua_thread_cpu_s() - cpu0
    u:join()
    -- Every thread but the Lua thread: the producers (ended now, their time is the
    -- process's), and the runtime's own threads (idle here).
    local others = process_cpu_s() - all0 - cpu
    if not done_at then done_at = socket.gettime() end
    if received ~= total then
      error(("stalled: %d of %d items arrived, queuesize() = %d"):format(received, total, darksidesync.queuesize()))
    end
    return {
      items = total, seconds = seconds, items_per_s = total / seconds,
      producers_s = done_at - start, deliveries_per_s = total / (done_at - start),
      wakeups = wakeups() - w0, lua_cpu_share = cpu / seconds, fd = fd,
      lua_cpu_us_per_item = cpu * 1e6 / total, emptied = emptied, others_cpu_us_per_item = others * 1e6 / total,
    }
  end

  if not nowarm then
    run(math.max(1, items // 10))
    darksidesync.drain()
    collectgarbage()
  end
  local r = run(items)
  local s = u:stats()
  assert(s.fifo_violations == 0, "FIFO violated")
  assert(s.deliveries == (s.codes.SUCCESS or 0), "a delivery was refused")
  u:close()
  result.emit(r)
end

if arg[1] ~= "run" then
  local threads = assert(math.tointeger(tonumber(arg[2])), "producer threads?")
  local items = assert(math.tointeger(tonumber(arg[3])), "items per thread?")
  child_main(arg[1], threads, items, arg[4] == "nowarm")
  return
end

-----------------------------------------------------------------------------------------
-- The driver.

local option = require("driver").option

local quick = option("--quick") ~= nil
local repetitions = math.tointeger(tonumber(option("--repetitions") or "")) or (quick and 2 or 5)
local module_dir = assert(option("--module"), "--module DIR (darksidesync.so, dss.lua, dss/)")
local utilities_dir = assert(option("--utilities"), "--utilities DIR (dss_producer.so)")
local use_strace = option("--no-strace") == nil
local scale = quick and 10 or 1
local THREADS, ITEMS = 4, 250000 // scale
local STRACE_ITEMS = 25000 // scale
local PACED_ITEMS = 25000 // scale -- paced producers: ~60 us per item with usleep(10)

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local ENV = ("LUA_CPATH=%s LUA_PATH=%s"):format(
  quote(module_dir .. "/?.so;" .. utilities_dir .. "/?.so;;"),
  quote(here .. "/?.lua;" .. module_dir .. "/?.lua;;"))
local COALESCED = "DARKSIDESYNC_CONFIG=" .. quote(here .. "/coalesced.conf")
local CHILD_TIMEOUT_S = 120

local failures = {}

local function first_line(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  local line = p and p:read("l") or "?"
  if p then p:close() end
  return line or "?"
end

local function child(label, env, prefix, script, ...)
  local args = { ... }
  for i, a in ipairs(args) do args[i] = quote(a) end
  local cmd = ("%s %s timeout %d %s lua5.4 %s %s 2>&1"):format(ENV, env or "", CHILD_TIMEOUT_S, prefix or "",
                                                              quote(here .. "/" .. script), table.concat(args, " "))
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local ok, how, code = p:close()
  local r = result.parse(out)
  if not ok or not r then
    failures[#failures + 1] = ("%s: %s %s, command: %s\n%s"):format(label, tostring(how), tostring(code), cmd, out)
    return nil, out
  end
  return r, out
end

-- The variants of one group; each repetition runs all of them, in the group's order in odd
-- repetitions and reversed in even ones, so neighbours are compared minutes apart at most.
local function repeat_group(group)
  local runs = {}
  for _, v in ipairs(group) do runs[v.label] = {} end
  for i = 1, repetitions do
    local order = {}
    for k = 1, #group do order[k] = group[i % 2 == 1 and k or #group + 1 - k] end
    for _, v in ipairs(order) do
      if io.stderr then io.stderr:write(("\r%-60s"):format(("%s (%d/%d)"):format(v.label, i, repetitions))) end
      local r = child(v.label, v.env, nil, v.script, table.unpack(v.args))
      if r then table.insert(runs[v.label], r) end
    end
  end
  io.stderr:write(("\r%-60s\r"):format(""))
  return runs
end

local function values(runs, key)
  local v = {}
  for _, r in ipairs(runs) do v[#v + 1] = r[key] end
  return v
end

local function median(v)
  if #v == 0 then return nil end
  local s = { table.unpack(v) }
  table.sort(s)
  local mid = #s // 2
  return #s % 2 == 1 and s[mid + 1] or (s[mid] + s[mid + 1]) / 2
end

local function spread(v, fmt, by)
  if #v == 0 then return "n/a", "" end
  return (fmt):format(median(v) * by), (fmt .. ".." .. fmt):format(math.min(table.unpack(v)) * by, math.max(table.unpack(v)) * by)
end

local commit = first_line("git -C " .. quote(here .. "/../..") .. " rev-parse --short HEAD")
local dirty = first_line("git -C " .. quote(here .. "/../..") .. " status --porcelain -- src hocon | head -n 1") ~= "?"
print("DarkSideSync for .NET: loop integrations (darksidesync.getfd) beside UDP wake-ups, stock lua5.4")
print(("command : benchmarks/native/loops.sh%s"):format((quick and " --quick" or "") ..
  (option("--repetitions") and (" --repetitions " .. repetitions) or "")))
print(("date    : %s"):format(os.date("!%Y-%m-%d %H:%M UTC")))
print(("machine : %s cores, %s; %s"):format(first_line("nproc"), first_line("uname -sr"), first_line("lua5.4 -v")))
print(("source  : commit %s%s; module %s"):format(commit, dirty and " + uncommitted changes in src/" or "", module_dir))
print(("load    : %s (before)"):format(first_line("uptime")))
print(("method  : one fresh lua5.4 per run, %d runs per row, median (min..max); %d pthreads x %d items,"):format(repetitions, THREADS, ITEMS))
print("          10% warm-up in the same process first; the variants of a group alternate their order")
print()

local wall = socket.gettime()
local function loop_variant(label, mode, items)
  return { label = label, script = "loops.lua", args = { mode, THREADS, items or ITEMS } }
end
local loops = {
  loop_variant("luv (dss.luv)", "luv"),
  loop_variant("cqueues (dss.cqueues)", "cqueues"),
  loop_variant("socket.select on getfd (dss.socket)", "select"),
  loop_variant("Copas 1.x (dss.socket.addthread)", "copas"),
  { label = "UDP, per-delivery (udp_loop.lua)", script = "udp_loop.lua", args = { THREADS, ITEMS } },
  { label = "UDP, coalesced (udp_loop.lua)", script = "udp_loop.lua", args = { THREADS, ITEMS }, env = COALESCED },
}
local loop_runs = repeat_group(loops)
local arming = {
  loop_variant("keeps up (dispatch() spinning), fd armed", "spin-armed"),
  loop_variant("keeps up (dispatch() spinning), no fd", "spin-unarmed"),
  loop_variant("falls behind (dispatch(1000), sleep 1 ms), fd armed", "behind-armed"),
  loop_variant("falls behind (dispatch(1000), sleep 1 ms), no fd", "behind-unarmed"),
  loop_variant("keeps up, paced producers (pace_us = 10), fd armed", "paced-armed", PACED_ITEMS),
  loop_variant("keeps up, paced producers (pace_us = 10), no fd", "paced-unarmed", PACED_ITEMS),
}
local arming_runs = repeat_group(arming)

-- eventfd writes and reads per process, under strace (seccomp-bpf: only read/write stop).
local syscalls = {}
local strace_ok = use_strace and first_line("command -v strace") ~= "?"
if strace_ok then
  local modes = { "spin-armed", "spin-unarmed", "behind-armed", "behind-unarmed", "paced-armed", "paced-unarmed",
                  "luv", "cqueues", "select", "copas" }
  for _, mode in ipairs(modes) do
    io.stderr:write(("\r%-60s"):format("strace: " .. mode))
    local log = os.tmpname()
    local r, out = child("strace " .. mode, nil, "strace -f -qq --seccomp-bpf -e trace=read,write,eventfd2 -o " .. quote(log),
                         "loops.lua", mode, THREADS, STRACE_ITEMS, "nowarm")
    local fd = r and math.tointeger(r.fd) or tonumber((out or ""):match("fd (%-?%d+)"))
    local writes, reads = 0, 0
    local f = io.open(log)
    if f and fd and fd >= 0 then
      -- Only after the eventfd2 call that made it: the same number may have been another
      -- file before (dlopen reads the .so files it loads).
      local w, rd, created = "write(" .. fd .. ",", "read(" .. fd .. ",", false
      for line in f:lines() do
        if not created then
          created = line:find("eventfd2(", 1, true) and line:match("= (%d+)%s*$") == tostring(fd)
        elseif line:find(w, 1, true) then
          writes = writes + 1
        elseif line:find(rd, 1, true) then
          reads = reads + 1
        end
      end
    end
    if f then f:close() end
    os.remove(log)
    syscalls[mode] = { writes = writes, reads = reads, items = THREADS * STRACE_ITEMS, ok = r ~= nil }
  end
  io.stderr:write(("\r%-60s\r"):format(""))
end

local function table_print(header, rows)
  local widths = {}
  for _, r in ipairs({ header, table.unpack(rows) }) do
    for i, cell in ipairs(r) do widths[i] = math.max(widths[i] or 0, #cell) end
  end
  for _, r in ipairs({ header, table.unpack(rows) }) do
    local cells = {}
    for i, cell in ipairs(r) do cells[i] = ((i == 1 and "%-" or "%") .. widths[i] .. "s"):format(cell) end
    print(table.concat(cells, "  "))
  end
  print()
end

local M = 1e-6
local rows = {}
for _, v in ipairs(loops) do
  local runs = loop_runs[v.label]
  local m, range = spread(values(runs, "items_per_s"), "%.2f", M)
  local wakeups = median(values(runs, "wakeups"))
  local stranded = values(runs, "stranded")
  rows[#rows + 1] = { v.label, m .. " M/s", range, wakeups and ("%.0f"):format(wakeups) or "-",
                      #stranded > 0 and ("%d"):format(math.max(table.unpack(stranded))) or "0 (checked)",
                      ("%d/%d"):format(#runs, repetitions) }
end
print(("Items/s through each loop, %d pthreads x %d items (median of runs):"):format(THREADS, ITEMS))
table_print({ "loop", "items/s", "min..max", "wake-ups", "stranded (max)", "runs ok" }, rows)

rows = {}
for _, v in ipairs(arming) do
  local runs = arming_runs[v.label]
  local m, range = spread(values(runs, "items_per_s"), "%.2f", M)
  local dm, drange = spread(values(runs, "deliveries_per_s"), "%.2f", M)
  local mode = v.args[1]
  local sc = syscalls[mode]
  local lua_us = median(values(runs, "lua_cpu_us_per_item"))
  local emptied = median(values(runs, "emptied"))
  local others_us = median(values(runs, "others_cpu_us_per_item"))
  rows[#rows + 1] = { v.label, ("%d x %d"):format(THREADS, v.args[3]), m .. " M/s", range, dm .. " M/s", drange,
                      emptied and ("%.0f"):format(emptied) or "-",
                      lua_us and ("%.2f"):format(lua_us) or "-", others_us and ("%.2f"):format(others_us) or "-",
                      sc and ("%d / %d"):format(sc.writes, sc.reads) or "-", ("%d/%d"):format(#runs, repetitions) }
end
print("Arming the fd: consumer items/s; deliveries/s on the producers' side (items over the time until the")
print("4 pthreads had all finished); how often a dispatch left the queue empty (each time an armed fd is cleared")
print("and written again); CPU per item of the Lua thread and of all other threads (the producers);")
print(("eventfd writes / reads per process under strace (%d x %d items, no warm-up):"):format(THREADS, STRACE_ITEMS))
table_print({ "consumer", "items", "items/s", "min..max", "deliveries/s", "min..max", "emptied", "Lua us/item", "others us/item",
              "eventfd w/r", "runs ok" }, rows)

if strace_ok then
  local parts = {}
  for _, mode in ipairs { "luv", "cqueues", "select", "copas" } do
    local sc = syscalls[mode]
    parts[#parts + 1] = ("%s %d / %d"):format(mode, sc.writes, sc.reads)
  end
  print(("eventfd writes / reads per process through the loops (strace, %d items, no warm-up): %s")
    :format(THREADS * STRACE_ITEMS, table.concat(parts, ", ")))
else
  print("eventfd writes / reads: strace not run (--no-strace, or not installed: apt-get install strace)")
end
print()
print(("load    : %s (after)"):format(first_line("uptime")))
print(("total run time: %.1f s"):format(socket.gettime() - wall))
if #failures > 0 then
  print()
  print("FAILED runs:")
  for _, f in ipairs(failures) do print("  " .. f) end
  os.exit(1)
end
