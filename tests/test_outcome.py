"""Outcome measures: the Nash bargaining solution and the Pareto check, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim.outcome import nash_solution, pareto_efficient
from sim.utility import plain_utility

# two principals with opposed ideals; A cares most about issue 0, B about issue 1: a logroll
POS = np.array([[[1.0, 1.0], [0.0, 0.0]]])
W = np.array([[[0.8, 0.2], [0.3, 0.7]]])
RV = np.array([[0.2, 0.2]])
MEMBERS = np.array([True, True])


def brute_force_nash(n: int = 201) -> np.ndarray:
    grid = np.linspace(0, 1, n)
    pts = np.array(list(itertools.product(grid, grid)))
    u = plain_utility(pts, POS[0], W[0])
    prod = np.prod(np.maximum(u - RV[0], 0), axis=-1)
    return pts[prod.argmax()]


def test_nash_solution_matches_brute_force_at_the_logroll_kink():
    x = nash_solution(POS, W, RV, MEMBERS, iterations=400)[0]
    best = brute_force_nash()
    u_x = plain_utility(x, POS[0], W[0])
    u_b = plain_utility(best, POS[0], W[0])
    np.testing.assert_allclose(u_x, u_b, atol=2e-3)
    assert x[0] > 0.99 and x[1] < 0.01  # each side wins its high-salience issue


def test_pareto_check_tells_the_logroll_from_the_split():
    logroll = np.array([[1.0, 0.0]])
    split = np.array([[0.5, 0.5]])  # both gain by trading issue 0 to A and issue 1 to B
    assert pareto_efficient(logroll, POS, W, MEMBERS).tolist() == [True]
    assert pareto_efficient(split, POS, W, MEMBERS).tolist() == [False]


def test_grid_job_gives_each_condition_the_numbers_it_gets_alone():
    """Sweep jobs cross conditions with the same seeds; the Nash solution, solved once per
    distinct problem, must match what each condition gets when run by itself."""
    import pandas as pd

    from sim.api import load_config, run

    grid = run(load_config(["n_seeds=30", "grid.trust=[0.15,0.5]", "grid.pressure=[0.5,2]"])).table
    alone = run(load_config(["n_seeds=30", "conditions.trust=0.5", "conditions.pressure=2"])).table
    part = grid[(grid.trust_level == 0.5) & (grid.pressure_level == 2)].reset_index(drop=True)
    assert part.nbs_distance.notna().sum() > 10
    for col in ("nbs_distance", "pareto_efficient", "nash_product", "rounds"):
        pd.testing.assert_series_equal(part[col], alone[col], check_exact=True)


def unit_moves(n_i):
    """Every move of one issue, or of two issues at once, by one unit in each direction."""
    moves = []
    for i in range(n_i):
        for j in range(i, n_i):
            for si in (-1, 1):
                for sj in (0,) if j == i else (-1, 1):
                    d = np.zeros(n_i)
                    d[i], d[j] = si, (sj if j != i else si)
                    moves.append(d)
    return np.array(moves)


def whole_text_pareto(x, pos, w, members, kind, rl, delta=0.01, tol=1e-3):
    """The Pareto check in numpy, every moved text evaluated by ``plain_utility``: the reference."""
    dirs = unit_moves(x.shape[-1]) * delta
    base = plain_utility(x, pos, w, kind, rl)
    cand = np.clip(x[:, None, :] + dirs, 0.0, 1.0)
    u = plain_utility(cand, pos[:, None], w[:, None], kind, rl)
    gain = (u - base[:, None, :])[..., members]
    better = (gain >= -tol).all(axis=-1) & (gain > tol).any(axis=-1)
    return ~better.any(axis=-1)


@pytest.mark.parametrize("kind", ["linear", "quadratic"])
def test_compiled_pareto_check_equals_numpy_reference(kind):
    """The compiled check must agree with evaluating every moved text in numpy, on random
    problems with (conditional) red lines and on texts at the bounds, at positions and at
    red-line bounds."""
    from sim.utility import RedLines

    g = np.random.default_rng(5)
    n_r, n_a, n_i, k_n = 3000, 3, 5, 7
    actor, issue = g.integers(0, n_a, k_n), g.integers(0, n_i, k_n)
    cond = np.where(g.random(k_n) < 0.6, g.integers(0, n_i, k_n), -1)
    bound = np.round(g.random(k_n), 1)
    rl = RedLines(
        actor,
        issue,
        bound,
        np.where(g.random(k_n) < 0.5, 1.0, -1.0),
        cond,
        np.round(g.random(k_n), 1),
        np.where(g.random(k_n) < 0.5, 1.0, -1.0),
        g.uniform(0.2, 2, k_n),
        np.zeros(k_n, bool),
        n_a,
        n_i,
    )
    pos = np.round(g.random((n_r, n_a, n_i)), 1)
    w = g.random((n_r, n_a, n_i))
    w /= w.sum(axis=-1, keepdims=True)
    members = np.array([True, True, False])
    x = g.random((n_r, n_i))
    x[: n_r // 3] = np.round(x[: n_r // 3] * 10) / 10  # on bounds, positions and red lines
    near = slice(n_r // 3, n_r)  # near the frontier: the Nash solution, some rounded
    x[near] = nash_solution(
        pos[near, :2],
        w[near, :2],
        np.full((n_r - n_r // 3, 2), 0.1),
        np.ones(2, bool),
        kind,
        rl.subset(np.arange(2)),
        iterations=200,
    )
    x[n_r // 3 : n_r // 2] = np.round(x[n_r // 3 : n_r // 2] * 10) / 10
    fast = pareto_efficient(x, pos, w, members, kind, rl)
    ref = whole_text_pareto(x, pos, w, members, kind, rl)
    assert 0.05 < fast.mean() < 0.95  # both answers occur
    assert (fast == ref).all()  # the same sums in the same order
    one = pareto_efficient(x[11:12], pos[11:12], w[11:12], members, kind, rl)
    assert one[0] == fast[11]
