#!/usr/bin/env bash
# The native benchmark: darksidesync.so in stock lua5.4, driven by the dss_producer C utility.
#   benchmarks/native/run.sh [--quick] [--repetitions N] [--module DIR] [--build-only]
# Publishes the module (Release) into artifacts/benchmarks/native/module unless the copy
# there is newer than every source it is built from (or --module DIR names one to use as is),
# builds dss_producer.so into artifacts/benchmarks/native/c, then runs run.lua, which starts
# one fresh lua5.4 per measurement and repetition and prints the medians. --build-only stops
# after the builds (loops.sh uses it).
# Needs: the .NET SDK, clang (NativeAOT link), gcc, make, lua5.4, liblua5.4-dev, lua-socket.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/artifacts/benchmarks/native"
MODULE="$OUT/module"
UTILITIES="$OUT/c"

DRIVER_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) DRIVER_ARGS+=(--quick); shift ;;
    --repetitions)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --repetitions needs a positive integer" >&2; exit 2; }
      DRIVER_ARGS+=(--repetitions "$2"); shift 2 ;;
    --module)
      [ -f "${2:-}/darksidesync.so" ] || { echo "run.sh: no darksidesync.so in '${2:-}'" >&2; exit 2; }
      MODULE="$(cd "$2" && pwd)"; PREBUILT=1; shift 2 ;;
    --build-only) BUILD_ONLY=1; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (--quick, --repetitions N, --module DIR, --build-only)" >&2; exit 2 ;;
  esac
done

SCRIPT=run.sh
. "$HERE/build.sh"
check_tools
mkdir -p "$OUT"
if [ -z "${PREBUILT:-}" ]; then publish_module "$MODULE"; fi
build_producer "$UTILITIES"

[ -n "${BUILD_ONLY:-}" ] && exit 0
[ -t 2 ] && DRIVER_ARGS+=(--progress)
exec lua5.4 "$HERE/run.lua" --module "$MODULE" --utilities "$UTILITIES" "${DRIVER_ARGS[@]}"
