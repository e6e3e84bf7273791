"""``payment`` — money handed over on a visit. A collector records it; only
a supervisor confirms or rejects it (prohibitions 5 and 10 of the seed
article: no collector settles an account)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .. import messages
from .fields import COLLECTOR, SUPERVISOR, enum, ref_id, text
from .spec import EntitySpec, Errors, Proposal

PAYMENT_METHODS = ("cash", "transfer", "cheque", "other")
PAYMENT_STATUSES = ("recorded", "deposited", "confirmed", "rejected")
# What the money was: once recorded these never change; a correction is a
# new payment, so the trail of what was handed over stays whole.
FIXED = ("account_id", "visit_id", "amount", "method", "collected_at")


class PaymentSchema(Schema):
    account_id = ref_id()
    visit_id = ref_id(allow_none=True)
    amount = fields.Integer(strict=True, validate=validate.Range(min=1, max=10**15))
    method = enum(PAYMENT_METHODS)
    collected_at = fields.AwareDateTime()
    notes = text()
    status = enum(PAYMENT_STATUSES)


class PaymentKept(Schema):
    collector_id = ref_id(allow_none=True)
    # The supervisor's words when confirming or rejecting, shown on the phone.
    review_note = text()


def recorded_money_is_fixed(p: Proposal) -> Errors:
    if p.new:
        return {}
    return {name: [messages.PAYMENT_FIXED] for name in FIXED if name in p.changes}


def visit_of_the_account(p: Proposal) -> Errors:
    visit_id = p.after.get("visit_id")
    if visit_id is not None and (p.new or "visit_id" in p.sent):
        if p.lookups.visit_account(visit_id) != p.after.get("account_id"):
            return {"visit_id": [messages.NO_SUCH_VISIT]}
    return {}


_SCHEMA = PaymentSchema()

SPEC = EntitySpec(
    "payment",
    _SCHEMA,
    {**{f: COLLECTOR for f in _SCHEMA.fields}, "status": SUPERVISOR},
    read_only=("collector_id", "review_note"),
    kept=PaymentKept(),
    required_on_create=("account_id", "amount", "method", "collected_at"),
    defaults=lambda role, user_id, account: {"status": "recorded", "collector_id": user_id},
    invariants=(recorded_money_is_fixed, visit_of_the_account),
)
