"""Charts the browser draws (Vega-Lite specs, rendered in the page), sized for a projector.

Each function turns the model's arrays into a small Vega-Lite spec (a plain dict): no
picture is drawn on the server, so a step costs the round and a few kilobytes of JSON.
The specs are written as dicts rather than through Altair's objects, which cost ~10 ms
per chart to build. Charts fill their card's width (``"width": "container"``); every
label is at least 12 px; legends name every actor.
"""

from __future__ import annotations

import numpy as np

from sim.plots import ACTOR_COLOURS, _layout

FONT = 13  # px: labels and titles, readable at 1024x768 on a projector
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
TEXT_COLOUR = "#000000"
CONFIG = {
    "axis": {"labelFontSize": FONT - 1, "titleFontSize": FONT, "labelLimit": 170},
    "legend": {
        "labelFontSize": FONT - 1,
        "titleFontSize": FONT,
        "orient": "bottom",
        "columns": 8,
        "symbolStrokeWidth": 3,
        "labelLimit": 220,
    },
    "title": {"fontSize": FONT + 1, "anchor": "start"},
    "view": {"stroke": None},
}


def spec(
    layers: list[dict],
    title: str,
    height: int,
    data: list[dict] | None = None,
    datasets: dict[str, list[dict]] | None = None,
) -> dict:
    """A layered chart at the container's width; its rows in named ``datasets`` (``rows`` for ``data``).

    The rows are kept apart from the rest of the spec so a page can send a new round's rows
    without recompiling the chart (:class:`sim.dashboard.vega.Vega`).
    """
    out = {
        "$schema": SCHEMA,
        "title": title,
        "width": "container",
        "height": height,
        "config": CONFIG,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "layer": layers,
        "usermeta": {"embedOptions": {"actions": False, "renderer": "svg"}},
        "datasets": dict(datasets or {}),
    }
    if data is not None:
        out["data"] = {"name": "rows"}
        out["datasets"]["rows"] = data
    return out


def actor_scale(actors) -> dict:
    """Every actor's colour (in the scenario's order) and black for the text."""
    return {
        "domain": [*actors, "text"],
        "range": [ACTOR_COLOURS[a % len(ACTOR_COLOURS)] for a in range(len(actors))] + [TEXT_COLOUR],
    }


def _label_expr(anchors) -> str:
    """A Vega expression mapping tick values to (shortened) anchor labels."""
    parts = []
    for at, label in anchors:
        short = label if len(label) <= 26 else label[:25] + "…"
        short = short.replace("\\", "\\\\").replace("'", "\\'")
        parts.append(f"abs(datum.value - {float(at)}) < 1e-6 ? '{short}'")
    return " : ".join(parts) + " : ''"


def issue_chart(model, issue: str, legend: bool = False, height: int = 190, trace=None) -> dict:
    """One issue: every actor's position over the rounds (thin) and the text (thick black).

    ``trace``: :func:`history` of the model, if already at hand (one per page, not per issue).
    """
    sc = model.static.sc
    i = sc.issues.index(issue)
    pos, text = trace if trace is not None else history(model)
    n_rounds = text.shape[0]
    rows = []
    for t in range(n_rounds):
        for a, actor in enumerate(sc.actors):
            v = float(pos[t, a, i])
            rows.append({"round": t, "who": actor, "value": round(v, 3), "w": 1.8})
        rows.append({"round": t, "who": "text", "value": round(float(text[t, i]), 3), "w": 4.0})
    anchors = sc.anchors[i]
    axis = {"values": [float(a) for a, _ in anchors] or [0.0, 0.5, 1.0], "title": None}
    if anchors:
        axis["labelExpr"] = _label_expr(anchors)
    line = {
        "mark": {"type": "line", "interpolate": "step-after"},
        "encoding": {
            "x": {
                "field": "round",
                "type": "quantitative",
                "title": "round",
                "axis": {"tickMinStep": 1, "format": "d"},
            },
            "y": {"field": "value", "type": "quantitative", "scale": {"domain": [0, 1]}, "axis": axis},
            "color": {
                "field": "who",
                "type": "nominal",
                "scale": actor_scale(sc.actors),
                "title": "",
                "legend": {"orient": "bottom"} if legend else None,
            },
            "strokeWidth": {"field": "w", "type": "quantitative", "scale": None, "legend": None},
            "tooltip": [{"field": "who"}, {"field": "round"}, {"field": "value", "format": ".2f"}],
        },
    }
    return spec([line], issue, height, rows)


def history(model) -> tuple[np.ndarray, np.ndarray]:
    """``(pos [T+1, A, I], text [T+1, I])``: positions and text per round, from the model's trace."""
    if hasattr(model, "trace"):
        return model.trace
    from sim.classroom import trajectories

    sc = model.static.sc
    text, pos = trajectories(model)
    t = len(text)
    p = np.stack([pos[f"position_{iss}"].to_numpy().reshape(t, sc.n_actors) for iss in sc.issues], axis=-1)
    x = np.stack([text[f"text_{iss}"].to_numpy() for iss in sc.issues], axis=-1)
    return p, x


def legend_chart(actors) -> dict:
    """A legend alone (who is which colour), to sit above the small issue charts."""
    rows = [{"who": w, "k": k} for k, w in enumerate([*actors, "text"])]
    enc = {"x": {"field": "k", "type": "ordinal", "axis": None}}
    dots = {
        "mark": {"type": "point", "filled": True, "size": 180},
        "encoding": {**enc, "color": {"field": "who", "type": "nominal", "scale": actor_scale(actors), "legend": None}},
    }
    names = {
        "mark": {"type": "text", "align": "left", "dx": 10, "fontSize": FONT},
        "encoding": {**enc, "text": {"field": "who"}},
    }
    return spec([dots, names], "", 24, rows)


def utility_chart(model) -> dict:
    """Each actor's expected utility of the text (bar: green accepts, red holds out), no-deal value and aspiration."""
    rows = [
        {
            "actor": ag.name,
            "utility": round(ag.expected_utility, 3),
            "no_deal": round(ag.reservation_value, 3),
            "aspiration": round(ag.aspiration, 3),
            "verdict": "accepts" if ag.accepts else "holds out",
        }
        for ag in model.negotiators
    ]
    y = {"field": "actor", "type": "nominal", "sort": [r["actor"] for r in rows], "title": None}
    tip = [{"field": k} for k in ("actor", "utility", "no_deal", "aspiration", "verdict")]
    bars = {
        "mark": {"type": "bar", "opacity": 0.8},
        "encoding": {
            "x": {"field": "utility", "type": "quantitative", "scale": {"domain": [0, 1]}, "title": "utility"},
            "y": y,
            "color": {
                "field": "verdict",
                "type": "nominal",
                "title": "last round",
                "scale": {"domain": ["accepts", "holds out"], "range": ["#2e8b57", "#c0392b"]},
            },
            "tooltip": tip,
        },
    }
    rv = {
        "mark": {"type": "tick", "color": "black", "thickness": 3, "size": 24},
        "encoding": {"x": {"field": "no_deal", "type": "quantitative"}, "y": y, "tooltip": tip},
    }
    asp = {
        "mark": {"type": "point", "shape": "triangle-down", "filled": True, "color": "#333333", "size": 110},
        "encoding": {"x": {"field": "aspiration", "type": "quantitative"}, "y": y, "tooltip": tip},
    }
    return spec(
        [bars, rv, asp], "bar = utility of the text, | = no-deal value, ▼ = aspiration", 34 * len(rows) + 20, rows
    )


def network_chart(model, seated=()) -> dict:
    """Channels (grey, thicker = stronger), leverage (red, dot at the pressed end), accepting actors green."""
    sc = model.static.sc
    lay = _layout(sc)
    g, lev = sc.graph(), sc.leverage_graph()
    edges = [
        {
            "x": float(lay[u][0]),
            "y": float(lay[u][1]),
            "x2": float(lay[v][0]),
            "y2": float(lay[v][1]),
            "w": 1 + 5 * float(d["weight"]),
            "kind": "channel",
        }
        for u, v, d in g.edges(data=True)
    ]
    for u, v, d in lev.edges(data=True):
        edges.append(
            {
                "x": float(lay[u][0]),
                "y": float(lay[u][1]) + 0.08,
                "x2": float(lay[v][0]),
                "y2": float(lay[v][1]) + 0.08,
                "w": 2 + 3 * float(d.get("strength", 1.0)),
                "kind": f"leverage {u} → {v}",
            }
        )
    ys = [float(p[1]) for p in lay.values()]
    xs = {"domain": [-1.5, 1.5]}
    yscale = {"domain": [min(ys) - 0.6, max(ys) + 0.6]}
    nodes = [
        {
            "actor": a,
            "x": float(lay[a][0]),
            "y": float(lay[a][1]),
            "state": ("seated, " if a in seated else "") + ("accepts" if ag.accepts else "holds out"),
        }
        for a, ag in zip(sc.actors, model.negotiators, strict=True)
    ]
    x = {"field": "x", "type": "quantitative", "scale": xs, "axis": None}
    y = {"field": "y", "type": "quantitative", "scale": yscale, "axis": None}
    layers = [
        {
            "data": {"name": "edges"},
            "mark": {"type": "rule", "opacity": 0.7},
            "encoding": {
                "x": x,
                "y": y,
                "x2": {"field": "x2"},
                "y2": {"field": "y2"},
                "strokeWidth": {"field": "w", "type": "quantitative", "scale": None, "legend": None},
                "color": {"condition": {"test": "datum.kind == 'channel'", "value": "#999999"}, "value": "#c0392b"},
                "tooltip": [{"field": "kind"}],
            },
        },
        {
            "data": {"name": "levers"},
            "mark": {"type": "point", "filled": True, "size": 90, "color": "#c0392b"},
            "encoding": {"x": {**x, "field": "x2"}, "y": {**y, "field": "y2"}, "tooltip": [{"field": "kind"}]},
        },
        {
            "data": {"name": "nodes"},
            "mark": {"type": "circle", "size": 1500, "opacity": 0.9},
            "encoding": {
                "x": x,
                "y": y,
                "tooltip": [{"field": "actor"}, {"field": "state"}],
                "color": {
                    "condition": {"test": "indexof(datum.state, 'accepts') >= 0", "value": "#2e8b57"},
                    "value": "#c0392b",
                },
            },
        },
        {
            "data": {"name": "nodes"},
            "mark": {"type": "text", "fontSize": FONT, "color": "white", "fontWeight": "bold"},
            "encoding": {"x": x, "y": y, "text": {"field": "actor"}},
        },
    ]
    return spec(
        layers,
        "Channels (grey) and leverage (red, dot on the pressed side); green accepts",
        300,
        datasets={"edges": edges, "levers": [e for e in edges if e["kind"] != "channel"], "nodes": nodes},
    )


def outcome_chart(front: dict, rows) -> dict:
    """Every room's outcome against the principals' Pareto frontier, Nash point and no-deal point."""
    a, b = front["actors"]
    line = [{"ua": round(float(p[0]), 4), "ub": round(float(p[1]), 4)} for p in front["frontier"]]
    marks = [
        {"ua": front["nash"][0], "ub": front["nash"][1], "what": "Nash point"},
        {"ua": front["no_deal"][0], "ub": front["no_deal"][1], "what": "no deal (judged)"},
    ]
    for r in rows:
        if f"utility_{a}" in r and f"utility_{b}" in r:
            marks.append(
                {"ua": r[f"utility_{a}"], "ub": r[f"utility_{b}"], "what": f"room {r['room']} ({r['outcome']})"}
            )
    lo = min([0.0] + [float(m["ua"]) for m in marks] + [float(m["ub"]) for m in marks])
    lo = float(np.floor(lo * 10) / 10)  # a room below zero (a text worse than nothing) stays on the chart
    x = {
        "field": "ua",
        "type": "quantitative",
        "title": f"{a}'s utility",
        "scale": {"domain": [lo, 1]},
        "axis": {"tickCount": 8},
    }
    y = {"field": "ub", "type": "quantitative", "title": f"{b}'s utility", "scale": {"domain": [lo, 1]}}
    layers = [
        {
            "data": {"name": "frontier"},
            "mark": {"type": "line", "color": "#555555", "strokeWidth": 2, "clip": True},
            "encoding": {"x": x, "y": y},
        },
        {
            "data": {"name": "marks"},
            "mark": {"type": "point", "filled": True, "size": 170},
            "encoding": {
                "x": x,
                "y": y,
                "color": {"field": "what", "type": "nominal", "title": ""},
                "shape": {"field": "what", "type": "nominal", "title": ""},
                "tooltip": [
                    {"field": "what"},
                    {"field": "ua", "format": ".3f", "title": a},
                    {"field": "ub", "format": ".3f", "title": b},
                ],
            },
        },
    ]
    return spec(
        layers,
        "Outcomes against the Pareto frontier (grey line) and the Nash point",
        360,
        datasets={"frontier": line, "marks": marks},
    )
