#!/usr/bin/env bash
# The HTTP benchmark of the price service (not a timed test; loopback only, bounded):
# wrk -t2 -c16 on GET /price?item=apple&qty=3 for a Lua pool of 1 and of 2 states, and in the
# same run, alternating with it, the same endpoint answered in C# (/price-csharp, the ceiling)
# and by a KeraLua state behind a lock on the request thread (/price-lock, the baseline).
#
#   benchmarks/http/run.sh [--duration 10s] [--rounds 3] [--port 5090] [--sizes "1 2"]
#
# Prints one markdown table: median req/s, p50 and p99 over the rounds (min..max of req/s),
# and each pool's req/s as a share of the ceiling measured beside it. Needs wrk (Debian: wrk).
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=10s rounds=3 port=5090 sizes="1 2"
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    *) echo "unknown option: $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build -c Release benchmarks/http/Dss.Http.Benchmarks -v q -nologo >/dev/null
dll=benchmarks/http/Dss.Http.Benchmarks/bin/Release/net10.0/Dss.Http.Benchmarks.dll
url="http://127.0.0.1:$port"
out=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill -TERM "$server" 2>/dev/null; rm -rf "$out"' EXIT

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) before;" \
     "wrk -t2 -c16 -d$duration, $rounds rounds, git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

for size in $sizes; do
  dotnet "$dll" --urls "$url" --DarkSideSync:Pools:pricing:Size="$size" --Logging:LogLevel:Default=Warning \
    >"$out/server-$size.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -fs "$url/price?item=apple&qty=3" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fs "$url/price?item=apple&qty=3" >/dev/null || { cat "$out/server-$size.log" >&2; exit 1; }
  endpoints="price-csharp price-lock price"
  for e in $endpoints; do wrk -t2 -c16 -d3s "$url/$e?item=apple&qty=3" >/dev/null; done   # warm-up (JIT, pools)
  for r in $(seq "$rounds"); do
    for e in $endpoints; do
      wrk -t2 -c16 -d"$duration" --latency "$url/$e?item=apple&qty=3" >"$out/$size-$e-$r.txt"
    done
    endpoints="${endpoints#* } ${endpoints%% *}"   # rotate the order each round
  done
  kill -TERM "$server"; wait "$server" || { echo "the server of pool size $size exited $?" >&2; exit 1; }
  server=
done

python3 - "$out" "$sizes" "$rounds" <<'EOF'
import re, statistics, sys, pathlib
out, sizes, rounds = pathlib.Path(sys.argv[1]), sys.argv[2].split(), int(sys.argv[3])
def ms(text):
    v, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
def read(size, e):
    runs = []
    for r in range(1, rounds + 1):
        t = (out / f"{size}-{e}-{r}.txt").read_text()
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
        if errors: sys.exit(f"{e} (pool {size}) answered {errors.group(1)} non-2xx responses")
        runs.append((float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)),
                     ms(re.search(r"\s50%\s+(\S+)", t).group(1)), ms(re.search(r"\s99%\s+(\S+)", t).group(1))))
    return runs
names = {"price-csharp": "C#, no Lua (ceiling)", "price-lock": "KeraLua state behind a lock", "price": "Lua pool (/price)"}
print("| endpoint | pool size | req/s (min..max) | p50 ms | p99 ms | vs ceiling |")
print("|---|---|---|---|---|---|")
for size in sizes:
    ceiling = statistics.median(r[0] for r in read(size, "price-csharp"))
    for e in ["price-csharp", "price-lock", "price"]:
        runs = read(size, e)
        rps = statistics.median(r[0] for r in runs)
        print(f"| {names[e]} | {size if e == 'price' else '-'} (server run {size}) | {rps:,.0f} ({min(r[0] for r in runs):,.0f}..{max(r[0] for r in runs):,.0f}) "
              f"| {statistics.median(r[1] for r in runs):.2f} | {statistics.median(r[2] for r in runs):.2f} | {rps / ceiling:.0%} |")
EOF
echo "# load $(cut -d' ' -f1-3 /proc/loadavg) after"
