"""What a supervisor changes of an account's contact restrictions: its
do-not-visit windows and its jurisdiction (docs/protocol.md 1.1). Each is one
retrying transaction through the write layer, so a window a phone added at
the same moment is merged, never lost (``sync.merge.SET_FIELDS``). Nothing
here is Flask."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sync.merge import set_item_key

from ..models import Account
from ..rules.clock import zone
from ..rules.config import RulesConfig
from ..services.changes import ChangeWriter
from ..services.writes import Change, transaction
from .actions import NotFound, Refused, _apply, supervisor_actor


def window_from_form(day_from: date, clock_from: time | None, day_to: date,
                     clock_to: time | None, reason: str, tz_name: str) -> dict:
    """A window from the page's fields, read on the account's wall clock:
    no start time is the start of that day, no end time the end of it."""
    tz = zone(tz_name)
    start = datetime.combine(day_from, clock_from or time(0), tzinfo=tz)
    end = (datetime.combine(day_to, clock_to, tzinfo=tz) if clock_to is not None
           else datetime.combine(day_to + timedelta(days=1), time(0), tzinfo=tz))
    return {"from": start.astimezone(UTC).isoformat(), "to": end.astimezone(UTC).isoformat(),
            "reason": reason}


def _account(session, account_id: str) -> Account:
    account = session.get(Account, account_id, populate_existing=True)
    if account is None:
        raise NotFound("No such account.")
    return account


def add_window(session, account_id: str, window: dict, supervisor_id: str,
               rules: RulesConfig) -> Account:
    def work(tx: ChangeWriter) -> Account:
        account = _account(session, account_id)
        windows = list(account.do_not_visit or [])
        _apply(tx, Change("account", account.id, {"do_not_visit": [*windows, window]},
                          supervisor_actor(supervisor_id)))
        return account

    return transaction(work, rules=rules, session=session)


def remove_window(session, account_id: str, key: str, supervisor_id: str,
                  rules: RulesConfig) -> Account:
    """Remove the window whose ``set_item_key`` is ``key`` (the page names it)."""
    def work(tx: ChangeWriter) -> Account:
        account = _account(session, account_id)
        windows = list(account.do_not_visit or [])
        kept = [w for w in windows if set_item_key(w) != key]
        if len(kept) == len(windows):
            raise Refused("This period was already removed.")
        _apply(tx, Change("account", account.id, {"do_not_visit": kept},
                          supervisor_actor(supervisor_id)))
        return account

    return transaction(work, rules=rules, session=session)


def set_jurisdiction(session, account_id: str, code: str | None, supervisor_id: str,
                     rules: RulesConfig) -> Account:
    code = (code or "").strip().upper() or None

    def work(tx: ChangeWriter) -> Account:
        account = _account(session, account_id)
        if account.jurisdiction == code:
            raise Refused("The account is already in that jurisdiction.")
        _apply(tx, Change("account", account.id, {"jurisdiction": code},
                          supervisor_actor(supervisor_id)))
        return account

    return transaction(work, rules=rules, session=session)
