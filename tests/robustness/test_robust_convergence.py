"""Convergence of the real server under reordered and repeated pushes
(issue 3, item 1).

Three devices — alice's phone, alice's second device and the supervisor's
browser — work offline on the same few visits and push their outboxes in
random interleavings, with whole batches re-sent as after a lost answer.
Every ordering that keeps each device's own ``seq`` order must end in the
same records, nothing written may vanish (it is final, a conflict's lost
value, replaced by the same device later, or a stored rejection), nothing
is doubled, and each device's ``last_seq`` is its number of mutations.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from server.extensions import db
from server.models import Client, Conflict, HistoryEntry, Payment, RejectedMutation, Visit
from server.services.records import to_wire

from ..helpers import hlc, now_ms

# Fixed ids, so that two runs of one example speak of the same records.
CLIENTS = {
    "p1": ("alice", "11111111-1111-4111-8111-111111111111"),
    "p2": ("alice", "22222222-2222-4222-8222-222222222222"),
    "sup": ("sup", "33333333-3333-4333-8333-333333333333"),
}
SETUP_CLIENT = "44444444-4444-4444-8444-444444444444"
V1, V2, V3 = (f"{n}0000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
# Clocks an hour behind now, spread over a few milliseconds so that
# different devices often tie on ms and the node decides.
BASE_MS = now_ms() - 3600 * 1000

TEXT = st.sampled_from(["a", "b", "c"])  # few values: equal concurrent writes happen
TIMES = ["2026-11-30T01:00:00+00:00", "2026-11-30T02:00:00+00:00", "2026-11-30T06:00:00+00:00"]
EDIT_FIELDS = {
    "plan_notes": TEXT,
    "notes": TEXT,
    "met_name": TEXT,
    "waited_minutes": st.integers(0, 2),
    "scheduled_at": st.sampled_from(TIMES),
    "status": st.sampled_from(["planned", "missed", "cancelled"]),
}
DONE = {"status": "done", "arrived_at": "2026-11-30T01:50:00+00:00", "met": "original_contact",
        "result": "refused", "conduct_confirmed": True}
# Writable fields compared between runs (flags are derived from other
# records and versions count accepted changes, so both may differ).
VISIT_FIELDS = ["account_id", "collector_id", "scheduled_at", "status", "plan_notes", "notes",
                "met_name", "waited_minutes", "arrived_at", "met", "result", "conduct_confirmed"]
PAYMENT_FIELDS = ["account_id", "amount", "method", "collected_at", "status", "collector_id"]


@dataclass
class Op:
    entity: str
    record: str
    fields: dict
    base: int
    rejected: bool = False  # the generator knows it is invalid whatever the order


@dataclass
class Stream:
    name: str
    ops: list = field(default_factory=list)
    hlcs: list = field(default_factory=list)


class Ids:
    """Distinct ids for the records an example creates: devices make
    random UUIDs, which never collide, while hypothesis's small integers
    would (and two entities sharing an id is not a case the protocol has)."""

    def __init__(self):
        self.made = 0

    def __call__(self, _draw=None) -> str:
        self.made += 1
        return str(uuid.UUID(int=(0xABC << 100) | self.made, version=4))


@st.composite
def streams(draw, accounts_key="accounts"):
    """Three devices' offline outboxes. Only whole-record facts each device
    could know: the three pre-existing visits at version 1, and records it
    created itself (edited with base 0 before any pull)."""
    result = {}
    new_uuid = Ids()
    for name in CLIENTS:
        stream = Stream(name)
        own_visits: list[str] = []
        done_sent = False
        ms = BASE_MS + draw(st.integers(0, 3))
        for _ in range(draw(st.integers(0, 7))):
            kind = draw(st.sampled_from(
                ["edit", "edit", "edit", "v3", "create", "own", "payment", "bad"]))
            if kind == "edit":
                names = draw(st.lists(st.sampled_from(sorted(EDIT_FIELDS)), min_size=1,
                                      max_size=3, unique=True))
                op = Op("visit", draw(st.sampled_from([V1, V2])),
                        {n: draw(EDIT_FIELDS[n]) for n in names}, 1)
            elif kind == "v3":
                # The third visit is marked done by the phone while the
                # others change only its plan: "done wins" is order-free then.
                if name == "p1" and not done_sent:
                    done_sent = True
                    op = Op("visit", V3, dict(DONE), 1)
                elif name == "p1":
                    op = Op("visit", V3, {"plan_notes": draw(TEXT)}, 1)
                else:
                    op = Op("visit", V3, draw(st.one_of(
                        st.fixed_dictionaries({"status": st.sampled_from(["missed", "cancelled", "planned"])}),
                        st.fixed_dictionaries({"plan_notes": TEXT}))), 1)
            elif kind == "create" or (kind == "own" and not own_visits):
                visit = new_uuid(draw)
                own_visits.append(visit)
                account = draw(st.sampled_from(["A-1", "A-2", "A-3"]))
                op = Op("visit", visit, {"account_id": account, "plan_notes": draw(TEXT)}, 0)
            elif kind == "own":
                op = Op("visit", draw(st.sampled_from(own_visits)),
                        {"plan_notes": draw(TEXT), "scheduled_at": draw(st.sampled_from(TIMES))}, 0)
            elif kind == "payment" and name != "sup":
                op = Op("payment", new_uuid(draw), {
                    "account_id": "A-1", "amount": draw(st.integers(1, 3)) * 1000, "method": "cash",
                    "collected_at": "2026-11-30T02:10:00+00:00"}, 0)
            else:
                # Never valid, whatever arrives before it: a field no entity
                # has, or (for a collector) bob's account.
                bad = [Op("visit", V1, {"colour": "red"}, 1, rejected=True)]
                if name != "sup":
                    bad.append(Op("visit", new_uuid(draw), {"account_id": "A-4"}, 0, rejected=True))
                op = draw(st.sampled_from(bad))
            ms += draw(st.integers(0, 2))
            stream.ops.append(op)
            stream.hlcs.append(hlc(ms, CLIENTS[name][1], len(stream.ops)))
        result[name] = stream
    return result


# One delivery: which device, how many new mutations, and how far back the
# batch starts (a retry of a batch whose answer was lost re-sends it whole).
deliveries = st.lists(
    st.tuples(st.sampled_from(sorted(CLIENTS)), st.integers(1, 4), st.sampled_from([0, 0, 0, 1, 3, 9])),
    max_size=14,
)


def wire_mutations(stream: Stream, accounts: dict, start: int, end: int) -> list[dict]:
    out = []
    for index in range(start, end):
        op = stream.ops[index]
        fields = dict(op.fields)
        if "account_id" in fields:
            fields["account_id"] = accounts[fields["account_id"]]
        out.append({"seq": index + 1, "hlc": stream.hlcs[index], "entity": op.entity,
                    "id": op.record, "base_version": op.base, "fields": fields})
    return out


def run(seeded, scenario: dict, schedule: list) -> dict:
    """Fresh database, the three visits, then the deliveries; returns what
    the database holds at the end."""
    seeded.reset()
    web, accounts = seeded.web, seeded.world.accounts

    def push(username, client_id, mutations):
        response = web.post_json("/api/v1/sync/push", {"client_id": client_id, "mutations": mutations},
                                 headers={"Authorization": f"Bearer {seeded.tokens[username]}"})
        body = response.json
        assert body["last_seq"] == mutations[-1]["seq"] or body["last_seq"] > mutations[-1]["seq"]
        for result, sent in zip(body["results"], mutations, strict=True):
            assert result["seq"] == sent["seq"] and result["id"] == sent["id"]
            assert result["status"] in ("applied", "merged", "conflict", "duplicate", "rejected")
        return body

    push("alice", SETUP_CLIENT, [
        {"seq": i + 1, "hlc": hlc(BASE_MS - 10_000, SETUP_CLIENT, i), "entity": "visit", "id": v,
         "base_version": 0, "fields": {"account_id": accounts[ref]}}
        for i, (v, ref) in enumerate(((V1, "A-1"), (V2, "A-2"), (V3, "A-3")))
    ])
    delivered = dict.fromkeys(CLIENTS, 0)
    responses: list[tuple[str, dict, dict]] = []

    def deliver(name, start, end):
        username, client_id = CLIENTS[name]
        batch = wire_mutations(scenario[name], accounts, start, end)
        body = push(username, client_id, batch)
        for result in body["results"]:
            # Sent before the answer that acknowledged it: must be a duplicate.
            if result["seq"] <= delivered[name]:
                assert result["status"] == "duplicate", result
        responses.append((name, batch, body))
        delivered[name] = max(delivered[name], end)

    for name, size, back in schedule:
        total = len(scenario[name].ops)
        start = max(0, delivered[name] - back)
        end = min(total, delivered[name] + size)
        if end > start:
            deliver(name, start, end)
    for name in CLIENTS:  # everyone comes back online in the end
        if delivered[name] < len(scenario[name].ops):
            deliver(name, delivered[name], len(scenario[name].ops))

    with seeded.app.app_context():
        visits = {v.id: v for v in db.session.scalars(select(Visit))}
        payments = {p.id: p for p in db.session.scalars(select(Payment))}
        history = {(entity, record_id): n for entity, record_id, n in db.session.execute(
            select(HistoryEntry.entity, HistoryEntry.record_id, func.count())
            .group_by(HistoryEntry.entity, HistoryEntry.record_id)).all()}
        recorded = {(h.record_id, name, _norm(value)) for h in db.session.scalars(select(HistoryEntry))
                    for name, value in h.changes.items()}
        state = {
            "visits": {i: _pick(to_wire("visit", v), VISIT_FIELDS) for i, v in visits.items()},
            "payments": {i: _pick(to_wire("payment", p), PAYMENT_FIELDS) for i, p in payments.items()},
            "versions": {**{("visit", i): r.version for i, r in visits.items()},
                         **{("payment", i): r.version for i, r in payments.items()}},
            "history": history,
            "recorded": recorded,
            "last_seq": {c.client_id: c.last_seq for c in db.session.scalars(select(Client))},
            "rejected": {(r.client_id, r.seq): r.fields for r in db.session.scalars(select(RejectedMutation))},
            "conflicts": [(c.record_id, c.field, _norm(c.lost_value), _norm(c.kept_value))
                          for c in db.session.scalars(select(Conflict))],
        }
        db.session.remove()
    return state


def _norm(value):
    """Compare instants, not strings (the server may normalise offsets)."""
    if isinstance(value, str) and len(value) > 18 and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _pick(data: dict, names: list[str]) -> dict:
    return {n: _norm(data.get(n)) for n in names}


def check_nothing_lost_nothing_doubled(scenario: dict, state: dict, accounts: dict) -> None:
    for name, stream in scenario.items():
        client_id = CLIENTS[name][1]
        assert state["last_seq"].get(client_id, 0) == len(stream.ops)
        for index, op in enumerate(stream.ops):
            seq = index + 1
            if (client_id, seq) in state["rejected"]:
                assert state["rejected"][(client_id, seq)]  # the fields were kept
                continue
            assert not op.rejected, f"{name} seq {seq} should have been rejected"
            record = state["visits" if op.entity == "visit" else "payments"][op.record]
            later = [o for o in stream.ops[index + 1:] if o.record == op.record]
            for key, raw in op.fields.items():
                value = _norm(accounts[raw] if key == "account_id" else raw)
                if record.get(key) == value:
                    continue
                if any(c[0] == op.record and c[1] == key and c[2] == value for c in state["conflicts"]):
                    continue
                if any(key in o.fields for o in later):
                    continue  # the same device changed it again afterwards
                if (op.record, key, value) in state["recorded"]:
                    # The history holds it: applied (perhaps as a no-op on an
                    # equal value) and later replaced by a writer who had
                    # seen it, which is no loss.
                    continue
                raise AssertionError(f"{name} seq {seq}: {key}={value!r} is neither final "
                                     f"({record.get(key)!r}), in the history, nor a conflict's "
                                     "lost value")
        # Every rejection the generator predicted is stored as rejected.
        for index, op in enumerate(stream.ops):
            if op.rejected:
                assert (client_id, index + 1) in state["rejected"]
    created_visits = {op.record for s in scenario.values() for op in s.ops
                      if op.entity == "visit" and op.base == 0 and not op.rejected}
    created_payments = {op.record for s in scenario.values() for op in s.ops if op.entity == "payment"}
    assert set(state["visits"]) == {V1, V2, V3} | created_visits
    assert set(state["payments"]) == created_payments
    # No change was applied twice: one history row per version.
    for key, version in state["versions"].items():
        assert state["history"][key] == version, key


def describe(scenario: dict) -> str:
    lines = []
    for name, stream in scenario.items():
        for index, (op, stamp) in enumerate(zip(stream.ops, stream.hlcs, strict=True)):
            lines.append(f"{name} seq {index + 1} {stamp.split(':')[0][-3:]}:{stamp.split(':')[1]} "
                         f"{op.entity} {op.record[:8]} base {op.base} {op.fields}")
    return "\n".join(lines)


# Shrinking replays whole HTTP sessions and took minutes on a failure, longer
# than the suite's timeout: report the example as found instead (note()).
@settings(max_examples=40, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenario=streams(), first=deliveries, second=deliveries)
def test_any_interleaving_with_resends_converges_and_loses_nothing(seeded, scenario, first, second):
    note(describe(scenario))
    note(f"first deliveries: {first}\nsecond deliveries: {second}")
    accounts = seeded.world.accounts
    one = run(seeded, scenario, first)
    two = run(seeded, scenario, second)
    check_nothing_lost_nothing_doubled(scenario, one, accounts)
    check_nothing_lost_nothing_doubled(scenario, two, accounts)
    assert one["visits"] == two["visits"]
    assert one["payments"] == two["payments"]
    assert one["last_seq"] == two["last_seq"]
    assert set(one["rejected"]) == set(two["rejected"])
    # The done visit stays done whatever crossed it.
    if any(op.fields.get("status") == "done" for op in scenario["p1"].ops):
        assert one["visits"][V3]["status"] == "done"


def _seeded_visit(seeded):
    seeded.reset()
    alice = seeded.tokens["alice"]
    seeded.web.post_json("/api/v1/sync/push", {"client_id": SETUP_CLIENT, "mutations": [
        {"seq": 1, "hlc": hlc(BASE_MS - 10_000, SETUP_CLIENT), "entity": "visit", "id": V1,
         "base_version": 0, "fields": {"account_id": seeded.world.accounts["A-1"]}}]},
        headers={"Authorization": f"Bearer {alice}"})


def _note(seeded, name, ms, value, seq=1):
    username, client_id = CLIENTS[name]
    body = seeded.web.post_json("/api/v1/sync/push", {"client_id": client_id, "mutations": [
        {"seq": seq, "hlc": hlc(ms, client_id), "entity": "visit", "id": V1, "base_version": 1,
         "fields": {"plan_notes": value}}]},
        headers={"Authorization": f"Bearer {seeded.tokens[username]}"}).json
    return body["results"][0]


def test_equal_concurrent_value_still_carries_its_newer_clock(seeded):
    """Three concurrent writes of one field: p1 "a" at t10, sup "a" at t20,
    p2 "b" at t15. The greatest clock (sup's "a") must win in every order.
    It did not: an equal value was "no conflict" but left the older t10
    clock on the field, so p2's t15 "b" arriving next beat sup's t20 "a"."""
    finals = []
    for order in (["p1", "sup", "p2"], ["p1", "p2", "sup"], ["p2", "sup", "p1"]):
        _seeded_visit(seeded)
        writes = {"p1": (BASE_MS + 10, "a"), "sup": (BASE_MS + 20, "a"), "p2": (BASE_MS + 15, "b")}
        for name in order:
            _note(seeded, name, *writes[name])
        with seeded.app.app_context():
            finals.append(db.session.get(Visit, V1).plan_notes)
            lost = set(db.session.scalars(select(Conflict.lost_value)))
            db.session.remove()
        assert "b" in lost  # p2's value is kept as a conflict in every order
    assert finals == ["a", "a", "a"]


def test_a_no_op_write_with_the_newer_clock_still_wins_in_every_order(seeded):
    """sup sets status "planned" (what it already is) at t322; p1, not
    having seen that, sets "missed" at t321. Max clock: "planned", whichever
    arrives first. It was "missed" when sup's no-op came first: a write
    that changed no value left no clock, so p1's older write looked
    sequential."""
    finals = []
    for order in (["sup", "p1"], ["p1", "sup"]):
        _seeded_visit(seeded)
        writes = {"sup": (BASE_MS + 322, "planned"), "p1": (BASE_MS + 321, "missed")}
        for name in order:
            username, client_id = CLIENTS[name]
            ms, value = writes[name]
            seeded.web.post_json("/api/v1/sync/push", {"client_id": client_id, "mutations": [
                {"seq": 1, "hlc": hlc(ms, client_id), "entity": "visit", "id": V1, "base_version": 1,
                 "fields": {"status": value}}]},
                headers={"Authorization": f"Bearer {seeded.tokens[username]}"})
        with seeded.app.app_context():
            finals.append(db.session.get(Visit, V1).status)
            lost = set(db.session.scalars(select(Conflict.lost_value)))
            db.session.remove()
        assert "missed" in lost, order
    assert finals == ["planned", "planned"]
