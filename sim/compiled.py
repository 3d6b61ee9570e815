"""Compiled loops (numba) for the arithmetic every round and every outcome record repeats.

Evaluating a text for every actor (utility, the commitment problem, red-line penalties
and the gradient the mediator follows), the Nash bargaining solution and the Pareto
check are written here once, as plain loops over runs, actors and issues, compiled with
numba. numpy would make one call per operation on arrays of a few dozen numbers, and in
a run of the Mesa model or a short batch those calls, not the arithmetic, are the cost.

Each run is computed on its own, in a fixed order (sums over issues and over actors add
their terms one after another from 0.0), so a run's numbers do not depend on how many
runs share a call: the same seed gives the same result alone or in a batch of 100,000.
No ``fastmath``: the compiler may not reorder floating-point arithmetic.

The wrappers in :mod:`sim.utility` and :mod:`sim.outcome` broadcast their arguments to
``[N, ...]`` and call these; these take only C-contiguous float64, int64 and bool arrays.
Compiled code is cached next to this file (``__pycache__``), so only the first use on a
machine compiles (a few seconds).
"""

from __future__ import annotations

import numpy as np
from numba import njit

JIT = {"cache": True, "nogil": True, "error_model": "numpy"}

# A red line's condition fades in over this distance, so that a linkage ("withdrawal
# beyond the line only once disarmament passes a threshold") has a gradient the
# mediator can follow toward meeting the condition.
CONDITION_RAMP = 0.1
TINY = 1e-9  # floor on a surplus in the Nash-solution search


@njit(**JIT)
def value(d, linear):
    """The value of an issue at distance ``d`` from the ideal: ``1 - |d|`` or ``1 - d^2``."""
    return 1.0 - abs(d) if linear else 1.0 - d * d


@njit(**JIT)
def slope(d, linear):
    """d value / d text at distance ``d = text - ideal`` (0 at the ideal itself, for linear)."""
    if linear:
        return 1.0 * (d < 0.0) - 1.0 * (d > 0.0)  # without branches: the sign of d is a coin toss
    return -2.0 * d


@njit(**JIT)
def rprop_update(x, s, step, prev, lo, hi, grow, shrink, step_min, step_max):
    """One Rprop update of one coordinate: ``(x, step, prev)`` after a move of sign ``s``.

    The step grows while the sign holds (up to ``step_max``) and shrinks when it flips
    (down to ``step_min``); after a flip the coordinate stays put for one step. ``x`` is
    kept within ``[lo, hi]`` (Riedmiller & Braun 1993).
    """
    prod = s * prev
    if prod > 0.0:
        step = min(step * grow, step_max)
    elif prod < 0.0:  # the sign flipped: the last step overshot
        return x, max(step * shrink, step_min), 0.0
    return min(max(x + s * step, lo), hi), step, s


@njit(**JIT)
def sign(v):
    """-1, 0 or 1."""
    return 1.0 if v > 0.0 else (-1.0 if v < 0.0 else 0.0)


@njit(**JIT)
def red_line_terms(x, w, op, use_open, rl, with_grad, pen, grad, hard):
    """Add one run's red-line penalties into ``pen [A]``, ``grad [A, I]`` and ``hard [A]``.

    A red line costs ``strength`` times the actor's own weight on the issue per unit of
    violation. Only lines on issues in the text count (``op``, when ``use_open``). Each
    actor's penalty adds its lines in their order; each gradient cell adds the lines that
    touch it in their order (the line's own issue, then its condition's issue).

    Args:
        x: ``[I]`` the text; w: ``[A, I]`` weights; op: ``[I]`` bool, the open issues.
        rl: ``RedLines.arrays`` (actor, issue, bound, sign, cond_issue, cond_bound,
            cond_sign, strength, hard).
    """
    actor, issue, bound, sgn, cissue, cbound, csign, strength, hard_line = rl
    for k in range(actor.shape[0]):
        a = actor[k]
        i = issue[k]
        viol = max(sgn[k] * (bound[k] - x[i]), 0.0)
        c = cissue[k]
        short = 0.0
        active = 1.0
        if c >= 0:
            short = csign[k] * (cbound[k] - x[c])  # > 0 while the condition is unmet
            active = min(max(short / CONDITION_RAMP, 0.0), 1.0)
        on = True
        if use_open:
            on = op[i]
            if not on:
                active = 0.0
        scale = strength[k] * w[a, i]
        pen[a] += scale * viol * active
        if hard_line[k] and viol > 1e-12 and active > 0.0:
            hard[a] = True
        if with_grad:
            if viol > 0.0:
                grad[a, i] += -scale * sgn[k] * active
            if c >= 0 and on and 0.0 < short < CONDITION_RAMP:
                grad[a, c] += -scale * viol * csign[k] / CONDITION_RAMP


@njit(**JIT)
def evaluate_runs(x, op, pos, weight, sq, rs, gi, strong, rl, linear, with_grad):
    """Expected utility of each run's text over its open issues, for every actor.

    See :func:`sim.utility.evaluate` for the model. Shapes: ``x``, ``op`` ``[N, I]``;
    ``pos``, ``weight`` ``[N, A, I]``; ``sq`` ``[I]``; ``rs`` ``[N, A, 2]``.

    Returns:
        ``[7, N, A]``: eu, u, m, wp, vsq_open, p, umax; hard ``[N, A]`` bool; grad ``[N, A, I]``
        (empty without ``with_grad``). ``umax`` is the actor's expected utility of its own
        ideal on the open issues: each open issue its way, kept with probability ``1 - p``
        (``p`` at the actor's own ideal guarantee when that clause is open).
    """
    n_r, n_a, n_i = pos.shape
    per_actor = np.empty((7, n_r, n_a))  # one array to return: each returned array costs a conversion
    eu, u, m, wp, vq, p, umax = (
        per_actor[0],
        per_actor[1],
        per_actor[2],
        per_actor[3],
        per_actor[4],
        per_actor[5],
        per_actor[6],
    )
    hard = np.zeros((n_r, n_a), np.bool_)
    grad = np.empty((n_r, n_a, n_i) if with_grad else (0, n_a, n_i))  # every cell is written
    pen = np.empty(n_a)
    gpen = np.empty((n_a, n_i))
    ow = np.empty(n_i)  # per issue: open weight, its products with the values, kept, slope
    t_u = np.empty(n_i)
    t_m = np.empty(n_i)
    t_q = np.empty(n_i)
    kept = np.empty(n_i)
    dv = np.empty(n_i)
    sign_g = 1.0 if strong > 0.5 else -1.0
    for r in range(n_r):
        pen[:] = 0.0
        gpen[:, :] = 0.0
        red_line_terms(x[r], weight[r], op[r], True, rl, with_grad, pen, gpen, hard[r])
        for a in range(n_a):
            s0 = rs[r, a, 0]
            s1 = rs[r, a, 1]
            if gi >= 0:
                g = x[r, gi] if strong > 0.5 else 1.0 - x[r, gi]
                pa = s0 * (1.0 - g * s1)
            else:
                pa = s0
            # per issue first (a loop the compiler vectorises), then the sums, in issue order
            for i in range(n_i):
                d = x[r, i] - pos[r, a, i]
                v = value(d, linear)
                vs = value(sq[i] - pos[r, a, i], linear)
                o = weight[r, a, i] * op[r, i]
                ow[i] = o
                t_u[i] = o * v
                t_m[i] = o * min(v, vs)
                t_q[i] = o * vs
                kept[i] = 1.0 * (v >= vs)  # not worse than the status quo: lost if reneged on
                dv[i] = slope(d, linear)
            ws = 0.0
            us = 0.0
            ms = 0.0
            qs = 0.0
            for i in range(n_i):
                ws += ow[i]
                us += t_u[i]
                ms += t_m[i]
                qs += t_q[i]
            wpa = max(ws, 1e-12)
            if with_grad:
                for i in range(n_i):
                    grad[r, a, i] = (ow[i] * dv[i] * (1.0 - pa * kept[i]) - gpen[a, i]) / wpa
            ua = us / wpa
            ma = ms / wpa
            loss = ua - ma
            eu[r, a] = ua - pa * loss - pen[a] / wpa
            u[r, a] = ua
            m[r, a] = ma
            wp[r, a] = wpa
            vq[r, a] = qs / wpa
            p[r, a] = pa
            p_own = pa
            if gi >= 0 and op[r, gi]:
                g_own = pos[r, a, gi] if strong > 0.5 else 1.0 - pos[r, a, gi]
                p_own = s0 * (1.0 - g_own * s1)
            umax[r, a] = 1.0 - p_own * (1.0 - vq[r, a])
            if with_grad and gi >= 0 and op[r, gi]:
                # eu = u - p (u - m): d eu / d x_g = -(u - m) dp/dx_g, dp/dx_g = -s0 s1 dg/dx_g
                grad[r, a, gi] += s0 * s1 * sign_g * loss
    return per_actor, hard, grad


@njit(**JIT)
def penalty_runs(x, weight, op, use_open, rl, with_grad):
    """Red-line penalties ``[N, A]``, gradients ``[N, A, I]`` and vetoes ``[N, A]`` of ``N`` texts."""
    n_r, n_a, n_i = weight.shape
    pen = np.zeros((n_r, n_a))
    grad = np.zeros((n_r, n_a, n_i) if with_grad else (0, n_a, n_i))
    gbuf = np.zeros((n_a, n_i))
    hard = np.zeros((n_r, n_a), np.bool_)
    for r in range(n_r):
        g = grad[r] if with_grad else gbuf
        red_line_terms(x[r], weight[r], op[r], use_open, rl, with_grad, pen[r], g, hard[r])
    return pen, grad, hard


@njit(**JIT)
def _utilities(x, pos, w, linear, rl, pen, gbuf, hbuf, out):
    """Plain utilities ``out [A]`` of one text: weighted per-issue values less penalties."""
    n_a, n_i = pos.shape
    pen[:] = 0.0
    red_line_terms(x, w, x, False, rl, False, pen, gbuf, hbuf)
    for a in range(n_a):
        s = 0.0
        for i in range(n_i):
            s += w[a, i] * value(x[i] - pos[a, i], linear)
        out[a] = s - pen[a]


@njit(**JIT)
def utilities_runs(x, pos, w, linear, rl):
    """Plain utilities ``[N, A]`` of ``N`` texts ``[N, I]``: weighted per-issue values less
    red-line penalties (pass empty red lines for none). No commitment problem."""
    n_r, n_a, n_i = pos.shape
    out = np.empty((n_r, n_a))
    pen = np.empty(n_a)
    gbuf = np.zeros((n_a, n_i))
    hbuf = np.zeros(n_a, np.bool_)
    for r in range(n_r):
        _utilities(x[r], pos[r], w[r], linear, rl, pen, gbuf, hbuf, out[r])
    return out


@njit(**JIT)
def issue_values_runs(x, pos, linear):
    """Per-issue values and slopes ``[N, A, I]`` of ``N`` texts ``[N, I]`` for ideals ``pos [N, A, I]``."""
    n_r, n_a, n_i = pos.shape
    v = np.empty((n_r, n_a, n_i))
    dv = np.empty((n_r, n_a, n_i))
    for r in range(n_r):
        for a in range(n_a):
            for i in range(n_i):
                d = x[r, i] - pos[r, a, i]
                v[r, a, i] = value(d, linear)
                dv[r, a, i] = slope(d, linear)
    return v, dv


@njit(**JIT)
def nash_runs(x0, pos, weight, rv, members, linear, rl, lo, hi, iterations, check_every, settled):
    """Texts ``[N, I]`` maximising the product of the ``members``' surpluses, one problem at a time.

    Sign-based ascent (Rprop) on the log of the Nash product from ``x0``; a problem stops
    once its text moves by at most ``settled`` on every issue over ``check_every`` steps.
    """
    n_r, n_a, n_i = pos.shape
    out = x0.copy()
    pen = np.empty(n_a)
    gpen = np.empty((n_a, n_i))
    hbuf = np.zeros(n_a, np.bool_)
    g = np.empty(n_i)
    step = np.empty(n_i)
    prev = np.empty(n_i)
    last = np.empty(n_i)
    for r in range(n_r):
        x = out[r]
        w = weight[r]
        step[:] = 0.05
        prev[:] = 0.0
        last[:] = x
        for k in range(iterations):
            pen[:] = 0.0
            gpen[:, :] = 0.0
            red_line_terms(x, w, x, False, rl, True, pen, gpen, hbuf)
            g[:] = 0.0
            for a in range(n_a):
                if not members[a]:
                    continue
                s = 0.0
                for i in range(n_i):
                    s += w[a, i] * value(x[i] - pos[r, a, i], linear)
                c = 1.0 / max(s - pen[a] - rv[r, a], TINY)
                for i in range(n_i):
                    g[i] += c * (w[a, i] * slope(x[i] - pos[r, a, i], linear) - gpen[a, i])
            for i in range(n_i):
                x[i], step[i], prev[i] = rprop_update(
                    x[i], sign(g[i]), step[i], prev[i], lo[r, i], hi[r, i], 1.2, 0.5, 0.0, 0.2
                )
            if (k + 1) % check_every == 0:
                moved = False
                for i in range(n_i):
                    if abs(x[i] - last[i]) > settled:
                        moved = True
                    last[i] = x[i]
                if not moved:
                    break
    return out


@njit(**JIT)
def pareto_runs(x, pos, weight, members, linear, rl, free, delta, tol):
    """``[N]`` bool: no move of one or two free issues by ``delta`` is a Pareto improvement.

    An improvement raises some member's utility by more than ``tol`` and lowers none by
    more than ``tol``. Each moved text is evaluated whole, red lines included.
    """
    n_r, n_a, n_i = pos.shape
    out = np.ones(n_r, np.bool_)
    pen = np.empty(n_a)
    gbuf = np.zeros((n_a, n_i))
    hbuf = np.zeros(n_a, np.bool_)
    u0 = np.empty(n_a)
    u1 = np.empty(n_a)
    y = np.empty(n_i)
    for r in range(n_r):
        _utilities(x[r], pos[r], weight[r], linear, rl, pen, gbuf, hbuf, u0)
        found = False
        for i in range(n_i):
            if found:
                break
            if not free[r, i]:
                continue
            for j in range(i, n_i):  # j == i: issue i alone
                if found:
                    break
                if not free[r, j]:
                    continue
                for qi in range(2):
                    si = 2.0 * qi - 1.0
                    for qj in range(1 if j == i else 2):
                        sj = 2.0 * qj - 1.0
                        y[:] = x[r]
                        y[i] = min(max(x[r, i] + si * delta, 0.0), 1.0)
                        if j != i:
                            y[j] = min(max(x[r, j] + sj * delta, 0.0), 1.0)
                        _utilities(y, pos[r], weight[r], linear, rl, pen, gbuf, hbuf, u1)
                        worse = False
                        better = False
                        for a in range(n_a):
                            if members[a]:
                                gain = u1[a] - u0[a]
                                if gain < -tol:
                                    worse = True
                                if gain > tol:
                                    better = True
                        if better and not worse:
                            found = True
        out[r] = not found
    return out


@njit(**JIT)
def renege_scale_runs(trust, pidx, counterpart_p, renege_base, guarantor, cred):
    """``[R, A, 2]``: the chance each actor's counterparts renege, and guarantor credibility.

    ``s0 = renege_base (1 - trust in the counterparts)`` (``renege_base [R, A]``, per run;
    counterparts are principals,
    weighted by ``counterpart_p [A, P]``); ``s1`` is the most credible guarantor's
    credibility, 0 without guarantors.
    """
    n_r, n_a, _ = trust.shape
    out = np.empty((n_r, n_a, 2))
    for r in range(n_r):
        s1 = 0.0
        for a in range(n_a):
            if guarantor[a]:
                s1 = max(s1, cred[r, a])
        for a in range(n_a):
            tc = 0.0
            for q in range(pidx.shape[0]):
                tc += trust[r, a, pidx[q]] * counterpart_p[a, q]
            out[r, a, 0] = renege_base[r, a] * (1.0 - tc)
            out[r, a, 1] = s1
    return out


@njit(**JIT)
def weighted_gradient(w, grad):
    """``[R, I]``: ``sum_a w[r, a] grad[r, a, i]``, actors added in order (a mediator rule's direction)."""
    n_r, n_a, n_i = grad.shape
    out = np.zeros((n_r, n_i))
    for r in range(n_r):
        for a in range(n_a):
            for i in range(n_i):
                out[r, i] += w[r, a] * grad[r, a, i]
    return out


@njit(**JIT)
def nash_direction_runs(eu, rv, req, grad, eps):
    """``[R, I]``: the gradient of the log Nash product over the required actors.

    ``sum_a w_a grad_a`` with ``w_a = [a required] / max(eu_a - rv_a, eps)``. (A mediator's
    declared tilt is added by the rules, :func:`sim.kernel.target_pull`.)
    """
    n_r, n_a = eu.shape
    w = np.empty((n_r, n_a))
    for r in range(n_r):
        for a in range(n_a):
            w[r, a] = (1.0 if req[r, a] else 0.0) / max(eu[r, a] - rv[r, a], eps)
    return weighted_gradient(w, grad)


@njit(**JIT)
def target_pull_runs(x, op, weight, med, target, bias, linear):
    """``[R, I]``: the mediators' pull toward their declared targets (see :func:`sim.kernel.target_pull`).

    ``med [M]`` indexes the biased mediators, ``target [M, I]`` (NaN: no target on that
    issue), ``bias [M]``. Each mediator adds ``bias`` times the slope of its salience-
    weighted closeness to its target over the open issues it names, normalised by their
    weight; mediators are added in order.
    """
    n_r, n_i = x.shape
    out = np.zeros((n_r, n_i))
    for r in range(n_r):
        for k in range(med.shape[0]):
            m = med[k]
            tot = 0.0
            for i in range(n_i):
                if op[r, i] and not np.isnan(target[k, i]):
                    tot += weight[r, m, i]
            tot = max(tot, 1e-12)
            for i in range(n_i):
                if op[r, i] and not np.isnan(target[k, i]):
                    d = target[k, i] - x[r, i]
                    sl = (1.0 * (d > 0.0) - 1.0 * (d < 0.0)) if linear else 2.0 * d
                    out[r, i] += bias[k] * weight[r, m, i] * sl / tot
    return out


@njit(**JIT)
def rprop_draft(x, lo, hi, step, gsign, direction, rows, op, grow, shrink, step_min, step_max):
    """One sign-based (Rprop) step of the texts of ``rows`` along ``direction``, on open issues, in place."""
    n_r, n_i = x.shape
    for r in range(n_r):
        if not rows[r]:
            continue
        for i in range(n_i):
            if not op[r, i]:
                continue
            x[r, i], step[r, i], gsign[r, i] = rprop_update(
                x[r, i],
                sign(direction[r, i]),
                step[r, i],
                gsign[r, i],
                lo[r, i],
                hi[r, i],
                grow,
                shrink,
                step_min,
                step_max,
            )


@njit(**JIT)
def influence_and_time(
    pos,
    rv,
    rv_own,
    w_start,
    w_col,
    w_val,
    pos_anchor,
    one_minus_lam,
    event,
    delay,
    press_drop,
    clock,
    patience,
    no_deal_influence,
    live,
):
    """Between rounds, in place for live runs: Friedkin-Johnsen influence, then time and pressure.

    ``pos <- L W pos + (1 - L) pos0``. An actor's own no-deal value ``rv_own`` moves by
    ``event[a]`` (declared events and drivers this round) and falls by its cost of delay
    and the pressure on it while its clock is within its patience (``[R, A]``), kept in [0, 1]; the
    value it acts on, ``rv``, is ``rv_own``, or with ``no_deal_influence``
    ``L W rv + (1 - L) rv_own`` (with the old ``rv_own``). ``L W`` is given by its nonzero
    entries, row by row (actor ``a``'s are ``w_start[a]:w_start[a + 1]`` of ``w_col``,
    ``w_val``, in column order), so influence costs the number of channels times the
    issues, not actors squared.
    """
    n_r, n_a, n_i = pos.shape
    new = np.empty((n_a, n_i))
    nrv = np.empty(n_a)
    for r in range(n_r):
        if not live[r]:
            continue
        new[:, :] = 0.0
        for a in range(n_a):
            for k in range(w_start[a], w_start[a + 1]):
                c, v = w_col[k], w_val[k]
                for i in range(n_i):
                    new[a, i] += v * pos[r, c, i]
            for i in range(n_i):
                new[a, i] += pos_anchor[r, a, i]
            if no_deal_influence:
                s = 0.0
                for k in range(w_start[a], w_start[a + 1]):
                    s += w_val[k] * rv[r, w_col[k]]
                nrv[a] = s + one_minus_lam[a] * rv_own[r, a]
        for a in range(n_a):
            for i in range(n_i):
                pos[r, a, i] = new[a, i]
            change = event[a]
            if clock[r, a] <= patience[r, a]:
                change -= delay[r, a] + press_drop[r, a]
            rv_own[r, a] = min(max(rv_own[r, a] + change, 0.0), 1.0)
            rv[r, a] = nrv[a] if no_deal_influence else rv_own[r, a]


@njit(**JIT)
def accept(eu, rv, asp, umax, hard, override, req, running, proposer, use_proposer, tol_asp, tol_rv):
    """One round's verdicts on the text on the table.

    An actor accepts if its expected utility meets its aspiration ``asp`` and its
    reservation value (each less its tolerance), and no hard red line is crossed; a
    seated human (``override`` 0 or 1) decides instead; with ``use_proposer``, the actor
    who proposed the text stands by it unless it falls below its reservation value. A
    running run agrees if every required actor accepts; otherwise the first required
    actor whose best in the phase is below its reservation value walks out.

    Returns:
        ok ``[R, A]`` bool; agreed ``[R]`` bool; walker ``[R]`` (-1: nobody walks out).
    """
    n_r, n_a = eu.shape
    ok = np.empty((n_r, n_a), np.bool_)
    agreed = np.zeros(n_r, np.bool_)
    walker = np.full(n_r, -1, np.int64)
    for r in range(n_r):
        all_ok = True
        for a in range(n_a):
            above_rv = eu[r, a] >= rv[r, a] - tol_rv and not hard[r, a]
            if use_proposer and proposer[r, a]:
                ok[r, a] = above_rv
            elif override[r, a] >= 0:
                ok[r, a] = override[r, a] == 1
            else:
                ok[r, a] = eu[r, a] >= asp[r, a] - tol_asp and above_rv
            if req[r, a] and not ok[r, a]:
                all_ok = False
        if not running[r]:
            continue
        agreed[r] = all_ok
        if not all_ok:
            for a in range(n_a):
                if req[r, a] and umax[r, a] < rv[r, a]:
                    walker[r] = a
                    break
    return ok, agreed, walker


@njit(**JIT)
def frontier_offer_runs(pos, weight, lo, hi, x, op, who, target, others, linear):
    """``[R, I]``: the text that gives actor ``who[r]`` utility ``target[r]`` and the others most.

    Starting from ``who``'s ideal on the open issues (within the phase's bounds), it moves
    issues toward the others' pooled position, the issue with the best ratio of their
    gain to its loss first (ties in issue order), until its utility over the open issues
    has fallen to ``target`` (plain utility: no commitment problem, no red lines).
    Closed issues keep ``x``.
    """
    n_r, n_a, n_i = pos.shape
    out = np.empty((n_r, n_i))
    w_own = np.empty(n_i)
    own = np.empty(n_i)
    pooled = np.empty(n_i)
    loss = np.empty(n_i)
    key = np.empty(n_i)
    order = np.empty(n_i, np.int64)
    wp = np.empty(n_a)
    for r in range(n_r):
        p = who[r]
        s = 0.0
        for i in range(n_i):
            w_own[i] = weight[r, p, i] if op[r, i] else 0.0
            s += w_own[i]
        s = max(s, 1e-12)
        for a in range(n_a):
            t = 0.0
            for i in range(n_i):
                if op[r, i]:
                    t += weight[r, a, i]
            wp[a] = max(t, 1e-12)
        short = 0.0  # what the phase's bounds cut off the ideal: 1 - short is the best on offer
        for i in range(n_i):
            w_own[i] = w_own[i] / s
            own[i] = min(max(pos[r, p, i], lo[r, i]), hi[r, i])
            wo_sum = 0.0
            wpos = 0.0
            gain = 0.0  # the others' normalised weights on the issue, pooled
            for a in range(n_a):
                ow = weight[r, a, i] if (op[r, i] and others[r, a]) else 0.0
                wo_sum += ow
                wpos += ow * pos[r, a, i]
                gain += ow / wp[a]
            pl = wpos / max(wo_sum, 1e-12) if wo_sum > 0.0 else own[i]
            pooled[i] = min(max(pl, lo[r, i]), hi[r, i])
            dist = abs(pooled[i] - own[i]) if op[r, i] else 0.0
            loss[i] = w_own[i] * (dist if linear else dist * dist)  # own loss of conceding the whole issue
            key[i] = -(gain / max(w_own[i], 1e-12)) if (op[r, i] and dist > 0.0) else np.inf
            order[i] = i
            d0 = abs(own[i] - pos[r, p, i])
            short += w_own[i] * (d0 if linear else d0 * d0)
        for i in range(1, n_i):  # a stable insertion sort of the issues by key: best ratio first
            k = order[i]
            j = i - 1
            while j >= 0 and key[order[j]] > key[k]:
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = k
        budget = max(1.0 - short - target[r], 0.0)
        cum = 0.0
        for q in range(n_i):
            i = order[q]
            ls = loss[i]
            cum += ls
            f = 0.0
            if ls > 0.0:
                f = min(max((budget - (cum - ls)) / ls, 0.0), 1.0)
                if not linear:
                    f = np.sqrt(f)
            out[r, i] = own[i] + f * (pooled[i] - own[i]) if op[r, i] else x[r, i]
    return out
