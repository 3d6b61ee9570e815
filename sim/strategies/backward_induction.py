"""Backward induction: the subgame-perfect demand in alternating offers with discounting.

Two players split a pie, taking turns to propose; a player who waits a round discounts
what it gets by its factor ``discount``. In the last round the proposer keeps everything
(the responder gets only its reservation value). One round earlier, the proposer offers
the responder exactly what the responder would get by waiting, its discounted share as
next round's proposer, and keeps the rest; and so on back to the present. This strategy
does that induction every round, over a long finite horizon (``horizon`` rounds from the
start, by default 1000, as if the talks could run that long), for its own side of the
table: as proposer it demands the share the induction gives the proposer now; as
responder it accepts no less than its discount times its share as next round's proposer.

No formula for the infinite game is written here: Rubinstein's (1982) limit,
``(1 - d2) / (1 - d1 d2)`` for the first proposer, is what the induction converges to as
the horizon grows (Stahl 1972; Rubinstein 1982, "Perfect equilibrium in a bargaining
model", Econometrica 50; Osborne & Rubinstein 1990, ch. 3). The validation compares the
play with that formula.

The share is a fraction of the actor's own range, from its reservation value to the best
it could get in the phase, so it is this strategy's ``frac``. With more than two
principals the others are treated as one counterpart with their mean discount factor.
Outside a protocol that says who proposes and what the discount factors are (the mediated
text, monotonic concession), it holds its current demand.
"""

from __future__ import annotations

import numpy as np

from sim.strategies.base import ConcessionContext, Strategy, register


def proposer_share(k: np.ndarray, d_self: np.ndarray, d_other: np.ndarray) -> np.ndarray:
    """The proposer's share with ``k`` rounds left, by induction from the last round.

    Args:
        k: rounds left including the current one (``0`` means none: nothing is shared).
        d_self: the proposer's discount factor; d_other: the responder's. All broadcast.

    With ``j`` rounds left the proposer keeps ``1 - d_resp * s(j - 1)``, where ``s(j - 1)``
    is the responder's share when it proposes next; ``s(1) = 1``. The roles alternate, so
    the responder at ``j`` rounds left is the actor itself when ``k - j`` is odd.
    """
    k = np.asarray(k, dtype=np.int64)
    d_self, d_other = np.broadcast_arrays(np.asarray(d_self, float), np.asarray(d_other, float))
    shape = np.broadcast_shapes(k.shape, d_self.shape)
    k = np.broadcast_to(k, shape)
    d_self, d_other = np.broadcast_to(d_self, shape), np.broadcast_to(d_other, shape)
    s = np.zeros(shape)
    for j in range(1, int(k.max(initial=0)) + 1):
        # at j rounds left the actor proposes iff k - j is even; its responder waits
        d_resp = np.where((k - j) % 2 == 0, d_other, d_self)
        s = np.where(j <= k, 1.0 - d_resp * s, s)
    return s


@register
class BackwardInduction(Strategy):
    """Demand the subgame-perfect share of alternating offers, found by backward induction."""

    name = "backward_induction"
    classifier = {
        "family": "game-theoretic",
        "memory": 0,
        "monotone": False,
        "stochastic": False,
        "needs": "alternating offers with discount factors",
    }
    params = {"horizon": 1000.0}
    bounds = {"horizon": (1.0, 1e5)}

    @staticmethod
    def update(ctx: ConcessionContext, p):
        """Demand the subgame-perfect share of alternating offers for the rounds left."""
        if ctx.discount is None or ctx.proposer is None:
            return ctx.frac
        pr = ctx.principal
        d = np.asarray(ctx.discount, dtype=float)
        n_other = np.maximum(pr.sum() - pr, 1)
        d_other = ((d * pr).sum() - d * pr) / n_other
        k = np.maximum(p["horizon"].astype(np.int64) - ctx.t, 0)  # rounds left, the current one included
        k = np.broadcast_to(k, ctx.frac.shape)
        as_proposer = proposer_share(k, d, d_other)
        as_responder = d * proposer_share(np.maximum(k - 1, 0), d, d_other)
        return np.where(ctx.proposer, as_proposer, as_responder)
