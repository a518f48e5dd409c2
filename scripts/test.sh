#!/usr/bin/env bash
# Builds and runs every test of Bulwark:
#   1. release build with warnings as errors (gcc), all unit, integration and corpus tests;
#   2. clang build with AddressSanitizer + UndefinedBehaviorSanitizer, the same tests;
#   3. every libFuzzer target, briefly, from its seed corpus (FUZZ_SECONDS, default 20).
# Corpus tests read ../shared/corpus and say so when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

jobs=$(nproc)
# The milter test runs its own Postfix (which needs root); in CI a missing Postfix is a
# failure, not a skip.
export BULWARK_REQUIRE_POSTFIX=1
export BULWARK_REQUIRE_DOVECOT=1
fuzz_seconds=${FUZZ_SECONDS:-20}
summary=()
total_passed=0
total_failed=0

run_ctest() {  # name build-dir
  local name=$1 dir=$2 log
  log=$(mktemp)
  set +e
  (cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 600) | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local line passed failed
  line=$(grep -E '[0-9]+% tests passed' "$log" | tail -1)
  failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  passed=$(( $(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line") - failed ))
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  summary+=("$name: $line")
  rm -f "$log"
  return "$rc"
}

status=0

echo "=== 1/3 release build (gcc, -Werror) ==="
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBULWARK_WERROR=ON \
  -DBULWARK_BENCHMARKS=ON > /dev/null
cmake --build build-test -j "$jobs"
run_ctest "release" build-test || status=1

echo "=== 2/3 sanitizer build (clang, ASan+UBSan) ==="
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DBULWARK_WERROR=ON -DBULWARK_SANITIZE=ON -DBULWARK_FUZZERS=ON -DBULWARK_BENCHMARKS=OFF > /dev/null
cmake --build build-asan -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp
run_ctest "asan+ubsan" build-asan || status=1

# Every file of the third-party corpus through the sanitised binary: no crash, no leak,
# no sanitizer report, and an exit status of 0 or 1 (never 2: nothing is an error).
corpus=../shared/corpus
if [[ -d $corpus ]]; then
  set +e
  build-asan/bulwark scan --json --no-system-clamav -d rules/clamav "$corpus" \
    > build-asan/corpus-sweep.jsonl 2> build-asan/corpus-sweep.err
  rc=$?
  set -e
  if [[ $rc -le 1 ]] && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error' build-asan/corpus-sweep.err; then
    total_passed=$((total_passed + 1))
    summary+=("corpus sweep (asan): ok ($(wc -l < build-asan/corpus-sweep.jsonl) files)")
  else
    total_failed=$((total_failed + 1))
    status=1
    summary+=("corpus sweep (asan): FAILED, exit $rc (see build-asan/corpus-sweep.err)")
    tail -40 build-asan/corpus-sweep.err
  fi
else
  summary+=("corpus sweep (asan): skipped, $corpus not found")
fi

echo "=== 3/3 fuzzers (${fuzz_seconds}s each) ==="
for fuzzer in build-asan/fuzz/*_fuzz; do
  name=$(basename "$fuzzer" _fuzz)
  seeds=fuzz/corpus/$name
  work=$(mktemp -d)
  [[ -d $seeds ]] && cp -r "$seeds"/. "$work"/
  mkdir -p fuzz-artifacts
  if "$fuzzer" -max_total_time="$fuzz_seconds" -rss_limit_mb=4096 -timeout=30 \
      -artifact_prefix=fuzz-artifacts/"$name"- "$work" > "fuzz-artifacts/$name.log" 2>&1; then
    total_passed=$((total_passed + 1))
    # libFuzzer's last line says "Done N runs in S second(s)" (dictionary entries printed
    # before it may contain "#<digits>", so that is not a safe pattern).
    runs=$(grep -oE 'Done [0-9]+ runs' "fuzz-artifacts/$name.log" | grep -oE '[0-9]+' | tail -1 || true)
    summary+=("fuzz $name: ok (${runs:-?} runs)")
  else
    total_failed=$((total_failed + 1))
    status=1
    summary+=("fuzz $name: FAILED (see fuzz-artifacts/$name.log)")
    tail -40 "fuzz-artifacts/$name.log"
  fi
  rm -rf "$work"
done

echo "=== summary ==="
printf '%s\n' "${summary[@]}"
echo "$total_passed passed, $total_failed failed"
exit "$status"
