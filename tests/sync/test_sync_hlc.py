"""The hybrid logical clock of the sync core (docs/protocol.md "Hybrid logical
clock"): its string form, its order, and the send/receive rules."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.hlc import HLC, MAX_COUNTER, HybridClock, InvalidHLC, is_valid

# Any wall clock a 13-digit field can hold, counters of 4 hex digits, and node
# names of the protocol's alphabet (client ids are UUIDs, the server "server").
ms_values = st.integers(min_value=0, max_value=10**13 - 1)
counters = st.integers(min_value=0, max_value=MAX_COUNTER)
nodes = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
                min_size=1, max_size=64)
hlcs = st.builds(HLC, ms_values, counters, nodes)


class FakeWall:
    """A wall clock the test moves by hand (it may also go backwards, as a
    phone's clock does when the user fixes it)."""

    def __init__(self, ms: int):
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


@given(hlcs)
def test_format_then_parse_is_the_identity(clock):
    text = str(clock)
    assert is_valid(text)
    assert HLC.parse(text) == clock
    assert str(HLC.parse(text)) == text


def test_format_is_fixed_width_lower_case_hex():
    assert str(HLC(1764400000000, 0xABC, "server")) == "1764400000000:0abc:server"
    assert str(HLC(5, 1, "n")) == "0000000000005:0001:n"


@given(hlcs, hlcs)
def test_string_order_is_the_order_of_ms_counter_node(a, b):
    # The merge compares HLC strings directly, and so may any outside
    # client: that is only sound if string order is the tuple order.
    assert (str(a) < str(b)) == ((a.ms, a.counter, a.node) < (b.ms, b.counter, b.node))
    assert (str(a) == str(b)) == (a == b)


@pytest.mark.parametrize("text", [
    "", "1764400000000:0000", "176440000000:0000:n", "17644000000000:0000:n",
    "1764400000000:000:n", "1764400000000:0000A:n", "1764400000000:00AB:n",
    "1764400000000:0000:", "1764400000000:0000:no spaces", "1764400000000:0000:" + "x" * 65,
    "-764400000000:0000:n", "1764400000000:0000:n\n", " 1764400000000:0000:n",
    # Non-ASCII digits: "\\d" would take them and int() would read them, yet
    # as strings they sort after every ASCII clock, so such a stamp would win
    # every conflict while parsing to an innocent-looking time.
    "\u0661\u0667\u0666\u0664\u0664\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660:0000:n",
    "1764400000000:0000:n\u00e9",
])
def test_parse_refuses_what_is_not_the_protocol_form(text):
    assert not is_valid(text)
    with pytest.raises(InvalidHLC):
        HLC.parse(text)


@pytest.mark.parametrize("value", [None, 1764400000000, b"1764400000000:0000:n"])
def test_parse_refuses_non_strings(value):
    assert not is_valid(value)
    with pytest.raises(InvalidHLC):
        HLC.parse(value)


@given(st.lists(st.integers(min_value=-5_000, max_value=5_000), min_size=1, max_size=60))
def test_send_is_strictly_monotonic_whatever_the_wall_clock_does(steps):
    wall = FakeWall(1_764_400_000_000)
    clock = HybridClock("phone", now_ms=wall)
    previous = clock.send()
    for step in steps:
        wall.ms = max(0, wall.ms + step)
        stamp = clock.send()
        assert stamp > previous and str(stamp) > str(previous)
        assert stamp.ms >= wall.ms  # never behind the wall clock
        previous = stamp


def test_send_uses_the_wall_clock_when_it_moved_on_and_bumps_the_counter_on_ties():
    wall = FakeWall(1000)
    clock = HybridClock("n", now_ms=wall)
    assert clock.send() == HLC(1000, 0, "n")
    assert clock.send() == HLC(1000, 1, "n")
    wall.ms = 999  # the clock went back: keep our time, bump the counter
    assert clock.send() == HLC(1000, 2, "n")
    wall.ms = 2000
    assert clock.send() == HLC(2000, 0, "n")


@given(ms_values, counters, st.integers(min_value=0, max_value=10**13 - 1))
def test_receive_moves_past_the_remote_and_the_local_clock(remote_ms, remote_counter, wall_ms):
    wall = FakeWall(wall_ms)
    clock = HybridClock("server", now_ms=wall)
    before = clock.send()
    remote = HLC(remote_ms, remote_counter, "phone")
    merged = clock.receive(str(remote))  # the string form, as it arrives
    assert (merged.ms, merged.counter) > (remote.ms, remote.counter)
    assert merged > before
    assert clock.send() > merged  # and everything stamped later too


def test_receive_takes_the_greatest_of_wall_local_and_remote():
    wall = FakeWall(1000)
    clock = HybridClock("s", now_ms=wall)
    clock.send()  # (1000, 0)
    assert clock.receive(HLC(5000, 7, "p")) == HLC(5000, 8, "s")  # remote ahead
    assert clock.receive(HLC(5000, 3, "p")) == HLC(5000, 9, "s")  # same ms: max counter + 1
    assert clock.receive(HLC(10, 0, "p")) == HLC(5000, 10, "s")  # remote behind
    wall.ms = 9000
    assert clock.receive(HLC(10, 0, "p")) == HLC(9000, 0, "s")  # wall ahead of both


def test_counter_overflow_moves_the_millisecond_instead_of_wrapping():
    wall = FakeWall(1000)
    clock = HybridClock("n", now_ms=wall)
    clock.receive(HLC(1000, MAX_COUNTER - 1, "p"))  # counter now MAX_COUNTER
    assert clock.peek() == HLC(1000, MAX_COUNTER, "n")
    after = clock.send()
    assert after == HLC(1001, 0, "n")
    assert str(after) > str(HLC(1000, MAX_COUNTER, "n"))
    # Receiving a remote at the top counter overflows the same way.
    assert clock.receive(HLC(1001, MAX_COUNTER, "p")) == HLC(1002, 0, "n")


def test_every_stamp_formats_to_a_valid_protocol_string_even_after_overflow():
    wall = FakeWall(1000)
    clock = HybridClock("n", now_ms=wall)
    stamps = [clock.send() for _ in range(MAX_COUNTER + 5)]
    assert all(is_valid(str(s)) for s in stamps)
    assert [str(s) for s in stamps] == sorted(str(s) for s in stamps)
    assert len(set(stamps)) == len(stamps)


def test_clock_is_thread_safe_no_two_stamps_equal():
    import threading

    clock = HybridClock("server", now_ms=lambda: 1000)
    stamps, lock = [], threading.Lock()

    def work():
        mine = [clock.send() for _ in range(2000)]
        with lock:
            stamps.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(stamps)) == len(stamps) == 8000
