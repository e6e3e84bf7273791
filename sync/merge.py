"""The per-field merge decision of the protocol ("Merge rules").

Given what the server knows of each field (the version, HLC and writer of its
last change) and one incoming mutation, decide field by field whether the
incoming value is taken, and which concurrent writes must be kept as
conflicts. Nothing here touches storage: the caller applies the outcome.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# Statuses that win a concurrent write whatever the clocks say, per entity and
# field. A recorded visit happened, so a cancellation that crossed it loses.
DOMAIN_PRECEDENCE: dict[tuple[str, str], tuple[Any, ...]] = {
    ("visit", "status"): ("done",),
}

RULE_DOMAIN = "domain_precedence"
RULE_HLC = "last_writer_wins_hlc"

# Fields whose value is a set of items (a list on the wire, sent whole). A
# concurrent write merges item by item against the value its writer last
# saw, instead of one whole list winning: two phones adding a window each
# keep both, and an item one side removed stays removed (docs/rules.md,
# "Do-not-visit windows"). Nothing is lost, so it is no conflict.
SET_FIELDS: frozenset[tuple[str, str]] = frozenset({("account", "do_not_visit")})

# A FieldDecision that carries no merged value.
NOT_MERGED: Any = object()


def set_item_key(item: Any) -> str:
    """An item of a set field, as the text two equal items share."""
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def merge_set(base: Iterable[Any] | None, current: Iterable[Any] | None,
              incoming: Iterable[Any] | None) -> list[Any]:
    """Three-way merge of a set: ``current`` (the stored value), without the
    items the incoming writer removed from ``base`` (the value it last saw),
    with the items it added; sorted by item, each item once."""
    base_keys = {set_item_key(x) for x in base or ()}
    incoming = list(incoming or ())
    incoming_keys = {set_item_key(x) for x in incoming}
    removed = base_keys - incoming_keys
    merged = {set_item_key(x): x for x in current or () if set_item_key(x) not in removed}
    for item in incoming:
        key = set_item_key(item)
        if key not in base_keys:
            merged.setdefault(key, item)
    return [merged[key] for key in sorted(merged)]


class FieldClock(NamedTuple):
    """What the server remembers of one field's last change (a tuple: one
    is made for each field of each record a push touches)."""

    version: int
    hlc: str
    client_id: str


@dataclass(slots=True)
class FieldDecision:
    """One field's decision; made once per field of a change, never changed."""

    field: str
    take: bool  # write the incoming value
    concurrent: bool
    kept: Any = None
    lost: Any = None
    rule: str | None = None
    # Clock of the value that was kept, so the loser can be stored beside it.
    other_clock: FieldClock | None = None
    # For a set field written concurrently: the merged value to write.
    merged: Any = NOT_MERGED


@dataclass
class MergeOutcome:
    decisions: list[FieldDecision] = field(default_factory=list)

    # Read once the decisions are all made (``decide_fields`` returns).
    @functools.cached_property
    def taken(self) -> dict[str, FieldDecision]:
        return {d.field: d for d in self.decisions if d.take}

    @functools.cached_property
    def conflicts(self) -> list[FieldDecision]:
        return [d for d in self.decisions if d.concurrent and d.rule is not None]

    @functools.cached_property
    def concurrent(self) -> frozenset[str]:
        return frozenset(d.field for d in self.decisions if d.concurrent)

    @property
    def merged_values(self) -> dict[str, Any]:
        """Values to write instead of the incoming ones (set fields)."""
        return {d.field: d.merged for d in self.decisions if d.merged is not NOT_MERGED}


def merge_status(outcome: MergeOutcome, clocks: Mapping[str, FieldClock], *,
                 base_version: int, client_id: str, new: bool) -> str:
    """The push result of a mutation (docs/protocol.md "Push"): ``conflict`` when a
    concurrent write touched one of its fields, ``merged`` when the record
    moved on since ``base_version`` by another writer in other fields only
    or a set field was merged with items the writer had not seen, else
    ``applied``."""
    if outcome.conflicts:
        return "conflict"
    if outcome.merged_values:
        return "merged"  # a set field kept items the writer had not seen
    if not new and any(c.version > base_version and c.client_id != client_id
                       for c in clocks.values()):
        return "merged"
    return "applied"


def advance_clocks(clocks: Mapping[str, FieldClock], names, *, version: int, hlc: str,
                   client_id: str) -> dict[str, FieldClock]:
    """The field clocks after a write by ``client_id`` at ``hlc`` that takes
    ``names``; ``version`` is the record's version after the write (its
    current one plus one).

    A taken write of the value already there changes nothing, yet it is a
    write: its clock must be remembered, or a concurrent write with an
    older clock arriving next looks sequential (or wins) and the result
    depends on arrival order. Its field moves to ``version`` too, even
    when nothing else changed and no new version is made, so any writer
    who had not seen this one is treated as concurrent and the clocks
    decide."""
    advanced = dict(clocks)
    for name in names:
        advanced[name] = FieldClock(version, hlc, client_id)
    return advanced


def _precedence_winner(entity: str, name: str, current: Any, incoming: Any) -> str | None:
    preferred = DOMAIN_PRECEDENCE.get((entity, name))
    if not preferred:
        return None
    cur_pref, inc_pref = current in preferred, incoming in preferred
    if cur_pref and not inc_pref:
        return "current"
    if inc_pref and not cur_pref:
        return "incoming"
    return None


def decide_fields(
    *,
    entity: str,
    base_version: int,
    client_id: str,
    hlc: str,
    incoming: Mapping[str, Any],
    current: Mapping[str, Any],
    clocks: Mapping[str, FieldClock],
    equal: Callable[[Any, Any], bool] = lambda a, b: a == b,
    base: Callable[[str], Any] | None = None,
) -> MergeOutcome:
    """Decide each incoming field.

    * unchanged since ``base_version``, or last changed by the same client →
      take the incoming value (a client's own writes are ordered by ``seq``);
    * changed since then by another client → concurrent: domain precedence,
      else the greater HLC wins; the other value is reported as lost unless
      both values are equal (then nothing is lost, and the greater HLC is
      "taken" so that the field's clock moves to it).

    ``base_version`` 0 means the writer has seen nothing of the record, so
    every field another client ever wrote is concurrent.

    A set field (``SET_FIELDS``) changed since ``base_version`` is merged item
    by item (``merge_set``) with ``base(name)``, its value at that version;
    the decision carries the result in ``merged`` and is no conflict.
    """
    outcome = MergeOutcome()
    for name, value in incoming.items():
        clock = clocks.get(name)
        if (entity, name) in SET_FIELDS and clock is not None and clock.version > base_version:
            # Changed since the writer's base — by anyone, its own earlier
            # mutations included, since each carries the whole list it knew
            # at that base: merge against the base, never overwrite.
            seen = base(name) if base is not None else None
            merged = merge_set(seen, current.get(name), value)
            outcome.decisions.append(FieldDecision(
                name, take=True, concurrent=clock.client_id != client_id,
                merged=NOT_MERGED if merged == list(value or ()) else merged))
            continue
        if clock is None or clock.version <= base_version or clock.client_id == client_id:
            outcome.decisions.append(FieldDecision(name, take=True, concurrent=False))
            continue
        existing = current.get(name)
        if equal(existing, value):
            # Both writers agree: nothing is lost. The newer clock is taken
            # all the same (the caller moves the field's clock to it), or a
            # third write between the two stamps would win or lose
            # depending on arrival order.
            outcome.decisions.append(FieldDecision(name, take=hlc > clock.hlc, concurrent=True))
            continue
        winner = _precedence_winner(entity, name, existing, value)
        rule = RULE_DOMAIN
        if winner is None:
            rule = RULE_HLC
            winner = "incoming" if hlc > clock.hlc else "current"
        if winner == "incoming":
            decision = FieldDecision(
                name, take=True, concurrent=True, kept=value, lost=existing,
                rule=rule, other_clock=clock,
            )
        else:
            decision = FieldDecision(
                name, take=False, concurrent=True, kept=existing, lost=value,
                rule=rule, other_clock=clock,
            )
        outcome.decisions.append(decision)
    return outcome
