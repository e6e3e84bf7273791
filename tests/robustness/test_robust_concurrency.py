"""Concurrency against a real multi-process server (issue 3, item 4).

gunicorn with several workers, on a fresh PostgreSQL database (and on
SQLite with two workers): 20 devices push overlapping edits to the same
visits at once, re-sending some batches as after a lost answer, while a
puller follows the change feed with its cursor. Every edit must end
applied or kept as a conflict, the puller must end with exactly what a
fresh full pull returns (the feed never skipped a committed change), and
no request may get a 5xx ("database is locked" included)."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ..helpers import PASSWORD, hlc, now_ms

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PG_ADMIN_URL = os.environ.get("FIELDVISIT_TEST_POSTGRES_URL")
SERVER_LIFETIME_S = 300  # timeout(1) ends gunicorn even if this test runner dies
ACCOUNTS_CSV = (
    "ref,customer_name,original_contact_name,original_contact_role,original_contact_phone,address,"
    "lat,lon,timezone,currency,principal,amount_due,due_since,collector\n"
    + "".join(f"C-{i},Shop {i},Owner {i},Owner,0912-555-00{i},Street {i},25.04{i},121.51{i},"
              f"Asia/Taipei,TWD,1000.00,500.00,2026-10-01,alice\n" for i in range(1, 4))
)
FIELDS = ("plan_notes", "notes", "met_name", "redirected_to")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One gunicorn on loopback over one database, made and removed here."""

    def __init__(self, tmp: Path, database_url: str, workers: int):
        self.port = free_port()
        self.env = {
            **os.environ,
            "FIELDVISIT_DATABASE_URL": database_url,
            "FIELDVISIT_SECRET_KEY": "concurrency-test-secret",
            "FIELDVISIT_INSTANCE_PATH": str(tmp / "instance"),
            "FIELDVISIT_PASSWORD": PASSWORD,
        }
        self.workers = workers
        self.process: subprocess.Popen | None = None
        self.log = tmp / "gunicorn.log"

    def flask(self, *args: str) -> None:
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                       check=True, capture_output=True, timeout=120)

    def prepare(self, tmp: Path) -> None:
        self.flask("init-db")
        self.flask("create-user", "alice", "--role", "collector", "--no-input")
        self.flask("create-user", "sup", "--role", "supervisor", "--no-input")
        csv = tmp / "accounts.csv"
        csv.write_text(ACCOUNTS_CSV, encoding="utf-8")
        self.flask("import-accounts", str(csv))

    def start(self) -> None:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                ["timeout", str(SERVER_LIFETIME_S), str(BIN / "gunicorn"), "-w", str(self.workers),
                 "-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "5", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = Api(self.port).call("GET", "/api/v1/health")
                if status == 200:
                    return
            except OSError:
                pass
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            time.sleep(0.2)
        raise AssertionError("gunicorn did not answer within 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own group: gunicorn and workers
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


class Api:
    """A tiny HTTP client that records every status code it receives."""

    def __init__(self, port: int, token: str | None = None, statuses: Counter | None = None):
        self.port, self.token = port, token
        self.statuses = statuses if statuses is not None else Counter()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body=None):
        headers = {"Accept-Encoding": "identity"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, data, headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # a new connection on the next call
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            raise
        self.statuses[response.status] += 1
        return response.status, (json.loads(raw) if raw else None)


def _json_value(value):
    """A JSON column read with plain SQL: PostgreSQL's driver decodes it,
    SQLite hands back the text. Values here ("3-7") are never JSON numbers."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def login(port: int, username: str) -> str:
    status, body = Api(port).call("POST", "/api/v1/auth/login",
                                  {"username": username, "password": PASSWORD})
    assert status == 200, body
    return body["token"]


@pytest.fixture
def pg_database():
    if not PG_ADMIN_URL:
        pytest.skip("set FIELDVISIT_TEST_POSTGRES_URL to run the PostgreSQL concurrency test")
    name = f"fieldvisit_conc_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                     {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def run_server(tmp_path, url, workers):
    server = Server(tmp_path, url, workers)
    server.prepare(tmp_path)
    server.start()
    return server


def storm(server: Server, database_url: str, devices: int, batches: int, per_batch: int) -> None:
    """The scenario, then every check."""
    port = server.port
    statuses: Counter = Counter()
    engine = create_engine(database_url)
    with engine.connect() as conn:
        accounts = [r[0] for r in conn.execute(text("SELECT id FROM accounts ORDER BY ref"))]
    tokens = {"alice": login(port, "alice"), "sup": login(port, "sup")}

    # Five visits everyone knows at version 1.
    visits = [str(uuid.uuid4()) for _ in range(5)]
    setup = Api(port, tokens["alice"], statuses)
    setup_client = str(uuid.uuid4())
    status, body = setup.call("POST", "/api/v1/sync/push", {"client_id": setup_client, "mutations": [
        {"seq": i + 1, "hlc": hlc(now_ms() - 60_000, setup_client, i), "entity": "visit", "id": v,
         "base_version": 0, "fields": {"account_id": accounts[i % len(accounts)]}}
        for i, v in enumerate(visits)]})
    assert status == 200 and all(r["status"] == "applied" for r in body["results"]), body

    sent: dict[tuple[str, int], dict] = {}  # (client, seq) -> mutation
    results: dict[tuple[str, int], list[str]] = {}
    errors: list[str] = []
    writers_done = threading.Event()
    start = threading.Barrier(devices + 1)

    def device(index: int) -> None:
        user = "sup" if index % 4 == 0 else "alice"  # a few supervisors among the phones
        api = Api(port, tokens[user], statuses)
        client_id = str(uuid.uuid4())
        rnd = random.Random(index)
        seq = 0
        try:
            start.wait(timeout=60)
            for _ in range(batches):
                batch = []
                for _ in range(per_batch):
                    seq += 1
                    field = rnd.choice(FIELDS)
                    mutation = {"seq": seq, "hlc": hlc(now_ms(), client_id, seq), "entity": "visit",
                                "id": rnd.choice(visits), "base_version": 1,
                                "fields": {field: f"{index}-{seq}"}}
                    batch.append(mutation)
                    sent[(client_id, seq)] = mutation
                # A lost answer: some batches go twice; the second is all duplicates.
                for attempt in range(2 if rnd.random() < 0.3 else 1):
                    status, body = api.call("POST", "/api/v1/sync/push",
                                            {"client_id": client_id, "mutations": batch})
                    if status != 200:
                        errors.append(f"push {status}: {body}")
                        return
                    for result in body["results"]:
                        results.setdefault((client_id, result["seq"]), []).append(result["status"])
                    assert body["last_seq"] == seq
                    if attempt:
                        assert {r["status"] for r in body["results"]} == {"duplicate"}
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(f"device {index}: {exc!r}")

    puller_state: dict[tuple[str, str], dict] = {}
    puller_pages = Counter()

    def puller() -> None:
        api = Api(port, tokens["sup"], statuses)
        cursor = None
        try:
            start.wait(timeout=60)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                last_round = writers_done.is_set()  # set before this page was asked for
                path = "/api/v1/sync/pull?limit=50" + (f"&cursor={cursor}" if cursor else "")
                status, body = api.call("GET", path)
                if status != 200:
                    errors.append(f"pull {status}: {body}")
                    return
                puller_pages["pages"] += 1
                for change in body["changes"]:
                    key = (change["entity"], change["id"])
                    old = puller_state.get(key)
                    if old is not None and old["version"] > change["version"]:
                        errors.append(f"feed went back: {key} {old['version']} -> {change['version']}")
                    puller_state[key] = change
                cursor = body["cursor"]
                if last_round and not body["has_more"]:
                    return
                if not body["has_more"]:
                    time.sleep(0.02)
            errors.append("puller did not catch up within 120 s")
        except Exception as exc:
            errors.append(f"puller: {exc!r}")

    threads = [threading.Thread(target=device, args=(i,)) for i in range(devices)]
    pull_thread = threading.Thread(target=puller)
    for t in [*threads, pull_thread]:
        t.start()
    for t in threads:
        t.join(timeout=240)
    writers_done.set()
    pull_thread.join(timeout=240)
    assert not any(t.is_alive() for t in [*threads, pull_thread]), "a client thread hung"

    assert errors == []
    assert not [s for s in statuses if s >= 500], statuses
    assert puller_pages["pages"] > 1

    # Every mutation got one real outcome (then only duplicates).
    assert set(results) == set(sent)
    for key, outcomes in results.items():
        assert outcomes[0] in ("applied", "merged", "conflict"), (key, outcomes)
        assert all(o == "duplicate" for o in outcomes[1:]), (key, outcomes)
    # The edits really overlapped (else this test would prove little).
    assert Counter(o[0] for o in results.values())["conflict"] > 0

    # The puller, following the feed while it was written, holds exactly
    # what a fresh full pull from the start returns now.
    fresh: dict[tuple[str, str], dict] = {}
    api = Api(port, tokens["sup"], statuses)
    cursor = None
    for _ in range(1000):
        status, body = api.call("GET", "/api/v1/sync/pull?limit=1000" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200
        for change in body["changes"]:
            fresh[(change["entity"], change["id"])] = change
        cursor = body["cursor"]
        if not body["has_more"]:
            break
    strip = {k: {**c, "data": {f: v for f, v in (c["data"] or {}).items()
                                if f not in ("days_past_due", "attempts_recent", "priority")}}
             for k, c in fresh.items()}
    seen = {k: {**c, "data": {f: v for f, v in (c["data"] or {}).items()
                               if f not in ("days_past_due", "attempts_recent", "priority")}}
            for k, c in puller_state.items()}
    assert seen == strip

    # Nothing lost: each value is final, a conflict's kept or lost value,
    # or replaced by the same device's own later write of that field.
    with engine.connect() as conn:
        final = {r.id: r._mapping for r in conn.execute(text("SELECT * FROM visits"))}
        conflict_values = {(r.record_id, r.field, _json_value(v))
                           for r in conn.execute(text("SELECT record_id, field, kept_value, lost_value FROM conflicts"))
                           for v in (r.kept_value, r.lost_value)}
        history_versions = dict(conn.execute(text(
            "SELECT record_id, count(*) FROM history WHERE entity = 'visit' GROUP BY record_id")).all())
        last_seqs = dict(conn.execute(text("SELECT client_id, last_seq FROM clients")).all())
    engine.dispose()
    by_client: dict[str, list[dict]] = {}
    for (client_id, _), mutation in sorted(sent.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        by_client.setdefault(client_id, []).append(mutation)
    for client_id, mutations in by_client.items():
        assert last_seqs[client_id] == len(mutations)
        for i, m in enumerate(mutations):
            (field, value), = m["fields"].items()
            if final[m["id"]][field] == value or (m["id"], field, value) in conflict_values:
                continue
            if any(later["id"] == m["id"] and field in later["fields"] for later in mutations[i + 1:]):
                continue
            raise AssertionError(f"{client_id} seq {m['seq']}: {field}={value} vanished")
    # No change counted twice: one history row per version of each visit.
    for visit_id, row in final.items():
        assert history_versions[visit_id] == row["version"]


@pytest.mark.slow
def test_twenty_devices_at_once_on_postgresql_lose_nothing_and_feed_skips_nothing(tmp_path, pg_database):
    server = run_server(tmp_path, pg_database, workers=4)
    try:
        storm(server, pg_database, devices=20, batches=5, per_batch=4)
    finally:
        server.stop()


@pytest.mark.slow
def test_sqlite_with_two_workers_never_answers_5xx(tmp_path):
    url = f"sqlite:///{tmp_path / 'conc.sqlite3'}"
    server = run_server(tmp_path, url, workers=2)
    try:
        storm(server, url, devices=10, batches=4, per_batch=4)
    finally:
        server.stop()
