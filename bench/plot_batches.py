"""Push throughput by batch size and pull throughput by page size, ours
(SQLite and PostgreSQL, under gunicorn) beside pouchdb-server, drawn to
bench/results/throughput_by_batch.png with the figures in
bench/results/throughput_by_batch.json.

    .venv/bin/python -m bench.plot_batches
    .venv/bin/python -m bench.plot_batches --visits 200 --pushes 10,50 --limits 50,100 \
        --backends sqlite --pouch off --out /tmp/plot.png
"""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path

from bench.common import (
    Http,
    Phone,
    Timer,
    as_couch_doc,
    batches,
    database,
    gunicorn,
    log,
    phone_visits,
    pouchdb_server,
    seed,
    visit_mutations,
    workdir,
)
from bench.sync_throughput import couch_pull, couch_push

RESULTS = Path(__file__).resolve().parent / "results"


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def ours(backend: str, args, wd: Path) -> dict:
    """One server; a new phone per push batch size (so each run creates
    ``visits`` new records), then every page size pulls all of them."""
    out = {"push": {}, "pull": {}}
    with database(backend, wd) as url:
        seeded = seed(url, wd, {"collector": args.accounts})
        accounts = seeded["accounts"]["collector"]
        with gunicorn(url, wd) as server:
            http = Http(server.url)
            for size in args.pushes:
                phone = Phone(http, "collector")
                bodies = [phone.push_body(b) for b in batches(phone_visits(phone, accounts, args.visits), size)]
                with Timer(http, server) as timer:
                    for body in bodies:
                        phone.push(body)
                out["push"][size] = timer.rate(args.visits).as_dict()
                log(f"ours/{backend} push batch {size}: {out['push'][size]['per_s']:,.0f}/s")
            for limit in args.limits:
                phone = Phone(http, "collector")
                with Timer(http, server) as timer:
                    records, _ = phone.pull_all(limit)
                out["pull"][limit] = timer.rate(records).as_dict()
                log(f"ours/{backend} pull limit {limit}: {out['pull'][limit]['per_s']:,.0f}/s")
            http.close()
    return out


def pouch(args, wd: Path) -> dict:
    out = {"push": {}, "pull": {}}
    account_ids = [str(uuid.uuid4()) for _ in range(args.accounts)]
    with pouchdb_server(wd) as server:
        http = Http(server.url)
        db = "all_" + uuid.uuid4().hex[:6]
        http.json("PUT", f"/{db}", expect=(201,))
        for size in args.pushes:
            docs = [as_couch_doc(m, "c") for m in
                    visit_mutations(str(uuid.uuid4()), 1, account_ids, args.visits)]
            out["push"][size] = couch_push(http, db, docs, size, server).as_dict()
            log(f"pouchdb push batch {size}: {out['push'][size]['per_s']:,.0f}/s")
        for limit in args.limits:
            out["pull"][limit] = couch_pull(http, db, limit, server).as_dict()
            log(f"pouchdb pull limit {limit}: {out['pull'][limit]['per_s']:,.0f}/s")
        http.close()
    return out


def draw(figures: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4))
    styles = {"ours (sqlite)": "o-", "ours (postgres)": "s-", "pouchdb-server (leveldb)": "^--"}
    for name, series in figures["series"].items():
        for axis, key in ((left, "push"), (right, "pull")):
            xs = sorted(int(x) for x in series[key])
            axis.plot(xs, [series[key][str(x)]["per_s"] for x in xs], styles.get(name, "o-"),
                      label=name)
    left.set(title=f"push: {figures['visits']:,} visits per batch size",
             xlabel="mutations per request", ylabel="mutations / s (wall clock)", xscale="log")
    right.set(title="pull: all records per page size", xlabel="limit (records per page)",
              ylabel="records / s (wall clock)", xscale="log")
    for axis in (left, right):
        axis.grid(True, which="both", alpha=0.3)
        axis.set_ylim(bottom=0)
        axis.legend(fontsize=8)
    fig.suptitle("Sync throughput on loopback, one client, one request at a time", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visits", type=int, default=5000, help="visits pushed per batch size")
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--pushes", type=_ints, default=[10, 50, 100, 250, 500])
    parser.add_argument("--limits", type=_ints, default=[50, 100, 250, 500, 1000])
    parser.add_argument("--backends", default="sqlite,postgres",
                        type=lambda s: [b for b in s.split(",") if b])
    parser.add_argument("--pouch", choices=("on", "off"), default="on")
    parser.add_argument("--out", type=Path, default=RESULTS / "throughput_by_batch.png")
    args = parser.parse_args(argv)
    figures = {"visits": args.visits, "series": {}}
    with workdir() as wd:
        for backend in args.backends:
            figures["series"][f"ours ({backend})"] = ours(backend, args, wd)
        if args.pouch == "on":
            figures["series"]["pouchdb-server (leveldb)"] = pouch(args, wd)
    figures = json.loads(json.dumps(figures))  # int keys become strings, as in the JSON file
    draw(figures, args.out)
    args.out.with_suffix(".json").write_text(json.dumps(figures, indent=2) + "\n")
    for name, series in figures["series"].items():
        push = ", ".join(f"{k}: {v['per_s']:,.0f}" for k, v in series["push"].items())
        pull = ", ".join(f"{k}: {v['per_s']:,.0f}" for k, v in series["pull"].items())
        print(f"{name}\n  push by batch  {push}\n  pull by limit  {pull}")
    print(f"\nplot: {args.out}")
    return figures


if __name__ == "__main__":
    main()
