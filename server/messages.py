"""The reasons the write layer gives for refusing a change, in one place.

A reason is English text with ``{placeholders}``: that text is what the
protocol sends (``errors`` of a rejected mutation), what the CLI prints and
what is stored with a refused mutation. The supervisor pages show it in the
reader's language by matching it back to its template here (``parse``) and
translating the template (``server/supervisor/catalog_zh.py`` has every one;
a test checks that). Marshmallow's own messages for the validators the
entity schemas use are listed too, so they are translated the same way.
"""

from __future__ import annotations

import re
from functools import cache

# -- the change as a whole ---------------------------------------------------
ID_DIFFERS = "Differs from the mutation's id."
READ_ONLY = "Read-only: computed by the server."
UNKNOWN_FIELD = "Unknown field."
ROLE_MAY_NOT_WRITE = "A {role} may not write this field."
PROMISES_READ_ONLY = "Promises are derived by the server from visits; they are read-only."
NOT_STORABLE = "Contains a NUL character or an unpaired surrogate."
NOT_FINITE = "Not a finite number."
YEAR_OUT_OF_RANGE = "Out of range: the year must be {min_year} to {max_year}."
CLOCK_AHEAD = ("More than 24 hours ahead of the server's clock; "
               "check the device's date and time.")
NO_SUCH_RECORD = "No such record; a new record has base_version 0."
ID_TAKEN = "This id belongs to another record; make a new id."
REQUIRED = "Missing data for required field."
NOT_IN_SCOPE = "No account with this id is assigned to you."
ONLY_SUPERVISOR_CREATES_ACCOUNTS = "Only a supervisor creates accounts."
SET_ON_CREATE = "Set when the record is created; it never changes."

# -- visits -------------------------------------------------------------------
COLLECTOR_NAMES_THEMSELF = "A collector may only name themself."
NO_SUCH_COLLECTOR = "No collector with this id."
COLLECTOR_NOT_REMOVED = "A visit's collector can be changed, never removed."
DONE_IS_FINAL = "This visit is done; a done visit is final."
AMENDMENT_NEEDS_REASON = ("This visit is done: changing {fields} is an amendment and needs "
                          "an amendment_reason.")
REASON_TOO_THIN = "An amendment reason needs at least three letters or digits."
REASON_NOT_CLEARED = "An amendment reason can be replaced by another, never cleared."
REQUIRED_FOR_DONE = "Required to mark the visit done."
CONDUCT_FOR_DONE = "The collector must confirm the conduct rules to mark the visit done."
PROMISE_NEEDS_AMOUNT = "A promise to pay needs an amount greater than 0."
PROMISE_NEEDS_DATE = "A promise to pay needs a date."
PROMISE_BEFORE_VISIT = "A promise cannot be dated before the visit."
NOBODY_MET_NO_MONEY = "Nobody was met, so nothing can have been paid or promised."

# -- payments and accounts ------------------------------------------------------
PAYMENT_FIXED = "A recorded payment cannot be changed; record a new one."
NO_SUCH_VISIT = "No visit with this id on this account."
REF_TAKEN = "Another account has this ref."

# -- attachments (entities/attachment.py) -------------------------------------
NO_VISIBLE_VISIT = "No visit with this id is on an account assigned to you."
ATTACHMENT_FIXED = "An attachment never changes once it is made, except its caption."
REDACTION_FINAL = "A redacted attachment stays redacted; its reason cannot be changed."
REDACTION_NEEDS_REASON = "A redaction needs a reason with at least three letters or digits."
KIND_NEEDS_IMAGE = "A photo or a signature must be an image (JPEG, PNG or WebP)."
ATTACHMENT_TOO_LARGE = "Larger than this server accepts for one file ({limit} bytes)."
VISIT_ATTACHMENTS_MANY = "This visit has the most attachments this server accepts ({limit})."
VISIT_ATTACHMENTS_FULL = ("This visit's attachments would be larger than this server accepts "
                          "for one visit ({limit} bytes).")
# Reasons the server writes into an attachment's history.
CONTENT_VERIFIED = "Content received and verified"
RETENTION_PURGED = "Retention: the content was deleted {days} days after it arrived"
NOT_SHA256 = "Not a SHA-256 digest (64 lower-case hexadecimal digits)."

# -- account contact restrictions (docs/protocol.md 1.1) -------------------------------
TOO_MANY_WINDOWS = "At most {max} do-not-visit periods per account."
WINDOW_NOT_OBJECT = "Period {n}: expected an object with from, to and reason."
WINDOW_UNKNOWN_KEY = "Period {n}: unknown key {key}; a period has from, to and reason."
WINDOW_TIME = "Period {n}: {key} must be an RFC 3339 time with an offset."
WINDOW_YEAR = "Period {n}: the year must be {min_year} to {max_year}."
WINDOW_ORDER = "Period {n}: from must be before to."
WINDOW_REASON = "Period {n}: the reason needs at least one letter or digit."
WINDOW_REASON_LONG = "Period {n}: the reason is longer than {max} characters."
WINDOWS_NOT_REMOVED = ("A collector may add do-not-visit periods but not remove them; "
                       "a supervisor removes a period.")
NOT_COUNTRY = "Not an ISO 3166-1 alpha-2 country code (two capital letters, e.g. TW)."
RELATION_ONLY_FOR_OTHERS = "The relation is recorded only when someone else was met."

# -- the account import file (its own format, before the write layer's checks) ---
NOT_AMOUNT = "Not an amount with at most 2 decimals."
NOT_DECIMAL = "Not a decimal number."
BOTH_OR_NEITHER = "Give both lat and lon, or neither."
MISSING_COLUMNS = "Missing columns: {names}."
EXTRA_CELLS = "More cells than columns."
NO_ROWS = "No rows."
NO_SUCH_USERNAME = "No collector with user name {name}."
SAME_REF = "Same ref as line {line}."

# -- field validators (ours and marshmallow's) ----------------------------------
NOT_UUID = "Not a lower-case hyphenated UUID."
NOT_TIMEZONE = "Not a known IANA time zone."
NOT_CURRENCY = "Not an ISO 4217 currency code (three capital letters)."
INVALID_VALUE = "Invalid value."
MARSHMALLOW = (
    "Not a valid integer.", "Not a valid number.", "Not a valid string.",
    "Not a valid boolean.", "Not a valid date.", "Not a valid datetime.",
    "Not a valid aware datetime.", "Not a valid mapping type.", "Not a valid list.",
    "Field may not be null.", "Invalid type.", "Not a valid utf-8 string.",
    "Must be one of: {choices}.", "Longer than maximum length {max}.",
    "Shorter than minimum length {min}.", "Length must be between {min} and {max}.",
    "Must be greater than or equal to {min} and less than or equal to {max}.",
    "Must be greater than or equal to {min}.", "Must be less than or equal to {max}.",
    "String does not match expected pattern.",
    "Special numeric values (nan or infinity) are not permitted.",
    "Number too large.",
)


def all_templates() -> tuple[str, ...]:
    own = tuple(value for name, value in globals().items()
                if name.isupper() and isinstance(value, str))
    return own + MARSHMALLOW


@cache
def _patterns() -> tuple[tuple[re.Pattern, str], ...]:
    compiled = []
    # Longest first, so that a template that is a prefix of another never
    # captures its text.
    for template in sorted(all_templates(), key=len, reverse=True):
        parts = re.split(r"\{(\w+)\}", template)
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)"
                        for i, p in enumerate(parts))
        compiled.append((re.compile(regex + r"\Z", re.S), template))
    return tuple(compiled)


def parse(text: str) -> tuple[str, dict[str, str]]:
    """The template a reason was made from and its values; an unknown text
    comes back as its own template."""
    for pattern, template in _patterns():
        found = pattern.match(text)
        if found:
            return template, found.groupdict()
    return text, {}


# -- message keys: a reason as data (stored with a refused mutation) ----------
# A reason's key is the name of its template above (ROLE_MAY_NOT_WRITE);
# marshmallow's messages have no name here, so theirs is made from the text
# (MARSHMALLOW_NOT_A_VALID_INTEGER). Keys never change meaning: a template
# reworded keeps its name, so a stored key still finds its words.
@cache
def _keys() -> dict[str, str]:
    own = {value: name for name, value in globals().items()
           if name.isupper() and isinstance(value, str)}
    for text in MARSHMALLOW:
        own[text] = "MARSHMALLOW_" + re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")
    return own


def key_of(template: str) -> str | None:
    return _keys().get(template)


def template_of(key: str | None) -> str | None:
    if not key:
        return None
    return {k: t for t, k in _keys().items()}.get(key)


def keyed(errors) -> dict[str, list[dict]]:
    """``errors`` as the write layer sends them (field: [English text]) as
    field: [{"key": ..., "params": {...}}]; a text no template makes (a
    newer library's message) is kept as {"text": ...}."""
    out: dict[str, list[dict]] = {}
    for name, found in (errors or {}).items():
        out[str(name)] = [_keyed_one(text) for text in _texts(found)]
    return out


def _keyed_one(text: str) -> dict:
    template, params = parse(text)
    key = key_of(template)
    return {"key": key, "params": params} if key else {"text": text}


def _texts(found) -> list[str]:
    # A field's reasons are a list of texts; a nested field's are a mapping
    # (marshmallow keys them by list index or key).
    if isinstance(found, str):
        return [found]
    if isinstance(found, dict):
        return [t for value in found.values() for t in _texts(value)]
    if isinstance(found, list | tuple):
        return [t for value in found for t in _texts(value)]
    return [str(found)]
