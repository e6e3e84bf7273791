"""Attachment tests run on SQLite and PostgreSQL (``backend``) with their
bytes in a folder of the test's own."""

from __future__ import annotations

import pytest
from webtest import TestApp

from server.extensions import db
from tests.conftest import make_app
from tests.helpers import World
from tests.supervisor.conftest import done_visit_fields, quick_password_hashes, taipei  # noqa: F401

from .support import new_id


@pytest.fixture
def blob_root(tmp_path):
    return tmp_path / "blobs"


@pytest.fixture
def app(backend, tmp_path, request, blob_root):
    app = make_app(backend, tmp_path, request, {"ATTACHMENTS_URL": f"file://{blob_root}"})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def web(app):
    return TestApp(app)


@pytest.fixture
def world(app, web):
    return World.create(app, web)


@pytest.fixture
def alice(world):
    return world.phone("alice")


@pytest.fixture
def visit(world, alice):
    """A done visit of alice's on A-1."""
    visit_id = new_id()
    result = alice.write("visit", visit_id, done_visit_fields(world.accounts["A-1"], taipei(0, 10)))
    assert result["status"] == "applied", result
    return visit_id
