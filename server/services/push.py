"""Push (docs/protocol.md "Push"): a client's numbered mutations, in one
transaction.

Like Replicache's push handler — per-client counter, duplicates skipped, a
gap stops everything — except that a mutation that breaks a rule is not
swallowed: it is stored, reported as ``rejected`` with its reasons, and the
counter still moves past it, so one bad record never blocks the queue.

This module is only the protocol loop. What a mutation may change, and
what follows from it, is the write layer's (``writes.apply_change``), the
same for every writer; a new rule goes into the entity's module in
``server/entities/``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sync.hlc import wall_ms

from .. import messages
from ..entities import storable_copy
from ..errors import ApiError
from ..models import Account, Client, Promise, RejectedMutation, User, utcnow
from .changes import Actor, ChangeWriter
from .clock import server_clock
from .conflict_sides import for_pusher
from .derived import AttemptIndex, promise_id_for
from .device_clock import DeviceClock
from .device_report import DeviceReport, apply_report
from .records import model_for
from .writes import Change, Rejected, apply_change, republish, visible


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
    hlc_max_ahead_ms: int = 24 * 3600 * 1000


def push(tx: ChangeWriter, user: User, client_id: str, mutations: list[Mutation],
         settings: PushSettings, report: DeviceReport | None = None,
         clock: DeviceClock | None = None) -> dict[str, Any]:
    """Apply ``mutations`` for ``user`` from device ``client_id`` inside the
    write transaction ``tx`` (``writes.transaction`` commits it). ``report``
    and ``clock``: what the device says of itself (``device_report.py``)."""
    session = tx.session
    # Locked: two copies of one push racing through different workers
    # apply once, one after the other.
    client = session.get(Client, client_id, with_for_update=tx.row_locks)
    if client is None:
        client = Client(client_id=client_id, user_id=user.id, last_seq=0)
        session.add(client)
    elif client.user_id != user.id:
        raise ApiError(403, "this client_id belongs to another user; make a new one for this user")
    expected = client.last_seq + 1
    if mutations[0].seq > expected:
        raise ApiError(409, f"sequence gap: the next mutation must have seq {expected}",
                       expected_seq=expected)

    _prefetch(tx, mutations)
    results = []
    for mutation in mutations:
        if mutation.seq <= client.last_seq:
            results.append(_duplicate_result(tx, mutation))
            continue
        results.append(_apply_one(tx, user, client_id, mutation, settings, clock))
        client.last_seq = mutation.seq
    now = client.last_push_at = utcnow()
    apply_report(client, report or DeviceReport(), now)
    if clock is not None:
        client.clock_offset_s = round(clock.offset_s, 3)
    return {"last_seq": client.last_seq, "server_hlc": str(server_clock.send()),
            "server_time": now.isoformat(), "results": results}


def _prefetch(tx: ChangeWriter, mutations: list[Mutation]) -> None:
    """Read what the batch will touch in a few queries up front: its
    records, their accounts, the promises of its visits and the attempts on
    those accounts. Applying each mutation then finds them in the
    transaction instead of paying a query (and the flush before it) per
    mutation."""
    ids: dict[str, set[str]] = defaultdict(set)
    for mutation in mutations:
        ids[mutation.entity].add(mutation.id)
    # Locked in one order (entity, then id; their accounts after), so that
    # concurrent pushes never wait for each other in a circle.
    for entity in sorted(ids):
        tx.prefetch(model_for(entity), ids[entity], for_update=True)
    accounts: set[str] = set(ids.get("account", ()))
    attempt_accounts: set[str] = set()
    promises: set[str] = set()
    for mutation in mutations:
        if mutation.entity == "account":
            continue
        record = tx.get(model_for(mutation.entity), mutation.id)
        for account_id in (mutation.fields.get("account_id"), getattr(record, "account_id", None)):
            if not isinstance(account_id, str):
                continue
            accounts.add(account_id)
            if mutation.entity == "visit" and (
                    ATTEMPT_FIELDS & mutation.fields.keys()
                    or (record is not None and record.status == "done")):
                attempt_accounts.add(account_id)
        if mutation.entity == "visit" and (
                PROMISE_FIELDS & mutation.fields.keys()
                or (record is not None and record.result == "promise_to_pay")):
            promises.add(promise_id_for(mutation.id))
    tx.prefetch(Account, accounts, for_update=True)
    tx.prefetch(Promise, promises)
    if ids.get("visit"):
        tx.attempts = AttemptIndex(tx, attempt_accounts)


# A visit is an attempt (its flags read the account's other attempts) once
# it has an arrival and is done; its promise follows these fields.
ATTEMPT_FIELDS = frozenset({"arrived_at", "status"})
PROMISE_FIELDS = frozenset({"result", "promise_amount", "promise_date", "arrived_at", "collector_id"})


def _result(mutation: Mutation, status: str, version: int | None, **extra) -> dict[str, Any]:
    result = {"seq": mutation.seq, "entity": mutation.entity, "id": mutation.id, "status": status}
    if version is not None:
        result["version"] = version
    result.update(extra)
    return result


def _visible_record(tx: ChangeWriter, user: User, entity: str, record_id: str):
    record = tx.get(model_for(entity), record_id)
    if record is None:
        return None
    account = record if entity == "account" else tx.get(Account, record.account_id)
    return record if visible(_actor(user, None, None, None), account) else None


def _duplicate_result(tx: ChangeWriter, mutation: Mutation) -> dict[str, Any]:
    record = tx.get(model_for(mutation.entity), mutation.id)
    return _result(mutation, "duplicate", record.version if record is not None else None)


def _actor(user: User, client_id, seq, hlc, clock: DeviceClock | None = None) -> Actor:
    return Actor(user.id, client_id, seq, hlc, role=user.role, device_clock=clock)


def _check_clock(mutation: Mutation, settings: PushSettings) -> None:
    # The push schema checked the form: 13 digits of milliseconds first.
    ahead = int(mutation.hlc[:13]) - wall_ms()
    if ahead > settings.hlc_max_ahead_ms:
        raise Rejected({"hlc": [messages.CLOCK_AHEAD]})


def _apply_one(tx: ChangeWriter, user: User, client_id: str, mutation: Mutation,
               settings: PushSettings, clock: DeviceClock | None = None) -> dict[str, Any]:
    # No savepoint per mutation: ``apply_change`` raises ``Rejected`` only
    # before its first write, so a rejected mutation leaves nothing behind
    # and the rest of the batch goes on in the same transaction. A
    # savepoint would cost two statements and a flush per mutation. Any
    # other exception fails the whole request.
    try:
        _check_clock(mutation, settings)
        # Move the server's clock past every clock it accepts, so the
        # answer's server_hlc and the server's own later writes (supervisor
        # pages, import, upkeep) order after this mutation, even when the
        # phone's clock runs ahead of ours.
        server_clock.receive(mutation.hlc)
        outcome = apply_change(tx, Change(
            mutation.entity, mutation.id, mutation.fields,
            _actor(user, client_id, mutation.seq, mutation.hlc, clock), mutation.base_version))
    except Rejected as rejection:
        errors = storable_copy(rejection.errors)
        tx.session.add(RejectedMutation(
            client_id=client_id, user_id=user.id, seq=mutation.seq, entity=mutation.entity,
            record_id=mutation.id, base_version=mutation.base_version, hlc=mutation.hlc,
            fields=storable_copy(mutation.fields), errors=errors,
            reasons=messages.keyed(errors),
        ))
        record = _visible_record(tx, user, mutation.entity, mutation.id)
        if record is not None:
            # The phone shows its refused edit until the server's copy
            # comes back; send that copy again rather than waiting for the
            # record's next change.
            republish(tx, mutation.entity, record)
        return _result(mutation, "rejected", record.version if record is not None else None,
                       errors=errors)
    extra = {}
    if outcome.conflicts:
        # Whose value was kept, seen from this device; and the record sent
        # again, so a pull shows the conflict on it (services/conflict_sides.py).
        extra["conflicts"] = for_pusher(tx.session, user.id, client_id, outcome.conflicts)
        republish(tx, mutation.entity, outcome.record)
    return _result(mutation, outcome.status, outcome.version, **extra)
