"""Attachment settings, from ``FIELDVISIT_*`` variables (README, "Attachments").

* ``FIELDVISIT_ATTACHMENTS_URL`` — where the bytes are kept: empty for the
  file system under ``instance/attachments`` (one machine), ``file:///path``
  for another folder, ``s3://bucket/prefix`` for S3-compatible object
  storage (many machines; boto3 reads the usual ``AWS_*`` settings, and
  ``FIELDVISIT_S3_ENDPOINT_URL`` names a server other than Amazon's);
* ``FIELDVISIT_ATTACHMENT_MAX_BYTES`` — one file, default 10 MiB;
* ``FIELDVISIT_ATTACHMENT_VISIT_MAX_BYTES`` / ``..._VISIT_MAX_FILES`` — all
  the attachments of one visit, default 50 MiB and 20 files;
* ``FIELDVISIT_ATTACHMENT_RETENTION_DAYS`` — delete bytes this many days
  after they arrived (``flask attachments purge``); empty or 0: keep them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MIB = 1024 * 1024
# docs/protocol.md 1.1: a chunk holds at most 1 MiB.
CHUNK_MAX_BYTES = MIB


@dataclass(frozen=True)
class AttachmentSettings:
    url: str = ""
    max_bytes: int = 10 * MIB
    visit_max_bytes: int = 50 * MIB
    visit_max_files: int = 20
    retention_days: int = 0  # 0: never delete
    s3_endpoint_url: str | None = None

    def __post_init__(self):
        for name in ("max_bytes", "visit_max_bytes", "visit_max_files"):
            if getattr(self, name) < 1:
                raise ValueError(f"attachment setting {name} must be at least 1")
        if self.retention_days < 0:
            raise ValueError("FIELDVISIT_ATTACHMENT_RETENTION_DAYS must be 0 (off) or more")


def _int(environ, name: str, default: int) -> int:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from None


def from_environment(environ=os.environ) -> dict:
    """The app config keys (``ATTACHMENT_*``) these variables set."""
    return {
        "ATTACHMENTS_URL": (environ.get("FIELDVISIT_ATTACHMENTS_URL") or "").strip(),
        "ATTACHMENT_MAX_BYTES": _int(environ, "FIELDVISIT_ATTACHMENT_MAX_BYTES", 10 * MIB),
        "ATTACHMENT_VISIT_MAX_BYTES": _int(environ, "FIELDVISIT_ATTACHMENT_VISIT_MAX_BYTES", 50 * MIB),
        "ATTACHMENT_VISIT_MAX_FILES": _int(environ, "FIELDVISIT_ATTACHMENT_VISIT_MAX_FILES", 20),
        "ATTACHMENT_RETENTION_DAYS": _int(environ, "FIELDVISIT_ATTACHMENT_RETENTION_DAYS", 0),
        "ATTACHMENT_S3_ENDPOINT_URL": (environ.get("FIELDVISIT_S3_ENDPOINT_URL") or "").strip() or None,
    }


def settings_of(app) -> AttachmentSettings:
    """The settings of ``app`` (read from its config once, then kept)."""
    found = app.extensions.get("fieldvisit_attachment_settings")
    if found is None:
        cfg = app.config
        found = AttachmentSettings(
            url=cfg.get("ATTACHMENTS_URL", ""),
            max_bytes=cfg.get("ATTACHMENT_MAX_BYTES", 10 * MIB),
            visit_max_bytes=cfg.get("ATTACHMENT_VISIT_MAX_BYTES", 50 * MIB),
            visit_max_files=cfg.get("ATTACHMENT_VISIT_MAX_FILES", 20),
            retention_days=cfg.get("ATTACHMENT_RETENTION_DAYS", 0) or 0,
            s3_endpoint_url=cfg.get("ATTACHMENT_S3_ENDPOINT_URL"),
        )
        app.extensions["fieldvisit_attachment_settings"] = found
    return found
