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

for tool in lua5.4 make gcc; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (apt-get install lua5.4 liblua5.4-dev lua-socket gcc make clang)" >&2; exit 1; }
done
lua5.4 -e 'require "socket"' 2>/dev/null || { echo "run.sh: LuaSocket missing for lua5.4 (apt-get install lua-socket)" >&2; exit 1; }

mkdir -p "$OUT"

# The module. A stamp written after a successful publish marks the build; any newer source
# (engine, export layer, HOCON defaults, package versions) means publishing again. The
# stamp, not the .so's own mtime: a no-op publish may leave the .so untouched.
if [ -z "${PREBUILT:-}" ]; then
  STAMP="$MODULE/.published"
  stale=yes
  if [ -f "$STAMP" ] && [ -f "$MODULE/darksidesync.so" ]; then
    newer="$(find "$ROOT/src/Dss.Native" "$ROOT/src/Dss.Actors" "$ROOT/hocon" \
                  "$ROOT/Directory.Build.props" "$ROOT/Directory.Packages.props" \
                  \( -name bin -o -name obj \) -prune -o -type f -newer "$STAMP" -print -quit)"
    [ -z "$newer" ] && stale=
  fi
  if [ -n "$stale" ]; then
    echo "publishing darksidesync.so (Release) into ${MODULE#"$ROOT"/} ..." >&2
    if ! dotnet publish "$ROOT/src/Dss.Native" -c Release -o "$MODULE" >"$OUT/publish.log" 2>&1; then
      tail -n 30 "$OUT/publish.log" >&2
      echo "run.sh: dotnet publish failed (full log: ${OUT#"$ROOT"/}/publish.log)" >&2
      exit 1
    fi
    touch "$STAMP"
  else
    echo "reusing ${MODULE#"$ROOT"/}/darksidesync.so (newer than its sources)" >&2
  fi
fi

# The producer utility; make rebuilds it only when its sources or the API header changed.
if ! make -s -C "$ROOT/samples/c" BUILD="$UTILITIES" "$UTILITIES/dss_producer.so" >"$OUT/make.log" 2>&1; then
  cat "$OUT/make.log" >&2
  echo "run.sh: building dss_producer failed" >&2
  exit 1
fi

[ -n "${BUILD_ONLY:-}" ] && exit 0
[ -t 2 ] && DRIVER_ARGS+=(--progress)
exec lua5.4 "$HERE/run.lua" --module "$MODULE" --utilities "$UTILITIES" "${DRIVER_ARGS[@]}"
