"""The panels every view of the classroom page shares: charts, the text in words, the round log.

Each panel is a Solara component that draws one card of the page from a model (a
:class:`sim.classroom.ClassroomModel`) and a ``version`` number that changes whenever the
page should draw it again (a round played, a seat taken, a move made in another browser).
The practice page (:mod:`sim.dashboard.solo`), a room (:mod:`sim.dashboard.room`) and the
teacher's board (:mod:`sim.dashboard.teacher`) put them together.
"""

# ruff: noqa: N802  (Solara components are named like classes, as in its docs)
from __future__ import annotations

from html import escape

import solara

from sim.classroom import brief, text_in_words
from sim.dashboard import charts
from sim.dashboard.menus import scenario_items
from sim.dashboard.vega import Vega


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
    """The positions card: a legend of the actors, then one chart per issue of every actor's position by round.

    The black line in each chart is the text on the table.
    """
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
    """The text on the table as a table: each issue, its value, what the value means, and whether it is settled.

    ``large`` sets it in the projector's large type.
    """
    t = text_in_words(model)
    rows = "".join(
        f"<tr><td>{escape(r.issue)}</td><td>{r.value:.2f}</td><td>{escape(r.meaning)}</td>"
        f"<td>{escape(r.state)}</td></tr>"
        for r in t.itertuples()
    )
    with solara.Card(
        f"The text after round {model.round}", classes=["text-in-words"] + (["projector"] if large else [])
    ):
        solara.HTML(
            tag="table",
            unsafe_innerHTML=(
                "<tr><th align='left'>issue</th><th>value</th><th align='left'>meaning</th>"
                "<th align='left'>state</th></tr>" + rows
            ),
            style={"width": "100%"},
        )


@solara.component
def Utilities(model, version):
    """The utilities card: what the text on the table is worth to each actor, beside its no-deal value."""
    with solara.Card("Utility of the text against the no-deal value", classes=["utilities"]):
        Chart(lambda: charts.utility_chart(model), (id(model), model.round, version), "utility-chart")


@solara.component
def Network(model, version, seated=()):
    """The network card: who talks to whom and who has leverage over whom (``seated``: the actors people play)."""
    with solara.Card("Channels and leverage", classes=["network"]):
        Chart(lambda: charts.network_chart(model, seated), (id(model), model.round, version, seated), "network-chart")


@solara.component
def Log(model, version):
    """The round log: the last round in words, and every round so far under a fold."""
    line = model.log[-1] if model.log else "Round 0: nothing yet; the first round has not been played."
    with solara.Card("Last round", classes=["round-log"]):
        solara.Text(line)
    with solara.Details("Every round so far"):
        solara.HTML(tag="ol", unsafe_innerHTML="".join(f"<li>{escape(x)}</li>" for x in model.log))


@solara.component
def Brief(model, actor: str, expand: bool = True):
    """The private brief of the actor a student plays: who it is, its priorities, red lines, no deal, the clock."""
    b = brief(model, actor)
    items = lambda xs: "".join(f"<li>{escape(x)}</li>" for x in xs)  # noqa: E731
    with solara.Details(f"Your private brief as {actor} (only you see it)", expand=expand):
        solara.HTML(
            tag="div",
            classes=["brief"],
            unsafe_innerHTML=(
                f"<p>{escape(b['who'])}</p><p><b>What matters to you, most first</b></p>"
                f"<ul>{items(b['priorities'])}</ul>"
                f"<p><b>Your red lines</b></p><ul>{items(b['red_lines'])}</ul>"
                f"<p><b>No deal</b>: {escape(b['no_deal'])}</p><p>{escape(b['clock'])}</p>"
            ),
        )


@solara.component
def ScenarioSelect(value: str, on_value):
    """The scenario menu: the class scenarios first, then the technical ones under their own heading."""
    solara.v.Select(
        label="Scenario", items=scenario_items(), v_model=value, on_v_model=on_value, class_="scenario-select"
    )


@solara.component
def CounterOffer(model, actor: str, version, on_preview, on_send):
    """Sliders for the open issues, starting where the actor stands (or its last offer).

    Under each slider the value in words; below them, buttons to preview the counter-offer
    (``on_preview``) and to send it (``on_send``), each given ``{issue: value}``.
    """
    sc = model.static.sc
    a = sc.actors.index(actor)
    stated = model.stated.get(actor, {})
    start = {
        iss: round(float(stated.get(iss, model.batch.pos[0, a, sc.issues.index(iss)])), 2) for iss in model.open_issues
    }
    draft = solara.use_reactive({})
    solara.use_effect(lambda: draft.set({}), [version])  # a played round starts from the new positions
    current = {iss: float(draft.value.get(iss, v)) for iss, v in start.items()}
    solara.HTML(
        tag="p",
        unsafe_innerHTML="<b>Counter-offer</b>: where you want each issue on the table "
        "(each slider starts at your current position)",
    )
    for iss, cur in current.items():
        i = sc.issues.index(iss)

        def set_value(v, iss=iss):
            draft.value = {**draft.value, iss: float(v)}

        solara.SliderFloat(
            f"{iss}: {cur:.2f}", value=cur, min=0.0, max=1.0, step=0.05, on_value=set_value, thumb_label=True
        )
        solara.Text(f"→ {sc.anchor_label(i, cur)}", style={"font-size": "0.9em"})
    with solara.Row():
        solara.Button("Preview the counter-offer", outlined=True, on_click=lambda: on_preview(dict(current)))
        solara.Button("Send the counter-offer", color="primary", on_click=lambda: on_send(dict(current)))


@solara.component
def Status(model, version, extra: str = ""):
    """The heading: the scenario's title, then agenda, round, phase, status and the seats people hold.

    ``extra`` is HTML appended to the status line (a room's code, who it waits for, the time left).
    """
    sc = model.static.sc
    seats = getattr(model, "humans", [])
    seat = f" · seat: <b>{escape(', '.join(seats))}</b>" if seats else ""
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<h3>{escape(sc.title)}</h3><p class='status-line'>Agenda <b>{escape(model.static.ag.name)}</b> · "
            f"round <b>{model.round}</b> · phase <b>{model.phase + 1} of {model.static.ag.n_phases}</b> · "
            f"status <b>{model.status}</b>{seat}{extra}</p>"
        ),
    )
