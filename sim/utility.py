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
from functools import cached_property

import numpy as np

from sim.compiled import (  # noqa: F401 (CONDITION_RAMP: public)
    CONDITION_RAMP,
    evaluate_runs,
    issue_values_runs,
    penalty_runs,
    utilities_runs,
)


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
        """No red lines at all."""
        return self.actor.size == 0

    @classmethod
    def from_scenario(cls, sc) -> RedLines:
        """The red lines of a compiled scenario."""
        return cls(
            sc.rl_actor,
            sc.rl_issue,
            sc.rl_bound,
            sc.rl_sign,
            sc.rl_cond_issue,
            sc.rl_cond_bound,
            sc.rl_cond_sign,
            sc.rl_strength,
            sc.rl_hard,
            sc.n_actors,
            sc.n_issues,
        )

    @classmethod
    def none(cls, n_actors: int, n_issues: int) -> RedLines:
        """No red lines at all."""
        i, f = np.zeros(0, np.int64), np.zeros(0)
        return cls(i, i, f, f, i, f, f, f, np.zeros(0, bool), n_actors, n_issues)

    def subset(self, actors: np.ndarray) -> RedLines:
        """The red lines of ``actors`` only (indices into the full actor list), renumbered."""
        actors = np.asarray(actors)
        keep = np.isin(self.actor, actors)
        remap = np.full(self.n_actors, -1)
        remap[actors] = np.arange(actors.size)
        return RedLines(
            remap[self.actor[keep]],
            self.issue[keep],
            self.bound[keep],
            self.sign[keep],
            self.cond_issue[keep],
            self.cond_bound[keep],
            self.cond_sign[keep],
            self.strength[keep],
            self.hard[keep],
            int(actors.size),
            self.n_issues,
        )

    @cached_property
    def arrays(self) -> tuple:
        """The red lines as the tuple of typed arrays the compiled loops read."""
        return (
            np.ascontiguousarray(self.actor, np.int64),
            np.ascontiguousarray(self.issue, np.int64),
            np.ascontiguousarray(self.bound, float),
            np.ascontiguousarray(self.sign, float),
            np.ascontiguousarray(self.cond_issue, np.int64),
            np.ascontiguousarray(self.cond_bound, float),
            np.ascontiguousarray(self.cond_sign, float),
            np.ascontiguousarray(self.strength, float),
            np.ascontiguousarray(self.hard, np.bool_),
        )

    def penalty(self, x: np.ndarray, weight: np.ndarray, open_: np.ndarray | None = None, with_grad: bool = True):
        """Penalty ``[..., A]``, its gradient ``[..., A, I]`` and hard vetoes ``[..., A]``.

        A red line costs ``strength`` times the actor's own weight on the issue per unit
        of violation, so strength 1 doubles the slope beyond the line. Only red lines on
        issues in the text (``open_``) count: an issue not on the table is not conceded.
        A line with a condition counts in full once the condition is unmet by
        ``CONDITION_RAMP`` or more, and fades in linearly before that.

        Each actor's penalty adds its red lines in their order, and each gradient cell adds
        the red lines that touch it in their order (:func:`sim.compiled.red_line_terms`).
        """
        n_a, n_i = self.n_actors, self.n_issues
        use_open = open_ is not None
        lead = np.broadcast_shapes(x.shape[:-1], weight.shape[:-2], open_.shape[:-1] if use_open else ())
        n = int(np.prod(lead))
        xs = _rows(x, lead, (n_i,))
        ws = _rows(weight, lead, (n_a, n_i))
        ops = _rows(open_, lead, (n_i,), np.bool_) if use_open else np.ones((n, n_i), np.bool_)
        pen, grad, hard = penalty_runs(xs, ws, ops, use_open, self.arrays, with_grad)
        return (
            pen.reshape(lead + (n_a,)),
            grad.reshape(lead + (n_a, n_i)) if with_grad else None,
            hard.reshape(lead + (n_a,)),
        )


def _rows(a: np.ndarray, lead: tuple, tail: tuple, dtype=float) -> np.ndarray:
    """``a`` broadcast to ``lead + tail`` as a C-contiguous ``[N, *tail]`` array (no copy if it is one)."""
    a = np.asarray(a, dtype=dtype)
    shape = lead + tail
    if a.shape != shape:
        a = np.broadcast_to(a, shape)
    return np.ascontiguousarray(a).reshape((-1,) + tail)


def issue_values(x: np.ndarray, position: np.ndarray, kind: str = "linear"):
    """Per-issue values ``[..., A, I]`` of text ``x`` ``[..., I]`` and their slopes
    (:func:`sim.compiled.value`, :func:`sim.compiled.slope`)."""
    x = np.asarray(x, dtype=float)
    n_a, n_i = position.shape[-2:]
    lead = np.broadcast_shapes(x.shape[:-1], position.shape[:-2])
    v, dv = issue_values_runs(_rows(x, lead, (n_i,)), _rows(position, lead, (n_a, n_i)), kind == "linear")
    return v.reshape(lead + (n_a, n_i)), dv.reshape(lead + (n_a, n_i))


def plain_utility(
    x: np.ndarray, position: np.ndarray, weight: np.ndarray, kind: str = "linear", red_lines: RedLines | None = None
) -> np.ndarray:
    """Salience-weighted utility ``[..., A]`` of a whole text ``x``, red-line penalties included
    (no commitment problem; :func:`sim.compiled.utilities_runs`)."""
    x = np.asarray(x, dtype=float)
    n_a, n_i = position.shape[-2:]
    lead = np.broadcast_shapes(x.shape[:-1], position.shape[:-2], weight.shape[:-2])
    rl = (red_lines if red_lines is not None else RedLines.none(n_a, n_i)).arrays
    u = utilities_runs(
        _rows(x, lead, (n_i,)), _rows(position, lead, (n_a, n_i)), _rows(weight, lead, (n_a, n_i)), kind == "linear", rl
    )
    return u.reshape(lead + (n_a,))


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
    umax: np.ndarray  # [..., A] expected utility of the actor's own ideal on the open issues
    grad: np.ndarray | None  # [..., A, I] d eu / d x


def evaluate(
    x,
    open_,
    position,
    weight,
    status_quo,
    renege_scale,
    guarantee_issue,
    strong_end,
    red_lines: RedLines,
    kind="linear",
    with_grad=True,
) -> Evaluation:
    """Expected utility of text ``x`` over the open issues, for every actor, with its gradient.

    ``eu = u - p (u - m) - penalty / wp``: ``u`` is the utility of the text if kept, ``m``
    if reneged on (each open issue at the worse of the text and the status quo), both over
    the open issues and normalised by the actor's weight ``wp`` on them; ``p`` is
    ``s0 (1 - g s1)``, ``g`` the strength of the guarantee in the text. The loops are
    compiled (:func:`sim.compiled.evaluate_runs`).

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
    x = np.asarray(x, dtype=float)
    n_a, n_i = position.shape[-2:]
    lin, sq = kind == "linear", np.ascontiguousarray(status_quo, float)
    if (
        x.ndim == 2
        and open_.shape == x.shape
        and position.shape == weight.shape == x.shape[:1] + (n_a, n_i)
        and renege_scale.shape == x.shape[:1] + (n_a, 2)
    ):  # the kernel's own shapes: no broadcasting
        lead = x.shape[:1]
        out = evaluate_runs(
            np.ascontiguousarray(x),
            np.ascontiguousarray(open_),
            np.ascontiguousarray(position),
            np.ascontiguousarray(weight),
            sq,
            np.ascontiguousarray(renege_scale),
            int(guarantee_issue),
            float(strong_end),
            red_lines.arrays,
            lin,
            bool(with_grad),
        )
    else:
        lead = np.broadcast_shapes(
            x.shape[:-1], open_.shape[:-1], position.shape[:-2], weight.shape[:-2], renege_scale.shape[:-2]
        )
        out = evaluate_runs(
            _rows(x, lead, (n_i,)),
            _rows(open_, lead, (n_i,), np.bool_),
            _rows(position, lead, (n_a, n_i)),
            _rows(weight, lead, (n_a, n_i)),
            sq,
            _rows(renege_scale, lead, (n_a, 2)),
            int(guarantee_issue),
            float(strong_end),
            red_lines.arrays,
            lin,
            bool(with_grad),
        )
    (eu, u, m, wp, vsq_open, p, umax), hard, grad = out
    if len(lead) != 1:
        per_actor = lead + (n_a,)
        eu, u, m, wp, vsq_open, p, umax, hard = (a.reshape(per_actor) for a in (eu, u, m, wp, vsq_open, p, umax, hard))
        if with_grad:
            grad = grad.reshape(per_actor + (n_i,))
    return Evaluation(
        eu=eu, u=u, m=m, wp=wp, vsq_open=vsq_open, p=p, hard=hard, umax=umax, grad=grad if with_grad else None
    )
