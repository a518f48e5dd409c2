#!/usr/bin/env bash
# ICAP side by side, in one run, same files, same signatures (rules/clamav):
#   c-icap 0.5 (virus_scan service over clamd_mod) → clamd with rules/clamav only
#   Bulwark's ICAP front-end (bench/icap_bench_server: the IcapFrontEnd of `bulwark serve` on
#     an embedded-default site with rules/clamav plus the built-in rules, DLP, …)
#   c-icap's echo service (the protocol alone, no scan: the floor)
# Two clients: c-icap-client (one process per request, so process start-up and its own
# waits dominate), and bench/icap_load.py (RESPMOD with Allow: 204 over persistent
# connections, 1 and 4 at once) for the servers' own cost: a 20 KB text document and a 1 MB
# random file, both with unique bytes per request (no verdict cache), and EICAR. Bulwark runs
# twice: with a tenant (default policy: EICAR is recorded and sealed into the quarantine) and
# without (verdict only, like c-icap). RSS after the run.
# Usage: bench/icap_bench.sh [build-dir] (default build/; needs target icap_bench_server)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
requests=${REQUESTS:-2000}
scripts/install-deps.sh --test --bench > /dev/null
server=$build/bench/icap_bench_server
[[ -x $server ]] || { echo "build $server first (cmake --build $build --target icap_bench_server)" >&2; exit 2; }
work=$(mktemp -d /tmp/bulwark-icap-bench-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  [[ -n ${KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (echo > "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0; sleep 0.1; done; return 1; }
rss_kb() { local t=0; for p in "$@"; do t=$((t + $(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2> /dev/null || echo 0))); done; echo $t; }

# Files: a 20 KB document (made unique per request below), 1 MB random, EICAR.
python3 -c "
import random; random.seed(7)
words = 'invoice payment order shipment quarterly report contract meeting schedule'.split()
print(' '.join(random.choice(words) for _ in range(2600)))" > "$work/document.txt"
head -c 1048576 /dev/urandom > "$work/random.bin"
python3 -c "import sys; sys.stdout.write('X5O!P%@AP[4\\\\PZX54(P^)7CC)7}\$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!\$H+H*')" > "$work/eicar.com"

# clamd with the test signatures only.
mkdir -p "$work/clamdb" "$work/clamd"
cp rules/clamav/* "$work/clamdb/"
clamd_port=$(free_port)
cat > "$work/clamd.conf" << EOF
Foreground yes
DatabaseDirectory $work/clamdb
TCPSocket $clamd_port
TCPAddr 127.0.0.1
LogFile $work/clamd/clamd.log
TemporaryDirectory $work/clamd
MaxThreads 4
EOF
clamd -c "$work/clamd.conf" > "$work/clamd/out" 2>&1 &
clamd_pid=$!; pids+=($clamd_pid)

# c-icap with virus_scan over clamd_mod, and the echo service.
cicap_port=$(free_port)
mods=/usr/lib/x86_64-linux-gnu/c_icap
mkdir -p "$work/cicap"
cat > "$work/c-icap.conf" << EOF
PidFile $work/cicap/c-icap.pid
CommandsSocket $work/cicap/c-icap.ctl
Port 127.0.0.1:$cicap_port
StartServers 1
MaxServers 1
ThreadsPerChild 8
MinSpareThreads 2
MaxSpareThreads 8
MaxKeepAliveRequests 0
KeepAliveTimeout 60
TmpDir $work/cicap
ServerLog $work/cicap/server.log
AccessLog $work/cicap/access.log
ModulesDir $mods
ServicesDir $mods
LoadMagicFile /etc/c-icap/c-icap.magic
Module common clamd_mod.so
clamd_mod.ClamdHost 127.0.0.1
clamd_mod.ClamdPort $clamd_port
Service echo srv_echo.so
Service antivirus_module virus_scan.so
ServiceAlias avscan virus_scan?allow204=on&sizelimit=off&mode=simple
virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE GIF JPEG MSOFFICE
virus_scan.DefaultEngine clamd
virus_scan.MaxObjectSize 100M
virus_scan.SendPercentData 0
EOF
c-icap -N -f "$work/c-icap.conf" > "$work/cicap/out" 2>&1 &
cicap_pid=$!; pids+=($cicap_pid)

bulwark_port=$(free_port)
"$server" "$work/bulwark-data" "$PWD/rules/clamav" "$bulwark_port" Bench \
  > "$work/bulwark.out" 2> "$work/bulwark.err" &
bulwark_pid=$!; pids+=($bulwark_pid)
# The same without a tenant: the engine's verdict only, no event, no quarantine.
bare_port=$(free_port)
"$server" "$work/bare-data" "$PWD/rules/clamav" "$bare_port" \
  > "$work/bare.out" 2> "$work/bare.err" &
bare_pid=$!; pids+=($bare_pid)

for _ in $(seq 300); do grep -q "Self checking every" "$work/clamd/clamd.log" 2> /dev/null && break; sleep 0.1; done
wait_port "$clamd_port" && wait_port "$cicap_port" && wait_port "$bulwark_port" &&
  wait_port "$bare_port" || {
  echo "a server did not start" >&2; cat "$work/clamd/out" "$work/cicap/out" "$work/bulwark.err" >&2; exit 1; }

# Sanity: both scanners block EICAR and pass the document.
check() {  # port service file expected-substring
  local out
  for _ in 1 2 3 4 5; do  # c-icap answers before its clamd connection is up
    out=$(c-icap-client -i 127.0.0.1 -p "$1" -s "$2" -f "$3" -resp http://bench.example/f -v 2>&1 | tr -d "\\0")
    grep -q "$4" <<< "$out" && return 0
    sleep 1
  done
  grep -q "$4" <<< "$out" ||
    { echo "sanity check failed: $2 on port $1 with $3 (wanted '$4'):" >&2; echo "$out" >&2; exit 1; }
}
check "$cicap_port" avscan "$work/eicar.com" "403"
check "$bulwark_port" respmod "$work/eicar.com" "403"
check "$cicap_port" avscan "$work/document.txt" "204"
check "$bulwark_port" respmod "$work/document.txt" "204"

run_client() {  # label port service file: c-icap-client, one process per request, sequential
  local label=$1 port=$2 service=$3 file=$4 start end
  start=$(date +%s.%N)
  for _ in $(seq "$client_requests"); do
    c-icap-client -i 127.0.0.1 -p "$port" -s "$service" -f "$file" \
      -resp http://bench.example/file > /dev/null 2>&1 || true
  done
  end=$(date +%s.%N)
  python3 -c "t = ($end - $start) / $client_requests; print(f'| $label | 1 | {1 / t:,.1f} | {t * 1000:.1f} | |')"
}
run_load() {  # label port service file clients: persistent connections (bench/icap_load.py)
  local out
  out=$(python3 bench/icap_load.py "$2" "$3" "$4" "$requests" "$5")
  read -r rps ms statuses <<< "$out"
  echo "| $1 | $5 | $rps | $ms | $statuses |"
}

client_requests=${CLIENT_REQUESTS:-20}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "c-icap-client, one process per request ($client_requests requests each):"
echo
echo "| server / object | clients | requests/s | ms per request | ICAP statuses |"
echo "|---|---|---|---|---|"
for file in "$work/document.txt" "$work/eicar.com"; do
  name=$(basename "$file")
  run_client "c-icap + clamd: $name" "$cicap_port" avscan "$file"
  run_client "Bulwark: $name" "$bulwark_port" respmod "$file"
  run_client "c-icap echo (no scan): $name" "$cicap_port" echo "$file"
done
echo
echo "Persistent connections, bench/icap_load.py ($requests requests per row):"
echo
echo "| server / object | clients | requests/s | ms per request | ICAP statuses |"
echo "|---|---|---|---|---|"
for clients in 1 4; do
  for file in "unique-doc:$work/document.txt" "unique-doc:$work/random.bin" "$work/eicar.com"; do
    case $file in
      unique-doc:*document*) name="20 KB document (unique bytes)" ;;
      unique-doc:*random*) name="1 MB random (unique bytes)" ;;
      *) name="EICAR (same bytes)" ;;
    esac
    run_load "c-icap + clamd: $name" "$cicap_port" avscan "$file" "$clients"
    run_load "Bulwark, tenant (events, quarantine): $name" "$bulwark_port" respmod "$file" "$clients"
    run_load "Bulwark, no tenant (verdict only): $name" "$bare_port" respmod "$file" "$clients"
    run_load "c-icap echo (no scan): $name" "$cicap_port" echo "$file" "$clients"
  done
done
cicap_all=$(pgrep -d' ' -f "c-icap -N -f $work/c-icap.conf" || echo "$cicap_pid")
echo
echo "| server | RSS after the run (MB) |"
echo "|---|---|"
echo "| c-icap (all processes) + clamd | $(( ($(rss_kb $cicap_all) + $(rss_kb "$clamd_pid")) / 1024 )) (clamd alone $(( $(rss_kb "$clamd_pid") / 1024 ))) |"
echo "| Bulwark ICAP front-end, tenant (whole site process) | $(( $(rss_kb "$bulwark_pid") / 1024 )) |"
echo "| Bulwark ICAP front-end, no tenant (whole site process) | $(( $(rss_kb "$bare_pid") / 1024 )) |"
