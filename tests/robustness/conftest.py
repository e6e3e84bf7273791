"""Fixtures of the robustness tests.

``seeded`` gives a reusable SQLite world for property tests: users,
accounts and tokens are made once per module (password hashing and logins
are slow), and ``reset()`` copies that seeded file back before each
hypothesis example, so every example starts from a fresh database without
paying for the seeding again."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from webtest import TestApp

from server.app import create_app
from server.extensions import db
from server.services.changes import ensure_feed_state

from ..helpers import PASSWORD, World


@dataclass
class Seeded:
    app: object
    web: TestApp
    world: World
    tokens: dict  # username -> bearer token
    db_path: Path
    template: Path

    def reset(self) -> None:
        """Back to the seeded state: close every connection, drop the WAL
        files (they belong to the old contents), copy the template in."""
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(str(self.db_path) + suffix).unlink(missing_ok=True)
        shutil.copyfile(self.template, self.db_path)

    def user(self, username: str) -> dict:
        return {"id": self.world.users[username], "username": username}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("seeded")
    db_path = tmp / "work.sqlite3"
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "SECRET_KEY": "test-secret",
    })
    with app.app_context():
        db.create_all()
        ensure_feed_state()
    web = TestApp(app)
    world = World.create(app, web)
    tokens = {name: world.login(name, PASSWORD).json["token"] for name in ("sup", "alice", "bob")}
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # the last close checkpoints the WAL into the file
    template = tmp / "template.sqlite3"
    shutil.copyfile(db_path, template)
    yield Seeded(app, web, world, tokens, db_path, template)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
