"""Practice alone: one negotiation per browser session, with its controls, a seat and the salience book.

The page (``/``) shows the status line, the controls (scenario, agenda, seed and the
condition sliders; changes wait for Reset, and the page says so), the positions chart, a
seat a student can take, the round log, the text in words, the utilities, the network,
and the salience sliders. Each browser session has its own model
(:class:`DashboardModel`), rebuilt on Reset with the session's salience book.
"""

# ruff: noqa: N802  (Solara components are named like classes, as in its docs)
from __future__ import annotations

from html import escape

import numpy as np
import solara

from sim.classroom import COMPOSE_LOCK, ClassroomModel
from sim.dashboard.menus import agendas_for
from sim.dashboard.panels import (
    Brief,
    CounterOffer,
    Log,
    Network,
    Positions,
    ScenarioSelect,
    Status,
    TextInWords,
    Utilities,
)
from sim.model import _static


class DashboardModel(ClassroomModel):
    """The classroom model with the dashboard's salience book (per browser session)."""

    def __init__(
        self,
        scenario: str = "sharm_el_sheikh_2025",
        agenda: str = "comprehensive",
        rng: int = 0,
        trust: float | None = None,
        credibility: float | None = None,
        pressure: float | None = None,
        book: dict | None = None,
    ) -> None:
        self.book = book if book is not None else {}
        super().__init__(
            scenario=scenario,
            agenda=agenda,
            rng=int(rng),
            trust=trust,
            credibility=credibility,
            pressure=pressure,
            trajectories=True,
            salience=self.book.get(scenario),
        )
        self.params = {
            "scenario": scenario,
            "agenda": agenda,
            "rng": int(rng),
            "trust": trust,
            "credibility": credibility,
            "pressure": pressure,
            "book": self.book,
        }


def defaults(scenario: str) -> dict:
    """The condition sliders' starting values: the scenario's own levels."""
    agenda = agendas_for(scenario)[0]
    with COMPOSE_LOCK:
        sc = _static(scenario, agenda, "mediated", ()).sc
    pr = sc.principal
    pairs = pr[:, None] & pr[None, :] & ~np.eye(sc.n_actors, dtype=bool)
    trust0 = round(float(sc.trust[pairs].mean()), 2) if pairs.any() else 0.5
    cred0 = round(float(sc.credibility[sc.guarantor].max()), 2) if sc.guarantor.any() else 0.5
    return {"trust": trust0, "credibility": cred0, "pressure": 1.0}


@solara.component
def Controls(model_r, book, version_r, running: bool, seated: str | None):
    """The controls card: scenario, agenda, seed and condition sliders, then Step, 10 rounds, To the end, Reset.

    A note says when the settings on screen differ from those of the negotiation shown (they
    wait for Reset), and what Step does while the student holds a seat. Re-drawn only when
    the talks end or a seat changes, not each round.
    """
    m = model_r.value
    p = m.params
    scen = solara.use_reactive(p["scenario"])
    agenda = solara.use_reactive(p["agenda"])
    seed = solara.use_reactive(p["rng"])
    d0 = solara.use_memo(lambda: defaults(scen.value), [scen.value])
    trust = solara.use_reactive(p["trust"] if p["trust"] is not None else d0["trust"])
    cred = solara.use_reactive(p["credibility"] if p["credibility"] is not None else d0["credibility"])
    press = solara.use_reactive(p["pressure"] if p["pressure"] is not None else d0["pressure"])
    agendas = agendas_for(scen.value)
    if agenda.value not in agendas:
        agenda.value = agendas[0]

    def reset():
        model_r.value = DashboardModel(
            scenario=scen.value,
            agenda=agenda.value,
            rng=int(seed.value),
            trust=float(trust.value),
            credibility=float(cred.value),
            pressure=float(press.value),
            book=book,
        )
        version_r.value += 1

    def run(n):
        def go():
            for _ in range(n):
                if not m.running:
                    break
                m.step()
            version_r.value += 1

        return go

    def set_scenario(v):
        scen.value = v
        d = defaults(v)
        trust.value, cred.value, press.value = d["trust"], d["credibility"], d["pressure"]

    wanted = {"scenario": scen.value, "agenda": agenda.value, "rng": int(seed.value)}
    applied = {k: p[k] for k in wanted}
    d_now = defaults(p["scenario"]) if p["scenario"] != scen.value else d0
    cond_applied = [p[k] if p[k] is not None else d_now[k] for k in ("trust", "credibility", "pressure")]
    cond_wanted = [trust.value, cred.value, press.value]
    pending = wanted != applied or any(
        abs(float(a) - float(b)) > 1e-6 for a, b in zip(cond_applied, cond_wanted, strict=True)
    )
    with solara.Card("Controls", classes=["controls"]):
        with solara.ColumnsResponsive(12, medium=6, large=3):
            ScenarioSelect(scen.value, set_scenario)
            solara.Select("Agenda", values=agendas, value=agenda)
            solara.SliderInt(f"Seed: {seed.value}", value=seed, min=0, max=99, thumb_label=True)
            solara.SliderFloat(
                f"Initial trust between the principals: {trust.value:.2f}",
                value=trust,
                min=0.0,
                max=1.0,
                step=0.05,
                thumb_label=True,
            )
            solara.SliderFloat(
                f"Pressure (leverage multiplier): {press.value:.2f}",
                value=press,
                min=0.0,
                max=3.0,
                step=0.25,
                thumb_label=True,
            )
            solara.SliderFloat(
                f"Guarantor credibility: {cred.value:.2f}", value=cred, min=0.0, max=1.0, step=0.05, thumb_label=True
            )
        with solara.Row():
            solara.Button("Step", color="primary", on_click=run(1), disabled=not m.running)
            solara.Button("10 rounds", on_click=run(10), disabled=not m.running)
            solara.Button("To the end", on_click=run(10_000), disabled=not m.running)
            solara.Button("Reset", color="warning", on_click=reset)
        if pending:
            solara.HTML(
                tag="p",
                classes=["note", "pending-note"],
                unsafe_innerHTML=(
                    "These settings take effect when you press <b>Reset</b> (the negotiation on screen still "
                    "uses the old ones)."
                ),
            )
        if m.seated and m.running:
            solara.HTML(
                tag="p",
                classes=["note", "step-note"],
                unsafe_innerHTML=(
                    f"You hold {escape(m.seated)}'s seat: <b>Step</b> plays a round in which {escape(m.seated)} "
                    "holds out (rejects the text, no new offer). Use the seat's buttons to accept or counter."
                ),
            )


@solara.component
def SoloSeat(model, version_r, version):
    """The seat card: pick an actor to play, then its worth of the text, its brief and its moves.

    Each move (accept, hold out, counter-offer) plays one round; the answer to the last
    move and any error show below.
    """
    sc = model.static.sc
    choice = solara.use_reactive(sc.actors[0])
    error = solara.use_reactive("")
    preview = solara.use_reactive("")
    if choice.value not in sc.actors:
        choice.value = sc.actors[0]

    def act(fn):
        def go(*args):
            try:
                error.value = ""
                fn(*args)
            except ValueError as e:
                error.value = str(e)
            preview.value = ""
            version_r.value += 1

        return go

    def show_preview(offer):
        try:
            preview.value = model.preview(offer).summary()
            error.value = ""
        except ValueError as e:
            error.value = str(e)

    with solara.Card("Take a seat", classes=["seat"]):
        if model.seated is None:
            solara.Text(
                "Play one actor yourself: you decide whether it accepts the text, or you "
                "counter with your own text; everyone else follows their strategy."
            )
            solara.Select("Actor", values=list(sc.actors), value=choice)
            solara.Button("Take the seat", color="primary", on_click=act(lambda: model.seat(choice.value)))
        else:
            me = model.seated
            ag = model.agent(me)
            u, r = model.own_utility(me), ag.reservation_value
            solara.HTML(
                tag="p",
                unsafe_innerHTML=(
                    f"<b>You are {escape(ag.label)}</b> ({', '.join(ag.roles)}). The text on the table is worth "
                    f"<b>{u:.2f}</b> to you; no deal is now worth <b>{r:.2f}</b>."
                ),
            )
            Brief(model, me, expand=False)
            if model.running:
                solara.Text("Each move plays one round.", style={"font-size": "0.9em"})
                with solara.Row():
                    solara.Button("Accept the text", color="success", on_click=act(lambda: model.play("accept")))
                    solara.Button("Hold out", on_click=act(lambda: model.play("hold")))
                CounterOffer(model, me, version_r.value, show_preview, act(lambda offer: model.play("counter", offer)))
                if preview.value:
                    solara.Info(preview.value, classes=["preview"])
            else:
                solara.Text(f"The talks have ended ({model.status}). Reset to play again.")
            solara.Button("Leave the seat", text=True, on_click=act(model.leave_seat))
            ans = model.answer_of(me)
            if ans is not None:
                with solara.Card("What came of your move", classes=["answer"]):
                    solara.Text(ans.summary())
        if error.value:
            solara.Error(error.value)


@solara.component
def Salience(model_r, version_r):
    """The salience card: one slider per issue for the chosen actor; Apply restarts the negotiation with them.

    Changes go into the session's salience book, so Reset keeps them.
    """
    model = model_r.value
    sc = model.static.sc
    who = solara.use_reactive(sc.actors[0])
    if who.value not in sc.actors:
        who.value = sc.actors[0]
    a = sc.actors.index(who.value)
    draft = solara.use_reactive({})

    def apply():
        row = model.book.setdefault(model.params["scenario"], {}).setdefault(who.value, {})
        row.update(draft.value)
        draft.value = {}
        model_r.value = DashboardModel(**model.params)
        version_r.value += 1

    with solara.Card("Salience: how much each actor cares about each issue", classes=["salience"]):
        solara.Select("Actor", values=list(sc.actors), value=who)
        with solara.ColumnsResponsive(12, medium=6, large=4):
            for i, iss in enumerate(sc.issues):
                cur = float(draft.value.get(iss, sc.salience[a, i]))

                def set_value(v, iss=iss):
                    draft.value = {**draft.value, iss: v}

                solara.SliderFloat(
                    f"{iss}: {cur:.2f}", value=cur, min=0.0, max=1.0, step=0.05, on_value=set_value, thumb_label=True
                )
        solara.Button("Apply and restart the negotiation", color="primary", on_click=apply)
        if draft.value:
            solara.HTML(
                tag="p",
                classes=["note"],
                unsafe_innerHTML="Changed saliences take effect when you press <b>Apply and restart</b>.",
            )
        solara.Text(
            "Saliences are judgements in the scenario file; changes last for this browser session (Reset keeps them).",
            style={"font-size": "0.9em"},
        )


@solara.component
def Solo():
    """The practice page: status, controls, positions and seat, round log, text, utilities, network, salience."""
    book = solara.use_memo(dict, [])
    first = solara.use_memo(lambda: DashboardModel(book=book), [])
    model_r = solara.use_reactive(first)
    version_r = solara.use_reactive(0)
    m, v = model_r.value, version_r.value
    Status(m, v)
    Controls(model_r, book, version_r, m.running, m.seated)
    with solara.ColumnsResponsive(12, large=[7, 5]):
        Positions(m, v)
        SoloSeat(m, version_r, v if m.seated else 0)
    Log(m, v)
    with solara.ColumnsResponsive(12, large=[5, 4, 3]):
        TextInWords(m, v)
        Utilities(m, v)
        Network(m, v, tuple(m.humans))
    Salience(model_r, version_r)
