"""One kernel, any batch size: a seed gives the same numbers alone, in 10 or in 100,000.

Also checks the pieces that make the kernel fast against plain numpy, bit for bit: row
sums, the compiled red-line penalty (against the one-hot formulation), the batched
seeding (against ``default_rng``) and the Nash solution alone and in a batch.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.agenda import compile_agenda
from sim.batch import measure, simulate
from sim.kernel import Settings, make_static
from sim.model import NegotiationModel
from sim.outcome import nash_solution
from sim.protocols import PROTOCOLS
from sim.scenario import compile_scenario
from sim.streams import draw_many
from sim.synthetic import random_agenda, random_scenario
from sim.utility import CONDITION_RAMP, RedLines


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def assert_rows_equal(small: dict, big: dict, rows_small, rows_big) -> None:
    for k in small:
        if k == "index":
            continue
        assert same_bits(small[k][rows_small], big[k][rows_big]), k


def generated(n_actors: int, n_issues: int, seed: int):
    """A random scenario and agenda, compiled the way a scenario file is."""
    sc = compile_scenario(random_scenario(n_actors, n_issues, seed=seed), file="<test>")
    ag = compile_agenda(random_agenda(n_issues, seed=seed), sc, file="<test>")
    return make_static(sc, ag, Settings(max_rounds=40), PROTOCOLS["mediated"])


@pytest.fixture(scope="module")
def generated_static():
    """A random 6-actor, 5-issue scenario."""
    return generated(6, 5, seed=1)


@pytest.fixture(scope="module")
def wide_static():
    """A random 7-actor, 12-issue scenario (wider than numpy's one-accumulator sums)."""
    return generated(7, 12, seed=2)


def test_generated_scenario_is_varied(generated_static):
    st = generated_static
    assert st.sc.n_actors == 6 and st.sc.n_issues == 5 and st.ag.n_phases >= 2
    assert st.red_lines.actor.size >= 2 and (st.red_lines.cond_issue >= 0).any()
    out = simulate(st, np.arange(300))
    assert len(set(out["status"].tolist())) >= 2  # agreements and breakdowns both happen


@pytest.mark.parametrize("which", ["default", "generated", "wide"])
def test_seed_gives_same_result_alone_in_10_and_in_1000(which, default_static, generated_static, wide_static):
    st = {"default": default_static, "generated": generated_static, "wide": wide_static}[which]
    seeds = np.arange(1000) * 7 + 3
    big = simulate(st, seeds, chunk_size=1000)
    ten = simulate(st, seeds[100:110])
    assert_rows_equal(ten, big, slice(None), slice(100, 110))
    for k in (0, 105, 999):
        alone = simulate(st, seeds[k : k + 1])
        assert_rows_equal(alone, big, slice(None), slice(k, k + 1))
    chunked = simulate(st, seeds, chunk_size=137)  # chunk boundaries change nothing either
    assert_rows_equal(chunked, big, slice(None), slice(None))


@pytest.mark.parametrize("which", ["generated", "wide"])
def test_mesa_model_equals_batch_on_generated_scenario(which, generated_static, wide_static):
    st = generated_static if which == "generated" else wide_static
    big = simulate(st, np.arange(50))
    for seed in (0, 17, 49):
        m = NegotiationModel(rng=seed, static=st)
        m.run()
        one = simulate(st, [seed])
        mesa_cols = measure(st, m.batch)
        assert_rows_equal(mesa_cols, big, slice(None), slice(seed, seed + 1))
        assert_rows_equal(one, big, slice(None), slice(seed, seed + 1))


def test_conditions_do_not_couple_runs(default_static):
    n = 400
    seeds = np.arange(n)
    trust, cred, press = np.linspace(0, 1, n), np.where(seeds % 3 == 0, np.nan, 0.6), np.linspace(0, 2, n)
    big = simulate(default_static, seeds, trust, cred, press)
    for k in (0, 201, 399):
        one = simulate(default_static, seeds[k : k + 1], trust[k : k + 1], cred[k : k + 1], press[k : k + 1])
        assert_rows_equal(one, big, slice(None), slice(k, k + 1))


@pytest.mark.slow
def test_seed_gives_same_result_in_a_batch_of_100000(default_static):
    """100,000 seeds in one job (chunks of 5,000), against the same seeds alone and in 10."""
    seeds = np.arange(100_000)
    big = simulate(default_static, seeds)
    picks = np.array([0, 4_999, 5_000, 54_321, 99_999])
    for k in picks:
        alone = simulate(default_static, seeds[k : k + 1])
        assert_rows_equal(alone, big, slice(None), slice(k, k + 1))
    ten = simulate(default_static, seeds[54_316:54_326])
    assert_rows_equal(ten, big, slice(None), slice(54_316, 54_326))


def test_batched_seeding_equals_default_rng():
    seeds = np.concatenate([np.arange(50), [2**31, 2**32 - 1, 2**32, 2**40 + 3, 2**63 - 1]]).astype(np.int64)
    fast = draw_many(seeds, lambda g: (g.standard_normal(7), g.random((3, 2))))
    for s, (n, u) in zip(seeds, fast, strict=True):
        g = np.random.default_rng(int(s))
        assert same_bits(n, g.standard_normal(7)) and same_bits(u, g.random((3, 2)))


def one_hot_penalty(rl: RedLines, x, weight, open_):
    """The red-line penalty written with one-hot tensors (the formulation it replaced)."""
    n_a, n_i, k_n = rl.n_actors, rl.n_issues, rl.actor.size
    val = x[..., rl.issue]
    viol = np.maximum(rl.sign * (rl.bound - val), 0.0)
    has_cond = rl.cond_issue >= 0
    short = rl.cond_sign * (rl.cond_bound - x[..., np.where(has_cond, rl.cond_issue, 0)])
    active = np.where(has_cond, np.clip(short / CONDITION_RAMP, 0.0, 1.0), 1.0) * open_[..., rl.issue]
    scale = rl.strength * weight[..., rl.actor, rl.issue]
    onehot = np.zeros((k_n, n_a))
    onehot[np.arange(k_n), rl.actor] = 1.0
    pen = ((scale * viol * active)[..., :, None] * onehot).sum(axis=-2)
    hard = ((rl.hard & (viol > 1e-12) & (active > 0))[..., :, None] & (onehot > 0)).any(axis=-2)
    g_issue = -scale * rl.sign * (viol > 0) * active
    ramp_on = has_cond & (short > 0) & (short < CONDITION_RAMP) & open_[..., rl.issue]
    g_cond = np.where(ramp_on, -scale * viol * rl.cond_sign / CONDITION_RAMP, 0.0)
    e_issue = np.zeros((k_n, n_a, n_i))
    e_issue[np.arange(k_n), rl.actor, rl.issue] = 1.0
    e_cond = np.zeros((k_n, n_a, n_i))
    e_cond[np.arange(k_n)[has_cond], rl.actor[has_cond], rl.cond_issue[has_cond]] = 1.0
    grad = (g_issue[..., :, None, None] * e_issue + g_cond[..., :, None, None] * e_cond).sum(axis=-3)
    return pen, grad, hard


def test_penalty_equals_one_hot_formulation():
    """Several red lines per actor, on the same issue, conditional on their own issue, hard ones."""
    g = np.random.default_rng(3)
    n_a, n_i, k_n = 4, 5, 12
    actor = g.integers(0, n_a, k_n)
    issue = g.integers(0, n_i, k_n)
    cond = np.where(g.random(k_n) < 0.6, g.integers(0, n_i, k_n), -1)
    cond[0], issue[0] = issue[0], issue[0]  # a line conditional on its own issue
    actor[1], issue[1] = actor[2], issue[2]  # two lines on one cell
    rl = RedLines(
        actor,
        issue,
        g.random(k_n),
        np.where(g.random(k_n) < 0.5, 1.0, -1.0),
        cond,
        g.random(k_n),
        np.where(g.random(k_n) < 0.5, 1.0, -1.0),
        g.uniform(0.2, 2, k_n),
        g.random(k_n) < 0.3,
        n_a,
        n_i,
    )
    x = g.random((500, n_i))
    x[:50] = np.round(x[:50] * 10) / 10  # values on bounds and ramp ends
    w = g.random((500, n_a, n_i))
    op = g.random((500, n_i)) < 0.8
    pen, grad, hard = rl.penalty(x, w, op)
    ref = one_hot_penalty(rl, x, w, op)
    assert same_bits(pen, ref[0]) and same_bits(grad, ref[1]) and same_bits(hard, ref[2])
    everything = np.ones_like(op)
    pen_a, grad_a, hard_a = rl.penalty(x, w)
    ref_a = one_hot_penalty(rl, x, w, everything)
    assert same_bits(pen_a, ref_a[0]) and same_bits(grad_a, ref_a[1]) and same_bits(hard_a, ref_a[2])
    one = rl.penalty(x[7], w[7], op[7])  # one text alone: the same numbers
    assert same_bits(one[0], pen[7]) and same_bits(one[1], grad[7]) and same_bits(one[2], hard[7])


@pytest.mark.parametrize(("n_p", "n_i"), [(2, 6), (9, 4), (3, 1)])
def test_nash_solution_same_alone_in_a_batch_and_with_array_bounds(n_p, n_i):
    g = np.random.default_rng(n_p * 10 + n_i)
    r = 300
    pos, w, rv = g.random((r, n_p, n_i)), g.random((r, n_p, n_i)), g.uniform(0, 0.3, (r, n_p))
    w /= w.sum(axis=-1, keepdims=True)
    rl = RedLines(
        np.array([0, 1, 0]),
        np.array([0, n_i - 1, 0]),
        np.array([0.3, 0.7, 0.5]),
        np.array([1.0, -1.0, 1.0]),
        np.array([-1, 0, n_i - 1]),
        np.array([0.0, 0.6, 0.4]),
        np.array([1.0, 1.0, -1.0]),
        np.array([1.0, 2.0, 0.5]),
        np.zeros(3, bool),
        n_p,
        n_i,
    )
    members = np.ones(n_p, bool)
    fast = nash_solution(pos, w, rv, members, "linear", rl, iterations=60)
    bounds = nash_solution(pos, w, rv, members, "linear", rl, lo=np.zeros(n_i), hi=np.ones((r, n_i)), iterations=60)
    assert same_bits(fast, bounds)
    one = nash_solution(pos[7:8], w[7:8], rv[7:8], members, "linear", rl, iterations=60)
    assert same_bits(one, fast[7:8])
