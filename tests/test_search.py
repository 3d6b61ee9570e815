"""The sequence search as design tables (sim/search.py): same runs as alone, a tie-aware best set."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.api import load_config, run
from sim.errors import ConfigError
from sim.search import (
    BEST_RULE,
    SearchSpace,
    best_set,
    main,
    optuna_search,
    run_search,
    space_from_experiment,
    summarise,
    write,
)

SMALL = SearchSpace(
    agendas=("comprehensive", "order_07"),
    first_movers=("Israel", "mediators"),
    trust=(0.15, 0.7),
    credibility=(0.6,),
    pressure=(1.0, 2.0),
    n_seeds=12,
    seed=3,
)


@pytest.fixture(scope="module")
def small():
    return run_search(SMALL, progress=False)


def test_the_experiment_file_gives_the_whole_grid():
    sp = space_from_experiment("sequence_search")
    assert len(sp.agendas) == 29 and sp.agendas[0] == "order_00" and sp.agendas[-1] == "phased_disarmament_first"
    assert sp.first_movers == ("Israel", "Hamas", "mediators")
    assert sp.trust == (0.15, 0.7) and sp.credibility == (0.4, 0.8) and sp.pressure == (1.0, 2.0)
    assert (sp.n_points, sp.n_seeds) == (696, 100)


def test_every_point_gives_what_it_gives_alone(small):
    assert len(small.runs) == SMALL.n_points * SMALL.n_seeds == 16 * 12
    for agenda, mover, trust, pressure in [("order_07", "Israel", 0.7, 2.0), ("comprehensive", "mediators", 0.15, 1.0)]:
        rows = small.runs[
            (small.runs["agenda_choice"] == agenda)
            & (small.runs["first_mover"] == mover)
            & (small.runs["trust_level"] == trust)
            & (small.runs["pressure_level"] == pressure)
        ]
        alone = run(
            load_config(
                [
                    f"agenda={agenda}",
                    f"agenda.first_mover={mover}",
                    f"conditions.trust={trust}",
                    "conditions.credibility=0.6",
                    f"conditions.pressure={pressure}",
                    "n_seeds=12",
                    "seed=3",
                ]
            )
        ).table
        assert rows["seed"].tolist() == list(range(3, 15))
        cols = [c for c in alone.columns if c in rows.columns]
        assert len(cols) == len(alone.columns)
        pd.testing.assert_frame_equal(
            rows[cols].reset_index(drop=True), alone.reset_index(drop=True), check_dtype=False
        )


def test_points_carry_counts_intervals_and_the_best_set(small):
    pts = small.points
    assert len(pts) == 16
    assert (pts["n_runs"] == 12).all()
    assert np.allclose(pts["rate"], pts["n_agreed"] / pts["n_runs"])
    assert ((pts["low"] <= pts["rate"]) & (pts["rate"] <= pts["high"])).all()
    assert pts["rate"].is_monotonic_decreasing
    top = pts.iloc[0]
    # the rule: in the set exactly when the interval reaches the best point's lower bound
    assert (pts["best"] == (pts["high"] >= top["low"])).all()
    assert pts["best"].sum() >= 1 and small.best.equals(pts[pts["best"]])
    # the package beats a one-issue order opened by Israel here: not every point ties
    assert not pts["best"].all()


def test_best_set_is_tie_aware_and_says_its_rule():
    pts = pd.DataFrame({"rate": [0.9, 0.9, 0.85, 0.5], "low": [0.8, 0.82, 0.79, 0.4], "high": [0.95, 0.96, 0.9, 0.6]})
    # both 0.9 points are best; 0.85 overlaps the lower of their lower bounds (0.8); 0.5 does not
    assert best_set(pts).tolist() == [True, True, True, False]
    assert "upper bound is at least the best point's lower bound" in BEST_RULE


def test_summarise_counts_ties_with_one_rank():
    runs = pd.DataFrame(
        {
            "agenda_choice": ["a"] * 4 + ["b"] * 4,
            "point": [0] * 4 + [0] * 4,
            "first_mover": "Israel",
            "trust_level": 0.2,
            "credibility_level": 0.5,
            "pressure_level": 1.0,
            "agreement": [True, True, False, False, True, False, True, False],
            "rounds": [10, 12, 50, 50, 8, 50, 9, 50],
        }
    )
    pts = summarise(runs)
    assert pts["rank"].tolist() == [1, 1] and pts["best"].all()
    assert pts["median_rounds"].tolist() == [11.0, 8.5]


def test_write_gives_parquet_and_a_short_markdown(small, tmp_path):
    paths = write(small, tmp_path, command="negotiate search --n-seeds 12")
    assert [p.name for p in paths] == ["runs.parquet", "points.parquet", "search.md"]
    pts = pd.read_parquet(tmp_path / "points.parquet")
    assert {"rate", "low", "high", "n_runs", "best", "rank"} <= set(pts.columns)
    assert b"negotiation_sim.schema_version" in pq.read_schema(tmp_path / "runs.parquet").metadata
    md = (tmp_path / "search.md").read_text()
    assert BEST_RULE in md and "Not distinguishable from the best" in md
    assert "16 points x 12 seeds = 192 runs" in md
    assert md.count("\n| ") >= 4


def test_the_command_runs_and_refuses_bad_input_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CI", "1")
    out = tmp_path / "s"
    assert (
        main(
            [
                "--agendas",
                "comprehensive",
                "--first-movers",
                "Hamas",
                "--trust",
                "0.4",
                "--credibility",
                "0.6",
                "--pressure",
                "1",
                "--n-seeds",
                "5",
                "--out",
                str(out),
                "scenario.shocks.rate=0",
            ]
        )
        == 0
    )
    assert (out / "points.parquet").is_file()
    pts = pd.read_parquet(out / "points.parquet")
    assert len(pts) == 1 and pts["rate"].iloc[0] == 1.0  # the package without shocks: every seed agrees
    capsys.readouterr()
    for argv, words in [
        (["--agendas", "nonsense"], "--agendas: expected an agenda choice"),
        (["--trust", "0.2,1.5"], "--trust: expected numbers in [0, 1]"),
        (["--first-movers", "Bob", "--agendas", "comprehensive"], "agenda.first_mover"),
        (["--experiment", "nothing"], "experiment: expected an experiment file"),
        (["--n-seeds", "0"], "--n-seeds: expected a positive number"),
    ]:
        assert main([*argv, "--out", str(tmp_path / "bad")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("negotiate search: error:") and words in err and "\n" not in err


def test_optuna_asks_and_tells():
    """Optuna is in the test extra: without it this fails (no skip)."""
    space = SearchSpace(
        agendas=("comprehensive", "phased_plan"),
        first_movers=("Israel", "Hamas"),
        trust=(0.15, 0.7),
        credibility=(0.6,),
        pressure=(1.0, 2.0),
        n_seeds=6,
    )
    res = optuna_search(space, n_trials=5, seed=1)
    assert len(res.points) == 5 and (res.points["n_runs"] == 6).all()
    assert res.points["trust"].between(0.15, 0.7).all() and (res.points["credibility"] == 0.6).all()
    again = optuna_search(space, n_trials=5, seed=1)
    pd.testing.assert_frame_equal(res.points, again.points)


def test_optuna_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    with pytest.raises(ConfigError, match=r'pip install -e "\.\[optuna\]"'):
        optuna_search(SMALL, n_trials=1)
