"""The audit key and the mark of where the keyed history chain starts.

History rows are hashed with HMAC-SHA256 under ``FIELDVISIT_AUDIT_KEY``
once it is set (``changes.history_hash``); the rows written before it keep
their plain SHA-256 hashes, so an existing chain still verifies. The first
transaction that writes keyed rows also writes one ``AuditMark``: the hash
the keyed part of the chain continues from, itself keyed, so that nobody
without the key can move it (or make keyed rows pass for rows written
before the key) without ``flask audit verify`` noticing."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, has_app_context

from ..models import AuditMark

_MARK_PREFIX = "fieldvisit audit: keyed rows continue from "


def audit_key() -> bytes | None:
    """The secret the history chain is keyed with, kept outside the
    database (an environment variable): whoever can write the database but
    does not hold it cannot compute the hash of a row."""
    if not has_app_context():
        return None
    key = current_app.config.get("AUDIT_KEY")
    if not key:
        return None
    return key.encode() if isinstance(key, str) else key


def mark_mac(key: bytes, keyed_after: str) -> str:
    return hmac.new(key, (_MARK_PREFIX + keyed_after).encode(), hashlib.sha256).hexdigest()


def note_keyed_start(session, keyed_after: str) -> None:
    """Called with the hash the first row of a writing transaction follows:
    the first time rows are written with the key, remember (keyed) where
    they start. Runs under the feed lock, so two first writers cannot both
    add it; a mark found in the database is remembered per application, so
    later transactions pay no query."""
    key = audit_key()
    if not key:
        return
    state = current_app.extensions.setdefault("fieldvisit.audit", {})
    if state.get("marked"):
        return
    if session.get(AuditMark, 1) is not None:
        state["marked"] = True
        return
    # Not remembered yet: this transaction may still roll back.
    session.add(AuditMark(id=1, keyed_after=keyed_after, mac=mark_mac(key, keyed_after)))
