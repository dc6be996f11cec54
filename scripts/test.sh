#!/usr/bin/env bash
# The README's test command: installs what the build needs, configures, builds and runs every test.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -R neighbor or -L mpi]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh

start=$(date +%s)
cmake --preset release >/dev/null
cmake --build --preset release
built=$(date +%s)
echo "test.sh: configure + build took $((built - start)) s"

# mpirun refuses root without these; harmless otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --preset release -j "$(nproc)" --timeout 600 "$@"
echo "test.sh: tests took $(($(date +%s) - built)) s"
