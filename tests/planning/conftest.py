"""Speed only: the shared ``world`` hashes three passwords with scrypt and
each login checks one (0.2 s apiece). Password hashing is not under test
here, so these tests use a cheap hash that ``check_password_hash`` still
verifies for real."""

import pytest
from werkzeug.security import generate_password_hash

from .. import helpers


@pytest.fixture(autouse=True)
def _cheap_password_hash(monkeypatch):
    monkeypatch.setattr(helpers, "hash_password",
                        lambda password: generate_password_hash(password, "pbkdf2:sha256:1000"))
