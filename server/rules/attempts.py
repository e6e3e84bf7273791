"""Which earlier attempts count against the attempt limit.

Most places count every attempt on the account (seed tip 10). Where the
jurisdiction counts per person (``attempts_per: person``; the US, after
Regulation F's "a particular person … a particular debt"), an attempt counts
only against the person it reached, on that account (one account is one
debt): the original contact when the collector met them or nobody (the
visit sought them), otherwise the person met, by name. docs/rules.md
("Attempts") explains the choice.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .config import RulesConfig
from .jurisdictions import PER_PERSON

ORIGINAL_CONTACT = "original_contact"


@dataclass(frozen=True)
class Attempt:
    """A done visit as an attempt: when it arrived and whom it reached."""

    at: datetime
    person: str = ORIGINAL_CONTACT


def attempt_person(met: str | None, met_name: str | None = None) -> str:
    """Whom an attempt reached, as a key: the original contact, or the other
    person by their name as written (case, width and spacing ignored, so
    "Mrs  Lin" and "mrs lin" are one person). An unnamed other person is one
    key of its own, so unnamed third parties are counted together."""
    if met != "other_person":
        return ORIGINAL_CONTACT
    name = " ".join(unicodedata.normalize("NFKC", met_name or "").casefold().split())
    return f"other:{name}"


def attempt_time(attempt: Attempt | datetime) -> datetime:
    return attempt.at if isinstance(attempt, Attempt) else attempt


def counted_attempts(attempts: Iterable[Attempt | datetime], person: str,
                     cfg: RulesConfig) -> list[datetime]:
    """The times of ``attempts`` that count against ``person``'s limit. A bare
    datetime (whom it reached unknown) counts against everyone: when in
    doubt the limit is reached sooner, never later."""
    if cfg.attempts_per != PER_PERSON:
        return [attempt_time(a) for a in attempts]
    return [attempt_time(a) for a in attempts
            if not isinstance(a, Attempt) or a.person == person]
