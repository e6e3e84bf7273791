"""What the refused-changes page needs besides the refused mutations
themselves: the people, devices, accounts and visits their ids point at,
read in a few queries for the whole page, so the page shows names, never
ids (``server/supervisor/refusals.py`` turns them into words)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ...models import RECORD_MODELS, Account, Client, User, Visit

# Fields whose value is another record's id, and what kind of record.
ID_FIELDS = {"account_id": "account", "visit_id": "visit", "collector_id": "user",
             "assigned_collector_id": "user", "created_by": "user"}


@dataclass
class Lookups:
    users: dict[str, User] = field(default_factory=dict)
    # A device's number among its user's devices, oldest first ("device 2").
    devices: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    visits: dict[str, Visit] = field(default_factory=dict)
    # The account each refused record is on, where the server knows it.
    record_accounts: dict[tuple[str, str], str] = field(default_factory=dict)


def lookups(session, items) -> Lookups:
    found = Lookups()
    ids: dict[str, set[str]] = {"user": set(), "account": set(), "visit": set()}
    for r in items:
        ids["user"].add(r.user_id)
        for name, kind in ID_FIELDS.items():
            value = (r.fields or {}).get(name) if isinstance(r.fields, dict) else None
            if isinstance(value, str):
                ids[kind].add(value)
    # The refused record itself, when it exists: its account.
    for entity, model in RECORD_MODELS.items():
        record_ids = {r.record_id for r in items if r.entity == entity}
        if not record_ids:
            continue
        if entity == "account":
            ids["account"] |= record_ids
            for rid in record_ids:
                found.record_accounts[(entity, rid)] = rid
            continue
        for rid, account_id in session.execute(
                select(model.id, model.account_id).where(model.id.in_(record_ids))):
            found.record_accounts[(entity, rid)] = account_id
            ids["account"].add(account_id)
    if ids["visit"]:
        found.visits = {v.id: v for v in session.scalars(
            select(Visit).where(Visit.id.in_(ids["visit"])))}
        ids["account"] |= {v.account_id for v in found.visits.values()}
    if ids["account"]:
        found.accounts = {a.id: a for a in session.scalars(
            select(Account).where(Account.id.in_(ids["account"])))}
    if ids["user"]:
        found.users = {u.id: u for u in session.scalars(
            select(User).where(User.id.in_(ids["user"])))}
        numbers: dict[str, int] = {}
        for client_id, user_id in session.execute(
                select(Client.client_id, Client.user_id)
                .where(Client.user_id.in_({r.user_id for r in items}))
                .order_by(Client.user_id, Client.created_at, Client.client_id)):
            numbers[user_id] = numbers.get(user_id, 0) + 1
            found.devices[client_id] = numbers[user_id]
    return found
