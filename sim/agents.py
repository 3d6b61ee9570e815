"""The actors as Mesa agents: how each one judges a text, and how it concedes.

An actor judges a text in three steps, all of them in the kernel so that every protocol,
the round log and the classroom apply the same rule:

1. **Its value of the text** (:func:`sim.utility.evaluate`): the salience-weighted
   closeness of the text to its position on the open issues, in [0, 1]. With the
   *commitment problem*, the chance that the other side reneges (lower with strong
   guarantees, credible guarantors and trust) makes it an *expected* utility: what the
   actor gave stays given, what it got may be taken back. A soft red line crossed costs
   utility; a hard one vetoes the text whatever it offers.
2. **Its aspiration** (:func:`sim.kernel.aspiration`): its value of no deal plus the share
   of the way to the best it could get in the phase that it still insists on. That share
   starts at 1; the actor's **strategy** lowers it on its own clock (rounds of talks in
   the phase, against its patience): a Boulware holds out and gives way late, a conceder
   gives way early, a reciprocal actor mirrors the others.
3. **Its verdict** (:func:`sim.kernel.judge`): it accepts if the expected utility meets
   both its aspiration and its value of no deal, and no hard red line is crossed. When
   it refuses, :func:`sim.reasons.refusal` says why in the scenario's words.

An agent holds no private copy of its state: ``position``, ``aspiration`` and the rest read
the model's one-run batch, so what a student inspects, what the dashboard draws and what
the DataCollector records are exactly what the kernel computed. Agents sit on the cells
of a Mesa ``Network`` space built from the scenario's channels.

    >>> from sim.model import NegotiationModel
    >>> m = NegotiationModel(rng=1); m.step()
    >>> hamas = m.agent("Hamas")
    >>> hamas.evaluate()            # the text on the table, as Hamas sees it
    >>> hamas.would_accept()        # (False, "wants ... moved toward '...': expected utility ...")
    >>> print(hamas.explain())      # how it concedes, on its own clock
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mesa.discrete_space import CellAgent

from sim.kernel import RUNNING, aspiration, evaluate_batch, judge, open_mask
from sim.reasons import red_line_words, red_lines_crossed, refusal


@dataclass(frozen=True)
class Judgement:
    """How one actor values one text (over the issues open in the current phase)."""

    utility: float  # the text's value if the deal is kept
    expected_utility: float  # ... with the chance that the other side reneges
    value_of_no_deal: float  # its reservation value now
    aspiration: float  # what it insists on now
    red_lines: tuple[str, ...]  # the red lines the text crosses, in words
    vetoed: bool  # a hard red line is crossed


class NegotiatorAgent(CellAgent):
    """One actor of the scenario (a principal, mediator and/or guarantor)."""

    def __init__(self, model, index: int) -> None:
        super().__init__(model)
        self.index = index

    # -- how it judges a text ----------------------------------------------------------
    def _text(self, text) -> np.ndarray:
        """A full text ``[1, I]``: the one on the table, with the given issues replaced."""
        x = self.model.batch.x.copy()
        if text is None:
            return x
        sc = self.model.static.sc
        if isinstance(text, dict):
            for iss, v in text.items():
                x[0, sc.issues.index(iss)] = float(v)
            return x
        return np.asarray(text, float).reshape(1, -1)

    def evaluate(self, text: dict[str, float] | np.ndarray | None = None) -> Judgement:
        """How this actor values ``text`` (default: the text on the table; a dict changes only
        the issues it names), by the kernel's own evaluation."""
        st, b = self.model.static, self.model.batch
        x = self._text(text)
        op = open_mask(st, b)
        ev = evaluate_batch(st, b, op, x=x, with_grad=False)
        a = self.index
        asp = aspiration(b.rv, b.frac, ev.umax)
        lines = [red_line_words(st.sc, st, k, x[0]) for k, _hard in red_lines_crossed(st, a, op[0], x[0])]
        return Judgement(
            utility=float(ev.u[0, a]),
            expected_utility=float(ev.eu[0, a]),
            value_of_no_deal=float(b.rv[0, a]),
            aspiration=float(asp[0, a]),
            red_lines=tuple(lines),
            vetoed=bool(ev.hard[0, a]),
        )

    def would_accept(self, text: dict[str, float] | np.ndarray | None = None) -> tuple[bool, str]:
        """Whether this actor would accept ``text`` now, and why not (the reason is empty if it would)."""
        st, b = self.model.static, self.model.batch
        x = self._text(text)
        op = open_mask(st, b)
        ev = evaluate_batch(st, b, op, x=x, with_grad=False)
        asp = aspiration(b.rv, b.frac, ev.umax)
        mine = np.zeros(b.rv.shape, bool)
        mine[0, self.index] = True
        ok, _, _ = judge(
            eu=ev.eu, rv=b.rv, asp=asp, umax=ev.umax, hard=ev.hard, required=mine, running=b.status == RUNNING
        )
        a = self.index
        if ok[0, a]:
            return True, ""
        return False, refusal(
            st,
            a,
            text=x[0],
            op=op[0],
            eu=float(ev.eu[0, a]),
            asp=float(asp[0, a]),
            rv=float(b.rv[0, a]),
            pos=b.pos[0, a],
            weight=b.weight[0, a],
        )

    # -- how it concedes ---------------------------------------------------------------
    @property
    def strategy(self) -> str:
        """The name of its concession strategy (``scenario.actors.<name>.strategy``)."""
        return self.model.static.sc.strategy[self.index]

    @property
    def clock(self) -> int:
        """Rounds of talks in the current phase on its own clock."""
        return int(self.model.batch.clock[0, self.index])

    @property
    def patience(self) -> int:
        """Rounds over which it concedes in a phase: by then it insists on no more than its value of no deal."""
        return int(self.model.batch.patience[0, self.index])

    @property
    def demand(self) -> float:
        """The share of the way from its value of no deal to its best that it still insists on (1 at the start)."""
        return float(self.model.batch.frac[0, self.index])

    def explain(self) -> str:
        """How this actor judges and concedes, now, in a paragraph."""
        sc = self.model.static.sc
        params = ", ".join(f"{k} {v:g}" for k, v in sc.strategy_params[self.index].items())
        j = self.evaluate()
        ok, why = self.would_accept()
        lines = [
            f"{self.label} ({', '.join(self.roles)}) concedes by the {self.strategy} strategy"
            + (f" ({params})" if params else "")
            + f": round {self.clock} of its patience of {self.patience}"
            f" in this phase, it still insists on {self.demand:.0%} of the way from its value of no deal"
            f" ({j.value_of_no_deal:.2f}) to its best, an aspiration of {j.aspiration:.2f}.",
            f"The text on the table is worth {j.utility:.2f} to it if kept, {j.expected_utility:.2f} expected"
            " (the other side may renege)" + (f"; {'; '.join(j.red_lines)}" if j.red_lines else "") + ".",
            "It would accept it." if ok else f"It would refuse it: {why}.",
        ]
        return "\n".join(lines)

    # -- identity ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The actor's key in the scenario."""
        return self.model.static.sc.actors[self.index]

    @property
    def label(self) -> str:
        """The actor's display name."""
        return self.model.static.sc.labels[self.index]

    @property
    def roles(self) -> list[str]:
        """Its roles: principal, mediator and/or guarantor."""
        sc = self.model.static.sc
        return [
            r
            for r, m in (("principal", sc.principal), ("mediator", sc.mediator), ("guarantor", sc.guarantor))
            if m[self.index]
        ]

    @property
    def is_principal(self) -> bool:
        """Whether the agreement needs its acceptance."""
        return bool(self.model.static.sc.principal[self.index])

    # -- state (views of the batch row) ------------------------------------------------
    @property
    def position(self) -> np.ndarray:
        """Current ideal point on every issue (moves with influence)."""
        return self.model.batch.pos[0, self.index]

    @property
    def initial_position(self) -> np.ndarray:
        """Its ideal point at the start of the run."""
        return self.model.batch.pos0[0, self.index]

    @property
    def salience(self) -> np.ndarray:
        """Normalised weight on every issue (sums to one)."""
        return self.model.batch.weight[0, self.index]

    @property
    def reservation_value(self) -> float:
        """Its value of no deal now (it moves with time, pressure and events)."""
        return float(self.model.batch.rv[0, self.index])

    @property
    def aspiration(self) -> float:
        """What it insisted on in the last round (see :func:`sim.kernel.aspiration`)."""
        return float(self.model.batch.asp[0, self.index])

    @property
    def expected_utility(self) -> float:
        """Expected utility of the current text over the open issues."""
        return float(self.model.batch.eu[0, self.index])

    @property
    def accepts(self) -> bool:
        """Whether it accepted the text in the last round."""
        return bool(self.model.batch.accept[0, self.index])

    @property
    def trust(self) -> np.ndarray:
        """Trust in every other actor (a copy: trust changes through the kernel's steps)."""
        return self.model.batch.trust[0, self.index].copy()

    def step(self) -> None:
        """Agents act through the kernel (see NegotiationModel.step): one batched round for all."""

    def __repr__(self) -> str:
        return f"NegotiatorAgent({self.name}, roles={self.roles})"
