"""Configuration: defaults in code, overridden by ``FIELDVISIT_*`` environment
variables, overridden again by the mapping a test passes to ``create_app``."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from .attachments.settings import from_environment as attachment_settings
from .webhooks.settings import from_environment as webhook_settings

DEFAULT_BODY_LIMIT = 2 * 1024 * 1024  # docs/protocol.md: 413 above 2 MiB by default
# Defaults of the phone's map (server/maps.py); kept here so this module imports nothing else.
DEFAULT_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_ATTRIBUTION = "© OpenStreetMap contributors"
DEFAULT_MAX_ZOOM = 19


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def _bool(name: str) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise RuntimeError(f"{name} must be 1 or 0, got {raw!r}")


def normalise_database_url(url: str) -> str:
    """Accept the plain ``postgresql://`` form operators paste and use the
    psycopg 3 driver for it; SQLAlchemy would otherwise look for psycopg2."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def from_environment(instance_path: str) -> dict:
    default_db = "sqlite:///" + str(Path(instance_path) / "fieldvisit.sqlite3")
    secret = os.environ.get("FIELDVISIT_SECRET_KEY")
    return {
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            os.environ.get("FIELDVISIT_DATABASE_URL") or default_db
        ),
        # A random key per process would log everyone out on every restart
        # and break multi-worker sessions, so ``make run`` writes one to
        # instance/ and production must set FIELDVISIT_SECRET_KEY.
        "SECRET_KEY": secret or _instance_secret(instance_path),
        "MAX_CONTENT_LENGTH": _int("FIELDVISIT_MAX_BODY_BYTES", DEFAULT_BODY_LIMIT),
        "TOKEN_TTL_HOURS": _int("FIELDVISIT_TOKEN_TTL_HOURS", 24 * 30),
        "LOGIN_MAX_FAILURES": _int("FIELDVISIT_LOGIN_MAX_FAILURES", 5),
        "LOGIN_FAILURE_WINDOW_S": _int("FIELDVISIT_LOGIN_FAILURE_WINDOW_S", 15 * 60),
        "LOGIN_DELAY_S": _int("FIELDVISIT_LOGIN_DELAY_S", 30),
        "LOGIN_ADDRESS_MAX_FAILURES": _int("FIELDVISIT_LOGIN_ADDRESS_MAX_FAILURES", 20),
        "PULL_DEFAULT_LIMIT": 500,
        "PULL_MAX_LIMIT": 1000,
        "PUSH_MAX_MUTATIONS": 500,
        "HLC_MAX_AHEAD_MS": 24 * 3600 * 1000,
        "GEOCODER": os.environ.get("FIELDVISIT_GEOCODER", "off"),
        "GEOCODER_DOMAIN": os.environ.get("FIELDVISIT_GEOCODER_DOMAIN") or None,
        "GEOCODER_SCHEME": os.environ.get("FIELDVISIT_GEOCODER_SCHEME", "https"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": _bool("FIELDVISIT_SESSION_COOKIE_SECURE"),
        "PERMANENT_SESSION_LIFETIME": timedelta(
            minutes=_int("FIELDVISIT_SESSION_IDLE_MINUTES", 60)),
        # Reverse proxies in front whose X-Forwarded-* headers are believed
        # (server/proxies.py); 0 believes none.
        "TRUSTED_PROXIES": _int("FIELDVISIT_TRUSTED_PROXIES", 0),
        # The phone's map (server/maps.py): tile template, its credit line, deepest zoom.
        "MAP_TILES_URL": os.environ.get("FIELDVISIT_MAP_TILES_URL") or DEFAULT_TILES_URL,
        "MAP_ATTRIBUTION": os.environ.get("FIELDVISIT_MAP_ATTRIBUTION") or DEFAULT_ATTRIBUTION,
        "MAP_MAX_ZOOM": _int("FIELDVISIT_MAP_MAX_ZOOM", DEFAULT_MAX_ZOOM),
        # Photos and signatures: store and limits (server/attachments/settings.py).
        **attachment_settings(),
        # The history chain's HMAC key (server/services/audit_marks.py). Kept
        # outside the database on purpose: never written to instance/ beside it.
        "AUDIT_KEY": os.environ.get("FIELDVISIT_AUDIT_KEY") or None,
        # Devices (server/services/device_report.py): a phone whose clock is off by
        # more than this flags the visit times it sends (device_clock_off).
        "CLOCK_OFF_MINUTES": _int("FIELDVISIT_CLOCK_OFF_MINUTES", 5),
        # Webhooks and the worker (server/webhooks/settings.py).
        **webhook_settings(),
    }


AUDIT_KEY_MIN_LENGTH = 16


def validate_audit_key(key) -> None:
    """A short key can be guessed, and a guessed key forges the whole chain."""
    if key and len(key) < AUDIT_KEY_MIN_LENGTH:
        raise RuntimeError(f"FIELDVISIT_AUDIT_KEY must have at least {AUDIT_KEY_MIN_LENGTH} "
                           "characters (e.g. the output of `python -c 'import secrets; "
                           "print(secrets.token_hex(32))'`)")


def _instance_secret(instance_path: str) -> str:
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        return key
