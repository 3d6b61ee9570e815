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

import numpy as np

# A red line's condition fades in over this distance, so that a linkage ("withdrawal
# beyond the line only once disarmament passes a threshold") has a gradient the
# mediator can follow toward meeting the condition.
CONDITION_RAMP = 0.1


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

    def penalty(self, x: np.ndarray, weight: np.ndarray, open_: np.ndarray | None = None,
                with_grad: bool = True):
        """Penalty ``[..., A]``, its gradient ``[..., A, I]`` and hard vetoes ``[..., A]``.

        A red line costs ``strength`` times the actor's own weight on the issue per unit
        of violation, so strength 1 doubles the slope beyond the line. Only red lines on
        issues in the text (``open_``) count: an issue not on the table is not conceded.
        """
        lead = x.shape[:-1]
        n_a, n_i = self.n_actors, self.n_issues
        if self.empty:
            z = np.zeros(lead + (n_a,))
            return z, (np.zeros(lead + (n_a, n_i)) if with_grad else None), z.astype(bool)
        val = x[..., self.issue]
        viol = np.maximum(self.sign * (self.bound - val), 0.0)
        has_cond = self.cond_issue >= 0
        cval = x[..., np.where(has_cond, self.cond_issue, 0)]
        short = self.cond_sign * (self.cond_bound - cval)  # > 0 while the condition is unmet
        active = np.where(has_cond, np.clip(short / CONDITION_RAMP, 0.0, 1.0), 1.0)
        if open_ is not None:
            active = active * open_[..., self.issue]
        scale = self.strength * weight[..., self.actor, self.issue]
        pen_k = scale * viol * active
        onehot = np.zeros((self.actor.size, n_a))
        onehot[np.arange(self.actor.size), self.actor] = 1.0
        pen = (pen_k[..., :, None] * onehot).sum(axis=-2)
        hard = ((self.hard & (viol > 1e-12) & (active > 0))[..., :, None] & (onehot > 0)).any(axis=-2)
        if not with_grad:
            return pen, None, hard
        # d pen_k / d x[issue_k] and d pen_k / d x[cond_issue_k]
        g_issue = -scale * self.sign * (viol > 0) * active
        ramp_on = has_cond & (short > 0) & (short < CONDITION_RAMP)
        if open_ is not None:
            ramp_on = ramp_on & (open_[..., self.issue] > 0)
        g_cond = np.where(ramp_on, -scale * viol * self.cond_sign / CONDITION_RAMP, 0.0)
        k = np.arange(self.actor.size)
        e_issue = np.zeros((self.actor.size, n_a, n_i))
        e_issue[k, self.actor, self.issue] = 1.0
        e_cond = np.zeros((self.actor.size, n_a, n_i))
        e_cond[k[has_cond], self.actor[has_cond], self.cond_issue[has_cond]] = 1.0
        grad = (g_issue[..., :, None, None] * e_issue + g_cond[..., :, None, None] * e_cond).sum(axis=-3)
        return pen, grad, hard


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
    u = (weight * v).sum(axis=-1)
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
    v, dv = issue_values(x, position, kind)
    vsq, _ = issue_values(status_quo, position, kind)
    ow = weight * open_[..., None, :]
    wp = np.maximum(ow.sum(axis=-1), 1e-12)
    worse = v < vsq
    u = (ow * v).sum(axis=-1) / wp
    m = (ow * np.minimum(v, vsq)).sum(axis=-1) / wp
    p, slope = renege_probability(x, renege_scale, guarantee_issue, strong_end)
    pen, gpen, hard = red_lines.penalty(x, weight, open_, with_grad=with_grad)
    eu = u - p * (u - m) - pen / wp
    grad = None
    if with_grad:
        grad = (ow * dv * (1.0 - p[..., None] * (~worse)) - gpen) / wp[..., None]
        if guarantee_issue >= 0:
            # eu = u - p (u - m): d eu / d x_g = -(u - m) dp/dx_g, where dp/dx_g = -s0 s1 dg/dx_g
            grad[..., guarantee_issue] += slope * (u - m) * open_[..., guarantee_issue][..., None]
    vsq_open = (ow * vsq).sum(axis=-1) / wp
    return Evaluation(eu=eu, u=u, m=m, wp=wp, vsq_open=vsq_open, p=p, hard=hard, v=v, grad=grad)
