"""``make run``'s launcher (tools/run_dev.py) starts one worker beside the
development server, on a fresh SQLite database, and Ctrl-C stops both; a
worker on a database that was never set up says what to run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from .process import ROOT, worker_env
from .receiver import free_port

pytestmark = pytest.mark.slow


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too (reaped late by its parent).
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[-1][0] != "Z"


def test_the_launcher_runs_server_and_worker_and_ctrl_c_stops_both(tmp_path):
    env = worker_env(f"sqlite:///{tmp_path / 'dev.sqlite3'}", tmp_path / "instance", [])
    env.pop("FIELDVISIT_WEBHOOK_URLS")
    env["FIELDVISIT_WORKER_PROMISES_MINUTES"] = "15"
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=ROOT,
                   env=env, check=True, capture_output=True)
    port = free_port()
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        launcher = subprocess.Popen([sys.executable, "tools/run_dev.py", "--host", "127.0.0.1",
                                     "--port", str(port)], cwd=ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/supervisor/login",
                                            timeout=2) as answer:
                    assert answer.status == 200
                text = log.read_text()
                if "started" in text and "promises.refresh" in text:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        worker_pid = int(re.search(r"worker [^:\s]+:(\d+):\w+ started", log.read_text()).group(1))
        assert _alive(worker_pid)
        # Ctrl-C in the terminal: SIGINT to the whole foreground group.
        os.killpg(launcher.pid, signal.SIGINT)
        assert launcher.wait(20) is not None
        assert not _alive(worker_pid), log.read_text()
        assert "stopped" in log.read_text()
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()


def test_a_worker_on_a_database_not_set_up_says_how_to_set_it_up(tmp_path):
    env = worker_env(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path / "instance", [])
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "the database lacks the worker's tables" in done.stderr
    assert "flask --app wsgi init-db" in done.stderr
