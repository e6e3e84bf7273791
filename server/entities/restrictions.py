"""An account's contact restrictions (docs/protocol.md 1.1 "Account contact
restrictions"): its ``do_not_visit`` windows and its ``jurisdiction``.

A window is stored as the wire carries it, normalised: ``from`` and ``to``
in UTC, the reason without surrounding white space, the list sorted and each
window once. So two writers who send the same window send the same item,
and the write layer can merge concurrent lists item by item
(``sync.merge.SET_FIELDS``)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from sync.merge import set_item_key

from .. import messages
from ..rules.jurisdictions import is_country_code
from .fields import MAX_YEAR, MIN_YEAR, in_year_range, visible_characters
from .spec import Errors, Proposal

MAX_WINDOWS = 50
MAX_REASON = 200
WINDOW_KEYS = ("from", "to", "reason")


class WindowSchema(Schema):
    """One do-not-visit window (also its OpenAPI component)."""

    from_ = fields.AwareDateTime(data_key="from", required=True)
    to = fields.AwareDateTime(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_REASON))


_WINDOW = WindowSchema()


def _problems(n: int, item: Any) -> tuple[dict | None, list[str]]:
    if not isinstance(item, dict):
        return None, [messages.WINDOW_NOT_OBJECT.format(n=n)]
    problems = [messages.WINDOW_UNKNOWN_KEY.format(n=n, key=key)
                for key in item if key not in WINDOW_KEYS]
    try:
        loaded = _WINDOW.load({k: v for k, v in item.items() if k in WINDOW_KEYS})
    except ValidationError as exc:
        for key in exc.messages:
            if key == "reason" and isinstance(item.get("reason"), str):
                problems.append(messages.WINDOW_REASON_LONG.format(n=n, max=MAX_REASON)
                                if len(item["reason"]) > MAX_REASON
                                else messages.WINDOW_REASON.format(n=n))
            elif key == "reason":
                problems.append(messages.WINDOW_REASON.format(n=n))
            else:
                problems.append(messages.WINDOW_TIME.format(n=n, key=key))
        return None, problems
    if not (in_year_range(loaded["from_"]) and in_year_range(loaded["to"])):
        problems.append(messages.WINDOW_YEAR.format(n=n, min_year=MIN_YEAR, max_year=MAX_YEAR))
    elif not loaded["from_"] < loaded["to"]:
        problems.append(messages.WINDOW_ORDER.format(n=n))
    reason = loaded["reason"].strip()
    if visible_characters(reason) < 1:
        problems.append(messages.WINDOW_REASON.format(n=n))
    if problems:
        return None, problems
    return {"from": loaded["from_"].astimezone(UTC).isoformat(),
            "to": loaded["to"].astimezone(UTC).isoformat(),
            "reason": reason}, []


def normalise_windows(value: Any) -> list[dict]:
    """The windows of ``value`` in their stored form; ValidationError with
    every problem, window by window, when any is bad."""
    if not isinstance(value, list):
        raise ValidationError("Not a valid list.")
    if len(value) > MAX_WINDOWS:
        raise ValidationError(messages.TOO_MANY_WINDOWS.format(max=MAX_WINDOWS))
    windows, problems = {}, []
    for n, item in enumerate(value, 1):
        window, found = _problems(n, item)
        problems += found
        if window is not None:
            windows[set_item_key(window)] = window
    if problems:
        raise ValidationError(problems)
    return [windows[key] for key in sorted(windows)]


class DoNotVisitField(fields.List):
    """``do_not_visit``: a list of windows, checked and normalised on load and
    dumped as stored (plain JSON already)."""

    def __init__(self, **kw):
        super().__init__(fields.Nested(WindowSchema), validate=validate.Length(max=MAX_WINDOWS),
                         metadata={"description": (
                             "Windows (from inclusive, to exclusive) in which the account must "
                             "not be visited; stored with times in UTC, sorted, each once.")},
                         **kw)

    def _deserialize(self, value, attr, data, **kwargs):
        return normalise_windows(value)

    def _serialize(self, value, attr, obj, **kwargs):
        return list(value) if value is not None else []


def _valid_country(code: str) -> None:
    if not is_country_code(code):
        raise ValidationError(messages.NOT_COUNTRY)


def country_code(**kw):
    return fields.String(validate=_valid_country, metadata={
        "pattern": "^[A-Z]{2}$",
        "description": "An assigned ISO 3166-1 alpha-2 country code; null: the installation's "
                       "top-level rules apply."}, **kw)


def window_keys(windows) -> set[str]:
    return {set_item_key(w) for w in windows or ()}


def collectors_only_add_windows(p: Proposal) -> Errors:
    """The debtor's own request must not be dropped from a phone: a collector
    adds windows; removing one (it was made in error, the debtor withdrew
    it) is a supervisor's decision on the account page."""
    if p.role != "collector" or "do_not_visit" not in p.changes:
        return {}
    if window_keys(p.before.get("do_not_visit")) - window_keys(p.after.get("do_not_visit")):
        return {"do_not_visit": [messages.WINDOWS_NOT_REMOVED]}
    return {}
