"""First sync of a new phone: a collector with 500 accounts and 2,000 past
visits (done, with outcomes; a quarter of them promises to pay, from which
the server derives promises) logs in on a fresh install and pulls
everything. Prints the bytes on the wire (request and response heads and
bodies) and the requests, with ``Accept-Encoding: gzip`` and without.

    .venv/bin/python -m bench.first_sync
    .venv/bin/python -m bench.first_sync --accounts 20 --visits 40 --backend sqlite
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Http, Phone, batches, database, gunicorn, log, seed, workdir

RESULTS = ("refused", "not_present", "promise_to_pay", "paid_partial")


def past_visit(i: int, account_id: str, now: datetime) -> dict:
    """A done visit some days ago (one per account per day, so the history
    is plausible and mostly unflagged)."""
    arrived = (now - timedelta(days=3 + i // 500, hours=i % 5)).replace(microsecond=0)
    result = RESULTS[i % len(RESULTS)]
    fields = {
        "account_id": account_id, "scheduled_at": (arrived - timedelta(minutes=10)).isoformat(),
        "status": "done", "arrived_at": arrived.isoformat(),
        "departed_at": (arrived + timedelta(minutes=25)).isoformat(),
        "checkin_lat": 25.04, "checkin_lon": 121.51, "checkin_accuracy_m": 12,
        "met": "original_contact" if result != "not_present" else "nobody",
        "result": result, "conduct_confirmed": True,
        "notes": "Owner asked for a week; cash flow is tight after the holiday.",
    }
    if result == "promise_to_pay":
        fields["promise_amount"] = 50000
        fields["promise_date"] = (arrived + timedelta(days=7)).date().isoformat()
    return fields


def load_history(server_url: str, account_ids: list[str], visits: int) -> None:
    """The 2,000 past visits, pushed by the collector's old phone."""
    http = Http(server_url)
    phone = Phone(http, "collector")
    now = datetime.now(UTC)
    now_ms = int(time.time() * 1000) - 60_000
    mutations = []
    for i in range(visits):
        phone.seq += 1
        mutations.append({"seq": phone.seq, "hlc": f"{now_ms:013d}:{phone.seq % 0xFFFF:04x}:"
                          f"{phone.client_id}", "entity": "visit", "id": str(uuid.uuid4()),
                          "base_version": 0,
                          "fields": past_visit(i, account_ids[i % len(account_ids)], now)})
    for group in batches(mutations, 250):
        results = phone.push(phone.push_body(group))["results"]
        bad = [r for r in results if r["status"] != "applied"]
        if bad:
            raise RuntimeError(f"history not applied: {bad[:2]}")
    http.close()


def first_pull(server_url: str, gzip_ok: bool, limit: int) -> dict:
    http = Http(server_url, gzip_ok=gzip_ok)
    phone = Phone(http, "collector")  # the login is part of a first sync
    started = time.perf_counter()
    records, pages = phone.pull_all(limit)
    seconds = time.perf_counter() - started
    http.close()
    return {"gzip": gzip_ok, "limit": limit, "records": records, "pull_requests": pages,
            "requests": http.requests, "bytes_down": http.bytes_down, "bytes_up": http.bytes_up,
            "bytes": http.bytes_down + http.bytes_up, "seconds": round(seconds, 3)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--visits", type=int, default=2000)
    parser.add_argument("--limits", default="500,1000", help="pull page sizes to try")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    limits = [int(x) for x in args.limits.split(",")]
    runs = []
    with workdir() as wd, database(args.backend, wd) as url:
        seeded = seed(url, wd, {"collector": args.accounts})
        with gunicorn(url, wd) as server:
            load_history(server.url, seeded["accounts"]["collector"], args.visits)
            log("history loaded")
            for limit in limits:
                for gzip_ok in (True, False):
                    runs.append(first_pull(server.url, gzip_ok, limit))
    print(f"\nfirst sync: {args.accounts} accounts, {args.visits} past visits ({args.backend}); "
          "bytes = request + response, heads included, login included\n")
    print(f"{'':22} {'records':>8} {'requests':>9} {'bytes':>12} {'KiB':>8} {'seconds':>8}")
    for r in runs:
        name = f"limit {r['limit']}, {'gzip' if r['gzip'] else 'identity'}"
        print(f"{name:22} {r['records']:>8} {r['requests']:>9} {r['bytes']:>12,} "
              f"{r['bytes'] / 1024:>8,.0f} {r['seconds']:>8.2f}")
    print("\nrequests = 1 login + the pull pages")
    figures = {"accounts": args.accounts, "visits": args.visits, "backend": args.backend,
               "runs": runs}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
