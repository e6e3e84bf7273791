"""Exports at scale: 100,000 visits (and a payment for every second one)
streamed through the Flask app as CSV and as Excel, visit log and payments.
Prints rows per second, the time to the first byte, the file size, the
peak of Python's heap while an export runs (tracemalloc, a second pass: it
slows Python down) and how much the process's maximum RSS grew.

    .venv/bin/python -m bench.exports                       # SQLite, 100,000 visits
    .venv/bin/python -m bench.exports --visits 20000 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

``--postgres`` (or FIELDVISIT_DATABASE_URL, when it names PostgreSQL) is an
admin URL: a fresh database is made under it and dropped at the end. The
rows are bulk-inserted (one INSERT per thousand rows): that is setup for
the benchmark, not how the product writes records (server/services/writes.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from werkzeug.security import generate_password_hash

from bench import common
from bench.common import log, workdir

EXPORTS = ("/supervisor/visits.csv", "/supervisor/visits.xlsx",
           "/supervisor/payments.csv", "/supervisor/payments.xlsx")
RESULTS = ("refused", "not_present", "promise_to_pay", "paid_partial", "paid_full")
FLAGS = ([], [], ["far_from_site"], [], ["arrived_late", "not_original_contact"])
NOTES = ("Owner asked for a week; cash flow is tight after the holiday.",
         "老闆說下週一會再匯款，請再確認。", "=SUM(A1:A9) was written on the receipt")
BATCH = 1000


def make_app(url: str, instance: Path):
    from server.app import create_app

    # The app's instance folder (its secrets) in the benchmark's own folder.
    with common._environment({"FIELDVISIT_INSTANCE_PATH": str(instance)}):
        return create_app({
            "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
            "WTF_CSRF_ENABLED": False, "SUPERVISOR_TIMEZONE": "Asia/Taipei",
        })


def seed(app, visits: int, accounts: int = 500) -> dict:
    """Users, accounts, visits and payments, inserted in bulk."""
    from server.cli import init_database
    from server.extensions import db
    from server.models import Account, Payment, User, Visit

    started = time.perf_counter()
    with app.app_context():
        init_database()
        cheap = generate_password_hash(common.PASSWORD, "pbkdf2:sha256:1000")
        collectors = [str(uuid.uuid4()) for _ in range(5)]
        db.session.execute(insert(User), [
            {"id": str(uuid.uuid4()), "username": "supervisor", "name": "Supervisor",
             "role": "supervisor", "password_hash": cheap},
            *({"id": cid, "username": f"collector{i}", "name": f"Collector {i}",
               "role": "collector", "password_hash": cheap} for i, cid in enumerate(collectors))])
        account_ids = [str(uuid.uuid4()) for _ in range(accounts)]
        db.session.execute(insert(Account), [
            {"id": aid, "ref": f"B-{i:05d}", "customer_name": f"商店 {i} Trading",
             "lat": 25.04 + i * 1e-4, "lon": 121.51, "timezone": "Asia/Taipei",
             "currency": "TWD", "principal": 5_000_000, "amount_due": 1_000_000,
             "assigned_collector_id": collectors[i % len(collectors)]}
            for i, aid in enumerate(account_ids)])
        start = datetime(2026, 1, 1, 1, tzinfo=UTC)
        payments = 0
        for first in range(0, visits, BATCH):
            rows, paid = [], []
            for i in range(first, min(first + BATCH, visits)):
                arrived = start + timedelta(minutes=7 * i)
                result = RESULTS[i % len(RESULTS)]
                vid = str(uuid.uuid4())
                account = account_ids[i % accounts]
                collector = collectors[i % len(collectors)]
                rows.append({
                    "id": vid, "version": 1, "account_id": account, "collector_id": collector,
                    "scheduled_at": arrived - timedelta(minutes=10), "status": "done",
                    "arrived_at": arrived, "departed_at": arrived + timedelta(minutes=25),
                    "checkin_lat": 25.0405, "checkin_lon": 121.5102, "checkin_accuracy_m": 12.5,
                    "met": "original_contact", "other_guests_present": i % 3 == 0,
                    "waited_minutes": i % 40, "result": result, "conduct_confirmed": True,
                    "promise_amount": 50000 if result == "promise_to_pay" else None,
                    "promise_date": (arrived + timedelta(days=7)).date()
                    if result == "promise_to_pay" else None,
                    "notes": NOTES[i % len(NOTES)], "flags": FLAGS[i % len(FLAGS)],
                })
                if i % 2 == 0:
                    paid.append({"id": str(uuid.uuid4()), "version": 1, "account_id": account,
                                 "visit_id": vid, "collector_id": collector, "amount": 25000,
                                 "method": "cash", "collected_at": arrived + timedelta(minutes=20),
                                 "status": ("recorded", "confirmed", "rejected")[i % 3]})
            db.session.execute(insert(Visit), rows)
            if paid:
                db.session.execute(insert(Payment), paid)
                payments += len(paid)
        db.session.commit()
    log(f"seeded {visits} visits and {payments} payments in "
        f"{time.perf_counter() - started:.1f} s")
    return {"visits": visits, "payments": payments}


def signed_in(app):
    client = app.test_client()
    answer = client.post("/supervisor/login",
                         data={"username": "supervisor", "password": common.PASSWORD})
    if answer.status_code != 302:
        raise SystemExit(f"login failed: {answer.status_code}")
    return client


def stream(client, path: str) -> dict:
    """One export, read chunk by chunk as a browser would."""
    started = time.perf_counter()
    response = client.get(path, buffered=False)
    if response.status_code != 200:
        raise SystemExit(f"{path}: {response.status_code}")
    size, first_byte, newlines, chunks = 0, None, 0, 0
    for chunk in response.response:
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(chunk)
        chunks += 1
        if path.endswith(".csv"):
            newlines += chunk.count(b"\n")
    response.close()
    return {"seconds": time.perf_counter() - started, "first_byte_s": first_byte,
            "bytes": size, "chunks": chunks, "lines": newlines}


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(app, rows_for: dict, memory: bool) -> list[dict]:
    client = signed_in(app)
    figures = []
    for path in EXPORTS:
        rows = rows_for["visits" if "visits" in path else "payments"]
        before = max_rss_mib()
        run = stream(client, path)
        run.update(path=path, rows=rows, rows_per_s=rows / run["seconds"],
                   max_rss_growth_mib=max_rss_mib() - before)
        if path.endswith(".csv") and run["lines"] != rows + 1:
            raise SystemExit(f"{path}: {run['lines']} lines for {rows} rows")
        if memory:
            tracemalloc.start()
            stream(client, path)
            run["peak_heap_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        figures.append(run)
        log(f"{path}: {run['rows_per_s']:,.0f} rows/s")
    return figures


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visits", type=int, default=100_000)
    env_url = os.environ.get("FIELDVISIT_DATABASE_URL", "")
    parser.add_argument("--postgres", default=env_url if env_url.startswith("postgres") else None,
                        help="PostgreSQL admin URL: also run on a fresh database under it")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the tracemalloc pass (it doubles the run time)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    backends = ["sqlite"] + (["postgres"] if args.postgres else [])
    if args.postgres:
        common.PG_ADMIN_URL = args.postgres
    results = {}
    for backend in backends:
        with workdir() as wd, common.database(backend, wd) as url:
            app = make_app(url, wd / "instance")
            counts = seed(app, args.visits)
            results[backend] = {"counts": counts,
                                "runs": measure(app, counts, not args.no_memory)}
            with app.app_context():
                from server.extensions import db
                db.session.remove()
                db.engine.dispose()
    print(f"\nexports of {args.visits:,} visits, streamed through the Flask app "
          "(in process, test client)\n")
    print(f"{'':9} {'export':26} {'rows':>8} {'rows/s':>9} {'1st byte s':>10} "
          f"{'total s':>8} {'MiB':>7} {'heap peak MiB':>13} {'RSS +MiB':>9}")
    for backend, result in results.items():
        for r in result["runs"]:
            peak = f"{r['peak_heap_mib']:.1f}" if "peak_heap_mib" in r else "—"
            print(f"{backend:9} {r['path']:26} {r['rows']:>8,} {r['rows_per_s']:>9,.0f} "
                  f"{r['first_byte_s']:>10.2f} {r['seconds']:>8.1f} {r['bytes'] / 2**20:>7.1f} "
                  f"{peak:>13} {r['max_rss_growth_mib']:>9.1f}")
    print("\nRSS +MiB: growth of the process's maximum resident set during the export "
          "(0 once an earlier export reached a higher peak)")
    figures = {"visits": args.visits, "date": date.today().isoformat(), "results": results}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
