"""Byte ranges of a chunked upload: parsing ``Content-Range`` and working
out what is held and what is missing."""

from __future__ import annotations

import re

CONTENT_RANGE = re.compile(r"^bytes (\d{1,15})-(\d{1,15})/(\d{1,15})\Z")


def parse_content_range(header: str | None) -> tuple[int, int, int] | None:
    """``bytes <first>-<last>/<total>`` as (first, last, total), or None when
    it is missing or malformed (first after last, last past the total)."""
    found = CONTENT_RANGE.match((header or "").strip())
    if not found:
        return None
    first, last, total = (int(g) for g in found.groups())
    if first > last or last >= total:
        return None
    return first, last, total


def merged(ranges) -> list[tuple[int, int]]:
    """Inclusive ranges joined where they overlap or touch."""
    out: list[list[int]] = []
    for first, last in sorted(ranges):
        if out and first <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], last)
        else:
            out.append([first, last])
    return [(a, b) for a, b in out]


def missing(ranges, size: int) -> list[list[int]]:
    """The inclusive ranges of ``0..size-1`` not covered by ``ranges``."""
    gaps, at = [], 0
    for first, last in merged(ranges):
        if first > at:
            gaps.append([at, first - 1])
        at = max(at, last + 1)
    if at < size:
        gaps.append([at, size - 1])
    return gaps


def held(ranges, size: int) -> int:
    return size - sum(last - first + 1 for first, last in missing(ranges, size))
