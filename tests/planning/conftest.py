"""Speed only: the shared ``world`` hashes passwords with scrypt and each
login checks one (0.2 s apiece). Password hashing is not under test here, so
these tests use a cheap hash that ``check_password_hash`` still verifies for
real. Both helpers are patched (per test, undone afterwards), so a hash cached
by ``helpers.password_hash`` for other tests is never a cheap one."""

import pytest
from werkzeug.security import generate_password_hash

from .. import helpers


def _cheap_hash(password: str = helpers.PASSWORD) -> str:
    return generate_password_hash(password, "pbkdf2:sha256:1000")


@pytest.fixture(autouse=True)
def _cheap_password_hash(monkeypatch):
    monkeypatch.setattr(helpers, "hash_password", _cheap_hash)
    monkeypatch.setattr(helpers, "password_hash", _cheap_hash, raising=False)
