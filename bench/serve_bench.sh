#!/usr/bin/env bash
# Load benchmark of `bulwark serve` with wrk, on SQLite and on PostgreSQL, in one run:
#   1. the scan API (POST /api/v1/scan, a 20 KB clean document; and EICAR, which records an
#      event and quarantines the object),
#   2. the events query (GET /api/v1/events?limit=100 over 10,000 events),
#   3. /healthz latency while the scan API saturates every core.
# Usage: bench/serve_bench.sh [build-dir] (default build/, built by scripts/run.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
duration=${DURATION:-15s}
scripts/install-deps.sh --test --bench
[[ -x $build/bulwark ]] || { echo "build $build/bulwark first (scripts/run.sh)" >&2; exit 2; }
work=$(mktemp -d /tmp/bulwark-bench-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  [[ -n ${pg_ctl:-} ]] && runuser -u postgres -- "$pg_ctl" -D "$work/pg" stop -m fast > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_postgres() {  # prints the database URL
  local bin port
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  pg_ctl=$bin/pg_ctl
  port=$(free_port)
  mkdir -p "$work/pg" "$work/pgrun" && chown postgres "$work/pg" "$work/pgrun"
  runuser -u postgres -- "$bin/initdb" -D "$work/pg" -A trust -U postgres > /dev/null
  runuser -u postgres -- "$pg_ctl" -D "$work/pg" -l "$work/pgrun/pg.log" -w start \
    -o "-p $port -k $work/pgrun -c listen_addresses=127.0.0.1" > /dev/null
  "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE ROLE bulwark LOGIN" \
    -c "CREATE DATABASE bulwark OWNER bulwark" > /dev/null
  echo "postgresql://bulwark@127.0.0.1:$port/bulwark"
}

# wrk scripts: POST a file's bytes with the token; "unique" appends a counter so that every
# request is a different object (no verdict cache hit).
make_post_script() {  # file script [unique]
  cat > "$2" << LUA
local f = io.open("$1", "rb"); local body = f:read("*all"); f:close()
wrk.method = "POST"; wrk.body = body
wrk.headers["Content-Type"] = "application/octet-stream"
local unique = "${3:-}" == "unique"
local counter = 0
request = function()
  if not unique then return wrk.format() end
  counter = counter + 1
  return wrk.format(nil, nil, nil, body .. " " .. tostring(counter) .. " " .. tostring(math.random()))
end
LUA
}
python3 -c "
import random; random.seed(7)
words = 'invoice payment order shipment quarterly report contract meeting schedule'.split()
print(' '.join(random.choice(words) for _ in range(2600)))" > "$work/document.txt"
# The EICAR test file, assembled here so that no file of ours carries it whole.
python3 -c "import sys; sys.stdout.write('X5O!P%@AP[4\\\\PZX54(P^)7CC)7}\$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!\$H+H*')" > "$work/eicar.com"
make_post_script "$work/document.txt" "$work/post-document.lua"
make_post_script "$work/document.txt" "$work/post-unique.lua" unique
make_post_script "$work/eicar.com" "$work/post-eicar.lua"

run_wrk() {  # label wrk-args...: prints "label req/s p50 p99"
  local label=$1; shift
  wrk --latency "$@" > "$work/wrk.out" 2>&1 || { cat "$work/wrk.out" >&2; return 1; }
  python3 - "$label" "$work/wrk.out" << 'PY'
import re, sys
label, text = sys.argv[1], open(sys.argv[2]).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
def pct(p):
    m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % p, text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"| {label} | {float(rps):,.0f} | {pct(50):.2f} | {pct(99):.2f} | {errors.group(1) if errors else 0} |")
PY
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "| backend / load | requests/s | p50 ms | p99 ms | non-2xx |"
echo "|---|---|---|---|---|"
for backend in sqlite postgres; do
  data=$work/data-$backend
  mkdir -p "$data"
  url="sqlite:$data/bulwark.db"
  [[ $backend == postgres ]] && url=$(start_postgres)
  cat > "$work/$backend.toml" << TOML
data_dir = "$data"
[database]
url = "$url"
[engine]
clamav_db = ""
signature_dirs = ["$PWD/rules/clamav"]
[access]
token_rate_per_second = 1000000.0
token_burst = 1000000.0
tenant_rate_per_second = 1000000.0
tenant_burst = 1000000.0
TOML
  cfg=(--config "$work/$backend.toml")
  "$build/bulwark" tenant create Bench "${cfg[@]}" > /dev/null
  token=$("$build/bulwark" token create --tenant Bench --name bench --scope scan \
    --scope events:read "${cfg[@]}" 2> /dev/null)
  port=$(free_port)
  "$build/bulwark" serve "${cfg[@]}" --port "$port" --ready-file "$work/port-$backend" \
    > "$work/serve-$backend.out" 2> "$work/serve-$backend.err" &
  pids+=($!)
  for _ in $(seq 100); do [[ -s $work/port-$backend ]] && break; sleep 0.1; done
  base=https://127.0.0.1:$port
  auth=(-H "Authorization: Bearer $token")
  # 10,000 events to query.
  wrk -t2 -c8 -d60s "${auth[@]}" -s "$work/post-eicar.lua" "$base/api/v1/scan?name=eicar.com" \
    > /dev/null 2>&1 &
  seeder=$!
  python3 - "$base" "$token" << 'PY'
import json, ssl, sys, time, urllib.request
base, token = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
while True:
    req = urllib.request.Request(base + "/api/v1/events/facets", headers={"Authorization": "Bearer " + token})
    n = sum(json.load(urllib.request.urlopen(req, context=ctx))["facets"].get("verdict", {}).values())
    if n >= 10000: break
    time.sleep(0.5)
PY
  kill $seeder 2> /dev/null; wait $seeder 2> /dev/null || true
  run_wrk "$backend: scan 20 KB document, same bytes (verdict cache)" -t2 -c16 -d"$duration" \
    "${auth[@]}" -s "$work/post-document.lua" "$base/api/v1/scan?name=document.txt"
  run_wrk "$backend: scan 20 KB document, unique bytes (full scan)" -t2 -c16 -d"$duration" \
    "${auth[@]}" -s "$work/post-unique.lua" "$base/api/v1/scan?name=document.txt"
  run_wrk "$backend: scan EICAR (event + sealed quarantine)" -t2 -c16 -d"$duration" "${auth[@]}" \
    -s "$work/post-eicar.lua" "$base/api/v1/scan?name=eicar.com"
  run_wrk "$backend: events query, 100 per page" -t2 -c16 -d"$duration" "${auth[@]}" \
    "$base/api/v1/events?limit=100&after=5000"
  # Health while scans saturate the workers.
  wrk -t1 -c32 -d"$duration" "${auth[@]}" -s "$work/post-unique.lua" \
    "$base/api/v1/scan?name=document.txt" > /dev/null 2>&1 &
  loader=$!
  sleep 1
  run_wrk "$backend: /healthz while scans saturate the CPUs" -t1 -c2 -d10s "$base/healthz"
  wait $loader || true
  kill "${pids[-1]}"; wait "${pids[-1]}" 2> /dev/null || true
done
