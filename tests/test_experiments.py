"""The agenda-mechanism experiment runs from its folder and shows the effect it reports."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_commitment_problem_costs_the_phased_plan_more_than_the_package():
    mod = load(ROOT / "experiments" / "agenda_mechanisms" / "analyze.py")
    df = mod.ablation_table(
        400,
        agendas={k: mod.AGENDAS[k] for k in ("comprehensive", "phased_plan")},
        ablations={k: mod.ABLATIONS[k] for k in ("full model", "no commitment problem")},
    )
    rate = df.set_index(["ablation", "agenda"])["agreement_rate"]
    gain_phased = rate["no commitment problem", "phased_plan"] - rate["full model", "phased_plan"]
    gain_package = rate["no commitment problem", "comprehensive"] - rate["full model", "comprehensive"]
    # the same seeds under both: the paired difference is far less noisy than either rate
    assert gain_phased > 0.04
    assert abs(gain_package) < 0.02
    assert set(df.columns) >= {"agreement_rate", "low", "high", "partial", "top_blocking_issue"}


@pytest.mark.slow
def test_no_constant_moves_an_agreement_rate_by_more_than_the_tolerance():
    """experiments/robustness: step sizes, steps per round, the stalemate rule's constants
    halved and doubled, and the window at 4x the horizon, on every default agenda."""
    mod = load(ROOT / "experiments" / "robustness" / "analyze.py")
    conf = mod.load()
    df = mod.table(conf, conf["n_seeds"], conf["agendas"])
    assert len(df) == len(conf["agendas"]) * (1 + 10)  # the default and ten variations each
    worst = df.loc[df["change"].abs().idxmax()]
    assert abs(worst["change"]) <= conf["tolerance"], worst.to_dict()
