"""The collector app's shell, generated from the files in ``pwa/``.

Nothing here is kept by hand: the cache version, the service worker's
precache list and the page's ``modulepreload`` links all come from the
files themselves, so a changed file always reaches the phones.

- **Version**: a SHA-256 over every shell file's path and bytes (12 hex
  digits). The same files give the same version on every worker and
  every machine.
- **Versioned URLs**: every shell file is also served at
  ``/v/<version>/<path>`` with a year-long ``immutable`` lifetime. The page
  (``/``, always revalidated) loads its script and style from there, and
  the modules' relative imports stay inside the same version, so a phone
  never mixes files of two versions and never asks twice for a file it
  has.
- **Service worker**: ``/sw.js`` is ``pwa/sw.js`` with its version and
  precache list filled in. It precaches the versioned URLs through the
  HTTP cache, so on the first visit it reuses what the page has just
  downloaded instead of fetching the whole shell a second time.
- **First screen**: ``index.html`` gets a ``modulepreload`` link for each
  module ``js/app.js`` imports, directly or not (``import()`` calls, such
  as the map's, are left to load when needed), so the browser fetches them
  in parallel instead of discovering them one import level at a time.
- **Compression**: text files are gzip-compressed once, when the shell is
  built, and sent compressed to clients that accept it.

The shell is built on first use and rebuilt when a file under ``pwa/``
changes (checked at most every ``_RECHECK_S`` seconds), so editing a file
needs no restart. ``js/labels.js`` has no file of its own: it is the label
catalog ``server/labels.json`` as a module (``server/labels.py``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import labels

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"
# What the phone needs from pwa/: the page, its code, style and pictures.
SHELL_SUFFIXES = {".html", ".js", ".css", ".svg", ".png", ".webmanifest"}
COMPRESSIBLE = {".html", ".js", ".css", ".svg", ".webmanifest", ".json", ".map"}
SERVICE_WORKER = "sw.js"
ENTRY_MODULE = "js/app.js"
VERSION_PREFIX = "v"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_RECHECK_S = 2.0

_CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                  ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml",
                  ".webmanifest": "application/manifest+json", ".json": "application/json",
                  ".png": "image/png", ".map": "application/json"}


@dataclass(frozen=True)
class Asset:
    """One file's bytes, ready to send."""

    body: bytes
    content_type: str
    etag: str
    gzipped: bytes | None = None


def make_asset(path: str, body: bytes) -> Asset:
    suffix = Path(path).suffix
    content_type = _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path)[0] \
        or "application/octet-stream"
    compressed = gzip.compress(body, compresslevel=9, mtime=0) \
        if suffix in COMPRESSIBLE and len(body) > 512 else None
    if compressed is not None and len(compressed) >= len(body):
        compressed = None
    return Asset(body, content_type, hashlib.sha256(body).hexdigest()[:20], compressed)


@dataclass(frozen=True)
class Shell:
    version: str
    files: dict[str, Asset]          # "js/app.js" → the file as written
    index: Asset                     # the page, pointing at the versioned files
    service_worker: Asset
    first_screen_modules: tuple[str, ...]

    @property
    def prefix(self) -> str:
        return f"/{VERSION_PREFIX}/{self.version}/"

    @property
    def precache(self) -> list[str]:
        return precache_list(self.version, self.files, self.index.body.decode("utf-8"))

    def versioned(self, version: str, path: str) -> Asset | None:
        if version != self.version:
            return None
        if path == "index.html":
            return self.index
        return self.files.get(path)


# -- building ------------------------------------------------------------------


def precache_list(version: str, files, index_html: str) -> list[str]:
    """What the service worker stores, versioned: the page first, then
    every module and style sheet (a screen opened offline may import one
    the first screen did not) and the pictures the page itself names. The
    manifest's install icons are left to the browser."""
    prefix = f"/{VERSION_PREFIX}/{version}/"
    named = set(re.findall(r'(?:href|src)="' + re.escape(prefix) + r'([^"]+)"', index_html))
    wanted = sorted(p for p in files
                    if p != "index.html" and (Path(p).suffix in (".js", ".css") or p in named))
    return [prefix + "index.html"] + [prefix + p for p in wanted]


def _source_files(root: Path) -> dict[str, bytes]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and path.suffix in SHELL_SUFFIXES and rel != SERVICE_WORKER:
            found[rel] = path.read_bytes()
    found["js/labels.js"] = labels.js_module()
    return found


def content_version(files: dict[str, bytes], service_worker: bytes) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    digest.update(b"sw\0" + hashlib.sha256(service_worker).digest())
    return digest.hexdigest()[:12]


_STATIC_IMPORT = re.compile(
    r"""(?:^|[;\n])\s*(?:import|export)\s+(?:[\w*{}\s,$]+?\s+from\s+)?['"](\.{1,2}/[^'"]+)['"]""")


def static_imports(files: dict[str, bytes], entry: str) -> list[str]:
    """Every module ``entry`` imports statically, directly or not, in the
    order a depth-first walk meets them (``entry`` itself first)."""
    seen: list[str] = []

    def visit(path: str) -> None:
        if path in seen or path not in files:
            return
        seen.append(path)
        base = Path(path).parent
        for spec in _STATIC_IMPORT.findall(files[path].decode("utf-8")):
            target = (base / spec).as_posix()
            parts: list[str] = []
            for part in target.split("/"):
                if part == "..":
                    parts.pop()
                elif part not in ("", "."):
                    parts.append(part)
            visit("/".join(parts))

    visit(entry)
    return seen


_SHELL_REF = re.compile(r'''(href|src)="/((?:js|css|icons)/[^"]+)"''')
_PRELOAD = re.compile(r'''[ \t]*<link rel="modulepreload"[^>]*>\n?''')
_MODULE_SCRIPT = re.compile(r'''([ \t]*)<script type="module"''')


def render_index(html: str, prefix: str, modules: list[str]) -> str:
    html = _PRELOAD.sub("", html)
    html = _SHELL_REF.sub(lambda m: f'{m.group(1)}="{prefix}{m.group(2)}"', html)
    match = _MODULE_SCRIPT.search(html)
    if match is None:
        return html
    indent = match.group(1)
    links = "".join(f'{indent}<link rel="modulepreload" href="{prefix}{m}">\n' for m in modules)
    return html[:match.start()] + links + html[match.start():]


def render_service_worker(source: str, version: str, precache: list[str]) -> str:
    for marker in ("'__SHELL_VERSION__'", "['__SHELL_FILES__']"):
        if marker not in source:
            raise RuntimeError(f"pwa/sw.js lost its placeholder {marker}")
    return (source.replace("'__SHELL_VERSION__'", json.dumps(version))
            .replace("['__SHELL_FILES__']", json.dumps(precache, indent=2)))


def build_shell(root: Path = PWA_DIR) -> Shell:
    sources = _source_files(root)
    sw_source = (root / SERVICE_WORKER).read_bytes()
    version = content_version(sources, sw_source)
    prefix = f"/{VERSION_PREFIX}/{version}/"
    modules = static_imports(sources, ENTRY_MODULE)
    files = {path: make_asset(path, body) for path, body in sources.items()}
    index = make_asset("index.html", render_index(
        sources["index.html"].decode("utf-8"), prefix, modules).encode())
    sw = render_service_worker(sw_source.decode("utf-8"), version,
                               precache_list(version, files, index.body.decode("utf-8")))
    return Shell(version, files, index, make_asset("sw.js", sw.encode()), tuple(modules))


# -- one shell per process, rebuilt when pwa/ changes --------------------------


class ShellCache:
    def __init__(self, root: Path = PWA_DIR):
        self.root = root
        self._lock = threading.Lock()
        self._shell: Shell | None = None
        self._stamp: tuple | None = None
        self._checked = 0.0

    def _fingerprint(self) -> tuple:
        stats = []
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and (path.suffix in SHELL_SUFFIXES):
                st = path.stat()
                stats.append((str(path), st.st_mtime_ns, st.st_size))
        label_file = labels.CATALOG_PATH.stat()
        stats.append(("labels", label_file.st_mtime_ns, label_file.st_size))
        return tuple(stats)

    def get(self) -> Shell:
        now = time.monotonic()
        if self._shell is not None and now - self._checked < _RECHECK_S:
            return self._shell
        with self._lock:
            if self._shell is not None and now - self._checked < _RECHECK_S:
                return self._shell
            stamp = self._fingerprint()
            if self._shell is None or stamp != self._stamp:
                if stamp != self._stamp:
                    labels.catalog.cache_clear()
                self._shell = build_shell(self.root)
                self._stamp = stamp
            self._checked = now
            return self._shell
