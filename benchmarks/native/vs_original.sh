#!/usr/bin/env bash
# Same-day, side-by-side: our darksidesync.so against the original C DarkSideSync 1.0.
#   benchmarks/native/vs_original.sh ORIGINAL_DIR [--repetitions N] [--module DIR] [--quick]
#     ORIGINAL_DIR  a clone of the original (git clone https://github.com/Tieske/DarkSideSync),
#                   or its darksidesync/ folder; read only
#     --repetitions N  rounds of every measurement (default 5); --quick: 2 rounds, a tenth
#                   of the work (a smoke run, the figures mean nothing)
#     --module DIR  our darksidesync.so (and dss.lua) to use as is; otherwise published
#                   into artifacts/benchmarks/native/module as run.sh does (only when stale)
# Builds the original for Lua 5.4 (gcc, original/lua54_compat.h force-included; the sources
# its rockspec builds) into artifacts/benchmarks/original/, builds dss_producer.so (compiled
# once against our darksidesync_api.h, loaded by both), then runs vs_original.lua: each
# round runs every variant in a fresh lua5.4 process, original and ours alternating (the
# order flips between rounds), and the table shows medians (min..max) and the median of the
# per-round ratios ours/original. Needs gcc, make, lua5.4, liblua5.4-dev, lua-socket, and
# for publishing the .NET SDK and clang. See README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/artifacts/benchmarks/native"
MODULE="$OUT/module"
UTILITIES="$OUT/c"
ORIGINAL_OUT="$ROOT/artifacts/benchmarks/original"
LUA_INC="${LUA_INC:-/usr/include/lua5.4}"
SCRIPT=vs_original.sh

COMMAND="benchmarks/native/$SCRIPT $*"
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
DRIVER_ARGS=()
ORIGINAL=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) DRIVER_ARGS+=(--quick); shift ;;
    --repetitions)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "$SCRIPT: --repetitions needs a positive integer" >&2; exit 2; }
      DRIVER_ARGS+=(--repetitions "$2"); shift 2 ;;
    --module)
      [ -f "${2:-}/darksidesync.so" ] || { echo "$SCRIPT: no darksidesync.so in '${2:-}'" >&2; exit 2; }
      MODULE="$(cd "$2" && pwd)"; PREBUILT=1; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "$SCRIPT: unknown option '$1' (--repetitions N, --module DIR, --quick)" >&2; exit 2 ;;
    *)
      [ -z "$ORIGINAL" ] || { echo "$SCRIPT: one ORIGINAL_DIR only" >&2; exit 2; }
      ORIGINAL="$1"; shift ;;
  esac
done
[ -n "$ORIGINAL" ] || { usage >&2; exit 2; }
# The clone's root or its darksidesync/ folder.
if [ -f "$ORIGINAL/darksidesync/darksidesync.c" ]; then
  SOURCES="$(cd "$ORIGINAL/darksidesync" && pwd)"
elif [ -f "$ORIGINAL/darksidesync.c" ]; then
  SOURCES="$(cd "$ORIGINAL" && pwd)"
else
  echo "$SCRIPT: no darksidesync.c in '$ORIGINAL' or '$ORIGINAL/darksidesync' (git clone https://github.com/Tieske/DarkSideSync)" >&2
  exit 2
fi
[ -f "$LUA_INC/lua.h" ] || { echo "$SCRIPT: no lua.h in $LUA_INC (apt-get install liblua5.4-dev, or set LUA_INC)" >&2; exit 1; }

. "$HERE/build.sh"
check_tools
mkdir -p "$OUT" "$ORIGINAL_OUT"

# The original, as its rockspec builds it on unix (darksidesync_aux.c is the utilities'
# helper, not part of the module), for Lua 5.4. A second or so: always rebuilt, so the
# .so is the source tree's as it is now.
ORIG_SRC=(darksidesync.c delivery.c locking.c udpsocket.c waithandle.c)
echo "building the original from $SOURCES into ${ORIGINAL_OUT#"$ROOT"/} ..." >&2
if ! (cd "$SOURCES" && gcc -O2 -fPIC -shared -D_GNU_SOURCE -I"$LUA_INC" \
        -include "$HERE/original/lua54_compat.h" "${ORIG_SRC[@]}" \
        -o "$ORIGINAL_OUT/darksidesync.so" -lpthread) >"$ORIGINAL_OUT/build.log" 2>&1; then
  cat "$ORIGINAL_OUT/build.log" >&2
  echo "$SCRIPT: building the original failed" >&2
  exit 1
fi
ORIGINAL_REV="$(git -C "$SOURCES" log -1 --format='%h %cs' 2>/dev/null || echo "not a git checkout")"

if [ -z "${PREBUILT:-}" ]; then publish_module "$MODULE"; fi
build_producer "$UTILITIES"

[ -t 2 ] && DRIVER_ARGS+=(--progress)
exec lua5.4 "$HERE/vs_original.lua" --original "$ORIGINAL_OUT" --original-source "$SOURCES ($ORIGINAL_REV)" \
  --module "$MODULE" --utilities "$UTILITIES" --command "$COMMAND" "${DRIVER_ARGS[@]}"
