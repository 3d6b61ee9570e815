"""Reproducibility: one seed, one answer, whatever the launcher; every job says what made it.

The tiny atlas (``experiment=atlas_smoke`` with 4 seeds) runs through Hydra's
basic launcher (one process), the joblib launcher (worker processes) and the
submitit_local launcher (one submitted process per job); the merged ``atlas.parquet``
must be the same bytes. Each job's stored config alone must reproduce its runs, and
``negotiate-report`` must warn when a directory mixes package versions or commits.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from omegaconf import OmegaConf

import sim
from sim.job import run_job
from sim.sweep import job_dirs, job_state
from tests.conftest import ROOT

LAUNCHERS = ("basic", "joblib", "submitit_local")


def env() -> dict[str, str]:
    return dict(os.environ, CI="1", HYDRA_FULL_ERROR="0")


def sweep(out: Path, launcher: str) -> None:
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "-m",
        "experiment=atlas_smoke",
        f"hydra/launcher={launcher}",
        f"hydra.sweep.dir={out}",
        "n_seeds=4",
    ]
    if launcher == "submitit_local":
        cmd += ["hydra.launcher.timeout_min=10"]
    out.parent.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(cmd, cwd=out.parent, capture_output=True, text=True, env=env(), timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    m = re.search(r"sweep finished in [\d.]+ s: (\d+) jobs done, 0 failed, 0 incomplete", res.stdout)
    assert m and int(m.group(1)) == len(job_dirs(out)) >= 2, res.stdout[-2000:]


def n_runs(root: Path) -> int:
    return sum(json.loads((d / "job.json").read_text())["n_runs"] for d in job_dirs(root))


def report(out: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("negotiate-report", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-m", "sim.report"]
    return subprocess.run(cmd + [str(out), "--no-figures"], capture_output=True, text=True, env=env(), timeout=300)


def head() -> str | None:
    git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return git.stdout.strip() if git.returncode == 0 else None


@pytest.fixture(scope="module")
def atlases(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("launchers")
    out = {}
    for launcher in LAUNCHERS:
        d = root / launcher / "sweep"
        before = head()
        sweep(d, launcher)
        rep = report(d)
        assert rep.returncode == 0, rep.stderr
        assert "mixes package versions" not in rep.stderr, rep.stderr
        if before == head():  # (a commit made while the sweep ran would rightly be flagged)
            assert "WARNING" not in rep.stderr, rep.stderr
        out[launcher] = d
    return out


@pytest.mark.slow
def test_launchers_give_identical_atlas_tables(atlases):
    tables = {k: pd.read_parquet(d / "atlas.parquet") for k, d in atlases.items()}
    base = tables["basic"]
    assert len(base) == n_runs(atlases["basic"]) > 0
    assert base.agreement.nunique() >= 1 and base.seed.nunique() == 4
    for k, t in tables.items():
        pd.testing.assert_frame_equal(t, base, obj=f"atlas from the {k} launcher")
        assert (atlases[k] / "atlas.parquet").read_bytes() == (atlases["basic"] / "atlas.parquet").read_bytes()


@pytest.mark.slow
def test_each_job_stores_config_version_and_commit(atlases):
    commit = head()
    for root in atlases.values():
        dirs = job_dirs(root)
        assert len(dirs) == len(job_dirs(atlases["basic"])) and all(job_state(d) == "done" for d in dirs)
        for d in dirs:
            rec = json.loads((d / "job.json").read_text())
            assert rec["version"] == sim.__version__
            if commit is not None:
                assert rec["git_commit"] and len(rec["git_commit"]) == 40
                ok = subprocess.run(["git", "merge-base", "--is-ancestor", rec["git_commit"], commit], cwd=ROOT)
                assert ok.returncode == 0, "the recorded commit is not in this checkout's history"
            assert yaml.safe_load((d / "config.yaml").read_text()) == rec["config"]


@pytest.mark.slow
def test_stored_config_alone_reproduces_the_runs(atlases, tmp_path):
    """The job body, given only the config a job stored (no Hydra, no overrides), writes the same runs."""
    for k, root in enumerate(atlases.values()):
        d = job_dirs(root)[k % len(job_dirs(root))]
        rec = json.loads((d / "job.json").read_text())
        out = tmp_path / str(k)
        run_job(OmegaConf.create(rec["config"]), out, multirun=False)
        pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), pd.read_parquet(d / "runs.parquet"))


@pytest.mark.slow
def test_report_warns_when_a_directory_mixes_versions(atlases, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(atlases["joblib"], mixed)
    d = job_dirs(mixed)[0]
    rec = json.loads((d / "job.json").read_text())
    rec["version"], rec["git_commit"] = "0.0.1", "0" * 40
    (d / "job.json").write_text(json.dumps(rec))
    rep = report(mixed)
    assert rep.returncode == 0, rep.stderr
    warnings = [ln for ln in rep.stderr.splitlines() if ln.startswith("WARNING:")]
    n = len(job_dirs(mixed))
    assert any(
        "mixes package versions" in w and "0.0.1 (1 jobs)" in w and f"{sim.__version__} ({n - 1} jobs)" in w
        for w in warnings
    ), rep.stderr
    assert any("mixes git commits" in w for w in warnings), rep.stderr
    # the report still covers every job
    assert len(pd.read_parquet(mixed / "atlas.parquet")) == n_runs(mixed)
