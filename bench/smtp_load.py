#!/usr/bin/env python3
"""SMTP load generator for bench/smtp_bench.sh.

Sends one prepared message (an .eml file) to host:port over `--sessions` concurrent SMTP
sessions, `--messages` messages in all, each session reusing its connection (RSET between
messages, as MTAs do). Measures each transaction from MAIL FROM to the reply to the final
dot — the latency a sending MTA sees, which for a before-queue gateway includes scanning
and the relay to the next hop. Prints one JSON line: messages/s, p50/p90/p99 latency (ms)
and how many transactions failed (with the first error).

With `--arrivals DIR` (the dump directory of `smtp-sink -d`), each message also carries an
`X-Bench-Id` header (first line, unique per message) and the run waits until every
accepted message has arrived in DIR: for each, send → arrival is the dump file's mtime
minus the MAIL FROM time (wall clock). That is the latency of an after-queue filter, whose
reply to the client comes when the message is queued, not delivered. It adds the arrival
percentiles and `delivered_per_second` (arrived messages / first MAIL FROM … last arrival)
to the JSON, and removes the dump files it matched. File times come from the kernel's
coarse clock: they can be a tick (a few ms) early, which matters only for fast paths.

`--wait-arrival` (with `--arrivals`) makes each session wait until its message has arrived
before it sends the next: the same closed loop a before-queue gateway imposes on its
clients, so an after-queue path is measured at a load it can sustain instead of with a
queue that grows for the whole run.
"""
import argparse
import json
import os
import smtplib
import statistics
import sys
import threading
import time
import uuid


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


class Arrivals:
    """The sink's dump files of our messages: {bench id: mtime}, each file removed once read.

    A file is ours when its head has an X-Bench-Id line; complete when it ends with the
    message's last line (smtp-sink writes LF line ends and a blank line after the message)."""

    def __init__(self, directory, message):
        self.directory = directory
        self.last_line = message.rstrip(b"\r\n").rsplit(b"\n", 1)[-1].rstrip(b"\r") + b"\n"
        self.times = {}
        self.cond = threading.Condition()
        self.stopped = False

    def scan(self):
        found = {}
        for root, _, files in os.walk(self.directory):
            for name in files:
                path = os.path.join(root, name)
                try:
                    with open(path, "rb") as f:
                        head = f.read(16384)
                        f.seek(max(0, os.fstat(f.fileno()).st_size - len(self.last_line) - 8))
                        tail = f.read().rstrip(b"\n") + b"\n"
                        mtime = os.fstat(f.fileno()).st_mtime_ns / 1e9
                except OSError:
                    continue
                marker = head.find(b"X-Bench-Id: ")
                end = head.find(b"\n", marker)
                if marker < 0 or end < 0 or not tail.endswith(self.last_line):
                    continue  # not ours, or still being written
                found[head[marker + 12:end].strip().decode()] = mtime
                os.remove(path)
        if found:
            with self.cond:
                self.times.update(found)
                self.cond.notify_all()

    def watch(self, interval):
        while not self.stopped:
            self.scan()
            time.sleep(interval)

    def wait_for(self, bench_id, timeout):
        with self.cond:
            return self.cond.wait_for(lambda: bench_id in self.times, timeout)

    def wait_all(self, ids, timeout, interval=0.2):
        deadline = time.monotonic() + timeout
        while True:
            self.scan()
            if all(i in self.times for i in ids) or time.monotonic() > deadline:
                return
            time.sleep(interval)


def run_session(host, port, message, count, recipient, latencies, failures, lock, tag,
                sent, arrivals, wait_timeout):
    try:
        client = smtplib.SMTP(host, port, timeout=120)
        client.ehlo("bench.example.com")
    except (OSError, smtplib.SMTPException) as error:
        with lock:
            failures.append(f"connect: {error}")
        return
    for n in range(count):
        data = message
        bench_id = None
        if tag is not None:
            bench_id = f"{tag}.{n}"
            data = b"X-Bench-Id: " + bench_id.encode() + b"\r\n" + message
        wall = time.time()
        start = time.perf_counter()
        try:
            refused = client.sendmail("bench@example.com", [recipient], data)
            ok = not refused
        except smtplib.SMTPException as error:
            ok = False
            with lock:
                failures.append(str(error))
            try:
                client.rset()
            except smtplib.SMTPException:
                break
        elapsed = (time.perf_counter() - start) * 1000.0
        if ok:
            with lock:
                latencies.append(elapsed)
                if sent is not None:
                    sent[bench_id] = wall
            if arrivals is not None and not arrivals.wait_for(bench_id, wait_timeout):
                with lock:
                    failures.append(f"{bench_id} did not arrive within {wait_timeout} s")
    try:
        client.quit()
    except smtplib.SMTPException:
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--message", required=True, help="the .eml file to send")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--recipient", default="user@example.org")
    parser.add_argument("--label", default="")
    parser.add_argument("--arrivals", help="smtp-sink's dump directory: also time send → arrival")
    parser.add_argument("--wait-arrival", action="store_true",
                        help="each session sends its next message once the last has arrived")
    parser.add_argument("--arrival-timeout", type=float, default=600.0)
    args = parser.parse_args()
    if args.wait_arrival and not args.arrivals:
        parser.error("--wait-arrival needs --arrivals")

    with open(args.message, "rb") as f:
        message = f.read()
    latencies, failures = [], []
    lock = threading.Lock()
    run_tag = uuid.uuid4().hex[:12]
    sent = {} if args.arrivals else None
    arrivals = Arrivals(args.arrivals, message) if args.arrivals else None
    watcher = None
    if args.wait_arrival:
        watcher = threading.Thread(target=arrivals.watch, args=(0.002,), daemon=True)
        watcher.start()
    per_session = [args.messages // args.sessions] * args.sessions
    for i in range(args.messages % args.sessions):
        per_session[i] += 1
    threads = [
        threading.Thread(target=run_session,
                         args=(args.host, args.port, message, n, args.recipient, latencies,
                               failures, lock, f"{run_tag}.{i}" if args.arrivals else None, sent,
                               arrivals if args.wait_arrival else None, args.arrival_timeout))
        for i, n in enumerate(per_session)
    ]
    start = time.perf_counter()
    start_wall = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()
    result = {
        "label": args.label,
        "sessions": args.sessions,
        "messages": args.messages,
        "delivered": len(latencies),
        "failed": len(failures),
        "first_error": failures[0] if failures else None,
        "seconds": round(wall, 3),
        "messages_per_second": round(len(latencies) / wall, 1) if wall > 0 else None,
        "p50_ms": round(percentile(latencies, 0.50), 2) if latencies else None,
        "p90_ms": round(percentile(latencies, 0.90), 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 2) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
    }
    missing = 0
    if args.arrivals:
        arrivals.wait_all(list(sent), args.arrival_timeout)
        if watcher is not None:
            arrivals.stopped = True
            watcher.join()
        times = {i: t for i, t in arrivals.times.items() if i in sent}
        arrival = sorted((times[i] - sent[i]) * 1000.0 for i in times)
        missing = len(sent) - len(times)
        last = max(times.values()) if times else start_wall
        result.update({
            "wait_arrival": args.wait_arrival,
            "arrived": len(times),
            "missing": missing,
            "delivered_per_second":
                round(len(times) / (last - start_wall), 1) if last > start_wall else None,
            "arrival_p50_ms": round(percentile(arrival, 0.50), 2) if arrival else None,
            "arrival_p90_ms": round(percentile(arrival, 0.90), 2) if arrival else None,
            "arrival_p99_ms": round(percentile(arrival, 0.99), 2) if arrival else None,
            "arrival_mean_ms": round(statistics.fmean(arrival), 2) if arrival else None,
        })
    print(json.dumps(result))
    return 0 if not failures and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
