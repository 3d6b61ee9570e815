"""Utilities, red lines and the commitment problem, checked by hand and by finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from sim.utility import RedLines, evaluate, issue_values, plain_utility


def lines(**kw) -> RedLines:
    base = dict(
        actor=np.array([0]),
        issue=np.array([0]),
        bound=np.array([0.5]),
        sign=np.array([1.0]),
        cond_issue=np.array([-1]),
        cond_bound=np.array([0.0]),
        cond_sign=np.array([1.0]),
        strength=np.array([2.0]),
        hard=np.array([False]),
        n_actors=2,
        n_issues=2,
    )
    base.update({k: np.atleast_1d(np.asarray(v)) for k, v in kw.items()})
    return RedLines(**base)


POS = np.array([[1.0, 0.0], [0.0, 1.0]])
W = np.array([[0.75, 0.25], [0.5, 0.5]])


def test_linear_and_quadratic_values():
    x = np.array([0.25, 0.5])
    v, _ = issue_values(x, POS, "linear")
    np.testing.assert_allclose(v, [[0.25, 0.5], [0.75, 0.5]])
    v, _ = issue_values(x, POS, "quadratic")
    np.testing.assert_allclose(v, [[1 - 0.75**2, 0.75], [1 - 0.0625, 0.75]])
    np.testing.assert_allclose(plain_utility(x, POS, W), [0.75 * 0.25 + 0.25 * 0.5, 0.5 * 0.75 + 0.25])


def test_soft_red_line_costs_strength_times_own_weight():
    rl = lines()
    u_ok = plain_utility(np.array([0.6, 0.5]), POS, W, red_lines=rl)
    u_bad = plain_utility(np.array([0.4, 0.5]), POS, W, red_lines=rl)
    # 0.2 less on issue 0 (weight 0.75) plus 0.1 beyond the line at 2 x 0.75 per unit
    assert u_ok[0] - u_bad[0] == pytest.approx(0.2 * 0.75 + 0.1 * 2 * 0.75)
    assert u_ok[1] - u_bad[1] == pytest.approx(-0.2 * 0.5)


def test_conditional_red_line_lifts_when_condition_met():
    rl = lines(cond_issue=1, cond_bound=0.8, cond_sign=1.0)
    pen_unmet = rl.penalty(np.array([0.3, 0.5]), W)[0][0]
    pen_met = rl.penalty(np.array([0.3, 0.85]), W)[0][0]
    assert pen_unmet == pytest.approx(2 * 0.75 * 0.2)
    assert pen_met == 0.0


def test_hard_red_line_vetoes():
    rl = lines(hard=True)
    assert rl.penalty(np.array([0.4, 0.5]), W)[2].tolist() == [True, False]
    assert rl.penalty(np.array([0.6, 0.5]), W)[2].tolist() == [False, False]


@pytest.mark.parametrize("kind", ["linear", "quadratic"])
def test_gradient_matches_finite_differences(kind):
    rng = np.random.default_rng(1)
    pos = rng.random((3, 4))
    w = rng.random((3, 4))
    w /= w.sum(axis=1, keepdims=True)
    rl = RedLines(
        actor=np.array([0, 1]),
        issue=np.array([1, 2]),
        bound=np.array([0.6, 0.3]),
        sign=np.array([1.0, -1.0]),
        cond_issue=np.array([3, -1]),
        cond_bound=np.array([0.5, 0.0]),
        cond_sign=np.array([1.0, 1.0]),
        strength=np.array([1.5, 1.0]),
        hard=np.array([False, False]),
        n_actors=3,
        n_issues=4,
    )
    sq = np.array([0.0, 0.9, 1.0, 0.1])
    scale = np.stack([np.full(3, 0.4), np.full(3, 0.6)], axis=-1)
    op = np.array([True, True, True, True])
    x = np.array([0.37, 0.52, 0.41, 0.47])  # away from kinks
    ev = evaluate(x, op, pos, w, sq, scale, 2, 0.0, rl, kind)
    h = 1e-6
    for i in range(4):
        d = np.zeros(4)
        d[i] = h
        up = evaluate(x + d, op, pos, w, sq, scale, 2, 0.0, rl, kind, with_grad=False).eu
        dn = evaluate(x - d, op, pos, w, sq, scale, 2, 0.0, rl, kind, with_grad=False).eu
        np.testing.assert_allclose(ev.grad[:, i], (up - dn) / (2 * h), atol=1e-6)


def test_guarantees_lower_the_chance_of_reneging():
    scale = np.array([[0.5, 0.8], [0.5, 0.8]])
    op = np.array([True, True])
    sq = np.array([1.0, 1.0])
    rl = lines(strength=0.0)
    weak = evaluate(np.array([0.5, 1.0]), op, POS, W, sq, scale, 1, 0.0, rl)
    strong = evaluate(np.array([0.5, 0.0]), op, POS, W, sq, scale, 1, 0.0, rl)
    np.testing.assert_allclose(weak.p, 0.5)
    np.testing.assert_allclose(strong.p, 0.5 * (1 - 0.8))
    # what is reneged on is the worse of text and status quo: expected utility below utility
    assert (weak.eu <= weak.u + 1e-12).all()
