"""An export's columns: a header (English, translated when written), a kind
that says how each writer shows the value, and how to read the value from a
row. Both writers read the same columns, so CSV and Excel files agree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision

from ... import labels

# text: words or codes; time: an aware instant, shown on the reader's wall
# clock; iso: the same instant as ISO 8601 text with its offset; date: a
# calendar day; money: an amount in major units (Decimal) beside a currency
# column; number: a count or a measure; bool: yes or no.
KINDS = ("text", "time", "iso", "date", "money", "number", "bool")


@dataclass(frozen=True)
class Context:
    lang: str
    zone: ZoneInfo

    def label(self, group: str, code) -> str:
        return labels.label(group, code, self.lang)


@dataclass(frozen=True)
class Column:
    header: str
    kind: str
    value: Callable[[Any, Context], Any]


def time_columns(header: str, iso_header: str, read: Callable[[Any], datetime | None]):
    """A moment as two columns: the reader's wall clock (what a person
    reads and a spreadsheet sorts) and ISO 8601 with the offset (what a
    program parses without guessing the zone)."""
    return (Column(header, "time", lambda row, ctx: read(row)),
            Column(iso_header, "iso", lambda row, ctx: read(row)))


def major_units(minor: int | None, currency: str | None) -> Decimal | None:
    """Minor units (docs/protocol.md) as the amount a person writes:
    100000 TWD cents is 1000.00."""
    if minor is None:
        return None
    return Decimal(int(minor)).scaleb(-get_currency_precision((currency or "USD").upper()))


def local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return moment.astimezone(zone) if moment is not None else None
