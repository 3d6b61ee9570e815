"""The same sweep through Hydra's own launchers gives the same atlas, bit for bit.

joblib (the experiments' default, parallel processes), basic (one process, in order) and
submitit_local (one process per job, as on a SLURM cluster with ``submitit_slurm``).
Ray runs only where the ``ray`` extra is installed (it is heavy; see README "Sweeps").
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from sim.report import merge
from sim.sweep import job_dirs, job_state
from tests.test_atlas import N_JOBS, N_RUNS, sweep


@pytest.fixture(scope="module")
def joblib_atlas(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("joblib") / "sweep"
    sweep(out)
    df = merge(out, progress=False)
    assert len(df) == N_RUNS
    return df


def _same_as(reference: pd.DataFrame, out: Path) -> None:
    assert [job_state(d) for d in job_dirs(out)] == ["done"] * N_JOBS
    pd.testing.assert_frame_equal(merge(out, progress=False), reference)


def test_basic_launcher_gives_the_joblib_atlas(joblib_atlas, tmp_path):
    out = tmp_path / "sweep"
    sweep(out, "hydra/launcher=basic")
    _same_as(joblib_atlas, out)


@pytest.mark.slow
def test_submitit_local_launcher_gives_the_joblib_atlas(joblib_atlas, tmp_path):
    out = tmp_path / "sweep"
    res = sweep(out, "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10")
    assert f"{N_JOBS} jobs done, 0 failed" in res.stdout
    _same_as(joblib_atlas, out)
    assert (out / ".submitit").is_dir()  # submitit ran each job as its own process


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None,
    reason="the optional 'ray' extra is not installed (pip install -e '.[ray]')",
)
def test_ray_launcher_gives_the_joblib_atlas(joblib_atlas, tmp_path):
    out = tmp_path / "sweep"
    sweep(out, "hydra/launcher=ray", "hydra.launcher.ray.init.num_cpus=2")
    _same_as(joblib_atlas, out)
