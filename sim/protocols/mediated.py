"""The mediated single negotiating text (the default protocol).

Each round the mediators hold one text. Every principal (and every guarantor whose
clause is open) accepts if its expected utility of the text meets its aspiration and
no hard red line is crossed; if all accept, the phase is agreed, locked and
implemented. Otherwise the mediators revise the text toward the point that maximises
the product of the principals' surpluses over their reservation values (the Nash
bargaining solution), pulled toward their own positions by their bias, and everyone
concedes, influences and is pressed for another round. Roger Fisher's "single
negotiating text" (Fisher & Ury, 1981; Raiffa, 1982, ch. 14), with the Nash (1950)
product as the mediator's objective.

The text is revised by a few sign-based steps per round (Rprop, Riedmiller & Braun
1993): cheap, scale-free, and exact at the kinks of linear utilities, where the
bargaining solution of a logroll lies.
"""

from __future__ import annotations

import numpy as np

from sim.compiled import rprop_draft
from sim.kernel import (
    RUNNING,
    Batch,
    Static,
    all_true,
    any_true,
    aspiration,
    evaluate_batch,
    evolve,
    judge,
    open_mask,
    record_verdicts,
    required,
    settle,
)
from sim.protocols.base import Protocol, register
from sim.protocols.rules import RULES

GROW, SHRINK, STEP_MIN = 1.2, 0.5, 1e-4
LAST_TRY_STEPS = 200  # drafting steps of the mediators' last search before a stalemate
LAST_TRY_PATIENCE = 25  # ... which stops for a run once 25 steps in a row came no closer to acceptance


def draft(st: Static, b: Batch, direction: np.ndarray, rows: np.ndarray, op: np.ndarray) -> None:
    """One Rprop step of the text of ``rows`` along ``direction`` on the open issues (in place)."""
    rprop_draft(b.x, b.lo, b.hi, b.step, b.gsign, direction, rows, op, GROW, SHRINK, STEP_MIN, st.settings.step_max)


@register
class Mediated(Protocol):
    """Mediated single negotiating text with a Nash-product drafting rule."""

    name = "mediated"
    classifier = {"parties": "many", "mediated": True, "texts": "single"}

    @classmethod
    def check(cls, st: Static) -> str | None:
        """The mediated protocol needs a mediator and a known drafting rule."""
        if not st.sc.mediator.any():
            return "the mediated protocol needs at least one actor with the role 'mediator'"
        if st.settings.rule not in RULES:
            return f"protocol.rule must be one of {sorted(RULES)}"
        return None

    @classmethod
    def last_try(cls, st: Static, b: Batch, rows: np.ndarray) -> np.ndarray:
        """Before a stalemate: search on for a text every principal accepts, with everyone's
        demands as they now stand, and leave it on the table if there is one.

        The round-by-round draft follows demands that move; once nobody moves, a stalemate
        should not depend on how far that draft got. Up to ``LAST_TRY_STEPS`` drafting
        steps of the rule, stopping for each run at the first acceptable text or once
        ``LAST_TRY_PATIENCE`` steps in a row have not brought the least satisfied principal
        closer to its aspiration (by more than ``stall_tol``).

        Returns:
            ``[len(rows)]`` bool: whose search found an acceptable text.
        """
        sub = b.take(rows)
        op = open_mask(st, sub)
        rule = RULES[st.settings.rule]
        req = required(st, sub)
        pidx = st.derived.pidx
        searching = np.ones(rows.size, bool)
        found = np.zeros(rows.size, bool)
        best = np.full(rows.size, -np.inf)
        since = np.zeros(rows.size, np.int64)
        for _ in range(LAST_TRY_STEPS):
            ev = evaluate_batch(st, sub, op)
            asp = aspiration(sub.rv, sub.frac, ev.umax)
            ok, agreed, _ = judge(
                eu=ev.eu,
                rv=sub.rv,
                asp=asp,
                umax=ev.umax,
                hard=ev.hard,
                override=sub.override,
                required=req,
                running=searching,
            )
            found |= agreed
            searching &= ~agreed
            # a search that has not come closer to acceptance for a while has settled: stop it
            gap = (ev.eu[:, pidx] - asp[:, pidx]).min(axis=1)
            better = gap > best + st.settings.stall_tol
            best = np.where(better, gap, best)
            since = np.where(better, 0, since + 1)
            searching &= since < LAST_TRY_PATIENCE
            if not any_true(searching):
                break
            draft(st, sub, rule(st, sub, ev, req), searching, op)
        b.x[rows], b.step[rows], b.gsign[rows] = sub.x, sub.step, sub.gsign
        return found

    @classmethod
    def step(cls, st: Static, b: Batch, t: int) -> None:
        """One round: the required actors judge the text; if all accept, the phase is agreed;
        otherwise the text is redrafted and everyone concedes."""
        running = b.status == RUNNING
        all_running = all_true(running)
        op = open_mask(st, b)
        ev = evaluate_batch(st, b, op)
        umax = ev.umax  # the top of each actor's range this phase
        req = required(st, b)
        asp = aspiration(b.rv, b.frac, umax)
        ok, agreed, walker = judge(
            eu=ev.eu, rv=b.rv, asp=asp, umax=umax, hard=ev.hard, override=b.override, required=req, running=running
        )
        any_walk = record_verdicts(b, t, running, all_running, ev.eu, asp, umax, ok, walker)
        was_fresh = b.fresh.copy()
        any_agreed = any_true(agreed)
        if any_agreed:
            settle(st, b, agreed, t)
        going = ~was_fresh
        if any_agreed or not all_running or any_walk:
            going &= (b.status == RUNNING) & ~agreed
        rule = RULES[st.settings.rule]
        direction = rule(st, b, ev, req)
        for k in range(st.settings.steps_per_round):
            if k:
                ev = evaluate_batch(st, b, op)
                direction = rule(st, b, ev, req)
            draft(st, b, direction, going, op)
        if any_true(was_fresh):
            b.fresh = b.fresh & ~was_fresh
        evolve(st, b, t)
