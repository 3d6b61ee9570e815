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

from sim.compiled import frontier_offer_runs
from sim.kernel import (
    RUNNING,
    Batch,
    Static,
    all_true,
    aspiration,
    between_rounds,
    concede,
    evaluate_batch,
    judge,
    open_mask,
    record_verdicts,
    required,
    settle,
)
from sim.protocols.base import Protocol, register

TOL = 1e-9  # acceptance slack for rounding: a text worth the aspiration to 1e-9 is accepted


def frontier_offer(
    st: Static, b: Batch, who: np.ndarray, target: np.ndarray, op: np.ndarray, others: np.ndarray
) -> np.ndarray:
    """The text ``[R, I]`` that gives actor ``who[r]`` utility ``target[r]`` and the others most.

    Starting from ``who``'s ideal on the open issues (within the phase's bounds), it
    moves issues toward the others' pooled position, the issue with the best ratio of
    their gain to its loss first, until its utility over the open issues has fallen to
    ``target`` (plain utility: no commitment problem, no red lines).
    """
    return frontier_offer_runs(b.pos, b.weight, b.lo, b.hi, b.x, op, who, target, others, st.sc.utility == "linear")


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
    classifier = {
        "parties": "two or more (stacked)",
        "mediated": False,
        "texts": "one offer per round",
        "literature": "Stahl 1972; Rubinstein 1982; Aydogan et al. 2017",
    }

    @classmethod
    def check(cls, st: Static) -> str | None:
        """Alternating offers needs two principals or more."""
        if st.sc.principal.sum() < 2:
            return "alternating offers needs at least two principals"
        return None

    @classmethod
    def step(cls, st: Static, b: Batch, t: int) -> None:
        """One round: the proposer of the round offers, the others judge, then the shared between-rounds step."""
        running = b.status == RUNNING
        all_running = all_true(running)
        op = open_mask(st, b)
        who = proposer_of(st, b, t)
        rr = np.arange(len(b))
        is_prop = np.zeros(b.frac.shape, bool)
        is_prop[rr, who] = True
        concede(st, b, t, running, is_prop)
        ev0 = evaluate_batch(st, b, op, with_grad=False)
        umax = ev0.umax  # the top of each actor's range this phase
        asp = aspiration(b.rv, b.frac, umax)
        req = required(st, b)
        others = req & ~is_prop & st.sc.principal
        x = frontier_offer(st, b, who, asp[rr, who], op, others)
        b.x = x if all_running else np.where(running[:, None], x, b.x)
        ev = evaluate_batch(st, b, op, with_grad=False)
        # a seated human decides; the proposer stands by its own text unless it falls
        # below its reservation value
        ok, agreed, walker = judge(
            eu=ev.eu,
            rv=b.rv,
            asp=asp,
            umax=umax,
            hard=ev.hard,
            override=b.override,
            required=req,
            running=running,
            proposer=is_prop,
            tol_asp=TOL,
            tol_rv=TOL,
        )
        record_verdicts(b, t, running, all_running, ev.eu, asp, umax, ok, walker)
        settle(st, b, agreed, t + 1)  # the next phase opens in round t + 1, its first mover first
        between_rounds(st, b, t)
