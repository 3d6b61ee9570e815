"""Pictures of a negotiation, shared by the dashboard and the notebooks.

Every function draws on a fresh :class:`matplotlib.figure.Figure` (never pyplot's
global state, so two browsers drawing at once do not draw on each other) and returns
it. Issues are drawn with their anchor labels on the axis, so a reader sees "monitored
full decommissioning" rather than 0.75.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.model import NegotiationModel
from sim.scenario import Scenario

ROLE_COLOURS = {"principal": "#4c72b0", "mediator": "#dd8452", "guarantor": "#8172b2"}
ACTOR_COLOURS = ("#4c72b0", "#c44e52", "#dd8452", "#55a868", "#8172b2", "#937860", "#da8bc3", "#8c8c8c")


def actor_colour(a: int) -> str:
    return ACTOR_COLOURS[a % len(ACTOR_COLOURS)]


def short(label: str, width: int = 22, lines: int = 2) -> str:
    """An anchor label wrapped to fit beside a small panel."""
    return "\n".join(textwrap.wrap(label, width)[:lines]) if label else ""


def anchor_axis(ax, sc: Scenario, i: int, fontsize: float = 6.0) -> None:
    """Put issue ``i``'s anchor labels on the y axis of ``ax``."""
    anchors = sc.anchors[i]
    ax.set_ylim(-0.05, 1.05)
    if anchors:
        ax.set_yticks([a for a, _ in anchors])
        ax.set_yticklabels([short(lbl) for _, lbl in anchors], fontsize=fontsize)


def positions_figure(model: NegotiationModel, figsize: tuple[float, float] = (11.0, 6.0),
                     issues: Sequence[str] | None = None) -> Figure:
    """One small panel per issue: every actor's position over the rounds, and the text.

    The thick black line is the text on the table; coloured lines are the actors'
    positions (ideal points), which move with influence and counter-offers.
    """
    from sim.classroom import trajectories

    sc = model.static.sc
    text, pos = trajectories(model)
    names = list(issues or sc.issues)
    ncol = min(3, len(names))
    nrow = int(np.ceil(len(names) / ncol))
    fig = Figure(figsize=figsize, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol, sharex=True, squeeze=False)).ravel()
    for ax, iss in zip(axes, names, strict=False):
        i = sc.issues.index(iss)
        for a, actor in enumerate(sc.actors):
            rows = pos[pos["actor"] == actor]
            ax.plot(rows["step"], rows[f"position_{iss}"], color=actor_colour(a), lw=1.2, label=actor)
        ax.plot(text["round"], text[f"text_{iss}"], color="black", lw=2.4, label="text")
        ax.set_title(iss, fontsize=9)
        anchor_axis(ax, sc, i)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    for ax in axes[-ncol:]:
        ax.set_xlabel("round", fontsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8, frameon=False)
    return fig


def network_figure(model: NegotiationModel | Scenario, figsize: tuple[float, float] = (5.0, 4.2),
                   seated: str | None = None) -> Figure:
    """The channels between actors (grey, thicker = stronger) and leverage (red arrows).

    With a model, each node's ring shows whether that actor accepted the last text
    (green) or not (red); the seated actor is marked with a star.
    """
    sc = model if isinstance(model, Scenario) else model.static.sc
    accepts = None if isinstance(model, Scenario) else [ag.accepts for ag in model.negotiators]
    g, lev = sc.graph(), sc.leverage_graph()
    layout = _layout(sc)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    widths = [0.5 + 3.0 * d["weight"] for _, _, d in g.edges(data=True)]
    nx.draw_networkx_edges(g, layout, ax=ax, width=widths, edge_color="#999999")
    if lev.number_of_edges():
        strength = np.array([d["strength"] for _, _, d in lev.edges(data=True)])
        nx.draw_networkx_edges(lev, layout, ax=ax, width=list(1.0 + 3.0 * strength / strength.max()),
                               edge_color="#c0392b", arrows=True, arrowstyle="-|>", arrowsize=16,
                               connectionstyle="arc3,rad=0.25", node_size=1500)
    colours = [ROLE_COLOURS["principal"] if sc.principal[a] else ROLE_COLOURS["mediator"]
               for a in range(sc.n_actors)]
    rings = ["#444444" if accepts is None else ("#2e8b57" if accepts[a] else "#c0392b") for a in range(sc.n_actors)]
    nx.draw_networkx_nodes(g, layout, ax=ax, nodelist=list(sc.actors), node_color=colours, node_size=1500,
                           edgecolors=rings, linewidths=3.0)
    nx.draw_networkx_labels(g, layout, ax=ax, font_size=8, font_color="white")
    if seated in layout:
        x, y = layout[seated]
        ax.scatter([x], [y + 0.28], marker="*", s=220, color="gold", edgecolors="black", zorder=5)
    ax.set_title("channels (grey) and leverage (red arrows)", fontsize=9)
    ax.margins(0.18)
    ax.axis("off")
    return fig


def _layout(sc: Scenario) -> dict[str, np.ndarray]:
    """Principals on the left and right, everyone else in a column between them."""
    principals = [a for a, p in zip(sc.actors, sc.principal, strict=True) if p]
    others = [a for a, p in zip(sc.actors, sc.principal, strict=True) if not p]
    pos = {}
    for k, a in enumerate(principals):
        pos[a] = np.array([-1.0 if k % 2 == 0 else 1.0, 0.6 * (k // 2)])
    for k, a in enumerate(others):
        pos[a] = np.array([0.0, (len(others) - 1) / 2 - k])
    return pos


def utility_figure(model: NegotiationModel, figsize: tuple[float, float] = (5.0, 3.2)) -> Figure:
    """Each actor's expected utility of the text (bar) against its reservation value (|)
    and aspiration (triangle): an actor accepts when the bar reaches its aspiration."""
    from sim.classroom import utilities

    u = utilities(model)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(u))[::-1]
    colours = ["#2e8b57" if ok else "#c0392b" for ok in u["accepts"]]
    ax.barh(y, u["expected_utility"], color=colours, alpha=0.75, label="expected utility of the text")
    ax.scatter(u["reservation_value"], y, marker="|", s=400, color="black", linewidths=2.5,
               label="reservation value (no deal)", zorder=3)
    ax.scatter(u["aspiration"], y, marker="^", s=60, color="#333333", label="aspiration", zorder=3)
    ax.set_yticks(y)
    ax.set_yticklabels(u["actor"], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("utility", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=6.5, loc="lower left", framealpha=0.8)
    ax.set_title(f"round {model.round}: green accepts, red holds out", fontsize=9)
    return fig


def rate_figure(table: pd.DataFrame, x: str, label: str | None = None,
                figsize: tuple[float, float] = (5.0, 3.2)) -> Figure:
    """Agreement rate with its 95% interval against a condition (a table from
    :func:`sim.classroom.agreement_by`) or per agenda (from ``compare_agendas``)."""
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    rate = table["agreement_rate"].to_numpy()
    err = np.clip(np.vstack([rate - table["low"].to_numpy(), table["high"].to_numpy() - rate]), 0.0, None)
    if pd.api.types.is_numeric_dtype(table[x]):
        ax.errorbar(table[x], rate, yerr=err, marker="o", capsize=3)
    else:
        pos = np.arange(len(table))
        ax.bar(pos, rate, yerr=err, capsize=3, color="#4c72b0", alpha=0.8)
        ax.set_xticks(pos)
        ax.set_xticklabels([short(str(v), 18) for v in table[x]], fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("agreement rate (95% interval)", fontsize=8)
    ax.set_xlabel(label or x, fontsize=8)
    ax.grid(alpha=0.3)
    return fig
