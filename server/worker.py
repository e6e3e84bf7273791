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
import select
import signal
import socket
import threading
import uuid
from collections.abc import Callable

import click
from flask import Flask, current_app
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from .extensions import db
from .webhooks.dispatch import DeliverySettings, Dispatcher
from .webhooks.models import WebhookDelivery, WebhookEvent, WorkerJob
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


class StopSignals:
    """While open, SIGTERM and SIGINT are only noted: the interpreter writes
    each one's number to a socket (``signal.set_wakeup_fd``) and ``wait``
    reads it. No Python code runs in the handlers: one that logs or sets an
    Event deadlocks when a second signal comes in while it runs (Ctrl-C and
    the launcher's SIGTERM come together)."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __enter__(self) -> StopSignals:
        self._read, self._write = socket.socketpair()
        self._write.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        self._previous = {signum: signal.signal(signum, lambda _signum, _frame: None)
                          for signum in self.SIGNALS}
        return self

    def wait(self, while_true: Callable[[], bool]) -> str | None:
        """The name of the first signal to come, or None once ``while_true``
        says False."""
        while while_true():
            if select.select([self._read], [], [], 1.0)[0]:
                return signal.Signals(self._read.recv(1)[0]).name
        return None

    def __exit__(self, *_exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._read.close()
        self._write.close()


def missing_tables() -> set[str]:
    """The worker's tables the database lacks (none when it cannot be
    reached now: the worker waits for a database that is restarting)."""
    try:
        found = set(inspect(db.engine).get_table_names())
    except OperationalError:
        return set()
    return {m.__tablename__ for m in (WebhookDelivery, WebhookEvent, WorkerJob)} - found


def register_worker_cli(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--once", is_flag=True,
                  help="Send what is due and run the jobs that are due, then exit.")
    def worker_command(once):
        """Send webhook deliveries and run the periodic jobs (promise upkeep,
        attachment purge) until stopped with SIGTERM or Ctrl-C."""
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        missing = missing_tables()
        if missing:
            raise click.ClickException(
                f"the database lacks the worker's tables ({', '.join(sorted(missing))}): "
                "run 'flask --app wsgi init-db' first")
        worker = Worker(current_app._get_current_object())
        urls = current_app.config.get("WEBHOOK_URLS") or ()

        def started():
            log.info("worker %s started: %d webhook endpoint(s); jobs: %s", worker.name, len(urls),
                     ", ".join(f"{j.name} every {j.every.total_seconds() / 60:g} min"
                               for j in worker.jobs) or "none")

        if once:
            started()
            worker.run(once=True)
        else:
            # Signals after the first are dropped: the stop under way finishes.
            with StopSignals() as signals:
                started()
                runner = threading.Thread(target=worker.run, name="worker-deliveries")
                runner.start()
                received = signals.wait(runner.is_alive)
                if received:
                    log.info("worker %s: %s received, stopping", worker.name, received)
                    worker.stop.set()
                runner.join()
        log.info("worker %s stopped", worker.name)
