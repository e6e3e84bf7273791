"""The phone's map: Leaflet from the pinned ``xstatic-leaflet`` package,
served by this server, and map tiles from a configurable tile server.

Leaflet is never copied into the repository: its files come from the
installed package and are served at ``/vendor/leaflet/<version>/`` with a
year-long lifetime (the version is in the URL). The tiles come from
``FIELDVISIT_MAP_TILES_URL`` (a ``{z}/{x}/{y}`` template; OpenStreetMap's
by default), with the attribution its licence asks for. The phone learns
both from ``GET /api/v1/client-config``. A Content-Security-Policy must
allow images from ``tile_origin()``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import xstatic.pkg.leaflet as xstatic_leaflet

from .shell import Asset, make_asset

LEAFLET_VERSION = xstatic_leaflet.VERSION
LEAFLET_PREFIX = f"/vendor/leaflet/{LEAFLET_VERSION}/"
# Only what a page needs; the package's source maps and unminified copies stay home.
_LEAFLET_FILES = ("leaflet.js", "leaflet.css", "images/layers.png", "images/layers-2x.png",
                  "images/marker-icon.png", "images/marker-icon-2x.png", "images/marker-shadow.png")


@cache
def leaflet_assets() -> dict[str, Asset]:
    base = Path(xstatic_leaflet.BASE_DIR)
    return {name: make_asset(name, (base / name).read_bytes()) for name in _LEAFLET_FILES}


def leaflet_asset(version: str, name: str) -> Asset | None:
    return leaflet_assets().get(name) if version == LEAFLET_VERSION else None


def validate_tiles_url(url: str) -> str:
    """A tile template the phone can use: http(s), with {z}, {x} and {y}."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"FIELDVISIT_MAP_TILES_URL must be an http(s) URL, got {url!r}")
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in url]
    if missing:
        raise ValueError(f"FIELDVISIT_MAP_TILES_URL needs {', '.join(missing)}: {url!r}")
    return url


def tile_origin(url: str) -> str:
    """The origin a CSP ``img-src`` must allow for these tiles; a ``{s}``
    subdomain template becomes a wildcard (``https://*.tile.example.org``)."""
    parts = urlsplit(url)
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def client_map_config(config) -> dict:
    return {
        "tiles_url": config["MAP_TILES_URL"],
        "attribution": config["MAP_ATTRIBUTION"],
        "max_zoom": config["MAP_MAX_ZOOM"],
        "leaflet_js": LEAFLET_PREFIX + "leaflet.js",
        "leaflet_css": LEAFLET_PREFIX + "leaflet.css",
    }
