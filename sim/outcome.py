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

import itertools
from functools import lru_cache

import numpy as np

from sim.utility import RedLines, issue_values, rowsum, sign

TINY = 1e-9
# The ascent stops for a run once its text moves by at most SETTLED on every issue over
# CHECK_EVERY steps: its steps have shrunk below 1e-6, far below what any measure reads
# (on the default scenario the median text is then 3e-7 from where a run without this
# stop ends, and stopping at 1e-9 instead costs a quarter more time).
CHECK_EVERY = 5
SETTLED = 1e-6


def _log_nash_grad(x, pos, weight, rv, members, kind, red_lines):
    d = x[..., None, :] - pos
    if kind == "linear":
        v, dv = 1.0 - np.abs(d), -sign(d)
    else:
        v, dv = 1.0 - d * d, -2.0 * d
    u = rowsum(weight * v)
    grad = weight * dv
    if red_lines is not None and not red_lines.empty:
        pen, gpen, _ = red_lines.penalty(x, weight)
        u = u - pen
        grad = grad - gpen
    surplus = np.maximum(u - rv, TINY)
    return np.add.reduce((members / surplus)[..., None] * grad, axis=-2), u


def nash_solution(pos: np.ndarray, weight: np.ndarray, rv: np.ndarray, members: np.ndarray,
                  kind: str = "linear",
                  red_lines: RedLines | None = None, lo=0.0, hi=1.0, iterations: int = 400,
                  x0: np.ndarray | None = None) -> np.ndarray:
    """Texts ``[R, I]`` maximising the product of the ``members``' surpluses.

    Args:
        pos, weight: ``[R, A, I]``; rv: ``[R, A]``; members: ``[A]`` bool (the principals).
    """
    x = pos[..., members, :].mean(axis=-2) if x0 is None else x0.copy()
    x = np.minimum(np.maximum(x, lo), hi)  # np.clip without its Python wrapper: this loop is hot
    if pos.ndim == 3 and pos.shape[-1] >= 2 and np.ndim(lo) == 0 and np.ndim(hi) == 0:
        return _nash_runs_last(x, pos, weight, rv, members, kind, red_lines, lo, hi, iterations)
    step = np.full_like(x, 0.05)
    prev = np.zeros_like(x)
    last = x.copy()
    still = np.ones(x.shape[:-1] + (1,), bool)
    for k in range(iterations):
        g, _ = _log_nash_grad(x, pos, weight, rv, members, kind, red_lines)
        s = np.sign(g)
        prod = s * prev
        back = prod < 0
        step = np.where(prod > 0, np.minimum(step * 1.2, 0.2), np.where(back, step * 0.5, step))
        x = np.where(still, np.minimum(np.maximum(x + np.where(back, 0.0, s * step), lo), hi), x)
        prev = np.where(back, 0.0, s)
        if (k + 1) % CHECK_EVERY == 0:
            still = still & (np.abs(x - last) > SETTLED).any(axis=-1, keepdims=True)
            last = x.copy()
    return x


def _nash_runs_last(x, pos, weight, rv, members, kind, red_lines, lo, hi, iterations) -> np.ndarray:
    """The loop of :func:`nash_solution` with runs on the last axis, for speed.

    With runs last every array operation works on long contiguous rows and the red-line
    terms are gathered and scattered by whole rows. Each sum adds the same terms in the
    same order as the runs-first loop: issues pairwise as numpy sums a row
    (:func:`sim.utility.rowsum`), actors one after another. (With a single issue numpy's
    own order differs, so that case keeps the runs-first loop.)

    Every ``CHECK_EVERY`` iterations, runs whose text has moved by no more than
    ``SETTLED`` on any issue since the last check are set aside (the runs-first loop
    freezes them the same way), so the loop goes on only for the runs still climbing.
    Whether a run is set aside depends on its own path alone, so its answer does not
    depend on which other runs share the batch.
    """
    xt = np.ascontiguousarray(x.T)  # [I, R]
    post = np.ascontiguousarray(pos.transpose(1, 2, 0))  # [A, I, R]
    wt = np.ascontiguousarray(weight.transpose(1, 2, 0))
    rvt = np.ascontiguousarray(rv.T)  # [A, R]
    mem = np.asarray(members)[:, None]
    has_rl = red_lines is not None and not red_lines.empty
    step = np.full_like(xt, 0.05)
    prev = np.zeros_like(xt)
    n_a = post.shape[0]
    out = np.empty_like(xt)
    live = np.arange(xt.shape[1])
    last = xt.copy()
    for k in range(iterations):
        # the arithmetic of the runs-first loop, with the [A, I, R] arrays reused in place
        d = xt[None] - post
        if kind == "linear":
            dv = sign(d)
            np.negative(dv, out=dv)
            v = np.abs(d, out=d)
        else:
            dv = np.multiply(-2.0, d)
            v = np.multiply(d, d, out=d)
        np.subtract(1.0, v, out=v)
        u = rowsum(np.multiply(wt, v, out=v), axis=1)
        grad = np.multiply(wt, dv, out=dv)
        if has_rl:
            pen, gpen, _ = red_lines.penalty(xt, wt, lines_first=True)
            u = u - pen
            np.subtract(grad, gpen, out=grad)
        surplus = np.maximum(u - rvt, TINY)
        terms = np.multiply((mem / surplus)[:, None, :], grad, out=grad)  # [A, I, R]
        g = terms[0] + 0.0  # numpy's sum over actors: from 0.0, one actor after another
        for a in range(1, n_a):  # principals, not runs: two in most scenarios
            g += terms[a]
        s = np.sign(g)
        prod = s * prev
        back = prod < 0
        step = np.where(prod > 0, np.minimum(step * 1.2, 0.2), np.where(back, step * 0.5, step))
        xt = np.minimum(np.maximum(xt + np.where(back, 0.0, s * step), lo), hi)
        prev = np.where(back, 0.0, s)
        if (k + 1) % CHECK_EVERY == 0 and k + 1 < iterations:
            still = (np.abs(xt - last) > SETTLED).any(axis=0)
            if not still.all():
                done = ~still
                out[:, live[done]] = xt[:, done]
                live = live[still]
                if live.size == 0:
                    return np.ascontiguousarray(out.T)
                xt, step, prev = xt[:, still], step[:, still], prev[:, still]
                post, wt, rvt = post[:, :, still], wt[:, :, still], rvt[:, still]
            last = xt.copy()
    out[:, live] = xt
    return np.ascontiguousarray(out.T)


@lru_cache(maxsize=64)
def _moves(n_i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit moves of one issue, and of two issues at once, in every direction.

    Returns ``[K, I]`` moves and, for each move, the two columns of a ``[2I + 1]`` table of
    per-issue changes it adds up: column ``s * I + i`` is issue ``i`` moved down (``s = 0``)
    or up (``s = 1``), column ``2I`` is no change (the second term of a one-issue move).
    """
    moves, first, second = [], [], []
    for i in range(n_i):
        for s in (0, 1):
            d = np.zeros(n_i)
            d[i] = 2 * s - 1
            moves.append(d)
            first.append(s * n_i + i)
            second.append(2 * n_i)
    for i, j in itertools.combinations(range(n_i), 2):
        for si, sj in itertools.product((0, 1), repeat=2):
            d = np.zeros(n_i)
            d[i], d[j] = 2 * si - 1, 2 * sj - 1
            moves.append(d)
            first.append(si * n_i + i)
            second.append(sj * n_i + j)
    return np.array(moves), np.array(first), np.array(second)


def pareto_efficient(x: np.ndarray, pos: np.ndarray, weight: np.ndarray, members: np.ndarray,
                     kind: str = "linear",
                     red_lines: RedLines | None = None, free: np.ndarray | None = None,
                     delta: float = 0.01, tol: float = 1e-3) -> np.ndarray:
    """``[R]`` bool: no move of one or two issues by ``delta`` is a Pareto improvement.

    An improvement must raise some principal's utility by more than ``tol`` and lower
    none: a mediated text that is still moving when it is accepted is off the frontier by
    a hair (gains of 1e-4), which is not what a reader asks "is it efficient?" about.

    Utilities are additive over issues apart from red lines, so the change a move brings
    is the sum of what moving each of its issues alone brings (a table of ``2I`` changes
    per actor), less the change in the red-line terms it touches. That costs ``I^2``
    operations per run where evaluating each of the ``2I^2`` moved texts whole would
    cost ``I^3``, and gives the same utilities up to rounding.

    Args:
        x: ``[R, I]`` texts; pos, weight: ``[R, A, I]``; members: ``[A]`` bool.
        free: ``[R, I]`` bool, the issues that may move (default: all).
    """
    n_r, n_a, n_i = pos.shape[0], pos.shape[-2], x.shape[-1]
    moves, first, second = _moves(n_i)
    step = np.full(x.shape, delta) if free is None else delta * free  # [R, I]
    # every issue moved down and up on its own: [R, 2, I]
    moved = np.clip(x[:, None, :] + np.array([-1.0, 1.0])[:, None] * step[:, None, :], 0.0, 1.0)
    v0, _ = issue_values(x, pos, kind)  # [R, A, I]
    v1, _ = issue_values(moved, pos[:, None], kind)  # [R, 2, A, I]
    change = weight[:, None] * (v1 - v0[:, None])  # [R, 2, A, I]
    table = np.zeros((n_r, n_a, 2 * n_i + 1))
    table[..., : 2 * n_i] = change.transpose(0, 2, 1, 3).reshape(n_r, n_a, 2 * n_i)
    gain = table[..., first] + table[..., second]  # [R, A, K]
    if red_lines is not None and not red_lines.empty:
        rl = red_lines
        has_cond = rl.cond_issue >= 0
        ci = np.where(has_cond, rl.cond_issue, 0)

        def read(idx):  # [R, K, L]: the value each red line reads after each move
            return np.clip(x[:, None, idx] + moves[:, idx] * step[:, None, idx], 0.0, 1.0)

        after = rl.terms(read(rl.issue), read(ci), weight[:, None])  # [R, K, L]
        before = rl.terms(x[:, rl.issue], x[:, ci], weight)  # [R, L]
        dterm = after - before[:, None]  # exactly 0 for the lines a move does not touch
        for ks, actors in rl._plan.pen_groups:  # each actor's lines in their order
            gain[:, actors] -= dterm[..., ks].transpose(0, 2, 1)
    gain = gain[:, members]  # [R, P, K]
    better = (gain >= -tol).all(axis=1) & (gain > tol).any(axis=1)
    return ~better.any(axis=-1)
