"""The proxy does what each fault promises, against a tiny loopback server
that counts the requests it received whole."""

from __future__ import annotations

import http.client
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.flaky_proxy import FaultRates, FlakyProxy

BODY = b'{"payload": "' + b"x" * 4000 + b'"}'


class Counter(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if len(body) == len(BODY):
            with self.server.lock:
                self.server.whole += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counter)
    server.lock, server.whole = threading.Lock(), 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _post(port: int) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/", BODY, {"Content-Type": "application/json"})
        return conn.getresponse().read()
    finally:
        conn.close()


@pytest.mark.parametrize("fate, answered, received", [
    ("pass", True, 1),
    ("reset", False, 0),
    ("drop_request", False, 0),
    ("cut_body", False, 0),
    ("drop_response", False, 1),   # processed, but the client never knows
])
def test_each_fault(upstream, fate, answered, received):
    rates = FaultRates(**{fate: 1.0}) if fate != "pass" else FaultRates()
    with FlakyProxy(upstream.server_address[1], rates, seed=1, lifetime_s=30) as proxy:
        if answered:
            assert _post(proxy.port) == b"ok"
        else:
            with pytest.raises((OSError, http.client.HTTPException)):
                _post(proxy.port)
        assert proxy.stats[fate] == 1
    # Final already: the proxy reads the whole answer before it drops it,
    # and a torn body is never counted, whenever its handler gives up.
    assert upstream.whole == received


def test_fates_are_seeded_and_near_their_rates():
    rates = FaultRates(reset=0.1, drop_request=0.1, cut_body=0.1, drop_response=0.2, delay=0.5)
    draws = [rates.choose(random.Random(7)) for _ in range(3)]
    assert draws[0] == draws[1] == draws[2]
    rng = random.Random(7)
    fates = [rates.choose(rng)[0] for _ in range(10_000)]
    assert abs(fates.count("drop_response") / 10_000 - 0.2) < 0.02
    assert abs(fates.count("pass") / 10_000 - 0.5) < 0.02


def test_refuses_to_leave_loopback():
    with pytest.raises(ValueError):
        FlakyProxy(80, FaultRates(), target_host="10.0.0.1")
