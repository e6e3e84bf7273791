"""Set fields (an account's do-not-visit windows): concurrent lists merge item
by item against what each writer last saw, so no added item is lost and a
removed one stays removed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync.merge import FieldClock, decide_fields, merge_set, merge_status

A, B, C = ({"from": f"2026-12-0{i}T00:00:00+00:00", "to": f"2026-12-0{i}T12:00:00+00:00",
            "reason": r} for i, r in ((1, "wedding"), (2, "funeral"), (3, "hospital")))


def decide(incoming, current, clock, base_version, client="phone-2", base=()):
    return decide_fields(entity="account", base_version=base_version, client_id=client,
                         hlc="1764400000000:0000:" + client, incoming={"do_not_visit": incoming},
                         current={"do_not_visit": current}, clocks={"do_not_visit": clock},
                         base=lambda name: list(base))


def test_two_devices_adding_a_window_each_keep_both():
    # Both saw no windows (version 3); phone-1's [A] is stored at version 4.
    outcome = decide([B], [A], FieldClock(4, "1764400009999:0000:phone-1", "phone-1"), 3)
    assert outcome.merged_values == {"do_not_visit": [A, B]}
    assert outcome.conflicts == []  # nothing lost: no conflict to resolve
    assert merge_status(outcome, {"do_not_visit": FieldClock(4, "x", "phone-1")},
                        base_version=3, client_id="phone-2", new=False) == "merged"


def test_a_window_the_office_removed_stays_removed_when_a_phone_adds_one():
    # The phone saw [A] and adds B; meanwhile the supervisor removed A.
    outcome = decide([A, B], [], FieldClock(5, "1764400009999:0000:server", "server"), 4, base=[A])
    assert outcome.merged_values == {"do_not_visit": [B]}


def test_the_same_device_sending_twice_from_one_base_merges_too():
    # Two adds made offline on one phone, both based on version 4 ([A]);
    # the office added C at version 5, the first add was merged at 6. The
    # second list is the phone's whole list, not a removal of C.
    outcome = decide([A, B], [A, B, C], FieldClock(6, "h", "phone-2"), 4, base=[A])
    assert outcome.merged_values["do_not_visit"] == [A, B, C]
    # A list that already holds everything is written as sent: nothing merged.
    outcome = decide([A, B, C], [A, B, C], FieldClock(6, "h", "phone-2"), 4, base=[A])
    assert outcome.merged_values == {} and outcome.taken["do_not_visit"]


def test_unchanged_since_the_base_takes_the_list_as_sent():
    outcome = decide([B], [A], FieldClock(2, "h", "phone-1"), 3)
    assert outcome.merged_values == {} and outcome.taken["do_not_visit"]


def test_other_fields_still_follow_the_clocks():
    outcome = decide_fields(entity="account", base_version=1, client_id="p2", hlc="1:0000:p2",
                            incoming={"notes": "x"}, current={"notes": "y"},
                            clocks={"notes": FieldClock(2, "9:0000:p1", "p1")}, base=lambda n: [])
    assert outcome.conflicts and outcome.merged_values == {}


items = st.sampled_from([A, B, C])
lists = st.lists(items, max_size=3)


@given(base=lists, mine=lists, theirs=lists)
def test_merge_keeps_every_addition_and_every_removal(base, mine, theirs):
    key = lambda x: x["reason"]  # noqa: E731
    merged = {key(x) for x in merge_set(base, theirs, mine)}
    b, m, t = ({key(x) for x in v} for v in (base, mine, theirs))
    assert (m - b) <= merged            # what I added is there
    assert not ((b - m) & merged - (t - b))  # what I removed is gone, unless they added it anew
    assert (t - (b - m)) <= merged      # what they have stays, but for my removals
    assert len(merged) == len(merge_set(base, theirs, mine))  # each once
