"""Plain numpy versions of the compiled loops, written from the model's formulas.

They serve only the tests (``tests/test_compiled.py``), which hold the compiled code of
:mod:`sim.compiled` to them on random problems. Each is written straight from the
docstrings of :func:`sim.utility.evaluate` and :func:`sim.compiled.nash_runs`, with
numpy broadcasting and no loops over actors or issues, so that a mistake in one is
unlikely to be repeated in the other.
"""

from __future__ import annotations

import numpy as np

CONDITION_RAMP = 0.1


def values(x, pos, linear):
    """Per-issue values and slopes ``[N, A, I]``."""
    d = x[:, None, :] - pos
    if linear:
        return 1.0 - np.abs(d), -np.sign(d)
    return 1.0 - d * d, -2.0 * d


def penalty(x, w, op, rl):
    """Red-line penalties ``[N, A]``, their gradient ``[N, A, I]`` and hard vetoes ``[N, A]``."""
    actor, issue, bound, sign, cissue, cbound, csign, strength, hard_line = rl
    n, a_n, i_n = w.shape
    pen, grad, hard = np.zeros((n, a_n)), np.zeros((n, a_n, i_n)), np.zeros((n, a_n), bool)
    rows = np.arange(n)
    for k in range(actor.size):
        a, i, c = actor[k], issue[k], cissue[k]
        viol = np.maximum(sign[k] * (bound[k] - x[:, i]), 0.0)
        if c >= 0:
            short = csign[k] * (cbound[k] - x[:, c])
            active = np.clip(short / CONDITION_RAMP, 0.0, 1.0)
        else:
            short, active = np.zeros(n), np.ones(n)
        active = np.where(op[:, i], active, 0.0)
        scale = strength[k] * w[:, a, i]
        pen[:, a] += scale * viol * active
        hard[:, a] |= hard_line[k] & (viol > 1e-12) & (active > 0)
        grad[rows, a, i] += np.where(viol > 0, -scale * sign[k] * active, 0.0)
        if c >= 0:
            ramp = op[:, i] & (short > 0) & (short < CONDITION_RAMP)
            grad[rows, a, c] += np.where(ramp, -scale * viol * csign[k] / CONDITION_RAMP, 0.0)
    return pen, grad, hard


def evaluate(x, op, pos, weight, sq, rs, gi, strong, rl, linear):
    """``eu, u, m, wp, vq, p, umax, hard, grad`` as :func:`sim.compiled.evaluate_runs` documents them.

    ``u`` and ``m`` are the weighted values over the open issues, normalised by the open
    weight ``wp``, of the text kept and reneged on (each issue at the worse of the text and
    the status quo); ``p = s0 (1 - g s1)`` with ``g`` the guarantee in the text;
    ``eu = u - p (u - m) - penalty / wp``.
    """
    v, dv = values(x, pos, linear)
    vs, _ = values(np.broadcast_to(sq, x.shape), pos, linear)
    ow = weight * op[:, None, :]
    wp = np.maximum(ow.sum(-1), 1e-12)
    u = (ow * v).sum(-1) / wp
    m = (ow * np.minimum(v, vs)).sum(-1) / wp
    vq = (ow * vs).sum(-1) / wp
    s0, s1 = rs[..., 0], rs[..., 1]
    if gi >= 0:
        g = x[:, gi] if strong > 0.5 else 1.0 - x[:, gi]
        p = s0 * (1.0 - g[:, None] * s1)
        g_own = pos[:, :, gi] if strong > 0.5 else 1.0 - pos[:, :, gi]
        p_own = np.where(op[:, gi][:, None], s0 * (1.0 - g_own * s1), p)
    else:
        p = p_own = s0
    pen, gpen, hard = penalty(x, weight, op, rl)
    eu = u - p * (u - m) - pen / wp
    kept = (v >= vs).astype(float)
    grad = (ow * dv * (1.0 - p[..., None] * kept) - gpen) / wp[..., None]
    if gi >= 0:
        sign_g = 1.0 if strong > 0.5 else -1.0
        grad[:, :, gi] += np.where(op[:, gi][:, None], s0 * s1 * sign_g * (u - m), 0.0)
    umax = 1.0 - p_own * (1.0 - vq)
    return eu, u, m, wp, vq, p, umax, hard, grad


def nash(x0, pos, weight, rv, members, linear, rl, lo, hi, iterations, check_every, settled):
    """The Nash bargaining text of each problem by the same sign-based ascent as
    :func:`sim.compiled.nash_runs`: steps of 0.05 growing by 1.2 (to 0.2) while the sign of
    the gradient of the log Nash product holds, halving when it flips."""
    out = x0.copy()
    n, i_n = x0.shape
    for r in range(n):
        x = out[r]
        step, prev, last = np.full(i_n, 0.05), np.zeros(i_n), x.copy()
        everything = np.ones((1, i_n), bool)
        for k in range(iterations):
            v, dv = values(x[None], pos[r : r + 1], linear)
            pen, gpen, _ = penalty(x[None], weight[r : r + 1], everything, rl)
            s = (weight[r] * v[0]).sum(-1) - pen[0]
            c = np.where(members, 1.0 / np.maximum(s - rv[r], 1e-9), 0.0)
            g = (c[:, None] * (weight[r] * dv[0] - gpen[0])).sum(0)
            sg = np.sign(g)
            prod = sg * prev
            grow, flip = prod > 0, prod < 0
            step = np.where(grow, np.minimum(step * 1.2, 0.2), np.where(flip, step * 0.5, step))
            x = np.where(flip, x, np.clip(x + sg * step, lo[r], hi[r]))
            prev = np.where(flip, 0.0, sg)
            if (k + 1) % check_every == 0:
                if not (np.abs(x - last) > settled).any():
                    break
                last = x.copy()
        out[r] = x
    return out
