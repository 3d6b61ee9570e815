"""The classroom dashboard: negotiations in the browser, rooms for a class, a board for the teacher.

Start it with ``negotiate-dashboard`` and open http://127.0.0.1:8521. The page has three
views. *Practice alone* (``/``): one negotiation per browser session, with its controls
(scenario, agenda, seed, initial trust, pressure, guarantor credibility; changes wait for
Reset, and the page says so), charts the browser draws (:mod:`sim.dashboard.charts`), the
text in words, the round log, and a seat a student can take. *Join a room*
(``/?view=join``, then ``/?room=CODE&token=...``): a seat in a room shared with the class
(:mod:`sim.rooms`); the token in the address keeps the seat across reloads. *Teacher*
(``/?view=teacher``): open rooms, the class board, the outcome chart, CSV export, reset and
close, and a large projector view of one room's text.

The menus offer only the scenario x agenda pairs that build (:mod:`sim.dashboard.menus`).
The page's front-end files are served from the virtualenv (``share/solara/cdn``, filled by
``negotiate-dashboard --install-assets``), so it works with no internet access.
"""

# ruff: noqa: N802  (Solara components are named like classes, as in its docs)
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from html import escape
from pathlib import Path

os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")

# npm packages Solara's page loads from a CDN (pinned by the solara release in pyproject.toml)
ASSETS = (
    "@widgetti/solara-vuetify-app@10.1.1",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2",
    "font-awesome@4.5.0",
    "requirejs@2.3.6",
    # the browser-drawn charts (Altair -> Vega-Lite): the paths Solara's VegaLite widget asks for
    "vega@5",
    "vega-lite@5",
    "vega-embed@6",
)
DEFAULT_PORT = 8521
CONF = Path(__file__).resolve().parent.parent / "conf"


def cdn_dir() -> Path:
    """Where Solara looks for its front-end files before asking the CDN."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def missing_assets(dest: Path | None = None) -> list[str]:
    dest = dest or cdn_dir()
    return [spec for spec in ASSETS if not (dest / spec / "package.json").exists()]


def install_assets(dest: Path | None = None, npm: str | None = None) -> list[str]:
    """Fetch the page's front-end packages with ``npm pack`` into ``dest`` (once).

    Returns the packages installed now. Raises RuntimeError naming the package when npm
    is missing or fails, so the fix is obvious.
    """
    dest = dest or cdn_dir()
    todo = missing_assets(dest)
    if not todo:
        return []
    npm = npm or shutil.which("npm")
    if npm is None:
        raise RuntimeError("negotiate-dashboard --install-assets needs npm (Debian: apt-get install npm) "
                           f"to fetch {', '.join(todo)} into {dest}")
    for spec in todo:
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run([npm, "pack", "--silent", spec], cwd=tmp, capture_output=True, text=True)
            tgz = sorted(Path(tmp).glob("*.tgz"))
            if done.returncode != 0 or not tgz:
                raise RuntimeError(f"npm pack {spec} failed: {done.stderr.strip()[-500:]}")
            target = dest / spec
            target.mkdir(parents=True, exist_ok=True)
            with tarfile.open(tgz[0]) as tar:
                for member in tar.getmembers():
                    parts = Path(member.name).parts[1:]  # drop the leading "package/"
                    if not parts or ".." in parts or member.issym() or member.islnk():
                        continue
                    member.name = str(Path(*parts))
                    tar.extract(member, target, filter="data")
    return todo


# -- the page ----------------------------------------------------------------------------
from sim.dashboard.menus import CALIBRATION_ONLY, agenda_names, scenario_names  # noqa: E402,F401  (kept for callers)

POLL_SECONDS = 0.5  # how often a room's page looks for moves made in other browsers
CSS = """
.v-application { font-size: 15px; }
.width-container, .vega-embed { width: 100%; }
.status-line { font-size: 1.05em; margin: 0 0 4px 0; }
.round-log { font-size: 0.95em; }
.brief li { margin-bottom: 2px; }
.projector { font-size: 1.6em; line-height: 1.35; }
.projector td, .projector th { padding: 4px 10px; }
.board td, .board th { padding: 2px 8px; text-align: left; }
.note { font-size: 0.9em; color: #7a4b00; }
.join-code { font-size: 2.2em; font-weight: bold; letter-spacing: 0.12em; }
"""


def build_page():  # noqa: C901  (one page of UI declarations)
    """The Solara ``Page`` component (built on import of :data:`Page`)."""
    import threading

    import numpy as np
    import solara
    import solara.server.kernel_context

    from sim.classroom import COMPOSE_LOCK, ClassroomModel, brief, text_in_words
    from sim.dashboard import charts
    from sim.dashboard.menus import agendas_for, offered, scenario_items
    from sim.dashboard.vega import Vega
    from sim.model import _static
    from sim.rooms import REGISTRY, frontier, new_token

    threading.Thread(target=offered, daemon=True).start()  # the menus take a few seconds to check: start now

    class DashboardModel(ClassroomModel):
        """The classroom model with the dashboard's salience book (per browser session)."""

        def __init__(self, scenario: str = "sharm_el_sheikh_2025", agenda: str = "comprehensive",
                     rng: int = 0, trust: float | None = None, credibility: float | None = None,
                     pressure: float | None = None, book: dict | None = None) -> None:
            self.book = book if book is not None else {}
            super().__init__(scenario=scenario, agenda=agenda, rng=int(rng), trust=trust,
                             credibility=credibility, pressure=pressure, trajectories=True,
                             salience=self.book.get(scenario))
            self.params = {"scenario": scenario, "agenda": agenda, "rng": int(rng), "trust": trust,
                           "credibility": credibility, "pressure": pressure, "book": self.book}

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

    # -- pieces shared by the pages ------------------------------------------------------------
    @solara.component
    def Chart(make, key, kind: str):
        """A browser-drawn chart. ``make()`` builds its Vega-Lite spec, again whenever ``key`` changes.

        The spec goes straight to the widget in an effect rather than through the element's
        arguments: a spec holds thousands of data rows, which the renderer would otherwise walk
        and compare on every render of the page.
        """
        widget = solara.use_memo(lambda: Vega(spec={}, values={}), [])
        solara.use_effect(lambda: widget.close, [])  # the widget goes with the component
        solara.Div(classes=["chart", kind], style={"width": "100%"}, children=[widget])

        def draw():
            full = make()
            values = full.pop("datasets", {})
            with widget.hold_sync():
                widget.values = values  # a new round: new rows, the same compiled chart
                widget.spec = full  # sent (and recompiled) only when the chart itself changed

        solara.use_effect(draw, [key])

    @solara.component
    def Positions(model, version):
        sc = model.static.sc
        key = (id(model), model.round, version)
        legend = solara.use_memo(lambda: charts.legend_chart(sc.actors), [sc.actors])
        trace = solara.use_memo(lambda: charts.history(model), [key])
        with solara.Card("Positions over the rounds (black: the text on the table)", classes=["positions"]):
            Chart(lambda: legend, sc.actors, "legend")
            with solara.ColumnsResponsive(12, medium=6, large=4):
                for iss in sc.issues:
                    Chart(lambda iss=iss: charts.issue_chart(model, iss, trace=trace), key, f"issue-{iss}")

    @solara.component
    def TextInWords(model, version, large: bool = False):
        t = text_in_words(model)
        rows = "".join(f"<tr><td>{escape(r.issue)}</td><td>{r.value:.2f}</td><td>{escape(r.meaning)}</td>"
                       f"<td>{escape(r.state)}</td></tr>" for r in t.itertuples())
        with solara.Card(f"The text after round {model.round}", classes=["text-in-words"] + (["projector"] if large
                                                                                            else [])):
            solara.HTML(tag="table", unsafe_innerHTML=(
                "<tr><th align='left'>issue</th><th>value</th><th align='left'>meaning</th>"
                "<th align='left'>state</th></tr>" + rows), style={"width": "100%"})

    @solara.component
    def Utilities(model, version):
        with solara.Card("Utility of the text against the no-deal value", classes=["utilities"]):
            Chart(lambda: charts.utility_chart(model), (id(model), model.round, version), "utility-chart")

    @solara.component
    def Network(model, version, seated=()):
        with solara.Card("Channels and leverage", classes=["network"]):
            Chart(lambda: charts.network_chart(model, seated), (id(model), model.round, version, seated),
                  "network-chart")

    @solara.component
    def Log(model, version):
        line = model.log[-1] if model.log else "Round 0: nothing yet; the first round has not been played."
        with solara.Card("Last round", classes=["round-log"]):
            solara.Text(line)
        with solara.Details("Every round so far"):
            solara.HTML(tag="ol", unsafe_innerHTML="".join(f"<li>{escape(x)}</li>" for x in model.log))

    @solara.component
    def Brief(model, actor: str, expand: bool = True):
        b = brief(model, actor)
        items = lambda xs: "".join(f"<li>{escape(x)}</li>" for x in xs)  # noqa: E731
        with solara.Details(f"Your private brief as {actor} (only you see it)", expand=expand):
            solara.HTML(tag="div", classes=["brief"], unsafe_innerHTML=(
                f"<p>{escape(b['who'])}</p><p><b>What matters to you, most first</b></p>"
                f"<ul>{items(b['priorities'])}</ul>"
                f"<p><b>Your red lines</b></p><ul>{items(b['red_lines'])}</ul>"
                f"<p><b>No deal</b>: {escape(b['no_deal'])}</p><p>{escape(b['clock'])}</p>"))

    @solara.component
    def ScenarioSelect(value: str, on_value):
        solara.v.Select(label="Scenario", items=scenario_items(), v_model=value, on_v_model=on_value,
                        class_="scenario-select")

    @solara.component
    def CounterOffer(model, actor: str, version, on_preview, on_send):
        """Sliders for the open issues, starting where the actor stands (or its last offer)."""
        sc = model.static.sc
        a = sc.actors.index(actor)
        stated = model.stated.get(actor, {})
        start = {iss: round(float(stated.get(iss, model.batch.pos[0, a, sc.issues.index(iss)])), 2)
                 for iss in model.open_issues}
        draft = solara.use_reactive({})
        solara.use_effect(lambda: draft.set({}), [version])  # a played round starts from the new positions
        current = {iss: float(draft.value.get(iss, v)) for iss, v in start.items()}
        solara.HTML(tag="p", unsafe_innerHTML="<b>Counter-offer</b>: where you want each issue on the table "
                                             "(each slider starts at your current position)")
        for iss, cur in current.items():
            i = sc.issues.index(iss)

            def set_value(v, iss=iss):
                draft.value = {**draft.value, iss: float(v)}

            solara.SliderFloat(f"{iss}: {cur:.2f}", value=cur, min=0.0, max=1.0, step=0.05, on_value=set_value,
                               thumb_label=True)
            solara.Text(f"→ {sc.anchor_label(i, cur)}", style={"font-size": "0.9em"})
        with solara.Row():
            solara.Button("Preview the counter-offer", outlined=True, on_click=lambda: on_preview(dict(current)))
            solara.Button("Send the counter-offer", color="primary", on_click=lambda: on_send(dict(current)))

    # -- practice alone: one negotiation per browser session -----------------------------------
    @solara.component
    def Controls(model_r, book, version_r, running: bool, seated: str | None):
        """The settings and the buttons; re-drawn only when the talks end or a seat changes, not each round."""
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
            model_r.value = DashboardModel(scenario=scen.value, agenda=agenda.value, rng=int(seed.value),
                                           trust=float(trust.value), credibility=float(cred.value),
                                           pressure=float(press.value), book=book)
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
        pending = wanted != applied or any(abs(float(a) - float(b)) > 1e-6
                                           for a, b in zip(cond_applied, cond_wanted, strict=True))
        with solara.Card("Controls", classes=["controls"]):
            with solara.ColumnsResponsive(12, medium=6, large=3):
                ScenarioSelect(scen.value, set_scenario)
                solara.Select("Agenda", values=agendas, value=agenda)
                solara.SliderInt(f"Seed: {seed.value}", value=seed, min=0, max=99, thumb_label=True)
                solara.SliderFloat(f"Initial trust between the principals: {trust.value:.2f}", value=trust,
                                   min=0.0, max=1.0, step=0.05, thumb_label=True)
                solara.SliderFloat(f"Pressure (leverage multiplier): {press.value:.2f}", value=press, min=0.0,
                                   max=3.0, step=0.25, thumb_label=True)
                solara.SliderFloat(f"Guarantor credibility: {cred.value:.2f}", value=cred, min=0.0, max=1.0,
                                   step=0.05, thumb_label=True)
            with solara.Row():
                solara.Button("Step", color="primary", on_click=run(1), disabled=not m.running)
                solara.Button("10 rounds", on_click=run(10), disabled=not m.running)
                solara.Button("To the end", on_click=run(10_000), disabled=not m.running)
                solara.Button("Reset", color="warning", on_click=reset)
            if pending:
                solara.HTML(tag="p", classes=["note", "pending-note"], unsafe_innerHTML=(
                    "These settings take effect when you press <b>Reset</b> (the negotiation on screen still "
                    "uses the old ones)."))
            if m.seated and m.running:
                solara.HTML(tag="p", classes=["note", "step-note"], unsafe_innerHTML=(
                    f"You hold {escape(m.seated)}'s seat: <b>Step</b> plays a round in which {escape(m.seated)} "
                    "holds out (rejects the text, no new offer). Use the seat's buttons to accept or counter."))

    @solara.component
    def SoloSeat(model, version_r, version):
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
                solara.Text("Play one actor yourself: you decide whether it accepts the text, or you "
                            "counter with your own text; everyone else follows their strategy.")
                solara.Select("Actor", values=list(sc.actors), value=choice)
                solara.Button("Take the seat", color="primary", on_click=act(lambda: model.seat(choice.value)))
            else:
                me = model.seated
                ag = model.agent(me)
                u, r = model.own_utility(me), ag.reservation_value
                solara.HTML(tag="p", unsafe_innerHTML=(
                    f"<b>You are {escape(ag.label)}</b> ({', '.join(ag.roles)}). The text on the table is worth "
                    f"<b>{u:.2f}</b> to you; no deal is now worth <b>{r:.2f}</b>."))
                Brief(model, me, expand=False)
                if model.running:
                    solara.Text("Each move plays one round.", style={"font-size": "0.9em"})
                    with solara.Row():
                        solara.Button("Accept the text", color="success", on_click=act(lambda: model.play("accept")))
                        solara.Button("Hold out", on_click=act(lambda: model.play("hold")))
                    CounterOffer(model, me, version_r.value, show_preview,
                                 act(lambda offer: model.play("counter", offer)))
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

                    solara.SliderFloat(f"{iss}: {cur:.2f}", value=cur, min=0.0, max=1.0, step=0.05,
                                       on_value=set_value, thumb_label=True)
            solara.Button("Apply and restart the negotiation", color="primary", on_click=apply)
            if draft.value:
                solara.HTML(tag="p", classes=["note"], unsafe_innerHTML="Changed saliences take effect when you "
                            "press <b>Apply and restart</b>.")
            solara.Text("Saliences are judgements in the scenario file; changes last for this browser session "
                        "(Reset keeps them).", style={"font-size": "0.9em"})

    @solara.component
    def Status(model, version, extra: str = ""):
        sc = model.static.sc
        seats = getattr(model, "humans", [])
        seat = f" · seat: <b>{escape(', '.join(seats))}</b>" if seats else ""
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"<h3>{escape(sc.title)}</h3><p class='status-line'>Agenda <b>{escape(model.static.ag.name)}</b> · "
            f"round <b>{model.round}</b> · phase <b>{model.phase + 1} of {model.static.ag.n_phases}</b> · "
            f"status <b>{model.status}</b>{seat}{extra}</p>"))

    @solara.component
    def Solo():
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

    # -- rooms -----------------------------------------------------------------------------------
    def use_room_version(rooms):
        """Re-render when any of ``rooms`` changes (moves made in other browsers, the time limit)."""
        version = solara.use_reactive(0)

        context = solara.server.kernel_context.get_current_context()

        def poll(cancel: threading.Event):
            seen = None
            # stop with the component, or with the session (a closed tab), whichever comes first
            while not cancel.wait(POLL_SECONDS) and not context.closed_event.is_set():
                now = 0
                for room in rooms():
                    room.tick()
                    now += room.version + (10**6 if room.closed else 0)
                now += 10**9 * len(rooms())
                if now != seen:
                    seen = now
                    version.value += 1

        solara.use_thread(poll, dependencies=[], intrusive_cancel=False)
        return version.value

    @solara.component
    def Join():
        code = solara.use_reactive("")
        error = solara.use_reactive("")
        router = solara.use_router()

        def go():
            try:
                room = REGISTRY.get(code.value)
            except ValueError as e:
                error.value = str(e)
                return
            router.push(f"/?room={room.code}&token={new_token()}")

        with solara.Card("Join a room", classes=["join"]):
            solara.Text("Type the code on the teacher's screen.")
            solara.InputText("Room code", value=code, continuous_update=True)
            solara.Button("Join", color="primary", on_click=go)
            if error.value:
                solara.Error(error.value)

    @solara.component
    def RoomPage(code: str, token: str | None):
        router = solara.use_router()
        try:
            room = REGISTRY.get(code)
        except ValueError as e:
            solara.Error(str(e))
            Join()
            return
        tok = solara.use_memo(new_token, [])

        def give_token():  # this browser's seat token lives in the address, so a reload keeps the seat
            if not token:
                router.push(f"/?room={room.code}&token={tok}")

        solara.use_effect(give_token, [token])
        version = use_room_version(lambda: [room])
        error = solara.use_reactive("")
        preview = solara.use_reactive("")
        if room.closed:
            solara.Warning(f"Room {room.code} has been closed by the teacher.")
            return
        m = room.model
        mine = room.seat_of(token)

        def act(fn):
            def go(*args):
                try:
                    error.value = ""
                    fn(*args)
                except ValueError as e:
                    # a click that arrives just after the other side's move ended the talks needs no
                    # error: the page shows the outcome
                    error.value = str(e) if room.model.running else ""
                preview.value = ""
            return go

        def show_preview(offer):
            try:
                preview.value = room.preview(token, offer).summary()
                error.value = ""
            except ValueError as e:
                error.value = str(e)

        waiting = room.waiting_for()
        left = room.seconds_left()
        extra = f" · room <b>{room.code}</b>"
        if waiting:
            extra += f" · waiting for <b>{escape(', '.join(waiting))}</b>"
        if left is not None:
            extra += f" · <b>{left:.0f} s</b> left in this round"
        Status(m, version, extra)
        with solara.ColumnsResponsive(12, large=[5, 7]):
            with solara.Card(f"Your seat in room {room.code}", classes=["seat", "room-seat"]):
                if mine is None:
                    solara.Text("Pick the actor you will play. Actors nobody plays follow their strategies.")
                    for actor in room.actors:
                        taken = actor in room.seats
                        role = "principal" if m.static.sc.principal[m.static.sc.actors.index(actor)] else "other"
                        solara.Button(f"Take {actor}'s seat" + (" (taken)" if taken else ""), disabled=taken,
                                      color="primary" if role == "principal" and not taken else None,
                                      on_click=act(lambda actor=actor: room.take(token, actor)),
                                      classes=[f"take-{actor}"])
                else:
                    u, r = m.own_utility(mine), float(m.batch.rv[0, m.static.sc.actors.index(mine)])
                    solara.HTML(tag="p", classes=["you-are"], unsafe_innerHTML=(
                        f"<b>You are {escape(mine)}</b>. The text on the table is worth <b>{u:.2f}</b> to you; "
                        f"no deal is now worth <b>{r:.2f}</b>."))
                    Brief(m, mine)
                    if m.running:
                        moved = m.moves.get(mine)
                        if moved:
                            solara.Info(f"Your move this round: {moved[0]}. Waiting for "
                                        f"{', '.join(w for w in waiting if w != mine) or 'the round'}; you can "
                                        "still change it.", classes=["moved"])
                        with solara.Row():
                            solara.Button("Accept the text", color="success",
                                          on_click=act(lambda: room.move(token, "accept")))
                            solara.Button("Hold out", on_click=act(lambda: room.move(token, "hold")))
                        CounterOffer(m, mine, m.round, show_preview,
                                     act(lambda offer: room.move(token, "counter", offer)))
                        if preview.value:
                            solara.Info(preview.value, classes=["preview"])
                    else:
                        solara.Success(f"The talks have ended: {m.status} after {m.round} rounds.",
                                       classes=["outcome"])
                    ans = room.answer(token)
                    if ans is not None:
                        with solara.Card("What came of your last move", classes=["answer"]):
                            solara.Text(ans.summary())
                    solara.Button("Leave the seat", text=True, on_click=act(lambda: room.leave(token)))
                if error.value:
                    solara.Error(error.value)
            with solara.Column():
                Log(m, version)
                TextInWords(m, version)
        with solara.ColumnsResponsive(12, large=[8, 4]):
            Positions(m, version)
            Utilities(m, version)

    # -- the teacher: open rooms, the class board, the projector ---------------------------------
    @solara.component
    def Teacher():
        scen = solara.use_reactive("sharm_el_sheikh_2025")
        agenda = solara.use_reactive("comprehensive")
        seed = solara.use_reactive(0)
        limit = solara.use_reactive(0)
        n_rooms = solara.use_reactive(1)
        error = solara.use_reactive("")
        shown = solara.use_reactive("")
        version = use_room_version(REGISTRY.list)
        agendas = agendas_for(scen.value)
        if agenda.value not in agendas:
            agenda.value = agendas[0]

        def open_rooms():
            try:
                error.value = ""
                for _ in range(int(n_rooms.value)):
                    REGISTRY.open(scen.value, agenda.value, seed=int(seed.value),
                                  time_limit=float(limit.value) if limit.value else None)
            except ValueError as e:
                error.value = str(e)

        with solara.Card("Open rooms", classes=["open-rooms"]):
            with solara.ColumnsResponsive(12, medium=6, large=3):
                ScenarioSelect(scen.value, scen.set)
                solara.Select("Agenda", values=agendas, value=agenda)
                solara.SliderInt(f"Seed: {seed.value}", value=seed, min=0, max=99, thumb_label=True)
                solara.SliderInt(f"Time limit per round: {limit.value or 'none (wait for every seat)'}"
                                 + (" s" if limit.value else ""), value=limit, min=0, max=300, step=15,
                                 thumb_label=True)
                solara.SliderInt(f"Rooms to open: {n_rooms.value}", value=n_rooms, min=1, max=20,
                                 thumb_label=True)
            solara.Button("Open", color="primary", on_click=open_rooms)
            solara.Text("Students open this server's address, choose Join a room, and type the code.")
            if error.value:
                solara.Error(error.value)
        rooms = REGISTRY.list()
        rows = [r.row() for r in rooms]
        with solara.Card("Class board", classes=["board"]):
            if not rows:
                solara.Text("No rooms yet.")
            else:
                principals = [k[len("utility_"):] for k in rows[0] if k.startswith("utility_")]
                head = ("<tr><th>room</th><th>seats</th><th>round</th><th>outcome</th><th>text</th>"
                        + "".join(f"<th>{escape(p)}: utility / no deal</th>" for p in principals) + "</tr>")
                body = ""
                for r in rows:
                    cells = "".join(
                        f"<td>{r.get(f'utility_{p}', float('nan')):.2f} / {r.get(f'no_deal_{p}', float('nan')):.2f}"
                        "</td>" for p in principals)
                    body += (f"<tr><td class='join-code'>{r['room']}</td><td>{escape(r['seats'])}</td>"
                             f"<td>{r['round']}</td><td>{escape(r['outcome'])}</td><td>{escape(r['text'])}</td>"
                             f"{cells}</tr>")
                solara.HTML(tag="table", classes=["board-table"], unsafe_innerHTML=head + body,
                            style={"width": "100%"})
                for room in rooms:
                    with solara.Row():
                        solara.Text(f"Room {room.code}:")
                        solara.Button("Play the round now", small=True, on_click=room.play_round)
                        solara.Button("Reset", small=True, on_click=room.reset)
                        solara.Button("Close", small=True, color="error",
                                      on_click=lambda room=room: REGISTRY.close(room.code))
                        solara.Button("Show on the projector", small=True,
                                      on_click=lambda room=room: shown.set(room.code))
                solara.FileDownload(lambda: REGISTRY.csv(), filename="class_board.csv",
                                    label="Download the board (CSV)")
        for scenario in sorted({r["scenario"] for r in rows}):
            try:
                front = frontier(scenario, next(r["agenda"] for r in rows if r["scenario"] == scenario))
            except ValueError:
                continue
            with solara.Card(f"Outcomes: {scenario}", classes=["outcomes"]):
                mine = [r for r in rows if r["scenario"] == scenario]
                Chart(lambda front=front, mine=mine: charts.outcome_chart(front, mine), (version, str(mine)),
                      "outcome-chart")
        if shown.value:
            try:
                room = REGISTRY.get(shown.value)
            except ValueError:
                shown.value = ""
                return
            with solara.Card(f"Projector: room {room.code}", classes=["projector-view"]):
                Status(room.model, version)
                TextInWords(room.model, version, large=True)

    # -- the page and its address ----------------------------------------------------------------
    @solara.component
    def Page():
        router = solara.use_router()
        query = dict(kv.split("=", 1) for kv in (router.search or "").split("&") if "=" in kv)
        token, code, view = query.get("token"), query.get("room"), query.get("view", "")
        solara.Style(CSS)
        solara.Title("Negotiation classroom")
        with solara.Column(style={"padding": "8px", "max-width": "1600px"}):
            with solara.Row(classes=["nav"]):
                solara.Button("Practice alone", text=True, on_click=lambda: router.push("/"))
                solara.Button("Join a room", text=True, on_click=lambda: router.push("/?view=join"))
                solara.Button("Teacher: rooms and class board", text=True,
                              on_click=lambda: router.push("/?view=teacher"))
            if code:
                RoomPage(code, token)
            elif view == "join":
                Join()
            elif view == "teacher":
                Teacher()
            else:
                Solo()

    return Page, DashboardModel


def __getattr__(name: str):
    # ``solara run sim.app`` looks up ``Page``; building it lazily keeps imports light.
    if name in ("Page", "DashboardModel"):
        page, model = build_page()
        globals().update(Page=page, DashboardModel=model)
        return globals()[name]
    raise AttributeError(name)

# -- the command ----------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """``negotiate-dashboard``: serve the classroom dashboard (127.0.0.1 unless told)."""
    p = argparse.ArgumentParser(prog="negotiate-dashboard", description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this computer only; 0.0.0.0 opens it to the network)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--install-assets", action="store_true",
                   help="fetch the page's front-end files into the virtualenv with npm, then exit")
    args = p.parse_args(argv)
    if args.install_assets:
        got = install_assets()
        print(f"front-end assets in {cdn_dir()}: " + (f"installed {', '.join(got)}" if got else "already there"))
        return 0
    if missing_assets():
        print(f"negotiate-dashboard: front-end files missing in {cdn_dir()} ({', '.join(missing_assets())}); "
              "run `negotiate-dashboard --install-assets` once (needs npm), or `make dashboard`.", file=sys.stderr)
        return 2
    # a session whose page went away without closing is dropped after a few minutes (Solara's
    # default keeps it a day: thirty students' reloads would hold memory all day)
    env = dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="false")
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", "3m")
    cmd = [sys.executable, "-m", "solara", "run", "sim.app", "--host", args.host, "--port", str(args.port),
           "--production", "--no-open"]
    print(f"Negotiation classroom on http://{args.host}:{args.port}  (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
