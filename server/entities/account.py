"""``account`` — a delinquent loan (docs/protocol.md "Entities and fields").
Created by import or by a supervisor; a collector writes only what she
learns on site."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .. import messages
from .fields import (
    BOTH,
    LAT,
    LON,
    SUPERVISOR,
    coordinate,
    currency,
    enum,
    money,
    ref_id,
    text,
    timezone,
)
from .restrictions import DoNotVisitField, collectors_only_add_windows, country_code
from .spec import EntitySpec, Errors, Proposal

ACCOUNT_STATUSES = ("active", "promised", "settled", "escalated_agency", "escalated_legal", "closed")
DELINQUENCY_REASONS = ("forgot", "product_dispute", "cash_flow", "hardship", "unwilling", "unknown")


class AccountSchema(Schema):
    ref = fields.String(validate=validate.Length(min=1, max=64))
    customer_name = fields.String(validate=validate.Length(min=1, max=200))
    original_contact_name = text(200)
    original_contact_role = text(100)
    original_contact_phone = text(64)
    address = text()
    address_notes = text()
    lat = coordinate(LAT)
    lon = coordinate(LON)
    timezone = timezone()
    currency = currency()
    principal = money()
    amount_due = money()
    due_since = fields.Date(allow_none=True)
    assigned_collector_id = ref_id(allow_none=True)
    status = enum(ACCOUNT_STATUSES)
    delinquency_reason = enum(DELINQUENCY_REASONS, allow_none=True)
    notes = text(10000)
    # docs/protocol.md 1.1 "Account contact restrictions" (entities/restrictions.py).
    do_not_visit = DoNotVisitField()
    jurisdiction = country_code(allow_none=True)


def unique_ref(p: Proposal) -> Errors:
    if "ref" not in p.sent:
        return {}
    other = p.lookups.account_with_ref(p.after["ref"])
    if other is not None and other != p.record_id:
        return {"ref": [messages.REF_TAKEN]}
    return {}


def assigned_to_a_collector(p: Proposal) -> Errors:
    collector_id = p.after.get("assigned_collector_id")
    if "assigned_collector_id" in p.sent and collector_id is not None:
        if p.lookups.user_role(collector_id) != "collector":
            return {"assigned_collector_id": [messages.NO_SUCH_COLLECTOR]}
    return {}


_SCHEMA = AccountSchema()

SPEC = EntitySpec(
    "account",
    _SCHEMA,
    {
        **{f: SUPERVISOR for f in _SCHEMA.fields},
        **{f: BOTH for f in (
            "original_contact_phone", "address_notes", "delinquency_reason", "notes")},
        "do_not_visit": BOTH,
    },
    read_only=("days_past_due", "aging_bucket", "priority", "attempts_recent",
               "broken_promises", "alerts", "escalation"),
    required_on_create=("ref", "customer_name", "timezone", "currency"),
    defaults=lambda role, user_id, account: {"status": "active", "principal": 0, "amount_due": 0},
    invariants=(unique_ref, assigned_to_a_collector, collectors_only_add_windows),
)
