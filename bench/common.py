"""Shared pieces of the sync benchmarks (sync_throughput, bad_network,
first_sync, plot_batches): a real server under gunicorn on a fresh SQLite
file or a fresh PostgreSQL database, seeded users and accounts, a minimal
protocol client that counts requests and bytes, and pouchdb-server from npm
for the CouchDB-style comparison.

Everything runs on loopback. Every process is started in a session of its
own and killed as a process group in a ``finally`` block, every wait is
bounded, and every database or folder made here is removed at the end.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "FIELDVISIT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "bench password 1"
# A fixed, reused folder: installing pouchdb-server takes about a minute,
# so later runs (and the smoke test) reuse the install.
NPM_DIR = Path(os.environ.get("FIELDVISIT_BENCH_NPM_DIR",
                              Path(tempfile.gettempdir()) / "fieldvisit-bench-npm"))
POUCHDB_SERVER_VERSION = "4.2.0"
START_TIMEOUT_S = 60.0

try:  # the server depends on orjson; a faster client skews nothing either way
    import orjson

    def dumps(value) -> bytes:
        return orjson.dumps(value)

    loads = orjson.loads
except ImportError:  # pragma: no cover
    def dumps(value) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    loads = json.loads


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------
# HTTP client


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    wire_body: bytes  # as it crossed the wire (maybe gzip)
    body: bytes  # decoded

    def json(self):
        return loads(self.body)


class HttpError(RuntimeError):
    pass


class Http:
    """One keep-alive HTTP/1.1 connection that counts what it sends and
    receives. ``retries`` > 0 reconnects and resends after a network
    failure, as a phone's outbox does (a push is safe to resend: the
    protocol answers ``duplicate``)."""

    def __init__(self, base_url: str, *, timeout: float = 120.0, retries: int = 0,
                 gzip_ok: bool = False):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.timeout = timeout
        self.retries = retries
        self.gzip_ok = gzip_ok
        self.conn: http.client.HTTPConnection | None = None
        self.requests = 0  # every attempt, failed ones included
        self.failures = 0
        self.connections = 0
        self.bytes_up = 0
        self.bytes_down = 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        for attempt in range(self.retries + 1):
            try:
                return self._once(method, path, body, headers or {})
            except (OSError, http.client.HTTPException) as exc:
                self.failures += 1
                self.close()
                if attempt == self.retries:
                    raise HttpError(f"{method} {path}: {exc!r} after {attempt + 1} attempts") from exc
                time.sleep(min(0.05 * 2 ** attempt, 1.0))
        raise AssertionError("unreachable")

    def _once(self, method, path, body, headers) -> Reply:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.connections += 1
        sent = {"Host": f"{self.host}:{self.port}", **headers}
        sent["Accept-Encoding"] = "gzip" if self.gzip_ok else "identity"
        if body is not None:
            sent["Content-Length"] = str(len(body))
        self.requests += 1
        conn = self.conn
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in sent.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        self.bytes_up += (len(f"{method} {path} HTTP/1.1\r\n") + 2
                          + sum(len(k) + len(v) + 4 for k, v in sent.items()) + len(body or b""))
        response = conn.getresponse()
        wire = response.read()
        received = {k.lower(): v for k, v in response.getheaders()}
        self.bytes_down += (len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + 2
                            + sum(len(k) + len(v) + 4 for k, v in response.getheaders())
                            + len(wire))
        if response.will_close:
            self.close()
        decoded = gzip.decompress(wire) if received.get("content-encoding") == "gzip" else wire
        return Reply(response.status, received, wire, decoded)

    def json(self, method: str, path: str, payload=None, headers=None, expect=(200,)):
        hdrs = dict(headers or {})
        body = None
        if payload is not None:
            body = payload if isinstance(payload, bytes) else dumps(payload)
            hdrs["Content-Type"] = "application/json"
        reply = self.request(method, path, body, hdrs)
        if reply.status not in expect:
            raise HttpError(f"{method} {path}: {reply.status} {reply.body[:300]!r}")
        return reply.json() if reply.body else None


class Phone:
    """A minimal protocol client (docs/protocol.md): login, numbered pushes,
    cursor pulls."""

    def __init__(self, http_: Http, username: str, password: str = PASSWORD):
        self.http = http_
        body = http_.json("POST", "/api/v1/auth/login", {"username": username, "password": password})
        self.user_id = body["user"]["id"]
        self.headers = {"Authorization": f"Bearer {body['token']}"}
        self.client_id = str(uuid.uuid4())
        self.seq = 0
        self.cursor: str | None = None

    def push_body(self, mutations: list[dict]) -> bytes:
        return dumps({"client_id": self.client_id, "mutations": mutations})

    def push(self, body: bytes) -> dict:
        return self.http.json("POST", "/api/v1/sync/push", body, self.headers)

    def pull(self, limit: int = 500) -> dict:
        path = f"/api/v1/sync/pull?limit={limit}"
        if self.cursor:
            path += f"&cursor={self.cursor}"
        page = self.http.json("GET", path, headers=self.headers)
        self.cursor = page["cursor"]
        return page

    def pull_all(self, limit: int = 500, max_pages: int = 100_000) -> tuple[int, int]:
        """Pull until ``has_more`` is false: (changes, pages)."""
        changes = 0
        for pages in range(1, max_pages + 1):
            page = self.pull(limit)
            changes += len(page["changes"])
            if not page["has_more"]:
                return changes, pages
        raise RuntimeError("pull did not finish within max_pages")


# --------------------------------------------------------------------------
# The workload: visits of about 300 bytes each on the wire

PLAN_NOTE = "Ask for the owner; bring the statement."


def visit_fields(i: int, account_id: str) -> dict:
    return {
        "account_id": account_id,
        "scheduled_at": f"2026-12-{1 + i % 28:02d}T{9 + i % 8:02d}:30:00+08:00",
        "status": "planned",
        "plan_notes": PLAN_NOTE,
    }


def visit_mutations(client_id: str, first_seq: int, account_ids: list[str],
                    count: int) -> list[dict]:
    """``count`` new visits numbered from ``first_seq``, spread over the
    accounts."""
    now_ms = int(time.time() * 1000)
    out = []
    for i in range(count):
        seq = first_seq + i
        out.append({
            "seq": seq, "hlc": f"{now_ms:013d}:{seq % 0xFFFF:04x}:{client_id}",
            "entity": "visit", "id": str(uuid.uuid4()), "base_version": 0,
            "fields": visit_fields(i, account_ids[i % len(account_ids)]),
        })
    return out


def phone_visits(phone: Phone, account_ids: list[str], count: int) -> list[dict]:
    """New visits for ``phone``, numbered after its last ``seq``."""
    out = visit_mutations(phone.client_id, phone.seq + 1, account_ids, count)
    phone.seq += count
    return out


def as_couch_doc(mutation: dict, collector_id: str) -> dict:
    """The same visit as a CouchDB document."""
    return {"_id": mutation["id"], "entity": "visit", "collector_id": collector_id,
            **mutation["fields"]}


def batches(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


# --------------------------------------------------------------------------
# Databases, seeding and the server process


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file in ``workdir``, or a new
    PostgreSQL database dropped at the end."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    if backend != "postgres":
        raise ValueError(backend)
    from sqlalchemy import create_engine, text

    name = f"fieldvisit_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def server_env(url: str, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FIELDVISIT_DATABASE_URL": url,
        "FIELDVISIT_INSTANCE_PATH": str(workdir / "instance"),
        "FIELDVISIT_SECRET_KEY": "bench-secret",
        # One collector logs in many times across runs; never rate-limit that.
        "FIELDVISIT_LOGIN_MAX_FAILURES": "1000",
        "FIELDVISIT_LOGIN_ADDRESS_MAX_FAILURES": "1000",
    }


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def account_csv(collectors: dict[str, int]) -> str:
    """Import rows: ``collectors`` maps a username to its number of accounts."""
    rows = ["ref,customer_name,original_contact_name,original_contact_role,original_contact_phone,"
            "address,lat,lon,timezone,currency,principal,amount_due,due_since,collector"]
    n = 0
    for username, count in collectors.items():
        for _ in range(count):
            n += 1
            rows.append(f"B-{n:06d},Shop {n} Trading Co.,Owner {n},Owner,0912-555-{n % 10000:04d},"
                        f"{n} Zhongxiao East Road Taipei,{25.03 + (n % 97) / 1000:.5f},"
                        f"{121.50 + (n % 89) / 1000:.5f},Asia/Taipei,TWD,250000.00,"
                        f"{1000 + n % 5000}.00,2026-{1 + n % 9:02d}-15,{username}")
    return "\n".join(rows) + "\n"


def seed(url: str, workdir: Path, collectors: dict[str, int]) -> dict:
    """Create the schema (migrations, as ``flask init-db``), a supervisor and
    the collectors, and import their accounts. Returns
    ``{"users": {name: id}, "accounts": {name: [account ids]}}``."""
    with _environment(server_env(url, workdir)):
        from sqlalchemy import select

        from server.app import create_app
        from server.cli import init_database
        from server.extensions import db
        from server.models import Account, User, new_id
        from server.services.auth import hash_password
        from server.services.importer import import_accounts, import_actor

        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            init_database()
            users = {}
            for username in ["supervisor", *collectors]:
                role = "supervisor" if username == "supervisor" else "collector"
                user = User(id=new_id(), username=username, name=username.title(), role=role,
                            password_hash=hash_password(PASSWORD))
                db.session.add(user)
                users[username] = user.id
            db.session.commit()
            report = import_accounts(db.session, account_csv(collectors), import_actor(None),
                                     app.config["RULES"])
            if not report.ok:
                raise RuntimeError(report.errors[:3])
            accounts: dict[str, list[str]] = {name: [] for name in collectors}
            by_id = {v: k for k, v in users.items()}
            for account_id, collector in db.session.execute(
                    select(Account.id, Account.assigned_collector_id).order_by(Account.ref)):
                accounts[by_id[collector]].append(account_id)
            db.session.remove()
            db.engine.dispose()  # no connection left open: the database is dropped later
    return {"users": users, "accounts": accounts}


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> tuple[int, float] | None:
    """(process group, user+system CPU seconds) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def group_cpu_seconds(pgid: int) -> float:
    """CPU used so far by the live processes of a process group (Linux
    /proc; 0 elsewhere). Wall-clock rates on a busy machine vary run to run;
    CPU seconds per item vary much less, so both are reported."""
    total = 0.0
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if entry.name.isdigit():
            found = _proc_cpu(int(entry.name))
            if found and found[0] == pgid:
                total += found[1]
    return total


def pg_backend_cpu_seconds(url: str) -> float:
    """CPU of the PostgreSQL backends serving database ``url`` (when the
    server runs on this machine, so /proc shows them)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))]
    return sum(found[1] for found in map(_proc_cpu, pids) if found)


@dataclass
class Server:
    """A started server: its URL and how much CPU it has used so far."""

    url: str
    pid: int
    database_url: str | None = None

    def cpu_seconds(self) -> float:
        total = group_cpu_seconds(self.pid)
        if self.database_url and self.database_url.startswith("postgresql"):
            total += pg_backend_cpu_seconds(self.database_url)
        return total


def _wait_http(url: str, proc: subprocess.Popen, what: str, log_path: Path) -> None:
    parts = urlsplit(url)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
            conn.request("GET", parts.path or "/")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {START_TIMEOUT_S:.0f}s")


def _stop(proc: subprocess.Popen) -> None:
    """TERM then KILL the whole process group (gunicorn's workers, node's
    children), each wait bounded."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
    with contextlib.suppress(ProcessLookupError):  # stragglers of an exited leader
        os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def gunicorn(url: str, workdir: Path, *, workers: int = 2, threads: int = 4) -> Iterator[Server]:
    """The real server: ``gunicorn wsgi:app`` on a free loopback port. The
    gthread worker keeps HTTP connections alive, as a phone's would be
    behind a production proxy; the sync worker would close each one."""
    port = free_port()
    log_path = workdir / f"gunicorn-{port}.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
             "--keep-alive", "75", "--log-level", "warning", "wsgi:app"],
            cwd=REPO, env=server_env(url, workdir), stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(base + "/api/v1/openapi.json", proc, "gunicorn", log_path)
        yield Server(base, proc.pid, url)
    finally:
        _stop(proc)


# --------------------------------------------------------------------------
# pouchdb-server (npm)


def pouchdb_bin(npm_dir: Path = NPM_DIR) -> Path:
    return npm_dir / "node_modules" / ".bin" / "pouchdb-server"


def npm_reachable(timeout: float = 15.0) -> bool:
    if shutil.which("npm") is None or shutil.which("node") is None:
        return False
    try:
        return subprocess.run(["npm", "ping"], capture_output=True, timeout=timeout).returncode == 0
    except (subprocess.TimeoutExpired, OSError):
        return False


def ensure_pouchdb_server(npm_dir: Path = NPM_DIR, timeout: float = 600.0) -> Path:
    """Install pouchdb-server (and with it pouchdb-core and its adapters)
    into ``npm_dir`` unless it is there already; return the node_modules
    folder."""
    if not pouchdb_bin(npm_dir).exists():
        log(f"installing pouchdb-server {POUCHDB_SERVER_VERSION} into {npm_dir} (about a minute)")
        npm_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(npm_dir), "--no-audit", "--no-fund",
                        "--loglevel=error", f"pouchdb-server@{POUCHDB_SERVER_VERSION}"],
                       check=True, timeout=timeout, stdout=subprocess.DEVNULL)
    return npm_dir / "node_modules"


@contextlib.contextmanager
def pouchdb_server(workdir: Path, *, in_memory: bool = False,
                   npm_dir: Path = NPM_DIR) -> Iterator[Server]:
    """pouchdb-server on a free loopback port: LevelDB on disk (durable, as
    our server is) unless ``in_memory``. Request logging is turned down to
    warnings so that it does not pay for a log line per request."""
    ensure_pouchdb_server(npm_dir)
    home = workdir / f"pouchdb-{uuid.uuid4().hex[:6]}"
    home.mkdir()
    (home / "config.json").write_text(json.dumps({"log": {"level": "warning"}}))
    port = free_port()
    log_path = home / "server.log"
    args = [str(pouchdb_bin(npm_dir)), "--port", str(port), "--host", "127.0.0.1",
            "--no-stdout-logs", "--config", str(home / "config.json"), "--dir", str(home)]
    if in_memory:
        args.append("--in-memory")
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(args, cwd=home, stdout=log_file, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(base + "/", proc, "pouchdb-server", log_path)
        yield Server(base, proc.pid)
    finally:
        _stop(proc)


@dataclass
class Rate:
    """A measured run: ``items`` in ``seconds`` with ``requests`` round trips."""

    items: int
    seconds: float
    requests: int
    extra: dict = field(default_factory=dict)

    server_cpu_s: float | None = None

    @property
    def per_s(self) -> float:
        return self.items / self.seconds if self.seconds else float("inf")

    @property
    def per_cpu_s(self) -> float | None:
        """Items per second of server CPU (database included when local)."""
        if not self.server_cpu_s:
            return None
        return self.items / self.server_cpu_s

    def as_dict(self) -> dict:
        out = {"items": self.items, "seconds": round(self.seconds, 4), "requests": self.requests,
               "per_s": round(self.per_s, 1), **self.extra}
        if self.server_cpu_s is not None:
            out["server_cpu_s"] = round(self.server_cpu_s, 3)
            out["per_server_cpu_s"] = round(self.per_cpu_s or 0, 1)
        return out


class Timer:
    """Wall time, requests and server CPU of one measured step:
    ``with Timer(http, server) as t: ...`` then ``t.rate(items)``."""

    def __init__(self, http_: Http, server: Server | None = None):
        self.http, self.server = http_, server

    def __enter__(self) -> Timer:
        self.cpu0 = self.server.cpu_seconds() if self.server else None
        self.requests0 = self.http.requests
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.requests = self.http.requests - self.requests0
        self.cpu = self.server.cpu_seconds() - self.cpu0 if self.server else None

    def rate(self, items: int, **extra) -> Rate:
        return Rate(items, self.seconds, self.requests, extra, self.cpu)


@contextlib.contextmanager
def workdir(prefix: str = "fieldvisit-bench-") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
