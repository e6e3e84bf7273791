"""``visit`` — one planned or made on-site visit (docs/protocol.md "Entities and
fields", "Merge rules" and 1.1 "Done visits and amendments").

A done visit is evidence: it never goes back to another status, and any
later change to it but its plan notes is an amendment that carries a
reason anyone can read."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .. import messages
from ..rules.clock import local_date
from ..rules.flags import VISIT_FLAGS
from .account import DELINQUENCY_REASONS
from .fields import (
    BOTH,
    LAT,
    LON,
    StrictBoolean,
    coordinate,
    enum,
    money,
    ref_id,
    text,
    visible_characters,
)
from .spec import EntitySpec, Errors, Proposal

VISIT_STATUSES = ("planned", "done", "missed", "cancelled")
MET_VALUES = ("original_contact", "other_person", "nobody")
# Who the other person is to the debtor (third-party disclosure guard,
# docs/rules.md "Third parties").
MET_RELATIONS = ("employee", "family", "neighbour", "other")
VISIT_RESULTS = (
    "paid_full", "paid_partial", "promise_to_pay", "refused", "dispute",
    "not_present", "premises_closed", "rescheduled", "other",
)


class VisitSchema(Schema):
    account_id = ref_id()
    collector_id = ref_id(allow_none=True)
    scheduled_at = fields.AwareDateTime(allow_none=True)
    status = enum(VISIT_STATUSES)
    plan_notes = text()
    arrived_at = fields.AwareDateTime(allow_none=True)
    departed_at = fields.AwareDateTime(allow_none=True)
    checkin_lat = coordinate(LAT)
    checkin_lon = coordinate(LON)
    checkin_accuracy_m = coordinate(validate.Range(min=0, max=10**6))
    # Seconds between the position fix and the check-in: an old fix may be
    # from somewhere else (a day at most; older is no check-in evidence).
    checkin_fix_age_s = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=24 * 3600)
    )
    met = enum(MET_VALUES, allow_none=True)
    met_name = text(200)
    met_relation = enum(MET_RELATIONS, allow_none=True)
    redirected_to = text(200)
    other_guests_present = StrictBoolean(allow_none=True)
    waited_minutes = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=24 * 60)
    )
    delinquency_reason = enum(DELINQUENCY_REASONS, allow_none=True)
    result = enum(VISIT_RESULTS, allow_none=True)
    promise_amount = money(allow_none=True)
    promise_date = fields.Date(allow_none=True)
    notes = text(10000)
    conduct_confirmed = StrictBoolean(allow_none=True)
    amendment_reason = text()


class VisitKept(Schema):
    """Computed when the visit is written (``server/rules/flags.py``)."""

    flags = fields.List(fields.String(validate=validate.OneOf(VISIT_FLAGS)))
    # Minutes the phone's clock was off (+ fast, − slow) when a push wrote
    # arrived_at or departed_at; null when no such push did (docs/protocol.md 1.1).
    device_clock_offset_min = fields.Integer(allow_none=True, metadata={
        "description": "Minutes the phone's clock was off (positive: fast) when a push wrote "
                       "arrived_at or departed_at; set only beyond the server's limit "
                       "(default 5), and then the visit has the flag device_clock_off."})


PLAN_FIELDS = ("account_id", "collector_id", "scheduled_at", "status", "plan_notes")
OUTCOME_FIELDS = (
    "arrived_at", "departed_at", "checkin_lat", "checkin_lon", "checkin_accuracy_m",
    "checkin_fix_age_s",
    "met", "met_name", "redirected_to", "other_guests_present", "waited_minutes",
    "delinquency_reason", "result", "promise_amount", "promise_date", "notes",
    "conduct_confirmed", "amendment_reason",
    "met_relation",  # third-party disclosure guard
)
# The one field of a done visit that is not evidence of what happened.
FREE_AFTER_DONE = frozenset({"plan_notes", "amendment_reason"})
PAID_OR_PROMISED = ("paid_full", "paid_partial", "promise_to_pay")


def collector_named(p: Proposal) -> Errors:
    if "collector_id" not in p.changes:
        return {}
    collector_id = p.after.get("collector_id")
    if collector_id is None:
        if p.before.get("collector_id") is not None:
            return {"collector_id": [messages.COLLECTOR_NOT_REMOVED]}
        return {}
    if p.role == "collector" and collector_id != p.user_id:
        return {"collector_id": [messages.COLLECTOR_NAMES_THEMSELF]}
    if collector_id != p.user_id and p.lookups.user_role(collector_id) != "collector":
        return {"collector_id": [messages.NO_SUCH_COLLECTOR]}
    return {}


def done_is_final(p: Proposal) -> Errors:
    """A done visit never moves to another status, except where a concurrent
    write crossed it (then the merge's domain precedence keeps done)."""
    if (p.before.get("status") == "done" and "status" in p.changes
            and "status" not in p.concurrent):
        return {"status": [messages.DONE_IS_FINAL]}
    return {}


def amendments_carry_a_reason(p: Proposal) -> Errors:
    errors: Errors = {}
    if "amendment_reason" in p.sent:
        reason = p.sent["amendment_reason"]
        if reason is None or reason == "":
            if p.before.get("amendment_reason"):
                p.add(errors, "amendment_reason", messages.REASON_NOT_CLEARED)
        elif visible_characters(reason) < 3:
            p.add(errors, "amendment_reason", messages.REASON_TOO_THIN)
    if p.before.get("status") == "done":
        amended = [n for n in p.changes if n not in FREE_AFTER_DONE]
        reason = p.sent.get("amendment_reason")
        if amended and not (isinstance(reason, str) and visible_characters(reason) >= 3):
            errors.setdefault("amendment_reason", []).insert(
                0, messages.AMENDMENT_NEEDS_REASON.format(fields=", ".join(amended)))
    return errors


def done_needs_an_outcome(p: Proposal) -> Errors:
    errors: Errors = {}
    if p.after.get("status") != "done":
        return errors
    for name in ("arrived_at", "met", "result"):
        if p.after.get(name) is None:
            p.add(errors, name, messages.REQUIRED_FOR_DONE)
    if p.after.get("conduct_confirmed") is not True:
        p.add(errors, "conduct_confirmed", messages.CONDUCT_FOR_DONE)
    return errors


def promises_are_complete(p: Proposal) -> Errors:
    errors: Errors = {}
    after = p.after
    if after.get("result") == "promise_to_pay":
        if not after.get("promise_amount") or after["promise_amount"] <= 0:
            p.add(errors, "promise_amount", messages.PROMISE_NEEDS_AMOUNT)
        if after.get("promise_date") is None:
            p.add(errors, "promise_date", messages.PROMISE_NEEDS_DATE)
        elif after.get("arrived_at") is not None and p.account_timezone:
            if after["promise_date"] < local_date(after["arrived_at"], p.account_timezone):
                p.add(errors, "promise_date", messages.PROMISE_BEFORE_VISIT)
    if after.get("met") == "nobody" and after.get("result") in PAID_OR_PROMISED:
        p.add(errors, "result", messages.NOBODY_MET_NO_MONEY)
    return errors


def relation_only_for_someone_else(p: Proposal) -> Errors:
    """A relation describes the other person met; beside the original
    contact or nobody it would be a false record."""
    if p.after.get("met_relation") is not None and p.after.get("met") != "other_person":
        if {"met", "met_relation"} & p.changes.keys():
            return {"met_relation": [messages.RELATION_ONLY_FOR_OTHERS]}
    return {}


def _defaults(role: str, user_id: str | None, account) -> dict:
    collector = user_id if role == "collector" else account.get("assigned_collector_id")
    return {"status": "planned", "collector_id": collector}


_SCHEMA = VisitSchema()

SPEC = EntitySpec(
    "visit",
    _SCHEMA,
    {f: BOTH for f in _SCHEMA.fields},
    read_only=("flags", "device_clock_offset_min"),
    kept=VisitKept(),
    required_on_create=("account_id", "collector_id"),
    defaults=_defaults,
    invariants=(collector_named, done_is_final, amendments_carry_a_reason,
                done_needs_an_outcome, promises_are_complete, relation_only_for_someone_else),
)
