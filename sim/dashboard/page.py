"""The page and its address: the navigation bar, then the view the address asks for.

``/`` is practice alone (:mod:`sim.dashboard.solo`), ``/?view=join`` the join card and
``/?room=CODE&token=...`` a room (:mod:`sim.dashboard.room`), ``/?view=teacher`` the
teacher's board (:mod:`sim.dashboard.teacher`). :data:`CSS` sizes the page for a projector.
"""

# ruff: noqa: N802  (Solara components are named like classes, as in its docs)
from __future__ import annotations

import solara

from sim.dashboard.room import Join, RoomPage
from sim.dashboard.solo import Solo
from sim.dashboard.teacher import Teacher

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


@solara.component
def Page():
    """The whole page: the title, the navigation (practice, join, teacher), then the view its address names."""
    router = solara.use_router()
    query = dict(kv.split("=", 1) for kv in (router.search or "").split("&") if "=" in kv)
    token, code, view = query.get("token"), query.get("room"), query.get("view", "")
    solara.Style(CSS)
    solara.Title("Negotiation classroom")
    with solara.Column(style={"padding": "8px", "max-width": "1600px"}):
        with solara.Row(classes=["nav"]):
            solara.Button("Practice alone", text=True, on_click=lambda: router.push("/"))
            solara.Button("Join a room", text=True, on_click=lambda: router.push("/?view=join"))
            solara.Button("Teacher: rooms and class board", text=True, on_click=lambda: router.push("/?view=teacher"))
        if code:
            RoomPage(code, token)
        elif view == "join":
            Join()
        elif view == "teacher":
            Teacher()
        else:
            Solo()
