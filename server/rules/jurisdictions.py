"""Collection rules that differ by place: contact hours and the attempt limit
of each jurisdiction an installation collects in.

An account names its jurisdiction (ISO 3166-1 alpha-2, ``account.jurisdiction``);
its rules are that jurisdiction's where one is configured, else the
installation's top-level rules (``RulesConfig``). A jurisdiction sets only
what its law says; every value it leaves as None is the top-level one, so an
operator's ``FIELDVISIT_RULES_CONTACT_HOURS`` still governs those places.

The shipped values and their sources are listed in docs/rules.md
("Jurisdictions"); each default below names the line there that it comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache

import pycountry

from .clock import parse_hhmm

# How attempts are counted against the limit (docs/rules.md, "Attempts"):
# every attempt on the account, or only those on the same person of that debt.
PER_ACCOUNT = "account"
PER_PERSON = "person"
ATTEMPT_COUNTING = (PER_ACCOUNT, PER_PERSON)

# The settings a jurisdiction may carry, as its environment variables name them
# (FIELDVISIT_RULES_JURISDICTION_<CODE>_<SETTING>).
SETTINGS = ("CONTACT_HOURS", "ATTEMPT_MAX", "ATTEMPT_WINDOW_DAYS", "ATTEMPTS_PER")


@cache
def is_country_code(code: object) -> bool:
    """An assigned ISO 3166-1 alpha-2 code, in capitals ("TW", not "tw" or "XX")."""
    if not isinstance(code, str) or len(code) != 2 or not code.isascii() or not code.isupper():
        return False
    return pycountry.countries.get(alpha_2=code) is not None


@dataclass(frozen=True)
class Jurisdiction:
    """One place's own rules; a None value is the installation's top-level one."""

    code: str
    contact_hours: tuple[str, str] | None = None
    attempt_max: int | None = None
    attempt_window_days: int | None = None
    attempts_per: str | None = None

    def __post_init__(self) -> None:
        if self.contact_hours is not None:
            object.__setattr__(self, "contact_hours", tuple(self.contact_hours))
        validate_jurisdiction(self)

    def with_settings(self, settings: Mapping[str, object]) -> Jurisdiction:
        return replace(self, **settings)


def validate_jurisdiction(j: Jurisdiction) -> None:
    if not is_country_code(j.code):
        raise ValueError(f"jurisdiction {j.code!r}: not an ISO 3166-1 alpha-2 country code")
    if j.contact_hours is not None:
        if len(j.contact_hours) != 2:
            raise ValueError(f"jurisdiction {j.code}: contact_hours needs a (start, end) pair")
        start, end = parse_hhmm(j.contact_hours[0]), parse_hhmm(j.contact_hours[1])
        if not start < end:
            raise ValueError(f"jurisdiction {j.code}: contact_hours start {j.contact_hours[0]} "
                             f"must be before end {j.contact_hours[1]}")
    for name in ("attempt_max", "attempt_window_days"):
        value = getattr(j, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise ValueError(f"jurisdiction {j.code}: {name} must be a whole number of at least 1")
    if j.attempts_per is not None and j.attempts_per not in ATTEMPT_COUNTING:
        raise ValueError(f"jurisdiction {j.code}: attempts_per must be one of "
                         + ", ".join(ATTEMPT_COUNTING))


# Shipped defaults. docs/rules.md ("Jurisdictions") cites the source of each.
DEFAULT_JURISDICTIONS: tuple[Jurisdiction, ...] = (
    # docs/rules.md "US": FDCPA §1692c(a)(1) (08:00–21:00 at the consumer's
    # location); Regulation F 12 CFR 1006.14(b)(2) (more than 7 calls in 7
    # days about one debt is presumed harassment), counted per person.
    Jurisdiction("US", ("08:00", "21:00"), attempt_max=7, attempt_window_days=7,
                 attempts_per=PER_PERSON),
    # docs/rules.md "IN": RBI's 2022 circular on recovery agents and its 2026
    # draft directions: no contact before 08:00 or after 19:00.
    Jurisdiction("IN", ("08:00", "19:00")),
    # docs/rules.md "CN": no collection from 22:00 to 08:00.
    Jurisdiction("CN", ("08:00", "22:00")),
    # docs/rules.md "JP": 貸金業法 §21 — no visits from 21:00 to 08:00.
    Jurisdiction("JP", ("08:00", "21:00")),
    # docs/rules.md "TW": the product's own conservative defaults (08:00–21:00,
    # 5 in 7 days), i.e. the top-level rules, until confirmed against the
    # regulator's text.
    Jurisdiction("TW"),
)


def configured(base: tuple[Jurisdiction, ...], keep: tuple[str, ...] | None,
               settings: Mapping[str, Mapping[str, object]]) -> tuple[Jurisdiction, ...]:
    """The jurisdictions of an installation: the shipped ones (or only those
    ``keep`` names; a named code without shipped rules starts with none of
    its own), each with its overridden ``settings``; a code that only has
    settings is added."""
    by_code = {j.code: j for j in base}
    if keep is not None:
        by_code = {code: by_code.get(code) or Jurisdiction(code) for code in keep}
    for code, values in settings.items():
        by_code[code] = (by_code.get(code) or Jurisdiction(code)).with_settings(values)
    return tuple(by_code[code] for code in sorted(by_code))
