"""Measures of a deal: Nash product, the Nash bargaining solution, Pareto efficiency.

These compare what the talks produced with what bargaining theory says two or more
principals could have had: the Nash bargaining solution (Nash 1950), the point that
maximises the product of surpluses over reservation values, computed here by the same
sign-based ascent the mediator uses, run to convergence; and a check that no small move
on one or two issues makes a principal better off (by more than 0.001) without making
another worse off
(with two principals and additive utilities, an improving direction, if any exists,
needs at most two issues, so the local check is exact up to its step).
"""

from __future__ import annotations

import numpy as np

from sim.compiled import nash_runs, pareto_runs
from sim.utility import RedLines

# The ascent stops for a run once its text moves by at most SETTLED on every issue over
# CHECK_EVERY steps: its steps have shrunk below 1e-6, far below what any measure reads.
CHECK_EVERY = 5
SETTLED = 1e-6


def _runs(a: np.ndarray, tail: tuple, lead: tuple, dtype=float) -> np.ndarray:
    """``a`` broadcast to ``lead + tail``, as a C-contiguous ``[N, *tail]`` array."""
    a = np.asarray(a, dtype=dtype)
    if a.shape != lead + tail:
        a = np.broadcast_to(a, lead + tail)
    return np.ascontiguousarray(a).reshape((-1,) + tail)


def nash_solution(
    pos: np.ndarray,
    weight: np.ndarray,
    rv: np.ndarray,
    members: np.ndarray,
    kind: str = "linear",
    red_lines: RedLines | None = None,
    lo=0.0,
    hi=1.0,
    iterations: int = 400,
    x0: np.ndarray | None = None,
) -> np.ndarray:
    """Texts ``[..., I]`` maximising the product of the ``members``' surpluses.

    Sign-based ascent on the log of the product, from the members' mean position (or
    ``x0``), one problem at a time (:func:`sim.compiled.nash_runs`): a problem stops once
    its text has moved by at most ``SETTLED`` on every issue over ``CHECK_EVERY`` steps, or
    after ``iterations`` steps.

    Args:
        pos, weight: ``[..., A, I]``; rv: ``[..., A]``; members: ``[A]`` bool (the principals).
        lo, hi: bounds on the text, scalars or ``[..., I]``.
    """
    members = np.asarray(members, bool)
    n_a, n_i = pos.shape[-2:]
    lead = np.broadcast_shapes(pos.shape[:-2], weight.shape[:-2], np.shape(rv)[:-1])
    x = pos[..., members, :].mean(axis=-2) if x0 is None else x0
    lo_, hi_ = _runs(lo, (n_i,), lead), _runs(hi, (n_i,), lead)
    x = np.minimum(np.maximum(_runs(x, (n_i,), lead), lo_), hi_)
    rl = red_lines if red_lines is not None else RedLines.none(n_a, n_i)
    out = nash_runs(
        x,
        _runs(pos, (n_a, n_i), lead),
        _runs(weight, (n_a, n_i), lead),
        _runs(rv, (n_a,), lead),
        members,
        kind == "linear",
        rl.arrays,
        lo_,
        hi_,
        int(iterations),
        CHECK_EVERY,
        SETTLED,
    )
    return out.reshape(lead + (n_i,))


def pareto_efficient(
    x: np.ndarray,
    pos: np.ndarray,
    weight: np.ndarray,
    members: np.ndarray,
    kind: str = "linear",
    red_lines: RedLines | None = None,
    free: np.ndarray | None = None,
    delta: float = 0.01,
    tol: float = 1e-3,
) -> np.ndarray:
    """``[R]`` bool: no move of one or two issues by ``delta`` is a Pareto improvement.

    An improvement must raise some principal's utility by more than ``tol`` and lower
    none by more than ``tol``: a mediated text that is still moving when it is accepted
    is off the frontier by a hair (gains of 1e-4), which is not what a reader asks "is it
    efficient?" about. Each moved text is evaluated whole, red lines included
    (:func:`sim.compiled.pareto_runs`).

    Args:
        x: ``[R, I]`` texts; pos, weight: ``[R, A, I]``; members: ``[A]`` bool.
        free: ``[R, I]`` bool, the issues that may move (default: all).
    """
    n_r, n_a, n_i = pos.shape[0], pos.shape[-2], x.shape[-1]
    rl = red_lines if red_lines is not None else RedLines.none(n_a, n_i)
    lead = (n_r,)
    free = np.ones((n_r, n_i), bool) if free is None else _runs(free, (n_i,), lead, bool)
    return pareto_runs(
        _runs(x, (n_i,), lead),
        _runs(pos, (n_a, n_i), lead),
        _runs(weight, (n_a, n_i), lead),
        np.asarray(members, bool),
        kind == "linear",
        rl.arrays,
        free,
        float(delta),
        float(tol),
    )
