"""Calibration by history matching: the method finds known parameters, resumes, and says what it misses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import calibrate as cb
from sim.api import load_config
from sim.design import run_design
from sim.errors import ConfigError

ROUNDS = {
    "package": {"scenario": "sharm_el_sheikh_2025", "agenda": "comprehensive", "overrides": ["scenario.shocks.rate=0"]},
    "phased": {"scenario": "sharm_el_sheikh_2025", "agenda": "phased_plan", "overrides": ["scenario.shocks.rate=0"]},
}
PARAMETERS = [
    {
        "name": "hamas_no_deal",
        "paths": ["scenario.actors.Hamas.reservation_value"],
        "low": 0.3,
        "high": 0.9,
        "source": "J",
    },
    {
        "name": "patience",
        "paths": ["scenario.actors.Israel.patience", "scenario.actors.Hamas.patience"],
        "low": 10,
        "high": 60,
        "integer": True,
        "source": "J",
    },
]
STATS = [
    ("package_rate", "package", "agreement_rate"),
    ("package_rounds", "package", "median_rounds_agreed"),
    ("phased_rate", "phased", "agreement_rate"),
    ("phased_phase1", "phased", "phase1_rate"),
]


def truth_targets(truth: dict, n_seeds: int, seed: int) -> list[dict]:
    """Targets made from the model itself at known parameter values (tolerances: a judged spread)."""
    cal = cb.Calibration(name="t", file="t", rounds=ROUNDS, targets=[], parameters=PARAMETERS)
    design = cb.design_of(cal, pd.DataFrame({k: [v] for k, v in truth.items()}))
    out = []
    for name, rnd, stat in STATS:
        t = {"name": name, "round": rnd, "statistic": stat, "target": 0.0, "tolerance": 1.0, "source": "J"}
        res = run_design(load_config(cal.overrides(rnd)), design, n_seeds=n_seeds, seed=seed)
        value = float(cb.statistics(res.table, [t])[name].iloc[0])
        out.append({**t, "target": value, "tolerance": 4.0 if stat == "median_rounds_agreed" else 0.05})
    return out


def write(tmp_path, targets, name="synthetic") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "rounds": ROUNDS, "targets": targets, "parameters": PARAMETERS}))
    return str(path)


def test_a_calibration_file_is_checked(tmp_path):
    bad = {
        "name": "x",
        "rounds": ROUNDS,
        "parameters": PARAMETERS,
        "targets": [
            {
                "name": "a",
                "round": "nowhere",
                "statistic": "agreement_rate",
                "target": 0.5,
                "tolerance": 0.1,
                "source": "J",
            }
        ],
    }
    p = tmp_path / "x.yaml"
    p.write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError) as e:
        cb.load(str(p))
    assert e.value.key == "targets[0].round"
    bad["targets"][0].update(round="package", statistic="mean_mood")
    p.write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError) as e:
        cb.load(str(p))
    assert e.value.key == "targets[0].statistic"


def test_implausibility_and_statistics():
    table = pd.DataFrame(
        {
            "point": [0, 0, 0, 0, 1, 1, 1, 1],
            "agreement": [True, True, False, False] + [True] * 4,
            "phases_agreed": [2, 2, 1, 0, 2, 2, 2, 2],
            "rounds": [10, 20, 30, 40, 10, 10, 12, 14],
            "blocking_issue": ["", "", "withdrawal", "exchange", "", "", "", ""],
        }
    )
    tg = [
        {"name": "r", "statistic": "agreement_rate", "target": 0.5, "tolerance": 0.1},
        {"name": "p2", "statistic": "phase2_given_phase1", "target": 0.5, "tolerance": 0.1},
        {"name": "b", "statistic": "blocking_share", "issues": ["withdrawal"], "target": 0.5, "tolerance": 0.1},
        {"name": "m", "statistic": "median_rounds_agreed", "target": 15, "tolerance": 5},
    ]
    s = cb.statistics(table, tg)
    assert list(s["r"]) == [0.5, 1.0]
    assert s["p2"].iloc[0] == pytest.approx(2 / 3) and s["b"].iloc[0] == 0.5 and np.isnan(s["b"].iloc[1])
    assert list(s["m"]) == [15.0, 11.0]
    imp = cb.implausibility(s, tg)
    assert imp["r"].iloc[0] == 0.0 and imp["r"].iloc[1] > 2.5  # 1.0 is far from 0.5 +/- 0.1 (with 4 runs)
    assert np.isinf(imp["b"].iloc[1])  # no failed run: the share cannot be checked


def test_calibration_resumes_after_a_kill_with_the_same_result(tmp_path):
    cal = cb.load(write(tmp_path, truth_targets({"hamas_no_deal": 0.5, "patience": 30}, 200, 1000)))
    full = cb.calibrate(cal, 40, 10, tmp_path / "a", block_size=10)
    # a run killed after two blocks: only those files exist; the rerun does the rest
    part = tmp_path / "b"
    (part / "blocks").mkdir(parents=True)
    for k in (0, 1):
        (part / "blocks" / f"block_{k:05d}.parquet").write_bytes(
            (tmp_path / "a" / "blocks" / f"block_{k:05d}.parquet").read_bytes()
        )
    (part / "blocks" / "block_00002.parquet.tmp999").write_bytes(b"half a file")  # a write cut short
    done = []
    resumed = cb.calibrate(cal, 40, 10, part, block_size=10, progress=done.append)
    assert done[0] == 20  # the two finished blocks count at once
    assert resumed["kept"] == full["kept"]
    pd.testing.assert_frame_equal(
        pd.read_parquet(part / "samples.parquet"), pd.read_parquet(tmp_path / "a" / "samples.parquet")
    )
    assert (part / "targets.md").read_text().startswith("# Calibration")
    assert (part / "conflicts.md").read_text().startswith("# Which patterns can be met together")
    near = pd.read_parquet(part / "nearest.parquet")
    assert len(near) > 0 and (near["targets_met"] == near["targets_met"].iloc[0]).all()
    loo = pd.read_parquet(part / "leave_one_out.parquet")
    assert set(loo["left_out"]) == {"package", "phased"}
    # the package round is predicted from the phased round alone: its rate is known within tolerance
    assert loo.set_index("target").loc["package_rate", "within_tolerance"]
    assert (part / "marginals.png").stat().st_size > 0


@pytest.mark.slow
def test_known_parameters_fall_inside_their_90_percent_intervals():
    """Synthetic truth: 20 problems, each from known parameter values; history matching on
    200 samples x 20 seeds should cover the truth in at least 16 of 20 (80%)."""
    import tempfile
    from pathlib import Path

    g = np.random.default_rng(7)
    covered, total = 0, 0
    with tempfile.TemporaryDirectory() as d:
        for k in range(20):
            truth = {"hamas_no_deal": float(g.uniform(0.35, 0.85)), "patience": int(g.integers(15, 55))}
            cal = cb.load(write(Path(d), truth_targets(truth, 300, 10_000 + 1000 * k), f"p{k}"))
            cb.calibrate(cal, 200, 20, Path(d) / f"out{k}", seed=k, block_size=200)
            post = pd.read_parquet(Path(d) / f"out{k}" / "posterior.parquet")
            for name, v in truth.items():
                total += 1
                if len(post) and post[name].quantile(0.05) <= v <= post[name].quantile(0.95):
                    covered += 1
    assert covered >= 0.8 * total, (covered, total)


def test_a_forecast_runs_over_the_kept_ensemble(tmp_path, monkeypatch):
    from sim.api import run

    cal = cb.load(write(tmp_path, truth_targets({"hamas_no_deal": 0.5, "patience": 30}, 200, 1000)))
    res = cb.calibrate(cal, 60, 10, tmp_path / "synthetic", block_size=30)
    assert res["kept"] > 0
    monkeypatch.chdir(tmp_path)  # negotiate calibration=<name> looks in ./calibration/<name> and a path
    rs = run(
        load_config(
            [f"calibration={tmp_path / 'synthetic'}", "agenda=phased_plan", "n_seeds=5", "forecast_horizon=120"]
        )
    )
    post = pd.read_parquet(tmp_path / "synthetic" / "posterior.parquet")
    assert rs.table["point"].nunique() == len(post) and len(rs.table) == 5 * len(post)
    fc = rs.summary()["forecast"]
    assert fc["parameter_sets"] == len(post)
    lo, hi = fc["phase1_agreed"]["ensemble_90"]
    assert 0 <= lo <= fc["phase1_agreed"]["pooled"] + 1e-9 and fc["phase1_agreed"]["pooled"] <= hi + 1e-9
    assert fc["next_phase_given_first"]["within_rounds"] == 120
    from sim.summary import summary_text

    assert "Forecast under calibration" in summary_text(rs)
    with pytest.raises(ConfigError) as e:
        run(load_config(["calibration=nowhere", "n_seeds=2"]))
    assert e.value.key == "calibration"
