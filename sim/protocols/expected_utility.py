"""Bueno de Mesquita's expected-utility model of group decisions, one issue at a time.

Each actor has a position on each issue, a capability and a salience (the share of its
attention the issue gets, in [0, 1]). In every round, on every open issue:

1. **Votes.** Actor ``k`` backs position ``x_i`` over ``x_j`` with
   ``v_k(i, j) = c_k s_k (|x_k - x_j| - |x_k - x_i|) / range``. The forecast of the round
   is the position that wins every pairwise vote: with these linear utilities, the
   capability x salience weighted median of the current positions.
2. **Probability of winning a challenge.** ``P(i, j)``: the votes for ``i`` over ``j``
   that are positive, over the size of the votes (see the variants below).
3. **Expected utility of challenging.** For ``i`` challenging ``j``, with distances
   ``d = |x_i - x_j| / range`` and risk exponent ``r``:
   ``E = s_j [P U_s + (1 - P) U_f] + (1 - s_j) U_s - [Q U_sq + (1 - Q)(T U_b + (1 - T) U_w)]``,
   ``U_s = 2 - 4 (0.5 - 0.5 d)^r``, ``U_f = 2 - 4 (0.5 + 0.5 d)^r``, ``U_sq = 2 - 4 (0.5)^r``,
   ``U_b, U_w = 2 - 4 (0.5 -/+ 0.25 (d_mu + d))^r`` with ``d_mu`` the challenger's distance
   from the forecast, and ``T = 1`` when the challenger is at least as far from the forecast
   as from ``j`` (things would improve for it without the challenge), else 0. ``Q``, the
   probability that the status quo holds if nobody challenges, is ``protocol.params.q``.
4. **Risk.** Each actor's exposure is the sum of the expected utilities of the others
   challenging it (at ``r = 1``); scaled to ``R`` in [-1, 1] across the actors, it gives
   ``r = (1 - R/3) / (1 + R/3)``. ``protocol.params.risk`` fixes ``r`` for every actor instead.
5. **Offers.** For a proposer ``i`` and a receiver ``j``, with ``a`` the expected utility of
   ``i`` challenging ``j`` and ``b`` that of ``j`` challenging ``i``: *conflict*
   (``a > b > 0``: ``j`` expects to lose and moves to ``x_i``), *compromise*
   (``a > 0 > b``, ``a > |b|``: ``j`` moves toward ``x_i`` by the share ``|b / a|``) and
   *capitulation* (``a > 0 > b``, ``|b| >= a``: ``j`` moves to ``x_i``). Each receiver
   takes one offer; all move at once.

The round repeats until the forecast moves by no more than ``protocol.stall_tol`` on
every open issue for ``protocol.params.settle_rounds`` rounds in a row. The forecast
then becomes the phase's text (within the range the agenda gives the issue in that
phase); it is agreed if every required actor accepts it by the same test as in the other
protocols (expected utility at least the value of no deal, no hard red line), otherwise
the run ends in a stalemate naming the refusers. A forecast that never settles ends at
the observation window (``max_rounds``), its last value on the table. Positions move
only by offers: there is no influence along the channels, no concession clock and no
moving value of no deal (shocks still apply).

Two variants (``protocol.params.variant``), both from Scholz, Calbert & Smith (2011):

- ``scholz_2011`` (default) as their replication computes it: ``P`` divides an actor's
  votes by the size of all the votes of the round (every pair), so it is small; both
  ``a`` and ``b`` are judged with the receiver's risk; a receiver takes a conflict offer
  before a compromise and a compromise before a capitulation (the conflict or
  capitulation that moves it least; among compromises, the one whose capability-free
  midpoint ``(|b| x_j + |a| x_i) / (|a| + |b|)`` is lowest). On Bueno de Mesquita's EC
  car-emissions data it retraces their published round-by-round path (8.4, 9.9, 9.9, 9.9,
  9.9, 7.4, 8.8, 9.6 years) to within 0.3 years a round.
- ``textbook``, as their text states the model: ``P(i, j) + P(j, i) = 1`` (each pair's
  votes over their own size), each proposer judges with its own risk, and a receiver takes
  the offer that moves it least. On the same data it settles at once on the weighted median.

Bueno de Mesquita (1994), "Political forecasting: an expected utility method", in
Bueno de Mesquita & Stokman (eds.), *European Community Decision Making*; Scholz,
Calbert & Smith (2011), "Unravelling Bueno de Mesquita's group decision model", ICAART.
"""

from __future__ import annotations

import numpy as np

from sim.baselines import weighted_median
from sim.kernel import (
    AGREED,
    RUNNING,
    STALEMATE,
    Batch,
    Static,
    evaluate_batch,
    open_mask,
    required,
    settle,
    shocks,
    tick,
)
from sim.protocols.base import Protocol, register

VARIANTS = ("scholz_2011", "textbook")
TOL = 1e-12


def params(st: Static) -> tuple[str, float, float | None, int]:
    """``(variant, q, risk or None, settle_rounds)`` from ``protocol.params``."""
    p = st.settings.params
    risk = p.get("risk")
    return (
        str(p.get("variant", "scholz_2011")),
        float(p.get("q", 1.0)),
        None if risk is None else float(risk),
        int(p.get("settle_rounds", 1)),
    )


def _utility(d: np.ndarray, r: np.ndarray, sign: float) -> np.ndarray:
    """``2 - 4 (0.5 + sign * d)^r`` (BDM's utility of a gain, ``sign < 0``, or a loss)."""
    return 2.0 - 4.0 * np.clip(0.5 + sign * d, 0.0, 1.0) ** r


def challenge_eu(d: np.ndarray, p: np.ndarray, s: np.ndarray, d_mu: np.ndarray, r: np.ndarray, q: float) -> np.ndarray:
    """``[R, V, I, J]``: expected utility of ``i`` challenging ``j``, judged with the risk ``r [R, V]``
    of each viewer ``V``. ``d [R, I, J]`` distances, ``p [R, I, J]`` chances of winning,
    ``s [R, J]`` the challenged one's salience, ``d_mu [R, I]`` each challenger's distance
    from the forecast."""
    rr = r[:, :, None, None]
    dd = d[:, None]
    us, uf = _utility(0.5 * dd, rr, -1.0), _utility(0.5 * dd, rr, 1.0)
    sj = s[:, None, None, :]
    pp = p[:, None]
    gain = sj * (pp * us + (1.0 - pp) * uf) + (1.0 - sj) * us
    usq = 2.0 - 4.0 * 0.5**rr
    if q >= 1.0:
        return gain - usq
    both = 0.25 * (d_mu[:, :, None] + d)[:, None]
    ub, uw = _utility(both, rr, -1.0), _utility(both, rr, 1.0)
    t = (d_mu[:, :, None] >= d)[:, None]
    return gain - (q * usq + (1.0 - q) * np.where(t, ub, uw))


def bdm_round(
    x: np.ndarray,
    s: np.ndarray,
    c: np.ndarray,
    scale: np.ndarray,
    variant: str = "scholz_2011",
    q: float = 1.0,
    risk: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One round on one issue for ``R`` runs: the new positions ``[R, A]`` and each actor's risk.

    Args:
        x: positions ``[R, A]``; s: saliences ``[R, A]`` (0: the actor takes no part);
        c: capabilities ``[A]``; scale: the range of the stated positions ``[R]``.
    """
    part = s > 0
    w = np.where(part, c * s, 0.0)
    d = np.abs(x[:, :, None] - x[:, None, :]) / np.maximum(scale, TOL)[:, None, None]  # [R, I, J]
    v = w[:, :, None, None] * (d[:, :, None, :] - d[:, :, :, None])  # [R, K, I, J]: k's vote for i over j
    won = np.clip(v, 0.0, None).sum(axis=1)
    size = np.abs(v).sum(axis=(1, 2, 3))[:, None, None] if variant == "scholz_2011" else np.abs(v).sum(axis=1)
    p = np.where(size > 0, won / np.where(size > 0, size, 1.0), 0.0)
    mu = weighted_median(x[:, :, None], w[:, :, None])[:, 0]
    d_mu = np.abs(x - mu[:, None]) / np.maximum(scale, TOL)[:, None]
    pair = part[:, :, None] & part[:, None, :] & (np.abs(x[:, :, None] - x[:, None, :]) > TOL)
    a_n = x.shape[1]
    if risk is None:
        e1 = challenge_eu(d, p, s, d_mu, np.ones((len(x), 1)), q)[:, 0]  # [R, I, J]
        exposure = np.where(pair, e1, 0.0).sum(axis=1)  # [R, J]: the others' gains from challenging j
        hi = np.where(part, exposure, -np.inf).max(axis=1, keepdims=True)
        lo = np.where(part, exposure, np.inf).min(axis=1, keepdims=True)
        spread = hi - lo
        big_r = np.where(spread > TOL, (2.0 * exposure - hi - lo) / np.where(spread > TOL, spread, 1.0), 0.0)
        r = np.where(part, (1.0 - big_r / 3.0) / (1.0 + big_r / 3.0), 1.0)
    else:
        r = np.full(x.shape, risk)
    e = challenge_eu(d, p, s, d_mu, r, q)  # [R, V, I, J]
    idx = np.arange(a_n)
    if variant == "scholz_2011":  # both judged by the receiver j: a = E_j(i on j), b = E_j(j on i)
        a = e[:, idx[None, :], idx[:, None], idx[None, :]]
        b = e[:, idx[None, :], idx[None, :], idx[:, None]]
    else:  # both judged by the proposer i
        a = e[:, idx[:, None], idx[:, None], idx[None, :]]
        b = e[:, idx[:, None], idx[None, :], idx[:, None]]
    # a, b: [R, I (proposer), J (receiver)]
    xi, xj = x[:, :, None], x[:, None, :]
    conflict = pair & (a > b) & (b > 0)
    yielding = pair & (a > 0) & (b < 0)
    compromise = yielding & (a > -b)
    capitulate = yielding & ~compromise
    share = np.abs(b) / np.where(np.abs(a) > TOL, np.abs(a), 1.0)
    offer = np.where(compromise, xj + (xi - xj) * share, xi)  # [R, I, J]
    move = np.abs(offer - xj)
    inf = np.inf
    if variant == "scholz_2011":
        mid = (np.abs(b) * xj + np.abs(a) * xi) / np.maximum(np.abs(a) + np.abs(b), TOL)
        keys = (np.where(conflict, move, inf), np.where(compromise, mid, inf), np.where(capitulate, move, inf))
        new = x.copy()
        taken = np.zeros(x.shape, bool)
        for key in keys:
            has = np.isfinite(key).any(axis=1) & ~taken  # [R, J]
            pick = key.argmin(axis=1)
            new = np.where(has, np.take_along_axis(offer, pick[:, None, :], axis=1)[:, 0], new)
            taken |= has
        return new, r
    key = np.where(conflict | yielding, move, inf)
    has = np.isfinite(key).any(axis=1)
    pick = key.argmin(axis=1)
    return np.where(has, np.take_along_axis(offer, pick[:, None, :], axis=1)[:, 0], x), r


def forecast(x: np.ndarray, s: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``[R]``: the position that wins every pairwise vote (the capability x salience weighted median)."""
    w = np.where(s > 0, c * s, 0.0)
    return weighted_median(x[:, :, None], w[:, :, None])[:, 0]


@register
class ExpectedUtility(Protocol):
    """Bueno de Mesquita's expected-utility model: challenges, offers and a median forecast."""

    name = "expected_utility"
    classifier = {
        "parties": "many",
        "mediated": False,
        "texts": "the median position of each issue",
        "literature": "Bueno de Mesquita 1994; Scholz, Calbert & Smith 2011",
    }

    @classmethod
    def check(cls, st: Static) -> str | None:
        """Why the parameters cannot run (a bad variant, q, risk or settle_rounds), or None."""
        p = st.settings.params
        unknown = sorted(set(p) - {"variant", "q", "risk", "settle_rounds"})
        if unknown:
            return f"protocol.params has unknown keys {unknown}: expected variant, q, risk, settle_rounds"
        variant = p.get("variant", "scholz_2011")
        if variant not in VARIANTS:
            return f"protocol.params.variant must be one of {list(VARIANTS)}, got {variant!r}"
        q = p.get("q", 1.0)
        if isinstance(q, bool) or not isinstance(q, int | float) or not 0.0 <= q <= 1.0:
            return f"protocol.params.q must be a probability in [0, 1], got {q!r}"
        risk = p.get("risk")
        if risk is not None and (isinstance(risk, bool) or not isinstance(risk, int | float) or not 0.5 <= risk <= 2.0):
            return (
                f"protocol.params.risk must be null (from each actor's exposure) or a number in [0.5, 2], got {risk!r}"
            )
        k = p.get("settle_rounds", 1)
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
            return f"protocol.params.settle_rounds must be a whole number in [1, 1000], got {k!r}"
        return None

    @classmethod
    def init(cls, st: Static, b: Batch) -> None:
        """The range of each issue's stated positions, the settle counter, each actor's risk, and the first forecast
        as the text."""
        sal = b.sal
        pos = np.where(sal > 0, b.pos0, np.nan)
        with np.errstate(invalid="ignore"):
            scale = np.nan_to_num(np.nanmax(pos, axis=1) - np.nanmin(pos, axis=1))  # [R, I]
        b.add("bdm_scale", scale)
        b.add("bdm_settled", np.zeros(len(b), dtype=np.int64))
        b.add("bdm_risk", np.ones(b.pos.shape))
        x = b.x.copy()
        for i in range(st.n_issues):
            f = np.clip(forecast(b.pos[:, :, i], sal[:, :, i], st.sc.capability), b.lo[:, i], b.hi[:, i])
            x[:, i] = np.where(sal[:, :, i].any(axis=1), f, x[:, i])
        op = open_mask(st, b)
        b.x = np.where(op, x, b.x)

    @classmethod
    def step(cls, st: Static, b: Batch, t: int) -> None:
        """One round of challenges and offers on every open issue; a settled forecast is put to the required actors."""
        sc = st.sc
        running = b.status == RUNNING
        variant, q, risk, settle_rounds = params(st)
        op = open_mask(st, b)
        old = b.x.copy()
        for i in range(st.n_issues):
            rows = np.flatnonzero(running & op[:, i] & (b.bdm_scale[:, i] > 0))
            if rows.size == 0:
                continue
            s = b.sal[rows, :, i]
            new, r = bdm_round(b.pos[rows, :, i], s, sc.capability, b.bdm_scale[rows, i], variant, q, risk)
            b.pos[rows, :, i] = new
            b.bdm_risk[rows, :, i] = r
            b.x[rows, i] = np.clip(forecast(new, s, sc.capability), b.lo[rows, i], b.hi[rows, i])
        moved = (np.abs(b.x - old) > st.settings.stall_tol) & op
        b.bdm_settled = np.where(running & ~moved.any(axis=1), b.bdm_settled + 1, 0)
        done = running & (b.bdm_settled >= settle_rounds)

        ev = evaluate_batch(st, b, op, with_grad=False)
        acc = (ev.eu >= b.rv - 1e-12) & ~ev.hard
        rv = running[:, None]
        b.eu = np.where(rv, ev.eu, b.eu)
        b.asp = np.where(rv, b.rv, b.asp)
        b.accept = np.where(rv, acc, b.accept)
        b.rounds = np.where(running, t + 1, b.rounds)
        b.fresh = np.where(running, False, b.fresh)
        req = required(st, b)
        agreed = done & (acc | ~req).all(axis=1)
        refused = done & ~agreed
        if refused.any():
            bits = ((~acc & req) * (1 << np.arange(sc.n_actors, dtype=np.int64))).sum(axis=1)
            b.blockers = np.where(refused, bits, b.blockers)
            b.status = np.where(refused, STALEMATE, b.status).astype(np.int8)
        settle(st, b, agreed, t + 1)
        nxt = agreed & (b.status != AGREED)  # the next phase opens: its forecast starts afresh
        if nxt.any():
            b.bdm_settled = np.where(nxt, 0, b.bdm_settled)
            op2 = open_mask(st, b)
            for i in range(st.n_issues):
                rows = np.flatnonzero(nxt & op2[:, i] & b.sal[:, :, i].any(axis=1))
                if rows.size:
                    f = forecast(b.pos[rows, :, i], b.sal[rows, :, i], sc.capability)
                    b.x[rows, i] = np.clip(f, b.lo[rows, i], b.hi[rows, i])
        live = b.status == RUNNING
        tick(b, live)
        shocks(st, b, t, live)
