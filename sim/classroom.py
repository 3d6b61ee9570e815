"""The classroom: one negotiation in which a student takes a seat and plays an actor.

A :class:`ClassroomModel` is the ordinary :class:`~sim.model.NegotiationModel` with a
seat. A student who sits in an actor's chair decides for that actor each round: accept
the mediators' text, or hold out and make a counter-offer by moving the actor's own
position on the issues on the table, which the mediators then draft toward. Everyone
else keeps following their strategies. With nobody seated the model is exactly the
engine's model: the same seed gives the same negotiation, bit for bit.

The helpers below turn the model's arrays into what a class reads: the text in words
(every value with its anchor label), each actor's utility against its reservation
value, and short comparison tables for the exercises (agreement rates by condition).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.api import load_config, run
from sim.compiled import accept
from sim.kernel import RUNNING, Static, evaluate_batch, open_mask, required
from sim.model import NegotiationModel
from sim.results import wilson

MOVES = ("hold", "accept", "counter")


@dataclass(frozen=True)
class Verdict:
    """How one actor would answer a counter-offer if the mediators tabled it as it stands."""

    actor: str
    accepts: bool
    reason: str


@dataclass(frozen=True)
class Answer:
    """What came of one move by the seated student.

    Attributes:
        round: the round the move was played in (1-based, as in the log).
        actor: the seated actor.
        move: ``"accept"``, ``"counter"`` or ``"hold"`` (reject with no new offer).
        offer: the counter-offer, ``((issue, value), ...)``; empty for the other moves.
        verdicts: for a counter-offer, how every other required actor judged it as a text.
        line: the round's log line: the mediators' text, who accepted and who refused why.
    """

    round: int
    actor: str
    move: str
    offer: tuple[tuple[str, float], ...]
    verdicts: tuple[Verdict, ...]
    line: str

    def summary(self) -> str:
        """One paragraph for the student: their move, the others' verdicts, the round."""
        if self.move == "counter":
            terms = ", ".join(f"{i} {v:.2f}" for i, v in self.offer)
            said = "; ".join(f"{v.actor} {'would accept' if v.accepts else 'would reject'}"
                             + ("" if v.accepts else f" ({v.reason})") for v in self.verdicts)
            head = f"{self.actor} countered with {terms}. As a text: {said or 'nobody else must agree'}."
        elif self.move == "accept":
            head = f"{self.actor} accepted the text."
        else:
            head = f"{self.actor} held out."
        return f"{head} Then: {self.line}"


def salience_overrides(salience: Mapping[str, Mapping[str, float]] | None) -> tuple[str, ...]:
    """Config overrides for changed saliences: ``{"Israel": {"disarmament": 0.5}}``."""
    out = []
    for actor, row in (salience or {}).items():
        for issue, value in row.items():
            out.append(f"scenario.actors.{actor}.salience.{issue}={float(value)}")
    return tuple(out)


class ClassroomModel(NegotiationModel):
    """A negotiation with a seat a student can take (see the module docstring).

    Args:
        salience: changed saliences, ``{actor: {issue: value}}`` (as written in the
            scenario file, before normalising); applied as config overrides.
        trajectories: on by default here, since the dashboard draws them.
        Everything else: as :class:`~sim.model.NegotiationModel`.
    """

    def __init__(self, scenario: str = "sharm_el_sheikh_2025", agenda: str = "comprehensive",
                 protocol: str = "mediated", overrides: tuple[str, ...] | list[str] = (),
                 rng: int | None = 0, seed: int | None = None, trust: float | None = None,
                 credibility: float | None = None, pressure: float | None = None,
                 trajectories: bool = True, static: Static | None = None,
                 salience: Mapping[str, Mapping[str, float]] | None = None) -> None:
        extra = salience_overrides(salience)
        super().__init__(scenario=scenario, agenda=agenda, protocol=protocol,
                         overrides=tuple(overrides) + extra, rng=rng, seed=seed, trust=trust,
                         credibility=credibility, pressure=pressure, trajectories=trajectories,
                         static=static)
        self.seated: str | None = None
        self.move = "hold"
        self.offer: tuple[tuple[str, float], ...] = ()
        self.verdicts: tuple[Verdict, ...] = ()
        self.answers: list[Answer] = []

    # -- the seat ----------------------------------------------------------------------
    def _index(self, actor: str) -> int:
        sc = self.static.sc
        if actor not in sc.actors:
            raise ValueError(f"no actor {actor!r} in scenario {sc.name}; expected one of {', '.join(sc.actors)}")
        return sc.actors.index(actor)

    def seat(self, actor: str) -> None:
        """A student takes ``actor``'s chair: from now on they decide for it."""
        self._index(actor)
        if self.seated is not None:
            self.leave_seat()
        self.seated = actor
        self.move, self.offer, self.verdicts = "hold", (), ()

    def leave_seat(self) -> None:
        """The actor goes back to following its strategy."""
        if self.seated is not None:
            self.batch.override[0, self._index(self.seated)] = -1
        self.seated = None
        self.move, self.offer, self.verdicts = "hold", (), ()

    def _need_seat(self) -> int:
        if self.seated is None:
            raise ValueError("nobody is seated: call seat(actor) first")
        if not self.running:
            raise ValueError(f"the talks have ended ({self.status}); reset to play again")
        return self._index(self.seated)

    def accept(self) -> None:
        """The seated actor accepts the current text this round."""
        self._need_seat()
        self.move, self.offer, self.verdicts = "accept", (), ()

    def hold(self) -> None:
        """The seated actor rejects the current text without a new offer."""
        self._need_seat()
        self.move, self.offer, self.verdicts = "hold", (), ()

    def counter(self, offer: Mapping[str, float]) -> tuple[Verdict, ...]:
        """The seated actor rejects the text and puts ``offer`` on the table.

        The offer moves the actor's position (and its anchor, so influence does not pull
        it straight back) on the issues given, which must be open this phase, and is
        tabled as the next text, the way a first mover's opening is: next round everyone
        answers it, and from then on the mediators redraft from it. (Moving a position
        alone would rarely change the draft: with linear utilities the mediators' step on
        an issue depends only on which side of the text each position lies.) Returns how
        every other required actor would judge the offer, which is what they answer next
        round.

        Raises:
            ValueError: an issue not on the table, or a value outside [0, 1].
        """
        a = self._need_seat()
        sc, b = self.static.sc, self.batch
        op = open_mask(self.static, b)[0]
        clean = []
        for issue, value in offer.items():
            if issue not in sc.issues:
                raise ValueError(f"counter-offer: no issue {issue!r}; expected one of {', '.join(sc.issues)}")
            i = sc.issues.index(issue)
            if not op[i]:
                raise ValueError(f"counter-offer: {issue} is not on the table this phase; "
                                 f"open issues: {', '.join(self.open_issues)}")
            v = float(value)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"counter-offer: {issue} must be a number in [0, 1], got {value!r}")
            clean.append((issue, v))
            b.pos[0, a, i] = v
            b.pos0[0, a, i] = v
        self.move, self.offer = "counter", tuple(clean)
        self.verdicts = self._judge(dict(clean))
        for issue, v in clean:  # table it: a fresh text, answered before any redraft
            i = sc.issues.index(issue)
            b.x[0, i] = np.clip(v, b.lo[0, i], b.hi[0, i])
            b.step[0, i] = self.static.settings.step0
            b.gsign[0, i] = 0.0
        b.fresh[0] = True
        return self.verdicts

    def _judge(self, offer: Mapping[str, float]) -> tuple[Verdict, ...]:
        """Every other required actor's acceptance test applied to the offer as a text."""
        st, b, sc = self.static, self.batch, self.static.sc
        op = open_mask(st, b)
        x = b.x.copy()
        for issue, v in offer.items():
            i = sc.issues.index(issue)
            x[0, i] = np.clip(v, b.lo[0, i], b.hi[0, i])
        ev = evaluate_batch(st, b, op, x=x, with_grad=False)
        umax = ev.umax
        req = required(st, b)
        nobody_seated = np.full(b.override.shape, -1, np.int8)  # each actor's own test, as the protocol applies it
        asp = b.rv + b.frac * (umax - b.rv)
        ok, _, _ = accept(ev.eu, b.rv, asp, umax, ev.hard, nobody_seated, req, b.status == RUNNING, req, False,
                          1e-12, 0.0)
        req = req[0]
        me = sc.actors.index(self.seated)
        out = []
        for k in np.flatnonzero(req):
            if k == me:
                continue
            reason = "" if ok[0, k] else self._reason(int(k), op[0], x[0], float(ev.eu[0, k]), float(asp[0, k]))
            out.append(Verdict(actor=sc.actors[k], accepts=bool(ok[0, k]), reason=reason))
        return tuple(out)

    def _reason(self, a: int, op: np.ndarray, x: np.ndarray, eu: float, asp: float) -> str:
        rl, sc = self.static.red_lines, self.static.sc
        for k in np.flatnonzero(rl.actor == a):
            i = rl.issue[k]
            beyond = rl.sign[k] * (rl.bound[k] - x[i]) > 1e-9
            lifted = rl.cond_issue[k] >= 0 and rl.cond_sign[k] * (x[rl.cond_issue[k]] - rl.cond_bound[k]) >= 0
            if op[i] and beyond and not lifted:
                return f"{sc.issues[i]} beyond its {'hard ' if rl.hard[k] else ''}red line"
        return f"expected utility {eu:.2f} below its aspiration {asp:.2f}"

    # -- stepping ----------------------------------------------------------------------
    def step(self) -> None:
        """One round; the seated actor's move (accept, or reject) overrides its strategy."""
        if not self.running:
            return
        if self.seated is None:
            super().step()
            return
        a = self._index(self.seated)
        self.batch.override[0, a] = 1 if self.move == "accept" else 0
        super().step()
        self.answers.append(Answer(round=self.round, actor=self.seated, move=self.move, offer=self.offer,
                                   verdicts=self.verdicts, line=self.log[-1] if self.log else ""))
        self.move, self.offer, self.verdicts = "hold", (), ()

    def play(self, move: str, offer: Mapping[str, float] | None = None) -> Answer:
        """Make the seated actor's move and play the round; return what came of it."""
        if move not in MOVES:
            raise ValueError(f"move must be one of {', '.join(MOVES)}, got {move!r}")
        if move == "accept":
            self.accept()
        elif move == "counter":
            self.counter(offer or {})
        else:
            self.hold()
        self.step()
        return self.answers[-1]


# -- views a class reads ---------------------------------------------------------------
def text_in_words(model: NegotiationModel) -> pd.DataFrame:
    """The current text, one row per issue: value, its nearest anchor label, and state.

    State is ``agreed`` (locked in an earlier phase), ``on the table`` (open now) or
    ``not yet open`` (still at the status quo).
    """
    st, b = model.static, model.batch
    sc = st.sc
    op = open_mask(st, b)[0]
    rows = []
    for i, iss in enumerate(sc.issues):
        v = float(b.x[0, i])
        state = "on the table" if op[i] and model.running else ("agreed" if b.locked[0, i] else
                                                                 "not yet open" if model.running else "not agreed")
        rows.append({"issue": iss, "value": round(v, 2), "meaning": sc.anchor_label(i, v), "state": state})
    return pd.DataFrame(rows)


def utilities(model: NegotiationModel) -> pd.DataFrame:
    """Each actor's expected utility of the text against its reservation value and aspiration."""
    rows = []
    for ag in model.negotiators:
        rows.append({"actor": ag.name, "roles": "/".join(ag.roles), "expected_utility": ag.expected_utility,
                     "reservation_value": ag.reservation_value, "aspiration": ag.aspiration,
                     "accepts": ag.accepts})
    return pd.DataFrame(rows)


def trajectories(model: NegotiationModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(text, positions)``: the text per round, and every actor's position per round (long form)."""
    if model.datacollector is None:
        raise ValueError("this model records no trajectory: build it with trajectories=True")
    text = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    agents = model.datacollector.get_agent_vars_dataframe().reset_index()
    agents = agents.rename(columns={"Step": "step"})
    return text, agents


# -- exercises: small comparisons over many seeds --------------------------------------
def agreement_by(column: str, levels: Sequence[float], n_seeds: int = 200,
                 overrides: Sequence[str] = ()) -> pd.DataFrame:
    """Agreement rate (95% Wilson interval) at each level of one condition.

    Args:
        column: ``trust``, ``credibility`` or ``pressure`` (a ``grid.`` axis of the config).
        levels: the levels to cross with the same seeds (common random numbers).
    """
    if column not in ("trust", "credibility", "pressure"):
        raise ValueError(f"column must be trust, credibility or pressure, got {column!r}")
    cfg = load_config([*overrides, f"n_seeds={n_seeds}", f"grid.{column}=[{','.join(str(v) for v in levels)}]"])
    table = run(cfg).table
    return _rates(table, f"{column}_level").rename(columns={f"{column}_level": column})


def compare_agendas(agendas: Sequence[str] | Mapping[str, Sequence[str]], n_seeds: int = 200,
                    overrides: Sequence[str] = ()) -> pd.DataFrame:
    """Agreement rate, rounds and Nash product for each agenda, on the same seeds.

    Args:
        agendas: agenda names, or ``{label: [overrides...]}`` for e.g. sequence orders.
    """
    items = {a: [f"agenda={a}"] for a in agendas} if not isinstance(agendas, Mapping) else dict(agendas)
    frames = []
    for label, ov in items.items():
        t = run(load_config([*overrides, *ov, f"n_seeds={n_seeds}"])).table
        r = _rates(t, None)
        r.insert(0, "agenda", label)
        r["mean_nash_product"] = t.loc[t["agreement"], "nash_product"].mean() if t["agreement"].any() else 0.0
        r["top_blocking_issue"] = t.loc[~t["agreement"], "blocking_issue"].mode().iloc[0] \
            if (~t["agreement"]).any() else ""
        frames.append(r)
    return pd.concat(frames, ignore_index=True)


def _rates(table: pd.DataFrame, by: str | None) -> pd.DataFrame:
    groups = [((None,), table)] if by is None else table.groupby(by, sort=True)
    rows = []
    for key, g in groups:
        k, n = int(g["agreement"].sum()), len(g)
        lo, hi = wilson(k, n)
        row = {} if by is None else {by: key[0] if isinstance(key, tuple) else key}
        row.update({"n_seeds": n, "agreement_rate": k / n, "low": lo, "high": hi,
                    "mean_rounds": float(g["rounds"].mean())})
        rows.append(row)
    return pd.DataFrame(rows)


def small_atlas(root, agendas: Sequence[str] = ("comprehensive", "phased_plan", "order_00", "order_07"),
                first_movers: Sequence[str] = ("mediators", "Israel"), n_seeds: int = 20,
                overrides: Sequence[str] = ("grid.trust=[0.15,0.7]",)):
    """Run a small sequence atlas in-process, one sweep job per agenda and first mover.

    Each job is the real job body a Hydra sweep runs (:func:`sim.job.run_sweep_job`), so
    ``root`` afterwards reads like any sweep directory (``negotiate-report root``).

    Returns:
        The sweep directory, as a :class:`pathlib.Path`.
    """
    from pathlib import Path

    from sim.job import run_sweep_job

    root = Path(root)
    for agenda in agendas:
        for fm in first_movers:
            cfg = load_config([f"agenda={agenda}", f"agenda.first_mover={fm}", f"n_seeds={n_seeds}", "quiet=true",
                               *overrides])
            run_sweep_job(cfg, root / f"agenda={agenda},first_mover={fm}")
    return root
