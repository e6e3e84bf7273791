"""The visit page's amendment form: the outcome fields of a done visit with
their values as a supervisor reads and types them (times on the account's
clock, money in major units of its currency), and the fields the
supervisor changed read back as wire values for the write layer. The
status is not on the form: a done visit stays done."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import get_currency_precision, get_currency_symbol

from .. import labels
from ..entities import DELINQUENCY_REASONS, MET_VALUES, VISIT_RESULTS

# name, kind. The evidence of the check-in (position, accuracy) is not
# offered: a supervisor was not there to know better.
FIELDS = (
    ("arrived_at", "time"), ("departed_at", "time"),
    ("met", "choice"), ("met_name", "text"), ("redirected_to", "text"),
    ("other_guests_present", "yesno"), ("waited_minutes", "whole"),
    ("delinquency_reason", "choice"), ("result", "choice"),
    ("promise_amount", "money"), ("promise_date", "date"), ("notes", "long"),
)
# Each choice field's codes and the label group that names them.
CHOICES = {"met": ("met", MET_VALUES), "delinquency_reason": ("reason", DELINQUENCY_REASONS),
           "result": ("result", VISIT_RESULTS)}

# What a value that cannot be read gets (English; catalog_zh has each).
NOT_TIME = "enter a date and a time"
NOT_WHOLE = "enter a whole number"
NOT_AMOUNT = "enter an amount such as 1500"
NOT_DATE = "enter a date"
NOT_CHOICE = "choose one of the values offered"


@dataclass(frozen=True)
class AmendField:
    name: str
    kind: str
    value: str  # as the form shows it
    group: str | None = None  # label group of a choice
    choices: tuple[str, ...] = ()


def _zone(account) -> ZoneInfo:
    try:
        return ZoneInfo(account.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def currency_symbol(account, lang: str) -> str:
    """How the form names the currency amounts are typed in: NT$, not TWD."""
    code = (account.currency or "TWD").upper()
    symbol = labels.catalog()["currencies"].get(code, {}).get("symbol")
    return symbol or get_currency_symbol(code, locale="zh_Hant_TW" if lang == "zh-Hant" else "en")


def _precision(account) -> int:
    return get_currency_precision((account.currency or "TWD").upper())


def shown(kind: str, value, account) -> str:
    """A stored value as the form's control holds it."""
    if value is None:
        return ""
    if kind == "time":
        return value.astimezone(_zone(account)).strftime("%Y-%m-%dT%H:%M")
    if kind == "yesno":
        return "yes" if value else "no"
    if kind == "money":
        major = Decimal(int(value)).scaleb(-_precision(account))
        text = format(major.normalize(), "f")
        return text
    if kind == "date":
        return value.isoformat()
    return str(value)


def form_fields(visit, account) -> list[AmendField]:
    found = []
    for name, kind in FIELDS:
        group, choices = CHOICES.get(name, (None, ()))
        found.append(AmendField(name, kind, shown(kind, getattr(visit, name), account), group,
                                tuple(choices)))
    return found


def _read(kind: str, name: str, text: str, account):
    """(wire value, problem)."""
    if text == "":
        return None, None
    if kind == "time":
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None, NOT_TIME
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_zone(account))
        return moment.isoformat(), None
    if kind == "yesno":
        if text not in ("yes", "no"):
            return None, NOT_CHOICE
        return text == "yes", None
    if kind == "whole":
        if not text.isdigit():
            return None, NOT_WHOLE
        return int(text), None
    if kind == "money":
        try:
            minor = Decimal(text.replace(",", "").replace(" ", "")).scaleb(_precision(account))
        except InvalidOperation:
            return None, NOT_AMOUNT
        if not minor.is_finite() or minor != minor.to_integral_value() or minor < 0:
            return None, NOT_AMOUNT
        return int(minor), None
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat(), None
        except ValueError:
            return None, NOT_DATE
    if kind == "choice":
        if text not in CHOICES[name][1]:
            return None, NOT_CHOICE
        return text, None
    return text, None


def read_changes(form: Mapping[str, str], visit, account) -> tuple[dict, list[tuple[str, str]]]:
    """The fields whose value on the form differs from the visit's, as wire
    values; and the fields that could not be read, with the problem. A
    field not on the form, or shown as it is, is no change."""
    changes, problems = {}, []
    for field in form_fields(visit, account):
        if field.name not in form:
            continue
        # Browsers send a text area's line breaks as CRLF.
        text = (form.get(field.name) or "").replace("\r\n", "\n").strip()
        if text == field.value:
            continue
        value, problem = _read(field.kind, field.name, text, account)
        if problem:
            problems.append((field.name, problem))
        else:
            changes[field.name] = value
    return changes, problems
