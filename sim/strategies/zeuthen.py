"""Risk-based concession: Zeuthen's rule.

Each principal's *risk* is how much of its remaining surplus it would lose by
accepting the current text rather than holding out: ``(aspiration - EU(text)) /
(aspiration - reservation value)``. The principal with the least risk, the one with
the least to lose from conflict, concedes by ``step``; ties all concede. Zeuthen
(1930), "Problems of Monopoly and Economic Warfare"; Harsanyi (1956) showed that the
rule ends at the Nash bargaining solution.
"""

from __future__ import annotations

import numpy as np

from sim.strategies.base import ConcessionContext, Strategy, register


def zeuthen_risk(aspiration: np.ndarray, own_value: np.ndarray, reservation: np.ndarray) -> np.ndarray:
    """Zeuthen's risk limit; 1 where the actor has nothing to lose by holding out."""
    span = aspiration - reservation
    risk = np.where(span > 1e-12, (aspiration - own_value) / np.where(span > 1e-12, span, 1.0), 0.0)
    return np.clip(risk, 0.0, 1.0)


@register
class Zeuthen(Strategy):
    """The principal with the smallest risk limit concedes a step."""

    name = "zeuthen"
    classifier = {"family": "risk", "memory": 0, "monotone": True, "stochastic": False}
    params = {"step": 0.05}
    bounds = {"step": (0.0, 1.0)}

    @staticmethod
    def update(ctx: ConcessionContext, p):
        """The principal with the least to lose from conflict (Zeuthen's risk) concedes by ``step``."""
        risk = zeuthen_risk(ctx.aspiration, ctx.eu, ctx.reservation_value)
        risk_p = np.where(ctx.principal, risk, np.inf)
        least = risk_p.min(axis=-1, keepdims=True)
        concede = ctx.principal & (risk_p <= least + 1e-12)
        return np.where(concede, np.maximum(ctx.frac - p["step"], 0.0), ctx.frac)
