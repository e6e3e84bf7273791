"""``flask --app wsgi worker``: the background process beside the web
server. It sends the webhook deliveries (``webhooks/dispatch.py``) and runs
the periodic jobs (``webhooks/schedule.py``: promise upkeep, attachment
purge). Any number may run, on any machines sharing the database: the
queue and the jobs are claimed with leases, so nothing is done twice at
once. SIGTERM or SIGINT stops it after the POSTs under way (at most the
webhook timeout); a stop any harder loses nothing either — what it had
claimed is sent again once the lease has run out."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid

import click
from flask import Flask, current_app

from .extensions import db
from .webhooks.dispatch import DeliverySettings, Dispatcher
from .webhooks.schedule import jobs_from_config, run_due

log = logging.getLogger("fieldvisit.worker")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    def __init__(self, app: Flask, name: str | None = None):
        self.app = app
        self.name = name or worker_name()
        self.stop = threading.Event()
        config = app.config
        self.poll_s = max(0.05, config["WORKER_POLL_S"])
        self.jobs = jobs_from_config(config)
        self.settings = DeliverySettings.from_config(config)

    def deliver_until_stopped(self, once: bool = False) -> None:
        with self.app.app_context():
            dispatcher = Dispatcher(lambda: db.session, self.name, self.settings)
            try:
                while not self.stop.is_set():
                    try:
                        sent = dispatcher.run_once()
                    except Exception:
                        # The database may be restarting: wait, try again.
                        db.session.rollback()
                        log.exception("webhook delivery round failed")
                        sent = 0
                    if once and not sent:
                        return
                    if not sent:
                        self.stop.wait(self.poll_s)
            finally:
                dispatcher.close()
                db.session.remove()

    def run_jobs_until_stopped(self, once: bool = False) -> None:
        if not self.jobs:
            return
        # Often enough for the shortest interval, never busier than the poll.
        every = max(self.poll_s, min(60.0, min(j.every.total_seconds() for j in self.jobs) / 2))
        with self.app.app_context():
            try:
                while not self.stop.is_set():
                    try:
                        run_due(db.session, self.jobs, self.name)
                    except Exception:
                        db.session.rollback()
                        log.exception("scheduled jobs failed")
                    if once:
                        return
                    self.stop.wait(every)
            finally:
                db.session.remove()

    def run(self, once: bool = False) -> None:
        jobs = threading.Thread(target=self.run_jobs_until_stopped, args=(once,),
                                name="worker-jobs", daemon=True)
        jobs.start()
        self.deliver_until_stopped(once)
        if not once:
            self.stop.set()
        jobs.join()


def register_worker_cli(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--once", is_flag=True,
                  help="Send what is due and run the jobs that are due, then exit.")
    def worker_command(once):
        """Send webhook deliveries and run the periodic jobs (promise upkeep,
        attachment purge) until stopped with SIGTERM or Ctrl-C."""
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        worker = Worker(current_app._get_current_object())

        def stop(signum, _frame):
            log.info("worker %s: %s received, stopping", worker.name,
                     signal.Signals(signum).name)
            worker.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        urls = current_app.config.get("WEBHOOK_URLS") or ()
        log.info("worker %s started: %d webhook endpoint(s); jobs: %s", worker.name, len(urls),
                 ", ".join(f"{j.name} every {j.every.total_seconds() / 60:g} min"
                           for j in worker.jobs) or "none")
        worker.run(once)
        log.info("worker %s stopped", worker.name)
