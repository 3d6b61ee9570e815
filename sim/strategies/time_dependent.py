"""Time-dependent concession: Boulware, linear and Conceder.

The actor gives up its surplus as a power of the time on its own clock,
``frac = 1 - (t / T) ** (1 / e)``, where ``t`` counts the rounds of talks in the current
phase and ``T`` is the actor's ``patience`` (a scenario input, never the protocol's
observation window): with ``e < 1`` it holds firm until late (Boulware),
with ``e = 1`` it concedes evenly, with ``e > 1`` it concedes early (Conceder).
Faratin, Sierra & Jennings (1998), "Negotiation decision functions for autonomous
agents", Robotics and Autonomous Systems 24.
"""

from __future__ import annotations

import numpy as np

from sim.strategies.base import ConcessionContext, Strategy, register


def time_fraction(t: np.ndarray | int, horizon: np.ndarray | float, e: np.ndarray) -> np.ndarray:
    """``1 - (t / T) ** (1 / e)``, clipped to [0, 1]; broadcasts over any shape."""
    tau = np.minimum(t / np.asarray(horizon, dtype=float), 1.0)
    return 1.0 - tau ** (1.0 / e)


@register
class TimeDependent(Strategy):
    """Concede as a power of time: Boulware (e < 1), linear (e = 1), Conceder (e > 1)."""

    name = "time_dependent"
    classifier = {"family": "time-dependent", "memory": 0, "monotone": True, "stochastic": False}
    params = {"e": 1.0}
    bounds = {"e": (0.01, 100.0)}
    time_only = True

    @staticmethod
    def update(ctx: ConcessionContext, p):
        """The demand falls with the actor's clock against its patience, with exponent ``e``."""
        return np.broadcast_to(time_fraction(ctx.t, ctx.horizon, p["e"]), ctx.frac.shape)


@register
class Hardliner(Strategy):
    """Boulware that never gives up more than ``1 - floor`` of its surplus."""

    name = "hardliner"
    classifier = {"family": "time-dependent", "memory": 0, "monotone": True, "stochastic": False}
    params = {"e": 0.2, "floor": 0.5}
    bounds = {"e": (0.01, 100.0), "floor": (0.0, 1.0)}
    time_only = True

    @staticmethod
    def update(ctx: ConcessionContext, p):
        """As time-dependent, but never below ``floor``."""
        return np.broadcast_to(np.maximum(p["floor"], time_fraction(ctx.t, ctx.horizon, p["e"])), ctx.frac.shape)
