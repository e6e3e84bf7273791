"""Account import (docs/protocol.md "Account import file"): all rows or none.

A CSV row is only parsed here — amounts to minor units, the collector's
user name to her id, empty cells to nothing — and then checked as the
change it would be, by the write layer, against the account schema and
rules every other writer meets (``writes.check_change``). Every bad row is
reported with its line and column; only a clean file is written, in one
transaction, through ``writes.apply_change``."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from .. import messages
from ..entities import is_storable
from ..models import Account, User, new_id
from ..rules.config import RulesConfig
from .changes import Actor, ChangeWriter
from .clock import server_clock
from .writes import Change, Rejected, apply_change, check_change, transaction

COLUMNS = (
    "ref", "customer_name", "original_contact_name", "original_contact_role",
    "original_contact_phone", "address", "lat", "lon", "timezone", "currency",
    "principal", "amount_due", "due_since", "collector",
)
# Columns a file may add to the protocol's (OpenAPI "Choice"): read when
# the header has them; an empty cell leaves the value to its default on a
# new account and as it is on a known one.
OPTIONAL_COLUMNS = ("jurisdiction",)
REQUIRED = ("ref", "customer_name", "timezone", "currency", "amount_due")
TEXT_COLUMNS = ("ref", "customer_name", "original_contact_name", "original_contact_role",
                "original_contact_phone", "address", "timezone", "due_since")
# The account field a column fills, where the names differ.
FIELD_OF_COLUMN = {"collector": "assigned_collector_id"}
COLUMN_OF_FIELD = {v: k for k, v in FIELD_OF_COLUMN.items()}
# What a report's row carries beside the account's fields.
ROW_META = ("line", "id", "action")

# Major units with at most two decimals, thousands separators allowed:
# "1250", "1,250.50". Nothing else: "1e20", "Infinity" and "NaN" are
# numbers to a parser but not amounts anyone writes in a ledger.
AMOUNT = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?\Z")
DECIMAL = re.compile(r"[-+]?\d+(?:\.\d+)?\Z")

@dataclass
class ImportReport:
    # One per data row: the account's wire fields, "line", and "id" of the
    # account it creates or updates.
    rows: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # {"line", "errors": {column: [message]}}
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reassigned: int = 0
    geocoded: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, line: int, errors: dict[str, list[str]]) -> None:
        self.errors.append({"line": line, "errors": errors})


def minor_units(text: str) -> int:
    whole, _, cents = text.replace(",", "").partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def _parse_row(raw: dict, collectors: dict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A CSV row as wire values of an account, and the cells that are not
    even of the file's format."""
    row: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    get = lambda name: (raw.get(name) or "").strip()  # noqa: E731
    for name in REQUIRED:
        if not get(name):
            errors[name] = [messages.REQUIRED]
    for name in TEXT_COLUMNS:
        row[name] = get(name) or None
    currency = get("currency")
    # Spreadsheets lower-case codes; only plain letters are raised (``"ß".upper()``
    # is "SS"), anything else goes to the schema as written and is refused there.
    row["currency"] = (currency.upper() if currency.isascii() else currency) or None
    for name in ("lat", "lon"):
        text = get(name)
        row[name] = None
        if text:
            if DECIMAL.match(text):
                row[name] = float(text)
            else:
                errors[name] = [messages.NOT_DECIMAL]
    if (row["lat"] is None) != (row["lon"] is None) and not errors.keys() & {"lat", "lon"}:
        errors["lat"] = [messages.BOTH_OR_NEITHER]
    for name in ("principal", "amount_due"):
        text = get(name)
        row[name] = 0
        if text:
            if AMOUNT.match(text):
                row[name] = minor_units(text)
            else:
                errors[name] = [messages.NOT_AMOUNT]
    jurisdiction = get("jurisdiction")
    if jurisdiction:
        # As the currency: spreadsheets lower-case codes.
        row["jurisdiction"] = jurisdiction.upper() if jurisdiction.isascii() else jurisdiction
    collector = get("collector")
    row["assigned_collector_id"] = None
    if collector:
        if collector in collectors:
            row["assigned_collector_id"] = collectors[collector]
        else:
            errors["collector"] = [messages.NO_SUCH_USERNAME.format(name=repr(collector))]
    return row, errors


def _read_rows(session, text: str, report: ImportReport) -> None:
    if text.startswith("\ufeff"):
        text = text[1:]  # a spreadsheet's byte-order mark
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        report.add(1, {"header": [messages.MISSING_COLUMNS.format(names=", ".join(missing))]})
        return
    collectors = dict(session.execute(
        select(User.username, User.id).where(User.role == "collector", User.active.is_(True))).all())
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if None in raw:
            report.add(line, {"row": [messages.EXTRA_CELLS]})
            continue
        row, errors = _parse_row(raw, collectors)
        ref = row.get("ref")
        if ref and ref in seen:
            errors["ref"] = [messages.SAME_REF.format(line=seen[ref])]
        elif ref:
            seen[ref] = line
        if errors:
            report.add(line, errors)
        report.rows.append({**row, "line": line})
    if not report.rows and not report.errors:
        report.add(1, {"file": [messages.NO_ROWS]})


def _change(row: dict, existing: Account | None, actor: Actor) -> Change:
    fields = {k: v for k, v in row.items() if k not in ROW_META}
    if existing is not None:
        # An empty position keeps the one on file (it may have been
        # geocoded or corrected since).
        fields = {k: v for k, v in fields.items() if not (k in ("lat", "lon") and v is None)}
    return Change("account", row["id"], fields, actor)


def _existing(session, report: ImportReport) -> dict[str, Account]:
    # A ref PostgreSQL cannot hold is never looked up (the row is refused).
    refs = [r["ref"] for r in report.rows if r.get("ref") and is_storable(r["ref"])]
    if not refs:
        return {}
    return {a.ref: a for a in session.scalars(select(Account).where(Account.ref.in_(refs)))}


def _columns(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, found in errors.items():
        column = COLUMN_OF_FIELD.get(name, name if name in COLUMNS + OPTIONAL_COLUMNS else "row")
        out.setdefault(column, []).extend(found)
    return out


def check_accounts_csv(session, text: str, actor: Actor, rules: RulesConfig) -> ImportReport:
    """Parse and check every row as the change it would be; write nothing
    (the caller rolls back)."""
    report = ImportReport()
    _read_rows(session, text, report)
    format_errors = {e["line"]: e["errors"] for e in report.errors}
    existing = _existing(session, report)
    tx = ChangeWriter(session, rules=rules, lock=False)
    for row in report.rows:
        account = existing.get(row.get("ref"))
        row["id"] = account.id if account is not None else new_id()
        row["action"] = "update" if account is not None else "create"
        bad_cells = format_errors.get(row["line"], {})
        # Check the rest of a row whose cells are not all of the format, so
        # that one look at the report shows everything wrong with it.
        change = _change({k: v for k, v in row.items()
                          if COLUMN_OF_FIELD.get(k, k) not in bad_cells},
                         account, actor)
        for column, found in _columns(check_change(tx, change)).items():
            if column not in bad_cells:
                if row["line"] not in format_errors:
                    format_errors[row["line"]] = {}
                    report.add(row["line"], format_errors[row["line"]])
                format_errors[row["line"]][column] = found
    report.errors.sort(key=lambda e: e["line"])
    return report


def geocode_missing(report: ImportReport, geocode) -> None:
    """Fill lat/lon from the address where a geocoder is configured. Runs
    before the write transaction: the network is never awaited inside one."""
    if geocode is None:
        return
    for row in report.rows:
        if row["lat"] is None and row.get("address"):
            found = geocode(row["address"])
            if found is not None:
                row["lat"], row["lon"] = found
                report.geocoded += 1


class _FileRefused(Exception):
    def __init__(self, line: int, errors: dict[str, list[str]]):
        super().__init__("import refused")
        self.line = line
        self.errors = errors


def write_accounts(tx: ChangeWriter, report: ImportReport, actor: Actor) -> ImportReport:
    """Write a checked report's rows in the caller's transaction. A row the
    write layer refuses now (something changed since the check) aborts the
    whole file."""
    assert report.ok, "never write a file with bad rows"
    report.created = report.updated = report.unchanged = report.reassigned = 0
    existing = _existing(tx.session, report)
    for row in report.rows:
        account = existing.get(row["ref"])
        row["id"] = account.id if account is not None else row.get("id") or new_id()
        try:
            outcome = apply_change(tx, _change(row, account, actor))
        except Rejected as rejection:
            raise _FileRefused(row["line"], _columns(rejection.errors)) from None
        if account is None:
            report.created += 1
        elif outcome.changed:
            report.updated += 1
            report.reassigned += "assigned_collector_id" in outcome.changed
        else:
            report.unchanged += 1
    return report


def import_actor(user_id: str | None) -> Actor:
    """A supervisor's import, or the operator's (CLI, demo) when no user."""
    role = "supervisor" if user_id else "server"
    return Actor(user_id, "server", None, str(server_clock.send()), role=role)


def import_accounts(session, text: str, actor: Actor, rules: RulesConfig,
                    geocode=None) -> ImportReport:
    """Check the file, geocode what lacks a position, and write every row
    in one transaction — or nothing, with the report's errors."""
    report = check_accounts_csv(session, text, actor, rules)
    session.rollback()
    if not report.ok:
        return report
    geocode_missing(report, geocode)  # network before the transaction, never inside it
    try:
        transaction(lambda tx: write_accounts(tx, report, actor), rules=rules, session=session)
    except _FileRefused as refused:
        report.add(refused.line, refused.errors)
    return report
