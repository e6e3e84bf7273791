"""A realistic demo data set: one supervisor, three collectors, the Taipei
portfolio of ``server/demo/accounts.csv`` and a few weeks of visit history
with promises and payments, plus today's and tomorrow's plans.

Deterministic for a given day (seeded), so a demo looks the same on every
machine that day."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..models import Account, User, Visit, new_id, utcnow
from .auth import hash_password
from .changes import Actor, ChangeWriter
from .clock import server_clock
from .derived import refresh_account_promises
from .importer import import_accounts, import_actor
from .writes import Change, apply_change, transaction

DEMO_CSV = Path(__file__).resolve().parent.parent / "demo" / "accounts.csv"
DEMO_PASSWORD = "fieldvisit-demo"
DEMO_USERS = (
    # username, name, role, start point (the branch office each works from)
    ("supervisor", "Lin Mei-hua 林美華", "supervisor", None),
    ("alice", "Alice Wang 王愛麗", "collector", (25.0631, 121.5197)),  # Zhongshan
    ("bob", "Bob Chen 陳柏宇", "collector", (25.0412, 121.5654)),      # Xinyi
    ("carol", "Carol Lee 李佳玲", "collector", (25.0330, 121.5430)),   # Da'an
)
SLOTS = (time(9, 40), time(10, 30), time(11, 15), time(14, 10), time(15, 0), time(15, 40))
RESULT_WEIGHTS = (
    ("promise_to_pay", 5), ("paid_partial", 3), ("paid_full", 1), ("not_present", 3),
    ("refused", 1), ("dispute", 1), ("premises_closed", 1), ("rescheduled", 1),
)
REASONS = ("forgot", "product_dispute", "cash_flow", "hardship", "unwilling", "unknown")


def is_empty(session) -> bool:
    return not session.scalar(select(func.count()).select_from(User))


def _collector_actor(collector_id: str) -> Actor:
    return Actor(collector_id, "demo-" + collector_id[:8], None, str(server_clock.send()),
                 role="collector")


def _supervisor_actor(supervisor_id: str) -> Actor:
    return Actor(supervisor_id, "server", None, str(server_clock.send()), role="supervisor")


def _wire(values: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in values.items()}


def create_demo(session, config, today: datetime | None = None) -> dict:
    """Load the demo into an empty database and commit. Every record is
    written through the write layer, as a collector or the supervisor would
    write it, so the demo obeys the rules it shows."""
    now = today or utcnow()
    rules = config["RULES"]
    rng = random.Random(now.date().isoformat())
    users = {}
    for username, name, role, start in DEMO_USERS:
        user = User(id=new_id(), username=username, name=name, role=role,
                    password_hash=hash_password(DEMO_PASSWORD),
                    start_lat=start[0] if start else None, start_lon=start[1] if start else None)
        session.add(user)
        users[username] = user.id
    session.commit()

    report = import_accounts(session, DEMO_CSV.read_text(encoding="utf-8"),
                             import_actor(users["supervisor"]), rules)
    if not report.ok:
        raise RuntimeError(f"demo accounts file is invalid: {report.errors[:3]}")
    counts = transaction(lambda tx: _history_and_plans(tx, rng, users["supervisor"], now),
                         rules=rules, session=session)
    return {"users": [u[0] for u in DEMO_USERS], "accounts": len(report.rows), **counts}


def _history_and_plans(tx: ChangeWriter, rng, supervisor_id: str, now: datetime) -> dict:
    accounts = tx.rows(Account, order_by=Account.ref)
    counts = {"visits": 0, "payments": 0}
    for account in accounts:
        if not account.assigned_collector_id:
            continue
        collector = _collector_actor(account.assigned_collector_id)
        apply_change(tx, Change("account", account.id,
                                {"delinquency_reason": rng.choice(REASONS)}, collector))
        for days_ago in sorted(rng.sample(range(2, 27), rng.randint(0, 3)), reverse=True):
            counts["visits"] += 1
            visit, paid = _past_visit(tx, rng, account, collector, now, days_ago)
            kept_at = _promise_kept_at(rng, visit, account, now)
            if kept_at is not None:
                # More than half of the promises made are kept, as in life.
                paid = visit.promise_amount
            if paid:
                counts["payments"] += 1
                payment_id = new_id()
                apply_change(tx, Change("payment", payment_id, _wire({
                    "account_id": account.id, "visit_id": visit.id, "amount": paid,
                    "method": rng.choice(("cash", "transfer", "cheque")),
                    "collected_at": kept_at or visit.arrived_at + timedelta(minutes=20),
                }), collector))
                if kept_at is not None or days_ago > 3:
                    apply_change(tx, Change("payment", payment_id, {"status": "confirmed"},
                                            _supervisor_actor(supervisor_id)))
        refresh_account_promises(tx, account, _supervisor_actor(supervisor_id).derived(), now)
    _plans(tx, rng, accounts, now, counts)
    _do_not_visit(tx, accounts, now)
    return counts


def _do_not_visit(tx, accounts, now):
    """One customer asked not to be visited around a family wedding next week,
    as a collector records it on the phone (docs/rules.md)."""
    owned = [a for a in accounts if a.assigned_collector_id and a.status == "active"]
    if not owned:
        return
    account = min(owned, key=lambda a: (a.amount_due, a.ref))
    day = (now.astimezone(ZoneInfo(account.timezone)) + timedelta(days=4)).date()
    window = {"from": _local(account, day, time(0)), "to": _local(account, day + timedelta(days=2), time(0)),
              "reason": "Family wedding 家中辦喜事"}
    apply_change(tx, Change("account", account.id, {"do_not_visit": [_wire(window)]},
                            _collector_actor(account.assigned_collector_id)))


def _promise_kept_at(rng, visit: Visit, account: Account, now: datetime) -> datetime | None:
    """When a demo promise whose date has passed was paid, or None."""
    if visit.result != "promise_to_pay" or rng.random() >= 0.6:
        return None
    today = now.astimezone(ZoneInfo(account.timezone)).date()
    if visit.promise_date >= today:
        return None
    days = (visit.promise_date - visit.arrived_at.astimezone(ZoneInfo(account.timezone)).date()).days
    day = visit.promise_date - timedelta(days=rng.randint(0, max(0, days - 1)))
    return _local(account, day, time(15, 30))


def _local(account: Account, day, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(account.timezone)).astimezone(UTC)


def _past_visit(tx, rng, account, actor, now, days_ago):
    tz = ZoneInfo(account.timezone)
    day = (now.astimezone(tz) - timedelta(days=days_ago)).date()
    scheduled = _local(account, day, rng.choice(SLOTS))
    arrived = scheduled - timedelta(minutes=rng.randint(-12, 20))
    result = rng.choices([r for r, _ in RESULT_WEIGHTS], [w for _, w in RESULT_WEIGHTS])[0]
    met = "nobody" if result in ("not_present", "premises_closed") else rng.choice(
        ("original_contact", "original_contact", "original_contact", "other_person"))
    if met == "nobody" and result != "premises_closed":
        result = "not_present"
    jitter = 0.0004 if rng.random() < 0.9 else 0.004  # ~40 m, now and then ~400 m away
    fields = {
        "account_id": account.id, "collector_id": account.assigned_collector_id,
        "scheduled_at": scheduled, "status": "done", "arrived_at": arrived,
        "departed_at": arrived + timedelta(minutes=rng.randint(10, 50)),
        "checkin_lat": (account.lat or 25.04) + rng.uniform(-jitter, jitter),
        "checkin_lon": (account.lon or 121.53) + rng.uniform(-jitter, jitter),
        "checkin_accuracy_m": round(rng.uniform(5, 35), 1),
        "met": met, "result": result, "conduct_confirmed": True,
        "other_guests_present": rng.random() < 0.2,
        "delinquency_reason": account.delinquency_reason,
    }
    if met == "other_person":
        fields["met_name"] = "Store clerk"
        fields["met_relation"] = "employee"
        if rng.random() < 0.5:
            fields["redirected_to"] = "Accountant 會計"
    if fields["other_guests_present"]:
        fields["waited_minutes"] = rng.randint(5, 30)
    paid = 0
    if result == "promise_to_pay":
        fields["promise_amount"] = max(100_00, int(round(account.amount_due * rng.uniform(0.1, 0.4), -2)))
        fields["promise_date"] = day + timedelta(days=rng.randint(3, 14))
    elif result in ("paid_partial", "paid_full"):
        paid = account.amount_due if result == "paid_full" else max(
            100_00, int(round(account.amount_due * rng.uniform(0.05, 0.3), -2)))
    visit_id = new_id()
    outcome = apply_change(tx, Change("visit", visit_id, _wire(fields), actor))
    return outcome.record, paid


def _plans(tx, rng, accounts, now, counts):
    """Three to five planned visits per collector today and tomorrow, the
    most valuable accounts first, at preferred times."""
    by_collector: dict[str, list[Account]] = {}
    for account in accounts:
        if account.assigned_collector_id and account.status == "active":
            by_collector.setdefault(account.assigned_collector_id, []).append(account)
    for collector_id, owned in by_collector.items():
        owned.sort(key=lambda a: a.amount_due, reverse=True)
        picks = iter(owned)
        actor = _collector_actor(collector_id)
        for offset in (0, 1):
            for slot in sorted(rng.sample(SLOTS, rng.randint(3, 5))):
                account = next(picks, None)
                if account is None:
                    break
                day = (now.astimezone(ZoneInfo(account.timezone)) + timedelta(days=offset)).date()
                apply_change(tx, Change("visit", new_id(), _wire({
                    "account_id": account.id, "collector_id": collector_id,
                    "scheduled_at": _local(account, day, slot), "status": "planned"}), actor))
                counts["visits"] += 1
