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
wall() {  # command...: wall seconds of one run
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  python3 -c "print($end - $start)"
}
median() { python3 -c "import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))" "$@"; }
rounds=${ROUNDS:-5}

printf '%-8s %-26s %8s %10s %10s\n' corpus scanner seconds MB/s files/s
for corpus in unique mail; do
  dir=$work/$corpus
  mb=$(du -sm --apparent-size "$dir" | cut -f1)
  files=$(find "$dir" -type f | wc -l)
  # The three runs take turns, round after round, so that a slow spell of the (shared,
  # virtual) machine falls on all of them; each figure is the median of its rounds.
  clam=() b1=() b=()
  for _ in $(seq "$rounds"); do
    clam+=("$(wall clamscan_scan "$dir")")
    b1+=("$(wall bulwark_scan "$dir" --threads 1)")
    b+=("$(wall bulwark_scan "$dir")")
  done
  t_clam=$(median "${clam[@]}") t_b1=$(median "${b1[@]}") t_b=$(median "${b[@]}")
  for row in "clamscan:$t_clam" "bulwark scan -j1:$t_b1" "bulwark scan (all cores):$t_b"; do
    name=${row%%:*}; t=${row##*:}
    python3 -c "print('%-8s %-26s %8.2f %10.1f %10.1f' % ('$corpus', '$name', $t, $mb/$t, $files/$t))"
  done
  python3 -c "print('%-8s ratio clamscan/bulwark: %.2fx on one core, %.2fx on all cores' % ('$corpus', $t_clam/$t_b1, $t_clam/$t))"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "corpus: $work ($(du -sh --apparent-size "$work/unique" | cut -f1) unique, $(du -sh --apparent-size "$work/mail" | cut -f1) mail)"
