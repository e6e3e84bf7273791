"""``bench/load.py`` end to end with a handful of phones, so the benchmark
cannot rot; and its verdict is checked on a database that is off by one."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from bench.load import ROOT, VISITS_PER_PHONE, Database, verify


@pytest.mark.slow
def test_load_script_runs_and_verifies_counts():
    done = subprocess.run(
        [sys.executable, "bench/load.py", "--phones", "5", "--concurrency", "5",
         "--workers", "2", "--database-url", "sqlite", "--time-limit", "120"],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified: 100 visits, 5 clients at last_seq 20" in done.stdout
    for op in ("login", "pull", "push"):
        assert f"\n{op} " in done.stdout


def test_verify_reports_a_missing_visit_and_a_short_client(tmp_path):
    path = tmp_path / "counts.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE visits (id TEXT)")
        conn.execute("CREATE TABLE clients (client_id TEXT, last_seq INTEGER)")
        conn.executemany("INSERT INTO visits VALUES (?)", [(str(i),) for i in range(39)])
        conn.executemany("INSERT INTO clients VALUES (?, ?)",
                         [("a", VISITS_PER_PHONE), ("b", VISITS_PER_PHONE - 1)])
    problems = verify(Database(url=f"sqlite:///{path}", path=path), phones=2)
    assert len(problems) == 2
    assert problems[0].startswith("visits: 39")
