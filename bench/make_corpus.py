#!/usr/bin/env python3
"""Builds the two corpora of the side-by-side benchmark (bench/corpus_bench.sh).

unique/  N files of mixed kinds, every one different: text, HTML, zip archives of text,
         gzip'd text, and mails with a base64 attachment. Models a file share.
mail/    M mails whose attachments come from a pool of M/10 distinct ones, so each
         attachment recurs 10 times: the same campaign or newsletter sent to many mailboxes.
No content comes from outside: words are drawn from a fixed list with a seeded generator.
"""
import argparse
import base64
import gzip
import io
import os
import random
import zipfile

WORDS = ("invoice meeting quarterly report shipping account review budget forecast customer "
         "delivery schedule contract signature payment balance statement project update "
         "the and of to in for with on at by from").split()


def words(rng, size):
    out = []
    n = 0
    while n < size:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w) + 1
    return (" ".join(out))[:size]


def zip_of(rng, members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def mail(rng, subject, body, attachment_name, attachment):
    b = "=_bench_" + str(rng.randrange(1 << 30))
    att = base64.encodebytes(attachment).decode()
    return (f"From: Sender <sender@example.com>\r\nTo: User <user@example.org>\r\n"
            f"Subject: {subject}\r\nDate: Tue, 14 Nov 2023 10:00:00 +0000\r\n"
            f"Message-ID: <{rng.randrange(1 << 60)}@example.com>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n--{b}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--{b}\r\n"
            f"Content-Type: application/zip; name=\"{attachment_name}\"\r\n"
            f"Content-Disposition: attachment; filename=\"{attachment_name}\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{att}--{b}--\r\n").encode()


def unique_file(rng, i):
    kind = i % 5
    if kind == 0:
        return f"doc{i}.txt", words(rng, rng.randrange(20_000, 400_000)).encode()
    if kind == 1:
        body = words(rng, rng.randrange(20_000, 200_000))
        return f"page{i}.html", f"<!DOCTYPE html><html><body><p>{body}</p></body></html>".encode()
    if kind == 2:
        members = [(f"part{j}.txt", words(rng, rng.randrange(20_000, 150_000)))
                   for j in range(rng.randrange(2, 6))]
        return f"archive{i}.zip", zip_of(rng, members)
    if kind == 3:
        return f"log{i}.txt.gz", gzip.compress(words(rng, rng.randrange(50_000, 400_000)).encode())
    att = zip_of(rng, [("report.txt", words(rng, rng.randrange(20_000, 200_000)))])
    return f"mail{i}.eml", mail(rng, f"Report {i}", words(rng, 2000), "report.zip", att)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--unique", type=int, default=1000)
    parser.add_argument("--mails", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(20261128)
    unique_dir = os.path.join(args.out, "unique")
    mail_dir = os.path.join(args.out, "mail")
    os.makedirs(unique_dir, exist_ok=True)
    os.makedirs(mail_dir, exist_ok=True)
    for i in range(args.unique):
        name, data = unique_file(rng, i)
        with open(os.path.join(unique_dir, name), "wb") as f:
            f.write(data)
    pool = [zip_of(rng, [(f"statement{j}.txt", words(rng, rng.randrange(100_000, 400_000)))])
            for j in range(max(1, args.mails // 10))]
    for i in range(args.mails):
        att = pool[i % len(pool)]
        data = mail(rng, f"Your statement {i}", words(rng, 1500), "statement.zip", att)
        with open(os.path.join(mail_dir, f"m{i:05d}.eml"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
