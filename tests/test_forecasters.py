"""Who forecasts better: the baseline forecasters and the comparison script."""

from __future__ import annotations

import numpy as np

from sim.api import load_config
from sim.forecasters import FORECASTERS, baseline_table, compare_rounds, rounds_markdown


def test_a_baseline_text_is_agreed_only_if_every_principal_accepts_it():
    # symmetric: the weighted mean is the middle of both scales, worth 0.5 to each side
    ok = baseline_table(load_config(["scenario=symmetric", "n_seeds=4"]), "weighted_mean")
    assert ok["agreement"].all() and (ok["phases_agreed"] == 1).all()
    no = baseline_table(
        load_config(["scenario=symmetric", "n_seeds=4", "scenario.actors.A.reservation_value=0.6"]), "weighted_median"
    )
    assert not no["agreement"].any() and set(no["status"]) == {"stalemate"}


def test_compare_rounds_scores_every_target_for_every_forecaster():
    df = compare_rounds("earlier_rounds", n_seeds=12, seed=1)
    assert set(df.forecaster) == set(FORECASTERS)
    n_targets = df.target.nunique()
    assert len(df) == n_targets * len(FORECASTERS)
    static = df[
        df.forecaster.str.startswith("weighted") & df.statistic.isin(["median_rounds_agreed", "blocking_share"])
    ]
    assert len(static) and static.value.isna().all() and not static.holds.any()
    held = df[df.holds]
    assert np.all(np.abs(held.value - held.target_value) <= held.tolerance)
    text = rounds_markdown(df, 12)
    assert text.count("\n| c") == n_targets and "targets held" in text
