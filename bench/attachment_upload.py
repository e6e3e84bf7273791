"""Uploading photos over a bad mobile link: 300 ms round trip, 5 % of
exchanges dropped (bench/latency_proxy.py), on loopback, against gunicorn.

A phone pushes the photos' records (one push), then uploads each photo's
bytes as the PWA does (js/uploads.js): ask ``/content/status``, send the
missing ranges in chunks, and after a dropped exchange send the chunk again
(a chunk sent twice is taken once) — for several chunk sizes. It prints,
per chunk size and photo size, the throughput (MB of photo per second of
wall clock) and the requests per photo (status and chunks, retries
included), and checks in the database that every photo arrived, once.

    .venv/bin/python -m bench.attachment_upload --json bench/results/attachment_upload.json
    .venv/bin/python -m bench.attachment_upload --rtt 0.05 --drop 0 --photos 2 --large 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import time
import uuid
from pathlib import Path

from bench.common import Http, HttpError, Phone, database, gunicorn, log, seed, workdir
from bench.latency_proxy import LatencyProxy

KIB, MIB = 1024, 1024 * 1024


def size_arg(text: str) -> int:
    text = text.strip().upper()
    for suffix, factor in (("M", MIB), ("K", KIB)):
        if text.endswith(suffix):
            return int(float(text[:-1]) * factor)
    return int(text)


def photo(size: int, rng: random.Random) -> bytes:
    """Bytes that start as a JPEG does (the server checks the first bytes and
    the SHA-256, not the picture); random, so nothing compresses them."""
    return b"\xff\xd8\xff\xe0" + rng.randbytes(size - 4)


def metadata_mutations(phone: Phone, visit_id: str, account_id: str, photos: dict[str, bytes]) -> list:
    now = int(time.time() * 1000)
    out = [{"seq": phone.seq + 1, "hlc": f"{now:013d}:0000:{phone.client_id}", "entity": "visit",
            "id": visit_id, "base_version": 0, "fields": {"account_id": account_id}}]
    for i, (attachment_id, data) in enumerate(photos.items(), start=2):
        out.append({"seq": phone.seq + i, "hlc": f"{now:013d}:{i:04x}:{phone.client_id}",
                    "entity": "attachment", "id": attachment_id, "base_version": 0,
                    "fields": {"visit_id": visit_id, "kind": "photo", "content_type": "image/jpeg",
                               "byte_size": len(data), "sha256": hashlib.sha256(data).hexdigest()}})
    phone.seq += len(out)
    return out


def upload(phone: Phone, attachment_id: str, data: bytes, chunk: int) -> None:
    """As js/uploads.js: status, then the missing ranges; the Http client
    sends a request again after a drop (a chunk is safe to send twice)."""
    base = f"/api/v1/attachments/{attachment_id}/content"
    for _ in range(20):
        state = phone.http.json("GET", base + "/status", headers=phone.headers)
        if state["uploaded"]:
            return
        for first, last in state["missing"]:
            for at in range(first, last + 1, chunk):
                end = min(last, at + chunk - 1)
                reply = phone.http.request("PUT", base, data[at:end + 1], {
                    **phone.headers, "Content-Range": f"bytes {at}-{end}/{len(data)}",
                    "Content-Type": "application/octet-stream"})
                if reply.status != 200:
                    raise HttpError(f"PUT {attachment_id}: {reply.status} {reply.body[:200]!r}")
                if reply.json()["uploaded"]:
                    return
    raise HttpError(f"{attachment_id} never completed")


def measure(server, proxy: LatencyProxy, account_id: str, sizes: list[int], chunk: int,
            retries: int, rng: random.Random) -> dict:
    http = Http(proxy.url, retries=retries, timeout=60)
    phone = Phone(http, "collector")
    photos = {str(uuid.uuid4()): photo(size, rng) for size in sizes}
    pushed = phone.push(phone.push_body(metadata_mutations(phone, str(uuid.uuid4()), account_id, photos)))
    assert all(r["status"] in ("applied", "duplicate") for r in pushed["results"]), pushed
    proxy.reset_counts()
    http.requests = http.failures = 0
    started = time.perf_counter()
    for attachment_id, data in photos.items():
        upload(phone, attachment_id, data, chunk)
    seconds = time.perf_counter() - started
    total = sum(len(d) for d in photos.values())
    http.close()
    return {"photos": len(photos), "bytes": total, "seconds": round(seconds, 2),
            "mb_per_s": round(total / MIB / seconds, 3),
            "requests_per_photo": round(http.requests / len(photos), 2),
            "retries": http.failures, "dropped": dict(proxy.stats), "ids": list(photos)}


def check_database(url: str, wd: Path, ids: list[str]) -> None:
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            f"SELECT uploaded, version FROM attachments WHERE id IN ({','.join('?' * len(ids))})",
            ids).fetchall()
    if sorted(rows) != [(1, 2)] * len(ids):
        raise RuntimeError(f"not every photo arrived exactly once: {rows}")
    objects = wd / "instance" / "attachments" / "objects"
    missing = [i for i in ids if not (objects / i).exists()]
    if missing:
        raise RuntimeError(f"photos missing from the store: {missing}")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rtt", type=float, default=0.3, help="round trip, seconds")
    parser.add_argument("--drop", type=float, default=0.05, help="share of exchanges dropped")
    parser.add_argument("--photos", type=int, default=10, help="phone-sized photos per run")
    parser.add_argument("--photo-size", type=size_arg, default=350 * KIB,
                        help="a photo as the phone makes it (1600 px JPEG)")
    parser.add_argument("--large", type=int, default=4, help="unresized photos per run (1-4 MiB)")
    parser.add_argument("--chunks", default="256K,512K,1M", help="chunk sizes to compare")
    parser.add_argument("--retries", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    chunks = [size_arg(c) for c in args.chunks.split(",")]
    rng = random.Random(args.seed)
    results: dict = {"rtt_s": args.rtt, "drop": args.drop, "runs": []}
    with workdir() as wd, database("sqlite", wd) as url:
        seeded = seed(url, wd, {"collector": 1})
        account = seeded["accounts"]["collector"][0]
        with gunicorn(url, wd) as server, LatencyProxy(
                int(server.url.rsplit(":", 1)[1]), rtt_s=args.rtt, drop_rate=args.drop,
                seed=args.seed) as proxy:
            for chunk in chunks:
                for label, sizes in (
                        ("phone", [args.photo_size] * args.photos),
                        ("large", [rng.randint(MIB, 4 * MIB) for _ in range(args.large)])):
                    if not sizes:
                        continue
                    log(f"chunk {chunk // KIB} KiB, {len(sizes)} {label} photos ...")
                    run = measure(server, proxy, account, sizes, chunk, args.retries, rng)
                    check_database(url, wd, run.pop("ids"))
                    run.update({"chunk_kib": chunk // KIB, "photos_kind": label,
                                "mean_kib": round(sum(sizes) / len(sizes) / KIB)})
                    results["runs"].append(run)
    print(f"upload through {args.rtt * 1000:.0f} ms round trip, {args.drop:.0%} of exchanges dropped")
    print(f"{'chunk':>7} {'photos':>14} {'MB/s':>7} {'req/photo':>10} {'retries':>8} {'seconds':>8}")
    for run in results["runs"]:
        print(f"{run['chunk_kib']:>5}Ki {run['photos']:>3} × {run['mean_kib']:>5} KiB "
              f"{run['mb_per_s']:>7.3f} {run['requests_per_photo']:>10.2f} {run['retries']:>8} "
              f"{run['seconds']:>8.1f}")
    print("load average (1, 5, 15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
