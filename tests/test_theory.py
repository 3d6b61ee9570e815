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


@pytest.mark.workflow
def test_rubinstein_from_the_command_line(negotiate_cmd, tmp_path):
    out = tmp_path / "run"
    res = run_cli(
        negotiate_cmd,
        [
            "scenario=split_the_pie",
            "protocol=alternating_offers",
            "scenario.actors.A.discount=0.8",
            "scenario.actors.B.discount=0.6",
            f"hydra.run.dir={out}",
        ],
        tmp_path,
    )
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


@pytest.mark.parametrize("scenario", v.KS_SCENARIOS)
def test_kalai_smorodinsky_rule_reaches_the_ks_point(scenario):
    case = v.ks_case(scenario)
    assert case.passed, case
    sc = build(load_config([f"scenario={scenario}"])).sc
    u = v.ks_point(sc)
    rv = sc.reservation_value[sc.principal]
    gains = (u - rv) / (v.ir_utopias(sc) - rv)
    assert abs(gains[0] - gains[1]) < 1e-9  # the LP's point has equal gain fractions
    assert not np.allclose(u, v.nash_point(sc), atol=1e-3)  # and differs from Nash's


def grid_ks(sc, n):
    """An independent check of the KS linear programs: ideal points and the KS point by brute
    force over a grid of texts (the individually rational ideals first, then the grid text
    with the largest smallest gain fraction)."""
    g = np.linspace(0, 1, n)
    x = np.stack(np.meshgrid(*[g] * sc.n_issues, indexing="ij"), -1).reshape(-1, sc.n_issues)
    u = v.linear_utilities(sc, x, np.flatnonzero(sc.principal))
    rv = sc.reservation_value[sc.principal]
    rational = (u >= rv).all(-1)
    top = np.array([u[(np.delete(u, j, axis=1) >= np.delete(rv, j)).all(-1), j].max() for j in range(rv.size)])
    frac = np.where(rational[:, None], (u - rv) / (top - rv), -np.inf).min(-1)
    return top, u[frac.argmax()]


@pytest.mark.parametrize(
    "scenario,n",
    [("logroll", 801), ("ks_ir_utopia_two_issues", 801), ("bilateral_three_issues", 101), ("ks_ir_utopia", 101)],
)
def test_kalai_smorodinsky_theory_side_against_a_grid(scenario, n):
    sc = build(load_config([f"scenario={scenario}"])).sc
    top, ks = grid_ks(sc, n)
    assert np.allclose(v.ir_utopias(sc), top, atol=2.0 / (n - 1))
    assert np.allclose(v.ks_point(sc), ks, atol=2.0 / (n - 1))


@pytest.mark.parametrize("scenario", ["ks_ir_utopia", "ks_ir_utopia_two_issues"])
def test_kalai_smorodinsky_ideal_points_are_the_individually_rational_ones(scenario):
    """The new cases discriminate: neither side's own ideal gives the other its reservation
    value, and the KS point with the unconstrained ideals (1) is far from the real one."""
    sc = build(load_config([f"scenario={scenario}"])).sc
    who = np.flatnonzero(sc.principal)
    own = v.linear_utilities(sc, sc.position[who], who)  # [text: whose ideal, judge]
    rv = sc.reservation_value[who]
    assert (own[0, 1] < rv[1]) and (own[1, 0] < rv[0])
    assert (v.ir_utopias(sc) < 0.99).all()
    assert np.abs(v.ks_point(sc) - v.ks_point(sc, utopia=np.ones(who.size))).max() > 0.03


def _ideal_point_lp(pos, w, rv, lo, hi, a, others):
    """Actor ``a``'s best plain utility with every one of ``others`` at its reservation value or
    above (one run, all issues open), by a linear program written out afresh."""
    from scipy.optimize import linprog

    n = pos.shape[1]
    who = [a, *others]
    nz = n + len(who) * n
    rows, rhs = [], []
    for j, q in enumerate(who):
        for i in range(n):
            for s in (1.0, -1.0):
                r = np.zeros(nz)
                r[i], r[n + j * n + i] = s, -1.0
                rows.append(r)
                rhs.append(s * pos[q, i])
    for j, q in enumerate(who[1:], 1):
        r = np.zeros(nz)
        r[n + j * n : n + (j + 1) * n] = w[q]
        rows.append(r)
        rhs.append(w[q].sum() - rv[q])
    c = np.zeros(nz)
    c[n : 2 * n] = w[a]
    bounds = list(zip(lo, hi, strict=True)) + [(0, None)] * (nz - n)
    res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs")
    return None if res.status != 0 else w[a].sum() - res.fun


def _ideal_point_slsqp(pos, w, rv, lo, hi, a, others):
    """The same with quadratic values (a concave objective on a convex set), by SLSQP from the
    middle and from every actor's ideal (the best text that meets the constraints)."""
    from scipy.optimize import minimize

    cons = [{"type": "ineq", "fun": lambda x, q=q: w[q] @ (1 - (x - pos[q]) ** 2) - rv[q]} for q in others]
    best = None
    for x0 in [(lo + hi) / 2, *np.clip(pos, lo, hi)]:
        res = minimize(
            lambda x: -(w[a] @ (1 - (x - pos[a]) ** 2)),
            x0,
            method="SLSQP",
            constraints=cons,
            bounds=list(zip(lo, hi, strict=True)),
            options={"ftol": 1e-14, "maxiter": 1000},
        )
        if all(c["fun"](res.x) >= -1e-9 for c in cons) and (best is None or -res.fun > best):
            best = -res.fun
    return best


@pytest.mark.parametrize(
    "utility,n_actors,n_issues",
    [("linear", 2, 3), ("linear", 3, 4), ("linear", 4, 3), ("quadratic", 2, 3), ("quadratic", 3, 3)],
)
def test_kalai_smorodinsky_rule_ideal_points_against_an_optimiser(utility, n_actors, n_issues):
    """The rule's individually rational ideals (pairwise knapsacks or frontier searches, a
    whole program where a third actor is left short) against one program per actor, written
    out afresh, on random problems."""
    from types import SimpleNamespace

    from sim.protocols.rules import ir_utopia_texts

    rng = np.random.default_rng(n_actors * 10 + n_issues)
    r = 200 if utility == "linear" else 60
    pos = rng.random((r, n_actors, n_issues))
    weight = rng.random((r, n_actors, n_issues))
    weight /= weight.sum(-1, keepdims=True)
    lo, hi = rng.random((r, n_issues)) * 0.2, 1 - rng.random((r, n_issues)) * 0.2
    low, width = (0.5, 0.35) if utility == "linear" else (0.85, 0.13)  # where some problems have no deal
    rv = low + rng.random((r, n_actors)) * width
    op = np.ones((r, n_issues), bool)
    req = np.ones((r, n_actors), bool)
    st = SimpleNamespace(sc=SimpleNamespace(utility=utility))
    texts, nonempty = ir_utopia_texts(st, pos, weight, rv, lo, hi, rng.random((r, n_issues)), op, req)
    d = texts[:, None] - pos[:, :, None, :]
    got = (weight[:, :, None, :] * (1 - (np.abs(d) if utility == "linear" else d * d))).sum(-1)  # [R, judge, text]
    assert 0 < nonempty.sum() < r
    solve = _ideal_point_lp if utility == "linear" else _ideal_point_slsqp
    tol = 1e-9 if utility == "linear" else 1e-6
    for k in range(r):
        best = [
            solve(pos[k], weight[k], rv[k], lo[k], hi[k], a, [c for c in range(n_actors) if c != a])
            for a in range(n_actors)
        ]
        feasible = all(b is not None and b >= rv[k, a] - 1e-9 for a, b in enumerate(best))
        assert feasible == nonempty[k]
        if feasible:
            assert np.allclose(np.diagonal(got[k]), best, atol=tol)
            assert (got[k] >= rv[k][:, None] - 1e-9).all()  # each text is individually rational


def test_kalai_smorodinsky_rule_raises_no_warning_and_ignores_the_batch_size():
    """The phased plan drove exp() past overflow; and a seed's run is the same alone or in 300."""
    import warnings

    from sim.batch import simulate
    from tests.test_batch import assert_rows_equal

    st = build(load_config(["agenda=phased_plan", "protocol.rule=kalai_smorodinsky"]))
    seeds = np.arange(300) * 7 + 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        big = simulate(st, seeds)
    for k in (0, 150, 299):
        assert_rows_equal(simulate(st, seeds[k : k + 1]), big, slice(None), slice(k, k + 1))


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


@pytest.mark.workflow
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
