"""Pull builds a record's wire form from plain rows with a precompiled
serializer per entity (``records.WireSerializer``) instead of dumping ORM
objects through marshmallow (``records.to_wire``). The two must give the
same bytes: same keys in the same order, same values of the same types."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime

import orjson
from sqlalchemy import select

from server.extensions import db
from server.models import RECORD_MODELS, Account, Attachment, Payment, Visit, new_id
from server.services.computed import account_extras
from server.services.demo import create_demo
from server.services.records import to_wire, wire_serializer


def _same(a, b) -> None:
    assert orjson.dumps(a) == orjson.dumps(b)
    assert list(a) == list(b)


def _add_edge_cases(session) -> None:
    """Records with every optional field set (and none), which the demo
    may not have: booleans, floats that hold whole numbers, read-only
    fields."""
    account = session.scalars(select(Account)).first()
    now = datetime(2026, 5, 1, 3, 4, 5, 678901, tzinfo=UTC)
    full = Visit(
        id=new_id(), account_id=account.id, collector_id=account.assigned_collector_id,
        scheduled_at=now, status="done", plan_notes="p", arrived_at=now, departed_at=now,
        checkin_lat=25.0, checkin_lon=121.5, checkin_accuracy_m=0.0, checkin_fix_age_s=0, met="nobody", met_name="n",
        redirected_to="r", other_guests_present=False, waited_minutes=0,
        delinquency_reason="forgot", result="other", promise_amount=0,
        promise_date=date(2026, 5, 2), notes="ü 中 \u2028", conduct_confirmed=True,
        amendment_reason="a", flags=["late", "far"], version=3, field_clocks={},
        updated_at=now,
    )
    empty = Visit(id=new_id(), account_id=account.id, status="planned", version=1,
                  field_clocks={}, flags=[], updated_at=now)
    payment = Payment(id=new_id(), account_id=account.id, visit_id=full.id, amount=1,
                      method="cash", collected_at=now, status="rejected", review_note="no",
                      version=2, field_clocks={}, updated_at=now)
    session.add_all([full, empty])
    session.flush()
    session.add(payment)
    session.flush()
    # Attachments (none in the demo): every field set, and the fewest.
    session.add_all([
        Attachment(id=new_id(), account_id=account.id, visit_id=full.id, kind="photo",
                   content_type="image/jpeg", byte_size=1, sha256="a" * 64, taken_at=now,
                   lat=25.0, lon=121.0, accuracy_m=0.0, caption="c", redacted_reason="r",
                   created_by=account.assigned_collector_id, uploaded=True, uploaded_at=now,
                   purged_at=now, version=3, field_clocks={}, updated_at=now),
        Attachment(id=new_id(), account_id=account.id, visit_id=full.id, kind="signature",
                   content_type="image/png", byte_size=10 * 1024 * 1024, sha256="b" * 64,
                   uploaded=False, version=1, field_clocks={}, updated_at=now),
    ])
    session.flush()


def test_the_row_serializer_matches_to_wire_for_every_record(app):
    with app.app_context():
        session = db.session
        create_demo(session, app.config)
        _add_edge_cases(session)
        session.commit()
        now = datetime.now(UTC)
        counts = {}
        for entity, model in RECORD_MODELS.items():
            serializer = wire_serializer(entity)
            objects = {r.id: r for r in session.scalars(select(model))}
            rows = {r.id: r for r in session.execute(select(*serializer.columns))}
            assert objects and set(objects) == set(rows)
            extras_orm = extras_rows = {}
            if entity == "account":
                extras_orm = account_extras(session, list(objects.values()), now, app.config["RULES"])
                extras_rows = account_extras(session, list(rows.values()), now, app.config["RULES"])
                _same(extras_orm, extras_rows)
            for record_id, record in objects.items():
                _same(serializer(rows[record_id], extras_rows.get(record_id)),
                      to_wire(entity, record, extras_orm.get(record_id)))
            counts[entity] = len(objects)
        assert all(counts.values()), counts


def test_pull_sends_what_to_wire_gives(app, world):
    alice = world.phone("alice")
    visit = str(uuid.uuid4())
    arrived = datetime.now(UTC).replace(microsecond=0).isoformat()
    alice.write("visit", visit, {
        "account_id": world.accounts["A-1"], "status": "done", "arrived_at": arrived,
        "met": "original_contact", "result": "promise_to_pay", "promise_amount": 100,
        "promise_date": "2099-01-01", "conduct_confirmed": True, "checkin_lat": 25.0,
    })
    alice.write("payment", str(uuid.uuid4()), {
        "account_id": world.accounts["A-1"], "amount": 5, "method": "cash",
        "collected_at": arrived,
    })
    changes = world.phone("sup").pull_all()
    assert {c["entity"] for c in changes} == {"account", "visit", "payment", "promise"}
    now = datetime.now(UTC)
    with app.app_context():
        for change in changes:
            assert not change["deleted"]
            record = db.session.get(RECORD_MODELS[change["entity"]], change["id"])
            extras = None
            if change["entity"] == "account":
                extras = account_extras(db.session, [record], now, app.config["RULES"])[record.id]
            _same(change["data"], to_wire(change["entity"], record, extras))


# --------------------------------------------------------------------------
# The write layer checks a change's fields one by one (``writes.load_fields``
# with ``entities/checking.py``'s fast path for values of the right type),
# not with a ``schema.load`` per change: same values, same errors, for every
# field of every entity, and the non-finite numbers marshmallow would let
# through refused as well.

SAMPLES = (
    None, "", "x", "a" * 65, "a" * 2001, "a" * 10001, "Asia/Taipei", "Mars/Olympus", "TWD", "twd",
    "planned", "done", "promise_to_pay", "cash", "pending", "active",
    "0f8fad5b-d9cb-469f-a165-70867728950e", "0F8FAD5B-D9CB-469F-A165-70867728950E",
    "2026-05-01T10:00:00+08:00", "2026-05-01T10:00:00", "2026-05-01", "not a date",
    0, 1, -1, 10**15, 10**15 + 1, 10**30, 1.5, 25.0, 91.0, -180.0, float("nan"), float("inf"),
    True, False, [], {}, ["x"], {"a": 1},
    # Edges of the fast path (server/entities/checking.py).
    "2026-05-01T10:00:00Z", "2026-05-01 10:00:00+08:00", "2026-05-01T10:00+08:00",
    "2026-05-01T10:00:00.123456+08:00", "20260501T100000+0800", "20260501", "2026-W18-5",
    "2026-02-30", " ", "1", "25.5", "1e3", 1.0, 2**63, -(10**15), 90, 180.0, -90.0, 1e308,
)


def _not_finite(value) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _outcome(load, raw):
    from marshmallow import ValidationError

    from server.services.writes import Rejected

    try:
        values = load(raw)
    except ValidationError as exc:
        return "error", exc.normalized_messages()
    except Rejected as exc:
        return "error", exc.errors
    except Exception as exc:  # noqa: BLE001 - the same exception either way
        return "raised", type(exc).__name__
    return "ok", [(k, type(v).__name__, repr(v)) for k, v in values.items()]


def test_the_write_layer_loads_and_refuses_fields_as_marshmallow_does():
    from server.entities import ENTITIES
    from server.services.writes import load_fields

    for entity, spec in ENTITIES.items():
        names = list(spec.schema.fields)

        def ours(raw, spec=spec):
            return load_fields(spec, "server", raw)

        def theirs(raw, spec=spec):
            return spec.schema.load(raw, partial=True)

        for name in names:
            for value in SAMPLES:
                raw = {name: value}
                if _not_finite(value):
                    assert _outcome(ours, raw)[0] == "error", (entity, name, value)
                    continue
                assert _outcome(ours, raw) == _outcome(theirs, raw), (entity, name, value)
        # Several fields at once, some good and some bad, in another order.
        for i, value in enumerate(SAMPLES):
            raw = {n: SAMPLES[(i + j) % len(SAMPLES)] for j, n in enumerate(reversed(names))}
            raw[names[0]] = value
            if any(_not_finite(v) for v in raw.values()):
                continue
            assert _outcome(ours, raw) == _outcome(theirs, raw), (entity, raw)


# --------------------------------------------------------------------------
# A push body is checked field by field (``schemas.load_push``), falling back
# to the nested PushSchema for anything irregular: same data, same errors.

def _push_variants():
    good = {"seq": 3, "hlc": "1764400000000:0001:0f8fad5b-d9cb-469f-a165-70867728950e",
            "entity": "visit", "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "base_version": 0, "fields": {"notes": "x"}}
    client = "0f8fad5b-d9cb-469f-a165-70867728950e"
    yield {"client_id": client, "mutations": [good, {**good, "seq": 4}]}
    yield {"client_id": client, "mutations": [good, {**good, "seq": 5}]}  # a gap
    yield {"client_id": client, "mutations": []}
    yield {"client_id": client, "mutations": [good] * 501}
    yield {"client_id": client.upper(), "mutations": [good]}
    yield {"client_id": client, "mutations": [good], "extra": 1}
    yield {"client_id": client}
    yield {"client_id": client, "mutations": good}
    yield {"client_id": client, "mutations": [None, good]}
    for key in good:
        yield {"client_id": client, "mutations": [{k: v for k, v in good.items() if k != key}]}
        for value in SAMPLES[:24]:
            yield {"client_id": client, "mutations": [{**good, key: value}]}
    yield {"client_id": client, "mutations": [{**good, "fields": {1: "x"}}]}
    yield {"client_id": client, "mutations": [{**good, "extra": True}]}


def test_the_push_body_loads_and_refuses_as_the_push_schema_does():
    from server.api.schemas import PushSchema, load_push

    schema = PushSchema()
    for payload in _push_variants():
        ours, theirs = _outcome(load_push, payload), _outcome(schema.load, payload)
        if ours[0] == theirs[0] == "ok":
            assert load_push(payload) == schema.load(payload), payload
        else:
            assert ours == theirs, payload
