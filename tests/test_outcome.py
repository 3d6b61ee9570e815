"""Outcome measures: the Nash bargaining solution and the Pareto check, against brute force."""

from __future__ import annotations

import itertools

import numpy as np

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
