#!/usr/bin/env bash
# Side by side, in one run: `bulwark scan` and `clamscan` with the SAME signature set
# (rules/clamav; Bulwark's built-in rules off) on the same files. Reports throughput
# (MB/s, files/s) and the ratio. Usage: bench/corpus_bench.sh [build-dir] [work-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=${2:-$(mktemp -d)}
scripts/install-deps.sh --bench
[[ -x $build/bulwark ]] || { echo "build $build/bulwark first (scripts/run.sh)" >&2; exit 2; }
[[ -d $work/unique ]] || python3 bench/make_corpus.py "$work" --unique "${UNIQUE:-1000}" --mails "${MAILS:-1000}"

sigs=rules/clamav
bulwark_scan() {  # dir [extra args]
  local dir=$1; shift
  "$build/bulwark" scan --quiet --no-system-clamav --no-builtin-rules -d "$sigs" "$@" "$dir" || [[ $? == 1 ]]
}
clamscan_scan() {
  clamscan --quiet --no-summary -d "$sigs" -r "$1" || [[ $? == 1 ]]
}
seconds() {  # command...: wall seconds of the best of 3 runs
  local best=""
  for _ in 1 2 3; do
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null
    end=$(date +%s.%N)
    best=$(python3 -c "a=$end-$start; b='$best'; print(a if not b else min(a, float(b)))")
  done
  echo "$best"
}

printf '%-8s %-26s %8s %10s %10s\n' corpus scanner seconds MB/s files/s
for corpus in unique mail; do
  dir=$work/$corpus
  mb=$(du -sm --apparent-size "$dir" | cut -f1)
  files=$(find "$dir" -type f | wc -l)
  t_clam=$(seconds clamscan_scan "$dir")
  t_b1=$(seconds bulwark_scan "$dir" --threads 1)
  t_b=$(seconds bulwark_scan "$dir")
  for row in "clamscan:$t_clam" "bulwark scan -j1:$t_b1" "bulwark scan (all cores):$t_b"; do
    name=${row%%:*}; t=${row##*:}
    python3 -c "print('%-8s %-26s %8.2f %10.1f %10.1f' % ('$corpus', '$name', $t, $mb/$t, $files/$t))"
  done
  python3 -c "print('%-8s ratio clamscan/bulwark: %.2fx on one core, %.2fx on all cores' % ('$corpus', $t_clam/$t_b1, $t_clam/$t))"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "corpus: $work ($(du -sh --apparent-size "$work/unique" | cut -f1) unique, $(du -sh --apparent-size "$work/mail" | cut -f1) mail)"
