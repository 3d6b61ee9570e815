"""Reciprocal concession: relative tit-for-tat.

The actor gives up, as a fraction of its own range, what the other principals gave up
of theirs in the last round (scaled by ``reciprocity``), and at least ``min_step``, so
that two tit-for-tat players do not freeze. Axelrod (1984), "The Evolution of
Cooperation"; the relative form follows Faratin, Sierra & Jennings (1998), imitative
tactics.
"""

from __future__ import annotations

import numpy as np

from sim.strategies.base import ConcessionContext, Strategy, register


@register
class Reciprocal(Strategy):
    """Mirror the other principals' last concession (relative tit-for-tat)."""

    name = "reciprocal"
    classifier = {"family": "reciprocal", "memory": 1, "monotone": True, "stochastic": False}
    params = {"reciprocity": 1.0, "min_step": 0.01, "floor": 0.0}
    bounds = {"reciprocity": (0.0, 10.0), "min_step": (0.0, 1.0), "floor": (0.0, 1.0)}

    @staticmethod
    def update(ctx: ConcessionContext, p):
        """Give up what the other principals gave up last round, on average, times ``reciprocity``
        (at least ``min_step``, never below ``floor``)."""
        moved = np.maximum(ctx.frac_prev - ctx.frac, 0.0) * ctx.principal
        n_other = np.maximum(ctx.principal.sum() - ctx.principal, 1)
        others = (moved.sum(axis=-1, keepdims=True) - moved) / n_other
        step = np.maximum(p["min_step"], p["reciprocity"] * others)
        return np.maximum(p["floor"], ctx.frac - step)
