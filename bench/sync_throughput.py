"""Sync throughput: push N visit mutations (about 300 bytes each) in batches,
then pull them all back in pages, against

* our server under gunicorn, on SQLite and on PostgreSQL;
* pouchdb-server (npm, LevelDB on disk): ``POST /db/_bulk_docs`` in the same
  batches and ``GET /db/_changes?include_docs=true`` pages of the same size;
* raw ``sqlite3`` inserts and reads of the same rows: the floor, what
  storing the bytes costs with no protocol at all.

One client, one request at a time, on loopback: this measures the server's
cost per request, not its behaviour under concurrency (bench/load.py does
that).

    .venv/bin/python -m bench.sync_throughput            # 10,000 visits
    .venv/bin/python -m bench.sync_throughput --visits 500 --backends sqlite --pouch off
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
import uuid
from pathlib import Path

from bench.common import (
    Http,
    Phone,
    Rate,
    Server,
    Timer,
    as_couch_doc,
    batches,
    database,
    dumps,
    gunicorn,
    loads,
    log,
    phone_visits,
    pouchdb_server,
    seed,
    visit_mutations,
    workdir,
)

RESULTS = Path(__file__).resolve().parent / "results"


def measure_ours(server: Server, account_ids: list[str], visits: int, batch: int,
                 limit: int) -> tuple[Rate, Rate]:
    """(push, pull) for one fresh phone of the collector."""
    http = Http(server.url)
    try:
        phone = Phone(http, "collector")
        phone.pull_all(1000)  # the portfolio first, untimed: the timed pull is the visits only
        bodies = [phone.push_body(b) for b in batches(phone_visits(phone, account_ids, visits), batch)]
        with Timer(http, server) as timer:
            for body in bodies:
                results = phone.push(body)["results"]
                bad = [r for r in results if r["status"] != "applied"]
                if bad:
                    raise RuntimeError(f"push not applied: {bad[:2]}")
        push = timer.rate(visits)
        with Timer(http, server) as timer:
            pulled, _pages = phone.pull_all(limit)
        pull = timer.rate(pulled)
        if pulled != visits:
            raise RuntimeError(f"pulled {pulled} changes, pushed {visits}")
        return push, pull
    finally:
        http.close()


def couch_push(http: Http, db: str, docs: list[dict], batch: int,
               server: Server | None = None) -> Rate:
    bodies = [dumps({"docs": b}) for b in batches(docs, batch)]
    with Timer(http, server) as timer:
        for body in bodies:
            results = http.json("POST", f"/{db}/_bulk_docs", body, expect=(201,))
            if any("error" in r for r in results):
                raise RuntimeError(f"_bulk_docs error: {results[:2]}")
    return timer.rate(len(docs))


def couch_pull(http: Http, db: str, limit: int, server: Server | None = None,
               max_pages: int = 100_000) -> Rate:
    """Read ``_changes`` with documents page by page, as a client that
    follows ``last_seq`` does; a short page is the end (CouchDB 1.x and
    PouchDB send no ``pending`` count)."""
    since, got = 0, 0
    with Timer(http, server) as timer:
        for _ in range(max_pages):
            page = http.json("GET", f"/{db}/_changes?include_docs=true&limit={limit}&since={since}")
            got += len(page["results"])
            since = page["last_seq"]
            if len(page["results"]) < limit or page.get("pending") == 0:
                break
    return timer.rate(got)


def measure_pouch(server: Server, docs: list[dict], batch: int, limit: int) -> tuple[Rate, Rate]:
    http = Http(server.url)
    try:
        db = "bench_" + uuid.uuid4().hex[:8]
        http.json("PUT", f"/{db}", expect=(201,))
        push = couch_push(http, db, docs, batch, server)
        pull = couch_pull(http, db, limit, server)
        if pull.items != len(docs):
            raise RuntimeError(f"_changes gave {pull.items} documents, stored {len(docs)}")
        return push, pull
    finally:
        http.close()


def measure_sqlite_floor(path: Path, mutations: list[dict], batch: int,
                         limit: int) -> tuple[Rate, Rate]:
    """The same rows through the sqlite3 module alone, one transaction per
    batch, with the pragmas our server uses: no HTTP, no validation, no
    history. Nothing can sync these rows faster on this machine."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE visits (position INTEGER PRIMARY KEY, id TEXT UNIQUE, "
                     "account_id TEXT, version INTEGER, data TEXT)")
        started = time.perf_counter()
        for group in batches(mutations, batch):
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO visits (id, account_id, version, data) VALUES (?, ?, 1, ?)",
                             [(m["id"], m["fields"]["account_id"], dumps(m["fields"]).decode())
                              for m in group])
            conn.execute("COMMIT")
        push = Rate(len(mutations), time.perf_counter() - started, len(batches(mutations, batch)))

        started, position, got, pages = time.perf_counter(), 0, 0, 0
        while True:
            rows = conn.execute("SELECT position, id, version, data FROM visits WHERE position > ? "
                                "ORDER BY position LIMIT ?", (position, limit)).fetchall()
            pages += 1
            got += len([loads(r[3]) for r in rows])
            if len(rows) < limit:
                break
            position = rows[-1][0]
        return push, Rate(got, time.perf_counter() - started, pages)
    finally:
        conn.close()


def run(args) -> dict:
    figures: dict = {"visits": args.visits, "batch": args.batch, "limit": args.limit,
                     "accounts": args.accounts, "ours": {}}
    with workdir() as wd:
        for backend in args.backends:
            with database(backend, wd) as url:
                seeded = seed(url, wd, {"collector": args.accounts})
                with gunicorn(url, wd, workers=args.workers) as server:
                    push, pull = measure_ours(server, seeded["accounts"]["collector"],
                                              args.visits, args.batch, args.limit)
            figures["ours"][backend] = {"push": push.as_dict(), "pull": pull.as_dict()}
            log(f"ours/{backend}: push {push.per_s:,.0f}/s, pull {pull.per_s:,.0f}/s")

        # The same visits (ids, fields, sizes) for the comparisons.
        account_ids = [str(uuid.uuid4()) for _ in range(args.accounts)]
        mutations = visit_mutations(str(uuid.uuid4()), 1, account_ids, args.visits)
        collector_id = str(uuid.uuid4())
        figures["mutation_bytes"] = round(sum(len(dumps(m)) for m in mutations) / len(mutations))
        if args.pouch != "off":
            docs = [as_couch_doc(m, collector_id) for m in mutations]
            with pouchdb_server(wd, in_memory=args.pouch == "memory") as server:
                push, pull = measure_pouch(server, docs, args.batch, args.limit)
            figures["pouchdb_server"] = {"adapter": args.pouch, "push": push.as_dict(),
                                         "pull": pull.as_dict()}
            log(f"pouchdb-server/{args.pouch}: push {push.per_s:,.0f}/s, pull {pull.per_s:,.0f}/s")
        push, pull = measure_sqlite_floor(wd / "floor.sqlite3", mutations, args.batch, args.limit)
        figures["sqlite_floor"] = {"push": push.as_dict(), "pull": pull.as_dict()}
    return figures


def _cpu(f: dict) -> str:
    value = f.get("per_server_cpu_s")
    return f"{value:>10,.0f}" if value else f"{'-':>10}"


def _us(f: dict) -> str:
    """Server CPU per item, in microseconds."""
    value = f.get("per_server_cpu_s")
    return f"{1e6 / value:>8,.0f}" if value else f"{'-':>8}"


def report(figures: dict) -> None:
    print(f"\n{figures['visits']:,} visit mutations of ~{figures['mutation_bytes']} bytes, "
          f"push batches of {figures['batch']}, pull limit {figures['limit']}\n")
    rows = [(f"ours ({b})", f) for b, f in figures["ours"].items()]
    if "pouchdb_server" in figures:
        rows.append((f"pouchdb-server ({figures['pouchdb_server']['adapter']})",
                     figures["pouchdb_server"]))
    rows.append(("sqlite3 floor", figures["sqlite_floor"]))
    print(f"{'':26} {'push mut/s':>11} {'/cpu-s':>10} {'µs cpu':>8} {'requests':>9}"
          f" {'pull rec/s':>11} {'/cpu-s':>10} {'µs cpu':>8} {'requests':>9}")
    for name, f in rows:
        push, pull = f["push"], f["pull"]
        print(f"{name:26} {push['per_s']:>11,.0f} {_cpu(push)} {_us(push)} {push['requests']:>9} "
              f"{pull['per_s']:>11,.0f} {_cpu(pull)} {_us(pull)} {pull['requests']:>9}")
    print("\n/cpu-s: items per second of server CPU (gunicorn workers or node, plus the "
          "PostgreSQL backends), steadier than wall time on a shared machine; µs cpu: that "
          "CPU per mutation or record.\n")
    for backend, f in figures["ours"].items():
        for other, key in (("pouchdb-server", "pouchdb_server"), ("sqlite3 floor", "sqlite_floor")):
            if key not in figures:
                continue
            o = figures[key]
            line = (f"ours ({backend}) / {other}: push {f['push']['per_s'] / o['push']['per_s']:.2f}x, "
                    f"pull {f['pull']['per_s'] / o['pull']['per_s']:.2f}x")
            if o["push"].get("per_server_cpu_s") and f["push"].get("per_server_cpu_s"):
                line += (f"   per CPU-second: push "
                         f"{f['push']['per_server_cpu_s'] / o['push']['per_server_cpu_s']:.2f}x, pull "
                         f"{f['pull']['per_server_cpu_s'] / o['pull']['per_server_cpu_s']:.2f}x")
            print(line)
    if "pouchdb_server" in figures:
        pouch = figures["pouchdb_server"]
        missed = [b for b, f in figures["ours"].items()
                  if min(f["push"]["per_s"] / pouch["push"]["per_s"],
                         f["pull"]["per_s"] / pouch["pull"]["per_s"]) < 2]
        print("\ntarget (push and pull each >= 2x pouchdb-server, wall clock): "
              + ("met on every backend" if not missed else "MISSED on " + ", ".join(missed)))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visits", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgres",
                        type=lambda s: [b for b in s.split(",") if b])
    parser.add_argument("--pouch", choices=("leveldb", "memory", "off"), default="leveldb")
    parser.add_argument("--json", type=Path, default=None,
                        help="write the figures here (e.g. bench/results/sync_throughput.json)")
    args = parser.parse_args(argv)
    figures = run(args)
    report(figures)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
