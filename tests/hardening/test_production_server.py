"""The shipped production configuration (``gunicorn wsgi:app`` reading
``gunicorn.conf.py``), on SQLite and PostgreSQL, against requests no phone
sends: the HTTP layer's own refusals are JSON under /api, an over-long
chunked body is 413, slow heads and bodies are cut off with a 408, and
nothing the server logs while it is attacked names a debtor."""

from __future__ import annotations

import os
import socket
import time
import urllib.parse
import uuid

import pytest

from bench.load import Database, call, provision
from bench.slow_clients import ProductionServer, login

pytestmark = pytest.mark.slow

PG_ADMIN_URL = os.environ.get("FIELDVISIT_TEST_POSTGRES_URL")
# The debtors of this test: nothing the server logs may name them.
DEBTORS = [("Chen Mei-ling", "0912-345-678"), ("林志明", "02-2758-1234")]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request, tmp_path_factory):
    if request.param == "postgres" and not PG_ADMIN_URL:
        if os.environ.get("FIELDVISIT_REQUIRE_POSTGRES") == "1":
            pytest.fail("FIELDVISIT_REQUIRE_POSTGRES=1 but FIELDVISIT_TEST_POSTGRES_URL is not set")
        pytest.skip("set FIELDVISIT_TEST_POSTGRES_URL to run the PostgreSQL half")
    workdir = tmp_path_factory.mktemp(f"production-{request.param}")
    database = Database.create("sqlite" if request.param == "sqlite" else PG_ADMIN_URL, workdir)
    server = None
    try:
        env = provision(database, workdir, ["alice"])
        _import_debtors(env, workdir)
        env.update({"FIELDVISIT_HEADER_TIMEOUT_S": "2", "FIELDVISIT_BODY_TIMEOUT_S": "2",
                    "FIELDVISIT_WORKERS": "2", "FIELDVISIT_THREADS": "8"})
        server = ProductionServer(env, workdir).start()
        yield server
    finally:
        if server is not None:
            server.stop()
        database.drop()


def _import_debtors(env, workdir) -> None:
    from bench.load import flask_cli

    lines = ["ref,customer_name,original_contact_name,original_contact_role,"
             "original_contact_phone,address,lat,lon,timezone,currency,principal,amount_due,"
             "due_since,collector"]
    for i, (name, phone) in enumerate(DEBTORS):
        lines.append(f"HOSTILE-{i},{name},{name},Owner,{phone},1 Secret Road,25.03,121.56,"
                     "Asia/Taipei,TWD,1000.00,500.00,2026-01-15,alice")
    path = workdir / "debtors.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    flask_cli(env, "import-accounts", str(path))


def exchange(server, data: bytes, timeout: float = 15) -> tuple[bytes, float]:
    """Send raw bytes; return everything the server answered, and when."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks), time.monotonic() - started


def status_and_json(answer: bytes) -> tuple[int, dict]:
    import json

    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/json" in head.lower(), head
    return status, json.loads(body)


HOST = b"Host: fieldvisit\r\n"


@pytest.mark.parametrize("request_bytes, code", [
    (b"GET /api/v1/sync/pull?cursor=" + b"a" * 9000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414),
    (b"GET /api/v1/sync/pull HTTP/1.1\r\n" + HOST
     + b"".join(b"X-Many-%d: 1\r\n" % i for i in range(80)) + b"\r\n", 431),
    (b"GET /api/v1/sync/pull HTTP/1.1\r\n" + HOST + b"X-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
    (b"GET /api/v1/sync/pull HTTP/1.1\r\n" + HOST + b"Bad Header\r\n\r\n", 400),
    (b"NOT-HTTP\r\n\r\n", 400),
    (b"POST /api/v1/auth/login HTTP/1.1\r\n" + HOST + b"Content-Type: application/json\r\n"
     b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
])
def test_the_http_layers_refusals_are_json(server, request_bytes, code):
    answer, _ = exchange(server, request_bytes)
    status, body = status_and_json(answer)
    assert status == code and body["error"]["code"] == code and body["error"]["message"]


def chunked(payload: bytes, size: int = 65536) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(payload[i:i + size]), payload[i:i + size])
             for i in range(0, len(payload), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def login_request(body: bytes) -> bytes:
    return (b"POST /api/v1/auth/login HTTP/1.1\r\n" + HOST
            + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + body)


def test_a_chunked_body_over_the_limit_is_413(server):
    payload = b'{"username": "alice", "password": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    status, body = status_and_json(exchange(server, login_request(chunked(payload)))[0])
    assert status == 413 and body["error"]["code"] == 413


def test_a_chunked_body_within_the_limit_is_read(server):
    payload = b'{"username": "alice", "password": "wrong"}'
    status, _ = status_and_json(exchange(server, login_request(chunked(payload, 7)))[0])
    assert status == 401


def test_a_head_sent_too_slowly_is_cut_off_with_408(server):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        answer = b""
        for byte in b"GET /api/v1/sync/pull HTTP/1.1\r\nX-Slow: " + b"s" * 60:
            try:
                sock.send(bytes([byte]))
            except OSError:
                break
            time.sleep(0.25)
            sock.setblocking(False)
            try:
                answer = sock.recv(4096)
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
            if answer:
                break
    elapsed = time.monotonic() - started
    status, body = status_and_json(answer)
    assert status == 408 and body["error"]["code"] == 408
    assert 1.5 < elapsed < 8  # the 2 s head limit of this server, with margin


def test_a_body_sent_too_slowly_is_cut_off_with_408(server):
    head = (b"POST /api/v1/auth/login HTTP/1.1\r\n" + HOST
            + b"Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n")
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head)
        answer = b""
        for _ in range(60):
            try:
                sock.send(b" ")
            except OSError:
                break
            time.sleep(0.25)
            sock.setblocking(False)
            try:
                answer = sock.recv(4096)
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
            if answer:
                break
    status, body = status_and_json(answer)
    assert status == 408 and body["error"]["code"] == 408
    assert time.monotonic() - started < 10


def _hostile_requests(token: str) -> list[bytes]:
    out = []
    for name, phone in DEBTORS:
        quoted_name = urllib.parse.quote(name).encode()
        quoted_phone = urllib.parse.quote(phone).encode()
        for value in (quoted_name, quoted_phone):
            out += [
                b"GET /supervisor/accounts?q=" + value + b" HTTP/1.1\r\n" + HOST + b"\r\n",
                b"GET /supervisor/visits.csv?account=" + value + b" HTTP/1.1\r\n" + HOST + b"\r\n",
                b"GET /api/v1/sync/pull?cursor=" + value + b" HTTP/1.1\r\n" + HOST
                + b"Authorization: Bearer " + token.encode() + b"\r\n\r\n",
                b"GET /api/v1/sync/pull?q=" + value * 400 + b" HTTP/1.1\r\n" + HOST + b"\r\n",
                b"GET /api/v1/plan?collector=" + value + b" HTTP/1.1\r\n" + HOST + b"\r\n",
            ]
        raw_name, raw_phone = name.encode(), phone.encode()
        out += [
            b"GET /api/v1/sync/pull HTTP/1.1\r\n" + HOST + b"X-Who " + raw_name + b"\r\n\r\n",
            b"GET /api/v1/sync/pull HTTP/1.1\r\n" + HOST + b"X-Phone: " + raw_phone * 2000
            + b"\r\n\r\n",
            b"GET /?" + raw_name + b" " + raw_phone + b" HTTP/1.1\r\n" + HOST + b"\r\n",
            raw_name + b" /api " + raw_phone + b"\r\n\r\n",
        ]
    return out


def _hostile_pushes(server, token: str) -> None:
    client_id = str(uuid.uuid4())
    for name, phone in DEBTORS:
        fields = {"customer_name": name, "original_contact_phone": phone,
                  "notes": f"{name} {phone}" * 5000, "account_id": name, "met_name": phone}
        mutations = [{"seq": 1, "hlc": "1764400000000:0000:x", "entity": "visit",
                      "id": str(uuid.uuid4()), "base_version": 0, "fields": fields}]
        call(server.url, "POST", "/api/v1/sync/push",
             {"client_id": client_id, "mutations": mutations}, token)
        call(server.url, "POST", "/api/v1/sync/push", {"client_id": name, "mutations": phone},
             token)
        call(server.url, "POST", "/api/v1/auth/login", {"username": name, "password": phone})
        call(server.url, "POST", "/api/v1/auth/login", {"username": [name], "password": phone})


def test_nothing_the_server_logs_names_a_debtor(server):
    token = login(server.url, "alice")
    for request_bytes in _hostile_requests(token):
        exchange(server, request_bytes)
    _hostile_pushes(server, token)
    time.sleep(0.5)  # access log lines are written after each answer
    log = server.log_text()
    assert '"GET /supervisor/accounts HTTP/1.1"' in log  # the access log does record requests
    for name, phone in DEBTORS:
        for secret in (name, phone, urllib.parse.quote(name), urllib.parse.quote(phone),
                       name.split()[0], phone.replace("-", "")):
            assert secret not in log, f"{secret!r} is in the server's log"
    assert "Traceback" not in log
