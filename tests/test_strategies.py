"""Contract tests inherited by every registered strategy, under every protocol.

Same seed, same trace (alone or inside a batch); texts stay in the issue space; nothing is
agreed below a required actor's reservation value; strategies that claim monotone
concession never raise their demand.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.api import build, load_config, run
from sim.batch import advance
from sim.kernel import RUNNING, init_batch
from sim.strategies import STRATEGIES
from sim.strategies.backward_induction import proposer_share
from sim.strategies.base import ConcessionContext

PROTOCOLS = {
    "mediated": [],
    "alternating_offers": ["protocol=alternating_offers", "protocol.max_rounds=40"],
    "monotonic_concession": ["protocol=monotonic_concession", "protocol.params.grid=5"],
}


def static_for(strategy: str, protocol: str, scenario: str = "symmetric"):
    """The symmetric scenario with noise and shocks, both principals playing ``strategy``."""
    cfg = load_config([f"scenario={scenario}", *PROTOCOLS[protocol]])
    for a in ("A", "B"):
        cfg.scenario.actors[a].strategy.name = strategy
        cfg.scenario.actors[a].strategy.params = {}
        cfg.scenario.actors[a].discount = 0.9
    cfg.scenario.uncertainty.position = 0.1
    cfg.scenario.uncertainty.salience = 0.1
    cfg.scenario.uncertainty.reservation_value = 0.05
    cfg.scenario.shocks.rate = 0.05
    return cfg, build(cfg)


def trace(st, seeds, keep: int):
    """Per round: text, fraction insisted on and status of run ``keep`` of a batch."""
    b = init_batch(st, np.asarray(seeds))
    rows = []
    for t in range(st.settings.max_rounds):
        i = int(np.flatnonzero(b.index == keep)[0])
        advance(st, b, t)
        rows.append((b.x[i].copy(), b.frac[i].copy(), int(b.status[i])))
        if b.status[i] != RUNNING:
            break
    return rows


CASES = [(s, p) for s in sorted(STRATEGIES) for p in PROTOCOLS]


@pytest.mark.parametrize("strategy,protocol", CASES)
def test_same_seed_same_trace(strategy, protocol):
    _, st = static_for(strategy, protocol)
    alone = trace(st, [11], keep=0)
    inside = trace(st, [3, 11, 29], keep=1)
    assert len(alone) == len(inside)
    for (xa, fa, sa), (xb, fb, sb) in zip(alone, inside, strict=True):
        assert sa == sb and np.array_equal(xa, xb) and np.array_equal(fa, fb)


@pytest.mark.parametrize("strategy,protocol", CASES)
def test_offers_in_range_and_nothing_agreed_below_reservation(strategy, protocol):
    cfg, st = static_for(strategy, protocol)
    cfg.n_seeds = 30
    b = init_batch(st, np.arange(30))
    for t in range(st.settings.max_rounds):
        advance(st, b, t)
        assert np.all((b.x >= b.lo - 1e-12) & (b.x <= b.hi + 1e-12))
        assert np.all((b.frac >= 0) & (b.frac <= 1))
    t = run(cfg).table
    ok = t[t.agreement]
    for a in ("A", "B"):
        assert np.all(ok[f"eu_{a}"] >= ok[f"rv_{a}"] - 1e-9), (strategy, protocol, a)


@pytest.mark.parametrize("strategy", [s for s in sorted(STRATEGIES) if STRATEGIES[s].classifier.get("monotone")])
@pytest.mark.parametrize("protocol", ["mediated", "alternating_offers"])
def test_monotone_where_claimed(strategy, protocol):
    _, st = static_for(strategy, protocol)
    b = init_batch(st, np.arange(20))
    prev = b.frac.copy()
    for t in range(st.settings.max_rounds):
        running = b.status == RUNNING
        idx = b.index.copy()
        advance(st, b, t)
        now = b.frac[np.isin(b.index, idx)]
        before = prev[np.isin(idx, b.index)]
        assert np.all(now <= before + 1e-12), (strategy, protocol, t)
        prev = b.frac.copy()
        if not running.any():
            break


def test_every_strategy_has_a_name_classifier_and_literature():
    for name, cls in STRATEGIES.items():
        assert cls.name == name and {"family", "monotone", "stochastic"} <= set(cls.classifier)
        doc = __import__(cls.__module__, fromlist=["_"]).__doc__
        assert doc and any(ch.isdigit() for ch in doc), name  # cites a year


def ctx(t=0, frac=None, frac_prev=None, eu=None, asp=None, rv=None, proposer=None, discount=None):
    shape = (1, 2)
    z = np.zeros(shape)
    return ConcessionContext(
        t=t,
        horizon=10,
        frac=np.ones(shape) if frac is None else frac,
        frac_prev=np.ones(shape) if frac_prev is None else frac_prev,
        eu=z if eu is None else eu,
        aspiration=z if asp is None else asp,
        reservation_value=z if rv is None else rv,
        principal=np.array([True, True]),
        discount=discount,
        proposer=proposer,
    )


def params(name, **kw):
    p = {k: np.full(2, float(v)) for k, v in STRATEGIES[name].params.items()}
    p.update({k: np.full(2, float(v)) for k, v in kw.items()})
    return p


def test_behaviour_tables():
    # time-dependent: Boulware holds, Conceder gives early, linear in between (t = 5 of 10)
    f = {e: STRATEGIES["time_dependent"].update(ctx(t=5), params("time_dependent", e=e))[0, 0] for e in (0.2, 1, 5)}
    assert f[0.2] > f[1] > f[5] and abs(f[1] - 0.5) < 1e-12
    # hardliner never below its floor
    assert STRATEGIES["hardliner"].update(ctx(t=10), params("hardliner", floor=0.6))[0, 0] == 0.6
    # reciprocal: B gave 0.2 last round, A answers with 0.2
    out = STRATEGIES["reciprocal"].update(
        ctx(frac=np.array([[0.9, 0.7]]), frac_prev=np.array([[0.9, 0.9]])), params("reciprocal")
    )
    assert abs(out[0, 0] - 0.7) < 1e-12
    # Zeuthen: A risks less (its offer from B is close to its own demand) and concedes; B holds
    out = STRATEGIES["zeuthen"].update(
        ctx(frac=np.array([[0.8, 0.8]]), eu=np.array([[0.7, 0.2]]), asp=np.array([[0.8, 0.8]])),
        params("zeuthen", step=0.1),
    )
    assert np.allclose(out, [[0.7, 0.8]])
    # backward induction: a one-round game gives the proposer everything, the responder nothing
    bi = STRATEGIES["backward_induction"]
    out = bi.update(
        ctx(t=0, proposer=np.array([[True, False]]), discount=np.array([0.9, 0.9])),
        params("backward_induction", horizon=1),
    )
    assert np.allclose(out, [[1.0, 0.0]])
    # two rounds: the proposer must leave the responder its discounted last-round pie
    out = bi.update(
        ctx(t=0, proposer=np.array([[True, False]]), discount=np.array([0.9, 0.8])),
        params("backward_induction", horizon=2),
    )
    assert np.allclose(out, [[0.2, 0.8]])
    # without discount factors (the mediated text) it holds its demand
    assert np.array_equal(bi.update(ctx(frac=np.full((1, 2), 0.4)), params("backward_induction")), np.full((1, 2), 0.4))


def test_backward_induction_is_an_induction_not_a_formula():
    # short horizons differ from Rubinstein's limit; long ones approach it
    limit = (1 - 0.9) / (1 - 0.9 * 0.9)
    assert abs(proposer_share(np.array(5), 0.9, 0.9) - limit) > 0.05
    assert abs(proposer_share(np.array(2000), 0.9, 0.9) - limit) < 1e-9
    assert abs(proposer_share(np.array(3), 0.9, 0.9) - (1 - 0.9 * (1 - 0.9))) < 1e-12
