#!/usr/bin/env python3
"""ICAP RESPMOD load generator for bench/icap_bench.sh: persistent connections, Allow: 204,
no preview. Usage: icap_load.py PORT SERVICE FILE|unique-doc:FILE REQUESTS CLIENTS
Prints "requests/s mean-ms statuses" (statuses: ICAP code -> count)."""
import multiprocessing
import socket
import sys
import time
from collections import Counter


def read_until(sock, buf, marker):
    while marker not in buf:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        buf += data
    i = buf.index(marker) + len(marker)
    return buf[:i], buf[i:]


def read_reply(sock, buf):
    head, buf = read_until(sock, buf, b"\r\n\r\n")
    status = int(head[9:12])
    enc = [l for l in head.split(b"\r\n") if l.lower().startswith(b"encapsulated:")]
    if status == 200 and enc and b"body=" in enc[0] and b"null-body" not in enc[0]:
        offset = int(enc[0].split(b"body=")[1])
        while len(buf) < offset:
            buf += sock.recv(65536)
        buf = buf[offset:]
        while True:  # chunks
            line, buf = read_until(sock, buf, b"\r\n")
            size = int(line.split(b";")[0], 16)
            if size == 0:
                _, buf = read_until(sock, buf, b"\r\n")
                break
            while len(buf) < size + 2:
                buf += sock.recv(65536)
            buf = buf[size + 2:]
    return status, buf


def worker(args):
    port, service, body, unique, count, seed = args
    sock = socket.create_connection(("127.0.0.1", port))
    buf = b""
    statuses = Counter()
    req_hdr = b"GET http://bench.example/file HTTP/1.1\r\nHost: bench.example\r\n\r\n"
    for i in range(count):
        data = body + (b" %d %d" % (seed, i) if unique else b"")
        res_hdr = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data)
        msg = (b"RESPMOD icap://127.0.0.1:%d/%s ICAP/1.0\r\nHost: 127.0.0.1\r\nAllow: 204\r\n"
               b"Encapsulated: req-hdr=0, res-hdr=%d, res-body=%d\r\n\r\n"
               % (port, service.encode(), len(req_hdr), len(req_hdr) + len(res_hdr)))
        wire = msg + req_hdr + res_hdr + b"%x\r\n" % len(data) + data + b"\r\n0\r\n\r\n"
        try:
            sock.sendall(wire)
            status, buf = read_reply(sock, buf)
        except (ConnectionError, BrokenPipeError):  # the server ended keep-alive: reconnect
            sock.close()
            sock = socket.create_connection(("127.0.0.1", port))
            buf = b""
            sock.sendall(wire)
            status, buf = read_reply(sock, buf)
        statuses[status] += 1
    sock.close()
    return statuses


def main():
    port, service, what, requests, clients = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                              int(sys.argv[4]), int(sys.argv[5]))
    unique = what.startswith("unique-doc:")
    body = open(what.split(":", 1)[1] if unique else what, "rb").read()
    per = requests // clients
    jobs = [(port, service, body, unique, per, c) for c in range(clients)]
    start = time.perf_counter()
    with multiprocessing.Pool(clients) as pool:
        results = pool.map(worker, jobs)
    elapsed = time.perf_counter() - start
    total = Counter()
    for r in results:
        total.update(r)
    n = per * clients
    print(f"{n / elapsed:.0f} {elapsed / n * 1000 * clients:.2f} "
          + ",".join(f"{k}x{v}" for k, v in sorted(total.items())))


if __name__ == "__main__":
    main()
