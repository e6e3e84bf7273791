"""The one write layer: every change to a synced record goes through here.

A phone's push (``push.py``), a supervisor's action
(``server/supervisor/actions.py``), the account import (``importer.py``),
promise upkeep (``upkeep.py``), the demo (``demo.py``) and the CLI all
describe what they want as a ``Change`` and call ``apply_change`` inside
``transaction``. So a rule written once holds for every one of them:

1. the fields: known, writable by the author's role, storable, valid for
   the entity's one schema (``server/entities/``);
2. the record: in the author's scope (unknown and out-of-scope answer
   alike), created with base version 0 only;
3. the merge (``sync/merge.py``): field by field, concurrent writes kept
   as conflicts;
4. the entity's invariants over the record as it would be after the change
   (done is final, amendments carry a reason, a payment's money is fixed…);
5. the write: computed fields (a visit's flags), a new version, per-field
   clocks, history and feed (``store.save``);
6. the follow-ups (``derived.py``): the promise a visit makes, promises a
   confirmed payment keeps, planned visits and tombstones when an account
   changes hands — themselves changes through this same function.

Steps 1–4 only read, and every refusal (``Rejected``) is raised before the
first write, so a refused change leaves nothing behind and the rest of its
transaction goes on. A new rule belongs in step 4, in the entity's module.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError

from sync.merge import FieldClock, advance_clocks, decide_fields, merge_status

from .. import messages
from ..entities import ENTITIES, EntitySpec, Proposal, checking, in_year_range, is_storable
from ..entities.fields import MAX_YEAR, MIN_YEAR
from ..extensions import db
from ..models import Account, Conflict, Visit, new_id, utcnow
from ..rules.config import RulesConfig
from . import derived, set_fields
from .changes import Actor, ChangeWriter
from .device_clock import visit_clock_values
from .records import account_id_of, field_values, model_for
from .retry import is_transient
from .rows import new_row
from .store import save, to_json_value

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_ATTEMPTS = 6
SERVER = "server"


class Rejected(Exception):
    """The change breaks a rule; ``errors`` are reasons keyed by field
    (texts from ``server/messages.py``)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class FollowUpRefused(RuntimeError):
    """A rule refused a change that follows from one already written."""


@dataclass
class Change:
    """One change to one record.

    ``fields`` are wire values (as a push sends them), checked against the
    author's role and the entity's schema. ``base_version`` is the version
    the author last saw; None means the current one (the server's own
    writers read the record in the same transaction, so nothing they write
    is concurrent). ``kept`` are server-kept values (Python) that only the
    server's own code sets. ``reason`` goes into the history row."""

    entity: str
    id: str
    fields: Mapping[str, Any]
    actor: Actor
    base_version: int | None = None
    kept: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    # Make a version even when every value stays as it is (a decision that
    # deserves its own history row, such as a resolved conflict).
    always: bool = False


@dataclass
class Outcome:
    status: str  # applied · merged · conflict (docs/protocol.md "Push")
    version: int
    record: Any
    changed: frozenset[str] = frozenset()
    conflicts: list[dict] = field(default_factory=list)


# -- the transaction -----------------------------------------------------------


def transaction(work: Callable[[ChangeWriter], T], *, rules: RulesConfig, session=None,
                attempts: int = MAX_ATTEMPTS, stats: dict | None = None) -> T:
    """Run ``work(tx)`` in one database transaction and commit; any
    exception rolls back. Transient failures a database answers under
    concurrency (PostgreSQL serialization failures and deadlocks, SQLite's
    busy lock) run ``work`` again with jittered backoff, so no writer ever
    shows them as an error; an IntegrityError is retried once too (two
    first writes of the same new id racing). ``work`` must therefore read
    what it needs inside, never rely on objects read before.

    ``stats``, when given, receives ``total_ms`` and ``feed_lock_ms``: how
    long the whole transaction took, and how long it held the feed lock
    (the serial section: from taking feed positions to the commit)."""
    session = session or db.session
    integrity_retried = False
    attempt = 0  # transient failures so far; the one race retry is not counted
    while True:
        try:
            started = time.perf_counter()
            tx = ChangeWriter(session, rules=rules)
            result = work(tx)
            tx.finish()
            session.commit()
            if stats is not None:
                done = time.perf_counter()
                stats["total_ms"] = (done - started) * 1000
                stats["feed_lock_ms"] = (done - tx.feed_lock_at) * 1000 if tx.feed_lock_at else 0.0
            return result
        except IntegrityError:
            # Its own budget: a race lost on the last transient attempt
            # must be retried, not fall out of the loop as a 500.
            session.rollback()
            if integrity_retried:
                raise
            integrity_retried = True
        except DBAPIError as exc:
            session.rollback()
            attempt += 1
            if not is_transient(exc) or attempt >= attempts:
                raise
            log.warning("transient database failure, retrying (attempt %d)", attempt)
            time.sleep(min(0.05 * 2**attempt, 1.0) * random.random())
        except BaseException:
            session.rollback()
            raise


# -- checking a change ---------------------------------------------------------


def _field_errors(exc: ValidationError) -> list[str]:
    found = exc.messages
    if isinstance(found, list):
        return [str(m) for m in found]
    return [str(found)]


def load_fields(spec: EntitySpec, role: str, raw: Mapping[str, Any],
                record_id: str | None = None) -> dict[str, Any]:
    """A change's wire fields as Python values: each known, writable by
    ``role``, storable and valid for its schema field. Every bad field is
    reported, not only the first."""
    errors: dict[str, list[str]] = {}
    raw = dict(raw)
    if "id" in raw:
        if raw.pop("id") != record_id:
            errors["id"] = [messages.ID_DIFFERS]
    schema_fields = spec.schema.fields
    for name in raw:
        if name in spec.read_only:
            errors[name] = [messages.READ_ONLY]
        elif name not in schema_fields:
            errors[name] = [messages.UNKNOWN_FIELD]
        elif role != SERVER and role not in spec.writers.get(name, ()):
            errors[name] = [messages.ROLE_MAY_NOT_WRITE.format(role=role)]
    if spec.derived_only and role != SERVER and not errors:
        errors["_entity"] = [messages.PROMISES_READ_ONLY]
    for name, value in raw.items():
        if not is_storable(value) or (name in errors and not is_storable(name)):
            errors[name] = [messages.NOT_FINITE if isinstance(value, float)
                            else messages.NOT_STORABLE]
    if errors:
        raise Rejected(errors)
    values: dict[str, Any] = {}
    for name, value in raw.items():
        try:
            values[name] = _checker(spec, name)(value)
        except ValidationError as exc:
            errors[name] = _field_errors(exc)
            continue
        if not in_year_range(values[name]):
            errors[name] = [messages.YEAR_OUT_OF_RANGE.format(min_year=MIN_YEAR, max_year=MAX_YEAR)]
    if errors:
        raise Rejected(errors)
    return values


_CHECKERS: dict[tuple[int, str], checking.Checker] = {}


def _checker(spec: EntitySpec, name: str) -> checking.Checker:
    key = (id(spec.schema), name)
    found = _CHECKERS.get(key)
    if found is None:
        found = _CHECKERS[key] = checking.checker(spec.schema.fields[name], name)
    return found


def _check_kept(spec: EntitySpec, kept: Mapping[str, Any]) -> None:
    """Server-kept values come from the server's own code, but are checked
    all the same: a supervisor's note is text from a form."""
    errors: dict[str, list[str]] = {}
    for name, value in kept.items():
        schema_field = (spec.kept.fields.get(name) if spec.kept else None) \
            or spec.schema.fields.get(name)
        if schema_field is None:
            raise ValueError(f"{spec.name}.{name} is not a field the server keeps")
        if not is_storable(value):
            errors[name] = [messages.NOT_STORABLE]
            continue
        if value is None:
            continue
        try:
            for validator in schema_field.validators:
                if validator(value) is False:
                    raise ValidationError(messages.INVALID_VALUE)
        except ValidationError as exc:
            errors[name] = _field_errors(exc)
    if errors:
        raise Rejected(errors)


def visible(actor: Actor, account: Account | None) -> bool:
    """A collector sees the accounts assigned to her (and everything of
    them); supervisors and the server see everything."""
    if account is None:
        return False
    return actor.role != "collector" or account.assigned_collector_id == actor.user_id


@dataclass
class _Plan:
    change: Change
    spec: EntitySpec
    record: Any
    new: bool
    base_version: int
    account: Account | None
    values: dict[str, Any]
    before: dict[str, Any]
    changes: dict[str, Any]
    after: dict[str, Any]
    clocks: dict[str, FieldClock]
    outcome: Any


def _account_of(tx: ChangeWriter, entity: str, record) -> Account | None:
    # Locked too: its assignment decides the scope, and its visits' times
    # the attempt flags of a new one.
    return tx.get_for_update(Account, account_id_of(entity, record))


def _resolve_account(tx: ChangeWriter, actor: Actor, entity: str, record,
                     values: dict) -> Account | None:
    """The account the change touches, checked against the author's scope.
    Unknown and not-assigned answer alike, so ids cannot be probed."""
    if entity == "account":
        if record is None:
            if actor.role == "collector":
                raise Rejected({"_entity": [messages.ONLY_SUPERVISOR_CREATES_ACCOUNTS]})
            return None
        return record
    if record is not None:
        if "account_id" in values and values["account_id"] != record.account_id:
            raise Rejected({"account_id": [messages.SET_ON_CREATE]})
        return _account_of(tx, entity, record)
    via = ENTITIES[entity].account_via
    if via is not None and "account_id" not in values:
        # An attachment's account is its visit's (entities/attachment.py).
        return _account_via_parent(tx, actor, via, values.get(via))
    if "account_id" not in values:
        raise Rejected({"account_id": [messages.REQUIRED]})
    account = tx.get_for_update(Account, values["account_id"])
    if not visible(actor, account):
        raise Rejected({"account_id": [messages.NOT_IN_SCOPE]})
    return account


def _account_via_parent(tx: ChangeWriter, actor: Actor, via: str,
                        parent_id: str | None) -> Account:
    if parent_id is None:
        raise Rejected({via: [messages.REQUIRED]})
    account_id = tx.lookups.visit_account(parent_id)
    account = tx.get(Account, account_id) if account_id is not None else None
    if not visible(actor, account):
        raise Rejected({via: [messages.NO_VISIBLE_VISIT]})
    return account


def _plan(tx: ChangeWriter, change: Change) -> _Plan:
    spec = ENTITIES[change.entity]
    actor = change.actor
    values = load_fields(spec, actor.role, change.fields, change.id)
    if change.kept:
        _check_kept(spec, change.kept)
    record = tx.get_for_update(model_for(change.entity), change.id)
    # A record outside the author's scope is answered as if it did not
    # exist, whatever the change: its id must tell nothing.
    hidden = record is not None and not visible(actor, _account_of(tx, change.entity, record))
    if hidden:
        record = None
    new = record is None
    base_version = change.base_version
    if base_version is None:
        base_version = record.version if record is not None else 0
    if new and base_version > 0:
        raise Rejected({"base_version": [messages.NO_SUCH_RECORD]})
    account = _resolve_account(tx, actor, change.entity, record, {**values, **change.kept})
    if hidden:
        raise Rejected({"id": [messages.ID_TAKEN]})

    before = field_values(change.entity, record) if record is not None else {}
    clocks = {name: FieldClock(*clock) for name, clock in (record.field_clocks or {}).items()} \
        if record is not None else {}
    outcome = decide_fields(
        entity=change.entity, base_version=base_version, client_id=actor.client_id,
        hlc=actor.hlc, incoming=values, current=before, clocks=clocks,
        # Set fields changed since the writer's base merge item by item
        # against what it saw there (sync.merge.SET_FIELDS; docs/rules.md).
        base=set_fields.base_reader(tx.session, change.entity, change.id, base_version),
    )
    values.update(outcome.merged_values)
    changes = {name: values[name] for name in outcome.taken
               if new or before.get(name) != values[name]}
    for name, value in change.kept.items():
        if new or getattr(record, name) != value:
            changes[name] = value
    after = {**before, **changes}
    if new:
        account_view = {"assigned_collector_id": account.assigned_collector_id} if account else {}
        after = {**spec.defaults(actor.role, actor.user_id, account_view), **after}
        changes = {k: v for k, v in after.items() if v is not None or k in values}

    timezone = account.timezone if account is not None else after.get("timezone")
    proposal = Proposal(
        entity=change.entity, record_id=change.id, role=actor.role, user_id=actor.user_id,
        new=new, sent=values, before=before, after=after, changes=changes,
        concurrent=outcome.concurrent,
        account_timezone=timezone, lookups=tx.lookups,
    )
    errors = spec.check(proposal)
    if errors:
        raise Rejected(errors)
    return _Plan(change, spec, record, new, base_version, account, values, before, changes,
                 after, clocks, outcome)


def check_change(tx: ChangeWriter, change: Change) -> dict[str, list[str]]:
    """What ``apply_change`` would refuse, without writing anything."""
    try:
        _plan(tx, change)
    except Rejected as rejection:
        return rejection.errors
    return {}


# -- writing it ----------------------------------------------------------------


def apply_change(tx: ChangeWriter, change: Change) -> Outcome:
    """Check ``change`` and write it with its follow-ups; raises
    ``Rejected`` (before any write) when a rule refuses it."""
    if not tx.writing:
        raise RuntimeError("apply_change needs a writing transaction (writes.transaction)")
    plan = _plan(tx, change)
    entity, actor = change.entity, change.actor
    record = plan.record if not plan.new else new_row(model_for(entity), change.id)
    changes = plan.changes
    if change.always and not changes:
        changes = {name: plan.values[name] for name in plan.outcome.taken}
    old_collector = plan.before.get("assigned_collector_id") if entity == "account" else None

    derive = DERIVED.get(entity)
    if derive is not None:
        # Computed fields read the record as it will be.
        for name, value in plan.after.items():
            setattr(record, name, value)
        if entity == "visit":
            changes.update(visit_clock_values(record, actor.device_clock, changes))
        changes.update(derive(tx, record, plan.account))

    taken = [name for name in plan.outcome.taken if name in plan.values]
    clocks = advance_clocks(plan.clocks, taken, version=(record.version or 0) + 1,
                            hlc=actor.hlc, client_id=actor.client_id)
    wire_clocks = {name: [c.version, c.hlc, c.client_id] for name, c in clocks.items()}
    reason = _history_reason(change, changes)
    saved = save(tx, entity, record, changes, actor, new=plan.new, clocks=wire_clocks,
                 reason=reason)
    if not saved and taken:
        record.field_clocks = wire_clocks
        tx.changed(record, ("field_clocks",))

    follow_up = FOLLOW_UPS.get(entity)
    if follow_up is not None:
        try:
            follow_up(tx, record, plan.account, actor, changes, plan.new, old_collector)
        except Rejected as refusal:
            # The change is written already; a rule refusing what must follow
            # from it means two rules contradict each other, which no caller
            # can handle as a refusal of the change (the transaction fails).
            raise FollowUpRefused(f"a follow-up of {entity} {change.id} was refused: {refusal}") \
                from refusal

    conflicts = _store_conflicts(tx, entity, record, plan, actor)
    status = merge_status(plan.outcome, plan.clocks, base_version=plan.base_version,
                          client_id=actor.client_id, new=plan.new)
    return Outcome(status, record.version, record, frozenset(changes), conflicts)


def _history_reason(change: Change, changes: Mapping[str, Any]) -> str | None:
    parts = [change.reason] if change.reason else []
    if changes.get("amendment_reason"):
        parts.append(changes["amendment_reason"])
    return " — ".join(parts) or None


def _store_conflicts(tx: ChangeWriter, entity: str, record, plan: _Plan,
                     actor: Actor) -> list[dict]:
    results = []
    for decision in plan.outcome.conflicts:
        other = decision.other_clock
        incoming_won = decision.take
        kept = to_json_value(entity, decision.field, decision.kept)
        lost = to_json_value(entity, decision.field, decision.lost)
        conflict = Conflict(
            id=new_id(),
            entity=entity, record_id=record.id, account_id=account_id_of(entity, record),
            field=decision.field, kept_value=kept, lost_value=lost,
            kept_client_id=actor.client_id if incoming_won else other.client_id,
            kept_hlc=actor.hlc if incoming_won else other.hlc,
            lost_client_id=other.client_id if incoming_won else actor.client_id,
            lost_hlc=other.hlc if incoming_won else actor.hlc,
            lost_user_id=None if incoming_won else actor.user_id,
            rule=decision.rule,
        )
        tx.session.add(conflict)
        # The id and both devices let a push result say whose value was kept
        # (services/conflict_sides.py) and a phone match the resolution later.
        results.append({"id": conflict.id, "field": decision.field, "kept": kept, "lost": lost,
                        "rule": decision.rule, "kept_client_id": conflict.kept_client_id,
                        "lost_client_id": conflict.lost_client_id})
    return results


def republish(tx: ChangeWriter, entity: str, record) -> None:
    """Send a record again at its current version (a refused edit, whose
    phone shows it until the server's copy comes back)."""
    tx.publish(entity, record.id, account_id_of(entity, record), record.version)


# -- computed fields and follow-ups, per entity ----------------------------------


def _visit_flags(tx: ChangeWriter, visit: Visit, account: Account) -> dict[str, Any]:
    flags = derived.compute_visit_flags(tx, visit, account, tx.rules, tx.attempts)
    return {"flags": flags} if flags != (visit.flags or []) else {}


def _after_visit(tx, visit, account, actor, changes, new, _old_collector) -> None:
    if tx.attempts is not None:
        tx.attempts.update(visit)
    derived.sync_promise(tx, visit, account, actor, changed=changes)
    if visit.status == "done" and {"status", "arrived_at", "result", "redirected_to"} & changes.keys():
        # attempts_recent, alerts and escalation of the account follow
        # from its visits: send it again (same version) to re-rank it.
        tx.publish("account", account.id, account.id, account.version)


def _after_payment(tx, payment, account, actor, changes, new, _old_collector) -> None:
    if "status" in changes:
        derived.refresh_account_promises(tx, account, actor.derived())


def _after_account(tx, account, _account, actor, changes, new, old_collector) -> None:
    if "assigned_collector_id" in changes and not new:
        derived.follow_reassignment(tx, account, old_collector, actor.derived())


def _attachment_account(tx: ChangeWriter, attachment, account: Account) -> dict[str, Any]:
    # The account is kept from the visit, so scope and feed need no join
    # (entities/attachment.py). ``uploaded_at`` is the moment ``uploaded``
    # is first set: setting it again is then no change at all, whichever
    # of two racing requests gets there second.
    derived_values = {"account_id": account.id} if attachment.account_id != account.id else {}
    if attachment.uploaded and attachment.uploaded_at is None:
        derived_values["uploaded_at"] = utcnow()
    return derived_values


def _after_attachment(tx, attachment, account, actor, changes, new, _old_collector) -> None:
    from ..attachments.lifecycle import after_attachment_change

    after_attachment_change(tx, attachment, changes)


DERIVED: dict[str, Callable[[ChangeWriter, Any, Account], dict[str, Any]]] = {
    "visit": _visit_flags,
    "attachment": _attachment_account,
    # A new account's jurisdiction: the server's default (derived.account_defaults).
    "account": lambda tx, account, existing: derived.account_defaults(tx, account, existing),
}
FOLLOW_UPS = {"visit": _after_visit, "payment": _after_payment, "account": _after_account,
              "attachment": _after_attachment}
