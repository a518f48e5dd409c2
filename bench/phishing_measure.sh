#!/usr/bin/env bash
# The phishing score on ../shared/corpus: real honeypot phishing (phishing-dev) against ham
# (ham-dev: the legitimate mail phishing imitates; spamassassin-t-data/nice), at the
# default threshold and around it, with how often each signal contributed.
#   bench/phishing_measure.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
corpus=../shared/corpus
[[ -d $corpus/phishing-dev ]] || { echo "phishing_measure: $corpus/phishing-dev not found" >&2; exit 2; }
cmake --build "$build" --target phishing_corpus > /dev/null
"$build"/bench/phishing_corpus --reasons "$corpus/phishing-dev/email" "$corpus/ham-dev" \
  "$corpus/spamassassin-t-data/nice"
