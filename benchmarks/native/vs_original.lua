-- vs_original.lua: the driver of the same-day comparison with the original C DarkSideSync
-- 1.0. Runs the measurement scripts of run.lua (poll_loop, drain_cost, deliver_cost,
-- blocking_loop) against both modules, each run a fresh lua5.4 process; in every round the
-- variants of a measurement run back to back, the original first in odd rounds and last
-- in even ones. The table: medians over the rounds (min..max), and the median of the
-- per-round ratios ours/original (so both figures of a ratio are seconds apart).
--   lua5.4 vs_original.lua --original DIR --module DIR --utilities DIR
--                          [--original-source TEXT] [--command TEXT] [--repetitions N] [--quick] [--progress]
-- vs_original.sh builds the three DIRs and calls this; see README.md.
local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
package.path = here .. "/?.lua;" .. package.path
local driver = require "driver"
local socket = require "socket"

local option = driver.option

local quick = option("--quick") ~= nil
local repetitions = math.tointeger(tonumber(option("--repetitions") or "")) or (quick and 2 or 5)
local original_dir = assert(option("--original"), "--original DIR (the original's darksidesync.so)")
local module_dir = assert(option("--module"), "--module DIR (darksidesync.so, dss.lua)")
local utilities_dir = assert(option("--utilities"), "--utilities DIR (dss_producer.so)")
local original_source = option("--original-source") or original_dir
assert(repetitions >= 1, "--repetitions must be at least 1")

-- Work per run: run.lua's sizes, so the figures of both drivers compare.
local scale = quick and 10 or 1
local NB_ITEMS_1 = 1000000 // scale         -- non-blocking, 1 producer
local NB_ITEMS_4 = 500000 // scale          -- non-blocking, per producer of 4
local RT_1 = 200000 // scale                -- blocking round trips, 1 producer
local RT_4 = 50000 // scale                 -- blocking round trips, per producer of 4
local COST_ITEMS = 1000000 // scale         -- drain_cost.lua: each half alone
local DELIVER_1 = 1000000 // scale          -- deliver_cost.lua: 1 pthread, nobody draining
local DELIVER_4 = 250000 // scale           -- deliver_cost.lua: per pthread of 4
local CAL_N = 20000000 // scale

-- One environment per module: its darksidesync.so first on the cpath (the original's
-- folder holds nothing else), then dss_producer.so; result.lua from here; ";;" keeps Lua's
-- default paths for LuaSocket.
local quote = driver.quote
local function env(dir)
  return ("LUA_CPATH=%s LUA_PATH=%s"):format(quote(dir .. "/?.so;" .. utilities_dir .. "/?.so;;"),
                                             quote(here .. "/?.lua;" .. dir .. "/?.lua;;"))
end
local ORIG, OURS = env(original_dir), env(module_dir)

local runner = driver.runner{ here = here, timeout = 120, progress = option("--progress") ~= nil }
local failures = runner.failures
local first_line = driver.first_line

-- Which module each environment really loads: the path `require` takes, whether it has
-- dispatch() (DSS 1.1; the original is 1.0), its registry table's Version and API keys,
-- i.e. what a C utility's dss_findapi sees.
local PROBE = [[
local path = package.searchpath("darksidesync", package.cpath)
local d = require "darksidesync"
local t = debug.getregistry()["DSS.DarkSideSync"] or {}
local api = {}
for k in pairs(t) do if k:match("^DSS API") then api[#api + 1] = k end end
table.sort(api)
print(("%s|%s|%s|%s"):format(path, d.dispatch and "dispatch" or "no dispatch", tostring(t.Version), table.concat(api, ", ")))
]]
local function probe(e)
  local line = first_line(("%s lua5.4 -e %s"):format(e, quote(PROBE)))
  local path, dispatch, version, apis = line:match("^(.-)|(.-)|(.-)|(.*)$")
  return { path = path or "?", dispatch = dispatch == "dispatch", version = version or "?", apis = apis or "?", line = line }
end
local po, pu = probe(ORIG), probe(OURS)
if po.dispatch or not pu.dispatch or po.path == pu.path then
  io.stderr:write(("vs_original.lua: the environments do not load the two modules apart:\n  original: %s\n  ours    : %s\n")
    :format(po.line, pu.line))
  os.exit(1)
end

local root = quote(here .. "/../..")
local commit = first_line("git -C " .. root .. " rev-parse --short HEAD")
local dirty = first_line("git -C " .. root .. " status --porcelain -- src hocon | head -n 1") ~= "?"

print("DarkSideSync for .NET vs the original C DarkSideSync 1.0, same run (stock lua5.4, dss_producer)")
print(("command : %s"):format(option("--command") or table.concat(arg, " ", 0)))
print(("date    : %s"):format(os.date("%Y-%m-%d %H:%M:%S %Z")))
print(("machine : %s cores (%s), %s"):format(first_line("nproc"), driver.cpu_model(), first_line("uname -sr")))
print(("lua     : %s"):format(first_line("lua5.4 -v")))
print(("original: %s (Version %s; %s; %s)"):format(po.path, po.version, po.apis, po.dispatch and "dispatch" or "no dispatch()"))
print(("          built from %s"):format(original_source))
print(("ours    : %s (Version %s; %s)"):format(pu.path, pu.version, pu.apis))
print(("          source commit %s%s"):format(commit, dirty and " + uncommitted changes in src/ or hocon/" or ""))
print(("utility : %s/dss_producer.so, one build (our darksidesync_api.h) for both"):format(utilities_dir))
print(("load    : %s (uptime before the run)"):format(first_line("uptime")))
print(("method  : %d rounds; per round, per measurement, every variant once, each a fresh lua5.4,"):format(repetitions))
print("          original first in odd rounds and last in even ones; medians (min..max) over the rounds;")
print("          'ours/orig' is the median of the per-round ratios ours / original")
print(("          non-blocking: %d items (1 producer), %d x 4 (10%% warm-up first); one-thread costs: %d items;")
  :format(NB_ITEMS_1, NB_ITEMS_4, COST_ITEMS))
print(("          deliver on pthreads, nobody draining: %d items (1), %d x 4; blocking: %d round trips (1), %d x 4")
  :format(DELIVER_1, DELIVER_4, RT_1, RT_4))
if quick then print("          --quick: a smoke run; the figures are not meaningful") end
print()

local wall = socket.gettime()
local n = repetitions

-- The machine's speed first and last (no module loaded), as in run.lua.
local calibration = { runner.child("calibration", OURS, "calibrate.lua", CAL_N) }

local nb1 = runner.alternate(n, {
  { "non-blocking, 1 producer, original poll", ORIG, "poll_loop.lua", 1, NB_ITEMS_1, "poll" },
  { "non-blocking, 1 producer, ours poll", OURS, "poll_loop.lua", 1, NB_ITEMS_1, "poll" },
  { "non-blocking, 1 producer, ours dispatch", OURS, "poll_loop.lua", 1, NB_ITEMS_1, "dispatch" } })
local nb4 = runner.alternate(n, {
  { "non-blocking, 4 producers, original poll", ORIG, "poll_loop.lua", 4, NB_ITEMS_4, "poll" },
  { "non-blocking, 4 producers, ours poll", OURS, "poll_loop.lua", 4, NB_ITEMS_4, "poll" },
  { "non-blocking, 4 producers, ours dispatch", OURS, "poll_loop.lua", 4, NB_ITEMS_4, "dispatch" } })
-- poll-only on both: the same phases in the same process layout; ours' dispatch on its own.
local cost = runner.alternate(n, {
  { "cost per item, original poll", ORIG, "drain_cost.lua", COST_ITEMS, "poll-only" },
  { "cost per item, ours poll", OURS, "drain_cost.lua", COST_ITEMS, "poll-only" },
  { "cost per item, ours dispatch", OURS, "drain_cost.lua", COST_ITEMS, "dispatch-only" } })
-- The untimed drain: poll() on the original (it has no dispatch), dispatch() on ours (as run.lua).
local dc1 = runner.alternate(n, {
  { "deliver on 1 pthread, original", ORIG, "deliver_cost.lua", 1, DELIVER_1, "poll" },
  { "deliver on 1 pthread, ours", OURS, "deliver_cost.lua", 1, DELIVER_1, "dispatch" } })
local dc4 = runner.alternate(n, {
  { "deliver on 4 pthreads, original", ORIG, "deliver_cost.lua", 4, DELIVER_4, "poll" },
  { "deliver on 4 pthreads, ours", OURS, "deliver_cost.lua", 4, DELIVER_4, "dispatch" } })
local rt1 = runner.alternate(n, {
  { "blocking, 1 producer, original", ORIG, "blocking_loop.lua", 1, RT_1 },
  { "blocking, 1 producer, ours", OURS, "blocking_loop.lua", 1, RT_1 } })
local rt4 = runner.alternate(n, {
  { "blocking, 4 producers, original", ORIG, "blocking_loop.lua", 4, RT_4 },
  { "blocking, 4 producers, ours", OURS, "blocking_loop.lua", 4, RT_4 } })

calibration[#calibration + 1] = runner.child("calibration", OURS, "calibrate.lua", CAL_N)
runner.done()

-----------------------------------------------------------------------------------------
-- The table.

local values, median, range, ratios = driver.values, driver.median, driver.range, driver.ratios
local rows = {}
local function fmt_value(fmt, x, unit) return (fmt .. " %s"):format(x, unit) end

-- One row: runs[i][key] over the rounds, scaled; vs = the original's runs (same key) for
-- the ratio column; target = { text, pass(ratio) } judged on the median ratio.
local function row(name, runs, key, unit, scale_by, fmt, vs, target)
  local v = values(runs, key, n)
  for i = 1, #v do v[i] = v[i] * scale_by end
  local cells = { name, "n/a", "", "", "", "", "FAILED" }
  local m = median(v)
  if m then
    local lo, hi = range(v)
    cells[2], cells[3] = fmt_value(fmt, m, unit), (fmt .. ".." .. fmt):format(lo, hi)
    cells[7] = ""
  end
  if vs then
    local r = ratios(vs, key, runs, key, n)
    local mr = median(r)
    if mr then
      local lo, hi = range(r)
      cells[4], cells[5] = ("x%.2f"):format(mr), ("%.2f..%.2f"):format(lo, hi)
      if target then
        cells[6] = target[1]
        cells[7] = target[2](mr) and "ok" or "MISS"
      end
    elseif m then
      cells[7] = "FAILED"
    end
  end
  rows[#rows + 1] = cells
end
local function blank() rows[#rows + 1] = {} end
local TWICE = { ">= x2.00", function(r) return r >= 2 end }   -- issue 3, item 6; issue 8's floor
local NO_WORSE = { "<= x1.00", function(r) return r <= 1 end } -- run.lua: the original's figures

local M = 1e-6
row("Machine: plain Lua, x = x + i per iteration", calibration, "loop_ns", "ns", 1, "%.1f")
row("Machine: plain Lua, f(i) per iteration", calibration, "call_ns", "ns", 1, "%.1f")
blank()
for _, nb in ipairs { { "1 producer", nb1 }, { "4 producers", nb4 } } do
  local name, lists = nb[1], nb[2]
  row(("Non-blocking, %s: original, poll loop"):format(name), lists[1], "items_per_s", "M/s", M, "%.2f")
  row(("Non-blocking, %s: ours, poll loop"):format(name), lists[2], "items_per_s", "M/s", M, "%.2f", lists[1], TWICE)
  row(("Non-blocking, %s: ours, dispatch loop"):format(name), lists[3], "items_per_s", "M/s", M, "%.2f", lists[1], TWICE)
end
blank()
-- The dispatch row's ratio is over the original's poll() + callback (it has nothing else).
local function vs_poll(key_ours, key_orig, name)
  local runs = {}
  for i = 1, n do runs[i] = cost[3][i] and { [key_orig] = cost[3][i][key_ours] } end
  row(name, runs, key_orig, "ns", 1, "%.0f", cost[1])
end
row("Lua thread per item, pre-filled: original, poll + cb", cost[1], "poll_ns", "ns", 1, "%.0f")
row("Lua thread per item, pre-filled: ours, poll + cb", cost[2], "poll_ns", "ns", 1, "%.0f", cost[1])
vs_poll("dispatch_ns", "poll_ns", "Lua thread per item, pre-filled: ours, dispatch")
row("  decode pushes nothing: original, poll", cost[1], "poll_bare_ns", "ns", 1, "%.0f")
row("  decode pushes nothing: ours, poll", cost[2], "poll_bare_ns", "ns", 1, "%.0f", cost[1])
vs_poll("dispatch_bare_ns", "poll_bare_ns", "  decode pushes nothing: ours, dispatch")
blank()
row("Producer: one C deliver, Lua thread: original", cost[1], "deliver_ns", "ns", 1, "%.0f")
row("Producer: one C deliver, Lua thread: ours", cost[2], "deliver_ns", "ns", 1, "%.0f", cost[1])
row("Producer: one C deliver, 1 pthread: original", dc1[1], "wall_ns_per_item", "ns", 1, "%.0f")
row("Producer: one C deliver, 1 pthread: ours", dc1[2], "wall_ns_per_item", "ns", 1, "%.0f", dc1[1])
row("Producer: 4 pthreads, CPU per deliver: original", dc4[1], "cpu_ns_per_item", "ns", 1, "%.0f")
row("Producer: 4 pthreads, CPU per deliver: ours", dc4[2], "cpu_ns_per_item", "ns", 1, "%.0f", dc4[1])
blank()
for _, rt in ipairs { { "1 producer", rt1 }, { "4 producers", rt4 } } do
  local name, lists = rt[1], rt[2]
  for _, q in ipairs { "p50", "p99" } do
    row(("Blocking round trip, %s, %s: original"):format(name, q), lists[1], q .. "_us", "us", 1, "%.1f")
    row(("Blocking round trip, %s, %s: ours"):format(name, q), lists[2], q .. "_us", "us", 1, "%.1f", lists[1], NO_WORSE)
  end
end

print("Throughput: ours/orig > 1 is ours faster; costs and latencies: ours/orig < 1 is ours cheaper.")
driver.print_table({ "measurement", "median", "min..max", "ours/orig", "ratio min..max", "target", "" }, rows)
print()

-----------------------------------------------------------------------------------------
-- Diagnostics.

local function med(runs, key) return median(values(runs, key, n)) or 0 / 0 end
print("Diagnostics (medians of the rounds):")
for _, nb in ipairs { { "1 producer ", nb1 }, { "4 producers", nb4 } } do
  local name, lists = nb[1], nb[2]
  for i, variant in ipairs { "original, poll    ", "ours, poll        ", "ours, dispatch    " } do
    print(("  non-blocking %s, %s: Lua thread %3.0f%% of a core, %4.0f ns of its CPU per item, %6.0f empty polls%s")
      :format(name, variant, 100 * med(lists[i], "lua_cpu_share"), med(lists[i], "lua_ns_per_item"), med(lists[i], "empty_polls"),
              i == 3 and (", %.0f items per dispatch()"):format(med(lists[i], "items_per_dispatch")) or ""))
  end
end
print(("  poll() loop ceiling on one thread (1e9 / poll + cb): original %.2f M/s, ours %.2f M/s; dispatch loop %.2f M/s")
  :format(1e3 / med(cost[1], "poll_ns"), 1e3 / med(cost[2], "poll_ns"), 1e3 / med(cost[3], "dispatch_ns")))
print(("  deliver on 4 pthreads, nobody draining: original %.2f M/s, ours %.2f M/s together")
  :format(med(dc4[1], "per_s") * M, med(dc4[2], "per_s") * M))
for _, rt in ipairs { { "1 producer ", rt1 }, { "4 producers", rt4 } } do
  local name, lists = rt[1], rt[2]
  print(("  blocking %s: original %.0f round trips/s, p90 %.1f us, worst %.0f us; ours %.0f/s, p90 %.1f us, worst %.0f us")
    :format(name, med(lists[1], "per_s"), med(lists[1], "p90_us"), med(lists[1], "max_us"),
            med(lists[2], "per_s"), med(lists[2], "p90_us"), med(lists[2], "max_us")))
end
print()
print(("load    : %s (uptime after the run)"):format(first_line("uptime")))
print(("total run time: %.1f s (measurements only)"):format(socket.gettime() - wall))

if #failures > 0 then
  print()
  print("FAILED runs:")
  for _, f in ipairs(failures) do print("  " .. f) end
  os.exit(1)
end
