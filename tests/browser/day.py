"""A collector's day with known times, for the Today tests: a collector of
her own ("dora"), six accounts around Datong and Zhongshan districts of
Taipei a few hundred metres apart, and six visits today (Taipei) — one
done at 09:40, planned ones at 11:15, 14:10, 15:00, 15:40 and 17:00 —
written through the sync API as a supervisor would."""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

from .conftest import DEMO_PASSWORD, ROOT, _flask

TAIPEI = timezone(timedelta(hours=8))
COLLECTOR = "dora"

# (ref, name, contact, phone, address, lat, lon, amount due in NT$)
ACCOUNTS = [
    ("DAY-01", "Guisui Street Paper Co. 歸綏紙行", "張文彬", "+886-2-5550-2201",
     "No. 5, Guisui St., Datong Dist., Taipei", 25.05890, 121.51020, 186_000),
    ("DAY-02", "Minsheng West Rice Shop 民生西米店", "李玉珍", "0933-210-458",
     "No. 41, Minsheng W. Rd., Datong Dist., Taipei", 25.05760, 121.51390, 92_500),
    ("DAY-03", "Chifeng Bicycle Works 赤峰單車", "Peter Lin 林柏宇", "0912-555-777",
     "No. 17, Chifeng St., Datong Dist., Taipei", 25.05530, 121.51960, 240_000),
    ("DAY-04", "Nanjing West Optical 南西眼鏡", "周怡君", "+886-2-5550-3390",
     "No. 22, Nanjing W. Rd., Datong Dist., Taipei", 25.05300, 121.51880, 58_800),
    ("DAY-05", "Changan Print House 長安印刷", "吳建宏", "0987-111-302",
     "No. 60, Chang'an W. Rd., Datong Dist., Taipei", 25.05040, 121.51600, 311_400),
    ("DAY-06", "Taiyuan Road Hardware 太原五金", "陳淑惠", "+886-2-5550-4416",
     "No. 88, Taiyuan Rd., Datong Dist., Taipei", 25.05210, 121.51350, 47_300),
]
# Appointment times, one per account, in route order.
TIMES = ["09:40", "11:15", "14:10", "15:00", "15:40", "17:00"]


@dataclass
class Day:
    date: date
    collector_id: str
    accounts: dict[str, str]                       # ref -> id
    visits: dict[str, str] = field(default_factory=dict)  # "HH:MM" -> id

    def at(self, hhmm: str) -> datetime:
        h, m = map(int, hhmm.split(":"))
        return datetime(self.date.year, self.date.month, self.date.day, h, m, tzinfo=TAIPEI)


class Pusher:
    """A supervisor's client writing through /sync/push, seq by seq."""

    def __init__(self, server, username: str):
        self.server = server
        self.token = server.login(username)["token"]
        self.client_id = str(uuid.uuid4())
        self.seq = 0

    def write(self, entity: str, record_id: str, fields: dict, base_version: int = 0) -> dict:
        self.seq += 1
        ms = int(datetime.now(UTC).timestamp() * 1000)
        body = {"client_id": self.client_id, "mutations": [{
            "seq": self.seq, "hlc": f"{ms:013d}:{self.seq:04x}:{self.client_id}", "entity": entity,
            "id": record_id, "base_version": base_version, "fields": fields}]}
        status, answer = self.server.api("POST", "/sync/push", body, self.token)
        assert status == 200, answer
        result = answer["results"][0]
        assert result["status"] in ("applied", "merged", "conflict"), result
        return result


def ensure_collector(server, username: str = COLLECTOR, name: str = "Dora Wu 吳朵拉") -> str:
    env = {**os.environ, "FIELDVISIT_DATABASE_URL": f"sqlite:///{server.db_path}",
           "FIELDVISIT_SECRET_KEY": "test", "FIELDVISIT_PASSWORD": DEMO_PASSWORD}
    subprocess.run(_flask() + ["create-user", username, "--role", "collector", "--name", name, "--no-input"],
                   cwd=ROOT, env=env, capture_output=True, timeout=60)  # exists already: fine
    return server.login(username)["user"]["id"]


def build_day(server, day: date, username: str = COLLECTOR) -> Day:
    collector_id = ensure_collector(server, username)
    sup = Pusher(server, "supervisor")
    result = Day(day, collector_id, {})
    for ref, name, contact, phone, address, lat, lon, due in ACCOUNTS:
        account_id = str(uuid.uuid4())
        sup.write("account", account_id, {
            "ref": f"{ref}-{day.isoformat()}-{uuid.uuid4().hex[:4]}", "customer_name": name,
            "original_contact_name": contact, "original_contact_role": "Owner",
            "original_contact_phone": phone, "address": address, "lat": lat, "lon": lon,
            "timezone": "Asia/Taipei", "currency": "TWD", "principal": due * 150,
            "amount_due": due * 100, "due_since": (day - timedelta(days=75)).isoformat(),
            "assigned_collector_id": collector_id, "status": "active",
            "delinquency_reason": "cash_flow"})
        result.accounts[ref] = account_id
    for (ref, *_), hhmm in zip(ACCOUNTS, TIMES, strict=True):
        visit_id = str(uuid.uuid4())
        fields = {"account_id": result.accounts[ref], "collector_id": collector_id,
                  "scheduled_at": result.at(hhmm).isoformat(), "status": "planned"}
        if hhmm == "09:40":
            arrived = result.at("09:34")
            fields.update({
                "status": "done", "arrived_at": arrived.isoformat(),
                "departed_at": (arrived + timedelta(minutes=25)).isoformat(),
                "checkin_lat": 25.05891, "checkin_lon": 121.51019, "checkin_accuracy_m": 12,
                "met": "original_contact", "result": "promise_to_pay", "promise_amount": 50_000_00,
                "promise_date": (day + timedelta(days=7)).isoformat(), "conduct_confirmed": True})
        sup.write("visit", visit_id, fields)
        result.visits[hhmm] = visit_id
    return result


def top_up_planned_stops(server, username: str = "alice", count: int = 14) -> None:
    """Give a demo collector at least ``count`` stops planned for today
    (Taipei). The demo draws three to five by the day's seed, and the browser
    tests share one server: each check-in uses one up, so the tests do not
    depend on the day's draw."""
    collector_id = server.login(username)["user"]["id"]
    today = datetime.now(TAIPEI).date()
    start, end = (datetime(today.year, today.month, today.day, tzinfo=TAIPEI) + timedelta(days=d)
                  for d in (0, 1))
    planned = server.query(
        "SELECT count(*) FROM visits WHERE collector_id = ? AND status = 'planned'"
        " AND scheduled_at >= ? AND scheduled_at < ?",
        (collector_id, start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
         end.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")))[0][0]
    free = [row[0] for row in server.query(
        "SELECT id FROM accounts WHERE assigned_collector_id = ? AND status = 'active'"
        " AND id NOT IN (SELECT account_id FROM visits WHERE status = 'planned') ORDER BY ref",
        (collector_id,))]
    missing = max(0, count - planned)
    assert len(free) >= missing, f"{username} has {len(free)} accounts free to plan, {missing} needed"
    sup = Pusher(server, "supervisor")
    for i, account_id in enumerate(free[:missing]):
        at = datetime(today.year, today.month, today.day, 16, 0, tzinfo=TAIPEI) + timedelta(minutes=20 * i)
        sup.write("visit", str(uuid.uuid4()), {"account_id": account_id, "collector_id": collector_id,
                                               "scheduled_at": at.isoformat(), "status": "planned"})
