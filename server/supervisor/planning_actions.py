"""What a supervisor plans from the pages: a new visit for any collector,
moving a planned visit (another time, another collector), cancelling one
with a reason, and handing a selection of accounts to another collector.

A collector's phone holds only the accounts assigned to her (docs/protocol.md
"Pull", scope), so a visit for a collector can only live on an account she
holds: planning or moving a visit for someone else hands the account over
first (``assign_account``'s change), and the write layer's follow-up moves
the account's other planned visits with it and sends the previous
collector's phone its tombstones. Each action is one retrying transaction
through ``writes.apply_change``. Nothing here is Flask."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select

from ..entities import is_record_id, visible_characters
from ..models import Account, User, Visit, new_id, utcnow
from ..rules.config import RulesConfig
from ..services.changes import ChangeWriter
from ..services.writes import Change, Rejected, apply_change, transaction
from .actions import NotFound, Refused, _apply, supervisor_actor

CLOSED = ("settled", "closed")
# A selection is one page of the accounts list; more ids than that is no
# form these pages sent.
MAX_SELECTION = 200
# The same words the phone writes (pwa/js/strings/en.js ``cancel_note``),
# so a cancellation reads alike whoever made it.
CANCEL_NOTE = "Cancelled: {reason}"


def _collector(session, collector_id: str | None) -> User:
    collector = session.get(User, collector_id) if collector_id and is_record_id(collector_id) \
        else None
    if collector is None or collector.role != "collector" or not collector.active:
        raise Refused("Choose an active collector from the list.")
    return collector


def _in_future(when: datetime, now: datetime) -> None:
    if when.tzinfo is None:
        raise ValueError("the planned time must be aware")
    if when <= now:
        raise Refused("That time has passed. Choose a time later than now.")


def _hand_over(tx: ChangeWriter, account, collector_id: str, supervisor_id: str) -> None:
    """The account to ``collector_id`` if it is someone else's (or nobody's)."""
    if account.assigned_collector_id != collector_id:
        _apply(tx, Change("account", account.id, {"assigned_collector_id": collector_id},
                          supervisor_actor(supervisor_id)))


def _wire_time(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def _with_note(notes: str | None, line: str) -> str:
    return "\n".join(part for part in ((notes or "").strip(), line) if part)


# -- one visit ----------------------------------------------------------------


def plan_visit(session, account_id: str, collector_id: str | None, when: datetime,
               notes: str, supervisor_id: str, rules: RulesConfig,
               now: datetime | None = None) -> str:
    """A new planned visit of ``account_id`` for ``collector_id`` at
    ``when``; returns its id. The collector's phone receives it (and the
    account, if it was not hers) at its next pull."""
    now = now or utcnow()
    notes = (notes or "").strip()
    visit_id = new_id()

    def work(tx: ChangeWriter) -> str:
        account = tx.get_for_update(Account, account_id)
        if account is None:
            raise NotFound("No such account.")
        collector = _collector(session, collector_id)
        if account.status in CLOSED:
            raise Refused("A settled or closed account gets no more visits.")
        _in_future(when, now)
        _hand_over(tx, account, collector.id, supervisor_id)
        fields = {"account_id": account.id, "collector_id": collector.id,
                  "scheduled_at": _wire_time(when), "status": "planned"}
        if notes:
            fields["plan_notes"] = notes
        _apply(tx, Change("visit", visit_id, fields, supervisor_actor(supervisor_id)))
        return visit_id

    return transaction(work, rules=rules, session=session)


def _planned_visit(tx: ChangeWriter, visit_id: str, version: int | None):
    visit = tx.get_for_update(Visit, visit_id)
    if visit is None:
        raise NotFound("No such visit.")
    if visit.status == "done":
        raise Refused("A recorded (done) visit stays as it happened: it is not moved or "
                      "cancelled. Correct its record instead.")
    if visit.status != "planned":
        raise Refused("Only a planned visit is moved or cancelled.")
    if version is not None and visit.version != version:
        raise Refused("The visit has changed since the page was opened. Check it and try again.")
    return visit


def move_visit(session, visit_id: str, version: int | None, collector_id: str | None,
               when: datetime, supervisor_id: str, rules: RulesConfig,
               now: datetime | None = None) -> str:
    """Another time and/or another collector for a planned visit. Another
    collector takes the account with it (and its other planned visits):
    her phone receives them, the previous collector's phone drops them."""
    now = now or utcnow()

    def work(tx: ChangeWriter) -> str:
        visit = _planned_visit(tx, visit_id, version)
        collector = _collector(session, collector_id)
        account = tx.get_for_update(Account, visit.account_id)
        new_time = when.astimezone(UTC) != (visit.scheduled_at.astimezone(UTC)
                                            if visit.scheduled_at else None)
        if not new_time and collector.id == visit.collector_id \
                and collector.id == account.assigned_collector_id:
            raise Refused("Nothing was changed.")
        _in_future(when, now)
        _hand_over(tx, account, collector.id, supervisor_id)
        fields = {"scheduled_at": _wire_time(when)} if new_time else {}
        if tx.get(Visit, visit_id).collector_id != collector.id:
            fields["collector_id"] = collector.id
        if fields:
            _apply(tx, Change("visit", visit_id, fields, supervisor_actor(supervisor_id)))
        return visit_id

    return transaction(work, rules=rules, session=session)


def cancel_visit(session, visit_id: str, version: int | None, reason: str, supervisor_id: str,
                 rules: RulesConfig) -> str:
    """Cancel a planned visit; the reason is kept in its plan notes, as the
    phone keeps it (``pwa/js/views/visit.js``)."""
    reason = " ".join((reason or "").split())
    if visible_characters(reason) < 3:
        raise Refused("Say why the visit is cancelled (at least three letters or digits).")

    def work(tx: ChangeWriter) -> str:
        visit = _planned_visit(tx, visit_id, version)
        _apply(tx, Change("visit", visit_id,
                          {"status": "cancelled",
                           "plan_notes": _with_note(visit.plan_notes,
                                                    CANCEL_NOTE.format(reason=reason))},
                          supervisor_actor(supervisor_id), reason="Cancelled by a supervisor"))
        return visit_id

    return transaction(work, rules=rules, session=session)


# -- many accounts at once ------------------------------------------------------


@dataclass
class Handover:
    """One selected account in a bulk reassignment: where it is and what
    goes with it; ``refused`` says in words why it does not move."""

    account_id: str
    ref: str = ""
    customer_name: str = ""
    from_id: str | None = None
    from_name: str | None = None
    planned: int = 0
    refused: tuple[str, dict] | None = None


@dataclass
class BulkPlan:
    collector: User
    items: list[Handover] = field(default_factory=list)

    @property
    def moving(self) -> list[Handover]:
        return [i for i in self.items if i.refused is None]

    @property
    def refused(self) -> list[Handover]:
        return [i for i in self.items if i.refused is not None]

    @property
    def planned(self) -> int:
        return sum(i.planned for i in self.moving)

    def from_whom(self) -> list[tuple[str | None, int, int]]:
        """(previous collector's name or None, accounts, planned visits)."""
        groups: dict[str | None, list[int]] = {}
        for item in self.moving:
            counts = groups.setdefault(item.from_name, [0, 0])
            counts[0] += 1
            counts[1] += item.planned
        return [(name, n, p) for name, (n, p) in sorted(
            groups.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))]


def selected_ids(values) -> list[str]:
    """The form's account ids, each once, in order; anything that is not an
    id is no selection these pages made."""
    ids = list(dict.fromkeys(v for v in values if v))
    if not ids:
        raise Refused("Select at least one account.")
    if len(ids) > MAX_SELECTION or not all(is_record_id(i) for i in ids):
        raise Refused("The selection is not one these pages made. Select the accounts again.")
    return ids


def bulk_plan(session, account_ids: list[str], collector_id: str | None) -> BulkPlan:
    """What moving ``account_ids`` to the collector would do; reads only."""
    collector = _collector(session, collector_id)
    accounts = {a.id: a for a in session.scalars(
        select(Account).where(Account.id.in_(account_ids))
        .execution_options(populate_existing=True))}
    owners = {a.assigned_collector_id for a in accounts.values() if a.assigned_collector_id}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(owners))).all()) \
        if owners else {}
    planned = dict(session.execute(
        select(Visit.account_id, func.count()).where(
            Visit.account_id.in_(account_ids), Visit.status == "planned")
        .group_by(Visit.account_id)).all())
    plan = BulkPlan(collector)
    for account_id in account_ids:
        account = accounts.get(account_id)
        if account is None:
            plan.items.append(Handover(account_id, refused=("This account no longer exists.", {})))
            continue
        item = Handover(account.id, account.ref, account.customer_name,
                        account.assigned_collector_id, names.get(account.assigned_collector_id),
                        planned.get(account.id, 0))
        if account.assigned_collector_id == collector.id:
            item.refused = ("Already assigned to {name}.", {"name": collector.name})
        plan.items.append(item)
    return plan


def bulk_reassign(session, account_ids: list[str], collector_id: str | None,
                  supervisor_id: str, rules: RulesConfig) -> BulkPlan:
    """Move every selected account to the collector in one transaction (a
    selection holds at most ``MAX_SELECTION``, so the transaction stays small).
    An account already hers, gone, or refused by a rule is reported and the
    others still move: a refusal is raised before anything is written."""
    def work(tx: ChangeWriter) -> BulkPlan:
        # Read again inside the transaction: another supervisor may have
        # moved some since the confirmation page.
        plan = bulk_plan(session, account_ids, collector_id)
        tx.prefetch(Account, [i.account_id for i in plan.moving], for_update=True)
        for item in plan.moving:
            try:
                apply_change(tx, Change("account", item.account_id,
                                        {"assigned_collector_id": plan.collector.id},
                                        supervisor_actor(supervisor_id)))
            except Rejected:
                item.refused = ("The rules do not allow this change.", {})
        return plan

    return transaction(work, rules=rules, session=session)
