"""The sequence atlas through Hydra's real multirun: jobs, re-runs, failures, determinism.

Each test launches ``python -m sim -m experiment=atlas_smoke`` (the ``negotiate`` command)
as a user would: 3 jobs (two issue orders and the package), two first movers inside each, a
batch of 8 seeds x 4 grid points per first mover, through the joblib launcher.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.report import merge
from sim.sweep import job_dirs, job_state

ROOT = Path(__file__).resolve().parent.parent
N_JOBS = 3
RUNS_PER_JOB = 8 * 2 * 1 * 2 * 2  # seeds x trust x credibility x pressure levels x first movers


def sweep(out: Path, *extra: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the smoke atlas into ``out`` (a stable sweep dir) and return the finished process."""
    env = dict(os.environ, CI="1", HYDRA_FULL_ERROR="0")
    cmd = [sys.executable, "-m", "sim", "-m", "experiment=atlas_smoke", f"hydra.sweep.dir={out}", *extra]
    res = subprocess.run(cmd, cwd=cwd or out.parent, capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def report(out: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, CI="1")
    return subprocess.run([sys.executable, "-m", "sim.report", str(out), "--no-figures"], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def atlas(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("atlas") / "sweep"
    sweep(out)
    return out


def test_every_job_writes_runs_config_and_provenance(atlas):
    dirs = job_dirs(atlas)
    assert len(dirs) == N_JOBS
    git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    for d in dirs:
        assert job_state(d) == "done"
        rec = json.loads((d / "job.json").read_text())
        runs = pd.read_parquet(d / "runs.parquet")
        assert len(runs) == rec["n_runs"] == RUNS_PER_JOB
        assert sorted(runs.trust_level.unique()) == [0.15, 0.7]
        assert sorted(runs.pressure_level.unique()) == [1.0, 2.0]
        # the folder names the job's overrides, and the stored config is the one that ran
        m = re.fullmatch(r"agenda=(\w+)", d.name)
        assert m and rec["agenda_choice"] == m.group(1)
        assert sorted(runs.first_mover.unique()) == ["Israel", "mediators"]
        assert (runs.groupby("first_mover").size() == RUNS_PER_JOB // 2).all()
        assert "first_mover:\n  - Israel\n  - mediators" in (d / "config.yaml").read_text()
        assert rec["version"] and rec["runs_per_s"] > 0 and rec["peak_memory_mb"] > 0
        if git.returncode == 0:
            assert rec["git_commit"] == git.stdout.strip()
        assert not list(d.glob(".*.tmp")), "a temporary file was left behind"
    orders = {pd.read_parquet(d / "runs.parquet").agenda.iloc[0] for d in dirs}
    assert len(orders) == 3 and "comprehensive" in orders  # two generated orders and the package


def test_rerun_skips_finished_jobs_and_redoes_only_missing_ones(atlas):
    stamp = {d: ((d / "runs.parquet").stat().st_mtime_ns, (d / "job.json").read_bytes()) for d in job_dirs(atlas)}
    redo = sorted(stamp)[2]
    (redo / "job.json").unlink()  # as if this job had been killed before it finished
    res = sweep(atlas)
    assert f"{N_JOBS} jobs done, 0 failed" in res.stdout
    for d, (mtime, blob) in stamp.items():
        if d == redo:
            assert (d / "job.json").exists() and (d / "runs.parquet").stat().st_mtime_ns != mtime
        else:
            assert (d / "runs.parquet").stat().st_mtime_ns == mtime and (d / "job.json").read_bytes() == blob
            assert "skipped" in (d / "cli.log").read_text()


def test_a_failing_job_spoils_no_other_and_is_listed(tmp_path):
    out = tmp_path / "sweep"
    bad = out / "agenda=order_07"
    (bad / "runs.parquet").mkdir(parents=True)  # the job cannot write its results there
    res = sweep(out)
    assert "2 jobs done, 1 failed" in res.stdout
    assert f"FAILED {bad.name}" in res.stdout
    err = json.loads((bad / "error.json").read_text())
    assert err["status"] == "failed" and "runs.parquet" in err["error"] and "Traceback" in err["traceback"]
    states = {d.name: job_state(d) for d in job_dirs(out)}
    assert sorted(states.values()) == ["done"] * 2 + ["failed"]
    rep = report(out)
    assert rep.returncode == 0, rep.stderr
    assert f"FAILED {bad.name}" in rep.stdout and "2 done, 1 failed" in rep.stdout
    assert len(pd.read_parquet(out / "atlas.parquet")) == 2 * RUNS_PER_JOB
    # fix the cause and run again: only the failed job runs, and the error is gone
    (bad / "runs.parquet").rmdir()
    res = sweep(out)
    assert f"{N_JOBS} jobs done, 0 failed" in res.stdout
    assert not (bad / "error.json").exists() and job_state(bad) == "done"


def test_same_atlas_twice_gives_identical_table(atlas, tmp_path):
    """A second run, one process instead of two, into another directory: the same atlas."""
    other = tmp_path / "sweep"
    sweep(other, "hydra.launcher.n_jobs=1")
    a, b = merge(atlas, progress=False), merge(other, progress=False)
    assert len(a) == N_JOBS * RUNS_PER_JOB
    pd.testing.assert_frame_equal(a, b)
    for d in (atlas, other):
        assert report(d).returncode == 0
    pd.testing.assert_frame_equal(pd.read_parquet(atlas / "atlas.parquet"), pd.read_parquet(other / "atlas.parquet"))
    assert (atlas / "atlas.parquet").read_bytes() == (other / "atlas.parquet").read_bytes()
