"""Monotonic concession: every principal proposes a deal each round, and may only give ground.

The deal set is discrete: each open issue takes ``protocol.params.grid`` evenly spaced
values within the phase's bounds, and a deal is one value per open issue. In every
round each principal proposes a deal: the one best for the others among those that
still give it its aspiration. A proposal may never be worse for the others than the
same principal's last one; when its strategy lowers its aspiration, the principal
must make a real concession, at least the smallest step that leaves the others better
off (the deal best for itself among those). A principal accepts another's proposal if it
is worth at least as much to it as its own; if some proposal is accepted by every other
required actor, it is agreed (if several, a fair draw from the run's stream picks one).
If nobody concedes in a round, the talks end in a stalemate (status ``stalemate``); a
principal for whom no deal beats its reservation value walks out (``walkout``).
Rosenschein & Zlotkin (1994), "Rules of Encounter", ch. 4.

With Zeuthen's strategy (``zeuthen``: the principal with the least to lose from conflict
concedes) and small steps, the talks end at the deal of the set with the largest
product of surpluses over the reservation values (Zeuthen 1930; Harsanyi 1956). The
strategy is told, as its expected utility, the best another principal's proposal offers
it, and as its aspiration the value of its own proposal: the two numbers of Zeuthen's
risk.
"""

from __future__ import annotations

import numpy as np

from sim.kernel import (
    AGREED,
    RUNNING,
    STALEMATE,
    WALKOUT,
    Batch,
    Static,
    aspiration,
    between_rounds,
    concede,
    evaluate_batch,
    open_mask,
    renege_scale,
    required,
    settle,
)
from sim.protocols.base import Protocol, register
from sim.utility import evaluate

TOL = 1e-9
MAX_DEALS = 20_000
BLOCK_FLOATS = 2_000_000  # evaluate deals for this many (run, deal, actor, issue) cells at a time


def grid_size(st: Static) -> int:
    """Values per open issue in the deal set (``protocol.params.grid``, default 5)."""
    return int(st.settings.params.get("grid", 5))


def deal_digits(g: int, n_issues: int) -> np.ndarray:
    """``[D, I]``: every combination of ``g`` grid steps over ``n_issues`` issues."""
    return np.indices((g,) * n_issues).reshape(n_issues, -1).T


def deals_of(st: Static, b: Batch, op: np.ndarray) -> np.ndarray:
    """``[R, D, I]``: the deal set of each run (closed issues keep their value)."""
    g = grid_size(st)
    frac = deal_digits(g, st.n_issues) / max(g - 1, 1)  # [D, I]
    vals = b.lo[:, None, :] + frac[None] * (b.hi - b.lo)[:, None, :]
    return np.where(op[:, None, :], vals, b.x[:, None, :])


def deal_utilities(st: Static, b: Batch, deals: np.ndarray, op: np.ndarray):
    """Expected utility ``[R, D, A]`` of every deal, and hard vetoes ``[R, D, A]``."""
    sc = st.sc
    r, d = deals.shape[:2]
    eu = np.empty((r, d, sc.n_actors))
    hard = np.empty((r, d, sc.n_actors), bool)
    rs = renege_scale(st, b)
    block = max(1, BLOCK_FLOATS // max(d * sc.n_actors * sc.n_issues, 1))
    for s in range(0, r, block):  # blocks of runs, to bound memory; each block is vectorised
        sl = slice(s, s + block)
        ev = evaluate(
            deals[sl],
            op[sl, None, :],
            b.pos[sl, None],
            b.weight[sl, None],
            sc.status_quo,
            rs[sl, None],
            sc.guarantee_issue,
            sc.guarantee_strong_end,
            st.red_lines,
            sc.utility,
            with_grad=False,
        )
        eu[sl], hard[sl] = ev.eu, ev.hard
    return eu, hard


@register
class MonotonicConcession(Protocol):
    """Simultaneous proposals on a discrete deal set; concessions only; stand-still is conflict."""

    name = "monotonic_concession"
    classifier = {
        "parties": "two or more",
        "mediated": False,
        "texts": "one proposal per principal",
        "literature": "Zeuthen 1930; Harsanyi 1956; Rosenschein & Zlotkin 1994",
    }

    @classmethod
    def check(cls, st: Static) -> str | None:
        """Two principals or more, and a deal set of at most ``MAX_DEALS`` deals."""
        if st.sc.principal.sum() < 2:
            return "monotonic concession needs at least two principals"
        g = st.settings.params.get("grid", 5)
        if isinstance(g, bool) or not isinstance(g, int) or g < 2:
            return f"protocol.params.grid must be an integer >= 2 (values per issue), got {g!r}"
        if g**st.n_issues > MAX_DEALS:
            return (
                f"the deal set has {g}^{st.n_issues} = {g**st.n_issues} deals, more than {MAX_DEALS}: "
                "lower protocol.params.grid"
            )
        return None

    @classmethod
    def init(cls, st: Static, b: Batch) -> None:
        """Each principal's last proposal (an index into the deal set; -1 before the first)."""
        b.add("proposal", np.full(b.frac.shape, -1, dtype=np.int64))

    @classmethod
    def step(cls, st: Static, b: Batch, t: int) -> None:
        """One round: every principal proposes (conceding if its strategy says so); a proposal
        every other required actor accepts is agreed."""
        sc = st.sc
        running = b.status == RUNNING
        fresh = b.fresh.copy()
        pr = sc.principal
        old_frac = b.frac.copy()
        concede(st, b, t, running, np.broadcast_to(pr, b.frac.shape))
        b.frac = np.where(fresh[:, None], old_frac, b.frac)  # nothing to concede from yet
        conceded = (b.frac < old_frac - 1e-15) & pr

        op = open_mask(st, b)
        deals = deals_of(st, b, op)
        util, hard = deal_utilities(st, b, deals, op)  # [R, D, A]
        umax = np.where(hard, -np.inf, util).max(axis=1)  # [R, A]
        asp = aspiration(b.rv, b.frac, umax)
        n_p = pr.sum()
        # the others' pooled utility of each deal, from each principal's point of view
        tot = (util * pr).sum(axis=-1, keepdims=True)  # [R, D, 1]
        others = (tot - util * pr) / max(n_p - 1, 1)  # [R, D, A]
        scale = 1e-9  # tie-break toward the proposer's own utility
        prev = b.proposal
        has_prev = prev >= 0
        prev_c = np.maximum(prev, 0)
        others_prev = np.take_along_axis(others, prev_c[:, None, :], axis=1)[:, 0]  # [R, A]
        ok_own = ~hard & (util >= asp[:, None, :] - TOL)
        cand = np.where(ok_own, others + scale * util, -np.inf).argmax(axis=1)  # [R, A]
        cand_others = np.take_along_axis(others, cand[:, None, :], axis=1)[:, 0]
        better = others > others_prev[:, None, :] + TOL
        minimal = np.where(better & ~hard & (util >= b.rv[:, None, :] - TOL), util + scale * others, -np.inf)
        can_concede = np.isfinite(minimal.max(axis=1))
        minimal = minimal.argmax(axis=1)
        new = np.where(
            ~has_prev,
            cand,
            np.where(cand_others > others_prev + TOL, cand, np.where(conceded & can_concede, minimal, prev_c)),
        )
        new = np.where(pr & running[:, None], new, np.where(has_prev, prev, -1))
        changed = (new != prev) & pr
        b.proposal = new
        newc = np.maximum(new, 0)
        own_u = np.take_along_axis(util, newc[:, None, :], axis=1)[:, 0]  # [R, A]: value of own proposal
        span = np.maximum(umax - b.rv, 1e-12)
        b.frac = np.where(pr & running[:, None], np.clip((own_u - b.rv) / span, 0.0, 1.0), b.frac)

        # who accepts whose proposal: U_i(P_j) >= U_i(P_i) for principals, aspiration for others
        Up = np.take_along_axis(util, np.where(pr, newc, 0)[:, :, None], axis=1)  # [R, A(proposer), A]
        hard_p = np.take_along_axis(hard, np.where(pr, newc, 0)[:, :, None], axis=1)
        req = required(st, b)
        floor = np.where(pr, own_u, asp)  # [R, A]
        acc = (Up >= floor[:, None, :] - TOL) & (Up >= b.rv[:, None, :] - TOL) & ~hard_p
        # (a principal's own proposal passes its own test unless below its reservation value)
        agreeable = (acc | ~req[:, None, :]).all(axis=-1) & pr  # [R, A(proposer)]
        n_ok = agreeable.sum(axis=-1)
        u = b.uniforms[:, min(t, b.uniforms.shape[1] - 1), 1]
        pick = np.minimum((u * n_ok).astype(np.int64), np.maximum(n_ok - 1, 0))
        chosen = (np.cumsum(agreeable, axis=-1) - 1 == pick[:, None]) & agreeable
        winner = chosen.argmax(axis=-1)
        agreed = running & (n_ok > 0)
        first = np.flatnonzero(pr)[0]
        shown = np.where(agreed, winner, first)
        text = np.take_along_axis(deals, newc[np.arange(len(b)), shown][:, None, None], axis=1)[:, 0]
        b.x = np.where(running[:, None], text, b.x)

        stuck = running & ~agreed & ~fresh & ~changed.any(axis=-1)
        hopeless = req & (umax < b.rv)
        walk = running & ~agreed & (stuck | hopeless.any(axis=-1))
        others_best = np.where(pr[None, :, None] & ~np.eye(sc.n_actors, dtype=bool)[None], Up, -np.inf).max(axis=1)
        ev = evaluate_batch(st, b, op, with_grad=False)
        eu = np.where(pr, others_best, ev.eu)
        rv = running[:, None]
        b.eu, b.asp = np.where(rv, eu, b.eu), np.where(rv, floor, b.asp)
        b.umax = np.where(rv, umax, b.umax)
        b.accept = np.where(rv, acc[np.arange(len(b)), shown], b.accept)
        gone = walk & hopeless.any(axis=-1)
        b.walker = np.where(gone, hopeless.argmax(axis=-1), b.walker)
        b.status = np.where(gone, WALKOUT, np.where(walk, STALEMATE, b.status)).astype(np.int8)
        refusing = ~b.accept & req & pr
        bits = (refusing * (1 << np.arange(sc.n_actors, dtype=np.int64))).sum(axis=1)
        b.blockers = np.where(walk & ~gone, bits, b.blockers)
        b.rounds = np.where(running, t + 1, b.rounds)
        b.fresh = np.where(running, False, b.fresh)
        settle(st, b, agreed, t + 1)
        nxt = agreed & (b.status != AGREED)  # a new phase opened: fresh proposals
        b.proposal = np.where(nxt[:, None], -1, b.proposal)
        between_rounds(st, b, t)
