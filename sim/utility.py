"""How much an actor likes a text, and in which direction it would like it moved.

An actor's utility is a salience-weighted sum over issues of a per-issue value (1 at
its ideal point, falling linearly or quadratically with distance), minus penalties for
red lines the text crosses. The **commitment problem** turns it into an expected
utility: with probability ``p_renege`` the other side does not keep the deal, and the
actor is left with the worse of the text and the status quo on every issue (what it
gave stays given; what it got is taken back). ``p_renege`` falls with the strength of
the guarantees in the text, the guarantors' credibility and the actor's trust.

Every function broadcasts over leading dimensions: ``x`` is ``[..., I]`` and positions
are ``[..., A, I]``, so one call serves one actor in a notebook and 100,000 runs in a
sweep. Gradients are returned alongside values because the mediator drafts by
following them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

# A red line's condition fades in over this distance, so that a linkage ("withdrawal
# beyond the line only once disarmament passes a threshold") has a gradient the
# mediator can follow toward meeting the condition.
CONDITION_RAMP = 0.1


# Below this many rows a numpy call per row-sum is cheaper than one per column.
MANY_ROWS = 64


def rowsum(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """``np.add.reduce(a, axis=-1)``, bit for bit, but fast for many short rows.

    numpy sums a contiguous last axis row by row (pairwise: one accumulator below 8
    terms, eight accumulators up to 128), calling its inner loop once per row, which
    dominates for ``[runs, actors, issues]`` arrays with a handful of issues. This adds
    whole columns instead, in the same order, so a run's sums do not depend on how many
    runs are summed at once (tests/test_batch.py checks both against each other).

    Args:
        axis: the axis holding the terms of each sum; the sums are those numpy would
            give if that axis were last and contiguous.
    """
    if axis not in (-1, a.ndim - 1):
        a = np.moveaxis(a, axis, -1)
    n = a.shape[-1]
    if a.flags.c_contiguous and (n >= 8 or n == 0 or a.size <= MANY_ROWS * n):
        return np.add.reduce(a, axis=-1)  # numpy itself: fast for few rows, or rows of 8 and more
    if n > 128 or n == 0:
        return np.add.reduce(np.ascontiguousarray(a), axis=-1)
    if n < 8:
        res = a[..., 0] + 0.0  # numpy starts from 0.0 (which turns -0.0 into 0.0)
        for i in range(1, n):  # issues, not runs
            res += a[..., i]
        return res
    # rows of 8 to 128 terms, not contiguous: numpy's eight accumulators, column by column
    r = [a[..., j].copy() for j in range(8)]
    i = 8
    while i < n - n % 8:
        for j in range(8):
            r[j] += a[..., i + j]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for k in range(i, n):
        res += a[..., k]
    return 0.0 + res


def issue_sum(a: np.ndarray) -> np.ndarray:
    """Sums over the last axis (issues) of a fresh contiguous ``[..., A, I]`` array, per run.

    With 8 issues or more, one matrix-vector product per run (``np.matmul`` with a vector
    of ones, BLAS over each run's ``[A, I]`` block) is several times faster than numpy's row
    sums; each run's block is summed on its own, so a run's sums do not depend on how many
    runs are summed at once. With fewer issues :func:`rowsum` is faster.
    """
    n = a.shape[-1]
    if n < 8 or a.ndim < 2 or not a.flags.c_contiguous:
        return rowsum(a)
    return np.matmul(a, _ones(n))


@lru_cache(maxsize=32)
def _ones(n: int) -> np.ndarray:
    return np.ones(n)


def sign(a: np.ndarray) -> np.ndarray:
    """``np.sign(a)`` for arrays without NaN, faster on large arrays (numpy's sign is not vectorised)."""
    if a.size <= 4096:
        return np.sign(a)
    out = (a > 0).astype(float)
    out -= a < 0
    return out


@dataclass(frozen=True)
class RedLines:
    """Red lines as arrays, one row each; see :class:`sim.scenario.Scenario`."""

    actor: np.ndarray
    issue: np.ndarray
    bound: np.ndarray
    sign: np.ndarray
    cond_issue: np.ndarray
    cond_bound: np.ndarray
    cond_sign: np.ndarray
    strength: np.ndarray
    hard: np.ndarray
    n_actors: int
    n_issues: int

    @property
    def empty(self) -> bool:
        return self.actor.size == 0

    @classmethod
    def from_scenario(cls, sc) -> RedLines:
        return cls(sc.rl_actor, sc.rl_issue, sc.rl_bound, sc.rl_sign, sc.rl_cond_issue,
                   sc.rl_cond_bound, sc.rl_cond_sign, sc.rl_strength, sc.rl_hard,
                   sc.n_actors, sc.n_issues)

    def subset(self, actors: np.ndarray) -> RedLines:
        """The red lines of ``actors`` only (indices into the full actor list), renumbered."""
        actors = np.asarray(actors)
        keep = np.isin(self.actor, actors)
        remap = np.full(self.n_actors, -1)
        remap[actors] = np.arange(actors.size)
        return RedLines(remap[self.actor[keep]], self.issue[keep], self.bound[keep], self.sign[keep],
                        self.cond_issue[keep], self.cond_bound[keep], self.cond_sign[keep],
                        self.strength[keep], self.hard[keep], int(actors.size), self.n_issues)

    @cached_property
    def _plan(self) -> _PenaltyPlan:
        return _PenaltyPlan.of(self)

    def terms(self, at_issue: np.ndarray, at_cond: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Each red line's penalty ``[..., L]`` given the values it reads, all issues open.

        Args:
            at_issue: ``[..., L]`` the text on each line's issue.
            at_cond: ``[..., L]`` the text on each line's condition issue (any value for a
                line without a condition).
            weight: ``[..., A, I]`` (broadcasting against the leading dims of ``at_issue``).
        """
        pl = self._plan
        viol = np.maximum(self.sign * (self.bound - at_issue), 0.0)
        if pl.any_cond:
            short = self.cond_sign * (self.cond_bound - at_cond)
            viol = viol * np.where(pl.has_cond, np.minimum(np.maximum(short / CONDITION_RAMP, 0.0), 1.0), 1.0)
        w_flat = weight.reshape(weight.shape[:-2] + (self.n_actors * self.n_issues,))
        return self.strength * w_flat[..., pl.flat_issue] * viol

    def penalty(self, x: np.ndarray, weight: np.ndarray, open_: np.ndarray | None = None,
                with_grad: bool = True, lines_first: bool = False):
        """Penalty ``[..., A]``, its gradient ``[..., A, I]`` and hard vetoes ``[..., A]``.

        A red line costs ``strength`` times the actor's own weight on the issue per unit
        of violation, so strength 1 doubles the slope beyond the line. Only red lines on
        issues in the text (``open_``) count: an issue not on the table is not conceded.

        Each actor's penalty adds its red lines in their order, and each gradient cell adds
        the red lines that touch it in their order, so the sums do not depend on how many
        runs are evaluated at once.

        Args:
            lines_first: the arrays put issues and actors first and runs last (``x`` is
                ``[I, ...]``, ``weight`` ``[A, I, ...]``; results ``[A, ...]`` and
                ``[A, I, ...]``), the layout of the Nash-solution loop. Same numbers.
        """
        lf = lines_first
        n_a, n_i = self.n_actors, self.n_issues
        if self.empty:
            lead = x.shape[1:] if lf else x.shape[:-1]
            z = np.zeros((n_a,) + lead if lf else lead + (n_a,))
            g = (np.zeros((n_a, n_i) + lead if lf else lead + (n_a, n_i))) if with_grad else None
            return z, g, z.astype(bool)
        pl = self._plan
        if lf:
            rest = (1,) * (x.ndim - 1)

            def par(a):
                return a.reshape(a.shape + rest)

            def take(arr, idx):
                return arr[idx]
        else:
            def par(a):
                return a

            def take(arr, idx):
                return arr[..., idx]
        sign = par(self.sign)
        val = take(x, self.issue)
        viol = np.maximum(sign * (par(self.bound) - val), 0.0)
        if pl.any_cond:
            cval = take(x, pl.cidx)
            short = par(self.cond_sign) * (par(self.cond_bound) - cval)  # > 0 while the condition is unmet
            has_cond = par(pl.has_cond)
            active = np.where(has_cond, np.minimum(np.maximum(short / CONDITION_RAMP, 0.0), 1.0), 1.0)
        else:
            active = par(pl.ones)
        if open_ is not None:
            op_k = take(open_, self.issue)
            active = active * op_k
        if lf:
            w_flat = weight.reshape((n_a * n_i,) + weight.shape[2:])
        else:
            w_flat = weight.reshape(weight.shape[:-2] + (n_a * n_i,))
        scale = par(self.strength) * take(w_flat, pl.flat_issue)
        pen_k = scale * viol * active
        lead = pen_k.shape[1:] if lf else pen_k.shape[:-1]  # x and weight broadcast against each other
        per_actor = (n_a,) + lead if lf else lead + (n_a,)
        pen = np.zeros(per_actor)
        for ks, actors in pl.pen_groups:
            if lf:
                pen[actors] += pen_k[ks]
            else:
                pen[..., actors] += pen_k[..., ks]
        hard = np.zeros(per_actor, bool)
        if pl.any_hard:
            crossed = par(self.hard) & (viol > 1e-12) & (active > 0)
            for ks, actors in pl.pen_groups:
                if lf:
                    hard[actors] |= crossed[ks]
                else:
                    hard[..., actors] |= crossed[..., ks]
        if not with_grad:
            return pen, None, hard
        # d pen_k / d x[issue_k] and d pen_k / d x[cond_issue_k]
        g_issue = -scale * sign * (viol > 0) * active
        grad = np.zeros((n_a * n_i,) + lead if lf else lead + (n_a * n_i,))
        if pl.any_cond:
            ramp_on = has_cond & (short > 0) & (short < CONDITION_RAMP)
            if open_ is not None:
                ramp_on = ramp_on & op_k
            g_cond = np.where(ramp_on, -scale * viol * par(self.cond_sign) / CONDITION_RAMP, 0.0)
            g_both = np.concatenate([g_issue, g_cond], axis=0 if lf else -1)
        else:
            g_both = g_issue
        for src, cells in pl.grad_groups:
            if lf:
                grad[cells] += g_both[src]
            else:
                grad[..., cells] += g_both[..., src]
        return pen, grad.reshape((n_a, n_i) + lead if lf else lead + (n_a, n_i)), hard


@dataclass(frozen=True)
class _PenaltyPlan:
    """Index arrays that let :meth:`RedLines.penalty` scatter per-line terms without one-hot tensors.

    ``pen_groups``: per group, red lines ``ks`` of distinct ``actors``; the k-th group
    holds each actor's k-th red line, so adding the groups in order adds each actor's
    lines in their order. ``grad_groups``: the same for gradient cells (actor, issue):
    ``src`` indexes ``[g_issue..., g_cond...]`` and ``cells`` the flattened ``[A * I]``.
    """

    has_cond: np.ndarray
    any_cond: bool
    any_hard: bool
    cidx: np.ndarray
    flat_issue: np.ndarray
    ones: np.ndarray
    pen_groups: tuple
    grad_groups: tuple

    @classmethod
    def of(cls, rl: RedLines) -> _PenaltyPlan:
        k_n = rl.actor.size
        has_cond = rl.cond_issue >= 0
        flat_issue = rl.actor * rl.n_issues + rl.issue
        rank = np.zeros(k_n, dtype=np.int64)
        seen: dict[int, int] = {}
        for k in range(k_n):  # red lines, not runs: once per scenario
            rank[k] = seen.get(int(rl.actor[k]), 0)
            seen[int(rl.actor[k])] = rank[k] + 1
        pen_groups = tuple((np.flatnonzero(rank == g), rl.actor[rank == g])
                           for g in range(int(rank.max(initial=-1)) + 1))
        entries = []  # (source index, cell) in the order the one-hot sum would add them
        for k in range(k_n):
            entries.append((k, int(flat_issue[k])))
            if has_cond[k]:
                entries.append((k_n + k, int(rl.actor[k] * rl.n_issues + rl.cond_issue[k])))
        group_of_cell: dict[int, int] = {}
        groups: list[list[tuple[int, int]]] = []
        for src, cell in entries:
            g = group_of_cell.get(cell, -1) + 1
            group_of_cell[cell] = g
            if g == len(groups):
                groups.append([])
            groups[g].append((src, cell))
        grad_groups = tuple((np.array([e[0] for e in grp]), np.array([e[1] for e in grp])) for grp in groups)
        return cls(has_cond=has_cond, any_cond=bool(has_cond.any()), any_hard=bool(rl.hard.any()),
                   cidx=np.where(has_cond, rl.cond_issue, 0), flat_issue=flat_issue, ones=np.ones(k_n),
                   pen_groups=pen_groups, grad_groups=grad_groups)


def issue_values(x: np.ndarray, position: np.ndarray, kind: str = "linear"):
    """Per-issue values ``[..., A, I]`` of text ``x`` ``[..., I]`` and their slopes."""
    d = x[..., None, :] - position
    if kind == "linear":
        return 1.0 - np.abs(d), -np.sign(d)
    return 1.0 - d * d, -2.0 * d


def plain_utility(x: np.ndarray, position: np.ndarray, weight: np.ndarray, kind: str = "linear",
                  red_lines: RedLines | None = None) -> np.ndarray:
    """Salience-weighted utility ``[..., A]`` of a whole text ``x``, red-line penalties included."""
    v, _ = issue_values(x, position, kind)
    u = rowsum(weight * v)
    if red_lines is not None and not red_lines.empty:
        u = u - red_lines.penalty(x, weight, with_grad=False)[0]
    return u


@dataclass
class Evaluation:
    """What the kernel needs to know about a text, for every actor.

    Values are over the **open** issues of the phase, normalised by the actor's weight
    on them, so a phase is judged on what it settles: 1 means every open issue at the
    actor's ideal. With every issue open this is the actor's utility of the whole deal.
    """

    eu: np.ndarray  # [..., A] expected utility (commitment problem included)
    u: np.ndarray  # [..., A] utility if the deal is kept
    m: np.ndarray  # [..., A] utility if the deal is reneged on
    wp: np.ndarray  # [..., A] the actor's weight on the open issues
    vsq_open: np.ndarray  # [..., A] normalised value of the status quo on the open issues
    p: np.ndarray  # [..., A] probability that the deal is reneged on
    hard: np.ndarray  # [..., A] a hard red line is crossed
    v: np.ndarray  # [..., A, I] per-issue values of the text
    grad: np.ndarray | None  # [..., A, I] d eu / d x


def renege_probability(x, renege_scale, guarantee_issue, strong_end):
    """``p = s0 * (1 - g * s1)``: ``g`` is the strength of the guarantee the text carries.

    Returns ``p`` and ``s0 * s1 * dg/dx`` (None without a guarantees issue).
    """
    s0, s1 = renege_scale[..., 0], renege_scale[..., 1]
    if guarantee_issue < 0:
        return s0, None
    xg = x[..., guarantee_issue][..., None]
    g = xg if strong_end > 0.5 else 1.0 - xg
    return s0 * (1.0 - g * s1), s0 * s1 * (1.0 if strong_end > 0.5 else -1.0)


def evaluate(x, open_, position, weight, status_quo, renege_scale, guarantee_issue, strong_end,
             red_lines: RedLines, kind="linear", with_grad=True) -> Evaluation:
    """Expected utility of text ``x`` over the open issues, for every actor, with its gradient.

    Args:
        x: the full text ``[..., I]`` (locked values, the draft, the status quo elsewhere).
        open_: ``[..., I]`` bool, the issues this phase settles.
        position, weight: ``[..., A, I]``.
        status_quo: ``[I]``.
        renege_scale: ``[..., A, 2]``: ``s0``, the chance the counterpart reneges given
            trust, and ``s1``, the guarantors' credibility.
        guarantee_issue: index of the guarantees issue, or -1.
        strong_end: the end of that issue's scale that means the strongest guarantee.
    """
    # The same arithmetic as the plain expressions, with [..., A, I] temporaries reused in
    # place: on large batches fresh arrays cost more (memory traffic, page faults) than the
    # arithmetic itself.
    d = x[..., None, :] - position
    if kind == "linear":
        v = np.abs(d)
        np.subtract(1.0, v, out=v)
        vsq = np.abs(status_quo - position)
        np.subtract(1.0, vsq, out=vsq)
    else:
        v = d * d
        np.subtract(1.0, v, out=v)
        vsq = status_quo - position
        np.multiply(vsq, vsq, out=vsq)
        np.subtract(1.0, vsq, out=vsq)
    ow = weight * open_[..., None, :]
    wp = np.maximum(issue_sum(ow), 1e-12)
    tmp = ow * v
    u = issue_sum(tmp) / wp
    np.minimum(v, vsq, out=tmp)
    np.multiply(ow, tmp, out=tmp)
    m = issue_sum(tmp) / wp
    np.multiply(ow, vsq, out=tmp)
    vsq_open = issue_sum(tmp) / wp
    p, slope = renege_probability(x, renege_scale, guarantee_issue, strong_end)
    pen, gpen, hard = red_lines.penalty(x, weight, open_, with_grad=with_grad)
    loss = u - m
    eu = u - p * loss - pen / wp
    grad = None
    if with_grad:
        # grad = (ow * dv * (1 - p * kept) - gpen) / wp, with dv = -sign(d) (linear) or -2 d
        if kind == "linear":
            dv = sign(d)
            np.negative(dv, out=dv)
        else:
            dv = np.multiply(-2.0, d, out=d)
        np.multiply(ow, dv, out=dv)
        kept = v >= vsq  # not worse than the status quo: lost if reneged on
        np.multiply(p[..., None], kept, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        np.multiply(dv, tmp, out=dv)
        np.subtract(dv, gpen, out=dv)
        grad = np.divide(dv, wp[..., None], out=dv)
        if guarantee_issue >= 0:
            # eu = u - p (u - m): d eu / d x_g = -(u - m) dp/dx_g, where dp/dx_g = -s0 s1 dg/dx_g
            grad[..., guarantee_issue] += slope * loss * open_[..., guarantee_issue][..., None]
    return Evaluation(eu=eu, u=u, m=m, wp=wp, vsq_open=vsq_open, p=p, hard=hard, v=v, grad=grad)
