"""Typed models. They hold data and the invariants of one row; reading and
writing policy lives in ``services``. Every timestamp is timezone-aware UTC."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """Stores UTC and always gives back an aware UTC datetime, also on SQLite,
    which has no time zone type and would otherwise return naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


ROLES = ("collector", "supervisor")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where the collector's day starts (office or home), for route planning.
    start_lat: Mapped[float | None] = mapped_column(Float)
    start_lon: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Raised when the user signs out of the supervisor pages: a session
    # cookie carries the number it was issued under, so every copy of an
    # older cookie stops working at once (cookies live in the browser, and
    # clearing one there would not stop a copy).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "name": self.name, "role": self.role}


class AuthToken(db.Model):
    """A bearer token, stored only as its SHA-256 hash."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(db.Model):
    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Client(db.Model):
    """A device's outbox numbering: its ``client_id`` is bound to one user by
    the first push, and ``last_seq`` is the last mutation applied."""

    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The device's own report (docs/protocol.md 1.1 "Device clock and device
    # report", server/services/device_report.py): last value wins.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    app_version: Mapped[str | None] = mapped_column(String(64))
    outbox_count: Mapped[int | None] = mapped_column(Integer)
    outbox_oldest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    storage: Mapped[str | None] = mapped_column(String(16))
    # sent_at − server receive time of its last push that carried sent_at.
    clock_offset_s: Mapped[float | None] = mapped_column(Float)


class SyncedRecord:
    """Columns every synced record has: its id (made on the phone or the
    server), a version raised by one on each accepted change, and per field
    the ``[version, hlc, client_id]`` of its last change for the merge."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, default=0)
    field_clocks: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Account(SyncedRecord, db.Model):
    __tablename__ = "accounts"

    ref: Mapped[str] = mapped_column(String(64), unique=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    original_contact_name: Mapped[str | None] = mapped_column(String(200))
    original_contact_role: Mapped[str | None] = mapped_column(String(100))
    original_contact_phone: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(Text)
    address_notes: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    principal: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_due: Mapped[int] = mapped_column(BigInteger, default=0)
    due_since: Mapped[date | None] = mapped_column(Date)
    assigned_collector_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id"), index=True
    )
    status: Mapped[str] = mapped_column(String(32), default="active")
    delinquency_reason: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    # Contact restrictions (docs/protocol.md 1.1): windows not to visit, and the
    # jurisdiction whose rules apply (None: the installation's top-level rules).
    do_not_visit: Mapped[list] = mapped_column(JSON, default=list)
    jurisdiction: Mapped[str | None] = mapped_column(String(2))


class Visit(SyncedRecord, db.Model):
    __tablename__ = "visits"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    collector_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    plan_notes: Mapped[str | None] = mapped_column(Text)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkin_lat: Mapped[float | None] = mapped_column(Float)
    checkin_lon: Mapped[float | None] = mapped_column(Float)
    checkin_accuracy_m: Mapped[float | None] = mapped_column(Float)
    # How old the position fix was when the collector checked in, in seconds.
    checkin_fix_age_s: Mapped[int | None] = mapped_column(Integer)
    met: Mapped[str | None] = mapped_column(String(32))
    met_name: Mapped[str | None] = mapped_column(String(200))
    # The other person's relation to the debtor (third-party disclosure guard).
    met_relation: Mapped[str | None] = mapped_column(String(16))
    redirected_to: Mapped[str | None] = mapped_column(String(200))
    other_guests_present: Mapped[bool | None] = mapped_column(Boolean)
    waited_minutes: Mapped[int | None] = mapped_column(Integer)
    delinquency_reason: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[str | None] = mapped_column(String(32))
    promise_amount: Mapped[int | None] = mapped_column(BigInteger)
    promise_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    conduct_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    amendment_reason: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[list] = mapped_column(JSON, default=list)
    # Minutes the phone's clock was off when it sent this visit's times
    # (services/device_clock.py); None: no push with a wrong clock wrote them.
    device_clock_offset_min: Mapped[int | None] = mapped_column(Integer)


class Payment(SyncedRecord, db.Model):
    __tablename__ = "payments"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id"), index=True)
    collector_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(16))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="recorded")
    review_note: Mapped[str | None] = mapped_column(Text)


class Promise(SyncedRecord, db.Model):
    __tablename__ = "promises"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), unique=True)
    collector_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    promise_date: Mapped[date] = mapped_column(Date)
    made_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")


class Attachment(SyncedRecord, db.Model):
    """A photo, signature or document of a visit: its metadata. The bytes
    live in the blob store (``server/attachments/``), under this id."""

    __tablename__ = "attachments"

    # The visit's account, kept by the server: the record's scope and feed.
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(64))
    byte_size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    caption: Mapped[str | None] = mapped_column(Text)
    redacted_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(36))
    uploaded: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


RECORD_MODELS: dict[str, type] = {
    "account": Account,
    "visit": Visit,
    "payment": Payment,
    "promise": Promise,
    "attachment": Attachment,
}


class FeedState(db.Model):
    """One row. Every writing transaction locks it first: feed positions are
    taken from ``counter`` under that lock, so they become visible in commit
    order (a pull never skips a change), and ``last_hash`` is the head of the
    history chain, extended under the same lock."""

    __tablename__ = "feed_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
    epoch: Mapped[str] = mapped_column(String(36), default=new_id)
    last_hash: Mapped[str] = mapped_column(String(64), default="0" * 64)


class FeedEntry(db.Model):
    """The change feed: one row per record (and per tombstone audience), at
    the position of its latest change. ``audience`` is empty for a change
    that everyone in scope sees, or the user id a tombstone is meant for."""

    __tablename__ = "feed"
    __table_args__ = (
        UniqueConstraint("entity", "record_id", "audience", name="uq_feed_record"),
        Index("ix_feed_audience_position", "audience", "position"),
    )

    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entity: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[str] = mapped_column(String(36))
    account_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(36), default="")


class HistoryEntry(db.Model):
    """Append-only: each row carries the hash of the row before it, so a
    falsified or deleted row breaks the chain (``flask audit verify``)."""

    __tablename__ = "history"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    changes: Mapped[dict] = mapped_column(JSON)
    user_id: Mapped[str | None] = mapped_column(String(36))
    client_id: Mapped[str | None] = mapped_column(String(36))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    hlc: Mapped[str | None] = mapped_column(String(96))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditMark(db.Model):
    """Where the keyed part of the history chain starts: the hash of the row
    the first keyed row follows (the genesis hash when every row is keyed),
    with an HMAC of it under the audit key, so that it cannot be moved by
    whoever does not hold the key (``server/services/audit_marks.py``)."""

    __tablename__ = "audit_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    keyed_after: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Conflict(db.Model):
    """A value that lost a concurrent write. Never thrown away: supervisors
    see it and may resolve it by keeping either value."""

    __tablename__ = "conflicts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    entity: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    account_id: Mapped[str | None] = mapped_column(String(36), index=True)
    field: Mapped[str] = mapped_column(String(64))
    kept_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    lost_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    kept_client_id: Mapped[str | None] = mapped_column(String(36))
    kept_hlc: Mapped[str | None] = mapped_column(String(96))
    lost_client_id: Mapped[str | None] = mapped_column(String(36))
    lost_hlc: Mapped[str | None] = mapped_column(String(96))
    lost_user_id: Mapped[str | None] = mapped_column(String(36))
    rule: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(36))
    resolution: Mapped[str | None] = mapped_column(String(16))


class RejectedMutation(db.Model):
    """A mutation the server refused, kept for supervisors to see."""

    __tablename__ = "rejected_mutations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    entity: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[str] = mapped_column(String(36))
    base_version: Mapped[int] = mapped_column(Integer)
    hlc: Mapped[str] = mapped_column(String(96))
    fields: Mapped[Any] = mapped_column(JSON)
    errors: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The same reasons as message keys with their parameters
    # (server/messages.py keyed()): what the supervisor pages translate.
    # NULL on rows stored before it existed; those are read back from the
    # English ``errors`` (messages.parse()).
    reasons: Mapped[dict | None] = mapped_column(JSON, nullable=True)


# -- webhooks (server/webhooks/) ----------------------------------------------
# Their tables live in a module of their own; imported here so the metadata
# (create_all, the migrations' comparison) has them.
from .webhooks import models as _webhook_models  # noqa: E402,F401
