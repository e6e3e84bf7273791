"""Hybrid logical clock in the protocol's string form ``<ms>:<counter>:<node>``.

``ms`` is 13 decimal digits and ``counter`` 4 lower-case hex digits, both of
fixed width, so plain string comparison orders two clocks — the property the
merge rules and every outside client rely on.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

# ASCII digits only and ``\Z`` (not ``$``, which also matches before a final
# newline): anything else would parse to a clock whose string sorts apart
# from its numbers, and string order is what every comparison uses.
HLC_PATTERN = re.compile(r"^([0-9]{13}):([0-9a-f]{4}):([A-Za-z0-9-]{1,64})\Z")
MAX_COUNTER = 0xFFFF


class InvalidHLC(ValueError):
    """A string that is not an HLC of the protocol's form."""


@dataclass(frozen=True, order=True)
class HLC:
    ms: int
    counter: int
    node: str

    @classmethod
    def parse(cls, text: str) -> HLC:
        if not isinstance(text, str):
            raise InvalidHLC("an HLC is a string")
        match = HLC_PATTERN.match(text)
        if match is None:
            raise InvalidHLC(
                "not an HLC of the form <13-digit ms>:<4 hex digits>:<node>"
            )
        return cls(int(match.group(1)), int(match.group(2), 16), match.group(3))

    def __str__(self) -> str:
        return f"{self.ms:013d}:{self.counter:04x}:{self.node}"


def is_valid(text: object) -> bool:
    return isinstance(text, str) and HLC_PATTERN.match(text) is not None


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class HybridClock:
    """One node's clock: ``send`` stamps a local event, ``receive`` merges a
    remote stamp so that every later local stamp orders after it.

    Thread-safe, because one server process stamps answers from many threads.
    The counter is bounded by its four hex digits; on overflow the clock moves
    its millisecond forward instead of wrapping, which keeps the order.
    """

    def __init__(self, node: str, now_ms=wall_ms):
        self.node = node
        self._now_ms = now_ms
        self._ms = 0
        self._counter = 0
        self._lock = threading.Lock()

    def _advance(self, ms: int, counter: int) -> HLC:
        if counter > MAX_COUNTER:
            ms, counter = ms + 1, 0
        self._ms, self._counter = ms, counter
        return HLC(ms, counter, self.node)

    def send(self) -> HLC:
        with self._lock:
            now = self._now_ms()
            if now > self._ms:
                return self._advance(now, 0)
            return self._advance(self._ms, self._counter + 1)

    def receive(self, remote: HLC | str) -> HLC:
        if isinstance(remote, str):
            remote = HLC.parse(remote)
        with self._lock:
            now = self._now_ms()
            top = max(now, self._ms, remote.ms)
            if top == self._ms == remote.ms:
                counter = max(self._counter, remote.counter) + 1
            elif top == self._ms:
                counter = self._counter + 1
            elif top == remote.ms:
                counter = remote.counter + 1
            else:
                counter = 0
            return self._advance(top, counter)

    def peek(self) -> HLC:
        with self._lock:
            return HLC(self._ms, self._counter, self.node)
