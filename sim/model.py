"""One negotiation as a Mesa model, stepping the same kernel a sweep job runs.

``NegotiationModel`` is what a student steps through round by round and what the
dashboard draws: agents on a network of channels, a current text, a line of what
happened each round, and (when asked) a DataCollector trajectory. The round logic is
the array kernel run on a batch of one, so a seed gives the same result here as in a
sweep of 100,000 runs. The model's ``rng`` is the run's own stream: its random numbers
are drawn from ``model.rng`` in the same order the batch draws them from
``default_rng(seed)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import mesa
import numpy as np
from mesa.discrete_space import Network

from sim.agents import NegotiatorAgent
from sim.api import build, load_config
from sim.batch import advance, measure
from sim.kernel import AGREED, ENDED, SUSPENDED, Static, draw_run, init_batch, open_mask
from sim.reasons import compare, red_line_crossed, refusal
from sim.results import breakdown_reason, run_record, table_columns


class _Round(NamedTuple):
    """What the narration of one round needs, kept so the line is written only when read."""

    round: int
    phase: int  # phase the round was in
    op: np.ndarray  # [I] open issues of that phase
    text: np.ndarray  # [I] the text proposed
    accept: np.ndarray  # [A]
    eu: np.ndarray  # [A]
    asp: np.ndarray  # [A]
    pos: np.ndarray  # [A, I] positions as the round judged the text
    status: int
    phase_after: int
    walker: int
    rv: np.ndarray | None = None  # [A] no-deal values as the round judged the text
    late: np.ndarray | None = None  # [A] bool: the actor's clock has reached its patience (its deadline)
    human: np.ndarray | None = None  # [A] bool: a seated player decided for the actor
    prev: Any = None  # the round before in the same phase (its _Round, without its own prev), or None


class RoundLog(Sequence):
    """The model's narration, one line per round, written the first time it is read.

    Building a sentence per round costs more than the round itself, so the model keeps
    the few numbers each line needs and formats them on access. Reads like a list of
    strings; ``append`` also takes a plain string.
    """

    def __init__(self, fmt: Callable[[Any], str]) -> None:
        self._items: list = []
        self._fmt = fmt

    def append(self, item: Any) -> None:
        """Keep one round (formatted when read) or a ready line."""
        self._items.append(item)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        item = self._items[i]
        if not isinstance(item, str):
            item = self._fmt(item)
            self._items[i] = item
        return item

    def __eq__(self, other: object) -> bool:
        return list(self) == (list(other) if isinstance(other, Sequence) else other)

    def __repr__(self) -> str:
        return repr(list(self))


@lru_cache(maxsize=32)
def _static(scenario: str, agenda: str, protocol: str, overrides: tuple[str, ...]) -> Static:
    cfg = load_config([f"scenario={scenario}", f"agenda={agenda}", f"protocol={protocol}", *overrides])
    return build(cfg)


class NegotiationModel(mesa.Model):
    """A mediated negotiation between the actors of a scenario.

    Args:
        scenario, agenda, protocol: config names under ``conf/``.
        overrides: more ``key=value`` config overrides.
        rng: the run's seed (an int; None draws one and records it). ``seed`` is an alias.
        trust, credibility, pressure: condition levels (None keeps the scenario's).
        trajectories: record a DataCollector trajectory each round.
        static: an already compiled configuration (skips composing ``conf/``).
    """

    def __init__(
        self,
        scenario: str = "sharm_el_sheikh_2025",
        agenda: str = "comprehensive",
        protocol: str = "mediated",
        overrides: tuple[str, ...] | list[str] = (),
        rng: int | None = None,
        seed: int | None = None,
        trust: float | None = None,
        credibility: float | None = None,
        pressure: float | None = None,
        trajectories: bool = False,
        static: Static | None = None,
    ) -> None:
        run_seed = rng if rng is not None else seed
        if run_seed is None:
            run_seed = int(np.random.SeedSequence().entropy % (2**63))
        super().__init__(rng=int(run_seed))
        self.seed = int(run_seed)
        self.static = static if static is not None else _static(scenario, agenda, protocol, tuple(overrides))
        st = self.static
        sc = st.sc
        draws = draw_run(self.rng, sc.n_actors, sc.n_issues, st.settings.max_rounds)
        self.batch = init_batch(st, np.array([self.seed]), trust, credibility, pressure, draws=[draws])
        self.conditions = (trust, credibility, pressure)
        self.round = 0
        self.log = RoundLog(self._describe)
        self._last_round: _Round | None = None
        self.space = Network(sc.graph(), random=self.random)
        cells = {c.coordinate: c for c in self.space.all_cells}
        self.negotiators: list[NegotiatorAgent] = []
        for a, name in enumerate(sc.actors):
            agent = NegotiatorAgent(self, a)
            agent.cell = cells[name]
            self.negotiators.append(agent)
        self.datacollector = self._collector() if trajectories else None
        if self.datacollector is not None:
            self.datacollector.collect(self)
        self._final: dict | None = None

    # -- views -----------------------------------------------------------------------
    @property
    def text(self) -> np.ndarray:
        """The current text: every issue's value (locked, drafted, or status quo)."""
        return self.batch.x[0]

    @property
    def open_issues(self) -> list[str]:
        """The issues open in the current phase."""
        sc = self.static.sc
        return [sc.issues[i] for i in np.flatnonzero(open_mask(self.static, self.batch)[0])]

    @property
    def phase(self) -> int:
        """The current phase (0-based)."""
        return int(self.batch.phase[0])

    @property
    def status(self) -> str:
        """``running``, ``agreement``, ``stalemate``, ... (see :data:`sim.kernel.STATUS`)."""
        from sim.kernel import STATUS

        return STATUS[int(self.batch.status[0])]

    def agent(self, name: str) -> NegotiatorAgent:
        """The agent of actor ``name``."""
        return self.negotiators[self.static.sc.actors.index(name)]

    # -- stepping ----------------------------------------------------------------------
    def step(self) -> None:
        """One round of the protocol; stops the model when the talks end."""
        if not self.running:
            return
        st, b = self.static, self.batch
        phase, op = int(b.phase[0]), open_mask(st, b)[0].copy()
        text = b.x[0].copy()
        pos, rv = b.pos[0].copy(), b.rv[0].copy()  # as the actors judge the text (influence moves them after)
        advance(st, b, self.round)
        self.round += 1
        last = self._last_round
        rec = _Round(
            self.round,
            phase,
            op,
            text,
            b.accept[0].copy(),
            b.eu[0].copy(),
            b.asp[0].copy(),
            pos,
            int(b.status[0]),
            int(b.phase[0]),
            int(b.walker[0]),
            rv,
            b.clock[0] >= b.patience[0],
            b.override[0] >= 0,
            last._replace(prev=None) if last is not None and last.phase == phase else None,
        )
        self._last_round = rec
        self.log.append(rec)
        if self.datacollector is not None:
            self.datacollector.collect(self)
        if b.status[0] in ENDED:
            self.running = False

    def run(self) -> dict:
        """Step until the talks end; return the result record."""
        while self.running:
            self.step()
        return self.result()

    def result(self) -> dict:
        """The run's record (the same fields as ``result.json``)."""
        if self._final is None:
            cols = measure(self.static, self.batch)
            trust, cred, press = self.conditions
            data = table_columns(
                self.static,
                cols,
                None if trust is None else [trust],
                None if cred is None else [cred],
                None if press is None else [press],
            )
            row = {k: (v[0] if np.ndim(v) else v) for k, v in data.items()}  # one run: no DataFrame needed
            self._final = run_record(self.static, row, "")
        return self._final

    # -- narration ---------------------------------------------------------------------
    def _describe(self, r: _Round) -> str:
        st = self.static
        sc = st.sc
        phase, op, text = r.phase, r.op, r.text
        fm = st.ag.first_mover[phase]
        who = (
            "The mediators" if fm < 0 and r.round > 1 else ("The mediators" if fm < 0 else f"{sc.actors[fm]}'s opening")
        )
        terms = ", ".join(f"{sc.issues[i]} {text[i]:.2f}" for i in np.flatnonzero(op))
        parts = [f"Round {r.round} (phase {phase + 1}): {who} proposed {terms}"]
        # the principals answer; a guarantor judges only the guarantee it carries, and the
        # texts stay within what every guarantor carries (sim.kernel.open_phase)
        for a in np.flatnonzero(st.derived.required_by_phase[phase]):
            if r.accept[a]:
                changed = self._changed_mind(a, r)
                parts.append(f"{sc.actors[a]} accepted" + (f" ({changed})" if changed else ""))
            else:
                parts.append(f"{sc.actors[a]} rejected: {self._why(a, r)}")
        status = r.status
        if status == AGREED:
            parts.append("agreement on every phase")
        elif r.phase_after != phase:
            parts.append(f"phase {phase + 1} agreed and implemented")
        elif status in ENDED:
            parts.append(breakdown_reason(st, status, r.walker, int(self.batch.blockers[0])))
        elif status == SUSPENDED:
            parts.append("a shock suspended the talks")
        return "; ".join(parts) + "."

    def _why(self, a: int, r: _Round) -> str:
        """Why actor ``a`` refused the text of round ``r``, in the scenario's anchor words."""
        if r.human is not None and r.human[a]:
            return "held out (a seated player's decision)"
        return refusal(
            self.static,
            a,
            text=r.text,
            op=r.op,
            eu=float(r.eu[a]),
            asp=float(r.asp[a]),
            rv=None if r.rv is None else float(r.rv[a]),
            pos=r.pos[a],
            weight=self.batch.weight[0, a],
        )

    def _changed_mind(self, a: int, r: _Round) -> str:
        """Why actor ``a`` accepts a text after refusing the round before (empty if it did not refuse)."""
        p = r.prev
        if p is None or p.accept[a]:
            return ""
        if r.human is not None and r.human[a]:
            return "a seated player's decision"
        st = self.static
        eu, asp = float(r.eu[a]), float(r.asp[a])
        peu, pasp = float(p.eu[a]), float(p.asp[a])
        was = red_line_crossed(st, a, p.op, p.text)
        now = red_line_crossed(st, a, r.op, r.text)
        if was is not None and was[1] and now is None:
            return f"the text no longer crosses its red line on {st.sc.issues[st.red_lines.issue[was[0]]]}"
        rv, prv = (float(r.rv[a]), float(p.rv[a])) if r.rv is not None and p.rv is not None else (None, None)
        if rv is not None and peu < prv and eu >= rv and rv < prv:
            e, v = compare(eu, rv)
            return f"changed its mind: its no-deal value fell to {v}, below the text's value {e}"
        if r.late is not None and r.late[a] and not (p.late is not None and p.late[a]):
            e, v = compare(eu, asp)
            return f"changed its mind: its deadline passed and its aspiration fell to {v}, the text gives it {e}"
        if asp < pasp and eu - peu < pasp - asp:
            was_, v, e = compare(pasp, asp, eu)
            return f"changed its mind: its aspiration fell from {was_} to {v}, and the text gives it {e}"
        e, v = compare(peu, eu)
        return f"changed its mind: the new text gives it {v} (the last gave {e})"

    def _collector(self) -> mesa.DataCollector:
        sc = self.static.sc
        model_reporters = {"round": "round", "phase": "phase", "status": "status"}
        for i, iss in enumerate(sc.issues):
            model_reporters[f"text_{iss}"] = lambda m, i=i: float(m.batch.x[0, i])
        agent_reporters = {
            "actor": "name",
            "expected_utility": "expected_utility",
            "aspiration": "aspiration",
            "reservation_value": "reservation_value",
            "accepts": "accepts",
        }
        for i, iss in enumerate(sc.issues):
            agent_reporters[f"position_{iss}"] = lambda ag, i=i: float(ag.position[i])
        return mesa.DataCollector(model_reporters=model_reporters, agent_reporters=agent_reporters)
