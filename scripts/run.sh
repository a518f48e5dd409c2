#!/usr/bin/env bash
# Builds Bulwark (release) and runs it: scripts/run.sh [bulwark arguments]
# Without arguments it prints the command overview (bulwark --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBULWARK_TESTS=OFF \
  -DBULWARK_BENCHMARKS=OFF > /dev/null
cmake --build build --target bulwark
if (($# == 0)); then
  set -- --help
fi
exec build/bulwark "$@"
