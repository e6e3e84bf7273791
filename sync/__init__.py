"""The sync core: hybrid logical clocks, the per-field merge decision and the
protocol's value types. Plain Python with no Flask or database import, so it
can be unit- and property-tested on its own and reused by any server."""

from .hlc import HLC, HybridClock, InvalidHLC
from .merge import FieldClock, FieldDecision, MergeOutcome, decide_fields

__all__ = [
    "HLC",
    "HybridClock",
    "InvalidHLC",
    "FieldClock",
    "FieldDecision",
    "MergeOutcome",
    "decide_fields",
]
