#!/usr/bin/env bash
# Regenerates src/Dss.Native/startup.order, the order file the NativeAOT compiler lays out
# darksidesync.so's managed code by (IlcOrderFile in Dss.Native.csproj): the methods that run
# while `require "darksidesync"` loads the module and the process then idles, first and
# together. The kernel maps a shared library's pages 64 KB around each one touched
# (fault-around), so the startup code spread over the whole 2.4 MB of managed code made
# nearly all of it resident; packed, it takes about 1 MB (MEMORY-REPORT.md).
#   scripts/startup-order.sh        (a publish plus a minute under valgrind)
# Run it after changes that move much code in or out of the startup path (a new Akka or .NET,
# a reworked module load): names it lists that no longer exist are ignored, new startup
# methods are laid out with the rest, so a stale file costs only memory, never correctness.
# Needs valgrind and what the native tests need (scripts/install-prerequisites.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "startup-order.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }

OUT=artifacts/startup-order
rm -rf "$OUT/module" "$OUT/symbols"
mkdir -p "$OUT/module" "$OUT/symbols"
echo "publishing darksidesync.so into $OUT/module ..." >&2
dotnet publish src/Dss.Native -c Release -o "$OUT/publish" --artifacts-path "$OUT/build" \
  -p:CopyOutputSymbolsToPublishDirectory=true -nologo >"$OUT/publish.log" 2>&1 ||
  { tail -n 30 "$OUT/publish.log" >&2; exit 1; }
# Valgrind gives up on the module when its symbol file lies beside it: keep them apart.
cp "$OUT/publish/darksidesync.so" "$OUT/module/"
cp "$OUT/publish/darksidesync.so.dbg" "$OUT/symbols/"

cat >"$OUT/profile.lua" <<'LUA'
require "darksidesync"
local maps = assert(io.open(arg[1], "w"))
for line in io.lines("/proc/self/maps") do
  if line:find("darksidesync%.so$") then maps:write(line, "\n") end
end
maps:close()
os.execute("sleep 0.5") -- idle, as benchmarks/native/memory.lua measures it
LUA
echo "profiling a require and 0.5 s of idle under callgrind ..." >&2
LUA_CPATH="$OUT/module/?.so;;" valgrind --tool=callgrind --dump-instr=yes \
  --callgrind-out-file="$OUT/callgrind.out" lua5.4 "$OUT/profile.lua" "$OUT/maps.txt" 2>"$OUT/valgrind.log" ||
  { tail -n 20 "$OUT/valgrind.log" >&2; exit 1; }
nm -S -n "$OUT/symbols/darksidesync.so.dbg" >"$OUT/nm.txt"
lua5.4 scripts/startup_order.lua "$OUT/callgrind.out" "$OUT/maps.txt" "$OUT/nm.txt" >src/Dss.Native/startup.order
echo "wrote src/Dss.Native/startup.order ($(wc -l <src/Dss.Native/startup.order) names)" >&2
