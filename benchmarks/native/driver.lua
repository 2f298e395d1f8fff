-- driver.lua: what run.lua and vs_original.lua share: starting a measurement as a fresh
-- lua5.4 child process, collecting its RESULT line (result.lua), repeating and alternating
-- variants, medians, and printing an aligned table.
local result = require "result"

local M = {}

--- s quoted for /bin/sh.
-- The value after `name` in the command line (arg), true for a flag at the end, nil if absent.
function M.option(name)
  for i = 1, #arg do
    if arg[i] == name then return arg[i + 1] or true end
  end
end

function M.quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local quote = M.quote

--- The first line a shell command prints ("?" when it prints nothing or fails to start).
function M.first_line(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  local line = p and p:read("l") or "?"
  if p then p:close() end
  return line or "?"
end

function M.cpu_model()
  for line in io.lines("/proc/cpuinfo") do
    local m = line:match("^model name%s*:%s*(.+)$")
    if m then return m end
  end
  return "?"
end

--- A runner of child processes. opts: here (the directory of the scripts), timeout (s),
-- progress (write "label (i/n)" lines to a terminal). runner.failures lists what failed.
function M.runner(opts)
  local r = { failures = {} }
  local here, timeout = assert(opts.here), opts.timeout or 120

  function r.progress(what)
    if not opts.progress then return end
    io.stderr:write(("\r%-72s"):format(what))
    io.stderr:flush()
  end

  function r.done()
    if opts.progress then io.stderr:write(("\r%-72s\r"):format("")) end
  end

  --- Runs one child to completion: `env` (assignments for sh), then lua5.4 here/script
  -- with the arguments. Returns its result table, or nil after recording why.
  function r.child(label, env, script, ...)
    local args = { ... }
    for i, a in ipairs(args) do args[i] = quote(a) end
    -- timeout: a child that hangs (a lost wake-up, a deadlock) fails its row, not the whole run.
    local cmd = ("%s timeout %d lua5.4 %s %s"):format(env or "", timeout, quote(here .. "/" .. script),
                                                     table.concat(args, " "))
    local p = assert(io.popen(cmd, "r"))
    local out = p:read("a")
    local ok, how, code = p:close()
    local res, other = result.parse(out)
    for _, line in ipairs(other) do io.stderr:write("\n  ", label, ": ", line) end
    if not ok or not res then
      r.failures[#r.failures + 1] = ("%s: %s %s, command: %s"):format(label, tostring(how), tostring(code), cmd)
      return nil
    end
    return res
  end

  --- Runs every variant once per repetition, `n` repetitions, in the listed order in odd
  -- repetitions and reversed in even ones; variant = { label, env, script, args... }.
  -- Returns one list of results per variant, in the order given: list[i] is repetition
  -- i's result, nil if that run failed (so two lists pair up by index; see ratios).
  function r.alternate(n, variants)
    local lists = {}
    for v = 1, #variants do lists[v] = {} end
    for i = 1, n do
      for k = 1, #variants do
        local v = i % 2 == 1 and k or #variants + 1 - k
        local var = variants[v]
        r.progress(("%s (%d/%d)"):format(var[1], i, n))
        lists[v][i] = r.child(var[1], var[2], table.unpack(var, 3))
      end
    end
    return lists
  end

  return r
end

--- The values of key in the runs 1..n that came back (n: how many were started).
function M.values(runs, key, n)
  local v = {}
  for i = 1, n or #runs do
    local x = runs[i] and runs[i][key]
    if x then v[#v + 1] = x end
  end
  return v
end

--- b[i][kb] / a[i][ka] for every repetition i in 1..n where both came back.
function M.ratios(a, ka, b, kb, n)
  local v = {}
  for i = 1, n do
    local x, y = a[i] and a[i][ka], b[i] and b[i][kb]
    if x and y and x ~= 0 then v[#v + 1] = y / x end
  end
  return v
end

function M.median(v)
  if #v == 0 then return nil end
  local s = { table.unpack(v) }
  table.sort(s)
  local mid = #s // 2
  return #s % 2 == 1 and s[mid + 1] or (s[mid] + s[mid + 1]) / 2
end

function M.range(v)
  if #v == 0 then return nil end
  return math.min(table.unpack(v)), math.max(table.unpack(v))
end

--- Prints rows (lists of strings) under header, columns padded to their widest cell; the
-- first column left-aligned, the others right-aligned.
function M.print_table(header, rows)
  local widths = {}
  for _, r in ipairs({ header, table.unpack(rows) }) do
    for i, cell in ipairs(r) do widths[i] = math.max(widths[i] or 0, #cell) end
  end
  local function line(r)
    local cells = {}
    for i = 1, #header do
      cells[i] = ((i == 1 and "%-" or "%") .. widths[i] .. "s"):format(r[i] or "")
    end
    print((table.concat(cells, "  "):gsub("%s+$", "")))
  end
  line(header)
  for _, r in ipairs(rows) do line(r) end
end

return M
