"""How long ``negotiate-report`` takes to merge a sweep, and how much memory: before and after DuckDB.

Run ``python benchmarks/merge_bench.py`` to build a synthetic sweep of 40 jobs and about
470,000 runs (the size of the full sequence atlas) and merge it both ways, or
``--dir multirun/sequence_atlas`` to merge a real sweep directory instead.

The synthetic sweep is made from one real job: its runs (every grid point of the atlas,
three first movers, ``--rows / --jobs`` runs in all) are simulated once and written, as a
job writes them, into ``--jobs`` job folders, each under a different agenda name, with
the ``job.json`` and ``result.json`` that make a folder a finished job.

Each merge runs in a fresh process, so its peak resident memory (``ru_maxrss`` of the
child, the figure ``/usr/bin/time -f %M`` prints) counts nothing of this script (which
imports nothing heavy and makes the synthetic sweep in a child too: a child's peak
counts the memory of the process it was forked from):

- ``imports``: only ``import sim.report`` (the floor every merge pays),
- ``before``: the pandas merge of earlier versions (read every job's table, concatenate,
  sort, add the labels; then write ``atlas.parquet``), kept below as :func:`old_merge`,
- ``after``: :func:`sim.report.merge_to` (DuckDB reads the jobs' files at once and sorts
  them a part at a time; the rows are streamed into the file),
- ``report``: :func:`sim.report.write_report` without figures, what ``negotiate-report DIR
  --no-figures`` does (merge, rankings, ``ranking.csv``, ``report.md``).

Times are wall-clock seconds of the merge itself (imports excluded), best of ``--repeat``;
memory is the largest peak over the repeats. ``--check`` also compares the two atlases
row by row.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONDITIONS = [
    "grid.trust=[0.15,0.4,0.7]",
    "grid.credibility=[0.4,0.6,0.8]",
    "grid.pressure=[0.5,1.0,2.0]",
    "grid.first_mover=[Israel,Hamas,mediators]",
]  # as conf/experiment/sequence_atlas.yaml
POINTS = 27 * 3  # grid points x first movers


def old_merge(root: Path):
    """The merge of earlier versions (pandas), for comparison: the same table, sorted the same way."""
    import pandas as pd

    from sim.report import SORT_KEYS, _first_mover, add_labels
    from sim.sweep import JOB_FILE, job_dirs, job_state, read_json

    parts = []
    for d in [d for d in job_dirs(root) if job_state(d) == "done"]:
        t = pd.read_parquet(d / "runs.parquet")
        rec = read_json(d / JOB_FILE) or {}
        choice = t.pop("agenda_choice") if "agenda_choice" in t.columns else rec.get("agenda_choice") or ""
        t["job"] = str(d.relative_to(root)) if d != root else "."
        t["agenda_choice"] = choice
        if "first_mover" not in t.columns:
            t["first_mover"] = _first_mover(rec.get("config") or {})
        t["version"] = rec.get("version") or ""
        parts.append(t)
    df = pd.concat(parts, ignore_index=True)
    df = df.sort_values(list(SORT_KEYS), kind="mergesort", na_position="first").reset_index(drop=True)
    return add_labels(df)


def make_sweep(root: Path, rows: int, jobs: int) -> int:
    """Write ``jobs`` finished job folders of about ``rows`` runs in all; return the runs written."""
    from sim.api import load_config
    from sim.io import write_json, write_parquet
    from sim.job import run_movers
    from sim.sweep import provenance

    n_seeds = max(1, round(rows / jobs / POINTS))
    t0 = time.perf_counter()
    table = run_movers(load_config([f"n_seeds={n_seeds}", "quiet=true", *CONDITIONS])).table
    print(f"simulated one job: {len(table):,} runs in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    issues = ["disarmament", "withdrawal", "guarantees", "governance", "exchange"]
    orders = itertools.islice(itertools.permutations(issues), jobs)
    for k, order in enumerate(orders):
        agenda = "sequence:" + ">".join(order) + ">ceasefire"
        d = root / f"block={k:02d}"
        t = table.copy()
        t["agenda"] = agenda
        t.insert(t.columns.get_loc("first_mover") + 1, "agenda_choice", f"order_{k:02d}")
        write_parquet(d / "runs.parquet", t)
        write_json(d / "result.json", {"agenda": agenda, "n_seeds": n_seeds})
        write_json(
            d / "job.json",
            {
                "status": "ok",
                "agenda_choice": f"order_{k:02d}",
                "n_runs": len(t),
                "wall_s": 1.0,
                "runs_per_s": float(len(t)),
                "peak_memory_mb": 100.0,
                **provenance(),
                "config": {"agenda": {"first_mover": "mediators"}},
            },
        )
    return len(table) * jobs


def measure(mode: str, root: Path, out: Path) -> dict:
    """Run one merge in this (fresh) process; print what it took as JSON."""
    t0 = time.perf_counter()
    import sim.report as report

    t1 = time.perf_counter()
    n = None
    if mode == "before":
        df = old_merge(root)
        df.to_parquet(out, index=False)  # as sim.io.write_parquet did then (pyarrow's defaults)
        n = len(df)
    elif mode == "after":
        n = report.merge_to(root, out)
    elif mode == "report":
        n = report.write_report(root, out.parent, figures=False)["n_runs"]
    return {"mode": mode, "seconds": time.perf_counter() - t1, "import_s": t1 - t0, "rows": n}


def child(mode: str, root: Path, out: Path) -> dict:
    """Run :func:`measure` in a child process; add its peak resident memory (MB)."""
    env = dict(os.environ, CI="1")
    p = subprocess.Popen(
        [sys.executable, __file__, "--measure", mode, str(root), str(out)], stdout=subprocess.PIPE, env=env, text=True
    )
    text = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"merge_bench: the {mode} merge failed (exit {p.returncode})")
    res = json.loads(text.strip().splitlines()[-1])
    res["peak_rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux, as /usr/bin/time -f %M
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, help="merge this sweep directory instead of a synthetic one")
    ap.add_argument("--rows", type=int, default=470_000, help="runs in the synthetic sweep (default 470,000)")
    ap.add_argument("--jobs", type=int, default=40, help="job folders in the synthetic sweep (default 40)")
    ap.add_argument("--repeat", type=int, default=3, help="merges of each kind (best time, largest memory)")
    ap.add_argument("--modes", default="imports,before,after,report", help="which to measure, comma-separated")
    ap.add_argument("--check", action="store_true", help="check that both merges give the same table")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--measure", nargs=3, metavar=("MODE", "DIR", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--make", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.measure:
        mode, root, out = a.measure
        print(json.dumps(measure(mode, Path(root), Path(out))))
        return 0
    if a.make:
        make_sweep(a.make, a.rows, a.jobs)
        return 0
    with tempfile.TemporaryDirectory(prefix="merge-bench-") as tmp:
        tmp = Path(tmp)
        root = a.dir
        if root is None:
            root = tmp / "sweep"
            subprocess.run(
                [sys.executable, __file__, "--make", str(root), "--rows", str(a.rows), "--jobs", str(a.jobs)],
                check=True,
                env=dict(os.environ, CI="1"),
            )
        files = sorted(root.rglob("runs.parquet"))
        size = sum(f.stat().st_size for f in files) / 2**20
        print(f"sweep: {root} ({len(files)} job files, {size:.0f} MB of runs.parquet)")
        results = {}
        for mode in a.modes.split(","):
            out = tmp / mode / "atlas.parquet"
            out.parent.mkdir(exist_ok=True)
            runs = [child(mode, root, out) for _ in range(a.repeat)]
            best = min(runs, key=lambda r: r["seconds"])
            results[mode] = {
                "rows": best["rows"],
                "seconds": best["seconds"],
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            }
            rows = f"{best['rows']:,} rows, " if best["rows"] is not None else ""
            print(f"{mode:>8}: {rows}{best['seconds']:.2f} s, peak RSS {results[mode]['peak_rss_mb']:.0f} MB")
        if a.check and {"before", "after"} <= set(results):
            import pandas as pd

            pd.testing.assert_frame_equal(
                pd.read_parquet(tmp / "before" / "atlas.parquet"), pd.read_parquet(tmp / "after" / "atlas.parquet")
            )
            print("check: the two atlases hold the same table")
        if a.json:
            a.json.write_text(json.dumps({"dir": str(a.dir) if a.dir else None, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
