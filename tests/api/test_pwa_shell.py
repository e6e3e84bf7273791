"""The collector app's shell as the server generates it (server/shell.py):
a content-hash version, a precache list and modulepreload links made from
the files themselves, versioned URLs cached for a year, gzip, and Leaflet
from the installed package."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import pytest

from server.maps import LEAFLET_VERSION, tile_origin, validate_tiles_url
from server.shell import PWA_DIR, ShellCache, build_shell

from ..conftest import make_app


@pytest.fixture
def shell_copy(tmp_path) -> Path:
    root = tmp_path / "pwa"
    shutil.copytree(PWA_DIR, root)
    return root


def served_sw(web) -> tuple[str, list[str]]:
    text = web.get("/sw.js").text
    version = re.search(r'const VERSION = "([0-9a-f]{12})";', text).group(1)
    files = json.loads(re.search(r"const SHELL = (\[.*?\]);", text, re.S).group(1))
    return version, files


def test_the_worker_precaches_every_module_and_style_under_the_version(sqlite_app):
    web = sqlite_app.test_client()
    version, files = served_sw(web)
    prefix = f"/v/{version}/"
    assert files[0] == prefix + "index.html"
    wanted = {prefix + p.relative_to(PWA_DIR).as_posix() for p in PWA_DIR.rglob("*")
              if p.suffix in (".js", ".css") and p.name != "sw.js"} | {prefix + "js/labels.js"}
    assert wanted <= set(files), "modules missing from the precache list"
    # Every listed URL answers, so the worker's install cannot fail on a stale name.
    for url in files:
        assert web.get(url).status_code == 200, url


def test_a_changed_file_changes_the_version_and_reaches_the_page(shell_copy):
    before = build_shell(shell_copy)
    (shell_copy / "js" / "dom.js").write_text((shell_copy / "js" / "dom.js").read_text() + "\n// changed\n")
    after = build_shell(shell_copy)
    assert before.version != after.version
    assert f"/v/{after.version}/js/app.js" in after.index.body.decode()
    assert f'"{after.version}"' in after.service_worker.body.decode()
    # The same files always give the same version (every worker, every machine).
    assert build_shell(shell_copy).version == after.version


def test_the_running_server_notices_a_changed_file(shell_copy, monkeypatch):
    monkeypatch.setattr("server.shell._RECHECK_S", 0)
    cache = ShellCache(shell_copy)
    first = cache.get().version
    assert cache.get().version == first
    (shell_copy / "css" / "app.css").write_text("body { color: red; }\n")
    assert cache.get().version != first


def test_the_page_preloads_the_first_screens_modules_only():
    shell = build_shell()
    html = shell.index.body.decode()
    preloaded = re.findall(rf'<link rel="modulepreload" href="/v/{shell.version}/([^"]+)">', html)
    assert preloaded[0] == "js/app.js"
    assert {"js/db.js", "js/views/today.js", "js/views/login.js", "js/labels.js"} <= set(preloaded)
    # Screens opened later load on demand (the map brings Leaflet).
    assert "js/views/map.js" not in preloaded and "js/views/visit.js" not in preloaded
    assert len(preloaded) == len(set(preloaded))
    assert f'<link rel="stylesheet" href="/v/{shell.version}/css/app.css">' in html
    assert '<script type="module" src="/v/' in html


@pytest.mark.parametrize(("path", "cache_control"), [
    ("/", "no-cache"), ("/index.html", "no-cache"), ("/sw.js", "no-cache"),
    ("/js/app.js", "no-cache"), ("/manifest.webmanifest", "no-cache"),
    ("/v/{version}/js/app.js", "public, max-age=31536000, immutable"),
    ("/v/{version}/css/app.css", "public, max-age=31536000, immutable"),
    (f"/vendor/leaflet/{LEAFLET_VERSION}/leaflet.js", "public, max-age=31536000, immutable"),
])
def test_cache_lifetimes(sqlite_app, path, cache_control):
    web = sqlite_app.test_client()
    version, _ = served_sw(web)
    response = web.get(path.format(version=version))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == cache_control


def test_text_is_sent_gzip_compressed_and_revalidates_with_304(sqlite_app):
    web = sqlite_app.test_client()
    version, _ = served_sw(web)
    url = f"/v/{version}/js/views/visit.js"
    plain = web.get(url)
    packed = web.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 2
    again = web.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert plain.headers["ETag"] != packed.headers["ETag"]  # one per encoding


def test_unknown_versions_and_files_are_404(sqlite_app):
    web = sqlite_app.test_client()
    assert web.get("/v/000000000000/js/app.js").status_code == 404
    assert web.get("/vendor/leaflet/0.1/leaflet.js").status_code == 404
    assert web.get("/icons/make_icons.py").status_code == 404  # not part of the shell


def test_the_label_catalog_is_served_as_a_module(sqlite_app):
    body = sqlite_app.test_client().get("/js/labels.js")
    assert body.headers["Content-Type"].startswith("text/javascript")
    assert "export default" in body.text and "NT$" in body.text


def test_version_is_not_kept_by_hand():
    text = (PWA_DIR / "js" / "version.js").read_text()
    assert not re.search(r"APP_VERSION = '[0-9.]+'", text)
    assert "'__SHELL_VERSION__'" in (PWA_DIR / "sw.js").read_text()


# -- the map ---------------------------------------------------------------------


def test_client_config_names_the_tiles_and_leaflet(world):
    phone = world.phone("alice")
    body = world.web.get("/api/v1/client-config", headers=phone.headers).json["map"]
    assert body["tiles_url"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert "OpenStreetMap" in body["attribution"]
    assert world.web.get(body["leaflet_js"]).status_int == 200
    assert world.web.get(body["leaflet_css"]).status_int == 200
    world.web.get("/api/v1/client-config", status=401)


def test_configured_tiles_reach_the_phone(monkeypatch, tmp_path, request):
    monkeypatch.setenv("FIELDVISIT_MAP_TILES_URL", "http://tiles.example.test:8080/{z}/{x}/{y}.png")
    monkeypatch.setenv("FIELDVISIT_MAP_ATTRIBUTION", "© Example tiles")
    app = make_app("sqlite", tmp_path, request)
    from server.api.meta import client_map_config

    assert client_map_config(app.config)["tiles_url"] == "http://tiles.example.test:8080/{z}/{x}/{y}.png"
    assert client_map_config(app.config)["attribution"] == "© Example tiles"


@pytest.mark.parametrize("url", ["ftp://x/{z}/{x}/{y}.png", "https://tiles.example/{z}/{x}.png",
                                 "not a url"])
def test_a_bad_tile_template_stops_the_server(monkeypatch, tmp_path, request, url):
    monkeypatch.setenv("FIELDVISIT_MAP_TILES_URL", url)
    with pytest.raises(ValueError, match="FIELDVISIT_MAP_TILES_URL"):
        make_app("sqlite", tmp_path, request)


@pytest.mark.parametrize(("url", "origin"), [
    ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
    ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
    ("http://127.0.0.1:8123/{z}/{x}/{y}.png", "http://127.0.0.1:8123"),
])
def test_tile_origin_for_the_content_security_policy(url, origin):
    assert tile_origin(validate_tiles_url(url)) == origin
