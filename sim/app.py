"""The classroom dashboard: one negotiation in the browser, with a seat for a student.

Start it with ``negotiate-dashboard`` and open http://127.0.0.1:8521. The sidebar is
Mesa's SolaraViz: play, step and reset, and the model's parameters (scenario, agenda,
seed, initial trust, pressure, guarantor credibility). The page shows every actor's
position on each issue over the rounds, the channels and who has leverage over whom,
the current text in words, each actor's utility against its reservation value, and
what happened in the last round. A student can take an actor's seat and decide for it:
accept, hold out, or counter by moving the actor's own position on the open issues.

Every browser session gets its own model, so two students on two laptops play two
independent negotiations. The page's front-end files are served from the virtualenv
(``share/solara/cdn``, filled by ``negotiate-dashboard --install-assets``), so it works
with no internet access.
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
# the earlier rounds' files (calibration data) are not for the classroom's menus: a round's
# agenda runs only with its own round scenario, and the shared base is no negotiation alone
CALIBRATION_ONLY = ("round_", "gaza_rounds_base")


def scenario_names() -> list[str]:
    return sorted(p.stem for p in (CONF / "scenario").glob("*.yaml") if not p.stem.startswith(CALIBRATION_ONLY))


def agenda_names() -> list[str]:
    return sorted(p.stem for p in (CONF / "agenda").glob("*.yaml") if not p.stem.startswith(CALIBRATION_ONLY))


def _solara():
    import solara  # noqa: F401  (imported late: the console script's --help needs no web stack)

    return solara


def build_page():  # noqa: C901  (one page of UI declarations)
    """The Solara ``Page`` component (built on import of :data:`Page`)."""
    import numpy as np
    import solara
    from mesa.visualization import SolaraViz
    from mesa.visualization.utils import force_update, update_counter

    from sim import plots
    from sim.classroom import ClassroomModel, text_in_words
    from sim.model import _static

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

    def model_params(book: dict) -> dict:
        sc = _static("sharm_el_sheikh_2025", "comprehensive", "mediated", ()).sc
        pr = sc.principal
        pairs = pr[:, None] & pr[None, :] & ~np.eye(sc.n_actors, dtype=bool)
        trust0 = round(float(sc.trust[pairs].mean()), 2) if pairs.any() else 0.5
        cred0 = float(sc.credibility[sc.guarantor].max()) if sc.guarantor.any() else 0.5
        return {
            "scenario": {"type": "Select", "value": "sharm_el_sheikh_2025", "values": scenario_names(),
                         "label": "Scenario"},
            "agenda": {"type": "Select", "value": "comprehensive", "values": agenda_names(), "label": "Agenda"},
            "rng": {"type": "SliderInt", "value": 0, "min": 0, "max": 99, "step": 1, "label": "Seed"},
            "trust": {"type": "SliderFloat", "value": trust0, "min": 0.0, "max": 1.0, "step": 0.05,
                      "label": "Initial trust between the principals"},
            "pressure": {"type": "SliderFloat", "value": 1.0, "min": 0.0, "max": 3.0, "step": 0.25,
                         "label": "Pressure (leverage multiplier)"},
            "credibility": {"type": "SliderFloat", "value": cred0, "min": 0.0, "max": 1.0, "step": 0.05,
                            "label": "Guarantor credibility"},
            "book": book,
        }

    def redraw() -> None:
        force_update()

    @solara.component
    def Status(model):
        update_counter.get()
        sc = model.static.sc
        seat = f" · seat: <b>{escape(model.seated)}</b>" if model.seated else ""
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"<h3>{escape(sc.title)}</h3><p class='status-line'>Agenda <b>{escape(model.static.ag.name)}</b> · "
            f"round <b>{model.round}</b> · phase <b>{model.phase + 1} of {model.static.ag.n_phases}</b> · "
            f"status <b>{model.status}</b>{seat}</p>"))
        line = model.log[-1] if model.log else "Round 0: nothing yet; press Step (or play) to start the talks."
        with solara.Card("Last round", classes=["round-log"]):
            solara.Text(line)
        with solara.Details("Every round so far"):
            solara.HTML(tag="ol", unsafe_innerHTML="".join(f"<li>{escape(x)}</li>" for x in model.log))

    @solara.component
    def Positions(model):
        update_counter.get()
        deps = [id(model), model.round]
        fig = solara.use_memo(lambda: plots.positions_figure(model, figsize=(10.5, 5.6)), deps)
        with solara.Card("Positions over the rounds (black: the text on the table)", classes=["positions"]):
            solara.FigureMatplotlib(fig, dependencies=deps, format="png")

    @solara.component
    def TextInWords(model):
        update_counter.get()
        t = text_in_words(model)
        rows = "".join(f"<tr><td>{escape(r.issue)}</td><td>{r.value:.2f}</td><td>{escape(r.meaning)}</td>"
                       f"<td>{escape(r.state)}</td></tr>" for r in t.itertuples())
        with solara.Card(f"The text after round {model.round}", classes=["text-in-words"]):
            solara.HTML(tag="table", unsafe_innerHTML=(
                "<tr><th align='left'>issue</th><th>value</th><th align='left'>meaning</th>"
                "<th align='left'>state</th></tr>" + rows), style={"font-size": "0.85em", "width": "100%"})

    @solara.component
    def Utilities(model):
        update_counter.get()
        deps = [id(model), model.round]
        fig = solara.use_memo(lambda: plots.utility_figure(model, figsize=(5.0, 3.4)), deps)
        with solara.Card("Utility of the text against reservation value", classes=["utilities"]):
            solara.FigureMatplotlib(fig, dependencies=deps, format="png")

    @solara.component
    def Network(model):
        update_counter.get()
        deps = [id(model), model.round, model.seated]
        fig = solara.use_memo(lambda: plots.network_figure(model, figsize=(5.0, 3.6), seated=model.seated), deps)
        with solara.Card("Channels and leverage", classes=["network"]):
            solara.FigureMatplotlib(fig, dependencies=deps, format="png")

    @solara.component
    def Seat(model):
        update_counter.get()
        sc = model.static.sc
        choice = solara.use_reactive(sc.actors[0])
        offer = solara.use_reactive({})
        error = solara.use_reactive("")
        if choice.value not in sc.actors:
            choice.value = sc.actors[0]

        def act(fn):
            def go():
                try:
                    error.value = ""
                    fn()
                except ValueError as e:
                    error.value = str(e)
                offer.value = {}
                redraw()
            return go

        with solara.Card("Take a seat", classes=["seat"]):
            if model.seated is None:
                solara.Text("Play one actor yourself: you decide whether it accepts the text, or you "
                            "counter by moving its position; everyone else follows their strategy.")
                solara.Select("Actor", values=list(sc.actors), value=choice)
                solara.Button("Take the seat", color="primary", on_click=act(lambda: model.seat(choice.value)))
            else:
                ag = model.agent(model.seated)
                solara.HTML(tag="p", unsafe_innerHTML=(
                    f"<b>You are {escape(ag.label)}</b> ({', '.join(ag.roles)}). Expected utility of the text "
                    f"<b>{ag.expected_utility:.2f}</b>, reservation value <b>{ag.reservation_value:.2f}</b>, "
                    f"aspiration <b>{ag.aspiration:.2f}</b>."))
                if model.running:
                    solara.Text("Each move plays one round.", style={"font-size": "0.8em"})
                    solara.Button("Accept the text", color="success",
                                  on_click=act(lambda: model.play("accept")))
                    solara.Button("Hold out", on_click=act(lambda: model.play("hold")))
                    solara.HTML(tag="p", unsafe_innerHTML="<b>Counter-offer</b>: your position on the issues "
                                                         "on the table")
                    a = sc.actors.index(model.seated)
                    for iss in model.open_issues:
                        i = sc.issues.index(iss)
                        cur = float(offer.value.get(iss, round(float(model.batch.pos[0, a, i]), 2)))

                        def set_value(v, iss=iss):
                            offer.value = {**offer.value, iss: v}

                        solara.SliderFloat(iss, value=cur, min=0.0, max=1.0, step=0.05, on_value=set_value)
                        solara.Text(f"→ {sc.anchor_label(i, cur)}", style={"font-size": "0.8em"})

                    def counter():
                        full = {iss: float(offer.value.get(iss, model.batch.pos[0, a, sc.issues.index(iss)]))
                                for iss in model.open_issues}
                        model.play("counter", full)

                    solara.Button("Counter-offer", color="primary", on_click=act(counter))
                else:
                    solara.Text(f"The talks have ended ({model.status}). Reset to play again.")
                solara.Button("Leave the seat", text=True, on_click=act(model.leave_seat))
                if model.answers:
                    with solara.Card("What came of your move", classes=["answer"]):
                        solara.Text(model.answers[-1].summary())
            if error.value:
                solara.Error(error.value)

    @solara.component
    def Salience(model_r):
        update_counter.get()
        model = model_r.value
        sc = model.static.sc
        who = solara.use_reactive(sc.actors[0])
        if who.value not in sc.actors:
            who.value = sc.actors[0]
        a = sc.actors.index(who.value)
        draft = solara.use_reactive({})

        def apply():
            scen = model.params["scenario"]
            book = model.book
            row = book.setdefault(scen, {}).setdefault(who.value, {})
            row.update(draft.value)
            draft.value = {}
            model_r.value = DashboardModel(**model.params)
            redraw()

        with solara.Card("Salience: how much each actor cares about each issue", classes=["salience"]):
            solara.Select("Actor", values=list(sc.actors), value=who)
            for i, iss in enumerate(sc.issues):
                cur = float(draft.value.get(iss, sc.salience[a, i]))

                def set_value(v, iss=iss):
                    draft.value = {**draft.value, iss: v}

                solara.SliderFloat(iss, value=cur, min=0.0, max=1.0, step=0.05, on_value=set_value)
            solara.Button("Apply and restart the negotiation", color="primary", on_click=apply)
            solara.Text("Saliences are judgements in the scenario file; changes last for this browser session "
                        "(Reset keeps them).", style={"font-size": "0.8em"})

    @solara.component
    def Page():
        book = solara.use_memo(dict, [])
        first = solara.use_memo(lambda: DashboardModel(book=book), [])
        model = solara.use_reactive(first)
        SolaraViz(model, components=[], model_params=model_params(book), name="Negotiation classroom",
                  play_interval=400)
        m = model.value
        with solara.Column(style={"padding": "8px"}):
            Status(m)
            with solara.Columns([3, 2]):
                Positions(m)
                Seat(m)
            with solara.Columns([4, 3, 3]):
                TextInWords(m)
                Utilities(m)
                Network(m)
            Salience(model)

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
    env = dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="false")
    cmd = [sys.executable, "-m", "solara", "run", "sim.app", "--host", args.host, "--port", str(args.port),
           "--production", "--no-open"]
    print(f"Negotiation classroom on http://{args.host}:{args.port}  (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
