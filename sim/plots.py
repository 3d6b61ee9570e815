"""Pictures of a negotiation and of a sweep, shared by the dashboard, the notebooks and the experiments.

Every function draws on a fresh :class:`matplotlib.figure.Figure` (never pyplot's
global state, so two browsers drawing at once do not draw on each other) and returns
it. Issues are drawn with their anchor labels on the axis, in full, so a reader sees the
scenario's words for a point of the scale rather than 0.75, and every issue scale says
which end is which ("0 = <the words at 0> ... 1 = <the words at 1>"), taken from the
scenario file: nothing here knows a conflict. The figures are meant for print as well as the screen: no label
is smaller than 8 pt at the size the figure is saved, colour scales of a rate run over
[0, 1] and say what they measure, and every rate or mean carries its number of runs and
a 95% interval.
"""

from __future__ import annotations

import math
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
FONT = 8.0  # the smallest label, in points, at the saved size
TITLE_FONT = 9.5
Z95 = 1.959964


def actor_colour(a: int) -> str:
    """Actor ``a``'s colour, the same in every figure (the palette repeats after eight actors)."""
    return ACTOR_COLOURS[a % len(ACTOR_COLOURS)]


def short(label: str, width: int = 22, lines: int | None = None) -> str:
    """A label wrapped to ``width`` characters a line; every word kept unless ``lines`` caps it."""
    wrapped = textwrap.wrap(label, width) if label else []
    if lines is not None and len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1].rstrip(".,;") + " ..."
    return "\n".join(wrapped)


def scale_ends(sc: Scenario, issue: str) -> tuple[str, str]:
    """The anchor words at the two ends of an issue's scale (its lowest and highest anchors)."""
    anchors = sorted(sc.anchors[sc.issues.index(issue)])
    if not anchors:
        return ("", "")
    return (anchors[0][1], anchors[-1][1])


def scale_label(sc: Scenario, issue: str, width: int | None = None) -> str:
    """``"<issue>: 0 = <words at 0> ... 1 = <words at 1>"``, wrapped to ``width`` if given."""
    lo, hi = scale_ends(sc, issue)
    anchors = sorted(sc.anchors[sc.issues.index(issue)])
    if not anchors:
        return issue
    a0, a1 = anchors[0][0], anchors[-1][0]
    text = f"{issue}: {a0:g} = {lo} ... {a1:g} = {hi}"
    return text if width is None else "\n".join(textwrap.wrap(text, width))


def anchor_axis(ax, sc: Scenario, i: int, fontsize: float = FONT, width: int = 24) -> None:
    """Put issue ``i``'s anchor labels, whole and wrapped, on the y axis of ``ax``."""
    anchors = sc.anchors[i]
    ax.set_ylim(-0.05, 1.05)
    if anchors:
        ax.set_yticks([a for a, _ in anchors])
        ax.set_yticklabels([short(lbl, width) for _, lbl in anchors], fontsize=fontsize)


def positions_figure(
    model: NegotiationModel,
    figsize: tuple[float, float] | None = None,
    issues: Sequence[str] | None = None,
    ncol: int = 2,
) -> Figure:
    """One panel per issue: every actor's position over the rounds, and the text.

    The thick black line is the text on the table; coloured lines are the actors'
    positions (ideal points), which move with influence and counter-offers. Each panel's
    axis carries the issue's anchor words in full (wrapped, 8 pt); the default size gives
    every panel the height its anchors need.
    """
    from sim.classroom import trajectories

    sc = model.static.sc
    text, pos = trajectories(model)
    names = list(issues or sc.issues)
    ncol = max(1, min(ncol, len(names)))
    nrow = int(np.ceil(len(names) / ncol))
    if figsize is None:
        figsize = (5.2 * ncol + 0.6, 2.9 * nrow + 0.6)
    fig = Figure(figsize=figsize, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol, sharex=True, squeeze=False)).ravel()
    for ax, iss in zip(axes, names, strict=False):
        i = sc.issues.index(iss)
        for a, actor in enumerate(sc.actors):
            rows = pos[pos["actor"] == actor]
            ax.plot(rows["step"], rows[f"position_{iss}"], color=actor_colour(a), lw=1.2, label=actor)
        ax.plot(text["round"], text[f"text_{iss}"], color="black", lw=2.4, label="text")
        ax.set_title(iss, fontsize=TITLE_FONT)
        anchor_axis(ax, sc, i)
        ax.tick_params(axis="x", labelsize=FONT)
        ax.grid(alpha=0.3)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    for ax in axes[-ncol:]:
        ax.set_xlabel("round", fontsize=FONT)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=FONT, frameon=False)
    return fig


def network_figure(
    model: NegotiationModel | Scenario, figsize: tuple[float, float] = (5.0, 4.2), seated: str | None = None
) -> Figure:
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
        nx.draw_networkx_edges(
            lev,
            layout,
            ax=ax,
            width=list(1.0 + 3.0 * strength / strength.max()),
            edge_color="#c0392b",
            arrows=True,
            arrowstyle="-|>",
            arrowsize=16,
            connectionstyle="arc3,rad=0.25",
            node_size=1500,
        )
    colours = [ROLE_COLOURS["principal"] if sc.principal[a] else ROLE_COLOURS["mediator"] for a in range(sc.n_actors)]
    rings = ["#444444" if accepts is None else ("#2e8b57" if accepts[a] else "#c0392b") for a in range(sc.n_actors)]
    nx.draw_networkx_nodes(
        g, layout, ax=ax, nodelist=list(sc.actors), node_color=colours, node_size=1500, edgecolors=rings, linewidths=3.0
    )
    nx.draw_networkx_labels(g, layout, ax=ax, font_size=FONT, font_color="white")
    if seated in layout:
        x, y = layout[seated]
        ax.scatter([x], [y + 0.28], marker="*", s=220, color="gold", edgecolors="black", zorder=5)
    ax.set_title("channels (grey) and leverage (red arrows)", fontsize=TITLE_FONT)
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
    ax.scatter(
        u["reservation_value"],
        y,
        marker="|",
        s=400,
        color="black",
        linewidths=2.5,
        label="reservation value (no deal)",
        zorder=3,
    )
    ax.scatter(u["aspiration"], y, marker="^", s=60, color="#333333", label="aspiration", zorder=3)
    ax.set_yticks(y)
    ax.set_yticklabels(u["actor"], fontsize=FONT)
    ax.set_xlim(0, 1)
    ax.set_xlabel("expected utility of the text (1 = the actor's ideal text)", fontsize=FONT)
    ax.tick_params(axis="x", labelsize=FONT)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=FONT, frameon=False)
    ax.set_title(f"round {model.round}: green accepts, red holds out", fontsize=TITLE_FONT)
    return fig


def _n_text(n: Sequence[int] | np.ndarray) -> str:
    n = np.asarray(n, dtype=int)
    return f"n = {n.min():,} runs each" if n.min() == n.max() else f"n = {n.min():,} to {n.max():,} runs"


def rate_figure(
    table: pd.DataFrame, x: str, label: str | None = None, figsize: tuple[float, float] = (5.0, 3.2)
) -> Figure:
    """Agreement rate with its 95% interval against a condition (a table from
    :func:`sim.classroom.agreement_by`) or per agenda (from ``compare_agendas``); the
    number of runs behind each rate (``n_seeds`` or ``n``) is in the axis label."""
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
        ax.set_xticklabels([short(str(v), 18) for v in table[x]], fontsize=FONT)
    ax.set_ylim(0, 1)
    n_col = next((c for c in ("n_seeds", "n", "n_runs") if c in table.columns), None)
    n = f"; {_n_text(table[n_col])}" if n_col else ""
    ax.set_ylabel(f"agreement rate\n(95% Wilson interval{n})", fontsize=FONT)
    ax.set_xlabel(label or x, fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    ax.grid(alpha=0.3)
    return fig


# --------------------------------------------------------------------------- a sweep (the sequence atlas)


def _grouped_never(r: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A ranking split into the sequences that agreed at least once and those that never did."""
    never = r["agreements"] == 0
    return r[~never], r[never]


def _never_label(never: pd.DataFrame) -> str:
    n = never["n"].to_numpy(dtype=int)
    hi = float(never["high"].max())
    runs = f"{n.min():,}" if n.min() == n.max() else f"{n.min():,} to {n.max():,}"
    return f"{len(never)} sequences that never agreed\n(0 of {runs} runs each; 95% upper bound {hi:.3f})"


def atlas_heatmap(df: pd.DataFrame, figsize: tuple[float, float] | None = None) -> Figure:
    """Agreement rate by sequence (rows, best first) and condition (columns), on a [0, 1] scale.

    ``df`` is an atlas table (:func:`sim.report.load`). Sequences that never agreed under
    any condition share one row at the bottom, labelled with how many they are; the
    ranking lists them by name. The title gives the runs per cell and the widest 95%
    Wilson interval among the cells.
    """
    from sim.report import CONDITIONS, rank
    from sim.results import wilson

    r = rank(df)
    agreed, never = _grouped_never(r)
    cond = rank(df, by=["condition", *CONDITIONS]).sort_values(list(CONDITIONS))["condition"].tolist()
    cells = df.groupby(["sequence", "condition"])["agreement"].agg(["sum", "size"])
    piv = (cells["sum"] / cells["size"]).unstack("condition").reindex(index=agreed["sequence"], columns=cond)
    values = piv.to_numpy(dtype=float)
    labels = agreed["sequence"].astype(str).tolist()
    if len(never):
        values = np.vstack([values, np.zeros((1, len(cond)))])
        labels.append(_never_label(never))
    half = max(
        (hi - lo) / 2 for lo, hi in (wilson(int(k), int(n)) for k, n in zip(cells["sum"], cells["size"], strict=True))
    )
    n = cells["size"].to_numpy(dtype=int)
    rows = len(labels) + (1 if len(never) else 0)
    if figsize is None:
        figsize = (max(6.0, 0.24 * len(cond) + 4.8), max(3.2, 0.19 * rows + 2.2))
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(values, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_yticks(range(len(labels)), labels, fontsize=FONT)
    ax.set_xticks(range(len(cond)), cond, fontsize=FONT, rotation=90)
    if len(never):
        ax.axhline(len(labels) - 1.5, color="white", lw=2.0)
    ax.set_xlabel("condition: initial trust T, guarantor credibility C, pressure P", fontsize=FONT)
    runs = f"{n.min():,}" if n.min() == n.max() else f"{n.min():,} to {n.max():,}"
    ax.set_title(
        f"Agreement rate by sequence (best first) and condition\n{runs} runs per cell; "
        f"95% Wilson intervals at most +/- {half:.2f}",
        fontsize=TITLE_FONT,
    )
    cb = fig.colorbar(im, ax=ax, shrink=0.6 if rows > 12 else 0.9)
    cb.set_label("agreement rate: share of runs agreed\n(0 = no run agreed, 1 = every run agreed)", fontsize=FONT)
    cb.ax.tick_params(labelsize=FONT)
    return fig


def ranking_figure(df: pd.DataFrame, figsize: tuple[float, float] | None = None) -> Figure:
    """Agreement rate per sequence over all conditions with its 95% Wilson interval, best first.

    Sequences that never agreed share one bar (at 0, with their common upper bound).
    """
    from sim.report import rank

    r = rank(df)
    agreed, never = _grouped_never(r)
    rows = agreed.iloc[::-1]
    labels = rows["sequence"].astype(str).tolist()
    rate, low, high = (rows[c].to_numpy(dtype=float) for c in ("rate", "low", "high"))
    movers = sorted(r["first_mover"].astype(str).unique())
    palette = dict(zip(movers, ("#4c72b0", "#dd8452", "#55a868", "#8172b2", "#937860"), strict=False))
    colours = [palette.get(m, "#8c8c8c") for m in rows["first_mover"].astype(str)]
    if len(never):
        labels = [_never_label(never), *labels]
        rate, low, high = (
            np.concatenate([[v], a]) for v, a in ((0.0, rate), (0.0, low), (float(never["high"].max()), high))
        )
        colours = ["#8c8c8c", *colours]
    if figsize is None:
        figsize = (7.0, max(3.0, 0.19 * len(labels) + 1.8))
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(labels))
    ax.barh(y, rate, color=colours, height=0.7)
    ax.errorbar(rate, y, xerr=[rate - low, high - rate], fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
    ax.set_yticks(y, labels, fontsize=FONT)
    ax.set_xlim(0, 1)
    ax.tick_params(axis="x", labelsize=FONT)
    ax.set_xlabel(f"agreement rate over all conditions (95% Wilson interval; {_n_text(r['n'])})", fontsize=FONT)
    ax.set_title("Sequences ranked by agreement rate", fontsize=TITLE_FONT)
    from matplotlib.patches import Patch

    handles = [Patch(color=palette[m]) for m in movers]
    fig.legend(
        handles,
        [f"{m} open{'' if m == 'mediators' else 's'}" for m in movers],
        loc="outside lower center",
        ncol=len(movers),
        fontsize=FONT,
        frameon=False,
    )
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.grid(axis="x", alpha=0.3)
    return fig


def terms_figure(
    df: pd.DataFrame, sc: Scenario, figsize: tuple[float, float] | None = None, issues: Sequence[str] | None = None
) -> Figure:
    """Mean agreed value of each issue by sequence, over the runs that agreed, with a 95% interval.

    One panel per issue; each axis says what its ends mean (the scenario's anchor words at
    0 and 1). Rows are the sequences that agreed at least once, best first, each labelled
    with its number of agreed runs ``n``; the interval is mean +/- 1.96 standard errors.
    """
    from sim.report import rank

    r = rank(df)
    agreed, never = _grouped_never(r)
    names = [i for i in (issues or sc.issues) if f"term_{i}" in df.columns]
    ok = df[df["agreement"].astype(bool)]
    g = ok.groupby("sequence")
    order = agreed["sequence"].tolist()
    mean = g[[f"term_{i}" for i in names]].mean().reindex(order)
    sd = g[[f"term_{i}" for i in names]].std(ddof=1).reindex(order)
    count = g.size().reindex(order).fillna(0).astype(int)
    if figsize is None:
        figsize = (max(6.0, 1.9 * len(names) + 2.6), max(3.2, 0.19 * len(order) + 2.4))
    fig = Figure(figsize=figsize, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(1, len(names)), sharey=True, squeeze=False)).ravel()
    y = np.arange(len(order))[::-1]
    for ax, issue in zip(axes, names, strict=False):
        m = mean[f"term_{issue}"].to_numpy(dtype=float)
        se = sd[f"term_{issue}"].to_numpy(dtype=float) / np.sqrt(np.maximum(count.to_numpy(), 1))
        half = np.where(np.isfinite(se), Z95 * se, 0.0)
        ax.errorbar(m, y, xerr=half, fmt="o", ms=3, color="#4c72b0", ecolor="#333333", elinewidth=0.8, capsize=1.5)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.6, len(order) - 0.4)
        ax.set_xticks([0, 0.5, 1])
        ax.tick_params(labelsize=FONT)
        ax.grid(alpha=0.3)
        lo, hi = scale_ends(sc, issue)
        ax.set_title(issue, fontsize=TITLE_FONT)
        ax.set_xlabel(f"0 = {short(lo, 24)}\n...\n1 = {short(hi, 24)}", fontsize=FONT)
    axes[0].set_yticks(y, [f"{s} (n = {k:,})" for s, k in zip(order, count, strict=True)], fontsize=FONT)
    note = f"; {len(never)} sequences that never agreed are left out" if len(never) else ""
    fig.suptitle(
        f"Terms of agreement: mean agreed value per issue, 95% interval of the mean (bars; a dot\n"
        f"hides an interval narrower than itself); n = agreed runs of each sequence{note}",
        fontsize=TITLE_FONT,
    )
    return fig


def save_figure(fig: Figure, path, dpi: int = 150) -> list:
    """Write ``fig`` as PNG and SVG beside each other (no date in the SVG); returns both paths."""
    from pathlib import Path

    base = Path(path)
    base = base.with_suffix("") if base.suffix.lower() in (".png", ".svg") else base
    base.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in (".png", ".svg"):
        p = base.with_name(base.name + ext)
        fig.savefig(p, dpi=dpi, metadata={"Date": None} if ext == ".svg" else None)
        out.append(p)
    return out


def smallest_font(fig: Figure) -> float:
    """The smallest font size, in points, of any visible text in ``fig`` (checked by the tests).

    The figure is drawn first (with Agg), so that tick labels hold their text.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(lambda o: hasattr(o, "get_fontsize") and hasattr(o, "get_text"))
        if t.get_visible() and str(t.get_text()).strip()
    ]
    return min(sizes) if sizes else math.inf
