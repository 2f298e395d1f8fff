-- run.lua: the driver of the native benchmark. Starts every measurement as a fresh lua5.4
-- process (one per repetition), collects the RESULT line each prints (result.lua), and
-- prints the medians beside the original C DSS and the targets of issue 3, item 6, and of
-- issue 8 (dispatch, the cost per item and per deliver). poll and dispatch rows run
-- alternately (poll first in odd repetitions, dispatch first in even ones), so their ratio
-- compares runs minutes apart at most.
--   lua5.4 run.lua --module DIR --utilities DIR [--quick] [--repetitions N]
-- run.sh builds DIR and DIR and calls this; see README.md.
local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
package.path = here .. "/?.lua;" .. package.path
local driver = require "driver"
local socket = require "socket"

local option = driver.option

local quick = option("--quick") ~= nil
local repetitions = math.tointeger(tonumber(option("--repetitions") or "")) or (quick and 2 or 5)
local module_dir = assert(option("--module"), "--module DIR (darksidesync.so, dss.lua)")
local utilities_dir = assert(option("--utilities"), "--utilities DIR (dss_producer.so)")
assert(repetitions >= 1, "--repetitions must be at least 1")

-- Work per run. Sized so a default run (5 repetitions) ends well inside two minutes on two
-- cores, and each timed stretch is long enough (>= 0.2 s) that scheduler noise averages out.
local scale = quick and 10 or 1
local NB_ITEMS_1 = 1000000 // scale         -- non-blocking, 1 producer
local NB_ITEMS_4 = 500000 // scale          -- non-blocking, per producer of 4
local RT_1 = 200000 // scale                -- blocking round trips, 1 producer
local RT_4 = 50000 // scale                 -- blocking round trips, per producer of 4
local UDP_ITEMS_4 = 250000 // scale         -- UDP loop, per producer of 4
local COST_ITEMS = 1000000 // scale         -- drain_cost.lua: each half alone
local DELIVER_1 = 1000000 // scale          -- deliver_cost.lua: 1 pthread, nobody draining
local DELIVER_4 = 250000 // scale           -- deliver_cost.lua: per pthread of 4
local LOAD_SAMPLES = quick and repetitions or math.max(repetitions, 10)

-- Environment of every child: the module and dss.lua, dss_producer.so, result.lua; ";;"
-- keeps Lua's default paths for LuaSocket.
local quote = driver.quote
local ENV = ("LUA_CPATH=%s LUA_PATH=%s"):format(
  quote(module_dir .. "/?.so;" .. utilities_dir .. "/?.so;;"),
  quote(here .. "/?.lua;" .. module_dir .. "/?.lua;;"))
local COALESCED = "DARKSIDESYNC_CONFIG=" .. quote(here .. "/coalesced.conf")

-- run.sh passes --progress when stderr is a terminal; in a log, \r lines would be noise.
local runner = driver.runner{ here = here, timeout = 120, progress = option("--progress") ~= nil }
local failures, progress = runner.failures, runner.progress

-- Runs one child (ENV, then `env`: extra assignments) to completion; its result table or nil.
local function child(label, env, script, ...)
  return runner.child(label, ENV .. " " .. (env or ""), script, ...)
end

-- Runs a child `n` times; returns the list of result tables that came back.
local function repeat_child(n, label, env, script, ...)
  local runs = {}
  for i = 1, n do
    progress(("%s (%d/%d)"):format(label, i, n))
    runs[#runs + 1] = child(label, env, script, ...)
  end
  return runs
end

-- Runs two variants `n` times, alternating which goes first: a = { label, script, args... }.
-- Returns both lists of results, and the ratios b/a of `key` per repetition whose two runs
-- both came back (the two runs of one repetition are seconds apart).
local function repeat_pair(n, a, b, key)
  local lists = runner.alternate(n, { { a[1], ENV, table.unpack(a, 2) }, { b[1], ENV, table.unpack(b, 2) } })
  local ratios = key and driver.ratios(lists[1], key, lists[2], key, n) or {}
  local ra, rb = {}, {}
  for i = 1, n do
    ra[#ra + 1], rb[#rb + 1] = lists[1][i], lists[2][i]
  end
  return ra, rb, ratios
end

local function values(runs, key) return driver.values(runs, key) end
local median, range = driver.median, driver.range

-- Wall time of a whole `lua5.4 -e <chunk>` process, in ms (through /bin/sh, the same
-- for both variants, so their difference is the module's).
local function process_ms(chunk)
  local start = socket.gettime()
  local ok = os.execute(("%s lua5.4 -e %s"):format(ENV, quote(chunk)))
  local ms = (socket.gettime() - start) * 1e3
  if not ok then failures[#failures + 1] = "process: lua5.4 -e " .. chunk .. " failed" end
  return ms
end

-----------------------------------------------------------------------------------------
-- The header: what ran where, and how busy the machine was.

local first_line = driver.first_line

local cpu = driver.cpu_model()
-- The module is built from the working tree, which other work may have changed since HEAD.
local root = quote(here .. "/../..")
local commit = first_line("git -C " .. root .. " rev-parse --short HEAD")
local dirty = first_line("git -C " .. root .. " status --porcelain -- src hocon | head -n 1") ~= "?"

print("DarkSideSync for .NET: native module benchmark (darksidesync.so in stock lua5.4)")
print(("command : benchmarks/native/run.sh%s"):format(
  (quick and " --quick" or "") .. (option("--repetitions") and (" --repetitions " .. repetitions) or "")))
print(("machine : %s cores (%s), %s"):format(first_line("nproc"), cpu, first_line("uname -sr")))
print(("lua     : %s; module %s/darksidesync.so"):format(first_line("lua5.4 -v"), module_dir))
print(("source  : commit %s%s"):format(commit, dirty and " + uncommitted changes in src/ or hocon/" or ""))
print(("load    : %s (uptime before the run; the figures assume an idle machine)"):format(first_line("uptime")))
print(("method  : one fresh lua5.4 per run, %d runs per row, median shown (min..max beside it);"):format(repetitions))
print("          non-blocking and UDP runs do a 10% warm-up in the same process first")
print(("          non-blocking: %d items (1 producer), %d x 4; blocking: %d round trips (1), %d x 4;")
  :format(NB_ITEMS_1, NB_ITEMS_4, RT_1, RT_4))
print(("          UDP loop: %d x 4 items; load: %d processes; one-thread costs: %d items;")
  :format(UDP_ITEMS_4, LOAD_SAMPLES, COST_ITEMS))
print(("          deliver on pthreads, nobody draining: %d items (1), %d x 4"):format(DELIVER_1, DELIVER_4))
print("          poll and dispatch rows alternate; 'vs poll' is the median of their ratios per repetition")
if quick then print("          --quick: a smoke run; the figures are not meaningful") end
print()

local wall = socket.gettime()

-- The machine's speed first and last, so a run that straddles a change shows it.
local CAL_N = 20000000 // scale
local calibration = repeat_child(1, "calibration", nil, "calibrate.lua", CAL_N)

-----------------------------------------------------------------------------------------
-- Measurements.

local nb1, nbd1, nb1_ratio = repeat_pair(repetitions,
  { "non-blocking, 1 producer, poll", "poll_loop.lua", 1, NB_ITEMS_1, "poll" },
  { "non-blocking, 1 producer, dispatch", "poll_loop.lua", 1, NB_ITEMS_1, "dispatch" }, "items_per_s")
local nb4, nbd4, nb4_ratio = repeat_pair(repetitions,
  { "non-blocking, 4 producers, poll", "poll_loop.lua", 4, NB_ITEMS_4, "poll" },
  { "non-blocking, 4 producers, dispatch", "poll_loop.lua", 4, NB_ITEMS_4, "dispatch" }, "items_per_s")
local rt1 = repeat_child(repetitions, "blocking, 1 producer", nil, "blocking_loop.lua", 1, RT_1)
local rt4 = repeat_child(repetitions, "blocking, 4 producers", nil, "blocking_loop.lua", 4, RT_4)
local udp_each = repeat_child(repetitions, "UDP loop, per-delivery", nil, "udp_loop.lua", 4, UDP_ITEMS_4)
local udp_coal = repeat_child(repetitions, "UDP loop, coalesced", COALESCED, "udp_loop.lua", 4, UDP_ITEMS_4)
-- drain_cost.lua alternates inside each process; the order flips between processes.
local cost = {}
for i = 1, repetitions do
  progress(("cost per item, one thread (%d/%d)"):format(i, repetitions))
  cost[#cost + 1] = child("cost per item, one thread", nil, "drain_cost.lua", COST_ITEMS,
                          i % 2 == 1 and "poll-first" or "dispatch-first")
end
local cost_ratio = {}
for _, r in ipairs(cost) do cost_ratio[#cost_ratio + 1] = r.dispatch_ns / r.poll_ns end
local dc1 = repeat_child(repetitions, "deliver on 1 pthread, nobody draining", nil, "deliver_cost.lua", 1, DELIVER_1)
local dc4 = repeat_child(repetitions, "deliver on 4 pthreads, nobody draining", nil, "deliver_cost.lua", 4, DELIVER_4)

-- Load: one unrecorded process first, so the page cache holds the 17 MB .so for all of them.
child("load (warm-up)", nil, "load.lua")
local loads = repeat_child(LOAD_SAMPLES, "load: require time", nil, "load.lua")
local proc_module, proc_bare = {}, {}
for i = 1, LOAD_SAMPLES do
  -- Interleaved, so a burst of load on the machine hits both variants alike.
  progress(("load: whole process (%d/%d)"):format(i, LOAD_SAMPLES))
  proc_module[#proc_module + 1] = process_ms('require "darksidesync"')
  proc_bare[#proc_bare + 1] = process_ms("")
end
local proc_extra = {}
for i = 1, #proc_module do proc_extra[i] = proc_module[i] - proc_bare[i] end

for _, r in ipairs(repeat_child(1, "calibration", nil, "calibrate.lua", CAL_N)) do calibration[#calibration + 1] = r end
local mem_module = repeat_child(repetitions, "memory, module", nil, "memory.lua", "module")
local mem_bare = repeat_child(repetitions, "memory, bare", nil, "memory.lua", "bare")
runner.done()

-----------------------------------------------------------------------------------------
-- The table.

local rows = {}
-- pass(x) returns true ("ok"), false ("MISS") or a verdict of its own; ratios (optional):
-- this row's figure over the poll row's, per repetition, shown as their median.
local function row(name, v, unit, scale_by, fmt, original, target, pass, ratios)
  local m = median(v)
  local shown, spread, verdict = "n/a", "", "FAILED"
  if m then
    shown = (fmt .. " %s"):format(m * scale_by, unit)
    local lo, hi = range(v)
    spread = (fmt .. ".." .. fmt):format(lo * scale_by, hi * scale_by)
    local p = pass and pass(m * scale_by)
    verdict = pass == nil and "" or (p == true and "ok" or p == false and "MISS" or p)
  end
  local ratio = ratios and median(ratios) and ("x%.2f"):format(median(ratios)) or ""
  rows[#rows + 1] = { name, shown, spread, ratio, original or "-", target or "-", verdict }
end
local function at_least(t) return function(x) return x >= t end end
local function at_most(t) return function(x) return x <= t end end
local function below(t) return function(x) return x < t end end
-- issue 8's dispatch loop: the stretch, else the floor (2x the original's poll loop).
local function stretch(goal, floor) return function(x) return x >= goal or (x >= floor and "floor") end end

local M = 1e-6
row("Machine: plain Lua, x = x + i per iteration", values(calibration, "loop_ns"), "ns", 1, "%.1f", nil, nil, nil)
row("Machine: plain Lua, f(i) per iteration", values(calibration, "call_ns"), "ns", 1, "%.1f", nil, nil, nil)
-- Original C DSS, issue 8's table (2026-11, this machine, 3 rounds, poll loop): 4 producers
-- 2.72-2.79 M/s, poll() + callback 172-179 ns per item, one C deliver 98-106 ns. The 1-producer
-- figure is issue 3's (1.85 M/s).
local ORIG_4P, ORIG_POLL_NS, ORIG_DELIVER_NS = "2.72..2.79 M/s", "172..179 ns", "98..106 ns"
local FLOOR_4P = 2 * 2.79
row("Non-blocking, 1 producer, poll loop", values(nb1, "items_per_s"), "M/s", M, "%.2f", "1.85 M/s", ">= 3.70 M/s", at_least(3.70))
row("Non-blocking, 1 producer, dispatch loop", values(nbd1, "items_per_s"), "M/s", M, "%.2f", "1.85 M/s", ">= 3.70 M/s", at_least(3.70), nb1_ratio)
row("Non-blocking, 4 producers, poll loop", values(nb4, "items_per_s"), "M/s", M, "%.2f", ORIG_4P, (">= %.2f M/s"):format(FLOOR_4P), at_least(FLOOR_4P))
row("Non-blocking, 4 producers, dispatch loop", values(nbd4, "items_per_s"), "M/s", M, "%.2f", ORIG_4P,
    (">= 10 M/s (floor %.2f)"):format(FLOOR_4P), stretch(10, FLOOR_4P), nb4_ratio)
row("Lua thread per item, pre-filled: poll + cb", values(cost, "poll_ns"), "ns", 1, "%.0f", ORIG_POLL_NS, nil, nil)
row("Lua thread per item, pre-filled: dispatch", values(cost, "dispatch_ns"), "ns", 1, "%.0f", ORIG_POLL_NS, "<= 50 ns", at_most(50), cost_ratio)
row("Producer: one C deliver, Lua thread", values(cost, "deliver_ns"), "ns", 1, "%.0f", ORIG_DELIVER_NS, "<= 50 ns", at_most(50))
row("Producer: one C deliver, 1 pthread", values(dc1, "wall_ns_per_item"), "ns", 1, "%.0f", nil, "<= 50 ns", at_most(50))
row("Blocking round trip, 1 producer, p50", values(rt1, "p50_us"), "us", 1, "%.1f", "7.8 us", "<= 7.8 us", at_most(7.8))
row("Blocking round trip, 1 producer, p99", values(rt1, "p99_us"), "us", 1, "%.1f", "21 us", "<= 21 us", at_most(21))
row("Blocking round trip, 4 producers, p50", values(rt4, "p50_us"), "us", 1, "%.1f", nil, nil, nil)
row("Blocking round trip, 4 producers, p99", values(rt4, "p99_us"), "us", 1, "%.1f", "141 us", "<= 141 us", at_most(141))
row("UDP loop, 4 producers, per-delivery", values(udp_each, "items_per_s"), "M/s", M, "%.2f", "0.227 M/s", ">= 2 M/s", at_least(2))
row("UDP loop, 4 producers, coalesced", values(udp_coal, "items_per_s"), "M/s", M, "%.2f", "0.227 M/s", ">= 2 M/s", at_least(2))
-- Stranded: the worst run counts, not the median; one stranded item is a failure.
local function worst_row(name, runs)
  local v = values(runs, "stranded")
  local worst = #v > 0 and math.max(table.unpack(v)) or nil
  rows[#rows + 1] = { name, worst and (("%d items"):format(worst)) or "n/a", "max of runs", "", "items stranded",
                      "0", worst and (worst == 0 and "ok" or "MISS") or "FAILED" }
end
worst_row("UDP loop, per-delivery: stranded", udp_each)
worst_row("UDP loop, coalesced: stranded", udp_coal)
row('Load: require "darksidesync"', values(loads, "require_ms"), "ms", 1, "%.1f", nil, "< 20 ms", below(20))
row("Load: whole process, module minus bare", proc_extra, "ms", 1, "%.1f", nil, "< 20 ms", below(20))
local MB = 1 / 1024
local mem_loaded = {}
for i, r in ipairs(mem_module) do mem_loaded[i] = r.loaded_kb - r.start_kb end
row("Memory: RSS after require minus before", mem_loaded, "MB", MB, "%.1f", "0 MB", "< 20 MB", below(20))
local mem_idle = {}
local bare_idle = median(values(mem_bare, "idle_kb"))
for i, r in ipairs(mem_module) do mem_idle[i] = bare_idle and (r.idle_kb - bare_idle) or nil end
row("Memory: idle RSS, module minus bare", mem_idle, "MB", MB, "%.1f", "0 MB", "< 20 MB", below(20))

local header = { "measurement", "median", "min..max", "vs poll", "original C DSS (2026-11, this machine)", "target", "" }
driver.print_table(header, rows)
print()

-----------------------------------------------------------------------------------------
-- Diagnostics: where the figures come from.

local function med(runs, key) return median(values(runs, key)) or 0 / 0 end
-- Runs that ended on silence or the time limit before every callback ran.
local function incomplete(runs)
  local n = 0
  for _, r in ipairs(runs) do if r.complete ~= 1 then n = n + 1 end end
  return n
end
print("Diagnostics (medians of the runs):")
print(("  non-blocking: empty polls per run %.0f (1 producer), %.0f (4): the Lua loop outran the producers that often")
  :format(med(nb1, "empty_polls"), med(nb4, "empty_polls")))
print(("                the Lua thread got %.0f%% of a core (1 producer), %.0f%% (4), and spent %.0f / %.0f ns of CPU per item")
  :format(100 * med(nb1, "lua_cpu_share"), 100 * med(nb4, "lua_cpu_share"), med(nb1, "lua_ns_per_item"), med(nb4, "lua_ns_per_item")))
print(("  dispatch    : empty dispatches per run %.0f (1 producer), %.0f (4); %.0f / %.0f items per dispatch() that found some")
  :format(med(nbd1, "empty_polls"), med(nbd4, "empty_polls"), med(nbd1, "items_per_dispatch"), med(nbd4, "items_per_dispatch")))
print(("                the Lua thread got %.0f%% of a core (1 producer), %.0f%% (4), and spent %.0f / %.0f ns of CPU per item")
  :format(100 * med(nbd1, "lua_cpu_share"), 100 * med(nbd4, "lua_cpu_share"), med(nbd1, "lua_ns_per_item"), med(nbd4, "lua_ns_per_item")))
local poll_ns, deliver_ns, dispatch_ns = med(cost, "poll_ns"), med(cost, "deliver_ns"), med(cost, "dispatch_ns")
print(("  one thread, nothing to contend with (drain_cost.lua, %d items): poll() + callback %.0f ns per item")
  :format(COST_ITEMS, poll_ns))
print(("                (ceiling %.2f M/s for this loop), of which the engine's poll() without pushes %.0f ns;")
  :format(1e3 / poll_ns, med(cost, "poll_bare_ns")))
print(("                deliver() from one thread %.0f ns per item. With a core each the loop is the limit;")
  :format(deliver_ns))
print(("                sharing one core, producer and loop add up: 1e9 / (%.0f + %.0f) = %.2f M/s")
  :format(deliver_ns, poll_ns, 1e3 / (deliver_ns + poll_ns)))
print(("                dispatch() draining the same queue %.0f ns per item (ceiling %.2f M/s), of which with a decode")
  :format(dispatch_ns, 1e3 / dispatch_ns))
print(("                that pushes nothing (no callback called) %.0f ns; with dispatch, sharing one core: 1e9 / (%.0f + %.0f) = %.2f M/s")
  :format(med(cost, "dispatch_bare_ns"), deliver_ns, dispatch_ns, 1e3 / (deliver_ns + dispatch_ns)))
print(("  deliver on pthreads, nobody draining: 1 thread %.2f M/s = %.0f ns per deliver (CPU of the process %.0f ns per item);")
  :format(med(dc1, "per_s") * M, med(dc1, "wall_ns_per_item"), med(dc1, "cpu_ns_per_item")))
print(("                4 threads %.2f M/s together, %.0f ns of CPU per deliver (2 cores shared by 4 threads)")
  :format(med(dc4, "per_s") * M, med(dc4, "cpu_ns_per_item")))
print(("  blocking 1p : %.0f round trips/s, p90 %.1f us, mean %.1f us, worst %.0f us")
  :format(med(rt1, "per_s"), med(rt1, "p90_us"), med(rt1, "mean_us"), med(rt1, "max_us")))
print(("  blocking 4p : %.0f round trips/s, p90 %.1f us, mean %.1f us, worst %.0f us")
  :format(med(rt4, "per_s"), med(rt4, "p90_us"), med(rt4, "mean_us"), med(rt4, "max_us")))
for _, u in ipairs { { "per-delivery", udp_each }, { "coalesced", udp_coal } } do
  local name, runs = u[1], u[2]
  local got, lost = med(runs, "datagrams_received"), med(runs, "datagrams_dropped")
  local sent = got + lost
  print(("  UDP %-12s: datagrams sent %.0f = received %.0f + dropped by the socket %.0f (%.1f%%); send failures %.0f;")
    :format(name, sent, got, lost, sent > 0 and 100 * lost / sent or 0, med(runs, "send_failed")))
  print(("                    %.0f wake-ups (%.0f found the queue empty), %.0f items per wake-up; incomplete runs %d of %d")
    :format(med(runs, "wakeups"), med(runs, "empty_wakeups"), med(runs, "received_items") / math.max(1, med(runs, "wakeups")),
            incomplete(runs), #runs))
  local sys_s = med(runs, "cpu_sys_s")
  print(("                    CPU per run (all threads, to the end of the quiet period): user %.2f s, system %.2f s (%.2f us of system CPU per item)")
    :format(med(runs, "cpu_user_s"), sys_s, sys_s * 1e6 / math.max(1, med(runs, "items"))))
end
print(("  load        : whole process %.1f ms with the module, %.1f ms bare (through /bin/sh)")
  :format(median(proc_module) or 0 / 0, median(proc_bare) or 0 / 0))
print(("  memory      : idle RSS %.1f MB with the module (anonymous %.1f, file-backed %.1f), bare %.1f MB (%.1f, %.1f);")
  :format(med(mem_module, "idle_kb") * MB, med(mem_module, "anon_kb") * MB, med(mem_module, "file_kb") * MB,
          (bare_idle or 0 / 0) * MB, med(mem_bare, "anon_kb") * MB, med(mem_bare, "file_kb") * MB))
print(("                of it darksidesync.so's own image %.1f MB and OpenSSL (libssl, libcrypto) %.1f MB,")
  :format(med(mem_module, "image_kb") * MB, med(mem_module, "openssl_kb") * MB))
print("                file-backed pages are clean and shared with every other process mapping the same file")
print()
print(("load    : %s (uptime after the run)"):format(first_line("uptime")))
print(("total run time: %.1f s (measurements only)"):format(socket.gettime() - wall))

if #failures > 0 then
  print()
  print("FAILED runs:")
  for _, f in ipairs(failures) do print("  " .. f) end
  os.exit(1)
end
