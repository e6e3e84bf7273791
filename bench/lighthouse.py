"""Lighthouse on the collector app's first screen (mobile): performance,
accessibility and best practices, which we hold at 0.95 or more.

Starts the real server (gunicorn, a fresh SQLite database with the demo
data), then runs ``bench/lighthouse_flow.mjs`` with Lighthouse from npm
(``bench/node_modules``, installed on first use with ``npm install --prefix
bench``) on Debian's Chromium (``CHROME_PATH``, default
``/usr/bin/chromium``). Two measurements: a phone's first visit (sign-in
screen, nothing cached) and a signed-in collector opening Today again.
Prints the scores and metrics, writes ``bench/results/lighthouse.json``,
and exits 1 when a score is under the bar.

    .venv/bin/python bench/lighthouse.py [--runs 3] [--min-score 0.95]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, database, gunicorn, log, server_env, workdir  # noqa: E402

BENCH = REPO / "bench"
RESULTS = BENCH / "results" / "lighthouse.json"
DEMO_USER, DEMO_PASSWORD = "alice", "fieldvisit-demo"
CATEGORIES = ("performance", "accessibility", "best-practices")


def ensure_lighthouse() -> Path:
    entry = BENCH / "node_modules" / "lighthouse" / "package.json"
    if not entry.exists():
        if shutil.which("npm") is None:
            raise SystemExit("npm is missing: install Node.js and npm (Debian: apt-get install npm)")
        log("installing Lighthouse into bench/node_modules …")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(BENCH)],
                       check=True, timeout=900)
    return BENCH / "lighthouse_flow.mjs"


def flask(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=REPO, env=env,
                   check=True, capture_output=True, timeout=300)


def run_once(script: Path, base: str, out: Path) -> list[dict]:
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    subprocess.run(["node", str(script), base, DEMO_USER, DEMO_PASSWORD, str(out)],
                   cwd=BENCH, env=env, check=True, timeout=600)
    return json.loads(out.read_text())["steps"]


def _median(values) -> float | None:
    """Median of the values a run gave (a metric a step does not measure is None)."""
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def _ms(value) -> str:
    return "—" if value is None else f"{value:.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs; the median is reported")
    parser.add_argument("--min-score", type=float, default=0.95)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON figures go")
    args = parser.parse_args(argv)
    script = ensure_lighthouse()
    with workdir("fieldvisit-lighthouse-") as tmp, database("sqlite", tmp) as url:
        env = server_env(url, tmp)
        flask(env, "init-db")
        flask(env, "demo")
        runs = []
        with gunicorn(url, tmp, workers=2, threads=4) as server:
            for i in range(args.runs):
                log(f"Lighthouse run {i + 1}/{args.runs} …")
                runs.append(run_once(script, server.url, tmp / f"run-{i}.json"))

    report = {"runs": runs, "median": []}
    ok = True
    for step_index, first in enumerate(runs[0]):
        steps = [run[step_index] for run in runs]
        median = {
            "name": first["name"],
            "scores": {c: statistics.median(s["scores"][c] for s in steps) for c in CATEGORIES},
            "metrics_ms": {m: _median(s["metrics_ms"][m] for s in steps) for m in first["metrics_ms"]},
            "transfer_bytes": _median(s["transfer_bytes"] for s in steps),
            "requests": _median(s["requests"] for s in steps),
            "all_scores": [s["scores"] for s in steps],
            "failed_audits": sorted({a for s in steps for a in s["failed_audits"]}),
        }
        report["median"].append(median)
        print(f"\n{median['name']}  (median of {len(steps)}; Lighthouse {first['lighthouse']})")
        for category in CATEGORIES:
            score = median["scores"][category]
            low = min(s["scores"][category] for s in steps)
            mark = "ok" if low >= args.min_score else f"BELOW {args.min_score}"
            ok &= low >= args.min_score
            print(f"  {category:15} {score:.2f}  (lowest {low:.2f})  {mark}")
        m = median["metrics_ms"]
        print(f"  FCP {_ms(m['first-contentful-paint'])} · LCP {_ms(m['largest-contentful-paint'])} · "
              f"TBT {_ms(m['total-blocking-time'])} · SI {_ms(m['speed-index'])} · "
              f"CLS {m['cumulative-layout-shift']}")
        if median["transfer_bytes"] is not None:
            print(f"  {median['transfer_bytes'] / 1024:.1f} KB transferred in {median['requests']:.0f} requests")
        if median["failed_audits"]:
            print("  audits not passed:", ", ".join(median["failed_audits"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwritten to {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
