"""A refused mutation in words, for the refused-changes page: who sent it
from which of their devices, which record of which account, what it would
have changed (labels, local times, money with its currency, names for ids)
and why the server refused it, in the reader's language.

The reasons come from the message keys stored with the refusal
(``RejectedMutation.reasons``, made by ``server/messages.py`` keyed()); a
refusal stored before keys existed is read from its English text through
``messages.parse()``. Parameters that are codes (a role, field names, the
allowed values) are shown as their labels too."""

from __future__ import annotations

from dataclasses import dataclass

from .. import messages
from ..models import RejectedMutation
from . import formatting
from .display import CODE_KINDS, field_label, show_value
from .i18n import label, translate
from .queries.refused import ID_FIELDS, Lookups


@dataclass
class RefusedRow:
    received_at: object
    made_at: object  # the phone's clock when the change was made
    user_id: str | None
    sender: str
    device: str
    what: str  # "Visit on A-2 · Shop 2"
    op: str  # a new record, or a change to a version
    sent: list[tuple[str, str]]
    reasons: list[tuple[str, list[str]]]


def describe(r: RejectedMutation, found: Lookups, lang: str, zone) -> RefusedRow:
    user = found.users.get(r.user_id)
    number = found.devices.get(r.client_id)
    device = (translate("device {n}, change {seq}", lang, n=number, seq=r.seq) if number
              else translate("an unknown device, change {seq}", lang, seq=r.seq))
    fields = r.fields if isinstance(r.fields, dict) else {}
    account = found.accounts.get(found.record_accounts.get((r.entity, r.record_id))
                                 or fields.get("account_id") or "")
    entity = label("entity", r.entity, lang)
    what = (translate("{entity} on {account}", lang, entity=entity, account=_account_name(account))
            if account else translate("{entity} on no known account", lang, entity=entity))
    op = (translate("New record", lang) if not r.base_version
          else translate("Change to version {v}", lang, v=r.base_version))
    currency = account.currency if account else None
    sent = [(field_label(name, lang), _value(r.entity, name, value, found, lang, zone, currency))
            for name, value in fields.items() if name != "id"]
    return RefusedRow(
        received_at=r.received_at, made_at=formatting.hlc_instant(r.hlc), user_id=user and user.id,
        sender=user.name if user else translate("an unknown user", lang), device=device,
        what=what, op=op, sent=sent, reasons=_reasons(r, lang, zone))


def _account_name(account) -> str:
    return f"{account.ref} · {account.customer_name}"


def _value(entity, name, value, found: Lookups, lang, zone, currency) -> str:
    kind = ID_FIELDS.get(name)
    if kind and value is not None:
        if kind == "account" and value in found.accounts:
            return _account_name(found.accounts[value])
        if kind == "user" and value in found.users:
            return found.users[value].name
        if kind == "visit" and value in found.visits:
            visit = found.visits[value]
            when = formatting.fmt_datetime(visit.arrived_at or visit.scheduled_at, zone) or "—"
            account = found.accounts.get(visit.account_id)
            return translate("the visit of {when} to {account}", lang, when=when,
                             account=_account_name(account) if account else "—")
        return translate("a record this server does not have", lang)
    return show_value(entity, name, value, lang, zone, found.users, currency)


def _reasons(r: RejectedMutation, lang: str, zone) -> list[tuple[str, list[str]]]:
    stored = r.reasons if isinstance(r.reasons, dict) else messages.keyed(r.errors)
    out = []
    for name, reasons in stored.items():
        heading = _heading(name, lang)
        out.append((heading, [_reason(r.entity, name, reason, lang) for reason in reasons]))
    return out


def _heading(name: str, lang: str) -> str:
    # Reasons about the mutation rather than a field of the record.
    if name.startswith("_"):
        return translate("Record", lang)
    if name == "hlc":
        return translate("The phone's clock", lang)
    if name == "base_version":
        return translate("Version", lang)
    return field_label(name, lang)


def _reason(entity: str, name: str, reason: dict, lang: str) -> str:
    template = messages.template_of(reason.get("key"))
    if template is None:
        return str(reason.get("text", ""))
    params = dict(reason.get("params") or {})
    if "role" in params:
        # Mid-sentence in English ("A collector may not..."); Chinese has no case.
        params["role"] = label("role", params["role"], lang).lower()
    if "fields" in params:
        params["fields"] = ", ".join(field_label(f.strip(), lang)
                                     for f in params["fields"].split(","))
    if "choices" in params and (CODE_KINDS.get((entity, name)) or CODE_KINDS.get(name)):
        params["choices"] = ", ".join(show_value(entity, name, c.strip(), lang)
                                      for c in params["choices"].split(","))
    try:
        return translate(template, lang, **params)
    except (KeyError, IndexError):
        return translate(template, lang)
