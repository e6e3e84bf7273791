"""Push (PROTOCOL.md "Push"): apply a client's mutations in one transaction.

Like Replicache's push — per-client counter, duplicates skipped, a gap
stops everything — except that a mutation that fails validation is not
swallowed: it is stored, reported as ``rejected`` with its reasons, and the
counter still moves past it so one bad record never blocks the queue.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import ValidationError
from marshmallow import fields as mfields
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.validate import Validator

from sync.hlc import HLC, wall_ms
from sync.merge import FieldClock, decide_fields

from ..entities import ENTITIES, OUTCOME_FIELDS, is_storable
from ..errors import ApiError
from ..models import (
    Account,
    Client,
    Conflict,
    Promise,
    RejectedMutation,
    User,
    Visit,
    utcnow,
)
from ..rules.clock import local_date
from ..rules.config import RulesConfig
from .changes import Actor, ChangeWriter
from .clock import server_clock
from .derived import (
    AttemptIndex,
    compute_visit_flags,
    promise_id_for,
    publish_reassignment,
    refresh_account_promises,
    sync_promise,
)
from .records import account_id_of, field_values, in_scope, model_for
from .store import save, to_json_value


@dataclass
class Mutation:
    seq: int
    hlc: str
    entity: str
    id: str
    base_version: int
    fields: dict[str, Any]


@dataclass
class PushSettings:
    rules: RulesConfig
    hlc_max_ahead_ms: int = 24 * 3600 * 1000


class Rejected(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("rejected")
        self.errors = errors


@dataclass
class Applied:
    status: str
    version: int
    conflicts: list[dict] = field(default_factory=list)


def push(session, user: User, client_id: str, mutations: list[Mutation],
         settings: PushSettings) -> dict[str, Any]:
    """Apply ``mutations`` for ``user`` from device ``client_id``. The caller
    commits on return and rolls back on any exception."""
    writer = ChangeWriter(session)
    client = session.get(Client, client_id)
    if client is None:
        client = Client(client_id=client_id, user_id=user.id, last_seq=0)
        session.add(client)
    elif client.user_id != user.id:
        raise ApiError(403, "this client_id belongs to another user; make a new one for this user")
    expected = client.last_seq + 1
    if mutations[0].seq > expected:
        raise ApiError(409, f"sequence gap: the next mutation must have seq {expected}",
                       expected_seq=expected)

    _prefetch(writer, mutations)
    results = []
    for mutation in mutations:
        if mutation.seq <= client.last_seq:
            results.append(_duplicate_result(writer, mutation))
            continue
        results.append(_apply_one(writer, user, client_id, mutation, settings))
        client.last_seq = mutation.seq
    client.last_push_at = utcnow()
    writer.finish()
    return {"last_seq": client.last_seq, "server_hlc": str(server_clock.send()), "results": results}


def _prefetch(writer: ChangeWriter, mutations: list[Mutation]) -> None:
    """Read what the batch will touch in a few queries up front: its
    records, their accounts, the promises of its visits and the attempts on
    those accounts. Applying each mutation then finds them in the session
    instead of paying a query (and the flush before it) per mutation."""
    ids: dict[str, set[str]] = defaultdict(set)
    for mutation in mutations:
        ids[mutation.entity].add(mutation.id)
    for entity, entity_ids in ids.items():
        writer.prefetch(model_for(entity), entity_ids)
    accounts: set[str] = set(ids.get("account", ()))
    visit_accounts: set[str] = set()
    for mutation in mutations:
        if mutation.entity == "account":
            continue
        record = writer.get(model_for(mutation.entity), mutation.id)
        for account_id in (mutation.fields.get("account_id"), getattr(record, "account_id", None)):
            if isinstance(account_id, str):
                accounts.add(account_id)
                if mutation.entity == "visit":
                    visit_accounts.add(account_id)
    writer.prefetch(Account, accounts)
    if ids.get("visit"):
        writer.prefetch(Promise, [promise_id_for(v) for v in ids["visit"]])
        writer.attempts = AttemptIndex(writer.session, visit_accounts)


def _result(mutation: Mutation, status: str, version: int | None, **extra) -> dict[str, Any]:
    result = {"seq": mutation.seq, "entity": mutation.entity, "id": mutation.id, "status": status}
    if version is not None:
        result["version"] = version
    result.update(extra)
    return result


def _duplicate_result(writer: ChangeWriter, mutation: Mutation) -> dict[str, Any]:
    record = writer.get(model_for(mutation.entity), mutation.id)
    return _result(mutation, "duplicate", record.version if record is not None else None)


def _apply_one(writer: ChangeWriter, user: User, client_id: str, mutation: Mutation,
               settings: PushSettings) -> dict[str, Any]:
    session = writer.session
    # No savepoint per mutation: ``_apply`` raises ``Rejected`` only before
    # its first write (every check comes before any change), so a rejected
    # mutation leaves nothing behind, and the rest of the batch goes on in
    # the same transaction. A savepoint would cost two statements and a
    # flush per mutation. Any other exception fails the whole request.
    try:
        outcome = _apply(writer, user, client_id, mutation, settings)
    except Rejected as rejection:
        errors = _storable(rejection.errors)
        session.add(RejectedMutation(
            client_id=client_id, user_id=user.id, seq=mutation.seq, entity=mutation.entity,
            record_id=mutation.id, base_version=mutation.base_version, hlc=mutation.hlc,
            fields=_storable(mutation.fields), errors=errors,
        ))
        record = writer.get(model_for(mutation.entity), mutation.id)
        visible = record is not None and in_scope(user, _account_of(writer, mutation.entity, record))
        if visible:
            # The phone shows its refused edit until the server's copy
            # comes back; send that copy again rather than waiting for the
            # record's next change.
            writer.publish(mutation.entity, record.id, account_id_of(mutation.entity, record),
                           record.version)
        return _result(mutation, "rejected", record.version if visible else None, errors=errors)
    extra = {"conflicts": outcome.conflicts} if outcome.conflicts else {}
    return _result(mutation, outcome.status, outcome.version, **extra)


def _account_of(writer: ChangeWriter, entity: str, record) -> Account | None:
    return writer.get(Account, account_id_of(entity, record))


def _check_fields(user: User, mutation: Mutation) -> dict[str, Any]:
    """Field names, roles and types; returns the values as Python objects."""
    spec = ENTITIES[mutation.entity]
    raw = dict(mutation.fields)
    errors: dict[str, list[str]] = {}
    if "id" in raw:
        if raw.pop("id") != mutation.id:
            errors["id"] = ["Differs from the mutation's id."]
    for name in raw:
        if name in spec.read_only:
            errors[name] = ["Read-only: computed by the server."]
        elif name not in spec.schema.fields:
            errors[name] = ["Unknown field."]
        elif user.role not in spec.writers.get(name, ()):
            errors[name] = [f"A {user.role} may not write this field."]
    if mutation.entity == "promise" and not errors:
        errors["_entity"] = ["Promises are derived by the server from visits; they are read-only."]
    for name, value in raw.items():
        if not is_storable(name) or not is_storable(value):
            errors[name] = ["Contains a NUL character or an unpaired surrogate."]
    if errors:
        raise Rejected(errors)
    try:
        values = _loader(mutation.entity).load(raw)
    except ValidationError as exc:
        raise Rejected({k: list(v) if isinstance(v, list) else [str(v)]
                        for k, v in exc.normalized_messages().items()}) from None
    out_of_range = {name: [f"Out of range: the year must be {MIN_YEAR} to {MAX_YEAR}."]
                    for name, value in values.items() if not _in_year_range(value)}
    if out_of_range:
        raise Rejected(out_of_range)
    return values


class _FieldLoader:
    """``schema.load(raw, partial=True)`` for one entity without the
    schema's per-call machinery (a tenth of a push): each given field is
    deserialized by its own marshmallow field, in the schema's order, and a
    text field that already holds a ``str`` only runs its validators. At
    the first error the whole mutation goes through ``schema.load`` after
    all, so a rejection reports exactly what marshmallow reports."""

    def __init__(self, schema):
        self.schema = schema
        self.fields = []
        for name, schema_field in schema.load_fields.items():
            if schema_field.data_key not in (None, name) or schema_field.pre_load or schema_field.post_load:
                raise RuntimeError(f"{name}: the fast loader does not handle this field")
            text = isinstance(schema_field, mfields.String) and (
                type(schema_field)._deserialize is mfields.String._deserialize)
            self.fields.append((name, schema_field, tuple(schema_field.validators) if text else None))
        if schema._hooks[PRE_LOAD] or schema._hooks[POST_LOAD] or schema._hooks[VALIDATES_SCHEMA] \
                or schema._hooks[VALIDATES]:
            raise RuntimeError("the fast loader does not run schema hooks")

    def load(self, raw: dict[str, Any]) -> dict[str, Any]:
        values = {}
        try:
            for name, field, validators in self.fields:
                if name not in raw:
                    continue
                value = raw[name]
                if validators is not None and type(value) is str:
                    for validator in validators:
                        if validator(value) is False and not isinstance(validator, Validator):
                            raise ValidationError("")
                    values[name] = value
                else:
                    values[name] = field.deserialize(value, name, raw)
        except ValidationError:
            return self.schema.load(raw, partial=True)
        return values


_LOADERS: dict[str, _FieldLoader] = {}


def _loader(entity: str) -> _FieldLoader:
    loader = _LOADERS.get(entity)
    if loader is None:
        loader = _LOADERS[entity] = _FieldLoader(ENTITIES[entity].schema)
    return loader


# Times near the ends of what a datetime holds overflowed (to UTC, or in
# the rules' day and week arithmetic) into a 500 that failed the whole
# batch and so blocked the phone's outbox; no real visit is outside these.
MIN_YEAR, MAX_YEAR = 1900, 2999


def _in_year_range(value: Any) -> bool:
    if isinstance(value, datetime):
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            return False
    if isinstance(value, date):
        return MIN_YEAR <= value.year <= MAX_YEAR
    return True


def _storable(value: Any) -> Any:
    """``value`` with NUL and lone surrogates replaced by U+FFFD, so that a
    rejected mutation can still be kept and reported."""
    if isinstance(value, str):
        if is_storable(value):
            return value
        return "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in value)
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _check_clock(mutation: Mutation, settings: PushSettings) -> None:
    ahead = HLC.parse(mutation.hlc).ms - wall_ms()
    if ahead > settings.hlc_max_ahead_ms:
        raise Rejected({"hlc": ["More than 24 hours ahead of the server's clock; "
                                "check the device's date and time."]})


NOT_IN_SCOPE = "No account with this id is assigned to you."


def _apply(writer: ChangeWriter, user: User, client_id: str, mutation: Mutation,
           settings: PushSettings) -> Applied:
    session = writer.session
    _check_clock(mutation, settings)
    # Move the server's clock past every clock it accepts, so the answer's
    # server_hlc and the server's own later writes (supervisor pages,
    # import, upkeep) order after this mutation, even when the phone's
    # clock runs ahead of ours.
    server_clock.receive(mutation.hlc)
    values = _check_fields(user, mutation)
    entity = mutation.entity
    model = model_for(entity)
    record = writer.get(model, mutation.id)
    new = record is None
    if new and mutation.base_version > 0:
        raise Rejected({"base_version": ["No such record; a new record has base_version 0."]})

    account = _resolve_account(writer, user, entity, record, values)
    current = field_values(entity, record) if record is not None else {}
    clocks = {
        name: FieldClock(*clock) for name, clock in ((record.field_clocks or {}) if record else {}).items()
    }
    outcome = decide_fields(
        entity=entity, base_version=mutation.base_version, client_id=client_id,
        hlc=mutation.hlc, incoming=values, current=current, clocks=clocks,
    )
    taken = {name: values[name] for name in outcome.taken}
    changes = {name: v for name, v in taken.items() if new or current.get(name) != v}

    after = {**current, **changes}
    if new:
        after = {**_creation_defaults(entity, user, account), **after}
        changes = {k: v for k, v in after.items() if v is not None or k in values}
    _validate(entity, user, mutation, record, current, after, changes, outcome, account)

    actor = Actor(user.id, client_id, mutation.seq, mutation.hlc)
    if new:
        record = model(id=mutation.id)
    old_collector = account.assigned_collector_id if entity == "account" and account else None
    clocked = tuple(name for name in changes if name in values)
    if entity == "visit":
        _stage(record, after)
        flags = compute_visit_flags(session, record, account, settings.rules, writer.attempts)
        if flags != (record.flags or []):
            changes["flags"] = flags
    reason = after.get("amendment_reason") if "amendment_reason" in changes else None
    saved = save(writer, entity, record, changes, actor, new=new, clocked=clocked, reason=reason)
    _refresh_equal_clocks(record, outcome, clocked, mutation.hlc, client_id, saved)

    if entity == "visit":
        if writer.attempts is not None:
            writer.attempts.update(record)
        sync_promise(writer, record, account, actor)
        if record.status == "done" and {"status", "arrived_at", "result", "redirected_to"} & changes.keys():
            # attempts_recent, alerts and escalation of the account follow
            # from its visits: send it again (same version) to re-rank it.
            writer.publish("account", account.id, account.id, account.version)
    elif entity == "payment" and "status" in changes:
        refresh_account_promises(writer, account, actor)
    elif entity == "account" and "assigned_collector_id" in changes and not new:
        publish_reassignment(writer, record, old_collector)

    conflicts = _store_conflicts(session, entity, record, account, outcome, mutation, client_id, user)
    status = "conflict" if conflicts else "applied"
    if status == "applied" and not new and _moved_on_since(clocks, mutation.base_version, client_id):
        status = "merged"
    return Applied(status, record.version, conflicts)


def _refresh_equal_clocks(record, outcome, clocked, hlc: str, client_id: str, saved: bool) -> None:
    """A taken write of the value already there changes nothing, yet it is
    a write: its clock must be remembered, or a concurrent write with an
    older clock arriving next looks sequential (or wins) and the result
    depends on arrival order. The field's clock moves to it, at this
    mutation's version, or one past the record's when nothing else changed
    (no new version is made for a no-op), so any writer who had not seen
    this one is treated as concurrent and the clocks decide."""
    names = [d.field for d in outcome.decisions if d.take and d.field not in clocked]
    if not names:
        return
    version = record.version if saved else record.version + 1
    clocks = dict(record.field_clocks or {})
    for name in names:
        clocks[name] = [version, hlc, client_id]
    record.field_clocks = clocks


def _stage(record, values: dict[str, Any]) -> None:
    """Put the would-be values on the record so derived rules can read it;
    ``save`` then records exactly which of them changed."""
    for name, value in values.items():
        if hasattr(record, name):
            setattr(record, name, value)


def _moved_on_since(clocks: dict[str, FieldClock], base_version: int, client_id: str) -> bool:
    return any(c.version > base_version and c.client_id != client_id for c in clocks.values())


def _resolve_account(writer: ChangeWriter, user: User, entity: str, record,
                     values: dict) -> Account | None:
    """The account the mutation touches, checked against the user's scope.
    Unknown and not-assigned answer alike, so ids cannot be probed."""
    if entity == "account":
        if record is None:
            if not user.is_supervisor:
                raise Rejected({"_entity": ["Only a supervisor creates accounts."]})
            return None
        account = record
    elif record is not None:
        account = writer.get(Account, record.account_id)
        if "account_id" in values and values["account_id"] != record.account_id:
            if in_scope(user, account):
                raise Rejected({"account_id": ["Set when the record is created; it never changes."]})
    else:
        if "account_id" not in values:
            raise Rejected({"account_id": ["Missing data for required field."]})
        account = writer.get(Account, values["account_id"])
    if not in_scope(user, account):
        raise Rejected({"account_id" if entity != "account" else "id": [NOT_IN_SCOPE]})
    return account


def _creation_defaults(entity: str, user: User, account: Account | None) -> dict[str, Any]:
    if entity == "visit":
        collector = user.id if not user.is_supervisor else account.assigned_collector_id
        return {"status": "planned", "collector_id": collector}
    if entity == "payment":
        return {"status": "recorded", "collector_id": user.id}
    if entity == "account":
        return {"status": "active", "principal": 0, "amount_due": 0}
    return {}


REQUIRED_ON_CREATE = {
    "account": ("ref", "customer_name", "timezone", "currency"),
    "visit": ("account_id", "collector_id"),
    "payment": ("account_id", "amount", "method", "collected_at"),
}


def _validate(entity, user, mutation, record, current, after, changes, outcome, account) -> None:
    errors: dict[str, list[str]] = {}
    if record is None:
        for name in REQUIRED_ON_CREATE.get(entity, ()):
            if after.get(name) is None:
                errors[name] = ["Missing data for required field."]
    if entity == "visit":
        errors.update(_visit_errors(mutation, user, record, current, after, changes, outcome, account))
    elif entity == "payment":
        errors.update(_payment_errors(mutation, record, after, account))
    elif entity == "account":
        errors.update(_account_errors(mutation, record, after))
    if errors:
        raise Rejected(errors)


def _visit_errors(mutation, user, record, current, after, changes, outcome, account):
    from ..extensions import db

    errors: dict[str, list[str]] = {}
    if "collector_id" in changes and after.get("collector_id") is not None:
        if not user.is_supervisor and after["collector_id"] != user.id:
            errors["collector_id"] = ["A collector may only name themself."]
        else:
            # Most often the pushing collector names themself: that is the
            # user this session already holds, no lookup needed.
            collector = user if after["collector_id"] == user.id else db.session.get(User, after["collector_id"])
            if collector is None or collector.role != "collector":
                errors["collector_id"] = ["No collector with this id."]
    was_done = record is not None and current.get("status") == "done"
    status_decision = next((d for d in outcome.decisions if d.field == "status"), None)
    if was_done and "status" in changes and status_decision and not status_decision.concurrent:
        errors["status"] = ["This visit is done; a done visit is final."]
    if was_done:
        amended = [n for n in OUTCOME_FIELDS if n in changes and n != "amendment_reason"]
        reason = mutation.fields.get("amendment_reason")
        if amended and not (isinstance(reason, str) and reason.strip()):
            errors["amendment_reason"] = [
                "This visit is done: changing " + ", ".join(amended)
                + " is an amendment and needs a non-empty amendment_reason."
            ]
    if after.get("status") == "done":
        for name in ("arrived_at", "met", "result"):
            if after.get(name) is None:
                errors.setdefault(name, []).append("Required to mark the visit done.")
        if after.get("conduct_confirmed") is not True:
            errors.setdefault("conduct_confirmed", []).append(
                "The collector must confirm the conduct rules to mark the visit done.")
    if after.get("result") == "promise_to_pay":
        if not after.get("promise_amount") or after["promise_amount"] <= 0:
            errors.setdefault("promise_amount", []).append(
                "A promise to pay needs an amount greater than 0.")
        if after.get("promise_date") is None:
            errors.setdefault("promise_date", []).append("A promise to pay needs a date.")
        elif after.get("arrived_at") is not None:
            arrived_day = local_date(after["arrived_at"], account.timezone)
            if after["promise_date"] < arrived_day:
                errors.setdefault("promise_date", []).append(
                    "A promise cannot be dated before the visit.")
    if after.get("met") == "nobody" and after.get("result") in ("paid_full", "paid_partial", "promise_to_pay"):
        errors.setdefault("result", []).append("Nobody was met, so nothing can have been paid or promised.")
    return errors


def _payment_errors(mutation, record, after, account):
    from ..extensions import db

    errors: dict[str, list[str]] = {}
    if record is not None:
        for name in ("account_id", "visit_id", "amount", "method", "collected_at"):
            if name in mutation.fields and getattr(record, name) != after.get(name):
                errors[name] = ["A recorded payment cannot be changed; record a new one."]
    visit_id = after.get("visit_id")
    if visit_id is not None and (record is None or "visit_id" in mutation.fields):
        visit = db.session.get(Visit, visit_id)
        if visit is None or visit.account_id != account.id:
            errors["visit_id"] = ["No visit with this id on this account."]
    return errors


def _account_errors(mutation, record, after):
    from sqlalchemy import select

    from ..extensions import db

    errors: dict[str, list[str]] = {}
    if "ref" in mutation.fields:
        other = db.session.scalar(select(Account.id).where(Account.ref == after["ref"]))
        if other is not None and other != mutation.id:
            errors["ref"] = ["Another account has this ref."]
    collector_id = after.get("assigned_collector_id")
    if "assigned_collector_id" in mutation.fields and collector_id is not None:
        collector = db.session.get(User, collector_id)
        if collector is None or collector.role != "collector":
            errors["assigned_collector_id"] = ["No collector with this id."]
    return errors


def _store_conflicts(session, entity, record, account, outcome, mutation, client_id, user):
    results = []
    for decision in outcome.conflicts:
        other = decision.other_clock
        incoming_won = decision.take
        kept = to_json_value(entity, decision.field, decision.kept)
        lost = to_json_value(entity, decision.field, decision.lost)
        session.add(Conflict(
            entity=entity, record_id=record.id, account_id=account_id_of(entity, record),
            field=decision.field, kept_value=kept, lost_value=lost,
            kept_client_id=client_id if incoming_won else other.client_id,
            kept_hlc=mutation.hlc if incoming_won else other.hlc,
            lost_client_id=other.client_id if incoming_won else client_id,
            lost_hlc=other.hlc if incoming_won else mutation.hlc,
            lost_user_id=None if incoming_won else user.id,
            rule=decision.rule,
        ))
        results.append({"field": decision.field, "kept": kept, "lost": lost, "rule": decision.rule})
    return results
