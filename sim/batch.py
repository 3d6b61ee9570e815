"""Run many seeds of one configuration at once, and measure how each run ended.

A sweep job calls :func:`simulate` with its seeds (and, optionally, a grid of
conditions crossed with them). Runs advance together through the kernel; those that
finish are measured and retired from the batch, so late rounds cost only what is
still running. Seeds are processed in chunks, so memory stays flat as ``n_seeds``
grows. The result is a dict of columns, one row per run, in the order given.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.baselines import weighted_mean, weighted_median
from sim.kernel import (
    AGREED,
    MAX_ROUNDS,
    RUNNING,
    STALEMATE,
    SUSPENDED,
    Batch,
    Static,
    any_true,
    final_text,
    init_batch,
    open_mask,
    renege_scale,
)
from sim.outcome import nash_solution, pareto_efficient
from sim.utility import evaluate, issue_values, plain_utility

RETIRE_FRACTION = 0.25
DEDUPLICATE_FROM = 64  # runs: below this, nbs_distance solves every agreed run's problem as it is


def advance(st: Static, b: Batch, t: int) -> None:
    """One round of the configured protocol, then the checks every protocol shares.

    Suspended talks whose pause is over resume first. After the round, a run in which
    nobody moves any more ends in a stalemate (:func:`stall`); runs still going when the
    observation window closes end at ``max_rounds``.
    """
    if any_true(b.status == SUSPENDED):
        back = (b.status == SUSPENDED) & (b.resume <= t)
        b.status[back] = RUNNING
    dv = st.derived
    # only a run whose principals' clocks have all run out, with no event to come, can stall
    ready = None
    if t + 1 >= dv.n_events:
        ready = (b.status == RUNNING) & (b.clock[:, dv.pidx] >= b.patience[:, dv.pidx]).all(axis=1)
        if not any_true(ready):
            ready = None
    if ready is not None:
        before = (b.pos.copy(), b.rv.copy(), b.phase.copy(), b.rs.copy())
    st.protocol.step(st, b, t)
    if ready is not None:
        stall(st, b, ready, *before)
    if t + 1 >= st.settings.max_rounds:
        going = (b.status == RUNNING) | (b.status == SUSPENDED)
        b.status = np.where(going, MAX_ROUNDS, b.status).astype(np.int8)


def stall(st: Static, b: Batch, ready: np.ndarray, pos0, rv0, phase0, rs0) -> None:
    """Count quiet rounds; ``stall_rounds`` in a row end a run in a stalemate.

    A round is quiet when the run is still in the same phase, no principal conceded, and
    no position, no no-deal value and no chance of reneging moved by more than
    ``stall_tol``: nobody will move further; and the text on the table comes no closer to
    what every principal accepts than the best text drafted since (the smallest margin of
    a principal's expected utility over its aspiration has not grown by more than
    ``stall_tol``). The text itself may still move in small steps around the best the
    mediators can find; if ``stall_rounds`` rounds in a row are quiet, no text within
    reach is acceptable to all, and the run ends in a stalemate. The refusing principals are kept in
    ``b.blockers`` (a bit per actor).
    """
    tol = st.settings.stall_tol
    pidx = st.derived.pidx
    quiet = ready & (b.status == RUNNING) & (b.phase == phase0)
    quiet &= (np.abs(b.frac[:, pidx] - b.frac_prev[:, pidx]) <= tol).all(axis=1)
    quiet &= (np.abs(b.pos - pos0) <= tol).all(axis=(1, 2))
    quiet &= (np.abs(b.rv - rv0) <= tol).all(axis=1)
    quiet &= (np.abs(b.rs - rs0) <= tol).all(axis=(1, 2))
    # ... and the mediators' drafts no longer come closer to what every principal accepts
    gap = (b.eu[:, pidx] - b.asp[:, pidx]).min(axis=1)
    quiet &= gap <= b.gap_best + tol
    b.gap_best = np.where(ready, np.maximum(b.gap_best, gap), b.gap_best)
    b.quiet = np.where(quiet, b.quiet + 1, 0)
    done = b.quiet >= st.settings.stall_rounds
    if any_true(done):
        rows = np.flatnonzero(done)
        found = st.protocol.last_try(st, b, rows)
        if found.any():  # an acceptable text is on the table: the next round agrees on it
            b.quiet[rows[found]] = 0
            done[rows[found]] = False
        refusing = ~b.accept & st.required_base
        bits = (refusing * (1 << np.arange(refusing.shape[1], dtype=np.int64))).sum(axis=1)
        b.blockers = np.where(done, bits, b.blockers)
        b.status[done] = STALEMATE


def run_batch(st: Static, b: Batch) -> dict[str, np.ndarray]:
    """Advance ``b`` until every run has ended, retiring finished runs as it goes.

    Runs are measured as they retire, except for the Nash bargaining solution: it is solved
    once at the end for every agreed run of the batch, so its many small steps run over the
    whole batch at once instead of once per retirement.
    """
    parts = []
    for t in range(st.settings.max_rounds):
        advance(st, b, t)
        done = (b.status != RUNNING) & (b.status != SUSPENDED)
        n_done = int(done.sum())
        if n_done and (n_done == len(b) or n_done >= RETIRE_FRACTION * len(b)):
            parts.append(measure(st, b.take(done), nbs=False))
            b = b.take(~done)
            if len(b) == 0:
                break
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.argsort(cols["index"], kind="stable")
    cols = {k: v[order] for k, v in cols.items()}
    problem = {k: cols.pop(k) for k in NBS_PROBLEM}
    cols["nbs_distance"] = nbs_distance(st, cols["final_text"], cols["status"] == AGREED, *problem.values())
    return cols


def simulate(
    st: Static,
    seeds,
    trust=None,
    credibility=None,
    pressure=None,
    chunk_size: int = 5000,
    progress: Callable[[int], None] | None = None,
    inputs: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Run one configuration for every seed (and per-run conditions), chunk by chunk.

    Args:
        seeds: ``[N]`` integer seeds; run k draws from ``default_rng(seeds[k])``.
        trust, credibility, pressure: None, a scalar or ``[N]`` per-run condition levels
            (NaN keeps the scenario's own value).
        progress: called with the number of runs finished after each chunk.
        inputs: per-run values of scenario inputs (``[N, ...]`` each; see
            :func:`sim.kernel.init_batch`).
    """
    seeds = np.asarray(seeds, dtype=np.int64)
    n = seeds.size

    def per_run(v):
        return None if v is None else np.broadcast_to(np.asarray(v, dtype=float), (n,))

    trust, credibility, pressure = per_run(trust), per_run(credibility), per_run(pressure)
    parts = []
    for s in range(0, n, chunk_size):
        sl = slice(s, min(s + chunk_size, n))
        b = init_batch(
            st,
            seeds[sl],
            None if trust is None else trust[sl],
            None if credibility is None else credibility[sl],
            None if pressure is None else pressure[sl],
            inputs=None if inputs is None else {k: v[sl] for k, v in inputs.items()},
        )
        cols = run_batch(st, b)
        cols["index"] = cols["index"] + s
        parts.append(cols)
        if progress is not None:
            progress(sl.stop - sl.start)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


NBS_PROBLEM = ("_nbs_pos", "_nbs_weight", "_nbs_rv0")  # what nbs_distance needs, per run


def nbs_distance(
    st: Static, x: np.ndarray, agreed: np.ndarray, pos: np.ndarray, w: np.ndarray, rv0: np.ndarray
) -> np.ndarray:
    """``[R]``: distance from each agreed text to the Nash bargaining solution (NaN if not agreed).

    Args:
        pos, w, rv0: the principals' stated positions and weights ``[R, P, I]`` and
            reservation values ``[R, P]``.
    """
    out = np.full(x.shape[0], np.nan)
    rows = np.flatnonzero(agreed)
    if rows.size == 0:
        return out
    sc = st.sc
    pos, w, rv0 = pos[rows], w[rows], rv0[rows]
    # The bargaining solution depends only on the principals' stated preferences, which
    # a run draws from its seed: in a sweep job every condition reuses the same seeds,
    # so solve once per distinct problem (exactly the same numbers, far fewer of them).
    # Most problems settle within 100 steps of the ascent and leave the loop; near
    # conditional red lines the product is not concave and the climb is slow: up to 400
    # steps leave about 0.6% of default-scenario problems short of the optimum by more
    # than 1e-3 in the text (150 steps would leave 2.7%).
    # (Each problem is solved on its own, so deduplicating changes no number; for a few
    # runs it costs more than it saves.)
    sub = np.ones(pos.shape[1], bool)
    if rows.size >= DEDUPLICATE_FROM:
        key = np.concatenate([pos.reshape(rows.size, -1), w.reshape(rows.size, -1), rv0], axis=1)
        _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
        nbs = nash_solution(
            pos[first], w[first], rv0[first], sub, sc.utility, st.derived.principal_red_lines, iterations=400
        )[inverse.ravel()]
    else:
        nbs = nash_solution(pos, w, rv0, sub, sc.utility, st.derived.principal_red_lines, iterations=400)
    out[rows] = np.sqrt(((x[rows] - nbs) ** 2).sum(axis=-1))
    return out


def measure(st: Static, b: Batch, nbs: bool = True) -> dict[str, np.ndarray]:
    """Outcome columns for finished runs (utilities at each actor's stated positions).

    Args:
        nbs: compute ``nbs_distance``; else return the problem it needs (the columns in
            ``NBS_PROBLEM``) for :func:`nbs_distance` to solve later, with other runs.
    """
    sc = st.sc
    x = final_text(st, b)
    agreed = b.status == AGREED
    u = plain_utility(x, b.pos0, b.weight, sc.utility, st.red_lines)
    everything = np.ones(x.shape, bool)
    eu = evaluate(
        x,
        everything,
        b.pos0,
        b.weight,
        sc.status_quo,
        renege_scale(st, b),
        sc.guarantee_issue,
        sc.guarantee_strong_end,
        st.red_lines,
        sc.utility,
        with_grad=False,
    ).eu
    pr = sc.principal
    pidx = st.derived.pidx
    surplus0 = u[:, pr] - b.rv0[:, pr]
    nash_product = np.where(agreed, np.prod(np.maximum(surplus0, 0.0), axis=-1), 0.0)
    pareto = np.zeros(len(b), bool)
    rows = np.flatnonzero(agreed)
    pos, w, rv0 = b.pos0[:, pidx], b.weight[:, pidx], b.rv0[:, pidx]
    if rows.size:
        sub = np.ones(pidx.size, bool)
        pareto[rows] = pareto_efficient(x[rows], pos[rows], w[rows], sub, sc.utility, st.derived.principal_red_lines)
    # the issue that blocked: the open issue on which the refusing actors lose most
    op = open_mask(st, b)
    v, _ = issue_values(b.x, b.pos, sc.utility)
    refusing = ~b.accept & st.required_base
    loss = (refusing[..., None] * b.weight * (1.0 - v)).sum(axis=-2)
    blocking = np.where(agreed | ~op.any(axis=-1), -1, np.where(op, loss, -np.inf).argmax(axis=-1))
    cols = {
        "index": b.index,
        "seed": b.seed,
        "status": b.status.astype(np.int8),
        "rounds": b.rounds,
        "phases_agreed": b.phases_agreed,
        "terms": np.where(b.locked, b.x, np.nan),
        "final_text": x,
        "utility": u,
        "expected_utility": eu,
        "reservation_value": b.rv,
        "reservation_value_0": b.rv0,
        "conceded": 1.0 - u,
        "nash_product": nash_product,
        "position_drawn": b.pos0,
        "weight_drawn": b.weight,
        "baseline_mean": weighted_mean(b.pos0, sc.capability[:, None] * b.sal),
        "baseline_median": weighted_median(b.pos0, sc.capability[:, None] * b.sal),
        "pareto_efficient": pareto,
        "blocking_issue": blocking,
        "walker": b.walker,
        "blockers": b.blockers,
        "trust": (b.trust * st.principal_pairs).sum(axis=(-1, -2)) / max(st.principal_pairs.sum(), 1),
        "credibility": np.where(sc.guarantor, b.cred, 0.0).max(axis=-1) if sc.guarantor.any() else np.zeros(len(b)),
        "pressure": b.pressure,
    }
    if nbs:
        cols["nbs_distance"] = nbs_distance(st, x, agreed, pos, w, rv0)
    else:
        cols.update(zip(NBS_PROBLEM, (pos, w, rv0), strict=True))
    return cols
