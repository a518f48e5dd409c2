#!/usr/bin/env python3
"""SMTP load generator for bench/smtp_bench.sh.

Sends one prepared message (an .eml file) to host:port over `--sessions` concurrent SMTP
sessions, `--messages` messages in all, each session reusing its connection (RSET between
messages, as MTAs do). Measures each transaction from MAIL FROM to the reply to the final
dot — the latency a sending MTA sees, which for a before-queue gateway includes scanning
and the relay to the next hop. Prints one JSON line: messages/s, p50/p90/p99 latency (ms)
and how many transactions failed (with the first error).
"""
import argparse
import json
import smtplib
import statistics
import sys
import threading
import time


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


def run_session(host, port, message, count, recipient, latencies, failures, lock):
    try:
        client = smtplib.SMTP(host, port, timeout=120)
        client.ehlo("bench.example.com")
    except (OSError, smtplib.SMTPException) as error:
        with lock:
            failures.append(f"connect: {error}")
        return
    for _ in range(count):
        start = time.perf_counter()
        try:
            refused = client.sendmail("bench@example.com", [recipient], message)
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
    args = parser.parse_args()

    with open(args.message, "rb") as f:
        message = f.read()
    latencies, failures = [], []
    lock = threading.Lock()
    per_session = [args.messages // args.sessions] * args.sessions
    for i in range(args.messages % args.sessions):
        per_session[i] += 1
    threads = [
        threading.Thread(target=run_session,
                         args=(args.host, args.port, message, n, args.recipient, latencies,
                               failures, lock))
        for n in per_session
    ]
    start = time.perf_counter()
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
    print(json.dumps(result))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
