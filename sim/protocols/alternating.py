"""Alternating offers: the principals take turns to propose a text; the others accept or not.

In round 0 the phase's first mover proposes (the agenda's ``first_mover``; with no
named actor, the first principal of the scenario), then the turn passes to the next
principal, and so on around the table: bilateral alternating offers with two
principals (Stahl 1972; Rubinstein 1982), "stacked" alternating offers with more
(Aydogan et al. 2017): a text is agreed when every other required actor accepts it.

The proposer offers the text it likes least among those that still give it its
aspiration, conceding first the issues that are worth most to the others per unit of
its own utility (a greedy walk along the bargaining frontier: exact for two parties with
linear utilities, where the frontier is a fractional knapsack; with more principals the
others are pooled into one counterpart). A responder accepts if its expected utility of
the text meets its own aspiration and its reservation value, and no hard red line is
crossed. Strategies are told who proposes in the round and the actors' discount factors,
which the backward-induction strategy needs; influence, time and shocks run as in the
mediated protocol. Discount factors shape only the strategies' reasoning: utilities are
reported undiscounted.
"""

from __future__ import annotations

import numpy as np

from sim.kernel import (
    RUNNING,
    WALKOUT,
    Batch,
    Static,
    best_in_phase,
    concession,
    evaluate_batch,
    influence,
    open_mask,
    required,
    settle,
    shocks,
)
from sim.protocols.base import Protocol, register
from sim.strategies import ConcessionContext

TOL = 1e-9  # acceptance slack for rounding: a text worth the aspiration to 1e-9 is accepted


def concede_turn(st: Static, b: Batch, t: int, proposer: np.ndarray | None) -> None:
    """Apply each strategy family to its actors' rows of ``frac`` (running runs only).

    Like :func:`sim.kernel.concede`, but the strategies also learn the discount factors
    and who proposes this round (``[R, A]`` bool), for turn-based protocols.
    """
    live = b.status == RUNNING
    table = st.derived.frac_table  # strategies that read only the time: computed once
    if table is not None and t < table.shape[0]:
        new = table[t]
    else:
        new = concession(st.families, ConcessionContext(
            t=t, horizon=st.settings.max_rounds, frac=b.frac, frac_prev=b.frac_prev, eu=b.eu, aspiration=b.asp,
            reservation_value=b.rv, principal=st.sc.principal, discount=st.sc.discount, proposer=proposer))
    lv = live[:, None]
    b.frac_prev = np.where(lv, b.frac, b.frac_prev)
    b.frac = np.where(lv, new, b.frac)


def between_rounds(st: Static, b: Batch, t: int) -> None:
    """Influence, time and pressure, shocks: the parts of a round every protocol shares."""
    live = b.status == RUNNING
    influence(st, b, live, t + 1)
    shocks(st, b, t, live)


def frontier_offer(st: Static, b: Batch, who: np.ndarray, target: np.ndarray, op: np.ndarray,
                   others: np.ndarray) -> np.ndarray:
    """The text ``[R, I]`` that gives actor ``who[r]`` utility ``target[r]`` and the others most.

    Starting from ``who``'s ideal on the open issues (within the phase's bounds), it
    moves issues toward the others' pooled position, the issue with the best ratio of
    their gain to its loss first, until its utility over the open issues has fallen to
    ``target`` (plain utility: no commitment problem, no red lines).
    """
    rr = np.arange(len(b))
    w_own = b.weight[rr, who] * op  # [R, I]
    w_own = w_own / np.maximum(w_own.sum(-1, keepdims=True), 1e-12)
    own = np.clip(b.pos[rr, who], b.lo, b.hi)
    ow = b.weight * op[:, None, :] * others[..., None]  # [R, A, I]
    wo_sum = ow.sum(axis=1)
    wp = np.maximum((b.weight * op[:, None, :]).sum(-1), 1e-12)  # [R, A]
    pooled = np.where(wo_sum > 0, (ow * b.pos).sum(axis=1) / np.maximum(wo_sum, 1e-12), own)
    pooled = np.clip(pooled, b.lo, b.hi)
    gain_w = (ow / wp[..., None]).sum(axis=1)  # the others' (normalised) weights, pooled
    dist = np.abs(pooled - own) * op
    quadratic = st.sc.utility != "linear"
    loss = w_own * (dist * dist if quadratic else dist)  # own loss of conceding the whole issue
    ratio = np.where(op & (dist > 0), gain_w / np.maximum(w_own, 1e-12), -np.inf)
    order = np.argsort(-ratio, axis=-1, kind="stable")
    loss_s = np.take_along_axis(loss, order, axis=-1)
    before = np.cumsum(loss_s, axis=-1) - loss_s
    d0 = np.abs(own - b.pos[rr, who])  # > 0 only where the phase's bounds cut the ideal off
    best = 1.0 - (w_own * (d0 * d0 if quadratic else d0)).sum(-1)
    budget = np.maximum(best - target, 0.0)[:, None]
    part = np.clip((budget - before) / np.where(loss_s > 0, loss_s, 1.0), 0.0, 1.0)
    part = np.where(loss_s > 0, part, 0.0)
    if quadratic:
        part = np.sqrt(part)
    f = np.empty_like(part)
    np.put_along_axis(f, order, part, axis=-1)
    return np.where(op, own + f * (pooled - own), b.x)


def proposer_of(st: Static, b: Batch, t: int) -> np.ndarray:
    """``[R]``: who proposes in round ``t``: the turn goes round the principals in order.

    Each phase's turn starts at its first mover if that is a principal, else at the first
    principal.
    """
    pidx = st.derived.pidx
    turn = (st.derived.turn_start[np.minimum(b.phase, st.ag.n_phases - 1)] + t - b.last_phase_round) % pidx.size
    return pidx[turn]


@register
class AlternatingOffers(Protocol):
    """Principals propose in turn; a text is agreed when every other required actor accepts."""

    name = "alternating_offers"
    classifier = {"parties": "two or more (stacked)", "mediated": False, "texts": "one offer per round",
                  "literature": "Stahl 1972; Rubinstein 1982; Aydogan et al. 2017"}

    @classmethod
    def check(cls, st: Static) -> str | None:
        if st.sc.principal.sum() < 2:
            return "alternating offers needs at least two principals"
        return None

    @classmethod
    def step(cls, st: Static, b: Batch, t: int) -> None:
        running = b.status == RUNNING
        op = open_mask(st, b)
        who = proposer_of(st, b, t)
        rr = np.arange(len(b))
        is_prop = np.zeros(b.frac.shape, bool)
        is_prop[rr, who] = True
        concede_turn(st, b, t, is_prop)
        ev0 = evaluate_batch(st, b, op, with_grad=False)
        umax = best_in_phase(st, b, ev0, op)
        asp = b.rv + b.frac * (umax - b.rv)
        req = required(st, op)
        others = req & ~is_prop & st.sc.principal
        x = frontier_offer(st, b, who, asp[rr, who], op, others)
        b.x = np.where(running[:, None], x, b.x)
        ev = evaluate_batch(st, b, op, with_grad=False)
        ok = (ev.eu >= asp - TOL) & (ev.eu >= b.rv - TOL) & ~ev.hard
        ok = np.where(b.override >= 0, b.override == 1, ok)  # a seated human decides
        # the proposer stands by its own text unless it falls below its reservation value
        ok = np.where(is_prop, (ev.eu >= b.rv - TOL) & ~ev.hard, ok)
        agreed = running & (ok | ~req).all(axis=-1)
        hopeless = req & (umax < b.rv)
        walk = running & ~agreed & hopeless.any(axis=-1)
        rv = running[:, None]
        b.eu, b.asp = np.where(rv, ev.eu, b.eu), np.where(rv, asp, b.asp)
        b.umax, b.accept = np.where(rv, umax, b.umax), np.where(rv, ok, b.accept)
        b.walker = np.where(walk, hopeless.argmax(axis=-1), b.walker)
        b.status = np.where(walk, WALKOUT, b.status).astype(np.int8)
        b.rounds = np.where(running, t + 1, b.rounds)
        settle(st, b, agreed, t + 1)  # the next phase opens in round t + 1, its first mover first
        between_rounds(st, b, t)
