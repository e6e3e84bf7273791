"""Smoke test of the sync benchmarks (bench/README.md, "Performance"): each
script runs end to end with tiny sizes against real gunicorn processes, so
that none of them rots. Figures are printed by the scripts, never asserted:
only that the work was done (records pushed, pulled, counted)."""

from __future__ import annotations

import os

import pytest

from bench import (
    attachment_upload,
    bad_network,
    common,
    exports,
    first_sync,
    plot_batches,
    sync_throughput,
)

pytestmark = pytest.mark.slow

PG_URL = os.environ.get("FIELDVISIT_TEST_POSTGRES_URL")


def _backends() -> str:
    return "sqlite,postgres" if PG_URL else "sqlite"


@pytest.fixture
def postgres_for_bench(monkeypatch):
    if PG_URL:
        monkeypatch.setattr(common, "PG_ADMIN_URL", PG_URL)


@pytest.fixture(scope="module")
def pouchdb_ready():
    """pouchdb-server from npm, installed once into common.NPM_DIR (about a
    minute the first time; reused afterwards)."""
    if common.pouchdb_bin().exists():
        return True
    if not common.npm_reachable():
        pytest.skip("pouchdb part skipped: npm or its registry is unreachable, so "
                    "pouchdb-server cannot be installed")
    common.ensure_pouchdb_server()
    return True


def test_sync_throughput_ours_and_floor(postgres_for_bench, capsys):
    figures = sync_throughput.main(["--visits", "30", "--batch", "10", "--limit", "12",
                                    "--accounts", "4", "--backends", _backends(),
                                    "--pouch", "off"])
    for f in figures["ours"].values():
        assert f["push"]["items"] == 30 and f["push"]["requests"] == 3
        assert f["pull"]["items"] == 30 and f["pull"]["requests"] == 3
    assert figures["sqlite_floor"]["pull"]["items"] == 30
    assert "push mut/s" in capsys.readouterr().out


def test_sync_throughput_pouchdb_server(pouchdb_ready, tmp_path):
    docs = [common.as_couch_doc(m, "c") for m in common.visit_mutations("x", 1, ["a"], 25)]
    with common.pouchdb_server(tmp_path) as server:
        push, pull = sync_throughput.measure_pouch(server, docs, 10, 10)
    assert (push.items, push.requests) == (25, 3)
    assert pull.items == 25


def test_bad_network(pouchdb_ready):
    figures = bad_network.main(["--rtt", "0.01", "--drop", "0.1", "--accounts", "12",
                                "--visits", "6", "--request-timeout", "5", "--trials", "1"])
    trial = figures["trials"][0]
    assert trial["ours"]["pull"]["records"] == 12
    assert trial["ours"]["push"]["records"] == 6
    assert trial["pouchdb"]["pull"]["local_docs"] == 12
    assert figures["summary"]["pouchdb/push"]["median_requests"] > 0


def test_first_sync(capsys):
    figures = first_sync.main(["--accounts", "4", "--visits", "8", "--limits", "5"])
    gzip_run, plain = figures["runs"]
    assert gzip_run["records"] == plain["records"] == 4 + 8 + 2  # two promises to pay
    assert gzip_run["requests"] == 1 + 3
    assert "identity" in capsys.readouterr().out


def test_plot_batches(tmp_path):
    out = tmp_path / "plot.png"
    figures = plot_batches.main(["--visits", "12", "--accounts", "3", "--pushes", "4,12",
                                 "--limits", "5,50", "--backends", "sqlite", "--pouch", "off",
                                 "--out", str(out)])
    assert out.stat().st_size > 1000 and out.with_suffix(".json").exists()
    series = figures["series"]["ours (sqlite)"]
    assert series["push"]["4"]["requests"] == 3
    assert series["pull"]["5"]["items"] == 3 + 24


def test_lighthouse_runs_the_first_screen_flow(tmp_path):
    """One Lighthouse run of both steps (its figures are not asserted here:
    bench/README.md has them). Needs Lighthouse in bench/node_modules
    (`npm install --prefix bench`) and Debian's Chromium."""
    import json
    import shutil

    from bench import lighthouse

    if not (lighthouse.BENCH / "node_modules" / "lighthouse").is_dir() or shutil.which("node") is None:
        pytest.skip("Lighthouse is not installed: npm install --prefix bench")
    out = tmp_path / "lighthouse.json"
    assert lighthouse.main(["--runs", "1", "--min-score", "0", "--out", str(out)]) == 0
    steps = json.loads(out.read_text())["median"]
    assert [s["name"] for s in steps] == ["First visit: sign-in screen", "Signed in: Today (return visit)"]
    for step in steps:
        assert all(isinstance(v, float | int) for v in step["scores"].values()), step


def test_attachment_upload(capsys):
    figures = attachment_upload.main(["--rtt", "0.01", "--drop", "0.05", "--photos", "2",
                                      "--photo-size", "300K", "--large", "1", "--chunks", "512K"])
    assert [run["photos"] for run in figures["runs"]] == [2, 1]
    assert all(run["requests_per_photo"] >= 2 for run in figures["runs"])
    assert "req/photo" in capsys.readouterr().out


def test_exports(capsys):
    figures = exports.main(["--visits", "300", *(["--postgres", PG_URL] if PG_URL else [])])
    for result in figures["results"].values():
        assert result["counts"] == {"visits": 300, "payments": 150}
        runs = {r["path"]: r for r in result["runs"]}
        assert list(runs) == list(exports.EXPORTS)
        # Every CSV line arrived (the script also checks it), each file in chunks.
        assert runs["/supervisor/visits.csv"]["lines"] == 301
        assert runs["/supervisor/payments.csv"]["lines"] == 151
        assert all(r["bytes"] > 0 and r["peak_heap_mib"] > 0 for r in runs.values())
    assert "rows/s" in capsys.readouterr().out
