#!/usr/bin/env bash
# The SMTP gateway under load, side by side in one run, same message, same sink:
#   client → smtp-sink                      (the floor: the sink alone)
#   client → Bulwark's gateway → smtp-sink  (before-queue: scan, then relay; the client's
#                                            reply is the sink's)
# The message: about 50 KB, a text part and a PDF-typed attachment (random bytes, unique
# per run, so nothing comes from the verdict cache across runs; within a run the same
# attachment is cached after its first scan, as for a mail sent to many recipients).
# The client: bench/smtp_load.py, N concurrent sessions reusing their connections; per
# message it measures MAIL FROM … final reply. Reports messages/s and p50/p90/p99 latency;
# "added latency" is the gateway's minus the sink's.
# Usage: bench/smtp_bench.sh [build-dir] (default build/)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
messages=${MESSAGES:-2000}
bulwark=$build/bulwark
[[ -x $bulwark ]] || { echo "build $bulwark first" >&2; exit 2; }
command -v smtp-sink > /dev/null || { echo "smtp-sink not found (apt-get install postfix)" >&2; exit 2; }
work=$(mktemp -d /tmp/bulwark-smtp-bench-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  [[ -n ${KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (echo > "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0; sleep 0.1; done; return 1; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2> /dev/null || echo 0; }

python3 - "$work/message.eml" << 'EOF'
import base64, os, sys
boundary = "=_bench_boundary"
body = "Hello,\r\n\r\nplease find the quarterly report attached.\r\n\r\nRegards\r\n" * 20
attachment = base64.encodebytes(os.urandom(36 * 1024)).decode().replace("\n", "\r\n")
message = (
    "From: Bench <bench@example.com>\r\nTo: User <user@example.org>\r\n"
    "Subject: Quarterly report\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <bench-1@example.com>\r\nMIME-Version: 1.0\r\n"
    f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
    f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    f'--{boundary}\r\nContent-Type: application/pdf; name="report.pdf"\r\n'
    'Content-Disposition: attachment; filename="report.pdf"\r\n'
    f"Content-Transfer-Encoding: base64\r\n\r\n{attachment}--{boundary}--\r\n")
open(sys.argv[1], "w").write(message)
EOF
echo "message: $(wc -c < "$work/message.eml") bytes"

sink_port=$(free_port)
sink_user=nobody
[[ $(id -u) -ne 0 ]] && sink_user=$(id -un)
smtp-sink -u "$sink_user" 127.0.0.1:"$sink_port" 1000 > "$work/sink.log" 2>&1 &
pids+=($!)
wait_port "$sink_port"

data=$work/data
"$bulwark" tenant create Acme --data "$data" > /dev/null
smtp_port=$(free_port)
cat > "$work/bulwark.toml" << EOF
data_dir = "$data"
[api]
port = 0
[clamd]
enabled = false
[icap]
enabled = false
[milter]
enabled = false
[smtp]
port = $smtp_port
max_connections = 200
[mail]
hostname = "mx.bench.example.com"
[[mail.domains]]
domain = "example.org"
tenant = "Acme"
next_hop = "127.0.0.1:$sink_port"
next_hop_tls = "none"
[log]
access = false
EOF
"$bulwark" serve --config "$work/bulwark.toml" > "$work/serve.out" 2> "$work/serve.err" &
bulwark_pid=$!; pids+=($bulwark_pid)
wait_port "$smtp_port" || { cat "$work/serve.err"; exit 1; }

run() {  # label port sessions
  python3 bench/smtp_load.py --port "$2" --message "$work/message.eml" --sessions "$3" \
    --messages "$messages" --recipient user@example.org --label "$1"
}
echo "machine: $(nproc) cores, $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}')"
for sessions in 1 10; do
  run "sink, $sessions sessions" "$sink_port" "$sessions"
  run "gateway → sink, $sessions sessions" "$smtp_port" "$sessions"
done
echo "bulwark serve RSS after the run: $(( $(rss_kb "$bulwark_pid") / 1024 )) MB"
