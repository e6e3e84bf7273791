"""``flask audit verify`` and ``flask audit checkpoint`` against someone who
can write the database but does not hold ``FIELDVISIT_AUDIT_KEY``: each kind
of tampering is caught and named, on SQLite and PostgreSQL, an untouched
database passes, and a chain written before the key was set still verifies."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update
from webtest import TestApp

from server.extensions import db
from server.models import AuditMark, FeedEntry, FeedState, HistoryEntry, Visit
from server.services.changes import ensure_feed_state, history_hash, history_payload
from server.services.importer import import_accounts, import_actor

from ..conftest import make_app
from ..helpers import World

KEY = "an audit key kept far away from the database"


@pytest.fixture
def app_settings():
    return {"AUDIT_KEY": KEY}


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def done_visit(world, phone, ref="A-1", **extra) -> str:
    visit_id = str(uuid.uuid4())
    arrived = datetime.now(UTC) - timedelta(hours=2)
    fields = {"account_id": world.accounts[ref], "status": "done", "arrived_at": arrived.isoformat(),
              "met": "original_contact", "result": "refused", "conduct_confirmed": True,
              "checkin_lat": 25.04, "checkin_lon": 121.51, "checkin_accuracy_m": 9.0,
              "checkin_fix_age_s": 3, **extra}
    assert phone.write("visit", visit_id, fields)["status"] == "applied"
    return visit_id


def newest_row(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(HistoryEntry.id)))


def recompute_without_key(app, from_id: int) -> None:
    """What an attacker who can write the database does after editing a row:
    rebuild the chain from there with the only hash they can compute."""
    with app.app_context():
        rows = db.session.scalars(select(HistoryEntry).order_by(HistoryEntry.id)).all()
        prev = None
        for row in rows:
            if row.id >= from_id:
                if prev is not None:
                    row.prev_hash = prev
                row.hash = history_hash(row.prev_hash, history_payload(row), key=None)
            prev = row.hash
        db.session.execute(update(FeedState).where(FeedState.id == 1).values(last_hash=prev))
        db.session.commit()


def checkpoint(app, path) -> dict:
    result = run(app, "audit", "checkpoint", "--append", str(path))
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


@pytest.fixture
def recorded(app, web, tmp_path):
    """A few days of field work, and a checkpoint of it kept in a file."""
    world = World.create(app, web)
    alice = world.phone("alice")
    visits = [done_visit(world, alice, ref) for ref in ("A-1", "A-2", "A-3")]
    payment = str(uuid.uuid4())
    assert alice.write("payment", payment, {
        "account_id": world.accounts["A-1"], "visit_id": visits[0], "amount": 150000,
        "method": "cash", "collected_at": datetime.now(UTC).isoformat()})["status"] == "applied"
    path = tmp_path / "checkpoints.jsonl"
    return world, alice, visits, path, checkpoint(app, path)


def test_an_untouched_database_passes_with_its_checkpoints(app, recorded):
    world, alice, visits, path, first = recorded
    done_visit(world, alice, "A-2")
    second = checkpoint(app, path)
    assert second["position"] > first["position"] and second["head"] != first["head"]
    result = run(app, "audit", "verify", "--checkpoint", str(path))
    assert result.exit_code == 0, result.output
    assert "history intact" in result.output
    assert "keyed with the audit key from row" in result.output
    assert "records intact" in result.output
    assert f"checkpoints agree: 2 (the newest, of {second['at']}, saw row {second['position']})" \
        in result.output
    with app.app_context():
        mark = db.session.get(AuditMark, 1)
        assert mark.keyed_after == "0" * 64  # keyed from the very first row


def test_an_edited_history_row_is_named(app, recorded):
    _world, _alice, visits, _path, _cp = recorded
    with app.app_context():
        row = db.session.scalar(select(HistoryEntry).where(HistoryEntry.record_id == visits[1])
                                .order_by(HistoryEntry.id).limit(1))
        row_id, changes = row.id, dict(row.changes, result="paid_full")
        db.session.execute(update(HistoryEntry).where(HistoryEntry.id == row_id)
                           .values(changes=changes))
        db.session.commit()
    result = run(app, "audit", "verify")
    assert result.exit_code == 1
    assert f"history BROKEN at history row {row_id}: its content does not match its hash" \
        in result.output


def test_a_chain_recomputed_without_the_key_is_caught_where_it_was_rewritten(app, recorded):
    _world, _alice, visits, _path, _cp = recorded
    with app.app_context():
        row = db.session.scalar(select(HistoryEntry).where(HistoryEntry.record_id == visits[0])
                                .order_by(HistoryEntry.id).limit(1))
        row_id = row.id
        db.session.execute(update(HistoryEntry).where(HistoryEntry.id == row_id)
                           .values(changes=dict(row.changes, result="paid_full")))
        db.session.execute(update(Visit).where(Visit.id == visits[0]).values(result="paid_full"))
        db.session.commit()
    recompute_without_key(app, row_id)
    result = run(app, "audit", "verify")
    assert result.exit_code == 1
    assert (f"history BROKEN at history row {row_id}: its hash was computed without the audit "
            "key") in result.output


def test_a_whole_chain_recomputed_without_the_key_and_its_mark_removed_fails_its_checkpoint(
        app, recorded):
    _world, _alice, visits, path, cp = recorded
    with app.app_context():
        db.session.execute(delete(AuditMark))
        db.session.execute(update(Visit).where(Visit.id == visits[2]).values(result="paid_full"))
        row = db.session.scalar(select(HistoryEntry).where(HistoryEntry.record_id == visits[2])
                                .order_by(HistoryEntry.id).limit(1))
        db.session.execute(update(HistoryEntry).where(HistoryEntry.id == row.id)
                           .values(changes=dict(row.changes, result="paid_full")))
        db.session.commit()
    recompute_without_key(app, 1)
    result = run(app, "audit", "verify", "--checkpoint", str(path))
    assert result.exit_code == 1
    assert (f"history BROKEN at history row {cp['position']}: it differs from the checkpoint of "
            f"{cp['at']}") in result.output


def test_rows_deleted_at_the_end_are_caught_against_a_checkpoint(app, recorded):
    world, alice, _visits, path, _cp = recorded
    erased = done_visit(world, alice, "A-2")
    seen = checkpoint(app, path)
    # Undo the newest visit as if it had never been: its history row, the
    # record, its feed row, and the chain's head rewound to match.
    with app.app_context():
        db.session.execute(delete(HistoryEntry).where(HistoryEntry.record_id == erased))
        db.session.execute(delete(FeedEntry).where(FeedEntry.record_id == erased))
        db.session.execute(delete(Visit).where(Visit.id == erased))
        head = db.session.scalar(select(HistoryEntry.hash).order_by(HistoryEntry.id.desc()).limit(1))
        last = db.session.scalar(select(func.max(HistoryEntry.id)))
        db.session.execute(update(FeedState).where(FeedState.id == 1).values(last_hash=head))
        db.session.commit()
    # The database alone agrees with itself: only the checkpoint kept
    # elsewhere remembers the rows.
    assert run(app, "audit", "verify").exit_code == 0
    result = run(app, "audit", "verify", "--checkpoint", str(path))
    assert result.exit_code == 1
    assert (f"history BROKEN at history row {last}: rows at the end of the history were removed: "
            f"the checkpoint of {seen['at']} saw row {seen['position']}, the history now ends at "
            f"row {last}") in result.output


def test_a_live_record_that_differs_from_its_history_is_named(app, recorded):
    _world, _alice, visits, _path, _cp = recorded
    with app.app_context():
        db.session.execute(update(Visit).where(Visit.id == visits[1])
                           .values(result="paid_full", notes="paid in cash"))
        db.session.commit()
    wrote = newest_row(app)
    result = run(app, "audit", "verify")
    assert result.exit_code == 1
    assert f"records BROKEN at visit {visits[1]}: its result is \"paid_full\", its history " \
           "replays to \"refused\" (history row" in result.output
    assert newest_row(app) == wrote  # verifying writes nothing


def test_a_moved_mark_or_a_forged_checkpoint_is_refused(app, recorded, tmp_path):
    _world, _alice, _visits, path, cp = recorded
    forged = tmp_path / "forged.jsonl"
    forged.write_text(json.dumps({**cp, "position": cp["position"] - 1}) + "\n")
    result = run(app, "audit", "verify", "--checkpoint", str(forged))
    assert result.exit_code == 1
    assert "checkpoint line 1 is not signed with this audit key" in result.output
    with app.app_context():
        db.session.execute(update(AuditMark).values(keyed_after="f" * 64))
        db.session.commit()
    result = run(app, "audit", "verify")
    assert result.exit_code == 1
    assert "the mark of where keyed rows start was not made with this audit key" in result.output


def test_a_checkpoint_needs_the_key(app, recorded):
    app.config["AUDIT_KEY"] = None
    result = run(app, "audit", "checkpoint")
    assert result.exit_code != 0 and "FIELDVISIT_AUDIT_KEY is not set" in result.output
    result = run(app, "audit", "verify")
    assert result.exit_code == 1 and "the history is keyed, but FIELDVISIT_AUDIT_KEY" in result.output


def test_a_chain_written_before_the_key_was_set_still_verifies(backend, tmp_path, request):
    """An installation from before the key: its schema from the migrations,
    plain rows written with no key, then the key set and keyed rows from
    there on (the chain needs no data migration, only its mark)."""
    app = make_app(backend, tmp_path, request)
    try:
        with app.app_context():
            db.drop_all()
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            result = run(app, "db", "upgrade")
            assert result.exit_code == 0, result.output
        web = TestApp(app)
        with app.app_context():
            ensure_feed_state()
            rows = ["ref,customer_name,original_contact_name,original_contact_role,"
                    "original_contact_phone,address,lat,lon,timezone,currency,principal,"
                    "amount_due,due_since,collector",
                    "OLD-1,Old Shop,Ann,Owner,,Street,25.04,121.51,Asia/Taipei,TWD,1000.00,"
                    "500.00,2026-10-01,"]
            assert import_accounts(db.session, "\n".join(rows) + "\n", import_actor(None),
                                   app.config["RULES"]).ok
            plain = db.session.scalar(select(func.max(HistoryEntry.id)))
        assert run(app, "init-db").exit_code == 0  # idempotent: nothing to upgrade
        app.config["AUDIT_KEY"] = KEY
        world = World.create(app, web)
        done_visit(world, world.phone("alice"))
        result = run(app, "audit", "verify")
        assert result.exit_code == 0, result.output
        assert f"keyed with the audit key from row {plain + 1} on" in result.output
        with app.app_context():
            first_keyed = db.session.get(HistoryEntry, plain + 1)
            assert db.session.get(AuditMark, 1).keyed_after == first_keyed.prev_hash
            # The rows before the key keep their plain hashes.
            old = db.session.get(HistoryEntry, plain)
            assert old.hash == history_hash(old.prev_hash, history_payload(old), key=None)
    finally:
        with app.app_context():
            if backend == "postgres":
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            db.session.remove()
            db.engine.dispose()


def test_the_key_changes_every_hash_and_a_short_key_is_refused(tmp_path):
    payload = {"entity": "visit", "record_id": "x", "version": 1}
    assert history_hash("0" * 64, payload, key=KEY.encode()) != history_hash("0" * 64, payload, key=None)
    assert history_hash("0" * 64, payload, key=b"another key, just as long") != \
        history_hash("0" * 64, payload, key=KEY.encode())
    from server.app import create_app

    with pytest.raises(RuntimeError, match="at least 16 characters"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                    "AUDIT_KEY": "short"})
