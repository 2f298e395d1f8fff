#!/usr/bin/env bash
# The soak specs (xunit trait Category=Soak, in every test project): a seeded random mix of
# registrations, deliveries, unregisters, stop/start and lua_close for a while, then checks
# that every delivery ended exactly once, no producer is blocked and the process's threads,
# file descriptors and memory are back near their baseline.
#   scripts/soak.sh [seconds]     seconds per soak spec (default 60)
#   DSS_SOAK_SEED=N               replay a seed (default: a fresh one, printed below)
# Extra arguments after the seconds go to dotnet test.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

seconds=${1:-60}
shift || true
if ! [[ $seconds =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "usage: scripts/soak.sh [seconds] [dotnet test options]" >&2
  exit 2
fi
export DSS_SOAK_SECONDS=$seconds
export DSS_SOAK_SEED=${DSS_SOAK_SEED:-$(( (RANDOM << 15 | RANDOM) % 2147483647 ))}
echo "soak: DSS_SOAK_SECONDS=$DSS_SOAK_SECONDS DSS_SOAK_SEED=$DSS_SOAK_SEED (set DSS_SOAK_SEED to replay)"

status=0
dotnet test DarkSideSync.sln --filter Category=Soak --logger "console;verbosity=detailed" "$@" || status=$?
echo "soak: seed used: DSS_SOAK_SEED=$DSS_SOAK_SEED (DSS_SOAK_SECONDS=$DSS_SOAK_SECONDS)"
exit $status
