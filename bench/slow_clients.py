"""Hostile clients: how many slow connections the server holds while it
keeps answering.

    .venv/bin/python bench/slow_clients.py --levels 50,100,200,400 --hold 20

For each level it starts that many slow connections against the shipped
production configuration (``gunicorn wsgi:app`` reading
``gunicorn.conf.py``, on a fresh PostgreSQL database or ``--database-url
sqlite``): half dribble a request head one byte a second and never finish
it, half send a head with ``Content-Length: 100000`` and dribble the body
the same way. A connection the server closes is opened again at once, so
the level holds for ``--hold`` seconds. Meanwhile a collector pulls every
0.2 s on a fresh connection; the level is *held* when every pull answers
200 within 1 s. It prints, per level, the pulls answered in time, the
slowest pull, and how many slow connections the server cut (its read
limits, ``server/gunicorn_worker.py``). ``--worker-class`` and
``--workers`` run other configurations for comparison (``sync`` is the
README's old recipe; ``gevent`` needs ``pip install gevent``), and
``--root`` runs another checkout's code.

The pieces (``ProductionServer``, ``SlowClients``, ``PullProbe``) are
reused by ``tests/hardening/test_slow_clients.py``.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import (  # noqa: E402
    DEFAULT_ADMIN_URL,
    PASSWORD,
    ROOT,
    Database,
    ServerProcess,
    _bin,
    call,
    provision,
)


class ProductionServer(ServerProcess):
    """``gunicorn wsgi:app`` as the README runs it: every setting from the
    shipped ``gunicorn.conf.py`` (only the address comes from the
    environment), unless ``args`` names other options."""

    def __init__(self, env: dict, workdir: Path, args: tuple[str, ...] = (),
                 root: Path = ROOT, **kwargs):
        super().__init__(env, workdir, **kwargs)
        self.args = tuple(args)
        self.root = root
        self.env = {**env, "FIELDVISIT_BIND": f"127.0.0.1:{self.port}"}

    def command(self) -> list[str]:
        bind = [] if (self.root / "gunicorn.conf.py").exists() else ["-b", self.env["FIELDVISIT_BIND"]]
        return [_bin("gunicorn"), *bind, *self.args, "wsgi:app"]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


HEAD_DRIBBLE = (b"GET /api/v1/sync/pull HTTP/1.1\r\nHost: fieldvisit\r\n"
                b"User-Agent: slow-client\r\nX-Padding: ")
BODY_HEAD = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: fieldvisit\r\n"
             b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
             b'{"username": "alice", "password": "')


@dataclass
class _Slow:
    sock: socket.socket
    kind: str
    sent: int = 1  # bytes of the head dribble sent so far


@dataclass
class SlowClients:
    """``count`` connections that each send one byte per ``interval`` and
    never finish their request; a closed one is replaced at once."""

    host: str
    port: int
    count: int
    interval: float = 1.0
    opened: int = 0
    cut: int = 0              # closed by the server
    open_failures: int = 0
    answers: dict = field(default_factory=dict)  # status line -> count
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _conns: list = field(default_factory=list)

    def start(self) -> SlowClients:
        for i in range(self.count):
            self._open("head" if i % 2 == 0 else "body")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)
        for conn in self._conns:
            conn.sock.close()

    @property
    def held(self) -> int:
        with self._lock:
            return len(self._conns)

    def _open(self, kind: str) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=5)
            sock.sendall(b"G" if kind == "head" else BODY_HEAD)
            sock.setblocking(False)
        except OSError:
            self.open_failures += 1
            return
        self.opened += 1
        with self._lock:
            self._conns.append(_Slow(sock, kind))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            closed = []
            for conn in list(self._conns):
                if self._answered(conn):
                    closed.append(conn)
                    continue
                # The head's next byte, then a header value that never ends;
                # or the body's next byte.
                byte = b"a"
                if conn.kind == "head":
                    byte = HEAD_DRIBBLE[conn.sent:conn.sent + 1] or b"a"
                    conn.sent += 1
                try:
                    conn.sock.send(byte)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    closed.append(conn)
            for conn in closed:
                conn.sock.close()
                with self._lock:
                    self._conns.remove(conn)
                self.cut += 1
                if not self._stop.is_set():
                    self._open(conn.kind)

    def _answered(self, conn: _Slow) -> bool:
        """Whether the server answered (and so closes) this connection."""
        try:
            data = conn.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        if data:
            status = data.split(b"\r\n", 1)[0].decode("latin-1")
            self.answers[status] = self.answers.get(status, 0) + 1
        return True


@dataclass
class PullProbe:
    """A collector pulling every ``every`` seconds on a fresh connection."""

    url: str
    token: str
    every: float = 0.2
    latencies: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> PullProbe:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                status, _ = call(self.url, "GET", "/api/v1/sync/pull?limit=50",
                                 token=self.token, timeout=10)
            except OSError as exc:
                status = type(exc).__name__
            elapsed = time.perf_counter() - started
            self.latencies.append(elapsed)
            if status != 200:
                self.failures.append(status)
            self._stop.wait(max(0.0, self.every - elapsed))

    def within(self, seconds: float) -> int:
        return sum(1 for value in self.latencies if value <= seconds)


def login(url: str, username: str) -> str:
    status, body = call(url, "POST", "/api/v1/auth/login",
                        {"username": username, "password": PASSWORD})
    if status != 200:
        raise RuntimeError(f"login failed: {status} {body}")
    return body["token"]


@dataclass
class LevelResult:
    slow: int
    held_min: int
    pulls: int
    in_time: int
    slowest_s: float
    failures: list
    cut: int
    answers: dict

    @property
    def held(self) -> bool:
        return self.pulls > 0 and self.in_time == self.pulls and not self.failures


def run_level(url: str, token: str, slow: int, hold_s: float) -> LevelResult:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    clients = SlowClients(host, int(port), slow).start()
    time.sleep(2)  # let every slow connection reach the server before measuring
    probe = PullProbe(url, token).start()
    held_min = slow
    deadline = time.monotonic() + hold_s
    while time.monotonic() < deadline:
        time.sleep(0.5)
        held_min = min(held_min, clients.held)
    probe.stop()
    clients.stop()
    return LevelResult(slow, held_min, len(probe.latencies), probe.within(1.0),
                       max(probe.latencies, default=0.0), probe.failures, clients.cut,
                       dict(clients.answers))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="50,100,200,400")
    parser.add_argument("--hold", type=float, default=20.0, help="seconds per level")
    parser.add_argument("--database-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--worker-class", default=None,
                        help="override the shipped worker class (sync, gthread, gevent)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--gunicorn-args", default="",
                        help="more gunicorn options, e.g. '--worker-connections 1000'")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose code runs")
    args = parser.parse_args(argv)

    extra: list[str] = []
    if args.worker_class:
        extra += ["--worker-class", args.worker_class]
    if args.workers:
        extra += ["--workers", str(args.workers)]
    if args.threads:
        extra += ["--threads", str(args.threads)]
    extra += args.gunicorn_args.split()
    workdir = Path(tempfile.mkdtemp(prefix="fieldvisit-slow-"))
    database = Database.create(args.database_url, workdir)
    server = None
    try:
        env = provision(database, workdir, ["alice"])
        server = ProductionServer(env, workdir, tuple(extra), root=args.root).start()
        token = login(server.url, "alice")
        config = " ".join(extra) or "the shipped gunicorn.conf.py"
        print(f"server: {config} ({'PostgreSQL' if database.is_postgres else 'SQLite'}), "
              f"code from {args.root}")
        print(f"{'slow':>6}{'held≥':>7}{'pulls':>7}{'in 1 s':>8}{'slowest s':>11}"
              f"{'cut':>6}  answers to slow clients")
        for level in (int(x) for x in args.levels.split(",")):
            result = run_level(server.url, token, level, args.hold)
            print(f"{result.slow:>6}{result.held_min:>7}{result.pulls:>7}{result.in_time:>8}"
                  f"{result.slowest_s:>11.2f}{result.cut:>6}  "
                  f"{json.dumps(result.answers)}"
                  f"{'' if result.held else '  NOT HELD ' + str(result.failures[:3])}",
                  flush=True)
            time.sleep(3)
        return 0
    finally:
        if server is not None:
            server.stop()
        database.drop()


if __name__ == "__main__":
    sys.exit(main())
