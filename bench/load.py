"""Load benchmark: N simulated phones against gunicorn and a database of
its own, each doing login -> pull -> push 20 visits -> pull.

    .venv/bin/python bench/load.py --phones 200 --workers 4 --concurrency 50

It creates a fresh database (a PostgreSQL database under the admin URL, or
a temporary SQLite file with ``--database-url sqlite``), provisions it the
way an operator would (``flask init-db``, users, ``flask import-accounts``),
starts gunicorn on a free loopback port in its own process group, runs the
phones on a thread pool, prints throughput and latency percentiles per
operation, then counts what reached the database directly. It exits 1 when
the counts are not exactly N x 20 visits and every client at last_seq 20.

The server harness here (``Database``, ``provision``, ``ServerProcess``) is
reused by ``tests/faults``.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load-test-password"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
VISITS_PER_PHONE = 20


# --- databases --------------------------------------------------------------

@dataclass
class Database:
    """A database made for one run and dropped after it; queried directly
    (sqlite3 / psycopg), never through the application."""

    url: str
    admin_url: str | None = None
    name: str | None = None
    path: Path | None = None

    @classmethod
    def create(cls, admin_url: str, workdir: Path) -> Database:
        if admin_url.startswith("sqlite"):
            path = workdir / "fieldvisit.sqlite3"
            return cls(url=f"sqlite:///{path}", path=path)
        name = f"fieldvisit_f_{uuid.uuid4().hex[:12]}"
        with _pg_connect(admin_url) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return cls(url=f"{admin_url.rsplit('/', 1)[0]}/{name}", admin_url=admin_url, name=name)

    @property
    def is_postgres(self) -> bool:
        return self.name is not None

    def rows(self, sql: str) -> list[tuple]:
        if self.path is not None:
            with sqlite3.connect(self.path, timeout=30) as conn:
                return conn.execute(sql).fetchall()
        with _pg_connect(self.url) as conn:
            return conn.execute(sql).fetchall()

    def scalar(self, sql: str):
        return self.rows(sql)[0][0]

    def drop(self) -> None:
        if not self.is_postgres:
            return
        with _pg_connect(self.admin_url) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s", (self.name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}"')


def _pg_connect(url: str):
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    return psycopg.connect(plain, autocommit=True)


# --- provisioning, as an operator does it -----------------------------------

def server_env(database: Database, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "FIELDVISIT_DATABASE_URL": database.url,
        "FIELDVISIT_SECRET_KEY": "fault-and-load-secret",
        "FIELDVISIT_INSTANCE_PATH": str(workdir / "instance"),
        "PYTHONPATH": str(ROOT),
    })
    return env


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def flask_run(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``flask --app wsgi ARGS`` as an operator runs it, against ``env``'s database."""
    return subprocess.run([_bin("flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def flask_cli(env: dict, *args: str, timeout: float = 120) -> str:
    done = flask_run(env, *args, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({done.returncode}):\n"
                           f"{done.stdout}\n{done.stderr}")
    return done.stdout


# One scrypt hash for every user: hashing is deliberately slow, and hundreds
# of users with the same benchmark password need only one.
_CREATE_USERS = """
import json, sys
from server.app import create_app
from server.extensions import db
from server.models import User, new_id
from server.services.auth import hash_password
names, password = json.loads(sys.argv[1]), sys.argv[2]
app = create_app()
with app.app_context():
    digest = hash_password(password)
    db.session.add_all([User(id=new_id(), username=n, name=n, role="collector",
                             password_hash=digest) for n in names])
    db.session.commit()
"""


def provision(database: Database, workdir: Path, usernames: list[str],
              accounts_per_user: int = 1) -> dict[str, str]:
    """Schema, collectors (password ``PASSWORD``) and their accounts.
    Returns the server's environment."""
    env = server_env(database, workdir)
    flask_cli(env, "init-db")
    done = subprocess.run([sys.executable, "-c", _CREATE_USERS, json.dumps(usernames), PASSWORD],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"creating users failed:\n{done.stderr}")
    path = workdir / "accounts.csv"
    write_accounts_csv(path, usernames, accounts_per_user)
    flask_cli(env, "import-accounts", str(path))
    return env


def write_accounts_csv(path: Path, usernames: list[str], per_user: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["ref", "customer_name", "original_contact_name", "original_contact_role",
                      "original_contact_phone", "address", "lat", "lon", "timezone", "currency",
                      "principal", "amount_due", "due_since", "collector"])
        for u, name in enumerate(usernames):
            for a in range(per_user):
                out.writerow([f"LOAD-{u:05d}-{a}", f"Shop {u}-{a}", f"Owner {u}", "Owner",
                              "0912-555-000", f"Street {u}", f"{25.0 + u * 1e-4:.5f}",
                              f"{121.5 + a * 1e-4:.5f}", "Asia/Taipei", "TWD", "1000.00",
                              "500.00", "2026-01-15", name])


# --- the server process -----------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """gunicorn in a process group of its own, so that ``kill()`` takes the
    master and every worker at once (``kill -9`` of a whole server)."""

    def __init__(self, env: dict, workdir: Path, workers: int = 2, port: int | None = None,
                 lifetime_s: float = 1800):
        self.env = env
        self.lifetime_s = lifetime_s
        self.workers = workers
        self.port = port or free_port()
        self.log_path = workdir / f"gunicorn-{self.port}.log"
        self.proc: subprocess.Popen | None = None
        self.root = ROOT  # the code it runs (another checkout, to measure it)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [_bin("gunicorn"), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                "--timeout", "60", "--graceful-timeout", "5", "wsgi:app"]

    def start(self, ready_timeout: float = 60) -> ServerProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        command = self.command()
        if shutil.which("timeout"):
            # Bounded even if we are SIGKILLed before our cleanup runs: the
            # server lives in its own session, so nothing else would stop it.
            command = ["timeout", "-s", "KILL", str(int(self.lifetime_s)), *command]
        self.proc = subprocess.Popen(
            command,
            cwd=self.root, env=self.env, stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log_tail()}")
            try:
                status, _ = call(self.url, "GET", "/api/v1/openapi.json", timeout=5)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"gunicorn not ready within {ready_timeout}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the whole group: no graceful shutdown, no finished requests."""
        self._signal_group(signal.SIGKILL)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._signal_group(signal.SIGKILL)  # workers orphaned by an earlier crash
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)  # the group id is the master's pid
        except ProcessLookupError:
            pass
        if sig == signal.SIGKILL:
            self.proc.wait(timeout=30)
            _wait_group_gone(self.proc.pid)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _wait_group_gone(pgid: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


# --- HTTP -------------------------------------------------------------------

def call(base_url: str, method: str, path: str, body=None, token: str | None = None,
         timeout: float = 60) -> tuple[int, dict | None]:
    """One exchange on a fresh connection; (status, JSON body or None)."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    headers = {"Accept": "application/json", "Connection": "close"}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, payload, headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    return response.status, data


def hlc(ms: int, counter: int, node: str) -> str:
    return f"{ms:013d}:{counter % 0x10000:04x}:{node}"


def visit_mutation(seq: int, client_id: str, account_id: str, visit_id: str | None = None) -> dict:
    return {
        "seq": seq, "hlc": hlc(int(time.time() * 1000), seq, client_id), "entity": "visit",
        "id": visit_id or str(uuid.uuid4()), "base_version": 0,
        "fields": {"account_id": account_id, "status": "planned",
                   "scheduled_at": f"2026-12-{1 + seq % 28:02d}T10:00:00+08:00",
                   "plan_notes": f"load visit {seq}"},
    }


# --- the benchmark ----------------------------------------------------------

@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, op: str, base_url: str, method: str, path: str, body=None,
              token=None, expect=200) -> dict | None:
        started = time.perf_counter()
        try:
            status, data = call(base_url, method, path, body, token)
        except OSError:
            status, data = None, None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies.setdefault(op, []).append(elapsed)
            if status != expect:
                self.errors[op] = self.errors.get(op, 0) + 1
        return data if status == expect else None


def run_phone(base_url: str, username: str, stats: Stats, deadline: float) -> None:
    if time.monotonic() > deadline:
        with stats.lock:
            stats.errors["skipped (time limit)"] = stats.errors.get("skipped (time limit)", 0) + 1
        return
    login = stats.timed("login", base_url, "POST", "/api/v1/auth/login",
                        {"username": username, "password": PASSWORD})
    if login is None:
        return
    token = login["token"]
    page = stats.timed("pull", base_url, "GET", "/api/v1/sync/pull", token=token)
    if page is None:
        return
    accounts = [c["id"] for c in page["changes"] if c["entity"] == "account" and not c["deleted"]]
    if not accounts:
        with stats.lock:
            stats.errors["no account"] = stats.errors.get("no account", 0) + 1
        return
    client_id = str(uuid.uuid4())
    mutations = [visit_mutation(seq, client_id, accounts[seq % len(accounts)])
                 for seq in range(1, VISITS_PER_PHONE + 1)]
    stats.timed("push", base_url, "POST", "/api/v1/sync/push",
                {"client_id": client_id, "mutations": mutations}, token)
    stats.timed("pull", base_url, "GET", f"/api/v1/sync/pull?cursor={page['cursor']}", token=token)


def percentile(values: list[float], pct: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def report(stats: Stats, wall: float) -> None:
    total = sum(len(v) for v in stats.latencies.values())
    print(f"requests: {total} in {wall:.1f} s = {total / wall:.1f} req/s")
    print(f"{'operation':<10}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for op in ("login", "pull", "push"):
        values = stats.latencies.get(op, [])
        if values:
            p50, p95, p99 = (percentile(values, p) * 1000 for p in (50, 95, 99))
            print(f"{op:<10}{len(values):>7}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}"
                  f"{stats.errors.get(op, 0):>8}")
    others = {k: v for k, v in stats.errors.items() if k not in ("login", "pull", "push")}
    if others:
        print(f"other errors: {others}")


def verify(database: Database, phones: int) -> list[str]:
    """Exact counts, read from the database itself."""
    problems = []
    visits = database.scalar("SELECT count(*) FROM visits")
    if visits != phones * VISITS_PER_PHONE:
        problems.append(f"visits: {visits}, expected {phones * VISITS_PER_PHONE}")
    clients = database.rows("SELECT last_seq, count(*) FROM clients GROUP BY last_seq")
    if clients != [(VISITS_PER_PHONE, phones)]:
        problems.append(f"clients by last_seq: {clients}, expected [({VISITS_PER_PHONE}, {phones})]")
    return problems


def run(args) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="fieldvisit-load-"))
    database = Database.create(args.database_url, workdir)
    server = None
    try:
        usernames = [f"loadphone{i:05d}" for i in range(args.phones)]
        started = time.monotonic()
        env = provision(database, workdir, usernames)
        print(f"provisioned {args.phones} collectors and accounts in "
              f"{time.monotonic() - started:.1f} s on {'PostgreSQL' if database.is_postgres else 'SQLite'}")
        server = ServerProcess(env, workdir, workers=args.workers,
                               lifetime_s=args.time_limit + 300).start()
        print(f"{args.phones} phones, {args.concurrency} at a time, gunicorn -w {args.workers}")
        stats = Stats()
        deadline = time.monotonic() + args.time_limit
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            list(pool.map(lambda name: run_phone(server.url, name, stats, deadline), usernames))
        report(stats, time.monotonic() - started)
        # The figures mean little without the machine's state beside them.
        print("load average (1, 5, 15 min): {:.1f} {:.1f} {:.1f} on {} CPUs".format(
            *os.getloadavg(), os.cpu_count()))
        problems = verify(database, args.phones)
        for problem in problems:
            print(f"MISMATCH {problem}")
        if not problems:
            print(f"verified: {args.phones * VISITS_PER_PHONE} visits, "
                  f"{args.phones} clients at last_seq {VISITS_PER_PHONE}")
        return 1 if problems else 0
    finally:
        if server is not None:
            server.stop()
        database.drop()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="N phones: login, pull, push 20 visits, pull.")
    parser.add_argument("--phones", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, default=50, help="phones in flight at once")
    parser.add_argument("--database-url", default=DEFAULT_ADMIN_URL,
                        help="PostgreSQL admin URL (a database is created and dropped under it), "
                             "or 'sqlite' for a temporary SQLite file")
    parser.add_argument("--time-limit", type=float, default=600,
                        help="seconds after which no new phone starts")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
