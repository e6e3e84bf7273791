"""Account import (PROTOCOL.md "Account import file"): all rows or none.

Every row is checked first and every bad row reported with its line number;
only a clean file is written, in one transaction, as a supervisor's change."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from ..entities import is_known_timezone
from ..models import Account, User, new_id
from .changes import Actor, ChangeWriter
from .clock import server_clock
from .derived import publish_reassignment
from .store import save

COLUMNS = (
    "ref", "customer_name", "original_contact_name", "original_contact_role",
    "original_contact_phone", "address", "lat", "lon", "timezone", "currency",
    "principal", "amount_due", "due_since", "collector",
)
REQUIRED = ("ref", "customer_name", "timezone", "currency", "amount_due")


@dataclass
class ImportReport:
    rows: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # {"line", "errors": {column: message}}
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reassigned: int = 0
    geocoded: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _minor_units(text: str) -> int:
    value = Decimal(text.replace(",", ""))
    if value < 0 or value.as_tuple().exponent < -2:
        raise InvalidOperation
    return int(value * 100)


def _parse_row(raw: dict, collectors: dict[str, str]) -> tuple[dict, dict]:
    row, errors = {}, {}
    get = lambda name: (raw.get(name) or "").strip()  # noqa: E731
    for name in REQUIRED:
        if not get(name):
            errors[name] = "required"
    for name in ("ref", "customer_name", "original_contact_name", "original_contact_role",
                 "original_contact_phone", "address"):
        row[name] = get(name) or None
    if row["ref"] and len(row["ref"]) > 64:
        errors["ref"] = "longer than 64 characters"
    for name, low, high in (("lat", -90, 90), ("lon", -180, 180)):
        text = get(name)
        row[name] = None
        if text:
            try:
                row[name] = float(text)
                if not low <= row[name] <= high:
                    errors[name] = f"outside {low}..{high}"
            except ValueError:
                errors[name] = "not a decimal number"
    if (row["lat"] is None) != (row["lon"] is None) and "lat" not in errors and "lon" not in errors:
        errors["lat"] = "give both lat and lon, or neither"
    tz = get("timezone")
    if tz:
        if is_known_timezone(tz):
            row["timezone"] = tz
        else:
            errors["timezone"] = f"unknown IANA time zone {tz!r}"
    currency = get("currency")
    if currency:
        if len(currency) == 3 and currency.isalpha():
            row["currency"] = currency.upper()
        else:
            errors["currency"] = "not an ISO 4217 code"
    for name in ("principal", "amount_due"):
        text = get(name)
        row[name] = 0
        if text:
            try:
                row[name] = _minor_units(text)
            except (InvalidOperation, ValueError):
                errors[name] = "not an amount with at most 2 decimals"
    due = get("due_since")
    row["due_since"] = None
    if due:
        try:
            row["due_since"] = date.fromisoformat(due)
        except ValueError:
            errors["due_since"] = "not a date YYYY-MM-DD"
    collector = get("collector")
    row["assigned_collector_id"] = None
    if collector:
        if collector not in collectors:
            errors["collector"] = f"no collector with user name {collector!r}"
        else:
            row["assigned_collector_id"] = collectors[collector]
    return row, errors


def parse_accounts_csv(session, text: str) -> ImportReport:
    report = ImportReport()
    if text.startswith("\ufeff"):
        text = text[1:]  # a spreadsheet's byte-order mark
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        report.errors.append({"line": 1, "errors": {"header": "missing columns: " + ", ".join(missing)}})
        return report
    collectors = dict(session.execute(
        select(User.username, User.id).where(User.role == "collector", User.active.is_(True))).all())
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if None in raw:
            report.errors.append({"line": line, "errors": {"row": "more cells than columns"}})
            continue
        row, errors = _parse_row(raw, collectors)
        ref = row.get("ref")
        if ref and ref in seen:
            errors["ref"] = f"same ref as line {seen[ref]}"
        elif ref:
            seen[ref] = line
        if errors:
            report.errors.append({"line": line, "errors": errors})
        report.rows.append(row)
    if not report.rows and not report.errors:
        report.errors.append({"line": 1, "errors": {"file": "no rows"}})
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


def write_accounts(session, report: ImportReport, user_id: str | None) -> ImportReport:
    """Write a clean report's rows; the caller commits."""
    assert report.ok, "never write a file with bad rows"
    writer = ChangeWriter(session)
    actor = Actor(user_id, "server", None, str(server_clock.send()))
    existing = {a.ref: a for a in session.scalars(
        select(Account).where(Account.ref.in_([r["ref"] for r in report.rows])))}
    for row in report.rows:
        account = existing.get(row["ref"])
        if account is None:
            account = Account(id=new_id(), status="active")
            save(writer, "account", account, row, actor, new=True)
            report.created += 1
            continue
        changes = {k: v for k, v in row.items() if getattr(account, k) != v
                   and not (k in ("lat", "lon") and v is None)}
        old_collector = account.assigned_collector_id
        if save(writer, "account", account, changes, actor):
            report.updated += 1
        else:
            report.unchanged += 1
        if "assigned_collector_id" in changes:
            publish_reassignment(writer, account, old_collector)
            report.reassigned += 1
    writer.finish()
    return report
