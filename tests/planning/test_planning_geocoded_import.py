"""``flask import-accounts`` geocodes rows without lat/lon through a
Nominatim-compatible service (here a loopback HTTP server), configured by
FIELDVISIT_GEOCODER / _DOMAIN / _SCHEME as an operator would."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import Account

from ..conftest import make_app

TAIPEI_101 = "台北市信義區信義路五段7號"
HEADER = ("ref,customer_name,original_contact_name,original_contact_role,original_contact_phone,"
          "address,lat,lon,timezone,currency,principal,amount_due,due_since,collector")
CSV = "\n".join([
    HEADER,
    f"G-1,Tower Café,Lin,Owner,0912-000-001,{TAIPEI_101},,,Asia/Taipei,TWD,100.00,50.00,2026-10-01,",
    "G-2,Station Shop,Wu,Owner,0912-000-002,台北市中正區北平西路3號,25.0478,121.5170,"
    "Asia/Taipei,TWD,100.00,50.00,2026-10-01,",
    "G-3,Lost Lane,Chen,Owner,0912-000-003,no such street,,,Asia/Taipei,TWD,100.00,50.00,2026-10-01,",
]) + "\n"


class _Nominatim(BaseHTTPRequestHandler):
    """Answers /search like Nominatim's JSON format: a list of matches."""

    queries: list

    def do_GET(self):  # noqa: N802 (http.server's naming)
        url = urlparse(self.path)
        query = parse_qs(url.query).get("q", [""])[0]
        type(self).queries.append((url.path, query))
        hits = [{"lat": "25.0340", "lon": "121.5645", "display_name": "Taipei 101"}] \
            if query == TAIPEI_101 else []
        body = json.dumps(hits).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def nominatim():
    handler = type("Handler", (_Nominatim,), {"queries": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", handler.queries
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def import_with(monkeypatch, backend, tmp_path, request, csv_file, geocoder, domain):
    monkeypatch.setenv("FIELDVISIT_GEOCODER", geocoder)
    monkeypatch.setenv("FIELDVISIT_GEOCODER_DOMAIN", domain)
    monkeypatch.setenv("FIELDVISIT_GEOCODER_SCHEME", "http")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # never via a proxy
    app = make_app(backend, tmp_path, request)
    try:
        result = app.test_cli_runner().invoke(args=["import-accounts", str(csv_file)])
        with app.app_context():
            positions = {a.ref: (a.lat, a.lon) for a in db.session.scalars(select(Account))}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return result, positions


def test_import_fills_missing_coordinates_from_the_geocoder(
        monkeypatch, backend, tmp_path, request, csv_file):
    with nominatim() as (domain, queries):
        result, positions = import_with(monkeypatch, backend, tmp_path, request, csv_file,
                                        "nominatim", domain)
    assert result.exit_code == 0, result.output
    assert "3 new" in result.output and "1 geocoded" in result.output
    assert positions == {"G-1": (25.0340, 121.5645), "G-2": (25.0478, 121.5170),
                         "G-3": (None, None)}
    # Only rows without coordinates are looked up.
    assert queries == [("/search", TAIPEI_101), ("/search", "no such street")]


def test_geocoding_off_leaves_coordinates_empty_and_imports(
        monkeypatch, backend, tmp_path, request, csv_file):
    with nominatim() as (domain, queries):
        result, positions = import_with(monkeypatch, backend, tmp_path, request, csv_file,
                                        "off", domain)
    assert result.exit_code == 0, result.output
    assert "3 new" in result.output and "0 geocoded" in result.output
    assert positions == {"G-1": (None, None), "G-2": (25.0478, 121.5170), "G-3": (None, None)}
    assert queries == []  # no debtor address left the server
