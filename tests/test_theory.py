"""Theory as tests: each protocol against its textbook result (the cases of negotiate-validate)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from sim import validate as v
from sim.api import build, load_config
from tests.conftest import run_cli


@pytest.mark.parametrize("d1,d2", [(0.5, 0.5), (0.5, 0.99), (0.99, 0.5), (0.99, 0.99), (0.7, 0.9), (0.95, 0.6)])
def test_rubinstein_grid(d1, d2):
    case = v.rubinstein(d1, d2)
    assert case.passed, case


@settings(max_examples=12, deadline=None)
@given(hs.floats(0.5, 0.99), hs.floats(0.5, 0.99))
def test_rubinstein_property(d1, d2):
    case = v.rubinstein(round(d1, 4), round(d2, 4))
    assert case.passed, case


def test_rubinstein_from_the_command_line(negotiate_cmd, tmp_path):
    out = tmp_path / "run"
    res = run_cli(negotiate_cmd, ["scenario=split_the_pie", "protocol=alternating_offers",
                                  "scenario.actors.A.discount=0.8", "scenario.actors.B.discount=0.6",
                                  f"hydra.run.dir={out}"], tmp_path)
    assert res.returncode == 0, res.stderr
    rec = json.loads((out / "result.json").read_text())
    assert rec["agreement"] and rec["rounds"] == 1
    assert abs(rec["terms"]["share"]["value"] - (1 - 0.6) / (1 - 0.8 * 0.6)) <= 0.01


def grid_nash(sc, n=401):
    """An independent check of the optimiser: the Nash product on a fine grid of two issues."""
    g = np.linspace(0, 1, n)
    x = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    u = v.linear_utilities(sc, x, np.flatnonzero(sc.principal))
    s = u - sc.reservation_value[sc.principal]
    prod = np.where((s > 0).all(-1), s.prod(-1), -1)
    return u[prod.argmax()]


def test_theory_side_of_nash_is_right_at_the_kink():
    sc = build(load_config(["scenario=logroll"])).sc
    nbs = v.nash_point(sc)
    assert np.allclose(nbs, grid_nash(sc), atol=1e-3)
    # the logroll: each side wins the issue it cares most about
    assert np.allclose(nbs, [0.8, 0.7], atol=1e-6)


@pytest.mark.parametrize("scenario", ["logroll", "bilateral_three_issues"])
def test_nash_mediator_reaches_the_bargaining_solution(scenario):
    case = v.nash_case(scenario)
    assert case.passed, case


@pytest.mark.parametrize("scenario", ["logroll", "bilateral_three_issues"])
def test_kalai_smorodinsky_rule_reaches_the_ks_point(scenario):
    case = v.ks_case(scenario)
    assert case.passed, case
    sc = build(load_config([f"scenario={scenario}"])).sc
    u = v.ks_point(sc)
    gains = (u - sc.reservation_value[sc.principal]) / (1 - sc.reservation_value[sc.principal])
    assert abs(gains[0] - gains[1]) < 1e-9  # the LP's point has equal gain fractions
    assert not np.allclose(u, v.nash_point(sc), atol=1e-3)  # and differs from Nash's


def test_zeuthen_ends_at_the_nash_product_maximiser():
    case = v.zeuthen_case()
    assert case.passed, case
    case5 = v.zeuthen_case(grid=5)
    assert case5.passed, case5


def test_friedkin_johnsen_steady_state():
    case = v.friedkin_johnsen_case()
    assert case.passed, case
    st = build(load_config([]))
    sc = st.sc
    lam = np.diag(sc.susceptibility)
    x0 = sc.position
    steady = np.linalg.solve(np.eye(sc.n_actors) - lam @ sc.influence, (np.eye(sc.n_actors) - lam) @ x0)
    assert np.abs(steady - x0).max() > 1e-2  # influence really moves someone


def test_validate_command_prints_the_table_and_passes(tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    exe = shutil.which("negotiate-validate", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-m", "sim.validate"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    n = len(v.all_cases())
    assert f"{n} of {n} cases pass" in res.stdout
    assert "Rubinstein" in res.stdout and "Zeuthen" in res.stdout and "FAIL" not in res.stdout


def test_validate_exits_non_zero_on_a_failure(monkeypatch, capsys):
    bad = v.Case("deliberately wrong", "1", "0", 1.0, 0.1, False)
    monkeypatch.setattr(v, "all_cases", lambda: [lambda: bad])
    assert v.main([]) == 1
    assert "FAIL" in capsys.readouterr().out
