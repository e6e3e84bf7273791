"""Do writes overlap? One phone against eight phones pushing at once, the
same total work (visits in batches of 20), through the shipped production
configuration (``gunicorn wsgi:app`` in the repository, reading
``gunicorn.conf.py``) on a fresh PostgreSQL database.

Each push answer carries ``Server-Timing: db;dur=…, feedlock;dur=…``: how
long the write transaction took, and how long it held the feed lock — the
one section of a push that waits for other writers, from taking feed
positions to the commit. Its mean bounds the whole installation's pushes
per second however many machines it has: 1000 / feedlock ms.

    .venv/bin/python -m bench.concurrent_push                  # 8,000 visits
    .venv/bin/python -m bench.concurrent_push --visits 1600 --phones 1,8
    .venv/bin/python -m bench.concurrent_push --root OLD_CHECKOUT   # measure other code
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import threading
import time
from pathlib import Path

from bench.common import (
    REPO,
    Http,
    Phone,
    _stop,
    _wait_http,
    batches,
    database,
    dumps,
    free_port,
    log,
    phone_visits,
    seed,
    server_env,
    workdir,
)

TIMING = re.compile(r"(\w+);dur=([0-9.]+)")
RESULTS = Path(__file__).resolve().parent / "results"


class ShippedServer:
    """``gunicorn wsgi:app`` started in ``root``: the production recipe."""

    def __init__(self, root: Path, url: str, work: Path, workers: int | None):
        self.root, self.url, self.work, self.workers = root, url, work, workers
        self.port = free_port()

    def __enter__(self) -> str:
        env = {**server_env(self.url, self.work), "FIELDVISIT_BIND": f"127.0.0.1:{self.port}"}
        if self.workers:
            env["FIELDVISIT_WORKERS"] = str(self.workers)
        self.log_path = self.work / f"gunicorn-{self.port}.log"
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [os.path.join(os.path.dirname(os.sys.executable), "gunicorn"), "wsgi:app"],
                cwd=self.root, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        base = f"http://127.0.0.1:{self.port}"
        _wait_http(base + "/api/v1/openapi.json", self.proc, "gunicorn", self.log_path)
        return base

    def __exit__(self, *exc) -> None:
        _stop(self.proc)


def run_phones(base: str, usernames: list[str], accounts: dict[str, list[str]],
               visits_each: int, batch: int) -> dict:
    """Every phone pushes its visits at the same time; wall-clock rate of all."""
    phones = [Phone(Http(base), name) for name in usernames]
    bodies = [[phone.push_body(b) for b in batches(
        phone_visits(phone, accounts[name], visits_each), batch)]
        for phone, name in zip(phones, usernames, strict=True)]
    timings: list[dict[str, float]] = []
    errors: list[str] = []
    start_gate = threading.Barrier(len(phones) + 1)

    def pusher(phone: Phone, mine: list[bytes]) -> None:
        start_gate.wait()
        for body in mine:
            reply = phone.http.request("POST", "/api/v1/sync/push", body,
                                       {**phone.headers, "Content-Type": "application/json"})
            if reply.status != 200:
                errors.append(f"{reply.status} {reply.body[:200]!r}")
                return
            result = json.loads(reply.body)
            if any(r["status"] != "applied" for r in result["results"]):
                errors.append(f"not applied: {result['results'][:2]}")
            timings.append({k: float(v) for k, v in
                            TIMING.findall(reply.headers.get("server-timing", ""))})

    threads = [threading.Thread(target=pusher, args=(p, b)) for p, b in zip(phones, bodies, strict=True)]
    for t in threads:
        t.start()
    start_gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    for phone in phones:
        phone.http.close()
    if errors:
        raise RuntimeError(errors[:3])
    lock = [t.get("feedlock", 0.0) for t in timings]
    total = [t.get("db", 0.0) for t in timings]
    visits = visits_each * len(phones)
    return {
        "phones": len(phones), "visits": visits, "pushes": len(timings),
        "seconds": round(elapsed, 3), "visits_per_s": round(visits / elapsed, 1),
        "pushes_per_s": round(len(timings) / elapsed, 1),
        "db_ms_mean": round(statistics.fmean(total), 2),
        "feedlock_ms_mean": round(statistics.fmean(lock), 2),
        "feedlock_ms_p95": round(sorted(lock)[int(0.95 * (len(lock) - 1))], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visits", type=int, default=8000, help="total visits per run")
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--phones", default="1,8", help="comma-separated phone counts")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn processes (default: gunicorn.conf.py's, from the CPUs)")
    parser.add_argument("--root", type=Path, default=REPO, help="the checkout whose code runs")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    counts = [int(n) for n in args.phones.split(",")]
    names = [f"pusher{n}" for n in range(max(counts))]
    runs = []
    with workdir() as work, database("postgres", work) as url:
        seeded = seed(url, work, {name: 60 for name in names})
        with ShippedServer(args.root, url, work, args.workers) as base:
            # Warm every worker (imports, pools, the shell) before measuring.
            run_phones(base, names, seeded["accounts"], 40, args.batch)
            for n in counts:
                runs.append(run_phones(base, names[:n], seeded["accounts"], args.visits // n, args.batch))
                log(f"{n} phone(s): {runs[-1]}")
    one = next((r for r in runs if r["phones"] == 1), runs[0])
    print(f"\n{args.visits:,} visits in batches of {args.batch}, PostgreSQL, shipped gunicorn.conf.py "
          f"({os.cpu_count()} CPUs), code from {args.root}\n")
    print(f"{'phones':>6} {'visits/s':>10} {'pushes/s':>9} {'vs 1':>6} {'db ms':>7} "
          f"{'feed lock ms':>13} {'p95':>6}")
    for r in runs:
        print(f"{r['phones']:>6} {r['visits_per_s']:>10,.0f} {r['pushes_per_s']:>9,.1f} "
              f"{r['visits_per_s'] / one['visits_per_s']:>5.2f}x {r['db_ms_mean']:>7.1f} "
              f"{r['feedlock_ms_mean']:>13.2f} {r['feedlock_ms_p95']:>6.2f}")
    serial = max(r["feedlock_ms_mean"] for r in runs)
    if serial:
        print(f"\nserial section: {serial:.2f} ms a push at most, so at most ~{1000 / serial:,.0f} "
              f"pushes/s ({1000 / serial * args.batch:,.0f} visits/s in batches of {args.batch}) "
              "for the whole installation, however many workers and machines")
    else:
        # Code from before the Server-Timing header: its feed lock is held
        # for the whole transaction, so the rates above are the figure.
        print("\nserial section: not reported by this code (no Server-Timing header)")
    if args.json:
        args.json.write_text(dumps({"runs": runs, "cpus": os.cpu_count()}).decode() + "\n")


if __name__ == "__main__":
    main()
