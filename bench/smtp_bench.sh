#!/usr/bin/env bash
# The SMTP gateway under load, side by side in one run, same message, same sink:
#   client → smtp-sink                      (the floor: the sink alone)
#   client → Bulwark's gateway → smtp-sink  (before-queue: scan, then relay; the client's
#                                            reply is the sink's)
#   client → Postfix → amavisd-new (+ clamd) → Postfix → smtp-sink
#                                           (the peer, Debian's packages, after-queue: Postfix
#                                            queues and replies, then content_filter hands the
#                                            mail to amavisd-new, which has clamd scan the
#                                            decoded parts and reinjects it into Postfix on a
#                                            second smtpd, which relays it to the sink)
# Same signatures for both scanners: Bulwark's signature_dirs and clamd's DatabaseDirectory
# are rules/clamav (no system ClamAV database); Bulwark also runs its built-in detectors
# (YARA, hash list, DLP, URLs, phishing score, …) under the tenant's default policy.
# amavisd-new: spam checks off (@bypass_spam_checks_maps = (1)), virus checks on via clamd.
# The message: about 50 KB, a text part and a PDF-typed attachment (random bytes, unique
# per run, so nothing comes from the verdict cache across runs; within a run the same
# attachment is cached after its first scan, as for a mail sent to many recipients).
# The client: bench/smtp_load.py, N concurrent sessions reusing their connections; per
# message it measures MAIL FROM … final reply, and, from smtp-sink's per-message dump
# files, MAIL FROM … arrival at the sink. For the before-queue paths the final reply comes
# from the sink, after it has the message: that is their end-to-end latency. The after-queue
# peer replies once the mail is in Postfix's queue, so its end-to-end latency is MAIL FROM …
# arrival (queueing, amavisd-new and clamd, reinjection, relay), and its messages/s is
# delivered to the sink per second. It runs twice per concurrency: each session waiting for
# its message to arrive before sending the next (the closed loop a before-queue gateway
# imposes; a load the peer sustains), and as fast as Postfix queues (its queue grows for
# the whole run: latency then depends on MESSAGES). "Added latency": minus the sink's.
# Usage: bench/smtp_bench.sh [build-dir] (default build/)
#   MESSAGES=n (default 2000) per path and concurrency; SESSIONS="1 10" the concurrencies;
#   PEER=0 skips the Postfix + amavisd-new + clamd path; AMAVIS_SERVERS (default 4: the
#   best in trials on 2 cores; amavisd-new's default, 2, delivered 40 % less) the amavisd-new
#   child processes = Postfix's smtp-amavis process limit; AMAVIS_MAX_REQUESTS (default 20,
#   amavisd-new's) messages per child before it is replaced;
#   KEEP=1 keeps the work directory (logs, configurations).
# Needs scripts/install-deps.sh --bench (postfix, amavisd-new, clamav-daemon); run as root
# (Postfix's master, amavisd-new and clamd drop to postfix / amavis).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
messages=${MESSAGES:-2000}
sessions_list=${SESSIONS:-1 10}
peer=${PEER:-1}
amavis_servers=${AMAVIS_SERVERS:-4}
amavis_max_requests=${AMAVIS_MAX_REQUESTS:-20}
bulwark=$build/bulwark
signatures=$PWD/rules/clamav
[[ -x $bulwark ]] || { echo "build $bulwark first" >&2; exit 2; }
command -v smtp-sink > /dev/null || { echo "smtp-sink not found (apt-get install postfix)" >&2; exit 2; }
if [[ $peer == 1 ]]; then
  for tool in postfix amavisd clamd; do
    command -v "$tool" > /dev/null ||
      { echo "$tool not found (scripts/install-deps.sh --bench, or PEER=0)" >&2; exit 2; }
  done
  [[ $(id -u) -eq 0 ]] || { echo "the Postfix + amavisd-new + clamd path needs root (or PEER=0)" >&2; exit 2; }
fi
work=$(mktemp -d /tmp/bulwark-smtp-bench-XXXXXX)
chmod 755 "$work"
pids=()
postfix_dir=
cleanup() {
  if [[ -n $postfix_dir ]]; then postfix -c "$postfix_dir" stop > /dev/null 2>&1 || true; fi
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  [[ -n ${KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
trap "exit 130" INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (echo > "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0; sleep 0.1; done; return 1; }
rss_kb() { local t=0; for p in "$@"; do t=$((t + $(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2> /dev/null || echo 0))); done; echo $t; }
pss_kb() { local t=0; for p in "$@"; do t=$((t + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2> /dev/null || echo 0))); done; echo $t; }

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
# For the sanity check: the same with EICAR as the attachment.
eicar = base64.encodebytes(b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
open(sys.argv[1].replace("message", "eicar"), "w").write(
    message.replace(attachment, eicar.decode().replace("\n", "\r\n")))
EOF
echo "message: $(wc -c < "$work/message.eml") bytes"

# The sink writes each message to its own file under $work/sink (smtp_load.py's arrival
# times); it runs as nobody.
sink_port=$(free_port)
sink_user=nobody
[[ $(id -u) -ne 0 ]] && sink_user=$(id -un)
mkdir -p "$work/sink"
chown "$sink_user" "$work/sink"
smtp-sink -u "$sink_user" -d "$work/sink/%Y%m%d%H/%M." 127.0.0.1:"$sink_port" 1000 \
  > "$work/sink.log" 2>&1 &
pids+=("$!")
wait_port "$sink_port"

data=$work/data
"$bulwark" tenant create Acme --data "$data" > /dev/null
smtp_port=$(free_port)
cat > "$work/bulwark.toml" << EOF
data_dir = "$data"
[api]
port = 0
[engine]
signature_dirs = ["$signatures"]
clamav_db = ""
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
bulwark_pid=$!; pids+=("$bulwark_pid")
wait_port "$smtp_port" || { cat "$work/serve.err"; exit 1; }

if [[ $peer == 1 ]]; then
  # clamd: the same signature directory, its own socket; runs as amavis (Debian's advice:
  # clamd under amavisd-new's user, so it can read the parts amavisd-new extracts).
  peer_dir=$work/peer
  mkdir -p "$peer_dir/clamd" "$peer_dir/amavis"/{tmp,db,var}
  chown -R amavis:amavis "$peer_dir/clamd" "$peer_dir/amavis"
  chmod 755 "$peer_dir"
  clamd_socket=$peer_dir/clamd/clamd.sock
  cat > "$peer_dir/clamd.conf" << EOF
Foreground yes
User amavis
DatabaseDirectory $signatures
LocalSocket $clamd_socket
LocalSocketMode 660
LogFile $peer_dir/clamd/clamd.log
LogTime yes
TemporaryDirectory $peer_dir/clamd
EOF
  clamd -c "$peer_dir/clamd.conf" > "$peer_dir/clamd.out" 2>&1 &
  clamd_pid=$!; pids+=("$clamd_pid")

  # amavisd-new: Debian's decoder paths and defaults, then ours — listens on amavis_port,
  # reinjects to Postfix's second smtpd on reinject_port; no spam checks, clamd for viruses.
  amavis_port=$(free_port)
  reinject_port=$(free_port)
  front_port=$(free_port)
  cat > "$peer_dir/amavisd.conf" << EOF
use strict;
\$MYHOME = '$peer_dir/amavis';
\$TEMPBASE = '$peer_dir/amavis/tmp';
\$db_home = '$peer_dir/amavis/db';
\$helpers_home = '$peer_dir/amavis/var';
\$pid_file = '$peer_dir/amavis/amavisd.pid';
\$lock_file = '$peer_dir/amavis/amavisd.lock';
\$daemon_user = 'amavis';
\$daemon_group = 'amavis';
\$max_servers = $amavis_servers;
\$max_requests = $amavis_max_requests;
\$myhostname = 'filter.bench.example.com';
\$mydomain = 'bench.example.com';
@local_domains_maps = (['.example.org']);
\$inet_socket_bind = '127.0.0.1';
\$inet_socket_port = $amavis_port;
@inet_acl = qw(127.0.0.1);
\$unix_socketname = undef;
\$forward_method = 'smtp:[127.0.0.1]:$reinject_port';
\$notify_method = \$forward_method;
\$DO_SYSLOG = 0;
\$LOGFILE = '$peer_dir/amavis/amavis.log';
\$log_level = 0;
\$QUARANTINEDIR = undef;
\$virus_admin = undef;
\$enable_dkim_verification = 0;
\$enable_dkim_signing = 0;
@bypass_spam_checks_maps = (1);
@bypass_virus_checks_maps = (0);
@av_scanners = (
  ['ClamAV-clamd', \&ask_daemon, ["CONTSCAN {}\n", '$clamd_socket'],
   qr/\bOK\$/m, qr/\bFOUND\$/m, qr/^.*?: (?!Infected Archive)(.*) FOUND\$/m ],
);
@av_scanners_backup = ();
1;
EOF
  amavisd -c /etc/amavis/conf.d/01-debian -c /etc/amavis/conf.d/20-debian_defaults \
    -c "$peer_dir/amavisd.conf" foreground > "$peer_dir/amavisd.out" 2>&1 &
  amavis_pid=$!; pids+=("$amavis_pid")

  # Postfix: a throw-away instance (own config_directory and queue), content_filter to
  # amavisd-new; the reinjection smtpd (no filter) and the relay to the sink.
  postfix_dir=$peer_dir/postfix
  mkdir -p "$postfix_dir/queue" "$postfix_dir/data"
  cat > "$postfix_dir/main.cf" << EOF
compatibility_level = 3.6
queue_directory = $postfix_dir/queue
data_directory = $postfix_dir/data
maillog_file = /dev/stdout
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.bench.example.com
mydomain = bench.example.com
myorigin = bench.example.com
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
biff = no
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$sink_port
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtputf8_enable = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
content_filter = smtp-amavis:[127.0.0.1]:$amavis_port
EOF
  # The amavisd-new README.postfix arrangement; no connection caching towards amavisd-new:
  # a cached idle connection holds one of its (AMAVIS_SERVERS) children, and a new smtp
  # process then waits for the cache to time out (2 s stalls in a trial run).
  cat > "$postfix_dir/master.cf" << EOF
127.0.0.1:$front_port inet n - n - - smtpd
127.0.0.1:$reinject_port inet n - n - - smtpd
  -o content_filter=
  -o local_recipient_maps=
  -o relay_recipient_maps=
  -o smtpd_restriction_classes=
  -o smtpd_delay_reject=no
  -o smtpd_client_restrictions=permit_mynetworks,reject
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_data_restrictions=reject_unauth_pipelining
  -o smtpd_end_of_data_restrictions=
  -o mynetworks=127.0.0.0/8
  -o smtpd_error_sleep_time=0
  -o smtpd_soft_error_limit=1001
  -o smtpd_hard_error_limit=1000
  -o smtpd_client_connection_count_limit=0
  -o smtpd_client_connection_rate_limit=0
  -o receive_override_options=no_header_body_checks,no_unknown_recipient_checks,no_milters
smtp-amavis unix - - n - $amavis_servers smtp
  -o smtp_data_done_timeout=1200
  -o smtp_send_xforward_command=yes
  -o max_use=20
  -o smtp_connection_cache_on_demand=no
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
EOF
  chown postfix "$postfix_dir/data"
  postfix -c "$postfix_dir" start-fg > "$postfix_dir/maillog" 2>&1 &
  pids+=("$!")

  for _ in $(seq 300); do [[ -S $clamd_socket ]] && break; sleep 0.1; done
  wait_port "$amavis_port" && wait_port "$front_port" && wait_port "$reinject_port" || {
    echo "the Postfix + amavisd-new + clamd path did not start" >&2
    tail -n 20 "$peer_dir/clamd.out" "$peer_dir/amavisd.out" "$peer_dir/amavis/amavis.log" \
      "$postfix_dir/maillog" >&2 2> /dev/null
    exit 1
  }
fi

# Sanity, and a warm-up of each path: a clean message arrives, EICAR does not (the default
# policy has Bulwark quarantine it; amavisd-new, after the queue, discards it), and both name
# the rules/clamav signature.
send_one() {  # port file → the final reply code (or "error")
  python3 - "$1" "$2" << 'EOF'
import smtplib, sys
try:
    with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60) as c:
        c.sendmail("bench@example.com", ["user@example.org"], open(sys.argv[2], "rb").read())
    print(250)
except smtplib.SMTPResponseException as e:
    print(e.smtp_code)
except (OSError, smtplib.SMTPException) as e:
    print("error", e)
EOF
}
sink_count() { find "$work/sink" -type f | wc -l; }
expect_arrivals() {  # count within 60 s
  for _ in $(seq 600); do [[ $(sink_count) -ge $1 ]] && return 0; sleep 0.1; done
  return 1
}
check() { [[ $2 == "$3" ]] || { echo "sanity check failed: $1: got $2, wanted $3" >&2; exit 1; }; }
check "gateway, clean" "$(send_one "$smtp_port" "$work/message.eml")" 250
expect_arrivals 1 || { echo "sanity check failed: the clean message did not arrive via Bulwark" >&2; exit 1; }
send_one "$smtp_port" "$work/eicar.eml" > /dev/null
for _ in $(seq 100); do grep -qa "Bulwark.Test.EICAR.NDB" "$data"/bulwark.db* && break; sleep 0.1; done
grep -qa "Bulwark.Test.EICAR.NDB" "$data"/bulwark.db* ||
  { echo "sanity check failed: Bulwark did not find EICAR with the rules/clamav signature" >&2; exit 1; }
if [[ $peer == 1 ]]; then
  check "Postfix + amavisd-new, clean" "$(send_one "$front_port" "$work/message.eml")" 250
  check "Postfix + amavisd-new, EICAR" "$(send_one "$front_port" "$work/eicar.eml")" 250
  expect_arrivals 2 || {
    echo "sanity check failed: the clean message did not arrive via Postfix + amavisd-new" >&2
    tail -n 20 "$peer_dir/amavis/amavis.log" "$postfix_dir/maillog" >&2; exit 1; }
  for _ in $(seq 600); do grep -q "Blocked INFECTED" "$peer_dir/amavis/amavis.log" && break; sleep 0.1; done
  grep -q "Blocked INFECTED (Bulwark.Test.EICAR" "$peer_dir/amavis/amavis.log" || {
    echo "sanity check failed: amavisd-new + clamd did not block EICAR" >&2
    tail -n 20 "$peer_dir/amavis/amavis.log" >&2; exit 1; }
  sleep 1
  grep -rlq "X-Virus-Scanned" "$work/sink" || {
    echo "sanity check failed: the clean message did not pass amavisd-new" >&2; exit 1; }
fi
sleep 1
[[ $(sink_count) -eq $((1 + peer)) ]] || { echo "sanity check failed: EICAR arrived" >&2; exit 1; }
find "$work/sink" -type f -delete

results=$work/results.jsonl
run() {  # label port sessions measure [smtp_load.py options]: measure = reply | arrival
  local label=$1 port=$2 sessions=$3 measure=$4
  shift 4
  python3 bench/smtp_load.py --port "$port" --message "$work/message.eml" \
    --sessions "$sessions" --messages "$messages" --recipient user@example.org \
    --label "$label" --arrivals "$work/sink" "$@" |
    python3 -c 'import json, sys; r = json.loads(sys.stdin.read()); r["measure"] = sys.argv[1]; print(json.dumps(r))' "$measure" |
    tee -a "$results"
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for sessions in $sessions_list; do
  run "client → smtp-sink" "$sink_port" "$sessions" reply
  run "client → Bulwark → smtp-sink" "$smtp_port" "$sessions" reply
  if [[ $peer == 1 ]]; then
    run "client → Postfix → amavisd-new + clamd → Postfix → smtp-sink, each session waits for arrival" \
      "$front_port" "$sessions" arrival --wait-arrival
    run "client → Postfix → amavisd-new + clamd → Postfix → smtp-sink, as fast as Postfix queues" \
      "$front_port" "$sessions" arrival
  fi
done
echo "bulwark serve RSS after the run: $(( $(rss_kb "$bulwark_pid") / 1024 )) MB"
if [[ $peer == 1 ]]; then
  postfix_master=$(awk '{print $1}' "$postfix_dir/queue/pid/master.pid")
  # shellcheck disable=SC2046
  echo "clamd RSS after the run: $(( $(rss_kb "$clamd_pid") / 1024 )) MB;" \
    "amavisd-new (master and children, PSS: shared pages counted once): $(( $(pss_kb "$amavis_pid" $(pgrep -P "$amavis_pid")) / 1024 )) MB;" \
    "Postfix (all processes, PSS): $(( $(pss_kb "$postfix_master" $(pgrep -P "$postfix_master")) / 1024 )) MB"
  echo "peer: $(dpkg-query -W -f='${Package} ${Version}  ' postfix amavisd-new clamav-daemon)"
  echo "amavisd-new: $(grep -c "Passed CLEAN" "$peer_dir/amavis/amavis.log" || true) messages passed clean"
fi

# The table. Before-queue paths (the sink, Bulwark): the client's figures — messages/s and
# MAIL FROM … final reply, which comes from the sink once it has the message. The
# after-queue peer: delivered to the sink per second (first MAIL FROM … last arrival) and
# MAIL FROM … arrival at the sink; its own reply (queued) alongside. Added = minus the
# sink's, same concurrency.
echo
python3 - "$results" << 'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def figures(r):
    if r["measure"] == "reply":
        return r["messages_per_second"], r["p50_ms"], r["p90_ms"], r["p99_ms"]
    return r["delivered_per_second"], r["arrival_p50_ms"], r["arrival_p90_ms"], r["arrival_p99_ms"]
floor = {r["sessions"]: figures(r) for r in rows if r["label"] == "client → smtp-sink"}
print("| path | sessions | messages/s | p50 | p90 | p99 | added p50 | added p99 "
      "| client's reply p50 / p99 |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    rate, p50, p90, p99 = figures(r)
    f = floor.get(r["sessions"])
    added = (f"{p50 - f[1]:+.1f} ms | {p99 - f[3]:+.1f} ms" if f and r["label"] != "client → smtp-sink"
             else "— | —")
    print(f"| {r['label']} | {r['sessions']} | {rate:.0f} | {p50:.1f} ms | {p90:.1f} ms "
          f"| {p99:.1f} ms | {added} | {r['p50_ms']:.1f} / {r['p99_ms']:.1f} ms |")
EOF
