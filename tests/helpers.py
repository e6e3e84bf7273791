"""Test helpers: a small protocol client (``Phone``) and a seeded world."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import date

from server.extensions import db
from server.models import User, new_id
from server.services.auth import hash_password
from server.services.importer import import_accounts, import_actor

PASSWORD = "correct horse battery"
_HASHES: dict[str, str] = {}


def password_hash(password: str = PASSWORD) -> str:
    """scrypt is slow on purpose; hash the shared test password once per run."""
    if password not in _HASHES:
        _HASHES[password] = hash_password(password)
    return _HASHES[password]


def hlc(ms: int, node: str, counter: int = 0) -> str:
    return f"{ms:013d}:{counter:04x}:{node}"


def now_ms() -> int:
    return int(time.time() * 1000)


class Phone:
    """One device of one user, speaking the protocol like a real client:
    numbered mutations, an HLC, a cursor."""

    def __init__(self, web, token: str, user: dict, client_id: str | None = None):
        self.web = web
        self.token = token
        self.user = user
        self.client_id = client_id or str(uuid.uuid4())
        self.seq = 0
        self.cursor = None
        self.counter = 0

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.token}"}

    def next_hlc(self, ms: int | None = None) -> str:
        self.counter += 1
        return hlc(ms if ms is not None else now_ms(), self.client_id, self.counter % 0xFFFF)

    def mutation(self, entity, record_id, fields, base_version=0, ms=None):
        self.seq += 1
        return {"seq": self.seq, "hlc": self.next_hlc(ms), "entity": entity, "id": record_id,
                "base_version": base_version, "fields": fields}

    def push(self, mutations, status=200):
        body = {"client_id": self.client_id, "mutations": mutations}
        return self.web.post_json("/api/v1/sync/push", body, headers=self.headers, status=status)

    def write(self, entity, record_id, fields, base_version=0, ms=None):
        """Push one mutation; return its result."""
        response = self.push([self.mutation(entity, record_id, fields, base_version, ms)])
        return response.json["results"][0]

    def pull(self, cursor=None, limit=None, status=200):
        params = {}
        if cursor:
            params["cursor"] = cursor
        if limit:
            params["limit"] = limit
        return self.web.get("/api/v1/sync/pull", params, headers=self.headers, status=status)

    def pull_all(self, limit=500):
        """Pull from the phone's cursor until has_more is false; return the
        changes and keep the cursor."""
        changes = []
        while True:
            page = self.pull(self.cursor, limit).json
            changes += page["changes"]
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return changes


def latest(changes, entity=None):
    """The phone's view after applying ``changes`` in order: id → change."""
    state = {}
    for change in changes:
        if entity and change["entity"] != entity:
            continue
        state[(change["entity"], change["id"])] = change
    return {key: c for key, c in state.items() if not c["deleted"]}


@dataclass
class World:
    app: object
    web: object
    users: dict = field(default_factory=dict)
    accounts: dict = field(default_factory=dict)  # ref -> id

    @classmethod
    def create(cls, app, web):
        world = cls(app, web)
        with app.app_context():
            for username, role in (("sup", "supervisor"), ("alice", "collector"), ("bob", "collector")):
                user = User(id=new_id(), username=username, name=username.title(), role=role,
                            password_hash=password_hash())
                db.session.add(user)
                world.users[username] = user.id
            db.session.commit()
            rows = ["ref,customer_name,original_contact_name,original_contact_role,original_contact_phone,"
                    "address,lat,lon,timezone,currency,principal,amount_due,due_since,collector"]
            for i, (collector, tz) in enumerate(
                    [("alice", "Asia/Taipei")] * 3 + [("bob", "Asia/Taipei")] * 2 + [("", "Asia/Taipei")]):
                rows.append(f"A-{i + 1},Shop {i + 1},Owner {i + 1},Owner,0912-555-00{i},"
                            f"Street {i + 1},25.04{i},121.51{i},{tz},TWD,100000.00,50000.00,"
                            f"{date(2026, 10, 1).isoformat()},{collector}")
            report = import_accounts(db.session, "\n".join(rows) + "\n", import_actor(None),
                                     app.config["RULES"])
            assert report.ok, report.errors
            from sqlalchemy import select

            from server.models import Account
            for account in db.session.scalars(select(Account)):
                world.accounts[account.ref] = account.id
        return world

    def login(self, username, password=PASSWORD, status=200):
        return self.web.post_json("/api/v1/auth/login", {"username": username, "password": password},
                                  status=status)

    def phone(self, username, client_id=None) -> Phone:
        body = self.login(username).json
        return Phone(self.web, body["token"], body["user"], client_id)
