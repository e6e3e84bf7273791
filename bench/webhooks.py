"""Webhooks: what queuing events costs a push, and how fast one worker
delivers them.

1. Push throughput under gunicorn (2 processes × 4 threads) on a fresh
   database, visits in batches of 100, webhooks off and then on (one
   endpoint configured, no worker running: only the queuing in the push's
   transaction is measured), with the server's CPU per visit.
2. One real worker process (``flask --app wsgi worker``) delivering the
   queued events to a threaded receiver on loopback that answers 204 at
   once: events per second, from its start to the last delivery.

    .venv/bin/python -m bench.webhooks                       # 2,000 visits, SQLite and PostgreSQL
    .venv/bin/python -m bench.webhooks --visits 500 --backends sqlite
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.common import (
    REPO,
    Http,
    Phone,
    Timer,
    batches,
    database,
    free_port,
    gunicorn,
    log,
    phone_visits,
    seed,
    server_env,
    workdir,
)

SECRET = "bench-webhook-secret"


class Receiver:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.count += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def push_all(server, accounts, visits: int, batch: int):
    http = Http(server.url)
    try:
        phone = Phone(http, "collector")
        bodies = [phone.push_body(b) for b in batches(phone_visits(phone, accounts, visits), batch)]
        with Timer(http, server) as timer:
            for body in bodies:
                results = phone.push(body)["results"]
                if any(r["status"] != "applied" for r in results):
                    raise RuntimeError(f"push not applied: {results[:2]}")
        return timer.rate(visits)
    finally:
        http.close()


def run(backend: str, visits: int, batch: int) -> None:
    with workdir() as work:
        receiver = Receiver()
        try:
            for webhooks in (False, True):
                with database(backend, work) as url:
                    seeded = seed(url, work, {"collector": 50})
                    hooks = {"FIELDVISIT_WEBHOOK_URLS": receiver.url,
                             "FIELDVISIT_WEBHOOK_SECRET": SECRET} if webhooks else {}
                    saved = dict(os.environ)
                    os.environ.update(hooks)
                    try:
                        with gunicorn(url, work) as server:
                            push = push_all(server, seeded["accounts"]["collector"], visits, batch)
                    finally:
                        os.environ.clear()
                        os.environ.update(saved)
                    cpu_ms = push.server_cpu_s / visits * 1000 if push.server_cpu_s else 0
                    print(f"{backend:8} push, webhooks {'on ' if webhooks else 'off'}: "
                          f"{push.per_s:7.0f} visits/s, server CPU {cpu_ms:.2f} ms per visit")
                    if not webhooks:
                        continue
                    env = {**server_env(url, work), **hooks,
                           "FIELDVISIT_WORKER_PROMISES_MINUTES": "0",
                           "FIELDVISIT_WORKER_PURGE_MINUTES": "0"}
                    started = time.perf_counter()
                    with open(work / "worker.log", "wb") as out:
                        worker = subprocess.Popen(
                            [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=REPO,
                            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
                    try:
                        deadline = time.monotonic() + 600
                        while receiver.count < visits:
                            if worker.poll() is not None or time.monotonic() > deadline:
                                raise RuntimeError((work / "worker.log").read_text()[-2000:])
                            time.sleep(0.05)
                        seconds = time.perf_counter() - started
                    finally:
                        worker.terminate()
                        worker.wait(30)
                    print(f"{backend:8} one worker delivered {receiver.count} events in "
                          f"{seconds:.1f} s: {receiver.count / seconds:.0f} events/s "
                          f"(process start included)")
        finally:
            receiver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visits", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        log(f"{backend}: {args.visits} visits")
        run(backend, args.visits, args.batch)


if __name__ == "__main__":
    main()
