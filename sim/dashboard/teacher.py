"""The teacher's board: open rooms, follow the class, show one room on the projector.

The view (``/?view=teacher``) has a card to open rooms (scenario, agenda, seed, a time
limit per round, how many rooms), the class board (one row per room: seats, round,
outcome, the text and each principal's utility against its no-deal value, with buttons to
play a round, reset, close or project a room, and a CSV download), one outcome chart per
scenario against its Pareto frontier, and a large projector view of one room's text.
"""

# ruff: noqa: N802  (Solara components are named like classes, as in its docs)
from __future__ import annotations

from html import escape

import solara

from sim.dashboard import charts
from sim.dashboard.menus import agendas_for
from sim.dashboard.panels import Chart, ScenarioSelect, Status, TextInWords
from sim.dashboard.room import use_room_version
from sim.rooms import REGISTRY, frontier


def board_table(rows: list[dict]) -> str:
    """The class board as an HTML table: one row per room, a utility / no-deal column per principal."""
    principals = [k[len("utility_") :] for k in rows[0] if k.startswith("utility_")]
    head = (
        "<tr><th>room</th><th>seats</th><th>round</th><th>outcome</th><th>text</th>"
        + "".join(f"<th>{escape(p)}: utility / no deal</th>" for p in principals)
        + "</tr>"
    )
    body = ""
    for r in rows:
        cells = "".join(
            f"<td>{r.get(f'utility_{p}', float('nan')):.2f} / {r.get(f'no_deal_{p}', float('nan')):.2f}</td>"
            for p in principals
        )
        body += (
            f"<tr><td class='join-code'>{r['room']}</td><td>{escape(r['seats'])}</td>"
            f"<td>{r['round']}</td><td>{escape(r['outcome'])}</td><td>{escape(r['text'])}</td>"
            f"{cells}</tr>"
        )
    return head + body


def class_board(rooms, rows: list[dict], shown) -> None:
    """The class board card: the table, then per room Play the round now, Reset, Close, Show on the projector.

    Ends with the CSV download. ``shown`` is the reactive code of the projected room. Drawn
    while rendering :func:`Teacher`.
    """
    with solara.Card("Class board", classes=["board"]):
        if not rows:
            solara.Text("No rooms yet.")
        else:
            solara.HTML(
                tag="table", classes=["board-table"], unsafe_innerHTML=board_table(rows), style={"width": "100%"}
            )
            for room in rooms:
                with solara.Row():
                    solara.Text(f"Room {room.code}:")
                    solara.Button("Play the round now", small=True, on_click=room.play_round)
                    solara.Button("Reset", small=True, on_click=room.reset)
                    solara.Button(
                        "Close", small=True, color="error", on_click=lambda room=room: REGISTRY.close(room.code)
                    )
                    solara.Button("Show on the projector", small=True, on_click=lambda room=room: shown.set(room.code))
            solara.FileDownload(lambda: REGISTRY.csv(), filename="class_board.csv", label="Download the board (CSV)")


def outcome_charts(rows: list[dict], version) -> None:
    """One card per scenario in play: the rooms' outcomes against the scenario's Pareto frontier.

    A scenario whose frontier cannot be computed gets no card. Drawn while rendering :func:`Teacher`.
    """
    for scenario in sorted({r["scenario"] for r in rows}):
        try:
            front = frontier(scenario, next(r["agenda"] for r in rows if r["scenario"] == scenario))
        except ValueError:
            continue
        with solara.Card(f"Outcomes: {scenario}", classes=["outcomes"]):
            mine = [r for r in rows if r["scenario"] == scenario]
            Chart(
                lambda front=front, mine=mine: charts.outcome_chart(front, mine), (version, str(mine)), "outcome-chart"
            )


def projector(shown, version) -> None:
    """The projector card: the status and the text in large type of the room whose code ``shown`` holds.

    Nothing when no room is shown, or when that room is gone. Drawn while rendering :func:`Teacher`.
    """
    if shown.value:
        try:
            room = REGISTRY.get(shown.value)
        except ValueError:
            shown.value = ""
            return
        with solara.Card(f"Projector: room {room.code}", classes=["projector-view"]):
            Status(room.model, version)
            TextInWords(room.model, version, large=True)


@solara.component
def Teacher():
    """The teacher's view: the card to open rooms, the class board, the outcome charts, the projector."""
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
                REGISTRY.open(
                    scen.value,
                    agenda.value,
                    seed=int(seed.value),
                    time_limit=float(limit.value) if limit.value else None,
                )
        except ValueError as e:
            error.value = str(e)

    with solara.Card("Open rooms", classes=["open-rooms"]):
        with solara.ColumnsResponsive(12, medium=6, large=3):
            ScenarioSelect(scen.value, scen.set)
            solara.Select("Agenda", values=agendas, value=agenda)
            solara.SliderInt(f"Seed: {seed.value}", value=seed, min=0, max=99, thumb_label=True)
            solara.SliderInt(
                f"Time limit per round: {limit.value or 'none (wait for every seat)'}" + (" s" if limit.value else ""),
                value=limit,
                min=0,
                max=300,
                step=15,
                thumb_label=True,
            )
            solara.SliderInt(f"Rooms to open: {n_rooms.value}", value=n_rooms, min=1, max=20, thumb_label=True)
        solara.Button("Open", color="primary", on_click=open_rooms)
        solara.Text("Students open this server's address, choose Join a room, and type the code.")
        if error.value:
            solara.Error(error.value)
    rooms = REGISTRY.list()
    rows = [r.row() for r in rooms]
    class_board(rooms, rows, shown)
    outcome_charts(rows, version)
    projector(shown, version)
