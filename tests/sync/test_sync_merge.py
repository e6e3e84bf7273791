"""The per-field merge decision (docs/protocol.md "Merge rules"), as a table and
as properties, on the pure sync core with no server around it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.merge import (
    RULE_DOMAIN,
    RULE_HLC,
    FieldClock,
    advance_clocks,
    decide_fields,
    merge_status,
)

A, B = "client-a", "client-b"
EARLY, LATE = "1764400000000:0000:x", "1764400000001:0000:x"


def decide(incoming, current, clocks, *, base=1, client=A, hlc=LATE, entity="visit"):
    return decide_fields(entity=entity, base_version=base, client_id=client, hlc=hlc,
                         incoming=incoming, current=current, clocks=clocks)


def status_of(outcome, clocks, base=1, client=A, new=False):
    return merge_status(outcome, clocks, base_version=base, client_id=client, new=new)


def only(outcome):
    assert len(outcome.decisions) == 1
    return outcome.decisions[0]


def test_field_never_written_is_taken():
    d = only(decide({"notes": "new"}, {"notes": None}, {}))
    assert d.take and not d.concurrent and d.rule is None


@pytest.mark.parametrize("clock_version,base", [(1, 1), (1, 3), (3, 3)])
def test_unchanged_since_base_is_taken_whoever_wrote_it(clock_version, base):
    clocks = {"notes": FieldClock(clock_version, LATE, B)}
    outcome = decide({"notes": "new"}, {"notes": "old"}, clocks, base=base, hlc=EARLY)
    d = only(outcome)
    assert d.take and not d.concurrent
    assert status_of(outcome, clocks, base) == "applied" and outcome.conflicts == []


def test_last_written_by_the_same_client_is_taken_even_with_an_older_clock_and_base():
    # The client's own earlier write is sequential (ordered by seq), never a
    # conflict, even when it never saw the version its own write made.
    clocks = {"notes": FieldClock(5, LATE, A)}
    d = only(decide({"notes": "new"}, {"notes": "old"}, clocks, base=0, hlc=EARLY))
    assert d.take and not d.concurrent


@pytest.mark.parametrize("incoming_hlc,incoming_wins", [(LATE, True), (EARLY, False)])
def test_concurrent_change_greater_hlc_wins_and_the_other_is_lost(incoming_hlc, incoming_wins):
    existing_hlc = EARLY if incoming_wins else LATE
    clocks = {"notes": FieldClock(2, existing_hlc, B)}
    outcome = decide({"notes": "mine"}, {"notes": "theirs"}, clocks, base=1, hlc=incoming_hlc)
    d = only(outcome)
    assert d.concurrent and d.rule == RULE_HLC and d.take is incoming_wins
    assert (d.kept, d.lost) == (("mine", "theirs") if incoming_wins else ("theirs", "mine"))
    assert d.other_clock == clocks["notes"]
    assert status_of(outcome, clocks) == "conflict" and outcome.conflicts == [d]
    assert (outcome.taken == {"notes": d}) is incoming_wins


def test_equal_hlc_strings_keep_the_existing_value():
    # Not strictly greater: the incoming value loses, and is kept as lost.
    clocks = {"notes": FieldClock(2, LATE, B)}
    d = only(decide({"notes": "mine"}, {"notes": "theirs"}, clocks, hlc=LATE))
    assert not d.take and d.lost == "mine"


@pytest.mark.parametrize("incoming,existing,incoming_hlc", [
    ("done", "cancelled", EARLY),   # done arrives with the older clock and still wins
    ("done", "missed", EARLY),
    ("cancelled", "done", LATE),    # done is there; a newer cancellation loses
    ("planned", "done", LATE),
])
def test_done_takes_precedence_both_directions_whatever_the_clocks(incoming, existing, incoming_hlc):
    existing_hlc = LATE if incoming_hlc == EARLY else EARLY
    clocks = {"status": FieldClock(2, existing_hlc, B)}
    d = only(decide({"status": incoming}, {"status": existing}, clocks, hlc=incoming_hlc))
    assert d.concurrent and d.rule == RULE_DOMAIN
    assert d.kept == "done" and d.lost == (existing if incoming == "done" else incoming)
    assert d.take is (incoming == "done")


def test_precedence_is_only_for_visit_status():
    clocks = {"status": FieldClock(2, LATE, B)}
    d = only(decide({"status": "done"}, {"status": "cancelled"}, clocks, hlc=EARLY, entity="payment"))
    assert d.rule == RULE_HLC and not d.take


def test_two_non_done_statuses_fall_back_to_the_clock():
    clocks = {"status": FieldClock(2, EARLY, B)}
    d = only(decide({"status": "missed"}, {"status": "cancelled"}, clocks, hlc=LATE))
    assert d.rule == RULE_HLC and d.take


def test_equal_values_are_no_conflict_and_keep_the_existing_clock():
    clocks = {"notes": FieldClock(2, LATE, B)}
    outcome = decide({"notes": "same"}, {"notes": "same"}, clocks, hlc=EARLY)
    d = only(outcome)
    assert d.concurrent and not d.take and d.rule is None
    # Another writer moved the record on (to the same value): merged, not a conflict.
    assert outcome.conflicts == [] and status_of(outcome, clocks) == "merged"


def test_equal_value_with_a_newer_clock_is_taken_so_the_clock_moves_on():
    # Taking it (without a conflict) moves the field's clock to the newer
    # stamp; otherwise a third write between the two clocks would beat the
    # newest one in some arrival orders and not in others.
    clocks = {"notes": FieldClock(2, EARLY, B)}
    outcome = decide({"notes": "same"}, {"notes": "same"}, clocks, hlc=LATE)
    d = only(outcome)
    assert d.take and d.concurrent and d.rule is None
    assert outcome.conflicts == [] and status_of(outcome, clocks) == "merged"


def test_custom_equality_is_used_for_equal_values():
    clocks = {"arrived_at": FieldClock(2, LATE, B)}
    outcome = decide_fields(entity="visit", base_version=1, client_id=A, hlc=EARLY,
                            incoming={"arrived_at": "10:00+08"}, current={"arrived_at": "02:00Z"},
                            clocks=clocks, equal=lambda a, b: True)
    assert outcome.conflicts == []


def test_base_zero_on_an_existing_record_is_concurrent_on_every_field_it_sets():
    clocks = {"notes": FieldClock(1, LATE, B), "plan_notes": FieldClock(1, LATE, B),
              "account_id": FieldClock(1, LATE, B)}
    current = {"notes": "n", "plan_notes": "p", "account_id": "acc"}
    outcome = decide({"notes": "x", "plan_notes": "y", "account_id": "acc"}, current, clocks,
                     base=0, hlc=EARLY)
    by_field = {d.field: d for d in outcome.decisions}
    assert all(d.concurrent for d in by_field.values())
    assert {d.field for d in outcome.conflicts} == {"notes", "plan_notes"}  # equal account_id: none
    assert outcome.taken == {}


def test_mixed_mutation_decides_each_field_on_its_own():
    clocks = {"notes": FieldClock(3, LATE, B), "plan_notes": FieldClock(1, LATE, B)}
    outcome = decide({"notes": "mine", "plan_notes": "mine", "scheduled_at": "t"},
                     {"notes": "theirs", "plan_notes": "old"}, clocks, base=2, hlc=EARLY)
    assert set(outcome.taken) == {"plan_notes", "scheduled_at"}
    assert [(c.field, c.kept, c.lost) for c in outcome.conflicts] == [("notes", "theirs", "mine")]
    assert status_of(outcome, clocks, base=2) == "conflict"


# Property: whatever the clocks, nothing is lost — every concurrent field
# with different values yields exactly one conflict naming both values, and
# the value kept is the one that the decision writes (or leaves).
values = st.sampled_from(["planned", "done", "missed", "cancelled", None])
hlc_text = st.builds(lambda ms, c, n: f"{ms:013d}:{c:04x}:{n}",
                     st.integers(0, 50), st.integers(0, 3), st.sampled_from(["a", "b", "c"]))


@given(incoming=values, existing=values, inc_hlc=hlc_text, cur_hlc=hlc_text,
       clock_version=st.integers(1, 4), base=st.integers(0, 4),
       writer=st.sampled_from([A, B]))
def test_property_nothing_lost_and_winner_is_deterministic(incoming, existing, inc_hlc, cur_hlc,
                                                          clock_version, base, writer):
    clocks = {"status": FieldClock(clock_version, cur_hlc, writer)}
    d = only(decide({"status": incoming}, {"status": existing}, clocks, base=base, hlc=inc_hlc))
    sequential = clock_version <= base or writer == A
    if sequential:
        assert d.take and not d.concurrent
        return
    assert d.concurrent
    if incoming == existing:
        assert d.rule is None and d.take is (inc_hlc > cur_hlc)
        return
    assert {d.kept, d.lost} == {incoming, existing}
    assert d.kept == (incoming if d.take else existing)
    if "done" in (incoming, existing):
        assert d.kept == "done" and d.rule == RULE_DOMAIN
    else:
        assert d.take is (inc_hlc > cur_hlc) and d.rule == RULE_HLC


def apply_all(writes):
    """Fold concurrent writes (value, hlc, client), all from base version 1,
    through the decision the way the server stores its outcome."""
    value, clock = None, None
    for version, (incoming, stamp, client) in enumerate(writes, start=2):
        if clock is None:
            value, clock = incoming, FieldClock(version, stamp, client)
            continue
        d = only(decide_fields(entity="visit", base_version=1, client_id=client, hlc=stamp,
                               incoming={"status": incoming}, current={"status": value},
                               clocks={"status": clock}))
        if d.take:
            value, clock = incoming, FieldClock(version, stamp, client)
    return value


@given(st.lists(st.tuples(values, hlc_text), min_size=1, max_size=4, unique_by=lambda w: w[1]),
       st.randoms(use_true_random=False))
def test_property_concurrent_writers_converge_whichever_arrives_first(writes, rnd):
    """Any arrival order of concurrent writes (one per device) keeps the
    same value: done if any, else the greatest clock's."""
    writes = [(v, h, f"client-{i}") for i, (v, h) in enumerate(writes)]
    shuffled = list(writes)
    rnd.shuffle(shuffled)
    assert apply_all(writes) == apply_all(shuffled)


@pytest.mark.parametrize("clocks,base,new,expected", [
    ({}, 0, True, "applied"),
    # A record created by another writer that this one never saw is no
    # merge: a new record has no base to have moved on from.
    ({"notes": FieldClock(1, LATE, B)}, 0, True, "applied"),
    ({"plan_notes": FieldClock(2, LATE, B)}, 1, False, "merged"),
    ({"plan_notes": FieldClock(2, LATE, B)}, 2, False, "applied"),
    ({"plan_notes": FieldClock(2, LATE, A)}, 1, False, "applied"),  # its own write
])
def test_merge_status_without_conflicts(clocks, base, new, expected):
    outcome = decide({"notes": "mine"}, {"notes": None}, {}, base=base)
    assert merge_status(outcome, clocks, base_version=base, client_id=A, new=new) == expected


def test_advance_clocks_moves_the_taken_fields_to_the_writer_at_the_next_version():
    clocks = {"notes": FieldClock(1, EARLY, B), "plan_notes": FieldClock(1, EARLY, B)}
    moved = advance_clocks(clocks, ["notes"], version=2, hlc=LATE, client_id=A)
    assert moved == {"notes": FieldClock(2, LATE, A), "plan_notes": FieldClock(1, EARLY, B)}
    assert clocks["notes"] == FieldClock(1, EARLY, B)  # the input is left as it was
