-- startup_order.lua: ILC's order file (one symbol name a line) for darksidesync.so, from
-- callgrind profiles of lua5.4 processes that loaded the module.
--   lua5.4 startup_order.lua NM_OUTPUT CALLGRIND_OUT MAPS [CALLGRIND_OUT MAPS ...] > startup.order
-- NM_OUTPUT:     `nm -S -n` of the module's symbol file (darksidesync.so.dbg).
-- CALLGRIND_OUT: `valgrind --tool=callgrind --dump-instr=yes` of one process.
-- MAPS:          the module's lines of /proc/self/maps in that process (where it was loaded:
--                callgrind gives part of the module's code as absolute addresses of an object
--                it calls "???").
-- The functions the first profile ran come first, then those only the second ran, and so on.
-- Used by scripts/startup-order.sh, which says why.
local nm_path = arg[1]
assert(nm_path and #arg >= 3 and #arg % 2 == 1,
  "usage: startup_order.lua NM_OUTPUT CALLGRIND_OUT MAPS [CALLGRIND_OUT MAPS ...]")

-- Function symbols (nm -S -n: "ADDR SIZE TYPE NAME", sorted by address).
local symbols = {}
for line in io.lines(nm_path) do
  local addr, size, kind, name = line:match("^(%x+) (%x+) (%a) (%S+)$")
  if addr and (kind == "t" or kind == "T") then
    symbols[#symbols + 1] = { start = tonumber(addr, 16), stop = tonumber(addr, 16) + tonumber(size, 16), name = name }
  end
end

local function module_range(maps_path)
  local base, limit
  for line in io.lines(maps_path) do
    local lo, hi = line:match("^(%x+)%-(%x+)")
    if lo then
      lo, hi = tonumber(lo, 16), tonumber(hi, 16)
      base, limit = math.min(base or lo, lo), math.max(limit or hi, hi)
    end
  end
  return assert(base, "no mapping in " .. maps_path), limit
end

-- Executed offsets in the module, sorted. Callgrind's position lines: "0xADDR ...", "+N ...",
-- "-N ...", "* ..." (same), each relative to the one before; ob=/cob= name objects by id.
local function executed_offsets(cg_path, base, limit)
  local names, current, last, executed = {}, nil, 0, {}
  for line in io.lines(cg_path) do
    local kind, id, name = line:match("^(c?ob)=%((%d+)%)%s*(.*)$")
    if kind then
      if name ~= "" then names[id] = name end
      if kind == "ob" then current = names[id] end
    elseif not line:match("^%a+[=:]") and not line:match("^#") then
      local token = line:match("^(%S+)")
      local moved = true
      if token == nil then moved = false
      elseif token:match("^0x%x+$") then last = tonumber(token:sub(3), 16)
      elseif token:match("^%+%d+$") then last = last + tonumber(token:sub(2))
      elseif token:match("^%-%d+$") then last = last - tonumber(token:sub(2))
      elseif token ~= "*" then moved = false end
      if moved and current then
        if current:match("darksidesync%.so$") then
          executed[#executed + 1] = last
        elseif current == "???" and last >= base and last < limit then
          executed[#executed + 1] = last - base
        end
      end
    end
  end
  table.sort(executed)
  return executed
end

-- Symbols the compiler did not make (the runtime's C++) are written too; ILC ignores names
-- it has no method for.
local out, seen = {}, {}
for p = 2, #arg, 2 do
  local executed = executed_offsets(arg[p], module_range(arg[p + 1]))
  local before, i = #out, 1
  for _, a in ipairs(executed) do -- both lists are sorted: one pass
    while symbols[i] and symbols[i].stop <= a do i = i + 1 end
    local s = symbols[i]
    if s and s.start <= a and not seen[s.name] then
      seen[s.name] = true
      out[#out + 1] = s.name
    end
  end
  io.stderr:write(("startup_order.lua: %s: %d functions more\n"):format(arg[p], #out - before))
end
io.stdout:write(table.concat(out, "\n"), "\n")
