"""``promise`` — a promise to pay, derived by the server from a visit with
``result: promise_to_pay`` (``server/services/derived.py``); read-only for
every client."""

from __future__ import annotations

from marshmallow import Schema, fields

from .fields import NOBODY, enum, money, ref_id
from .spec import EntitySpec

PROMISE_STATUSES = ("pending", "kept", "broken", "cancelled")


class PromiseSchema(Schema):
    account_id = ref_id()
    visit_id = ref_id()
    amount = money()
    promise_date = fields.Date()
    status = enum(PROMISE_STATUSES)


class PromiseKept(Schema):
    collector_id = ref_id(allow_none=True)
    made_at = fields.AwareDateTime(allow_none=True)


_SCHEMA = PromiseSchema()

SPEC = EntitySpec(
    "promise",
    _SCHEMA,
    {f: NOBODY for f in _SCHEMA.fields},
    read_only=("collector_id", "made_at"),
    kept=PromiseKept(),
    required_on_create=("account_id", "visit_id", "amount", "promise_date"),
    defaults=lambda role, user_id, account: {"status": "pending"},
    derived_only=True,
)
