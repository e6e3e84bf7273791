"""What the device report (docs/protocol.md 1.1) costs a pull, in process.

One collector with a few accounts pulls an empty page (cursor at the head,
the most common pull: a phone syncing every minute with nothing new) N
times in each of three ways, through Flask's test client (no network, so
the figure is the server's own work):

- ``none``: no device headers (a version 1 client);
- ``quiet``: all four headers, unchanged, within the minute (read the
  client row, write nothing);
- ``changing``: the outbox count changes every time (read, update, commit).

Prints the median and p95 per pull in milliseconds. Creates a temporary
SQLite file, or a PostgreSQL database of its own (dropped at the end)::

    .venv/bin/python bench/device_report.py --pulls 300
    .venv/bin/python bench/device_report.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402


def _database(url: str | None):
    if not url or url == "sqlite":
        folder = tempfile.mkdtemp(prefix="fieldvisit-bench-")
        return f"sqlite:///{folder}/bench.sqlite3", lambda: shutil.rmtree(folder, ignore_errors=True)
    name = f"fieldvisit_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    return url.rsplit("/", 1)[0] + "/" + name, drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pulls", type=int, default=300)
    parser.add_argument("--database-url", default="sqlite")
    args = parser.parse_args()
    pulls = max(10, min(args.pulls, 5000))

    from webtest import TestApp

    from server.app import create_app
    from server.extensions import db
    from server.services.changes import ensure_feed_state
    from tests.helpers import World

    url, drop = _database(args.database_url)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            ensure_feed_state()
        web = TestApp(app)
        world = World.create(app, web)
        alice = world.phone("alice")
        cursor = alice.pull().json["cursor"]
        base = {**alice.headers, "Fieldvisit-Client": alice.client_id,
                "Fieldvisit-App-Version": "0123456789ab", "Fieldvisit-Storage": "persisted"}
        ways = {
            "none": lambda i: alice.headers,
            "quiet": lambda i: {**base, "Fieldvisit-Outbox": "0"},
            "changing": lambda i: {**base, "Fieldvisit-Outbox": str(i % 2 + 1)},
        }
        print(f"database: {url.split(':', 1)[0]}, {pulls} pulls each (empty page)")
        for name, headers_for in ways.items():
            for i in range(20):  # warm up
                web.get("/api/v1/sync/pull", {"cursor": cursor}, headers=headers_for(i))
            times = []
            for i in range(pulls):
                started = time.perf_counter()
                web.get("/api/v1/sync/pull", {"cursor": cursor}, headers=headers_for(i))
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            print(f"{name:>9}: median {statistics.median(times):.2f} ms, "
                  f"p95 {times[int(len(times) * 0.95)]:.2f} ms")
        with app.app_context():
            db.engine.dispose()
    finally:
        drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
