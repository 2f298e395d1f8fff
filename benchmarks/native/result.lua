-- result.lua: the one-line protocol between a measurement (a child lua5.4 process) and
-- run.lua. A child prints exactly one line `RESULT key=value key=value ...` on stdout;
-- anything else it prints is passed through as commentary. Numbers only, so the driver
-- never has to guess at quoting.
local M = {}

--- Prints t (string keys, numeric values) as the result line, keys sorted so that two
-- runs of the same script print lines that diff cleanly.
function M.emit(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = { "RESULT" }
  for _, k in ipairs(keys) do
    local v = t[k]
    assert(type(v) == "number", "result " .. k .. " is not a number")
    -- %.17g keeps integers exact and doubles round-trippable.
    parts[#parts + 1] = ("%s=%.17g"):format(k, v)
  end
  io.stdout:write(table.concat(parts, " "), "\n")
  io.stdout:flush()
end

--- Parses a child's whole stdout. Returns the result table (or nil) and the other lines.
function M.parse(output)
  local result, other = nil, {}
  for line in output:gmatch("[^\n]+") do
    if line:sub(1, 7) == "RESULT " then
      result = {}
      for k, v in line:sub(8):gmatch("([%w_]+)=(%S+)") do result[k] = tonumber(v) end
    else
      other[#other + 1] = line
    end
  end
  return result, other
end

return M
