"""Sync over a bad mobile link: 300 ms round trip, 5 % of exchanges dropped
(bench/latency_proxy.py), on loopback.

* ours: a collector's phone pushes 200 waiting visits (batches of 100) and
  a fresh install pulls a 500-account portfolio (limit 500), retrying after
  every drop as the PWA's outbox does;
* PouchDB: a real PouchDB replication in Node (pouchdb-core, the http and
  memory adapters, pouchdb-replication, from the pouchdb-server install)
  against pouchdb-server through the same proxy: 500 account documents
  replicated down, 200 visit documents replicated up. A replication that
  fails on a drop is started again (it resumes from its checkpoint), as an
  app would do. The proxy counts every request.

    .venv/bin/python -m bench.bad_network
    .venv/bin/python -m bench.bad_network --rtt 0.05 --drop 0 --accounts 50 --visits 20
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

from bench.common import (
    Http,
    Phone,
    account_csv,
    batches,
    database,
    dumps,
    ensure_pouchdb_server,
    gunicorn,
    log,
    phone_visits,
    pouchdb_server,
    seed,
    visit_mutations,
    workdir,
)
from bench.latency_proxy import LatencyProxy

# Replicates in one direction, again after a failure (bounded), and prints
# what it did as JSON. Node's default agent opens a connection per request;
# a browser keeps them alive, so this uses a keep-alive agent like one.
REPLICATE_JS = r"""
const http = require('http');
const PouchDB = require('pouchdb-core')
  .plugin(require('pouchdb-adapter-http'))
  .plugin(require('pouchdb-adapter-memory'))
  .plugin(require('pouchdb-replication'));
const fs = require('fs');
const [direction, remoteUrl, docsFile, maxAttempts, timeoutMs] = process.argv.slice(2);
const agent = new http.Agent({keepAlive: true, maxSockets: 6});
// A request that never ends (its link died silently) fails after a
// timeout, as a phone's would, instead of stalling the replication.
const remote = new PouchDB(remoteUrl, {
  fetch: (url, opts) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), Number(timeoutMs));
    return PouchDB.fetch(url, Object.assign({}, opts, {agent, signal: controller.signal}))
      .finally(() => clearTimeout(timer));
  },
});
const local = new PouchDB('local', {adapter: 'memory'});
(async () => {
  if (direction === 'push') {
    await local.bulkDocs(JSON.parse(fs.readFileSync(docsFile, 'utf8')));
  }
  const started = Date.now();
  let attempts = 0, written = 0, lastError = null;
  while (attempts < Number(maxAttempts)) {
    attempts += 1;
    try {
      const result = direction === 'push'
        ? await PouchDB.replicate(local, remote, {batch_size: 100})
        : await PouchDB.replicate(remote, local, {batch_size: 100});
      written += result.docs_written;
      if (result.ok && result.status === 'complete') { lastError = null; break; }
    } catch (err) {
      lastError = String(err && (err.message || err.name || err));
    }
  }
  const info = await local.info();
  process.stdout.write(JSON.stringify({seconds: (Date.now() - started) / 1000, attempts,
    docs_written: written, local_docs: info.doc_count, error: lastError}) + '\n');
  agent.destroy();
})().catch((err) => { console.error(err); process.exit(1); });
"""


def ours(args, wd: Path) -> dict:
    with database(args.backend, wd) as url:
        seeded = seed(url, wd, {"collector": args.accounts})
        with gunicorn(url, wd) as server, LatencyProxy(
                int(server.url.rsplit(":", 1)[1]), rtt_s=args.rtt, drop_rate=args.drop,
                seed=args.seed) as proxy:
            out = {}
            # A fresh install logs in (a new connection: one handshake) and
            # pulls the portfolio; PouchDB's first request pays that too.
            http = Http(proxy.url, retries=args.retries, timeout=args.request_timeout)
            proxy.reset_counts()
            started = time.perf_counter()
            phone = Phone(http, "collector")
            changes, _pages = phone.pull_all(500)
            out["pull"] = {"seconds": round(time.perf_counter() - started, 2), "records": changes,
                           "requests": proxy.total_requests, "retries": http.failures,
                           "dropped": dict(proxy.stats)}
            if changes != args.accounts:
                raise RuntimeError(f"pulled {changes} records, expected {args.accounts}")
            # The same phone pushes the visits it recorded offline.
            bodies = [phone.push_body(b) for b in batches(
                phone_visits(phone, seeded["accounts"]["collector"], args.visits), 100)]
            http.failures = 0
            proxy.reset_counts()
            started = time.perf_counter()
            applied = 0
            for body in bodies:
                for result in phone.push(body)["results"]:
                    applied += result["status"] in ("applied", "duplicate")
            out["push"] = {"seconds": round(time.perf_counter() - started, 2), "records": applied,
                           "requests": proxy.total_requests, "retries": http.failures,
                           "dropped": dict(proxy.stats)}
            http.close()
            if applied != args.visits:
                raise RuntimeError(f"{applied} of {args.visits} visits applied")
            return out


def pouch(args, wd: Path) -> dict:
    modules = ensure_pouchdb_server()
    script = wd / "replicate.js"
    script.write_text(REPLICATE_JS)
    account_docs = [{"_id": f"account-{i:06d}", "entity": "account", **row}
                    for i, row in enumerate(_csv_rows(account_csv({"collector": args.accounts})))]
    visits = visit_mutations("pouch-phone", 1, [d["_id"] for d in account_docs], args.visits)
    visit_file = wd / "visits.json"
    visit_file.write_text(json.dumps([{"_id": m["id"], "entity": "visit", **m["fields"]}
                                      for m in visits]))
    out = {}
    with pouchdb_server(wd) as server:
        direct = Http(server.url)
        direct.json("PUT", "/fieldvisit", expect=(201,))
        for group in batches(account_docs, 500):  # seeded directly, not through the proxy
            direct.json("POST", "/fieldvisit/_bulk_docs", dumps({"docs": group}), expect=(201,))
        direct.close()
        with LatencyProxy(int(server.url.rsplit(":", 1)[1]), rtt_s=args.rtt, drop_rate=args.drop,
                          seed=args.seed) as proxy:
            for direction, expected in (("pull", args.accounts), ("push", args.visits)):
                proxy.reset_counts()
                done = subprocess.run(
                    ["node", str(script), direction, f"{proxy.url}/fieldvisit", str(visit_file),
                     str(args.retries + 1), str(int(args.request_timeout * 1000))],
                    capture_output=True, text=True, timeout=600,
                    env={"NODE_PATH": str(modules), "PATH": _path()})
                if done.returncode != 0:
                    raise RuntimeError(f"node replicate {direction}: {done.stderr[-2000:]}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                result.update(requests=proxy.total_requests, by_request=dict(proxy.requests),
                              dropped=dict(proxy.stats))
                if result["error"] or (direction == "pull" and result["local_docs"] != expected):
                    log(f"pouchdb {direction} incomplete: {result}")
                out[direction] = result
    return out


def _path() -> str:
    return os.environ.get("PATH", "/usr/bin:/bin")


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _drops(run: dict) -> int:
    return sum(v for k, v in run["dropped"].items() if k.startswith("drop"))


def summarise(trials: list[dict]) -> dict:
    """Median seconds and requests, total drops, per step over the trials."""
    out = {}
    for side in trials[0]:
        for step in trials[0][side]:
            runs = [t[side][step] for t in trials]
            out[f"{side}/{step}"] = {
                "median_seconds": round(statistics.median(r["seconds"] for r in runs), 2),
                "max_seconds": round(max(r["seconds"] for r in runs), 2),
                "median_requests": statistics.median(r["requests"] for r in runs),
                "min_requests": min(r["requests"] for r in runs),
                "drops": sum(_drops(r) for r in runs),
            }
    return out


def report(figures: dict) -> None:
    a = figures["args"]
    print(f"\nbad network: {a['rtt'] * 1000:.0f} ms round trip, {a['drop'] * 100:.0f} % of "
          f"exchanges dropped, {a['trials']} trials (seeds {a['seed']}..."
          f"{a['seed'] + a['trials'] - 1}), {a['backend']}\n")
    print(f"{'':44} {'median s':>8} {'max s':>7} {'requests':>9} {'fewest':>7} {'drops':>6}")
    names = {"ours/pull": f"ours: login + pull {a['accounts']} accounts",
             "ours/push": f"ours: push {a['visits']} visits",
             "pouchdb/pull": f"PouchDB: replicate {a['accounts']} accounts down",
             "pouchdb/push": f"PouchDB: replicate {a['visits']} visits up"}
    for key, s in figures["summary"].items():
        print(f"{names[key]:44} {s['median_seconds']:>8.2f} {s['max_seconds']:>7.2f} "
              f"{s['median_requests']:>9} {s['min_requests']:>7} {s['drops']:>6}")
    print("\nrequests: median over the trials, every attempt counted (retries after a drop "
          "included); fewest: a trial without drops, i.e. what the protocol needs")
    first = figures["trials"][0].get("pouchdb")
    if first:
        for direction in ("pull", "push"):
            kinds = ", ".join(f"{k} x{v}" for k, v in sorted(
                first[direction]["by_request"].items(), key=lambda kv: -kv[1]))
            print(f"\nPouchDB {direction} requests (trial 1): {kinds}")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rtt", type=float, default=0.3, help="round trip, seconds")
    parser.add_argument("--drop", type=float, default=0.05, help="share of exchanges dropped")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trials", type=int, default=5, help="runs, each with its own seed")
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--visits", type=int, default=200)
    parser.add_argument("--retries", type=int, default=10)
    parser.add_argument("--request-timeout", type=float, default=30.0,
                        help="seconds before a client gives a request up")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pouch", choices=("on", "off"), default="on")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    figures = {"args": vars(args) | {"json": None}, "trials": []}
    for trial in range(args.trials):
        one = argparse.Namespace(**{**vars(args), "seed": args.seed + trial})
        with workdir() as wd:
            result = {"ours": ours(one, wd)}
            if args.pouch == "on":
                result["pouchdb"] = pouch(one, wd)
        figures["trials"].append(result)
        log(f"trial {trial + 1}/{args.trials} done")
    figures["summary"] = summarise(figures["trials"])
    report(figures)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return figures


if __name__ == "__main__":
    main()
