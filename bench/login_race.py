"""The login limit under a race: 40 wrong passwords for one user sent at
the same instant, counted by how many the server actually checked (401)
and how many it refused unchecked (429). The limit is 5.

    .venv/bin/python bench/login_race.py                 # the shipped gunicorn.conf.py
    .venv/bin/python bench/login_race.py --server dev    # flask's development server
    .venv/bin/python bench/login_race.py --root ../old --server gunicorn-w4

``--root`` runs another checkout's code (to measure a version before a
change); ``gunicorn-w4`` is the README's old recipe (four sync workers).
Each run repeats ``--rounds`` times on a fresh user so that no failure of
one round counts in the next.
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import (  # noqa: E402
    DEFAULT_ADMIN_URL,
    ROOT,
    Database,
    ServerProcess,
    _bin,
    call,
    provision,
)
from bench.slow_clients import ProductionServer  # noqa: E402


class DevServer(ServerProcess):
    def command(self) -> list[str]:
        return [_bin("flask"), "--app", "wsgi", "run", "--port", str(self.port), "--with-threads"]


class FourSyncWorkers(ServerProcess):
    def command(self) -> list[str]:
        return [_bin("gunicorn"), "-c", "/dev/null", "-w", "4", "-b", f"127.0.0.1:{self.port}",
                "wsgi:app"]


def race(url: str, username: str, guesses: int = 40) -> dict[int, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    barrier = threading.Barrier(guesses)

    def guess(i: int) -> int:
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        body = json.dumps({"username": username, "password": f"wrong-{i}"})
        conn.connect()
        barrier.wait()
        conn.request("POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"})
        status = conn.getresponse().status
        conn.close()
        return status

    with ThreadPoolExecutor(guesses) as pool:
        statuses = list(pool.map(guess, range(guesses)))
    return {code: statuses.count(code) for code in sorted(set(statuses))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=("shipped", "dev", "gunicorn-w4"), default="shipped")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=DEFAULT_ADMIN_URL)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="fieldvisit-race-"))
    database = Database.create(args.database_url, workdir)
    server = None
    try:
        users = [f"racer{i}" for i in range(args.rounds)]
        env = provision(database, workdir, users)
        kind = {"shipped": ProductionServer, "dev": DevServer,
                "gunicorn-w4": FourSyncWorkers}[args.server]
        server = kind(env, workdir)
        server.root = args.root
        server.start()
        print(f"server: {args.server}, code from {args.root}, "
              f"{'PostgreSQL' if database.is_postgres else 'SQLite'}")
        for user in users:
            call(server.url, "GET", "/api/v1/health")
            counts = race(server.url, user)
            print(f"{user}: {counts.get(401, 0)} of 40 guesses checked (401), "
                  f"{counts.get(429, 0)} refused unchecked (429), others {counts}", flush=True)
            time.sleep(1)
        return 0
    finally:
        if server is not None:
            server.stop()
        database.drop()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


if __name__ == "__main__":
    sys.exit(main())
