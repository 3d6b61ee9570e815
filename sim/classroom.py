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

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.api import load_config, run
from sim.kernel import RUNNING, Static, aspiration, evaluate_batch, judge, open_mask, required
from sim.model import NegotiationModel, _static
from sim.reasons import compare, refusal
from sim.results import wilson
from sim.utility import evaluate

MOVES = ("hold", "accept", "counter")
# Hydra's compose keeps global state and is not thread-safe; a server builds models for many
# sessions at once, so every configuration it composes goes through this lock.
COMPOSE_LOCK = threading.RLock()


@dataclass(frozen=True)
class Verdict:
    """How one actor would answer a counter-offer if the mediators tabled it as it stands."""

    actor: str
    accepts: bool
    reason: str
    utility: float = float("nan")  # its expected utility of the offer as a text
    seated: bool = False  # a seated player answers for it: no forecast

    def words(self) -> str:
        """The verdict in one clause, as the preview shows it: accepts (and its worth), rejects (and why), or seated."""
        if self.seated:
            return f"{self.actor} is played by a student, who decides (worth {self.utility:.2f} to it)"
        if self.accepts:
            return f"{self.actor} would accept (worth {self.utility:.2f} to it)"
        return f"{self.actor} would reject ({self.reason})"


@dataclass(frozen=True)
class Preview:
    """A counter-offer judged before it is sent: the sender's own utility and everyone else's verdict."""

    actor: str
    offer: tuple[tuple[str, float], ...]
    utility: float  # the sender's expected utility of the offer (by its own priorities)
    no_deal: float  # the sender's value of no deal
    verdicts: tuple[Verdict, ...]

    def summary(self) -> str:
        """The preview in a sentence or two: the offer's worth to the sender against no deal, then each verdict."""
        u, r = compare(self.utility, self.no_deal)
        said = "; ".join(v.words() for v in self.verdicts)
        return f"Worth {u} to you (your no-deal value: {r}). As a text: {said or 'nobody else must agree'}."


@dataclass(frozen=True)
class Answer:
    """What came of one move by a seated player.

    Attributes:
        round: the round the move was played in (1-based, as in the log).
        actor: the seated actor.
        move: ``"accept"``, ``"counter"`` or ``"hold"`` (reject with no new offer).
        offer: the counter-offer, ``((issue, value), ...)``; empty for the other moves.
        verdicts: for a counter-offer, how every other required actor judged it as a text.
        line: the round's log line: the text on the table, who accepted and who refused why.
        chosen: False when the player made no move and the round was played for them (a hold).
    """

    round: int
    actor: str
    move: str
    offer: tuple[tuple[str, float], ...]
    verdicts: tuple[Verdict, ...]
    line: str
    chosen: bool = True

    def summary(self) -> str:
        """One paragraph for the student: their move, the others' verdicts, the round."""
        if self.move == "counter":
            terms = ", ".join(f"{i} {v:.2f}" for i, v in self.offer)
            said = "; ".join(v.words() for v in self.verdicts)
            head = f"{self.actor} countered with {terms}. As a text: {said or 'nobody else must agree'}."
        elif self.move == "accept":
            head = f"{self.actor} accepted the text."
        elif not self.chosen:
            head = f"{self.actor} made no move, so it held out (rejected the text without a new offer)."
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
    """A negotiation with seats players can take (see the module docstring).

    Any set of actors can be seated (:meth:`sit`); each decides its actor's move every
    round (:meth:`accept`, :meth:`hold`, :meth:`counter`; no move is a hold). When several
    seats counter in the same round, the text on an issue is the mean of their offers on
    it, and a counter-offer's sender accepts the tabled text if it is its own offer.
    :meth:`seat` and :attr:`seated` are the one-seat shorthand.

    Args:
        salience: changed saliences, ``{actor: {issue: value}}`` (as written in the
            scenario file, before normalising); applied as config overrides.
        trajectories: on by default here, since the dashboard draws them.
        Everything else: as :class:`~sim.model.NegotiationModel`.
    """

    def __init__(
        self,
        scenario: str = "sharm_el_sheikh_2025",
        agenda: str = "comprehensive",
        protocol: str = "mediated",
        overrides: tuple[str, ...] | list[str] = (),
        rng: int | None = 0,
        seed: int | None = None,
        trust: float | None = None,
        credibility: float | None = None,
        pressure: float | None = None,
        trajectories: bool = True,
        static: Static | None = None,
        salience: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        extra = salience_overrides(salience)
        if static is None:
            with COMPOSE_LOCK:
                static = _static(scenario, agenda, protocol, tuple(overrides) + extra)
        super().__init__(
            scenario=scenario,
            agenda=agenda,
            protocol=protocol,
            overrides=tuple(overrides) + extra,
            rng=rng,
            seed=seed,
            trust=trust,
            credibility=credibility,
            pressure=pressure,
            trajectories=trajectories,
            static=static,
        )
        self.humans: list[str] = []  # seated actors, in the order they sat
        self.moves: dict[str, tuple[str, tuple[tuple[str, float], ...], tuple[Verdict, ...]]] = {}
        self.stated: dict[str, dict[str, float]] = {}  # each seat's last counter-offer, issue -> value
        self.answers: list[Answer] = []
        self.tabled: dict[int, tuple[str, ...]] = {}  # round -> the seats whose counter-offer was its text
        # positions and text per round, as arrays (the charts read these: cheaper than the DataCollector)
        self._trace_pos = [self.batch.pos[0].copy()]
        self._trace_text = [self.batch.x[0].copy()]

    # -- the seats ---------------------------------------------------------------------
    def _index(self, actor: str) -> int:
        sc = self.static.sc
        if actor not in sc.actors:
            raise ValueError(f"no actor {actor!r} in scenario {sc.name}; expected one of {', '.join(sc.actors)}")
        return sc.actors.index(actor)

    @property
    def seated(self) -> str | None:
        """The first seated actor (the one-seat view), or None."""
        return self.humans[0] if self.humans else None

    def sit(self, actor: str) -> None:
        """A player takes ``actor``'s chair (other seats stay): from now on they decide for it."""
        self._index(actor)
        if actor not in self.humans:
            self.humans.append(actor)
        self.moves.pop(actor, None)

    def stand(self, actor: str) -> None:
        """``actor`` goes back to following its strategy."""
        if actor in self.humans:
            self.humans.remove(actor)
            self.batch.override[0, self._index(actor)] = -1
        self.moves.pop(actor, None)

    def seat(self, actor: str) -> None:
        """A student takes ``actor``'s chair, the only seat: from now on they decide for it."""
        self._index(actor)
        for other in list(self.humans):
            self.stand(other)
        self.sit(actor)

    def leave_seat(self) -> None:
        """Every seated actor goes back to following its strategy."""
        for other in list(self.humans):
            self.stand(other)

    def _who(self, actor: str | None) -> str:
        if actor is None:
            if not self.humans:
                raise ValueError("nobody is seated: call seat(actor) first")
            actor = self.humans[0]
        if actor not in self.humans:
            raise ValueError(f"{actor} is not seated: call sit({actor!r}) first")
        if not self.running:
            raise ValueError(f"the talks have ended ({self.status}); reset to play again")
        return actor

    @property
    def move(self) -> str:
        """The first seat's move this round so far (``hold`` until it chooses)."""
        return self.moves.get(self.seated, ("hold",))[0] if self.seated else "hold"

    def has_moved(self, actor: str) -> bool:
        """Whether the seat chose its move for this round."""
        return actor in self.moves

    def accept(self, actor: str | None = None) -> None:
        """The seated actor accepts the current text this round."""
        self.moves[self._who(actor)] = ("accept", (), ())

    def hold(self, actor: str | None = None) -> None:
        """The seated actor rejects the current text without a new offer."""
        self.moves[self._who(actor)] = ("hold", (), ())

    def _clean(self, offer: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
        sc = self.static.sc
        op = open_mask(self.static, self.batch)[0]
        clean = []
        for issue, value in offer.items():
            if issue not in sc.issues:
                raise ValueError(f"counter-offer: no issue {issue!r}; expected one of {', '.join(sc.issues)}")
            if not op[sc.issues.index(issue)]:
                raise ValueError(
                    f"counter-offer: {issue} is not on the table this phase; open issues: {', '.join(self.open_issues)}"
                )
            try:
                v = float(value)
            except (TypeError, ValueError):
                v = float("nan")
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"counter-offer: {issue} must be a number in [0, 1], got {value!r}")
            clean.append((issue, v))
        if not clean:
            raise ValueError("counter-offer: give a value for at least one issue on the table")
        return tuple(clean)

    def counter(self, offer: Mapping[str, float], actor: str | None = None) -> tuple[Verdict, ...]:
        """The seated actor rejects the text and puts ``offer`` on the table.

        When the round is played, the offer is tabled as the text (the way a first mover's
        opening is): everyone answers it that round, and from then on the mediators redraft
        from it. The actor's stated position moves to the offer, and so does the stubborn
        part of it (``pos_anchor``), so influence does not pull it straight back; its own
        priorities (the drawn ideal ``pos0``, by which the outcome is scored) stay as they
        are. Moving a position alone would rarely change the draft: with linear utilities
        the mediators' step on an issue depends only on which side of the text each
        position lies. Returns how every other required actor would judge the offer, which
        is what they answer when the round is played (unless another seat counters too).

        Raises:
            ValueError: an issue not on the table, or a value outside [0, 1].
        """
        who = self._who(actor)
        clean = self._clean(offer)
        verdicts = self._judge(dict(clean), who)
        self.moves[who] = ("counter", clean, verdicts)
        return verdicts

    def preview(self, offer: Mapping[str, float], actor: str | None = None) -> Preview:
        """Judge a counter-offer without sending it: the sender's utility and the others' verdicts."""
        who = self._who(actor)
        clean = self._clean(offer)
        x = self._as_text(dict(clean))
        u = self.own_utility(who, x)
        return Preview(
            actor=who,
            offer=clean,
            utility=u,
            no_deal=float(self.batch.rv[0, self._index(who)]),
            verdicts=self._judge(dict(clean), who),
        )

    def _as_text(self, offer: Mapping[str, float]) -> np.ndarray:
        b, sc = self.batch, self.static.sc
        x = b.x.copy()
        for issue, v in offer.items():
            i = sc.issues.index(issue)
            x[0, i] = np.clip(v, b.lo[0, i], b.hi[0, i])
        return x

    def own_utility(self, actor: str, x: np.ndarray | None = None) -> float:
        """``actor``'s expected utility of text ``x`` (default: the current text) by its own priorities.

        The priorities are the run's drawn ideal points (what the outcome is scored by), not
        a seat's stated position, so sending an offer does not change what it is worth.
        """
        st, b = self.static, self.batch
        a = self._index(actor)
        pos = b.pos.copy()
        pos[0, a] = b.pos0[0, a]
        sc = st.sc
        ev = evaluate(
            b.x if x is None else x,
            open_mask(st, b),
            pos,
            b.weight,
            sc.status_quo,
            b.rs,
            sc.guarantee_issue,
            sc.guarantee_strong_end,
            st.red_lines,
            sc.utility,
            with_grad=False,
        )
        return float(ev.eu[0, a])

    def _judge(self, offer: Mapping[str, float], me: str) -> tuple[Verdict, ...]:
        """Every other required actor's acceptance test applied to the offer as a text."""
        st, b, sc = self.static, self.batch, self.static.sc
        op = open_mask(st, b)
        x = self._as_text(offer)
        ev = evaluate_batch(st, b, op, x=x, with_grad=False)
        umax = ev.umax
        req = required(st, b)
        nobody_seated = np.full(b.override.shape, -1, np.int8)  # each actor's own test, as the protocol applies it
        asp = aspiration(b.rv, b.frac, umax)
        ok, _, _ = judge(
            eu=ev.eu,
            rv=b.rv,
            asp=asp,
            umax=umax,
            hard=ev.hard,
            override=nobody_seated,
            required=req,
            running=b.status == RUNNING,
        )
        out = []
        mine = sc.actors.index(me)
        for k in np.flatnonzero(req[0]):
            if k == mine:
                continue
            name = sc.actors[k]
            if name in self.humans:
                out.append(
                    Verdict(
                        actor=name,
                        accepts=False,
                        reason="a seated player decides",
                        utility=float(ev.eu[0, k]),
                        seated=True,
                    )
                )
                continue
            reason = "" if ok[0, k] else self._reason(int(k), op[0], x[0], float(ev.eu[0, k]), float(asp[0, k]))
            out.append(Verdict(actor=name, accepts=bool(ok[0, k]), reason=reason, utility=float(ev.eu[0, k])))
        return tuple(out)

    def _reason(self, a: int, op: np.ndarray, x: np.ndarray, eu: float, asp: float) -> str:
        """Why actor ``a`` would refuse text ``x`` (:func:`sim.reasons.refusal`)."""
        b = self.batch
        return refusal(
            self.static, a, text=x, op=op, eu=eu, asp=asp, rv=float(b.rv[0, a]), pos=b.pos[0, a], weight=b.weight[0, a]
        )

    # -- stepping ----------------------------------------------------------------------
    def _table(self) -> None:
        """Put this round's counter-offers on the table and set every seat's verdict."""
        st, b, sc = self.static, self.batch, self.static.sc
        offers = {a: dict(m[1]) for a, m in self.moves.items() if m[0] == "counter"}
        if offers:
            pooled: dict[str, list[float]] = {}
            for offer in offers.values():
                for issue, v in offer.items():
                    pooled.setdefault(issue, []).append(v)
            for issue, vals in pooled.items():
                i = sc.issues.index(issue)
                b.x[0, i] = np.clip(float(np.mean(vals)), b.lo[0, i], b.hi[0, i])
                b.step[0, i] = st.settings.step0
                b.gsign[0, i] = 0.0
            b.fresh[0] = True
            keep = st.derived.one_minus_lam
            for actor, offer in offers.items():
                a = sc.actors.index(actor)
                for issue, v in offer.items():
                    i = sc.issues.index(issue)
                    b.pos[0, a, i] = v
                    b.pos_anchor[0, a, i] = keep[a] * v
                self.stated.setdefault(actor, {}).update(offer)
        for actor in self.humans:
            move, offer, _ = self.moves.get(actor, ("hold", (), ()))
            ok = move == "accept" or (
                move == "counter"
                and all(
                    abs(
                        b.x[0, sc.issues.index(i)]
                        - np.clip(v, b.lo[0, sc.issues.index(i)], b.hi[0, sc.issues.index(i)])
                    )
                    <= 1e-9
                    for i, v in offer
                )
            )
            b.override[0, sc.actors.index(actor)] = 1 if ok else 0

    @property
    def trace(self) -> tuple[np.ndarray, np.ndarray]:
        """``(positions [T+1, A, I], text [T+1, I])``: every round so far, round 0 first."""
        return np.stack(self._trace_pos), np.stack(self._trace_text)

    def step(self) -> None:
        """One round; each seated actor's move (accept, counter, or hold) overrides its strategy."""
        if not self.running:
            return
        self._step()
        self._trace_pos.append(self.batch.pos[0].copy())
        self._trace_text.append(self.batch.x[0].copy())

    def _step(self) -> None:
        if not self.humans:
            super().step()
            return
        self._table()
        counters = tuple(a for a in self.humans if self.moves.get(a, ("hold",))[0] == "counter")
        if counters:
            self.tabled[self.round + 1] = counters
        super().step()
        line = self.log[-1] if self.log else ""
        for actor in self.humans:
            move, offer, verdicts = self.moves.get(actor, ("hold", (), ()))
            self.answers.append(
                Answer(
                    round=self.round,
                    actor=actor,
                    move=move,
                    offer=offer,
                    verdicts=verdicts,
                    line=line,
                    chosen=actor in self.moves,
                )
            )
        self.moves = {}

    def play(self, move: str, offer: Mapping[str, float] | None = None, actor: str | None = None) -> Answer:
        """Make the seated actor's move and play the round; return what came of it."""
        if move not in MOVES:
            raise ValueError(f"move must be one of {', '.join(MOVES)}, got {move!r}")
        who = self._who(actor)
        if move == "accept":
            self.accept(who)
        elif move == "counter":
            self.counter(offer or {}, who)
        else:
            self.hold(who)
        self.step()
        return next(a for a in reversed(self.answers) if a.actor == who)

    def _describe(self, r) -> str:
        line = super()._describe(r)
        who = self.tabled.get(r.round)
        if who:  # the text was a seat's counter-offer, not the mediators' draft
            head, _, rest = line.partition(" proposed ")
            line = f"{head.split(': ')[0]}: {' and '.join(who)}'s counter-offer was tabled: {rest}"
        return line

    def answer_of(self, actor: str) -> Answer | None:
        """The seat's last answer, or None."""
        return next((a for a in reversed(self.answers) if a.actor == actor), None)


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
        state = (
            "on the table"
            if op[i] and model.running
            else ("agreed" if b.locked[0, i] else "not yet open" if model.running else "not agreed")
        )
        rows.append({"issue": iss, "value": round(v, 2), "meaning": sc.anchor_label(i, v), "state": state})
    return pd.DataFrame(rows)


def brief(model: NegotiationModel, actor: str) -> dict[str, list[str] | str]:
    """A seat's private brief in plain words, from the scenario and this run's draws.

    Returns ``{"who": ..., "priorities": [...], "red_lines": [...], "no_deal": ..., "clock": ...}``:
    the issues it cares about, most first (its share of the weight, where it wants each
    issue in the scenario's anchor words), its red lines (hard: never accept a text beyond
    it; soft: crossing costs utility), its value of no deal, and how long it takes to concede.
    """
    st, b = model.static, model.batch
    sc = st.sc
    if actor not in sc.actors:
        raise ValueError(f"no actor {actor!r} in scenario {sc.name}; expected one of {', '.join(sc.actors)}")
    a = sc.actors.index(actor)
    roles = [
        r for r, m in (("principal", sc.principal), ("mediator", sc.mediator), ("guarantor", sc.guarantor)) if m[a]
    ]
    w, pos = b.weight[0, a], b.pos0[0, a]
    prio = []
    for i in np.argsort(-w, kind="stable"):
        if w[i] <= 0:
            continue
        where = f"'{sc.anchor_label(int(i), float(pos[i]))}'" if sc.anchors[i] else "on its scale"
        prio.append(f"{sc.issues[i]} ({w[i]:.0%} of what you care about): you want {pos[i]:.2f}, {where}")
    rl = st.red_lines
    lines = []
    for k in np.flatnonzero(rl.actor == a):
        i = int(rl.issue[k])
        side = "at least" if rl.sign[k] > 0 else "at most"
        label = f" ('{sc.anchor_label(i, float(rl.bound[k]))}')" if sc.anchors[i] else ""
        cond = ""
        if rl.cond_issue[k] >= 0:
            c = int(rl.cond_issue[k])
            cside = "at least" if rl.cond_sign[k] > 0 else "at most"
            cond = f"; it no longer applies once {sc.issues[c]} is {cside} {rl.cond_bound[k]:.2f}"
        what = (
            "hard: you can never accept a text beyond it"
            if rl.hard[k]
            else f"soft: crossing it costs you {rl.strength[k]:g} times the issue's worth per unit beyond it"
        )
        lines.append(f"{sc.issues[i]} must be {side} {rl.bound[k]:.2f}{label} ({what}{cond})")
    rv = float(b.rv0[0, a])
    return {
        "who": f"You are {sc.labels[a]} ({', '.join(roles) or 'no role'}) in: {sc.title}.",
        "priorities": prio,
        "red_lines": lines or ["none: every text is open to you, at a price in utility"],
        "no_deal": (
            f"At the start, no deal is worth {rv:.2f} to you (on a scale where your ideal text is 1). "
            "A text worth less is worse than walking away. Pressure and events can move this value "
            "as the rounds go by; your seat shows what it is now."
        ),
        "clock": (
            f"Left to itself, your side concedes over {int(sc.patience[a])} rounds in each phase, "
            "from its ideal down to its no-deal value."
        ),
    }


def utilities(model: NegotiationModel) -> pd.DataFrame:
    """Each actor's expected utility of the text against its reservation value and aspiration."""
    rows = []
    for ag in model.negotiators:
        rows.append(
            {
                "actor": ag.name,
                "roles": "/".join(ag.roles),
                "expected_utility": ag.expected_utility,
                "reservation_value": ag.reservation_value,
                "aspiration": ag.aspiration,
                "accepts": ag.accepts,
            }
        )
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
def agreement_by(
    column: str, levels: Sequence[float], n_seeds: int = 200, overrides: Sequence[str] = ()
) -> pd.DataFrame:
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


def compare_agendas(
    agendas: Sequence[str] | Mapping[str, Sequence[str]], n_seeds: int = 200, overrides: Sequence[str] = ()
) -> pd.DataFrame:
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
        r["top_blocking_issue"] = (
            t.loc[~t["agreement"], "blocking_issue"].mode().iloc[0] if (~t["agreement"]).any() else ""
        )
        frames.append(r)
    return pd.concat(frames, ignore_index=True)


def _rates(table: pd.DataFrame, by: str | None) -> pd.DataFrame:
    groups = [((None,), table)] if by is None else table.groupby(by, sort=True)
    rows = []
    for key, g in groups:
        k, n = int(g["agreement"].sum()), len(g)
        lo, hi = wilson(k, n)
        row = {} if by is None else {by: key[0] if isinstance(key, tuple) else key}
        row.update(
            {"n_seeds": n, "agreement_rate": k / n, "low": lo, "high": hi, "mean_rounds": float(g["rounds"].mean())}
        )
        rows.append(row)
    return pd.DataFrame(rows)


def small_atlas(
    root,
    agendas: Sequence[str] = ("comprehensive", "phased_plan", "order_00", "order_07"),
    first_movers: Sequence[str] = ("mediators", "Israel"),
    n_seeds: int = 20,
    overrides: Sequence[str] = ("grid.trust=[0.15,0.7]",),
):
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
            cfg = load_config(
                [f"agenda={agenda}", f"agenda.first_mover={fm}", f"n_seeds={n_seeds}", "quiet=true", *overrides]
            )
            run_sweep_job(cfg, root / f"agenda={agenda},first_mover={fm}")
    return root
