"""The sample nginx configuration (``deploy/nginx/fieldvisit.conf``), run
as it ships by Debian's nginx on loopback in front of the shipped gunicorn
configuration: TLS to the client, the client's own address and scheme
reach the login limit and the session cookie, nginx's own refusals are the
API's JSON, and its access log leaves query strings out."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from bench.load import ROOT, Database, free_port, provision
from bench.slow_clients import ProductionServer

pytestmark = pytest.mark.slow

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SAMPLE = ROOT / "deploy" / "nginx" / "fieldvisit.conf"


def _replace_once(text: str, old: str, new: str) -> str:
    # The test edits only addresses and paths; if the sample changes shape,
    # this fails instead of silently testing something else.
    assert text.count(old) == 1, f"{old!r} should appear once in {SAMPLE}"
    return text.replace(old, new)


class Nginx:
    def __init__(self, workdir: Path, upstream_port: int):
        self.dir = workdir / "nginx"
        self.dir.mkdir()
        self.http_port, self.https_port = free_port(), free_port()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-keyout", str(self.dir / "key.pem"),
                        "-out", str(self.dir / "cert.pem")], check=True, capture_output=True)
        site = SAMPLE.read_text()
        for old, new in (
            ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
            ("listen 80;", f"listen 127.0.0.1:{self.http_port};"),
            ("listen 443 ssl;", f"listen 127.0.0.1:{self.https_port} ssl;"),
            ("/etc/ssl/fieldvisit/fullchain.pem", str(self.dir / "cert.pem")),
            ("/etc/ssl/fieldvisit/privkey.pem", str(self.dir / "key.pem")),
            ("/var/log/nginx/fieldvisit.access.log", str(self.dir / "access.log")),
            ("/var/log/nginx/fieldvisit.error.log", str(self.dir / "error.log")),
        ):
            site = _replace_once(site, old, new)
        (self.dir / "fieldvisit.conf").write_text(site)
        temp = {name: self.dir / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        (self.dir / "nginx.conf").write_text(f"""
daemon off;
worker_processes 1;
user root;
pid {self.dir / 'nginx.pid'};
error_log {self.dir / 'main-error.log'} warn;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {temp['body']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
    include {self.dir / 'fieldvisit.conf'};
}}
""")
        self.proc: subprocess.Popen | None = None

    def start(self) -> Nginx:
        log = open(self.dir / "stdout.log", "wb")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")],
            stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.dir / "stdout.log").read_text()
                                   + (self.dir / "main-error.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not start")

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def access_log(self) -> str:
        path = self.dir / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not os.path.exists(NGINX):
        pytest.skip(f"{NGINX} is missing: `make test` installs Debian's nginx package")
    workdir = tmp_path_factory.mktemp("nginx-stack")
    database = Database.create("sqlite", workdir)
    server = nginx = None
    try:
        env = provision(database, workdir, ["alice"])
        env.update({"FIELDVISIT_TRUSTED_PROXIES": "1", "FIELDVISIT_WORKERS": "2",
                    "FIELDVISIT_THREADS": "8"})
        server = ProductionServer(env, workdir).start()
        nginx = Nginx(workdir, server.port).start()
        yield server, nginx, database
    finally:
        if nginx is not None:
            nginx.stop()
        if server is not None:
            server.stop()


def https(nginx: Nginx, method: str, path: str, body=None, headers=None,
          source: str = "127.0.0.1") -> tuple[int, dict, bytes]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    conn = http.client.HTTPSConnection("127.0.0.1", nginx.https_port, timeout=30,
                                       context=context, source_address=(source, 0))
    payload = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json"} if payload else {}
    all_headers.update(headers or {})
    try:
        conn.request(method, path, payload, all_headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), data
    finally:
        conn.close()


def raw_tls(nginx: Nginx, data: bytes) -> bytes:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", nginx.https_port), timeout=30) as plain:
        with context.wrap_socket(plain) as sock:
            sock.sendall(data)
            chunks = []
            while True:
                try:
                    chunk = sock.recv(65536)
                except (ssl.SSLError, ConnectionResetError):
                    break
                if not chunk:
                    break
                chunks.append(chunk)
    return b"".join(chunks)


def test_the_api_works_through_nginx(stack):
    _, nginx, _ = stack
    status, headers, body = https(nginx, "POST", "/api/v1/auth/login",
                                  {"username": "alice", "password": "load-test-password"})
    assert status == 200, body
    token = json.loads(body)["token"]
    status, headers, body = https(nginx, "GET", "/api/v1/sync/pull",
                                  headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and json.loads(body)["changes"]
    assert headers["Cache-Control"] == "no-store"


def test_plain_http_is_sent_to_https(stack):
    _, nginx, _ = stack
    conn = http.client.HTTPConnection("127.0.0.1", nginx.http_port, timeout=10)
    conn.request("GET", "/supervisor/login")
    response = conn.getresponse()
    assert response.status == 301 and response.getheader("Location").startswith("https://")
    conn.close()


def test_the_login_limit_sees_the_clients_address_not_nginxs(stack):
    _, nginx, database = stack
    # Source 127.0.0.2 is the client; nginx reaches gunicorn from 127.0.0.1.
    # The address the client claims in X-Forwarded-For is not believed.
    status, _, _ = https(nginx, "POST", "/api/v1/auth/login",
                         {"username": "alice", "password": "wrong"},
                         headers={"X-Forwarded-For": "203.0.113.9"}, source="127.0.0.2")
    assert status == 401
    addresses = {row[0] for row in database.rows(
        "SELECT remote_addr FROM login_failures WHERE username = 'alice'")}
    assert addresses == {"127.0.0.2"}


def test_the_session_cookie_is_secure_behind_nginx(stack):
    _, nginx, _ = stack
    status, headers, _ = https(nginx, "GET", "/supervisor/login")
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("session=") and "Secure" in cookie and "SameSite=Lax" in cookie


def test_excel_downloads_pass_through_their_own_location(stack):
    # The location that waits longer for a whole workbook reaches the app
    # too: a signed-out request is sent to the sign-in page, with the
    # forwarded headers that make its session cookie secure.
    _, nginx, _ = stack
    for path in ("/supervisor/visits.xlsx", "/supervisor/payments.xlsx"):
        status, headers, _ = https(nginx, "GET", path)
        assert status == 302 and "/supervisor/login" in headers["Location"], (path, headers)


HOST = b"Host: localhost\r\n"


@pytest.mark.parametrize("request_bytes, code", [
    (b"GET /api/v1/sync/pull?cursor=" + b"a" * 9000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414),
    (b"GET /api/v1/sync/pull HTTP/1.1\r\n" + HOST + b"X-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
    (b"GET /api/v1/sync/pull HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"POST /api/v1/auth/login HTTP/1.1\r\n" + HOST + b"Content-Type: application/json\r\n"
     b"Content-Length: 3000000\r\n\r\n", 413),
])
def test_nginxs_own_refusals_are_json(stack, request_bytes, code):
    _, nginx, _ = stack
    answer = raw_tls(nginx, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert int(head.split(b" ", 2)[1]) == code, head
    assert b"application/json" in head.lower()
    assert json.loads(body)["error"]["code"] == code


def test_the_logs_leave_out_query_strings(stack):
    _, nginx, _ = stack
    query = b"q=Chen%20Mei-ling%200912-345-678"
    https(nginx, "GET", "/supervisor/accounts?" + query.decode())
    raw_tls(nginx, b"GET /supervisor/accounts?" + query * 300 + b" HTTP/1.1\r\n" + HOST + b"\r\n")
    time.sleep(0.3)
    log = nginx.access_log()
    assert '"GET /supervisor/accounts HTTP/1.1"' in log
    errors = (nginx.dir / "error.log").read_text(errors="replace")
    for text in (log, errors):
        assert "Chen" not in text and "0912" not in text


def test_a_stopped_server_is_a_json_503(stack):
    server, nginx, _ = stack
    server.stop()
    status, headers, body = https(nginx, "GET", "/api/v1/health")
    assert status == 503 and headers["Retry-After"] == "30"
    assert json.loads(body)["error"]["code"] == 503
