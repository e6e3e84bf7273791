"""Webhook and worker settings, from ``FIELDVISIT_*`` variables (README,
"Webhooks and the worker").

* ``FIELDVISIT_WEBHOOK_URLS`` — endpoints, comma-separated; empty: no
  webhooks, and the write layer does no webhook work at all;
* ``FIELDVISIT_WEBHOOK_SECRET`` — the key of the ``Fieldvisit-Signature`` HMAC;
* ``FIELDVISIT_WEBHOOK_TIMEOUT_S`` — how long one POST may take (10);
* ``FIELDVISIT_WEBHOOK_RETRY_HOURS`` — how long a delivery is retried
  before it is marked failed (24; fractions allowed);
* ``FIELDVISIT_WEBHOOK_BACKOFF_S`` / ``FIELDVISIT_WEBHOOK_BACKOFF_MAX_S`` —
  the first wait after a failure, doubled after each further one up to the
  maximum (10 / 3600);
* ``FIELDVISIT_WEBHOOK_LEASE_S`` — how long a worker's claim on a delivery
  holds; a worker killed mid-delivery gives its claims back after this (60);
* ``FIELDVISIT_WEBHOOK_KEEP_DAYS`` — how long a delivery that went
  through is kept, and its event (30; 0 keeps them for good; pending and
  failed ones are always kept; ``retention.py``);
* ``FIELDVISIT_WORKER_POLL_S`` — how often an idle worker looks for work (1);
* ``FIELDVISIT_WORKER_PROMISES_MINUTES`` / ``FIELDVISIT_WORKER_PURGE_MINUTES``
  — how often the worker refreshes promises, and purges attachments and
  sent webhooks (15 / 60; 0 turns the job off).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit


def _float(environ, name: str, default: float) -> float:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise RuntimeError(f"{name} must be a number, got {raw!r}") from None
    if value < 0 or value != value or value == float("inf"):
        raise RuntimeError(f"{name} must be a finite number of 0 or more, got {raw!r}")
    return value


def parse_urls(raw: str) -> tuple[str, ...]:
    """The endpoints of a comma-separated list; a malformed one stops the
    server at start-up rather than every delivery later."""
    urls = []
    for part in (raw or "").split(","):
        url = part.strip()
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RuntimeError(f"FIELDVISIT_WEBHOOK_URLS: {url!r} is not an http(s) URL")
        if url not in urls:
            urls.append(url)
    return tuple(urls)


def from_environment(environ=os.environ) -> dict:
    """The app config keys (``WEBHOOK_*``, ``WORKER_*``) these variables set."""
    return {
        "WEBHOOK_URLS": parse_urls(environ.get("FIELDVISIT_WEBHOOK_URLS", "")),
        "WEBHOOK_SECRET": environ.get("FIELDVISIT_WEBHOOK_SECRET") or "",
        "WEBHOOK_TIMEOUT_S": _float(environ, "FIELDVISIT_WEBHOOK_TIMEOUT_S", 10.0),
        "WEBHOOK_RETRY_HOURS": _float(environ, "FIELDVISIT_WEBHOOK_RETRY_HOURS", 24.0),
        "WEBHOOK_BACKOFF_S": _float(environ, "FIELDVISIT_WEBHOOK_BACKOFF_S", 10.0),
        "WEBHOOK_BACKOFF_MAX_S": _float(environ, "FIELDVISIT_WEBHOOK_BACKOFF_MAX_S", 3600.0),
        "WEBHOOK_LEASE_S": _float(environ, "FIELDVISIT_WEBHOOK_LEASE_S", 60.0),
        "WEBHOOK_KEEP_DAYS": _float(environ, "FIELDVISIT_WEBHOOK_KEEP_DAYS", 30.0),
        "WORKER_POLL_S": _float(environ, "FIELDVISIT_WORKER_POLL_S", 1.0),
        "WORKER_PROMISES_MINUTES": _float(environ, "FIELDVISIT_WORKER_PROMISES_MINUTES", 15.0),
        "WORKER_PURGE_MINUTES": _float(environ, "FIELDVISIT_WORKER_PURGE_MINUTES", 60.0),
    }


def validate(config) -> None:
    """Settings that contradict each other stop the server at start-up."""
    urls = config.get("WEBHOOK_URLS") or ()
    if isinstance(urls, str):  # a test or an operator gave the raw list
        config["WEBHOOK_URLS"] = urls = parse_urls(urls)
    if urls and not config.get("WEBHOOK_SECRET"):
        raise RuntimeError("FIELDVISIT_WEBHOOK_URLS is set but FIELDVISIT_WEBHOOK_SECRET is not: "
                           "receivers could not tell a delivery from a forgery")
    if config["WEBHOOK_LEASE_S"] < 2 * config["WEBHOOK_TIMEOUT_S"]:
        # A claim that ran out while its POST is still under way would let a
        # second worker send the same event at the same time.
        raise RuntimeError("FIELDVISIT_WEBHOOK_LEASE_S must be at least twice "
                           "FIELDVISIT_WEBHOOK_TIMEOUT_S")
