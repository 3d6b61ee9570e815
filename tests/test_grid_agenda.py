"""``grid.agenda``: several agendas in one job, each exactly as if it ran alone.

A sweep of a few large jobs (the sequence atlas's blocks) must give the very runs that one
job per agenda gives: same seeds, same results bit for bit, rows that say which agenda
they came from. A bad agenda name fails the job before any work, with the key, the value
and the valid choices. These tests call the job body in-process (what each Hydra job runs).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import sim.job
from sim.api import CONF_DIR, load_config
from sim.errors import ConfigError
from sim.job import n_runs, resolve_agenda, run_agendas, run_job, run_movers, run_sweep_job
from sim.report import merge

GRID = ["n_seeds=6", "seed=3", "grid.trust=[0.15,0.7]", "grid.pressure=[1.0,2.0]", "grid.first_mover=[Israel,Hamas]"]
AGENDAS = ["order_07", "phased_plan", "comprehensive"]


def agenda_grid(*extra: str) -> list[str]:
    return [f"grid.agenda=[{','.join(AGENDAS)}]", *GRID, *extra]


@pytest.mark.parametrize(
    "choice", ["order_00", "order_23", *sorted(p.stem for p in (Path(CONF_DIR) / "agenda").glob("*.yaml"))]
)
def test_resolved_agenda_is_the_composed_one(choice):
    agenda, where = resolve_agenda(choice)
    composed = load_config([f"agenda={choice}"]).agenda
    assert agenda == composed and list(agenda) == list(composed)
    assert where == (
        f"agenda choice {choice} (generated, no file)" if choice.startswith("order_") else f"conf/agenda/{choice}.yaml"
    )


def test_each_agenda_gives_the_runs_it_gives_alone():
    both = run_agendas(load_config(agenda_grid()))
    t = both.table
    assert len(t) == n_runs(load_config(agenda_grid())) == 3 * 2 * 2 * 2 * 6
    assert list(t["agenda_choice"].unique()) == AGENDAS
    assert list(t.columns[t.columns.get_loc("agenda") :][:3]) == ["agenda", "first_mover", "agenda_choice"]
    for choice in AGENDAS:
        alone = run_movers(load_config([f"agenda={choice}", *GRID])).table
        mine = t[t["agenda_choice"] == choice].drop(columns="agenda_choice").reset_index(drop=True)
        assert mine["agenda"].nunique() == 1 and sorted(mine["first_mover"].unique()) == ["Hamas", "Israel"]
        pd.testing.assert_frame_equal(mine, alone, check_exact=True)
    # the agendas really differ (otherwise the comparison above would prove little)
    assert t.groupby("agenda_choice")["agreement"].mean().nunique() > 1


def test_a_block_job_merges_into_the_atlas_of_one_job_per_agenda(tmp_path):
    blocks, singles = tmp_path / "blocks", tmp_path / "singles"
    assert 0 <= run_sweep_job(load_config(agenda_grid()), blocks / "block=a") <= 1
    for choice in AGENDAS:
        assert 0 <= run_sweep_job(load_config([f"agenda={choice}", *GRID]), singles / f"agenda={choice}") <= 1
    rec = json.loads((blocks / "block=a" / "job.json").read_text())
    assert rec["n_runs"] == 3 * 48 and rec["agenda_choice"] == ",".join(AGENDAS)
    a, b = merge(blocks, progress=False), merge(singles, progress=False)
    assert (a["job"] == "block=a").all() and sorted(a["agenda_choice"].unique()) == sorted(AGENDAS)
    b["agenda_choice"] = b["job"].str.removeprefix("agenda=")  # (Hydra records the choice; none here)
    pd.testing.assert_frame_equal(a.drop(columns="job"), b.drop(columns="job"), check_exact=True)


def test_a_finished_block_job_is_skipped_on_rerun(tmp_path):
    out = tmp_path / "job"
    cfg = load_config(agenda_grid("n_seeds=2"))
    run_sweep_job(cfg, out)
    stamp = (out / "runs.parquet").stat().st_mtime_ns
    run_sweep_job(load_config(agenda_grid("n_seeds=2")), out)
    assert (out / "runs.parquet").stat().st_mtime_ns == stamp
    run_sweep_job(load_config([*agenda_grid("n_seeds=2"), "grid.agenda=[order_07]"]), out)  # another block: redone
    assert (out / "runs.parquet").stat().st_mtime_ns != stamp
    assert set(pd.read_parquet(out / "runs.parquet")["agenda_choice"]) == {"order_07"}


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if any batch starts."""

    def refuse(*a, **k):
        raise AssertionError("a batch ran before the agendas were checked")

    monkeypatch.setattr(sim.job, "run_movers", refuse)
    monkeypatch.setattr(sim.job, "run", refuse)


def test_unknown_agenda_fails_the_job_before_any_work(tmp_path, no_work):
    cfg = load_config(["grid.agenda=[order_00,phased_plann]", "n_seeds=2"])
    with pytest.raises(ConfigError) as err:
        run_job(cfg, tmp_path / "single", multirun=False)
    e = err.value
    assert e.key == "grid.agenda" and e.got == "phased_plann"
    assert "order_00 ... order_119" in e.expected and "phased_plan," in e.expected and "agenda_schema" not in e.expected
    assert not (tmp_path / "single" / "runs.parquet").exists()
    # in a sweep the job records why and the sweep goes on
    out = tmp_path / "swept"
    assert run_sweep_job(cfg, out) != run_sweep_job(cfg, out)  # NaN
    rec = json.loads((out / "error.json").read_text())
    assert rec["status"] == "failed" and "grid.agenda" in rec["error"] and "'phased_plann'" in rec["error"]
    assert not (out / "runs.parquet").exists() and not (out / "job.json").exists()


def test_an_order_the_scenario_does_not_have_fails_up_front(tmp_path, no_work):
    with pytest.raises(ConfigError) as err:
        run_job(load_config(["grid.agenda=[order_00,order_30]", "n_seeds=2"]), tmp_path, multirun=False)
    assert err.value.file == "agenda choice order_30 (generated, no file)"
    assert "agenda.permutation" in str(err.value) or "permutation" in str(err.value)


def test_unknown_block_names_the_blocks(tmp_path, no_work):
    out = tmp_path / "job"
    run_sweep_job(load_config(["experiment=atlas_smoke", "block=orderz"]), out)
    err = json.loads((out / "error.json").read_text())["error"]
    assert "block: expected one of the blocks ['orders', 'package'], got 'orderz'" in err


def test_the_command_reports_a_bad_agenda_in_one_line(tmp_path, negotiate_cmd):
    from tests.conftest import run_cli

    res = run_cli(negotiate_cmd, ["grid.agenda=[order_01,nonsense]", "n_seeds=2", "quiet=true"], tmp_path)
    assert res.returncode == 2, res.stderr[-2000:]
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and "grid.agenda" in err and "'nonsense'" in err, err


def test_atlas_blocks_cover_every_agenda_once():
    """The atlas's jobs (its swept blocks) hold each order of the core issues and each named plan exactly once."""
    from omegaconf import OmegaConf

    exp = OmegaConf.load(Path(CONF_DIR) / "experiment" / "sequence_atlas.yaml")
    swept = str(exp.hydra.sweeper.params.block).split(",")
    assert sorted(swept) == sorted(exp.blocks) and len(swept) >= 4  # >= 2 jobs per core on 2 cores
    held = [a for b in swept for a in load_config(["experiment=sequence_atlas", f"block={b}"]).grid.agenda]
    # the earlier rounds' agendas belong to their round scenarios (their issues differ), not to the atlas
    named = sorted(
        p.stem
        for p in (Path(CONF_DIR) / "agenda").glob("*.yaml")
        if p.stem != "sequence" and not p.stem.startswith("round_")
    )
    assert sorted(held) == sorted([f"order_{k:02d}" for k in range(24)] + named)


def test_summary_of_a_job_with_several_agendas_shows_each_group():
    """The printed summary pools a job's runs; with several agendas and first movers it must
    also give each group's own rate, so a reader is not misled by the pooled figure."""
    from sim.results import wilson
    from sim.summary import summary_text

    rs = run_agendas(load_config(agenda_grid()))
    text = summary_text(rs)
    assert "By agenda choice and first mover:" in text
    assert "(the first of this job's groups)" in text
    assert "all agenda choices and first movers pooled" in text
    t = rs.table
    for (choice, mover), g in t.groupby(["agenda_choice", "first_mover"]):
        k, n = int(g["agreement"].sum()), len(g)
        lo, hi = wilson(k, n)
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(f"{choice} / {mover} "))
        assert f"{n} runs" in line and f"{100 * k / n:.1f}%" in line and f"({100 * lo:.1f}%-{100 * hi:.1f}%)" in line
    one = summary_text(run_movers(load_config(["n_seeds=6"])))
    assert "By agenda" not in one and "pooled" not in one
