"""What a supervisor changes from the pages. Each action is one retrying
transaction (``writes.transaction``) whose changes go through
``writes.apply_change``, so they obey every rule a push obeys and run the
same follow-ups. Nothing here is Flask."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..entities import is_record_id, visible_characters
from ..entities.visit import FREE_AFTER_DONE
from ..models import RECORD_MODELS, Account, Conflict, Payment, User, Visit, utcnow
from ..rules.config import RulesConfig
from ..services.changes import Actor, ChangeWriter
from ..services.clock import server_clock
from ..services.importer import ImportReport, check_accounts_csv, import_accounts, import_actor
from ..services.writes import Change, Rejected, apply_change, check_change, transaction


class Refused(Exception):
    """The action cannot be done as asked; ``message`` is English text with
    ``{placeholders}``, translated by the page that shows it. ``reasons``
    are the write layer's, by field, when a rule refused the change."""

    def __init__(self, message: str, reasons: dict[str, list[str]] | None = None, **values):
        super().__init__(message)
        self.message = message
        self.values = values
        self.reasons = reasons or {}


class NotFound(Refused):
    pass


RULES_REFUSE = "The rules do not allow this change."


def supervisor_actor(user_id: str) -> Actor:
    return Actor(user_id, "server", None, str(server_clock.send()), role="supervisor")


def _apply(tx: ChangeWriter, change: Change):
    try:
        return apply_change(tx, change)
    except Rejected as rejection:
        raise Refused(RULES_REFUSE, rejection.errors) from None


# -- conflicts ----------------------------------------------------------------

RESOLUTIONS = ("kept", "restored")
RESOLVED_REASON = {
    "kept": "Conflict resolved by a supervisor: kept the value that won",
    "restored": "Conflict resolved by a supervisor: restored the value that lost",
}


def resolution_change(conflict: Conflict, record, resolution: str, supervisor_id: str,
                      amendment_reason: str | None = None) -> Change:
    """The change a resolution makes: the chosen value written again by the
    supervisor, over the record's current version. On a done visit it is
    an amendment like any other and carries the supervisor's reason."""
    raw = conflict.kept_value if resolution == "kept" else conflict.lost_value
    fields = {conflict.field: raw}
    if amendment_reason and conflict.entity == "visit" and record.status == "done":
        fields["amendment_reason"] = amendment_reason
    # Written even when it keeps the value already there: the decision is
    # a version of its own, in the history and on the phones.
    return Change(conflict.entity, conflict.record_id, fields, supervisor_actor(supervisor_id),
                  reason=RESOLVED_REASON[resolution], always=True)


def resolution_refusals(tx: ChangeWriter, conflict: Conflict, supervisor_id: str) -> dict:
    """For each resolution, what the rules would refuse of it (with a
    placeholder reason, so only a refusal no reason can lift shows), so the
    page offers only what can be done."""
    record = tx.session.get(RECORD_MODELS[conflict.entity], conflict.record_id)
    if record is None:
        return {r: {"_entity": ["No such record."]} for r in RESOLUTIONS}
    return {r: check_change(tx, resolution_change(conflict, record, r, supervisor_id,
                                                  "reason given on the page"))
            for r in RESOLUTIONS}


def needs_amendment_reason(conflict: Conflict, record) -> bool:
    return (conflict.entity == "visit" and record is not None and record.status == "done"
            and conflict.field not in FREE_AFTER_DONE)


def resolve_conflict(session, conflict_id: str, resolution: str, supervisor_id: str,
                     rules: RulesConfig, amendment_reason: str | None = None) -> Conflict:
    """Keep the value that won (``kept``) or bring back the one that lost
    (``restored``), as a new version written by the supervisor."""
    if resolution not in RESOLUTIONS:
        raise Refused("Choose which value to keep.")

    def work(tx: ChangeWriter) -> Conflict:
        # Read under the lock: two supervisors cannot both resolve it.
        conflict = session.get(Conflict, conflict_id, populate_existing=True)
        if conflict is None:
            raise NotFound("No such conflict.")
        if conflict.resolved_at is not None:
            raise Refused("This conflict has already been resolved.")
        record = session.get(RECORD_MODELS[conflict.entity], conflict.record_id,
                             populate_existing=True)
        if record is None:
            raise NotFound("The record of this conflict no longer exists.")
        _apply(tx, resolution_change(conflict, record, resolution, supervisor_id,
                                     (amendment_reason or "").strip() or None))
        conflict.resolved_at = utcnow()
        conflict.resolved_by = supervisor_id
        conflict.resolution = resolution
        return conflict

    return transaction(work, rules=rules, session=session)


# -- amendments ---------------------------------------------------------------


def amend_visit(session, visit_id: str, version: int | None, changes: dict, reason: str,
                supervisor_id: str, rules: RulesConfig) -> Visit:
    """Correct fields of a done visit (wire values, read from the visit
    page's form) with the supervisor's reason: an amendment like a phone's,
    checked by the same rules (a reason is required, done stays done)."""
    reason = (reason or "").strip()
    if visible_characters(reason) < 3:
        # The collector and any auditor read it beside the change.
        raise Refused("Say why the visit is corrected (at least three letters or digits).")

    def work(tx: ChangeWriter) -> Visit:
        visit = session.get(Visit, visit_id, populate_existing=True)
        if visit is None:
            raise NotFound("No such visit.")
        if visit.status != "done":
            raise Refused("Only a recorded (done) visit is corrected here.")
        if version is not None and visit.version != version:
            raise Refused("The visit has changed since the page was opened. Check its new "
                          "values and correct it again.")
        if not changes:
            raise Refused("Nothing was changed.")
        _apply(tx, Change("visit", visit.id, {**changes, "amendment_reason": reason},
                          supervisor_actor(supervisor_id)))
        return visit

    return transaction(work, rules=rules, session=session)


# -- payments -----------------------------------------------------------------

AWAITING = ("recorded", "deposited")


def review_payment(session, payment_id: str, decision: str, note: str, supervisor_id: str,
                   rules: RulesConfig) -> Payment:
    """Confirm a payment, or reject it with a reason; the write layer then
    brings the account's promises up to date (a confirmed payment may keep
    one)."""
    note = (note or "").strip()
    if decision not in ("confirm", "reject"):
        raise Refused("Choose confirm or reject.")
    if decision == "reject" and visible_characters(note) < 3:
        # The collector reads it on her phone: white space or invisible
        # characters are no reason.
        raise Refused("Say why the payment is rejected.")

    def work(tx: ChangeWriter) -> Payment:
        payment = session.get(Payment, payment_id, populate_existing=True)
        if payment is None:
            raise NotFound("No such payment.")
        if payment.status not in AWAITING:
            raise Refused("This payment has already been reviewed.")
        status = "confirmed" if decision == "confirm" else "rejected"
        _apply(tx, Change("payment", payment.id, {"status": status}, supervisor_actor(supervisor_id),
                          kept={"review_note": note} if note else {}))
        return payment

    return transaction(work, rules=rules, session=session)


# -- accounts -----------------------------------------------------------------


def assign_account(session, account_id: str, collector_id: str | None, supervisor_id: str,
                   rules: RulesConfig) -> Account:
    """Give the account to another collector (or to nobody). The old
    collector's phone drops it at its next pull; the new one receives it,
    with the visits still planned (a follow-up of the write layer)."""
    collector_id = collector_id or None

    def work(tx: ChangeWriter) -> Account:
        account = session.get(Account, account_id, populate_existing=True)
        if account is None:
            raise NotFound("No such account.")
        if collector_id is not None:
            collector = session.get(User, collector_id) if is_record_id(collector_id) else None
            if collector is None or collector.role != "collector" or not collector.active:
                raise Refused("No active collector with this id.")
        if account.assigned_collector_id == collector_id:
            raise Refused("The account is already assigned that way.")
        _apply(tx, Change("account", account.id, {"assigned_collector_id": collector_id},
                          supervisor_actor(supervisor_id)))
        return account

    return transaction(work, rules=rules, session=session)


ESCALATIONS = {"agency": "escalated_agency", "legal": "escalated_legal"}


def escalate_account(session, account_id: str, level: str, supervisor_id: str,
                     rules: RulesConfig) -> Account:
    if level not in ESCALATIONS:
        raise Refused("Choose an agency or legal action.")
    status = ESCALATIONS[level]

    def work(tx: ChangeWriter) -> Account:
        account = session.get(Account, account_id, populate_existing=True)
        if account is None:
            raise NotFound("No such account.")
        if account.status == status:
            raise Refused("The account is already escalated that way.")
        if account.status in ("settled", "closed"):
            raise Refused("A settled or closed account is not escalated.")
        _apply(tx, Change("account", account.id, {"status": status},
                          supervisor_actor(supervisor_id)))
        return account

    return transaction(work, rules=rules, session=session)


# -- import -------------------------------------------------------------------


@dataclass
class ImportPreview:
    report: ImportReport
    rows: list[dict] = field(default_factory=list)  # row + "collector_name"

    @property
    def ok(self) -> bool:
        return self.report.ok


def preview_import(session, text: str, supervisor_id: str, rules: RulesConfig) -> ImportPreview:
    """Check every row as the change it would be; write nothing."""
    try:
        report = check_accounts_csv(session, text, import_actor(supervisor_id), rules)
        ids = {r["assigned_collector_id"] for r in report.rows if r.get("assigned_collector_id")}
        names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) \
            if ids else {}
    finally:
        session.rollback()
    rows = [{**row, "collector_name": names.get(row.get("assigned_collector_id"), "")}
            for row in report.rows]
    return ImportPreview(report, rows)


def run_import(session, text: str, supervisor_id: str, rules: RulesConfig,
               geocode=None) -> ImportReport:
    """All rows or none: a file with any bad row writes nothing and comes
    back with its errors."""
    return import_accounts(session, text, import_actor(supervisor_id), rules, geocode)


def make_geocoder(config):
    """The configured geocoder as ``address -> (lat, lon) | None``, or None."""
    from ..rules.geocoding import geocode_address
    from ..rules.geocoding import make_geocoder as build

    geocoder = build(config.get("GEOCODER", "off"), config.get("GEOCODER_DOMAIN"),
                     config.get("GEOCODER_SCHEME", "https"), "fieldvisit-import", 10)
    if geocoder is None:
        return None
    return lambda address: geocode_address(geocoder, address)



# -- attachments --------------------------------------------------------------


def redact_attachment(session, attachment_id: str, reason: str, supervisor_id: str,
                      rules: RulesConfig):
    """Redact with a reason: the write layer keeps the record and its
    history and deletes the bytes once the change is committed
    (``server/attachments/lifecycle.py``)."""
    from ..models import Attachment

    reason = (reason or "").strip()

    def work(tx: ChangeWriter):
        attachment = session.get(Attachment, attachment_id, populate_existing=True)
        if attachment is None:
            raise NotFound("No such attachment.")
        if attachment.redacted_reason:
            raise Refused("This attachment is redacted already.")
        _apply(tx, Change("attachment", attachment.id, {"redacted_reason": reason},
                          supervisor_actor(supervisor_id)))
        return attachment

    return transaction(work, rules=rules, session=session)
