#!/usr/bin/env bash
# Memory with a bounded queue: 4 pthreads flood darksidesync.setlimit(10000) in stock lua5.4.
#   benchmarks/native/bounded_memory.sh [--module DIR] [seconds [capacity [producers]]]
# Uses the module run.sh publishes (artifacts/benchmarks/native/module; run run.sh once, or
# pass --module DIR, e.g. artifacts/native-tests/module after the native tests), builds the
# test utility bounded_producer.so with gcc into artifacts/benchmarks/native/c, and runs
# bounded_memory.lua (default 10 s). Prints the RSS each second and a RESULT line.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/artifacts/benchmarks/native"
MODULE="$OUT/module"
if [ "${1:-}" = "--module" ]; then
  MODULE="$(cd "${2:?--module needs a folder}" && pwd)"; shift 2
fi
[ -f "$MODULE/darksidesync.so" ] || { echo "bounded_memory.sh: no darksidesync.so in ${MODULE} (run benchmarks/native/run.sh once, or pass --module DIR)" >&2; exit 1; }

mkdir -p "$OUT/c"
gcc -std=c11 -O2 -g -Wall -Wextra -Werror -pthread -shared -fPIC \
  -I /usr/include/lua5.4 -I "$ROOT/src/Dss.Native/include" \
  -o "$OUT/c/bounded_producer.so" "$ROOT/tests/Dss.Native.Tests/c/bounded_producer/bounded_producer.c"

cd "$HERE"
env -u DARKSIDESYNC_CONFIG LUA_CPATH="$MODULE/?.so;$OUT/c/?.so;;" LUA_PATH="$HERE/?.lua;$MODULE/?.lua;;" \
  lua5.4 bounded_memory.lua "$@"
