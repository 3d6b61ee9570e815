"""Baselines: the capability x salience weighted mean and median of positions, beside every result."""

from __future__ import annotations

import numpy as np
import pytest

from sim.api import load_config, run
from sim.baselines import of_scenario, weighted_mean, weighted_median


def test_weighted_mean_and_median_by_hand():
    pos = np.array([[0.0], [0.5], [1.0]])
    w = np.array([[1.0], [1.0], [3.0]])
    assert weighted_mean(pos, w)[0] == pytest.approx((0 + 0.5 + 3) / 5)
    assert weighted_median(pos, w)[0] == 1.0  # 3 of 5 units of weight at 1.0
    w2 = np.array([[2.0], [1.0], [1.0]])
    assert weighted_median(pos, w2)[0] == 0.0  # half the weight at 0: the lower median
    # batched: the same numbers per row
    both = weighted_median(np.stack([pos, pos]), np.stack([w, w2]))
    assert list(both[:, 0]) == [1.0, 0.0]


def test_capability_weights_the_baselines():
    base = of_scenario(run(load_config(["n_seeds=1"])).static.sc)
    heavy = of_scenario(run(load_config(["n_seeds=1", "scenario.actors.Israel.capability=5"])).static.sc)
    assert heavy["disarmament"]["weighted_mean"] > base["disarmament"]["weighted_mean"] + 0.05
    assert 0 <= base["disarmament"]["weighted_median"] <= 1


def test_baselines_stand_beside_every_result():
    rs = run(load_config(["n_seeds=20"]))
    t = rs.table
    sc = rs.static.sc
    for iss in sc.issues:
        assert t[f"baseline_mean_{iss}"].between(0, 1).all() and t[f"baseline_median_{iss}"].between(0, 1).all()
    s = rs.summary()["baselines"]
    assert set(s) == set(sc.issues) and {"weighted_mean", "weighted_median", "model_mean_term"} <= set(s["exchange"])
    rec = rs.record(0)
    assert set(rec["baselines"]) == set(sc.issues)
