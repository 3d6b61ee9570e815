"""Mediator rules: in which direction the mediators revise the single text.

A rule maps the evaluation of the current text to a direction ``[R, I]`` over the
issues; the mediated protocol takes sign-based steps along it. ``nash`` climbs the log
of the product of the required actors' surpluses over their reservation values (Nash
1950), plus each mediator's bias times the gradient of its own utility.
"""

from __future__ import annotations

import numpy as np

from sim.kernel import EPS, Batch, Static


def nash_direction(st: Static, b: Batch, ev, req: np.ndarray) -> np.ndarray:
    """Gradient ``[R, I]`` of the log Nash product over the required actors, plus bias."""
    surplus = np.maximum(ev.eu - b.rv, EPS)
    w = req / surplus + st.sc.bias * st.sc.mediator
    return (w[..., None] * ev.grad).sum(axis=-2)


RULES = {"nash": nash_direction}
