"""Mediator rules: in which direction the mediators revise the single text.

A rule maps the evaluation of the current text to a direction ``[R, I]`` over the
issues; the mediated protocol takes sign-based steps along it, so only each issue's
sign matters in the end, and a rule is exact where the signs balance. Choose one with
``protocol.rule=<name>``:

- ``nash`` climbs the log of the product of the required actors' surpluses over their
  reservation values (Nash 1950), plus each mediator's ``bias`` times the gradient of
  its own utility.
- ``kalai_smorodinsky`` looks for the text where every required actor gets the same
  fraction of its possible gain (from its reservation value to the best it could get in
  the phase) (Kalai & Smorodinsky 1975). It climbs a weighted sum of those fractions and
  shifts the weights, round by round, toward whoever is behind (a multiplier per actor,
  kept in the batch), until the fractions are equal on the frontier.
- ``split_the_difference`` moves the text toward the midpoint of the principals' current
  positions, issue by issue: the mediator as a go-between who splits every difference.
- ``biased`` climbs an asymmetric Nash product (Kalai 1977), each required actor's log
  surplus weighted by its bargaining power in the mediators' eyes: ``protocol.params.power``
  by actor name, else how much the mediators like that actor's own ideal text (a mediator
  leans toward the side it agrees with; Kydd 2003, "Which side are you on?").
"""

from __future__ import annotations

import numpy as np

from sim.compiled import nash_direction_runs, weighted_gradient
from sim.kernel import EPS, Batch, Static, open_mask
from sim.utility import issue_values

# The multipliers follow a proportional-integral law on the gap between each actor's gain
# fraction and the mean: the integral finds the slope of the frontier at the solution, the
# proportional term damps the swing the integral alone sets up with the text.
KS_RATE = 0.5
KS_GAIN = 20.0


def nash_direction(st: Static, b: Batch, ev, req: np.ndarray) -> np.ndarray:
    """Gradient ``[R, I]`` of the log Nash product over the required actors, plus bias."""
    return nash_direction_runs(ev.eu, b.rv, req, st.derived.mediator_bias, ev.grad, EPS)


def ks_direction(st: Static, b: Batch, ev, req: np.ndarray) -> np.ndarray:
    """Weighted gradient of the required actors' gain fractions, weights toward the worst off.

    The fraction of actor a's possible gain is ``g_a = (eu_a - rv_a) / (umax_a - rv_a)``.
    Its multiplier ``m_a`` grows while ``g_a`` is below the mean of the required actors'
    fractions and shrinks while above; the text climbs ``sum_a m_a g_a``. At rest the
    fractions are equal and no move raises all of them: the Kalai-Smorodinsky point.
    """
    span = np.maximum(ev.umax - b.rv, EPS)
    gain = (ev.eu - b.rv) / span
    if "ks_log_weight" not in b.names:
        b.add("ks_log_weight", np.zeros(b.frac.shape))
    n = np.maximum(req.sum(axis=-1, keepdims=True), 1)
    mean = (gain * req).sum(axis=-1, keepdims=True) / n
    err = (mean - gain) * req
    lw = b.ks_log_weight + KS_RATE * err
    lw = lw - (lw * req).sum(axis=-1, keepdims=True) / n
    b.ks_log_weight = lw
    w = req * np.exp(lw + KS_GAIN * err) / span + st.sc.bias * st.sc.mediator
    return weighted_gradient(w, ev.grad)


def split_direction(st: Static, b: Batch, ev, req: np.ndarray) -> np.ndarray:
    """Toward the midpoint of the principals' current positions on each issue."""
    pr = st.sc.principal.astype(float)
    mid = (b.pos * pr[:, None]).sum(axis=-2) / max(pr.sum(), 1.0)
    return mid - b.x


def powers(st: Static, b: Batch) -> np.ndarray:
    """``[R, A]`` bargaining powers for the ``biased`` rule (mean 1 over the principals).

    ``protocol.params.power`` names an actor's power outright; otherwise a principal's
    power is the mediators' mean utility of that principal's ideal text, normalised.
    """
    sc = st.sc
    given = st.settings.params.get("power") or {}
    med = sc.mediator.astype(float)
    op = open_mask(st, b)
    # how much the mediators like each actor's ideal text, over the open issues
    ideal = np.where(op[:, None, :], b.pos, b.x[:, None, :])  # [R, A, I]: actor a's ideal text
    vals, _ = issue_values(ideal, b.pos[:, None, :, :], sc.utility)  # [R, A(text), A(judge), I]
    ow = b.weight[:, None, :, :] * op[:, None, None, :]
    like = (ow * vals).sum(-1) / np.maximum(ow.sum(-1), 1e-12)  # [R, A(text), A(judge)]
    affinity = (like * med).sum(-1) / max(med.sum(), 1.0)  # [R, A]
    pw = np.where(sc.principal, affinity, 0.0)
    pw = pw / np.maximum(pw.sum(-1, keepdims=True), 1e-12) * max(sc.principal.sum(), 1)
    pw = np.where(sc.principal, pw, 1.0)  # guarantors whose clause is open keep power 1
    for name, val in given.items():
        if name in sc.actors:
            pw[:, sc.actors.index(name)] = float(val)
    return pw


def biased_direction(st: Static, b: Batch, ev, req: np.ndarray) -> np.ndarray:
    """Gradient of an asymmetric Nash product, powers from the mediators' leanings."""
    surplus = np.maximum(ev.eu - b.rv, EPS)
    w = req * powers(st, b) / surplus + st.sc.bias * st.sc.mediator
    return weighted_gradient(w, ev.grad)


RULES = {"nash": nash_direction, "kalai_smorodinsky": ks_direction,
         "split_the_difference": split_direction, "biased": biased_direction}
