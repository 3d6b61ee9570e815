"""Design tables: many points in one batched call, each giving what it gives alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.api import load_config, run
from sim.design import is_per_run, judgement_inputs, run_design
from sim.errors import ConfigError


def alone(point: dict, n_seeds: int, base: list[str] = ()) -> pd.DataFrame:
    ov = [*base, *(f"{k}={(v.item() if hasattr(v, 'item') else v)!r}" for k, v in point.items()), f"n_seeds={n_seeds}"]
    return run(load_config(ov)).table


def per_point(res, k: int, columns) -> pd.DataFrame:
    return res.table[res.table["point"] == k].reset_index(drop=True)[columns]


def test_per_run_inputs_in_one_batch_give_each_point_as_alone():
    g = np.random.default_rng(3)
    n = 40
    design = pd.DataFrame(
        {
            "scenario.actors.Hamas.reservation_value": g.uniform(0.2, 0.6, n),
            "scenario.actors.Israel.position.withdrawal": g.uniform(0.6, 1.0, n),
            "scenario.actors.Hamas.salience.guarantees": g.uniform(0.3, 1.0, n),
            "scenario.actors.Israel.renege_base": g.uniform(0.2, 0.8, n),
            "scenario.actors.Hamas.delay_cost": g.uniform(0.0, 0.003, n),
            "scenario.actors.US.credibility": g.uniform(0.2, 0.9, n),
            "conditions.pressure": g.uniform(0.0, 3.0, n),
        }
    )
    assert all(is_per_run(c) for c in design.columns)
    res = run_design(load_config([]), design, n_seeds=15)
    assert len(res.table) == n * 15
    assert res.table["agreement"].nunique() == 2  # the points differ in outcome
    for k in (0, 17, n - 1):
        a = alone(design.iloc[k].to_dict(), 15)
        pd.testing.assert_frame_equal(a, per_point(res, k, a.columns), check_exact=True)


def test_structural_inputs_are_grouped_and_give_each_point_as_alone():
    design = pd.DataFrame(
        {
            "scenario.actors.Israel.patience": [20, 30, 45, 30, 20],
            "scenario.actors.Hamas.red_lines.0.strength": [1.0, 3.0, 1.0, 1.0, 1.0],
            "scenario.actors.Hamas.reservation_value": [0.3, 0.4, 0.5, 0.45, 0.3],
            "protocol.step0": [0.05, 0.05, 0.1, 0.05, 0.05],
        }
    )
    res = run_design(load_config(["agenda=phased_plan"]), design, n_seeds=20)
    for k in range(len(design)):
        a = alone(design.iloc[k].to_dict(), 20, ["agenda=phased_plan"])
        pd.testing.assert_frame_equal(a, per_point(res, k, a.columns), check_exact=True)
    # rows 0 and 4 are the same point: the same runs
    pd.testing.assert_frame_equal(per_point(res, 0, a.columns), per_point(res, 4, a.columns), check_exact=True)


def test_every_run_records_the_inputs_it_drew():
    design = pd.DataFrame({"scenario.actors.Hamas.reservation_value": [0.2, 0.6]})
    res = run_design(load_config([]), design, n_seeds=30)
    inp = res.inputs
    assert list(inp.columns) == ["point", "seed", "actor", "issue", "position", "weight", "reservation_value"]
    hamas = inp[(inp["actor"] == "Hamas") & (inp["issue"] == "disarmament")]
    assert len(hamas) == 60
    # each run's drawn value of no deal is around its point's value, and is what the run table says
    for k, centre in ((0, 0.2), (1, 0.6)):
        rv = hamas[hamas["point"] == k]["reservation_value"].to_numpy()
        assert abs(rv.mean() - centre) < 0.05 and rv.std() > 0.01
        np.testing.assert_array_equal(rv, res.table[res.table["point"] == k]["rv0_Hamas"].to_numpy())
    # weights are normalised saliences: they sum to one per run and actor
    sums = inp.groupby(["point", "seed", "actor"])["weight"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)


def test_bad_design_columns_and_values_name_the_column():
    cfg = load_config([])
    with pytest.raises(ConfigError) as e:
        run_design(cfg, pd.DataFrame({"scenario.actors.Nobody.reservation_value": [0.3]}), n_seeds=2)
    assert "Nobody" in str(e.value) and e.value.key == "scenario.actors.Nobody.reservation_value"
    with pytest.raises(ConfigError) as e:
        run_design(cfg, pd.DataFrame({"scenario.actors.Hamas.reservation_value": [0.3, 1.7]}), n_seeds=2)
    assert "row 1" in e.value.file and "[0, 1]" in e.value.expected
    with pytest.raises(ConfigError) as e:
        run_design(cfg, pd.DataFrame({"scenario.actors.Hamas.patience": [0]}), n_seeds=2)
    assert e.value.key == "scenario.actors.Hamas.patience" and "row 0" in e.value.file
    with pytest.raises(ConfigError) as e:
        run_design(cfg, pd.DataFrame({"scenario.nonsense.key": [1.0]}), n_seeds=2)
    assert e.value.key == "scenario.nonsense.key"


def test_judgement_inputs_list_the_judged_numbers_with_ranges():
    cfg = load_config([])
    ji = judgement_inputs(cfg)
    assert (ji["source"].str.startswith("J")).all()
    assert "scenario.actors.Hamas.reservation_value" in set(ji["path"])
    assert "scenario.actors.Israel.red_lines.0.strength" in set(ji["path"])
    assert (ji["low"] <= ji["value"]).all() and (ji["value"] <= ji["high"]).all()
    pat = ji.set_index("path").loc["scenario.actors.Israel.patience"]
    assert bool(pat["integer"]) and (pat["low"], pat["high"]) == (15.0, 60.0)
    # every listed path is a design column that runs
    sample = ji.head(40)
    design = pd.DataFrame({p: [v] for p, v in zip(sample["path"], sample["high"], strict=True)})
    assert len(run_design(cfg, design, n_seeds=2).table) == 2


def test_a_tagged_range_is_used():
    cfg = load_config(["+scenario.actors.Hamas.reservation_value.range=[0.3,0.5]"])
    row = judgement_inputs(cfg).set_index("path").loc["scenario.actors.Hamas.reservation_value"]
    assert (row["low"], row["high"]) == (0.3, 0.5)
    with pytest.raises(ConfigError):
        run(load_config(["+scenario.actors.Hamas.reservation_value.range=[0.5,0.3]", "n_seeds=1"]))


@pytest.mark.workflow
def test_a_sweep_spreads_a_design_over_jobs_by_block(tmp_path, negotiate_cmd):
    from tests.conftest import run_cli

    g = np.random.default_rng(0)
    design = pd.DataFrame(
        {
            "scenario.actors.Hamas.reservation_value": g.uniform(0.2, 0.6, 7),
            "scenario.actors.Israel.patience": g.integers(15, 45, 7),
        }
    )
    path = tmp_path / "design.parquet"
    design.to_parquet(path)
    r = run_cli(
        negotiate_cmd,
        [
            "-m",
            f"design.file={path}",
            "design.blocks=3",
            "design.block=0,1,2",
            "n_seeds=6",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
            "quiet=true",
        ],
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    parts = pd.concat([pd.read_parquet(p) for p in sorted((tmp_path / "sweep").glob("*/runs.parquet"))])
    whole = run_design(load_config(["n_seeds=6"]), design).table
    parts = parts.sort_values(["point", "seed"]).reset_index(drop=True)[whole.columns]
    pd.testing.assert_frame_equal(parts, whole, check_exact=True, check_dtype=False)


def test_a_missing_design_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError) as e:
        run(load_config([f"design.file={tmp_path / 'none.parquet'}"]))
    assert e.value.key == "design.file"


def test_behavioural_parameters_vary_per_run_and_give_each_point_as_alone():
    design = pd.DataFrame(
        {
            "scenario.actors.Israel.patience": [15, 30, 60, 22],
            "scenario.actors.Hamas.patience": [40, 30, 20, 22],
            "scenario.actors.Hamas.strategy.params.e": [0.3, 0.5, 1.0, 2.0],
            "scenario.trust.gain_per_phase": [0.0, 0.25, 0.5, 0.1],
        }
    )
    assert all(is_per_run(c) for c in design.columns)
    cfg = load_config(["agenda=phased_plan"])
    res = run_design(cfg, design, n_seeds=25)
    window = int(res.table["rounds"].max())
    assert res.table.groupby("point")["agreement"].mean().nunique() > 1
    from sim.api import build

    w = build(cfg).settings.max_rounds
    for k in range(len(design)):
        # the batch watched every point for the longest point's window (2 x (2 x 60 + 9) rounds)
        a = alone(design.iloc[k].to_dict(), 25, ["agenda=phased_plan", "protocol.max_rounds=258"])
        pd.testing.assert_frame_equal(a, per_point(res, k, a.columns), check_exact=True)
    assert window <= 258 and w < 258
