#!/usr/bin/env bash
# clamdscan → clamd vs clamdscan → Bulwark's clamd front-end, side by side in one run, with
# the same signatures (rules/clamav plus an EICAR .hdb) on the same files:
#   1. 300 small files (2–20 KB text, a few EICAR) and 8 larger ones (4 MB), each sent
#      with `clamdscan --stream` (INSTREAM over TCP), timed with hyperfine;
#   2. the same files with `clamdscan --fdpass` over the Unix socket (FILDES);
#   3. resident memory (RSS, from /proc) of each server after loading and after the runs.
# Both servers run the whole time; each answers on loopback. Bulwark runs as a plain clamd
# (no tenant: engine verdict only) so that both do the same work per request.
# Bulwark side: bench/clamd_bench_server (the ClamdFrontEnd of `bulwark serve`, without the
# HTTPS API beside it, so its RSS is that of the scanning service alone).
# Usage: bench/clamd_bench.sh [build-dir] (default build/; target clamd_bench_server)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${RUNS:-5}
scripts/install-deps.sh --test --bench > /dev/null
[[ -x $build/bench/clamd_bench_server ]] || { echo "build $build/bench/clamd_bench_server first" >&2; exit 2; }
work=$(mktemp -d /tmp/bulwark-clamd-bench-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  [[ -s $work/clamd.pid ]] && kill "$(cat "$work/clamd.pid")" 2> /dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# Signatures: the project's test databases plus EICAR under its classic name.
mkdir -p "$work/db" "$work/files/small" "$work/files/large"
cp rules/clamav/* "$work/db/"
echo "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature" > "$work/db/eicar.hdb"
python3 - "$work/files" << 'PY'
import os, random, sys
random.seed(11)
root = sys.argv[1]
words = "invoice payment order shipment quarterly report contract meeting schedule".split()
eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR" + b"-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
for i in range(300):
    with open(f"{root}/small/doc{i:03}.txt", "wb") as f:
        f.write(eicar if i % 50 == 0 else
                " ".join(random.choice(words) for _ in range(random.randint(300, 3000))).encode())
for i in range(8):
    with open(f"{root}/large/blob{i}.bin", "wb") as f:
        f.write(os.urandom(4 << 20))
PY
chmod -R a+rX "$work"

# clamd (Debian's clamav-daemon) as nobody.
clamd_port=$(free_port)
cat > "$work/clamd.conf" << CONF
LogFile $work/clamd.log
PidFile $work/clamd.pid
DatabaseDirectory $work/db
TCPSocket $clamd_port
TCPAddr 127.0.0.1
LocalSocket $work/clamd.sock
StreamMaxLength 100M
User nobody
CONF
chmod 777 "$work"
/usr/sbin/clamd -c "$work/clamd.conf"
for _ in $(seq 300); do [[ -S $work/clamd.sock ]] && break; sleep 0.1; done
clamd_pid=$(cat "$work/clamd.pid")

# Bulwark's clamd front-end (the one `bulwark serve` runs), on its own site, no tenant.
bulwark_port=$(free_port)
"$build/bench/clamd_bench_server" "$work/data" "$work/db" "$bulwark_port" "$work/bulwark.sock" \
  > "$work/bulwark.out" 2> "$work/bulwark.err" &
pids+=($!)
bulwark_pid=$!
for _ in $(seq 300); do grep -q ready "$work/bulwark.out" 2> /dev/null && break; sleep 0.1; done
grep -q ready "$work/bulwark.out" || { echo "clamd_bench_server did not start:" >&2; cat "$work/bulwark.err" >&2; exit 1; }

for server in clamd bulwark; do
  port_var=${server}_port
  printf 'TCPSocket %s\nTCPAddr 127.0.0.1\n' "${!port_var}" > "$work/$server-tcp.conf"
  printf 'LocalSocket %s\n' "$work/$server.sock" > "$work/$server-unix.conf"
done
rss_clamd_loaded=$(rss_mb "$clamd_pid"); rss_bulwark_loaded=$(rss_mb "$bulwark_pid")

# clamdscan exits 1 when it finds something; hyperfine must not treat that as a failure.
small=("$work"/files/small/*); large=("$work"/files/large/*)
hyperfine --warmup 1 --runs "$runs" -i --export-json "$work/hyperfine.json" \
  -n "clamd: 300 small --stream" "clamdscan --no-summary --config-file=$work/clamd-tcp.conf --stream ${small[*]} > /dev/null" \
  -n "bulwark: 300 small --stream" "clamdscan --no-summary --config-file=$work/bulwark-tcp.conf --stream ${small[*]} > /dev/null" \
  -n "clamd: 8 x 4 MB --stream" "clamdscan --no-summary --config-file=$work/clamd-tcp.conf --stream ${large[*]} > /dev/null" \
  -n "bulwark: 8 x 4 MB --stream" "clamdscan --no-summary --config-file=$work/bulwark-tcp.conf --stream ${large[*]} > /dev/null" \
  -n "clamd: 300 small --fdpass" "clamdscan --no-summary --config-file=$work/clamd-unix.conf --fdpass ${small[*]} > /dev/null" \
  -n "bulwark: 300 small --fdpass" "clamdscan --no-summary --config-file=$work/bulwark-unix.conf --fdpass ${small[*]} > /dev/null" \
  > "$work/hyperfine.out"
rss_clamd_after=$(rss_mb "$clamd_pid"); rss_bulwark_after=$(rss_mb "$bulwark_pid")

# Same answers from both (names included).
diff <(clamdscan --no-summary --config-file="$work/clamd-tcp.conf" --stream "${small[@]}" | sort) \
     <(clamdscan --no-summary --config-file="$work/bulwark-tcp.conf" --stream "${small[@]}" | sort) \
  > /dev/null && same=yes || same=NO

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "clamd $(clamd --version | cut -d/ -f1), bulwark $(git rev-parse --short HEAD), runs=$runs, identical replies: $same"
echo
echo "| run | mean s | ± s | per file ms |"
echo "|---|---|---|---|"
python3 - "$work/hyperfine.json" << 'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    files = 8 if "4 MB" in r["command"] else 300
    print(f'| {r["command"]} | {r["mean"]:.3f} | {r["stddev"]:.3f} | {1000*r["mean"]/files:.2f} |')
PY
echo
echo "| server | RSS after loading MB | RSS after the runs MB |"
echo "|---|---|---|"
echo "| clamd | $rss_clamd_loaded | $rss_clamd_after |"
echo "| bulwark (clamd front-end) | $rss_bulwark_loaded | $rss_bulwark_after |"
