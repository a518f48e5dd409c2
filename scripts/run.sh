#!/usr/bin/env bash
# Builds Bulwark (release) and runs it: scripts/run.sh [bulwark arguments]
# Without arguments it runs the main job: the site service with its embedded default
# (bulwark serve: ./bulwark-data, SQLite, self-signed certificate, https://127.0.0.1:8443).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBULWARK_TESTS=OFF \
  -DBULWARK_BENCHMARKS=OFF > /dev/null
cmake --build build --target bulwark
if (($# == 0)); then
  set -- serve
fi
exec build/bulwark "$@"
