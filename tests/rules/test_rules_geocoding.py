"""Geocoding through geopy's Nominatim, against a loopback HTTP server."""

import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from server.rules.geocoding import geocode_address, make_geocoder

KNOWN = {"台北市信義區信義路五段7號": {"lat": "25.0340", "lon": "121.5645",
                                       "display_name": "Taipei 101"}}


class _FakeNominatim(BaseHTTPRequestHandler):
    mode = "ok"
    seen: list = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        url = urlparse(self.path)
        query = parse_qs(url.query)
        type(self).seen.append((url.path, query, self.headers.get("User-Agent")))
        if self.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        if self.mode == "slow":
            time.sleep(1.5)
        if self.mode == "garbage":
            body = b"<html>not json</html>"
        else:
            hit = KNOWN.get(query.get("q", [""])[0])
            body = json.dumps([hit] if hit else []).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@contextmanager
def fake_server(mode):
    handler = type("Handler", (_FakeNominatim,), {"mode": mode, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def geocoder_for(domain, timeout=5):
    return make_geocoder("nominatim", domain, "http", "fieldvisit-tests", timeout, proxies={})


def test_known_address_resolves_to_coordinates():
    with fake_server("ok") as (domain, handler):
        result = geocode_address(geocoder_for(domain), "  台北市信義區信義路五段7號 ")
        assert result == (25.0340, 121.5645)
        path, query, agent = handler.seen[0]
        assert path == "/search" and query["format"] == ["json"] and agent == "fieldvisit-tests"


@pytest.mark.parametrize("mode", ["ok", "error", "garbage"])
def test_unknown_address_and_service_errors_give_none(mode):
    with fake_server(mode) as (domain, _):
        address = "nowhere" if mode == "ok" else "台北市信義區信義路五段7號"
        assert geocode_address(geocoder_for(domain), address) is None


def test_timeout_gives_none():
    with fake_server("slow") as (domain, _):
        assert geocode_address(geocoder_for(domain, timeout=0.3), "台北市信義區信義路五段7號") is None


def test_unreachable_server_gives_none():
    with socket.socket() as s:  # a port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert geocode_address(geocoder_for(f"127.0.0.1:{port}", timeout=1), "anything") is None


@pytest.mark.parametrize("provider", [None, "", "off", "OFF", "none"])
def test_geocoding_can_be_switched_off(provider):
    geocoder = make_geocoder(provider, None, "https", "fieldvisit", 5)
    assert geocoder is None
    assert geocode_address(geocoder, "台北市信義區信義路五段7號") is None


def test_blank_address_is_not_sent():
    with fake_server("ok") as (domain, handler):
        assert geocode_address(geocoder_for(domain), "   ") is None
        assert handler.seen == []


@pytest.mark.parametrize(
    ("args", "message"),
    [(("google", None, "https", "ua", 5), "unknown geocoding provider"),
     (("nominatim", None, "ftp", "ua", 5), "scheme"),
     (("nominatim", None, "https", "", 5), "user_agent")],
)
def test_configuration_mistakes_raise(args, message):
    with pytest.raises(ValueError, match=message):
        make_geocoder(*args)
