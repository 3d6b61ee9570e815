"""The compiled loops against what they stand for, and the state the kernel keeps between rounds.

``sim.compiled`` replaces numpy expressions with loops; these tests hold them to plain
numpy references on random problems (the frontier offer of alternating offers), and check
that what the kernel caches between rounds (the renege scale, the concession table) is
what it would compute afresh.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.api import build, load_config
from sim.batch import advance
from sim.compiled import frontier_offer_runs, renege_scale_runs
from sim.kernel import RUNNING, concession, init_batch
from sim.strategies import ConcessionContext
from sim.synthetic import random_static


def frontier_offer_numpy(pos, weight, lo, hi, x, op, who, target, others, quadratic):
    """The frontier offer in numpy (the kernel's earlier implementation): the reference."""
    rr = np.arange(pos.shape[0])
    w_own = weight[rr, who] * op
    w_own = w_own / np.maximum(w_own.sum(-1, keepdims=True), 1e-12)
    own = np.clip(pos[rr, who], lo, hi)
    ow = weight * op[:, None, :] * others[..., None]
    wo_sum = ow.sum(axis=1)
    wp = np.maximum((weight * op[:, None, :]).sum(-1), 1e-12)
    pooled = np.where(wo_sum > 0, (ow * pos).sum(axis=1) / np.maximum(wo_sum, 1e-12), own)
    pooled = np.clip(pooled, lo, hi)
    gain_w = (ow / wp[..., None]).sum(axis=1)
    dist = np.abs(pooled - own) * op
    loss = w_own * (dist * dist if quadratic else dist)
    ratio = np.where(op & (dist > 0), gain_w / np.maximum(w_own, 1e-12), -np.inf)
    order = np.argsort(-ratio, axis=-1, kind="stable")
    loss_s = np.take_along_axis(loss, order, axis=-1)
    before = np.cumsum(loss_s, axis=-1) - loss_s
    d0 = np.abs(own - pos[rr, who])
    best = 1.0 - (w_own * (d0 * d0 if quadratic else d0)).sum(-1)
    budget = np.maximum(best - target, 0.0)[:, None]
    part = np.clip((budget - before) / np.where(loss_s > 0, loss_s, 1.0), 0.0, 1.0)
    part = np.where(loss_s > 0, part, 0.0)
    if quadratic:
        part = np.sqrt(part)
    f = np.empty_like(part)
    np.put_along_axis(f, order, part, axis=-1)
    return np.where(op, own + f * (pooled - own), x)


@pytest.mark.parametrize("kind", ["linear", "quadratic"])
def test_frontier_offer_equals_numpy_reference(kind):
    """Random problems: ties in the ratio, closed issues, bounds that cut ideals off, targets
    above the best on offer and below zero."""
    g = np.random.default_rng(11)
    n_r, n_a, n_i = 4000, 4, 6
    pos = np.round(g.random((n_r, n_a, n_i)), 1)  # rounded: equal distances and ratios occur
    weight = np.round(g.random((n_r, n_a, n_i)), 1) + 0.05
    weight /= weight.sum(-1, keepdims=True)
    lo = np.where(g.random((n_r, n_i)) < 0.2, 0.3, 0.0)
    hi = np.where(g.random((n_r, n_i)) < 0.2, 0.7, 1.0)
    x = g.random((n_r, n_i))
    op = g.random((n_r, n_i)) < 0.7
    who = g.integers(0, n_a, n_r)
    target = g.uniform(-0.2, 1.2, n_r)
    others = (g.random((n_r, n_a)) < 0.6) & (np.arange(n_a) != who[:, None])
    got = frontier_offer_runs(pos, weight, lo, hi, x, op, who, target, others, kind == "linear")
    ref = frontier_offer_numpy(pos, weight, lo, hi, x, op, who, target, others, kind != "linear")
    assert got.tobytes() == ref.tobytes()  # the same arithmetic in the same order: the same bits
    alone = frontier_offer_runs(
        pos[5:6], weight[5:6], lo[5:6], hi[5:6], x[5:6], op[5:6], who[5:6], target[5:6], others[5:6], kind == "linear"
    )
    assert alone.tobytes() == got[5:6].tobytes()


@pytest.mark.parametrize("which", ["default", "generated"])
def test_renege_scale_kept_in_the_batch_matches_trust(which):
    """Trust moves when phases are implemented and shocks hit; the kept renege scale follows."""
    st = build(load_config(["agenda=phased_plan"])) if which == "default" else random_static(8, 5, seed=3)
    b = init_batch(st, np.arange(400))
    dv, sc = st.derived, st.sc
    moved = 0
    for t in range(st.settings.max_rounds):
        before = b.trust.copy()
        advance(st, b, t)
        moved += int((b.trust != before).any(axis=(1, 2)).sum())
        fresh = renege_scale_runs(b.trust, dv.pidx, dv.counterpart_p, b.renege, sc.guarantor, b.cred)
        assert fresh.tobytes() == b.rs.tobytes(), t
        if not (b.status == RUNNING).any():
            break
    assert moved > 0  # trust did move, so the check had something to follow


def test_concession_table_equals_the_strategies():
    """Strategies that read only the clock: the table per clock value equals calling them on a batch."""
    st = build(load_config(["scenario=negmas_bilateral", "protocol=alternating_offers"]))
    table = st.derived.frac_table
    assert table is not None
    frac = np.random.default_rng(0).random((50, st.sc.n_actors))
    for t in range(table.shape[0]):
        ctx = ConcessionContext(
            t=np.full(frac.shape, t),
            horizon=st.sc.patience,
            frac=frac,
            frac_prev=frac,
            eu=frac,
            aspiration=frac,
            reservation_value=frac,
            principal=st.sc.principal,
        )
        direct = concession(st.families, ctx)
        assert np.broadcast_to(table[t], direct.shape).tobytes() == np.ascontiguousarray(direct).tobytes()
    default = build(load_config([]))  # the table exists exactly when every strategy reads only the time
    assert (default.derived.frac_table is not None) == all(f[0].time_only for f in default.families)


def _random_problem(seed: int, n_r: int = 300, linear: bool = True):
    """Random texts, ideals, weights, open issues and renege scales, with a generated scenario's red lines."""
    st = random_static(n_actors=5, n_issues=6, seed=seed)
    rl = st.red_lines.arrays
    assert rl[0].size > 0  # the generated scenario has red lines, some conditional
    g = np.random.default_rng(seed)
    n_a, n_i = st.n_actors, st.n_issues
    x = g.random((n_r, n_i))
    op = g.random((n_r, n_i)) < 0.7
    op[:, 0] = True
    pos = g.random((n_r, n_a, n_i))
    weight = g.random((n_r, n_a, n_i)) + 0.05
    weight /= weight.sum(-1, keepdims=True)
    rs = np.stack([g.random((n_r, n_a)) * 0.6, g.random((n_r, n_a))], axis=-1)
    sq = g.random(n_i)
    return x, op, pos, weight, sq, rs, rl, linear


@pytest.mark.parametrize("linear", [True, False])
@pytest.mark.parametrize("gi,strong", [(-1, 1.0), (2, 1.0), (3, 0.0)])
def test_evaluate_runs_equals_the_numpy_reference(linear, gi, strong):
    from sim.compiled import evaluate_runs
    from tests import reference

    x, op, pos, weight, sq, rs, rl, _ = _random_problem(7 + gi, linear=linear)
    (eu, u, m, wp, vq, p, umax), hard, grad = evaluate_runs(x, op, pos, weight, sq, rs, gi, strong, rl, linear, True)
    ref = reference.evaluate(x, op, pos, weight, sq, rs, gi, strong, rl, linear)
    for got, want, name in zip(
        (eu, u, m, wp, vq, p, umax, hard, grad),
        ref,
        ("eu", "u", "m", "wp", "vq", "p", "umax", "hard", "grad"),
        strict=True,
    ):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, err_msg=name)
    # without the gradient, the same values
    (eu2, *_), hard2, _g = evaluate_runs(x, op, pos, weight, sq, rs, gi, strong, rl, linear, False)
    assert eu2.tobytes() == eu.tobytes() and np.array_equal(hard2, hard)


@pytest.mark.parametrize("linear", [True, False])
def test_nash_runs_equals_the_numpy_reference(linear):
    from sim.compiled import nash_runs
    from tests import reference

    x, _op, pos, weight, _sq, _rs, rl, _ = _random_problem(3, n_r=40, linear=linear)
    g = np.random.default_rng(5)
    members = np.array([True, True, False, True, False])
    rv = g.random((40, 5)) * 0.3
    lo, hi = np.zeros_like(x), np.ones_like(x)
    got = nash_runs(x, pos, weight, rv, members, linear, rl, lo, hi, 300, 10, 1e-9)
    want = reference.nash(x, pos, weight, rv, members, linear, rl, lo, hi, 300, 10, 1e-9)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    assert np.abs(got - x).max() > 0.05  # the ascent moved the texts


def test_plain_utility_and_issue_values_follow_the_compiled_formula():
    from sim.utility import RedLines, issue_values, plain_utility
    from tests import reference

    x, op, pos, weight, sq, rs, rl_arrays, _ = _random_problem(9, n_r=50)
    st = random_static(n_actors=5, n_issues=6, seed=9)
    u = plain_utility(x, pos, weight, "linear", st.red_lines)
    v, dv = reference.values(x, pos, True)
    pen, _, _ = reference.penalty(x, weight, np.ones_like(op), rl_arrays)
    np.testing.assert_allclose(u, (weight * v).sum(-1) - pen, rtol=0, atol=1e-12)
    got_v, got_dv = issue_values(x, pos, "linear")
    np.testing.assert_array_equal(got_v, v)
    np.testing.assert_array_equal(got_dv, dv)
    # broadcasting: one text judged by a stack of actors, and no red lines
    one = plain_utility(x[0], pos[0], weight[0])
    assert one.shape == (5,) and np.allclose(one, (weight[0] * v[0]).sum(-1))
    assert RedLines.none(5, 6).empty
