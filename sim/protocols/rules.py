"""Mediator rules: in which direction the mediators revise the single text.

A rule maps the evaluation of the current text to a direction ``[R, I]`` over the
issues; the mediated protocol takes sign-based steps along it, so only each issue's
sign matters in the end, and a rule is exact where the signs balance. Choose one with
``protocol.rule=<name>``:

- ``nash`` climbs the log of the product of the required actors' surpluses over their
  reservation values (Nash 1950), plus each mediator's ``bias`` times the pull toward
  its declared ``target`` (:func:`sim.kernel.target_pull`; every rule adds it).
- ``kalai_smorodinsky`` looks for the text where every required actor gets the same
  fraction of its possible gain (Kalai & Smorodinsky 1975): from its reservation value to
  its ideal point, the best it can get among the texts of the phase that give every other
  required actor at least its reservation value (the individually rational set; not its
  own ideal text, which may leave another below its no-deal value). It climbs a weighted
  sum of those fractions and shifts the weights, round by round, toward whoever is behind
  (a multiplier per actor, kept in the batch), until the fractions are equal on the frontier.
- ``split_the_difference`` moves the text toward the midpoint of the principals' current
  positions, issue by issue: the mediator as a go-between who splits every difference.
- ``biased`` climbs an asymmetric Nash product (Kalai 1977), each required actor's log
  surplus weighted by its bargaining power in the mediators' eyes: ``protocol.params.power``
  by actor name, else how much the mediators like that actor's own ideal text (a mediator
  leans toward the side it agrees with; Kydd 2003, "Which side are you on?").
"""

from __future__ import annotations

import numpy as np

from sim.compiled import frontier_offer_runs, nash_direction_runs, weighted_gradient
from sim.kernel import EPS, Batch, Static, open_mask, target_pull
from sim.utility import issue_values, plain_utility

# The multipliers follow a proportional-integral law on the gap between each actor's gain
# fraction and the mean: the integral finds the slope of the frontier at the solution, the
# proportional term damps the swing the integral alone sets up with the text.
KS_RATE = 0.5
KS_GAIN = 20.0
KS_LOG_WEIGHT_MAX = 30.0  # bounds on the log multipliers and on the exponent: exp stays finite
KS_EXP_MAX = 60.0
KS_BISECTIONS = 60  # quadratic values: bisection steps on the frontier's weight (2^-60)
KS_IR_TOL = 1e-9  # slack on a reservation value in the individually rational set


def nash_direction(st: Static, b: Batch, ev, req: np.ndarray) -> np.ndarray:
    """Gradient ``[R, I]`` of the log Nash product over the required actors (the principals),
    plus the mediators' declared pull toward their targets (:func:`sim.kernel.target_pull`)."""
    d = nash_direction_runs(ev.eu, b.rv, req, ev.grad, EPS)
    pull = target_pull(st, b, open_mask(st, b))
    return d if pull is None else d + pull


def _values(x: np.ndarray, pos: np.ndarray, w: np.ndarray, linear: bool) -> np.ndarray:
    """Plain utilities ``[...]`` of texts ``x`` for ideals ``pos`` and normalised open weights ``w``
    (``[..., I]`` each): the phase-normalised utility of :mod:`sim.utility` without red lines
    or the commitment problem."""
    return plain_utility(x, pos[..., None, :], w[..., None, :], "linear" if linear else "quadratic")[..., 0]


def _best_giving(st: Static, pos, weight, lo, hi, x, op, w, rv, a: int, c: int) -> np.ndarray:
    """``[R, I]``: actor a's best text among those giving actor c its reservation value,
    c's the only constraint (a's own ideal within the bounds if that already does; c's if
    c cannot get its reservation value at all). ``w``: the normalised open weights.

    Linear values make this a fractional knapsack (a linear program with one constraint):
    from c's ideal, issues move toward a's in order of a's gain per unit of c's loss, whole
    until the last, which moves part way to leave c exactly at its reservation value
    (:func:`sim.compiled.frontier_offer_runs`; an issue c gives no weight goes to a first).
    Quadratic values: the texts maximising ``(1 - s) u_a + s u_c`` (per issue the weighted
    mean of the two ideals, within the bounds) trace the frontier; ``s`` is found by bisection.
    """
    n_r, n_a, _ = pos.shape
    if st.sc.utility == "linear":
        p = pos.copy()
        p[:, c] = np.where(w[:, c] > 0.0, pos[:, c], pos[:, a])  # what c does not weigh, a gets
        others = np.zeros((n_r, n_a), bool)
        others[:, a] = True
        return frontier_offer_runs(
            p, weight, lo, hi, x, op, np.full(n_r, c, np.int64), np.ascontiguousarray(rv[:, c]), others, True
        )
    own = np.where(op, np.clip(pos[:, a], lo, hi), x)
    tgt = np.where(op, np.clip(pos[:, c], lo, hi), x)
    wa, wc = w[:, a], w[:, c]
    box_lo, box_hi = np.minimum(own, tgt), np.maximum(own, tgt)

    def text(s):
        num = (1.0 - s)[:, None] * wa * pos[:, a] + s[:, None] * wc * pos[:, c]
        den = (1.0 - s)[:, None] * wa + s[:, None] * wc
        return np.clip(np.divide(num, den, out=own.copy(), where=den > 0.0), box_lo, box_hi)

    need = rv[:, c]
    s_lo, s_hi = np.zeros(n_r), np.ones(n_r)
    for _ in range(KS_BISECTIONS):  # the smallest s (in [0, 1]) that gives c its reservation value
        mid = 0.5 * (s_lo + s_hi)
        enough = _values(text(mid), pos[:, c], wc, False) >= need
        s_hi = np.where(enough, mid, s_hi)
        s_lo = np.where(enough, s_lo, mid)
    return np.where((_values(own, pos[:, c], wc, False) >= need)[:, None], own, text(s_hi))


def _utopia_program(
    ideal: np.ndarray,
    pos: np.ndarray,
    w: np.ndarray,
    rv: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    a: int,
    others: np.ndarray,
    open_: np.ndarray,
    linear: bool,
) -> np.ndarray | None:
    """One run: actor ``a``'s best text giving each of ``others`` its reservation value
    (``[I]``; None if no text does), by scipy: a linear program (linear values: ``x`` and
    ``d_k >= |x - p_k|`` per issue) or SLSQP (quadratic values: a concave objective on a
    convex set). For the few runs where three or more actors are required and the best
    pairwise text fails a third one."""
    from scipy.optimize import linprog, minimize

    idx = np.flatnonzero(open_)
    n = idx.size
    lo, hi = lo[idx], np.maximum(hi[idx], lo[idx])
    who = np.concatenate([[a], others])
    p, wk = pos[who][:, idx], w[who][:, idx]
    out = ideal[a].copy()
    if linear:
        k = who.size
        # variables: x [n], then d [k, n]
        c = np.concatenate([np.zeros(n), wk[0], np.zeros((k - 1) * n)])
        rows, rhs = [], []
        for j in range(k):
            for i in range(n):
                for s in (1.0, -1.0):  # s (x_i - p_ji) <= d_ji
                    r = np.zeros(n + k * n)
                    r[i], r[n + j * n + i] = s, -1.0
                    rows.append(r)
                    rhs.append(s * p[j, i])
        for j in range(1, k):  # sum_i w_ji d_ji <= sum_i w_ji - rv_j
            r = np.zeros(n + k * n)
            r[n + j * n : n + (j + 1) * n] = wk[j]
            rows.append(r)
            rhs.append(wk[j].sum() - rv[who[j]])
        res = linprog(
            c,
            A_ub=np.array(rows),
            b_ub=np.array(rhs),
            method="highs",
            bounds=[(lo[i], hi[i]) for i in range(n)] + [(0.0, None)] * (k * n),
        )
        if res.status != 0:
            return None
        out[idx] = np.clip(res.x[:n], lo, hi)
    else:
        cons = [
            {
                "type": "ineq",
                "fun": lambda x, j=j: wk[j] @ (1.0 - (x - p[j]) ** 2) - rv[who[j]],
                "jac": lambda x, j=j: -2.0 * wk[j] * (x - p[j]),
            }
            for j in range(1, who.size)
        ]
        res = minimize(
            lambda x: -(wk[0] @ (1.0 - (x - p[0]) ** 2)),
            ideal[a, idx],
            jac=lambda x: 2.0 * wk[0] * (x - p[0]),
            bounds=list(zip(lo, hi, strict=True)),
            constraints=cons,
            method="SLSQP",
            options={"ftol": 1e-12, "maxiter": 500},
        )
        out[idx] = np.clip(res.x, lo, hi)
    if any(_values(out, pos[c], w[c], linear) < rv[c] - KS_IR_TOL for c in others):
        return None
    return out


def ir_utopia_texts(
    st: Static,
    pos: np.ndarray,
    weight: np.ndarray,
    rv: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    x: np.ndarray,
    op: np.ndarray,
    req: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each required actor's best text in the individually rational set: the texts of the phase
    (the open issues within the bounds ``lo``, ``hi``; ``x`` elsewhere) that give every
    required actor at least its reservation value. Plain utilities over the open issues.

    The best text subject to one other actor's reservation value is exact and cheap
    (:func:`_best_giving`); the tightest of those over the other required actors bounds the
    best subject to all of them, and is it whenever it satisfies the rest, as it always
    does with two. When it does not (three or more required actors), that run's problem
    is solved whole (:func:`_utopia_program`). Each run is computed on its own.

    Returns:
        ``[R, A, I]`` the texts (an actor not required, or required alone, gets its own ideal
        within the bounds); ``[R]`` bool, whether the individually rational set is non-empty.
    """
    n_r = pos.shape[0]
    linear = st.sc.utility == "linear"
    wo = weight * op[:, None, :]
    w = wo / np.maximum(wo.sum(axis=-1), 1e-12)[..., None]  # the weights of the phase-normalised utility
    ideal = np.where(op[:, None, :], np.clip(pos, lo[:, None, :], hi[:, None, :]), x[:, None, :])
    texts = ideal.copy()
    who = np.flatnonzero(req.any(axis=0))
    nonempty = np.ones(n_r, bool)
    if who.size == 0:
        return texts, nonempty
    rq = req[:, who]
    # c cannot reach its reservation value even at its own ideal: nothing is rational
    nonempty &= ~(rq & (_values(ideal[:, who], pos[:, who], w[:, who], linear) < rv[:, who] - KS_IR_TOL)).any(-1)
    for a in who:
        best_u = np.full(n_r, np.inf)
        for c in who:
            if c == a:
                continue
            t = _best_giving(st, pos, weight, lo, hi, x, op, w, rv, a, c)
            ua = _values(t, pos[:, a], w[:, a], linear)
            take = req[:, c] & (ua < best_u)  # the tightest constraint (the first of equals)
            best_u = np.where(take, ua, best_u)
            texts[:, a] = np.where(take[:, None], t, texts[:, a])
    # every text against every required actor's reservation value: [R, K(text), K(judge)]
    judged = _values(texts[:, who, None, :], pos[:, None, who, :], w[:, None, who, :], linear)
    short = rq[:, :, None] & rq[:, None, :] & (judged < rv[:, None, who] - KS_IR_TOL)
    nonempty &= ~np.diagonal(short, axis1=1, axis2=2).any(-1)  # even its best leaves someone below
    off = short & ~np.eye(who.size, dtype=bool)
    for r in np.flatnonzero(off.any(axis=(1, 2)) & nonempty):
        for k in np.flatnonzero(off[r].any(-1)):
            a = who[k]
            others = who[rq[r] & (who != a)]
            t = _utopia_program(ideal[r], pos[r], w[r], rv[r], lo[r], hi[r], a, others, op[r], linear)
            if t is None or _values(t, pos[r, a], w[r, a], linear) < rv[r, a] - KS_IR_TOL:
                nonempty[r] = False
                break
            texts[r, a] = t
    return texts, nonempty


def ks_utopia(st: Static, b: Batch, req: np.ndarray) -> np.ndarray:
    """``[R, A]``: each required actor's best plain utility over the individually rational set
    (:func:`ir_utopia_texts`); ``inf`` for actors not required and in runs where that set is
    empty (there is no deal to find, and the rule keeps the old top, ``umax``).

    Plain utilities over the open issues: red-line penalties and the commitment problem are
    left out, which keeps the search a linear program (a knapsack with two actors) for
    linear values. Kept in the batch (``b.ks_utopia``) and recomputed only for the runs
    whose phase, bounds, positions or reservation values have changed since it was (a
    round of several drafting steps computes it once); each run on its own.
    """
    key = np.concatenate([b.phase[:, None].astype(float), b.rv, b.pos.reshape(len(b), -1), b.lo, b.hi], axis=1)
    if "ks_utopia" not in b.names:
        b.add("ks_utopia", np.full(b.rv.shape, np.inf))
        b.add("ks_utopia_key", np.full(key.shape, np.nan))
    stale = np.flatnonzero(~(key == b.ks_utopia_key).all(axis=1))
    if stale.size:
        s = stale if stale.size < len(b) else slice(None)
        op = open_mask(st, b)[s]
        pos, weight, rq = b.pos[s], b.weight[s], req[s]
        texts, nonempty = ir_utopia_texts(st, pos, weight, b.rv[s], b.lo[s], b.hi[s], b.x[s], op, rq)
        wo = weight * op[:, None, :]
        w = wo / np.maximum(wo.sum(axis=-1), 1e-12)[..., None]
        best = _values(texts, pos, w, st.sc.utility == "linear")  # [R, A]: each actor's own text
        b.ks_utopia[s] = np.where(rq & nonempty[:, None], best, np.inf)
        b.ks_utopia_key[s] = key[s]
    return b.ks_utopia


def ks_direction(st: Static, b: Batch, ev, req: np.ndarray) -> np.ndarray:
    """Weighted gradient of the required actors' gain fractions, weights toward the worst off.

    The fraction of actor a's possible gain is ``g_a = (eu_a - rv_a) / (U_a - rv_a)``. Its
    ideal point ``U_a`` is the lower of two bounds on its best expected utility over the
    texts that give every other required actor its reservation value: its expected utility
    at its own ideal (``umax``), and its best plain utility over the texts that give the
    others their reservation values in plain utility (:func:`ks_utopia`; expected utility is
    never above plain utility, so that set holds the other and its best is a bound). Where
    there is no commitment problem and no red line, as in the theory cases, the second is
    the ideal point exactly; where nobody else's reservation value binds, the first is.

    Its multiplier ``m_a`` grows while ``g_a`` is below the mean of the required actors'
    fractions and shrinks while above; the text climbs ``sum_a m_a g_a``. At rest the
    fractions are equal and no move raises all of them: the Kalai-Smorodinsky point. The
    log multipliers are kept within ``+-KS_LOG_WEIGHT_MAX`` and the exponent within
    ``+-KS_EXP_MAX``, so ``exp`` never overflows.
    """
    span = np.maximum(np.minimum(ev.umax, ks_utopia(st, b, req)) - b.rv, EPS)
    gain = (ev.eu - b.rv) / span
    if "ks_log_weight" not in b.names:
        b.add("ks_log_weight", np.zeros(b.frac.shape))
    n = np.maximum(req.sum(axis=-1, keepdims=True), 1)
    mean = (gain * req).sum(axis=-1, keepdims=True) / n
    err = (mean - gain) * req
    lw = b.ks_log_weight + KS_RATE * err
    lw = lw - (lw * req).sum(axis=-1, keepdims=True) / n
    lw = np.clip(lw, -KS_LOG_WEIGHT_MAX, KS_LOG_WEIGHT_MAX)
    b.ks_log_weight = lw
    w = req * np.exp(np.clip(lw + KS_GAIN * err, -KS_EXP_MAX, KS_EXP_MAX)) / span
    d = weighted_gradient(w, ev.grad)
    pull = target_pull(st, b, open_mask(st, b))
    return d if pull is None else d + pull


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
    w = req * powers(st, b) / surplus
    d = weighted_gradient(w, ev.grad)
    pull = target_pull(st, b, open_mask(st, b))
    return d if pull is None else d + pull


RULES = {
    "nash": nash_direction,
    "kalai_smorodinsky": ks_direction,
    "split_the_difference": split_direction,
    "biased": biased_direction,
}
