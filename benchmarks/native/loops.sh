#!/usr/bin/env bash
# The loop-integration benchmark: 4 pthreads x 250,000 deliveries through dss.luv, dss.cqueues,
# socket.select on getfd() and Copas, beside the UDP wake-up loops (per-delivery, coalesced),
# then a consumer that keeps up and one that falls behind with and without getfd() armed,
# and the eventfd writes/reads per process under strace.
#   benchmarks/native/loops.sh [--quick] [--repetitions N] [--module DIR] [--no-strace]
# Builds like run.sh (the module into artifacts/benchmarks/native/module unless it is newer
# than its sources, or --module DIR as is; dss_producer.so), then runs loops.lua's driver.
# Needs what run.sh needs, and lua-luv, lua-cqueues, lua-copas; strace for the syscall counts.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/artifacts/benchmarks/native"
MODULE="$OUT/module"

BUILD_ARGS=()
DRIVER_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) DRIVER_ARGS+=(--quick); shift ;;
    --no-strace) DRIVER_ARGS+=(--no-strace); shift ;;
    --repetitions)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "loops.sh: --repetitions needs a positive integer" >&2; exit 2; }
      DRIVER_ARGS+=(--repetitions "$2"); shift 2 ;;
    --module)
      [ -f "${2:-}/darksidesync.so" ] || { echo "loops.sh: no darksidesync.so in '${2:-}'" >&2; exit 2; }
      MODULE="$(cd "$2" && pwd)"; BUILD_ARGS+=(--module "$MODULE"); shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "loops.sh: unknown option '$1' (--quick, --repetitions N, --module DIR, --no-strace)" >&2; exit 2 ;;
  esac
done

for module in luv cqueues; do
  lua5.4 -e "require '$module'" 2>/dev/null || { echo "loops.sh: $module missing for lua5.4 (apt-get install lua-$module)" >&2; exit 1; }
done
[ -f /usr/share/lua/5.2/copas.lua ] || lua5.4 -e 'require "copas"' 2>/dev/null ||
  { echo "loops.sh: Copas missing (apt-get install lua-copas)" >&2; exit 1; }
[ -f "$MODULE/dss/luv.lua" ] || [ ${#BUILD_ARGS[@]} -eq 0 ] ||
  { echo "loops.sh: no dss/luv.lua beside $MODULE/darksidesync.so (publish src/Dss.Native again)" >&2; exit 2; }

"$HERE/run.sh" --build-only "${BUILD_ARGS[@]}"
exec lua5.4 "$HERE/loops.lua" run --module "$MODULE" --utilities "$OUT/c" "${DRIVER_ARGS[@]}"
