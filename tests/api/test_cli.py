"""The operator's commands: init-db, create-user, import-accounts, demo, audit verify."""

from sqlalchemy import func, select, text, update

from server.extensions import db
from server.models import Account, FeedEntry, HistoryEntry, User, Visit

CSV_HEADER = ("ref,customer_name,original_contact_name,original_contact_role,original_contact_phone,"
              "address,lat,lon,timezone,currency,principal,amount_due,due_since,collector\n")


def run(app, *args, env=None):
    return app.test_cli_runner().invoke(args=list(args), env=env)


def write_csv(tmp_path, rows, name="accounts.csv"):
    path = tmp_path / name
    path.write_text(CSV_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_create_user_without_prompt_hashes_the_password(app):
    result = run(app, "create-user", "dora", "--role", "collector", "--name", "Dora", "--no-input",
                 env={"FIELDVISIT_PASSWORD": "s3cret-enough"})
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "dora"))
        assert user.role == "collector" and user.name == "Dora"
        assert "s3cret-enough" not in user.password_hash and user.password_hash.startswith("scrypt:")
    again = run(app, "create-user", "dora", "--role", "collector", "--no-input",
                env={"FIELDVISIT_PASSWORD": "s3cret-enough"})
    assert again.exit_code != 0 and "exists" in again.output


def test_import_with_bad_rows_writes_nothing_and_lists_every_bad_row(app, world, tmp_path):
    path = write_csv(tmp_path, [
        "N-1,Good Shop,Ann,Owner,,Addr,25.05,121.52,Asia/Taipei,TWD,1000.00,500.00,2026-10-01,alice",
        "N-2,Bad Zone,Ann,Owner,,Addr,25.05,121.52,Mars/Olympus,TWD,1000.00,500.00,2026-10-01,alice",
        "N-3,Bad Money,Ann,Owner,,Addr,25.05,121.52,Asia/Taipei,TWD,1000.00,5.001,2026-10-01,nobody",
    ])
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Account))
    result = run(app, "import-accounts", path)
    assert result.exit_code == 1
    assert "line 3:" in result.output and "timezone" in result.output
    assert "line 4:" in result.output and "amount_due" in result.output and "collector" in result.output
    assert "line 2:" not in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == before


def test_reimport_updates_by_ref_and_a_reassignment_reaches_the_feed(app, world, tmp_path):
    alice, bob = world.phone("alice"), world.phone("bob")
    alice.pull_all()
    bob.pull_all()
    row = "A-1,Shop 1 renamed,Owner 1,Owner,0912-555-000,Street 1,25.040,121.510,Asia/Taipei,TWD,100000.00,42000.00,2026-10-01,bob"
    result = run(app, "import-accounts", write_csv(tmp_path, [row]))
    assert result.exit_code == 0, result.output
    assert "0 new, 1 updated" in result.output and "1 reassigned" in result.output
    gone = alice.pull_all()
    assert [(c["entity"], c["deleted"]) for c in gone] == [("account", True)]
    arrived = [c for c in bob.pull_all() if c["entity"] == "account"]
    assert arrived[0]["data"]["customer_name"] == "Shop 1 renamed"
    assert arrived[0]["data"]["amount_due"] == 4200000 and arrived[0]["version"] == 2


def test_demo_loads_a_realistic_data_set_once(app):
    result = run(app, "demo")
    assert result.exit_code == 0, result.output
    assert "alice" in result.output and "fieldvisit-demo" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 60
        collectors = db.session.scalar(select(func.count()).select_from(User).where(User.role == "collector"))
        assert collectors == 3
        done = db.session.scalar(select(func.count()).select_from(Visit).where(Visit.status == "done"))
        planned = db.session.scalar(select(func.count()).select_from(Visit).where(Visit.status == "planned"))
        assert done >= 20 and planned >= 9
        feed = db.session.scalar(select(func.count()).select_from(FeedEntry))
        assert feed > 60
    assert run(app, "demo").exit_code != 0          # never on top of data
    assert run(app, "demo", "--if-empty").exit_code == 0


def test_demo_login_pulls_accounts(app, web):
    run(app, "demo")
    token = web.post_json("/api/v1/auth/login", {"username": "alice", "password": "fieldvisit-demo"}).json["token"]
    page = web.get("/api/v1/sync/pull", headers={"Authorization": f"Bearer {token}"}).json
    assert any(c["entity"] == "account" for c in page["changes"])


def test_audit_verify_passes_then_finds_a_falsified_row(app, world):
    alice = world.phone("alice")
    import uuid
    alice.write("visit", str(uuid.uuid4()), {"account_id": world.accounts["A-1"], "plan_notes": "true"})
    ok = run(app, "audit", "verify")
    assert ok.exit_code == 0 and "intact" in ok.output
    with app.app_context():
        row_id = db.session.scalar(select(func.max(HistoryEntry.id)))
        db.session.execute(update(HistoryEntry).where(HistoryEntry.id == row_id)
                           .values(changes={"plan_notes": "falsified"}))
        db.session.commit()
    broken = run(app, "audit", "verify")
    assert broken.exit_code == 1 and f"row {row_id}" in broken.output


def test_audit_verify_finds_a_deleted_row(app, world):
    with app.app_context():
        first = db.session.scalar(select(func.min(HistoryEntry.id)))
        db.session.execute(text("DELETE FROM history WHERE id = :i"), {"i": first + 1})
        db.session.commit()
    broken = run(app, "audit", "verify")
    assert broken.exit_code == 1 and "BROKEN" in broken.output
