#!/usr/bin/env bash
# The README's test command: installs the prerequisites of the native tests, then runs every
# test of the solution (the native tests publish darksidesync.so and build the C utilities
# themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
scripts/install-prerequisites.sh
dotnet test DarkSideSync.sln "$@"
