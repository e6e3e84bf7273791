"""The protocol's entities: which fields exist, their wire types, and which
role may write each one ("C" collector, "S" supervisor in PROTOCOL.md).

One marshmallow schema per entity both validates a mutation's ``fields`` and
dumps a record to the wire, so the two can never disagree.
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

ACCOUNT_STATUSES = ("active", "promised", "settled", "escalated_agency", "escalated_legal", "closed")
DELINQUENCY_REASONS = ("forgot", "product_dispute", "cash_flow", "hardship", "unwilling", "unknown")
VISIT_STATUSES = ("planned", "done", "missed", "cancelled")
MET_VALUES = ("original_contact", "other_person", "nobody")
VISIT_RESULTS = (
    "paid_full", "paid_partial", "promise_to_pay", "refused", "dispute",
    "not_present", "premises_closed", "rescheduled", "other",
)
PAYMENT_METHODS = ("cash", "transfer", "cheque", "other")
PAYMENT_STATUSES = ("recorded", "deposited", "confirmed", "rejected")
PROMISE_STATUSES = ("pending", "kept", "broken", "cancelled")

C, S = "collector", "supervisor"
BOTH = frozenset({C, S})
SUPERVISOR = frozenset({S})
COLLECTOR = frozenset({C})
NOBODY: frozenset[str] = frozenset()


@functools.cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_known_timezone(name: str) -> bool:
    """Looked up in the list of zones, never by opening a file named after
    client input (a 300-character name raised OSError, a 500)."""
    return name in _known_timezones()


def _valid_timezone(name: str) -> None:
    if not is_known_timezone(name):
        raise ValidationError("Not a known IANA time zone.")


class StrictBoolean(fields.Boolean):
    """Only JSON true/false: "yes" or 1 from a buggy client is an error,
    not a silent guess."""

    truthy = {True}
    falsy = {False}


def _text(max_len: int = 2000, **kw):
    return fields.String(allow_none=True, validate=validate.Length(max=max_len), **kw)


def _enum(values, **kw):
    return fields.String(validate=validate.OneOf(values), **kw)


def _money(**kw):
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=10**15), **kw)


# \Z, not $: "$" also matches before a final newline, and "<uuid>\n" was
# taken as a client_id (then too long for its column on PostgreSQL: 500).
UUID_VALIDATOR = validate.Regexp(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z",
    error="Not a lower-case hyphenated UUID.",
)
LAT = validate.Range(min=-90, max=90)
LON = validate.Range(min=-180, max=180)


def _ref_id(**kw):
    return fields.String(validate=UUID_VALIDATOR, **kw)


class AccountSchema(Schema):
    ref = fields.String(validate=validate.Length(min=1, max=64))
    customer_name = fields.String(validate=validate.Length(min=1, max=200))
    original_contact_name = _text(200)
    original_contact_role = _text(100)
    original_contact_phone = _text(64)
    address = _text()
    address_notes = _text()
    lat = fields.Float(allow_none=True, validate=LAT, allow_nan=False)
    lon = fields.Float(allow_none=True, validate=LON, allow_nan=False)
    timezone = fields.String(validate=_valid_timezone)
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}\Z"))
    principal = _money()
    amount_due = _money()
    due_since = fields.Date(allow_none=True)
    assigned_collector_id = _ref_id(allow_none=True)
    status = _enum(ACCOUNT_STATUSES)
    delinquency_reason = _enum(DELINQUENCY_REASONS, allow_none=True)
    notes = _text(10000)


class VisitSchema(Schema):
    account_id = _ref_id()
    collector_id = _ref_id(allow_none=True)
    scheduled_at = fields.AwareDateTime(allow_none=True)
    status = _enum(VISIT_STATUSES)
    plan_notes = _text()
    arrived_at = fields.AwareDateTime(allow_none=True)
    departed_at = fields.AwareDateTime(allow_none=True)
    checkin_lat = fields.Float(allow_none=True, validate=LAT, allow_nan=False)
    checkin_lon = fields.Float(allow_none=True, validate=LON, allow_nan=False)
    checkin_accuracy_m = fields.Float(
        allow_none=True, validate=validate.Range(min=0, max=10**6), allow_nan=False
    )
    met = _enum(MET_VALUES, allow_none=True)
    met_name = _text(200)
    redirected_to = _text(200)
    other_guests_present = StrictBoolean(allow_none=True)
    waited_minutes = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=24 * 60)
    )
    delinquency_reason = _enum(DELINQUENCY_REASONS, allow_none=True)
    result = _enum(VISIT_RESULTS, allow_none=True)
    promise_amount = _money(allow_none=True)
    promise_date = fields.Date(allow_none=True)
    notes = _text(10000)
    conduct_confirmed = StrictBoolean(allow_none=True)
    amendment_reason = _text()


class PaymentSchema(Schema):
    account_id = _ref_id()
    visit_id = _ref_id(allow_none=True)
    amount = fields.Integer(strict=True, validate=validate.Range(min=1, max=10**15))
    method = _enum(PAYMENT_METHODS)
    collected_at = fields.AwareDateTime()
    notes = _text()
    status = _enum(PAYMENT_STATUSES)


class PromiseSchema(Schema):
    account_id = _ref_id()
    visit_id = _ref_id()
    amount = _money()
    promise_date = fields.Date()
    status = _enum(PROMISE_STATUSES)


PLAN_FIELDS = ("account_id", "collector_id", "scheduled_at", "status", "plan_notes")
OUTCOME_FIELDS = (
    "arrived_at", "departed_at", "checkin_lat", "checkin_lon", "checkin_accuracy_m",
    "met", "met_name", "redirected_to", "other_guests_present", "waited_minutes",
    "delinquency_reason", "result", "promise_amount", "promise_date", "notes",
    "conduct_confirmed", "amendment_reason",
)


def is_storable(value: Any) -> bool:
    """PostgreSQL text holds no NUL, and a lone surrogate (valid JSON, e.g.
    an emoji cut in half by a client) cannot be encoded as UTF-8: storing
    either failed with a 500 for the whole batch."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            # Strict UTF-8 refuses every surrogate code point; a str holds
            # one only unpaired (JSON's escaped pairs are decoded to one
            # character).
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(is_storable(k) and is_storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(is_storable(v) for v in value)
    return True


@dataclass(frozen=True)
class EntitySpec:
    name: str
    schema: Schema
    writers: dict[str, frozenset[str]]
    # Computed or server-kept fields sent on the wire beside the writable ones.
    read_only: tuple[str, ...] = ()


ENTITIES: dict[str, EntitySpec] = {
    "account": EntitySpec(
        "account",
        AccountSchema(),
        {
            **{f: SUPERVISOR for f in AccountSchema._declared_fields},
            **{f: BOTH for f in (
                "original_contact_phone", "address_notes", "delinquency_reason", "notes")},
        },
        read_only=("days_past_due", "aging_bucket", "priority", "attempts_recent",
                   "broken_promises", "alerts", "escalation"),
    ),
    "visit": EntitySpec(
        "visit",
        VisitSchema(),
        {**{f: BOTH for f in PLAN_FIELDS}, **{f: BOTH for f in OUTCOME_FIELDS}},
        read_only=("flags",),
    ),
    "payment": EntitySpec(
        "payment",
        PaymentSchema(),
        {**{f: COLLECTOR for f in PaymentSchema._declared_fields}, "status": SUPERVISOR},
        read_only=("collector_id", "review_note"),
    ),
    "promise": EntitySpec(
        "promise",
        PromiseSchema(),
        {f: NOBODY for f in PromiseSchema._declared_fields},
        read_only=("collector_id", "made_at"),
    ),
}
