"""What a supervisor changes from the pages. Each action is one transaction
that opens a ``ChangeWriter`` first, saves through ``store.save`` (new
version, history, feed position — so the change reaches the phones), runs
the same follow-ups a push would, and commits. Nothing here is Flask."""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import ValidationError
from sqlalchemy import or_, select

from ..entities import ENTITIES
from ..models import RECORD_MODELS, Account, Conflict, Payment, User, Visit, utcnow
from ..rules.config import RulesConfig
from ..services.changes import Actor, ChangeWriter
from ..services.clock import server_clock
from ..services.derived import (
    compute_visit_flags,
    publish_reassignment,
    refresh_account_promises,
    sync_promise,
)
from ..services.importer import ImportReport, geocode_missing, parse_accounts_csv, write_accounts
from ..services.records import account_id_of
from ..services.store import save


class Refused(Exception):
    """The action cannot be done as asked; ``message`` is English text with
    ``{placeholders}``, translated by the page that shows it."""

    def __init__(self, message: str, **values):
        super().__init__(message)
        self.message = message
        self.values = values


class NotFound(Refused):
    pass


def supervisor_actor(user_id: str) -> Actor:
    return Actor(user_id, "server", None, str(server_clock.send()))


def _transaction(session, work):
    """Run ``work(writer)`` under the feed lock and commit, or roll back."""
    try:
        writer = ChangeWriter(session)
        result = work(writer)
        writer.finish()
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise


def _python_value(entity: str, name: str, raw):
    """A conflict stores values in their JSON form; the model wants Python."""
    if raw is None:
        return None
    schema_field = ENTITIES[entity].schema.fields.get(name)
    if schema_field is None:
        return raw
    try:
        return schema_field.deserialize(raw, name, {name: raw})
    except ValidationError:
        raise Refused("The stored value no longer fits this field.") from None


# -- conflicts ----------------------------------------------------------------

RESOLUTIONS = ("kept", "restored")


def resolve_conflict(session, conflict_id: str, resolution: str, supervisor_id: str,
                     rules: RulesConfig) -> Conflict:
    """Keep the value that won (``kept``) or bring back the one that lost
    (``restored``), as a new version written by the supervisor."""
    if resolution not in RESOLUTIONS:
        raise Refused("Choose which value to keep.")

    def work(writer: ChangeWriter) -> Conflict:
        # Read under the lock: two supervisors cannot both resolve it.
        conflict = session.get(Conflict, conflict_id, populate_existing=True)
        if conflict is None:
            raise NotFound("No such conflict.")
        if conflict.resolved_at is not None:
            raise Refused("This conflict has already been resolved.")
        entity, name = conflict.entity, conflict.field
        record = session.get(RECORD_MODELS[entity], conflict.record_id, populate_existing=True)
        if record is None:
            raise NotFound("The record of this conflict no longer exists.")
        raw = conflict.kept_value if resolution == "kept" else conflict.lost_value
        value = _python_value(entity, name, raw)
        account = session.get(Account, account_id_of(entity, record))
        old_collector = record.assigned_collector_id if entity == "account" else None
        actor = supervisor_actor(supervisor_id)
        changes = {name: value}
        if entity == "visit":
            setattr(record, name, value)
            flags = compute_visit_flags(session, record, account, rules)
            if flags != (record.flags or []):
                changes["flags"] = flags
        reason = ("Conflict resolved by a supervisor: "
                  + ("kept the value that won" if resolution == "kept"
                     else "restored the value that lost"))
        save(writer, entity, record, changes, actor, clocked=(name,), reason=reason)
        if entity == "visit":
            sync_promise(writer, record, account, actor)
        elif entity == "payment" and name == "status":
            refresh_account_promises(writer, account, actor)
        elif entity == "account" and name == "assigned_collector_id" and old_collector != value:
            publish_reassignment(writer, record, old_collector)
        conflict.resolved_at = utcnow()
        conflict.resolved_by = supervisor_id
        conflict.resolution = resolution
        return conflict

    return _transaction(session, work)


# -- payments -----------------------------------------------------------------

AWAITING = ("recorded", "deposited")


def review_payment(session, payment_id: str, decision: str, note: str, supervisor_id: str) -> Payment:
    """Confirm a payment, or reject it with a reason; then bring the
    account's promises up to date (a confirmed payment may keep one)."""
    note = (note or "").strip()
    if decision not in ("confirm", "reject"):
        raise Refused("Choose confirm or reject.")
    if decision == "reject" and not note:
        raise Refused("Say why the payment is rejected.")

    def work(writer: ChangeWriter) -> Payment:
        payment = session.get(Payment, payment_id, populate_existing=True)
        if payment is None:
            raise NotFound("No such payment.")
        if payment.status not in AWAITING:
            raise Refused("This payment has already been reviewed.")
        changes = {"status": "confirmed" if decision == "confirm" else "rejected"}
        if note:
            changes["review_note"] = note
        actor = supervisor_actor(supervisor_id)
        save(writer, "payment", payment, changes, actor, clocked=("status",))
        refresh_account_promises(writer, session.get(Account, payment.account_id), actor)
        return payment

    return _transaction(session, work)


# -- accounts -----------------------------------------------------------------


def assign_account(session, account_id: str, collector_id: str | None, supervisor_id: str) -> Account:
    """Give the account to another collector (or to nobody). The old
    collector's phone drops it at its next pull; the new one receives it.
    Visits still planned move with the account, so they are not left in
    the plan of someone who can no longer see them."""
    collector_id = collector_id or None

    def work(writer: ChangeWriter) -> Account:
        account = session.get(Account, account_id, populate_existing=True)
        if account is None:
            raise NotFound("No such account.")
        if collector_id is not None:
            collector = session.get(User, collector_id)
            if collector is None or collector.role != "collector" or not collector.active:
                raise Refused("No active collector with this id.")
        old = account.assigned_collector_id
        if old == collector_id:
            raise Refused("The account is already assigned that way.")
        actor = supervisor_actor(supervisor_id)
        save(writer, "account", account, {"assigned_collector_id": collector_id}, actor)
        if collector_id is not None:
            for visit in session.scalars(select(Visit).where(
                    Visit.account_id == account.id, Visit.status == "planned",
                    or_(Visit.collector_id.is_(None), Visit.collector_id != collector_id))):
                save(writer, "visit", visit, {"collector_id": collector_id}, actor)
        publish_reassignment(writer, account, old)
        return account

    return _transaction(session, work)


ESCALATIONS = {"agency": "escalated_agency", "legal": "escalated_legal"}


def escalate_account(session, account_id: str, level: str, supervisor_id: str) -> Account:
    if level not in ESCALATIONS:
        raise Refused("Choose an agency or legal action.")
    status = ESCALATIONS[level]

    def work(writer: ChangeWriter) -> Account:
        account = session.get(Account, account_id, populate_existing=True)
        if account is None:
            raise NotFound("No such account.")
        if account.status == status:
            raise Refused("The account is already escalated that way.")
        if account.status in ("settled", "closed"):
            raise Refused("A settled or closed account is not escalated.")
        save(writer, "account", account, {"status": status}, supervisor_actor(supervisor_id))
        return account

    return _transaction(session, work)


# -- import -------------------------------------------------------------------


@dataclass
class ImportPreview:
    report: ImportReport
    rows: list[dict] = field(default_factory=list)  # row + "action" + "collector_name"

    @property
    def ok(self) -> bool:
        return self.report.ok


def preview_import(session, text: str) -> ImportPreview:
    """Check every row; write nothing."""
    report = parse_accounts_csv(session, text)
    refs = [r["ref"] for r in report.rows if r.get("ref")]
    known = set(session.scalars(select(Account.ref).where(Account.ref.in_(refs)))) if refs else set()
    ids = {r["assigned_collector_id"] for r in report.rows if r.get("assigned_collector_id")}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
    rows = [{**row, "action": "update" if row.get("ref") in known else "create",
             "collector_name": names.get(row.get("assigned_collector_id"), "")}
            for row in report.rows]
    return ImportPreview(report, rows)


def run_import(session, text: str, supervisor_id: str, geocode=None) -> ImportReport:
    """All rows or none: a file with any bad row writes nothing and comes
    back with its errors."""
    report = parse_accounts_csv(session, text)
    if not report.ok:
        return report
    geocode_missing(report, geocode)  # network before the transaction, never inside it
    try:
        write_accounts(session, report, supervisor_id)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return report


def make_geocoder(config):
    """The configured geocoder as ``address -> (lat, lon) | None``, or None."""
    from ..rules.geocoding import geocode_address
    from ..rules.geocoding import make_geocoder as build

    geocoder = build(config.get("GEOCODER", "off"), config.get("GEOCODER_DOMAIN"),
                     config.get("GEOCODER_SCHEME", "https"), "fieldvisit-import", 10)
    if geocoder is None:
        return None
    return lambda address: geocode_address(geocoder, address)
