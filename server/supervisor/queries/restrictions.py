"""An account's contact restrictions as its page shows them: its
jurisdiction with the rules that follow from it, and its do-not-visit
windows on the account's wall clock, past ones apart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sync.merge import set_item_key

from ...models import Account
from ...rules.config import RulesConfig
from ...rules.restrictions import window_bounds


@dataclass(frozen=True)
class Window:
    key: str
    start: datetime
    end: datetime
    reason: str
    state: str  # "now", "coming" or "past"


@dataclass(frozen=True)
class Restrictions:
    jurisdiction: str | None
    configured: bool  # the jurisdiction has rules of its own here
    rules: RulesConfig  # the account's rules
    windows: list[Window]
    codes: tuple[str, ...]  # the configured jurisdictions, for the choice


def account_restrictions(account: Account, cfg: RulesConfig, now: datetime) -> Restrictions:
    windows = []
    for raw in account.do_not_visit or []:
        start, end = window_bounds(raw)
        state = "past" if end <= now else ("now" if start <= now else "coming")
        windows.append(Window(set_item_key(raw), start, end, raw["reason"], state))
    order = {"now": 0, "coming": 1, "past": 2}
    # Current and coming windows first, soonest first; then the past, latest first.
    windows.sort(key=lambda w: (order[w.state],
                                -w.end.timestamp() if w.state == "past" else w.start.timestamp()))
    return Restrictions(
        jurisdiction=account.jurisdiction,
        configured=cfg.jurisdiction(account.jurisdiction) is not None,
        rules=cfg.for_account(account),
        windows=windows,
        codes=tuple(j.code for j in cfg.jurisdictions),
    )
