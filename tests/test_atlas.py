"""The sequence atlas through Hydra's real multirun: jobs, re-runs, failures, determinism.

Each test launches ``python -m sim -m experiment=atlas_smoke`` (the ``negotiate`` command)
as a user would: 2 jobs (``block=orders``: two issue orders; ``block=package``: the package),
each agenda with two first movers, a batch of 8 seeds x 4 grid points per first mover,
through the joblib launcher.
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
BLOCKS = {"orders": ["order_00", "order_07"], "package": ["comprehensive"]}  # as in atlas_smoke.yaml
N_JOBS = len(BLOCKS)
RUNS_PER_AGENDA = 8 * 2 * 1 * 2 * 2  # seeds x trust x credibility x pressure levels x first movers
N_RUNS = RUNS_PER_AGENDA * sum(len(a) for a in BLOCKS.values())


def sweep(out: Path, *extra: str, cwd: Path | None = None, status: int = 0) -> subprocess.CompletedProcess:
    """Run the smoke atlas into ``out`` (a stable sweep dir) and return the finished process
    (exit ``status``: 0, or 1 when a job fails)."""
    env = dict(os.environ, CI="1", HYDRA_FULL_ERROR="0")
    cmd = [sys.executable, "-m", "sim", "-m", "experiment=atlas_smoke", f"hydra.sweep.dir={out}", *extra]
    res = subprocess.run(cmd, cwd=cwd or out.parent, capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == status, res.stderr[-3000:]
    return res


def report(out: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, CI="1")
    return subprocess.run(
        [sys.executable, "-m", "sim.report", str(out), "--no-figures"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


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
        # the folder names the job's block, and the stored config is the one that ran
        m = re.fullmatch(r"block=(\w+)", d.name)
        assert m and m.group(1) in BLOCKS
        agendas = BLOCKS[m.group(1)]
        assert len(runs) == rec["n_runs"] == RUNS_PER_AGENDA * len(agendas)
        assert rec["agenda_choice"] == ",".join(agendas) and rec["config"]["grid"]["agenda"] == agendas
        assert sorted(runs.trust_level.unique()) == [0.15, 0.7]
        assert sorted(runs.pressure_level.unique()) == [1.0, 2.0]
        assert list(runs.agenda_choice.unique()) == agendas  # every row says which agenda it came from
        assert runs.groupby("agenda_choice").agenda.nunique().eq(1).all()
        assert sorted(runs.first_mover.unique()) == ["Israel", "mediators"]
        assert (runs.groupby(["agenda_choice", "first_mover"]).size() == RUNS_PER_AGENDA // 2).all()
        cfg_text = (d / "config.yaml").read_text()
        assert "first_mover:\n  - Israel\n  - mediators" in cfg_text and f"block: {m.group(1)}" in cfg_text
        assert rec["version"] and rec["runs_per_s"] > 0 and rec["peak_memory_mb"] > 0
        if git.returncode == 0:
            assert rec["git_commit"] == git.stdout.strip()
        assert not list(d.glob(".*.tmp")), "a temporary file was left behind"
    orders = set(pd.concat(pd.read_parquet(d / "runs.parquet") for d in dirs).agenda)
    assert len(orders) == 3 and "comprehensive" in orders  # two generated orders and the package


def test_rerun_skips_finished_jobs_and_redoes_only_missing_ones(atlas):
    stamp = {d: ((d / "runs.parquet").stat().st_mtime_ns, (d / "job.json").read_bytes()) for d in job_dirs(atlas)}
    redo = sorted(stamp)[1]
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
    bad = out / "block=orders"
    (bad / "runs.parquet").mkdir(parents=True)  # the job cannot write its results there
    res = sweep(out, status=1)  # a sweep with a failed job fails
    assert "1 jobs done, 1 failed" in res.stdout
    assert f"FAILED {bad.name}" in res.stdout
    err = json.loads((bad / "error.json").read_text())
    assert err["status"] == "failed" and "runs.parquet" in err["error"] and "Traceback" in err["traceback"]
    states = {d.name: job_state(d) for d in job_dirs(out)}
    assert states == {"block=orders": "failed", "block=package": "done"}
    rep = report(out)
    assert rep.returncode == 0, rep.stderr
    assert f"FAILED {bad.name}" in rep.stdout and "1 done, 1 failed" in rep.stdout
    atlas = pd.read_parquet(out / "atlas.parquet")
    assert len(atlas) == RUNS_PER_AGENDA and set(atlas.agenda_choice) == {"comprehensive"}
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
    assert len(a) == N_RUNS
    pd.testing.assert_frame_equal(a, b)
    for d in (atlas, other):
        assert report(d).returncode == 0
    pd.testing.assert_frame_equal(pd.read_parquet(atlas / "atlas.parquet"), pd.read_parquet(other / "atlas.parquet"))
    assert (atlas / "atlas.parquet").read_bytes() == (other / "atlas.parquet").read_bytes()


def test_blocks_give_the_atlas_of_one_job_per_agenda(atlas, tmp_path):
    """The same agendas, one Hydra job each (no blocks): the same runs, row for row."""
    other = tmp_path / "sweep"
    choices = [a for agendas in BLOCKS.values() for a in agendas]
    res = sweep(other, "~hydra.sweeper.params.block", "block=null", "grid.agenda=[]", f"agenda={','.join(choices)}")
    assert f"{len(choices)} jobs done, 0 failed" in res.stdout
    a, b = merge(atlas, progress=False), merge(other, progress=False)
    assert sorted(b.job.unique()) == sorted(f"agenda={c},block=null,grid.agenda=[]" for c in choices)
    pd.testing.assert_frame_equal(a.drop(columns="job"), b.drop(columns="job"), check_exact=True)


# --------------------------------------------------------------------------- figures fit for a paper


def _texts(fig) -> list[str]:
    return [
        t.get_text()
        for t in fig.findobj(lambda o: hasattr(o, "get_text") and hasattr(o, "get_fontsize"))
        if t.get_visible() and str(t.get_text()).strip()
    ]


@pytest.fixture(scope="module")
def atlas_df(atlas) -> pd.DataFrame:
    return merge(atlas, progress=False)


def _with_never(df: pd.DataFrame, agenda: str = "order_00") -> tuple[pd.DataFrame, int]:
    """The atlas with every run of one agenda failed: its sequences (one per first mover) never agree."""
    out = df.copy()
    mask = out["agenda_choice"].astype(str) == agenda if "agenda_choice" in out else out["agenda"].astype(str) == agenda
    out.loc[mask, "agreement"] = False
    return out, int(out.loc[mask, "sequence"].nunique())


def test_heatmap_scale_runs_over_0_1_and_never_agreeing_sequences_share_a_row(atlas_df):
    from sim import plots
    from sim.report import rank

    df, k = _with_never(atlas_df)
    assert k >= 2
    fig = plots.atlas_heatmap(df)
    ax = fig.axes[0]
    im = ax.images[0]
    assert im.get_clim() == (0.0, 1.0)
    cbar = fig.axes[1].get_ylabel()
    assert "share of runs agreed" in cbar and "0 = no run agreed" in cbar and "1 = every run agreed" in cbar
    labels = [t.get_text() for t in ax.get_yticklabels()]
    n_seq = rank(df)["sequence"].nunique()
    assert len(labels) == n_seq - k + 1 and im.get_array().shape[0] == n_seq - k + 1
    assert labels[-1].startswith(f"{k} sequences that never agreed")
    n = df.groupby(["sequence", "condition"]).size()
    assert f"{n.min()} runs per cell" in ax.get_title() and "95% Wilson intervals at most" in ax.get_title()
    assert plots.smallest_font(fig) >= 8


def test_ranking_shows_n_and_intervals_and_groups_never_agreeing(atlas_df):
    from sim import plots

    df, k = _with_never(atlas_df)
    fig = plots.ranking_figure(df)
    ax = fig.axes[0]
    assert ax.get_xlim() == (0.0, 1.0)
    assert "95% Wilson interval" in ax.get_xlabel() and "n = " in ax.get_xlabel()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith(f"{k} sequences that never agreed") and "95% upper bound" in labels[0]
    assert ax.containers and any(c.__class__.__name__ == "ErrorbarContainer" for c in ax.containers)
    assert plots.smallest_font(fig) >= 8


def test_terms_figure_gives_n_intervals_and_each_scales_direction(atlas_df):
    from sim import plots
    from sim.api import load_scenario

    sc = load_scenario(str(atlas_df["scenario"].iloc[0])).sc
    fig = plots.terms_figure(atlas_df, sc)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == [i for i in sc.issues if f"term_{i}" in atlas_df.columns]
    for ax in panels:
        lo, hi = plots.scale_ends(sc, ax.get_title())
        label = ax.get_xlabel().replace("\n", " ")
        assert label.startswith(f"0 = {lo}") and label.endswith(f"1 = {hi}")
        assert ax.get_xlim()[0] <= 0 and ax.get_xlim()[1] >= 1
    rows = [t.get_text() for t in panels[0].get_yticklabels()]
    agreed = atlas_df[atlas_df["agreement"]].groupby("sequence").size()
    assert rows and all(f"(n = {agreed[r.rsplit(' (n = ', 1)[0]]:,})" in r for r in rows)
    assert "95% interval" in fig._suptitle.get_text()
    assert plots.smallest_font(fig) >= 8
    # no Gaza words are written into the plotting code: they come from the scenario
    src = (ROOT / "sim" / "plots.py").read_text()
    assert "Hamas" not in src and "IDF" not in src and "disarmament" not in src


def test_positions_figure_shows_whole_anchor_words_at_8_pt():
    from sim import build, load_config, plots
    from sim.classroom import ClassroomModel

    model = ClassroomModel(static=build(load_config(["agenda=comprehensive"])), rng=0)
    model.run()
    fig = plots.positions_figure(model)
    sc = model.static.sc
    for ax in fig.axes:
        if not ax.get_visible() or ax.get_title() not in sc.issues:
            continue
        want = [label for _, label in sc.anchors[sc.issues.index(ax.get_title())]]
        got = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
        assert got == want
    assert plots.smallest_font(fig) >= 8
    assert plots.smallest_font(plots.utility_figure(model)) >= 8
    assert plots.smallest_font(plots.network_figure(model)) >= 8
