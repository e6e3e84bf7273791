"""The real worker, ``flask --app wsgi worker``, in a process of its own
(its own process group, killed at teardown whatever happened)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]


def worker_env(database_url: str, instance: Path, urls: list[str], **settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDVISIT_")}
    env.update({
        "FIELDVISIT_DATABASE_URL": database_url,
        "FIELDVISIT_INSTANCE_PATH": str(instance),
        "FIELDVISIT_SECRET_KEY": "test-secret",
        "FIELDVISIT_WEBHOOK_URLS": ",".join(urls),
        "FIELDVISIT_WEBHOOK_SECRET": SECRET,
        "FIELDVISIT_WEBHOOK_TIMEOUT_S": "2",
        "FIELDVISIT_WEBHOOK_LEASE_S": "4",
        "FIELDVISIT_WEBHOOK_BACKOFF_S": "0.05",
        "FIELDVISIT_WEBHOOK_BACKOFF_MAX_S": "0.2",
        "FIELDVISIT_WORKER_POLL_S": "0.05",
        "FIELDVISIT_WORKER_PROMISES_MINUTES": "0",
        "FIELDVISIT_WORKER_PURGE_MINUTES": "0",
        "PYTHONUNBUFFERED": "1",
    })
    env.update({f"FIELDVISIT_{k}": str(v) for k, v in settings.items()})
    return env


class WorkerProcess:
    def __init__(self, env: dict, log_path: Path):
        self.env, self.log_path = env, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        self.log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=self.env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for_log("started")
        return self

    def text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, needle: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited ({self.process.returncode}):\n{self.text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} in the worker's log:\n{self.text()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """``kill -9``: no chance to finish or clean anything up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 15.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(10)
        if getattr(self, "log", None):
            self.log.close()
