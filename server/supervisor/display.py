"""Showing stored values to a reader: field names, codes, yes/no, amounts
and times, in the reader's language."""

from __future__ import annotations

from datetime import date, datetime

from babel import Locale

from .. import labels, messages
from . import formatting
from .i18n import current_language, label, translate

FIELD_LABELS = {
    "id": "Id", "version": "Version", "created_at": "Created", "updated_at": "Last changed",
    # account
    "ref": "Account number", "customer_name": "Customer", "original_contact_name": "Original contact",
    "original_contact_role": "Contact's role", "original_contact_phone": "Contact's phone",
    "address": "Address", "address_notes": "Address notes", "lat": "Latitude", "lon": "Longitude",
    "timezone": "Time zone", "currency": "Currency", "principal": "Principal",
    "amount_due": "Amount due", "due_since": "Due since",
    "assigned_collector_id": "Assigned collector", "status": "Status",
    "delinquency_reason": "Reason for arrears", "notes": "Notes",
    # visit
    "account_id": "Account", "collector_id": "Collector", "scheduled_at": "Scheduled for",
    "plan_notes": "Plan notes", "arrived_at": "Arrived", "departed_at": "Left",
    "checkin_lat": "Check-in latitude", "checkin_lon": "Check-in longitude",
    "checkin_accuracy_m": "GPS accuracy (m)", "met": "Met", "met_name": "Name of the person met",
    "checkin_fix_age_s": "Age of the position fix (s)",
    "redirected_to": "Sent on to", "other_guests_present": "Other guests present",
    "waited_minutes": "Minutes waited", "result": "Result", "promise_amount": "Promised amount",
    "promise_date": "Promised date", "conduct_confirmed": "Conduct rules confirmed",
    "amendment_reason": "Reason for amendment", "flags": "Flags",
    "met_relation": "Relation to the debtor", "do_not_visit": "Do not visit",
    "jurisdiction": "Jurisdiction",
    # payment / promise
    "visit_id": "Visit", "amount": "Amount", "method": "Method", "collected_at": "Collected",
    "review_note": "Review note", "made_at": "Promised on",
    # attachment
    "kind": "Kind", "content_type": "File type", "byte_size": "Size (bytes)", "sha256": "SHA-256",
    "taken_at": "Taken", "accuracy_m": "GPS accuracy (m)", "caption": "Caption",
    "redacted_reason": "Reason for redaction", "created_by": "Taken by",
    "uploaded": "Uploaded", "uploaded_at": "Received", "purged_at": "Content deleted",
    # visit, kept by the server (server/services/device_clock.py)
    "device_clock_offset_min": "Phone clock when the times were sent",
}

# Which label table a field's codes belong to, per entity.
CODE_KINDS = {
    ("visit", "status"): "visit_status", ("account", "status"): "account_status",
    ("payment", "status"): "payment_status", ("promise", "status"): "promise_status",
    "result": "result", "met": "met", "delinquency_reason": "reason", "method": "method",
    ("attachment", "kind"): "attachment_kind",
    "met_relation": "met_relation",
}
MONEY_FIELDS = ("principal", "amount_due", "promise_amount", "amount")
TIME_FIELDS = ("scheduled_at", "arrived_at", "departed_at", "collected_at", "made_at",
               "created_at", "updated_at", "taken_at", "uploaded_at", "purged_at")


def field_label(name: str, lang: str | None = None) -> str:
    return translate(FIELD_LABELS.get(name, name), lang)


def show_value(entity: str, name: str, value, lang: str | None = None, zone=None,
               users: dict | None = None, currency: str | None = None) -> str:
    """A field's value (Python or JSON form) as text for a page."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return translate("Yes" if value else "No", lang)
    kind = CODE_KINDS.get((entity, name)) or CODE_KINDS.get(name)
    if kind:
        return label(kind, value, lang)
    if name == "device_clock_offset_min" and isinstance(value, int):
        from .device_words import clock_offset

        return clock_offset(value * 60)
    if name == "flags":
        return ", ".join(label("flag", f, lang) for f in value) if value else "—"
    if name == "do_not_visit":
        return _windows_text(value, lang, zone)
    if name == "jurisdiction" and isinstance(value, str):
        return f"{country_name(value, lang)} ({value})"
    if name in MONEY_FIELDS and isinstance(value, int):
        return (labels.format_money(value, currency, lang) if currency
                else formatting.fmt_amount(value))
    if name in TIME_FIELDS:
        moment = value
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value
        if isinstance(moment, datetime) and moment.tzinfo is not None:
            return formatting.fmt_datetime(moment, zone)
    if isinstance(value, date):
        return value.isoformat()
    if users and name in ("collector_id", "assigned_collector_id") and value in users:
        return users[value].name
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def country_name(code: str | None, lang: str | None = None) -> str:
    """A jurisdiction's country in the reader's language (Babel's CLDR names)."""
    if not code:
        return ""
    locale = Locale.parse("zh_Hant_TW" if (lang or current_language()) == "zh-Hant" else "en")
    return locale.territories.get(code, code)


def _windows_text(windows, lang: str | None, zone) -> str:
    if not windows:
        return "—"
    parts = []
    for window in windows:
        try:
            start, end = (datetime.fromisoformat(window[k]) for k in ("from", "to"))
        except (KeyError, TypeError, ValueError):
            parts.append(str(window))
            continue
        parts.append(translate("{start} to {end}: {reason}", lang,
                               start=formatting.fmt_datetime(start, zone),
                               end=formatting.fmt_datetime(end, zone),
                               reason=window.get("reason", "")))
    return "; ".join(parts)


def reason_text(text: str, lang: str | None = None) -> str:
    """A reason of the write layer or the importer (``server/messages.py``)
    in the reader's language."""
    template, values = messages.parse(text)
    return translate(template, lang, **values)
