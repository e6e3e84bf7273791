"""What follows from a change: a visit's flags, the promise a visit makes,
promise upkeep from payments and dates, and what moves when an account
changes hands. ``writes.apply_change`` runs these after the change they
follow, in its transaction, and every record they write goes through it
again."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from functools import lru_cache

from sqlalchemy import or_, select

from ..models import Account, Attachment, Payment, Promise, User, Visit, utcnow
from ..rules.attempts import Attempt, attempt_person
from ..rules.config import RulesConfig
from ..rules.flags import visit_flags
from ..rules.promises import promise_status
from . import writes
from .changes import Actor, ChangeWriter

# Promise ids are derived from their visit's id, so that every server,
# retry and worker derives the same promise for the same visit.
PROMISE_NAMESPACE = uuid.UUID("4f3b5b6e-0c7a-4d0e-9a55-3c0f7f2f9e11")


@lru_cache(maxsize=4096)
def promise_id_for(visit_id: str) -> str:
    return str(uuid.uuid5(PROMISE_NAMESPACE, visit_id))


def account_dict(account: Account) -> dict:
    return {"lat": account.lat, "lon": account.lon, "timezone": account.timezone,
            "jurisdiction": account.jurisdiction, "do_not_visit": account.do_not_visit or []}


def account_defaults(tx: ChangeWriter, account: Account, existing: Account | None) -> dict:
    """A new account whose writer named no jurisdiction gets the server's
    default (docs/protocol.md 1.1: ``TW`` unless configured). Only on creation:
    an account whose jurisdiction a supervisor cleared keeps the top-level
    rules, and changing the setting later moves no existing account."""
    if existing is None and account.jurisdiction is None:
        return {"jurisdiction": tx.rules.default_jurisdiction}
    return {}


def _attempt(arrived_at: datetime, met: str | None, met_name: str | None) -> Attempt:
    return Attempt(arrived_at, attempt_person(met, met_name))


ATTEMPT_COLUMNS = (Visit.id, Visit.account_id, Visit.arrived_at, Visit.met, Visit.met_name)


class AttemptIndex:
    """The done visits of some accounts as attempts (time and person
    reached), read in one query at the start of a push and kept current by
    ``update`` after each visit the push writes, so that flagging a batch
    of attempts needs no query (and no flush) per visit."""

    def __init__(self, tx, account_ids):
        self._accounts = set(account_ids)
        self._done: dict[str, dict[str, Attempt]] = defaultdict(dict)
        if not self._accounts:
            return
        for visit_id, account_id, arrived_at, met, met_name in tx.query(
            select(*ATTEMPT_COLUMNS).where(
                Visit.account_id.in_(self._accounts),
                Visit.status == "done",
                Visit.arrived_at.is_not(None),
            )
        ):
            self._done[account_id][visit_id] = _attempt(arrived_at, met, met_name)

    def others(self, account_id: str, visit_id: str) -> list[Attempt] | None:
        """None when this index does not cover the account."""
        if account_id not in self._accounts:
            return None
        return [a for v, a in self._done[account_id].items() if v != visit_id]

    def update(self, visit: Visit) -> None:
        if visit.account_id not in self._accounts:
            return
        if visit.status == "done" and visit.arrived_at is not None:
            self._done[visit.account_id][visit.id] = _attempt(
                visit.arrived_at, visit.met, visit.met_name)
        else:
            self._done[visit.account_id].pop(visit.id, None)


def _is_attempt(visit: Visit) -> bool:
    # As rules.flags: only a visit that happened (arrived, done) is an
    # attempt; the other visits of the account matter only for those.
    return visit.arrived_at is not None and visit.status in (None, "done")


def compute_visit_flags(tx: ChangeWriter, visit: Visit, account: Account, cfg: RulesConfig,
                        attempts: AttemptIndex | None = None) -> list[str]:
    others = None
    if not _is_attempt(visit):
        others = []
    elif attempts is not None:
        others = attempts.others(account.id, visit.id)
    if others is None:
        others = [_attempt(arrived_at, met, met_name) for _, _, arrived_at, met, met_name
                  in tx.query(select(*ATTEMPT_COLUMNS).where(
                      Visit.account_id == account.id,
                      Visit.id != visit.id,
                      Visit.status == "done",
                      Visit.arrived_at.is_not(None),
                  ))]
    data = {
        "arrived_at": visit.arrived_at,
        "scheduled_at": visit.scheduled_at,
        "checkin_lat": visit.checkin_lat,
        "checkin_lon": visit.checkin_lon,
        "checkin_accuracy_m": visit.checkin_accuracy_m,
        "met": visit.met,
        "met_name": visit.met_name,
        "status": visit.status,
        "device_clock_offset_min": getattr(visit, "device_clock_offset_min", None),
    }
    return visit_flags(data, account_dict(account), list(others), cfg)


def _promise_change(tx: ChangeWriter, promise_id: str, kept: dict, actor: Actor) -> None:
    writes.apply_change(tx, writes.Change("promise", promise_id, {}, actor, kept=kept))


def sync_promise(tx: ChangeWriter, visit: Visit, account: Account, actor: Actor,
                 now: datetime | None = None, changed=None) -> None:
    """Keep the visit's promise in step with it: a visit whose result is a
    promise to pay owns one promise; a result changed to something else
    cancels it (never deletes it). ``changed``: the fields the visit's
    change wrote, when known (a visit that makes no promise and whose
    result stayed has nothing to settle). ``actor`` wrote the visit; the
    promise is written as what follows from it."""
    makes_promise = (
        visit.result == "promise_to_pay"
        and visit.promise_amount
        and visit.promise_date is not None
    )
    if not makes_promise and changed is not None and "result" not in changed:
        return
    actor = actor.derived()
    promise_id = promise_id_for(visit.id)
    promise = tx.get(Promise, promise_id)
    if makes_promise:
        wanted = {
            "account_id": account.id,
            "visit_id": visit.id,
            "collector_id": visit.collector_id,
            "amount": visit.promise_amount,
            "promise_date": visit.promise_date,
            "made_at": visit.arrived_at,
        }
        if promise is None or promise.status == "cancelled":
            wanted["status"] = "pending"
        _promise_change(tx, promise_id, wanted, actor)
        refresh_promise(tx, tx.get(Promise, promise_id), account, actor, now)
    elif promise is not None and promise.status == "pending":
        _promise_change(tx, promise_id, {"status": "cancelled"}, actor)


def confirmed_payments(tx: ChangeWriter, account_id: str) -> list[tuple[datetime, int]]:
    return [tuple(row) for row in tx.query(
        select(Payment.collected_at, Payment.amount).where(
            Payment.account_id == account_id, Payment.status == "confirmed"))]


def refresh_promise(tx: ChangeWriter, promise: Promise, account: Account, actor: Actor,
                    now: datetime | None = None, payments=None) -> str | None:
    """Move a pending (or wrongly kept/broken) promise to what the confirmed
    payments and the date say, and return its new status (None when it
    stays as it is). Cancelled promises stay cancelled."""
    if promise.status == "cancelled":
        return None
    if payments is None:
        payments = confirmed_payments(tx, account.id)
    status = promise_status(
        promise.amount, promise.promise_date, account.timezone, payments,
        now or utcnow(), promise.made_at or promise.created_at,
    )
    if status != promise.status:
        _promise_change(tx, promise.id, {"status": status}, actor)
        # The account's computed priority and broken-promise count follow
        # from its promises: send the account again (same version) so the
        # phones re-rank it without waiting for its next edit.
        tx.publish("account", account.id, account.id, account.version)
        return status
    return None


def refresh_account_promises(tx: ChangeWriter, account: Account, actor: Actor,
                             now: datetime | None = None) -> int:
    payments = confirmed_payments(tx, account.id)
    changed = 0
    for promise in tx.rows(Promise, Promise.account_id == account.id, Promise.status != "cancelled"):
        changed += refresh_promise(tx, promise, account, actor, now, payments) is not None
    return changed


def follow_reassignment(tx: ChangeWriter, account: Account, old_collector_id: str | None,
                        actor: Actor) -> None:
    """After an account changed hands: its visits still planned move with
    it, so they are not left in the plan of someone who can no longer see
    them, and the phones learn of it (``publish_reassignment``)."""
    new_collector = account.assigned_collector_id
    if new_collector is not None:
        planned = tx.query(select(Visit.id).where(
            Visit.account_id == account.id, Visit.status == "planned",
            or_(Visit.collector_id.is_(None), Visit.collector_id != new_collector))).scalars().all()
        for visit_id in planned:
            writes.apply_change(tx, writes.Change(
                "visit", visit_id, {"collector_id": new_collector}, actor))
    publish_reassignment(tx, account, old_collector_id)


def publish_reassignment(writer: ChangeWriter, account: Account, old_collector_id: str | None) -> None:
    """After ``account.assigned_collector_id`` changed: the previous
    collector's phone gets a tombstone for the account and each of its
    records, and every record is moved to the end of the feed so the new
    collector's next pull brings all of them."""
    children = [("account", account)]
    for entity, model in (("visit", Visit), ("payment", Payment), ("promise", Promise),
                          ("attachment", Attachment)):
        children += [(entity, r) for r in writer.query(
            select(model.id, model.version).where(model.account_id == account.id))]
    if old_collector_id:
        old = writer.session.get(User, old_collector_id)
        if old is not None and not old.is_supervisor:
            for entity, record in children:
                writer.publish(entity, record.id, account.id, record.version, audience=old_collector_id)
    for entity, record in children[1:]:
        writer.publish(entity, record.id, account.id, record.version)
