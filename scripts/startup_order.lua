-- startup_order.lua: the managed methods darksidesync.so runs while it loads and idles, in
-- the format of ILC's order file (one symbol name a line), from a callgrind profile.
--   lua5.4 startup_order.lua CALLGRIND_OUT MAPS NM_OUTPUT > startup.order
-- CALLGRIND_OUT: `valgrind --tool=callgrind --dump-instr=yes` of a lua5.4 that loaded the module.
-- MAPS:          the module's lines of /proc/self/maps in that process (where it was loaded:
--                callgrind gives part of the module's code as absolute addresses of an object
--                it calls "???").
-- NM_OUTPUT:     `nm -S -n` of the module's symbol file (darksidesync.so.dbg).
-- Used by scripts/startup-order.sh, which says why.
local cg_path, maps_path, nm_path = arg[1], arg[2], arg[3]
assert(cg_path and maps_path and nm_path, "usage: startup_order.lua CALLGRIND_OUT MAPS NM_OUTPUT")

local base, limit
for line in io.lines(maps_path) do
  local lo, hi = line:match("^(%x+)%-(%x+)")
  if lo then
    lo, hi = tonumber(lo, 16), tonumber(hi, 16)
    base, limit = math.min(base or lo, lo), math.max(limit or hi, hi)
  end
end
assert(base, "no mapping in " .. maps_path)

-- Executed offsets in the module. Callgrind's position lines: "0xADDR ...", "+N ...",
-- "-N ...", "* ..." (same), relative to the previous one; ob=/cob= name objects by id.
local names, current, last = {}, nil, 0
local executed = {}
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

-- Function symbols (nm -S -n: "ADDR SIZE TYPE NAME", sorted by address).
local symbols = {}
for line in io.lines(nm_path) do
  local addr, size, kind, name = line:match("^(%x+) (%x+) (%a) (%S+)$")
  if addr and (kind == "t" or kind == "T") then
    symbols[#symbols + 1] = { start = tonumber(addr, 16), stop = tonumber(addr, 16) + tonumber(size, 16), name = name }
  end
end

-- Both lists are sorted: one pass. Symbols the compiler did not make (the runtime's C++) are
-- written too; ILC ignores names it has no method for.
local out, seen, i = {}, {}, 1
for _, a in ipairs(executed) do
  while symbols[i] and symbols[i].stop <= a do i = i + 1 end
  local s = symbols[i]
  if s and s.start <= a and not seen[s.name] then
    seen[s.name] = true
    out[#out + 1] = s.name
  end
end
io.stdout:write(table.concat(out, "\n"), "\n")
io.stderr:write(("startup_order.lua: %d functions\n"):format(#out))
