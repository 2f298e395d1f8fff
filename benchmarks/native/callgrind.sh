#!/usr/bin/env bash
# Instructions per item under callgrind: where a dispatch() item's time goes.
#   benchmarks/native/callgrind.sh [items]      (default 200000; about a minute)
# Runs cg_items.lua in each mode under `valgrind --tool=callgrind` (the module and
# dss_producer.so as run.sh built them) and prints, per item, the difference of whole-process
# instruction counts between modes (deliver - base, poll - deliver, dispatch - deliver,
# dispatch_bare - deliver) and the split of a dispatch() item by inclusive cost of functions,
# also differences between modes: dss_producer's decode (of which free() of its pData), the
# callback in the Lua VM (lua_callk, which dispatch's C loop calls it through), and the rest:
# DSS's engine (the C loop, take/settle in C#, their reverse P/Invoke transitions, the queue).
# Needs valgrind; run run.sh (or --quick) once first so the builds exist.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/artifacts/benchmarks/native"
MODULE="$OUT/module"
UTILITIES="$OUT/c"
ITEMS="${1:-200000}"
[[ "$ITEMS" =~ ^[1-9][0-9]*$ ]] || { echo "callgrind.sh: items must be a positive integer" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind not found" >&2; exit 1; }
[ -f "$MODULE/darksidesync.so" ] && [ -f "$UTILITIES/dss_producer.so" ] ||
  { echo "callgrind.sh: run benchmarks/native/run.sh --quick first (it builds the module and dss_producer)" >&2; exit 1; }

CG="$OUT/callgrind"
mkdir -p "$CG"
export LUA_CPATH="$MODULE/?.so;$UTILITIES/?.so;;" LUA_PATH="$HERE/?.lua;$MODULE/?.lua;;"

declare -A TOTAL
for mode in base deliver poll dispatch dispatch_bare; do
  echo "callgrind: $mode ($ITEMS items) ..." >&2
  timeout 600 valgrind --tool=callgrind --callgrind-out-file="$CG/$mode.out" \
    lua5.4 "$HERE/cg_items.lua" "$mode" "$ITEMS" >/dev/null 2>"$CG/$mode.log" ||
    { tail -n 20 "$CG/$mode.log" >&2; exit 1; }
  TOTAL[$mode]="$(sed -n 's/^summary: *//p; s/^totals: *//p' "$CG/$mode.out" | head -n 1)"
done

# Inclusive instructions of the function whose annotate line matches $2, in file $1 (0 if absent).
inclusive() {
  callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
    awk -v pat="$2" '$0 ~ pat && $0 !~ /=>/ { gsub(",", "", $1); print $1; found = 1; exit } END { if (!found) print 0 }'
}
per_item() { awk -v a="$1" -v b="$2" -v n="$ITEMS" 'BEGIN { printf "%.0f", (b - a) / n }'; }

deliver=$(per_item "${TOTAL[base]}" "${TOTAL[deliver]}")
poll=$(per_item "${TOTAL[deliver]}" "${TOTAL[poll]}")
dispatch=$(per_item "${TOTAL[deliver]}" "${TOTAL[dispatch]}")
bare=$(per_item "${TOTAL[deliver]}" "${TOTAL[dispatch_bare]}")
decode=$(per_item "$(inclusive "$CG/deliver.out" ':producer_decode \[')" "$(inclusive "$CG/dispatch.out" ':producer_decode \[')")
freed=$(per_item "$(inclusive "$CG/deliver.out" 'malloc.c:free \[')" "$(inclusive "$CG/dispatch.out" 'malloc.c:free \[')")
callk=$(per_item "$(inclusive "$CG/deliver.out" ':lua_callk \[')" "$(inclusive "$CG/dispatch.out" ':lua_callk \[')")
engine=$((dispatch - decode - callk))

echo "callgrind, $ITEMS items from the Lua thread (u:deliver), pre-filled queue; instructions per item:"
echo "  u:deliver (dss_producer: malloc, its mutex; DSS's deliver)   $deliver"
echo "  poll() + cb(table.unpack(args)) loop                         $poll"
echo "  dispatch() loop, callback function(pid, seq) n = n + 1 end   $dispatch"
echo "    the callback in the Lua VM (lua_callk, inclusive)          $callk"
echo "    dss_producer's decode (inclusive)                          $decode"
echo "      of which free() of its pData                             $freed"
echo "    DSS's engine (the rest: C loop, take/settle, transitions)  $engine"
echo "  dispatch(), decode pushes nothing (no callback)               $bare"
echo "(raw files: ${CG#"$ROOT"/}/*.out; callgrind_annotate --inclusive=yes FILE)"
