#!/usr/bin/env bash
# Regenerates src/Dss.Native/startup.order, the order file the NativeAOT compiler lays out
# darksidesync.so's managed code by (IlcOrderFile in Dss.Native.csproj): first and together,
# the methods that run while `require "darksidesync"` loads the module and the process then
# idles; after them, those that polling, dispatching and delivering add. The kernel maps a
# shared library's pages 64 KB around each one touched (fault-around), so the startup code
# spread over the whole 2.4 MB of managed code made nearly all of it resident; packed, it
# takes about 0.8 MB (MEMORY-REPORT.md), and the steady-state paths stay close together.
#   scripts/startup-order.sh        (a publish, then about a minute under valgrind)
# Run it after changes that move much code in or out of those paths (a new Akka or .NET, a
# reworked module load): names it lists that no longer exist are ignored, and methods it
# does not list are laid out after the rest, so a stale file costs memory, never correctness.
# Needs valgrind and what the native tests and benchmarks need (scripts/install-prerequisites.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
command -v valgrind >/dev/null || { echo "startup-order.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }

OUT="$ROOT/artifacts/startup-order"
rm -rf "$OUT/module" "$OUT/symbols" "$OUT/profiles"
mkdir -p "$OUT/module" "$OUT/symbols" "$OUT/profiles"
echo "publishing darksidesync.so into ${OUT#"$ROOT"/}/module ..." >&2
dotnet publish src/Dss.Native -c Release -o "$OUT/publish" --artifacts-path "$OUT/build" \
  -p:CopyOutputSymbolsToPublishDirectory=true -nologo >"$OUT/publish.log" 2>&1 ||
  { tail -n 30 "$OUT/publish.log" >&2; exit 1; }
# Valgrind gives up on the module when its symbol file lies beside it: keep them apart.
cp "$OUT/publish/darksidesync.so" "$OUT/publish/dss.lua" "$OUT/module/"
cp "$OUT/publish/darksidesync.so.dbg" "$OUT/symbols/"
make -s -C samples/c BUILD="$OUT/c" "$OUT/c/dss_producer.so" >"$OUT/make.log" 2>&1 ||
  { cat "$OUT/make.log" >&2; exit 1; }

# profile.lua MAPS_OUT [SCRIPT ARGS...]: loads the module, records where, then runs a
# benchmark script, or idles half a second as benchmarks/native/memory.lua measures it.
cat >"$OUT/profile.lua" <<'LUA'
require "darksidesync"
local maps = assert(io.open(arg[1], "w"))
for line in io.lines("/proc/self/maps") do
  if line:find("darksidesync%.so$") then maps:write(line, "\n") end
end
maps:close()
if arg[2] then
  local script = arg[2]
  arg = table.move(arg, 3, #arg, 1, {})
  dofile(script)
else
  os.execute("sleep 0.5")
end
LUA

profiles=()
profile() { # NAME [SCRIPT ARGS...]
  local name="$1"; shift
  echo "profiling under callgrind: $name ..." >&2
  LUA_CPATH="$OUT/module/?.so;$OUT/c/?.so;;" LUA_PATH="$ROOT/benchmarks/native/?.lua;$OUT/module/?.lua;;" \
    valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file="$OUT/profiles/$name.out" \
    lua5.4 "$OUT/profile.lua" "$OUT/profiles/$name.maps" "$@" >"$OUT/profiles/$name.log" 2>&1 ||
    { tail -n 20 "$OUT/profiles/$name.log" >&2; exit 1; }
  profiles+=("$OUT/profiles/$name.out" "$OUT/profiles/$name.maps")
}
profile startup
profile drain benchmarks/native/drain_cost.lua 20000 poll-first
profile deliver benchmarks/native/deliver_cost.lua 2 20000
profile poll_loop benchmarks/native/poll_loop.lua 2 20000 dispatch

nm -S -n "$OUT/symbols/darksidesync.so.dbg" >"$OUT/nm.txt"
lua5.4 scripts/startup_order.lua "$OUT/nm.txt" "${profiles[@]}" >src/Dss.Native/startup.order
echo "wrote src/Dss.Native/startup.order ($(wc -l <src/Dss.Native/startup.order) names)" >&2
