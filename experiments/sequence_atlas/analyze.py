"""Turn a sequence atlas (atlas.parquet, or the sweep directory) into its figures and rankings.

Usage:
    python experiments/sequence_atlas/analyze.py multirun/sequence_atlas/atlas.parquet --out figures/

Draws the heatmap of agreement rate by sequence and condition (a [0, 1] colour scale;
sequences that never agreed share one row), the ranked bars with 95% Wilson intervals
and the terms of agreement (each issue's mean agreed value with its 95% interval and
the number of agreed runs, each axis labelled with the scenario's anchor words at 0 and
1), as PNG and SVG with no label under 8 pt (:mod:`sim.plots`); prints the best and worst
sequences, the best cells (a sequence under one condition), how each condition moves the
agreement rate, and the issue that blocks most often under each agenda (:mod:`sim.report`).
Writes ``results.md`` beside the figures: the summary the experiment's README quotes.
Notebooks call the same functions.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sim import plots
from sim.api import load_scenario
from sim.report import CONDITIONS, blocking, load, rank, ranking_text


def results_markdown(df: pd.DataFrame, top: int = 5) -> str:
    """The README's summary of an atlas: the best ``top`` sequences, the worst, the never-agreeing
    count and the pooled rate at each condition level, as Markdown (``results.md``)."""
    r = rank(df)
    n_cond = df["condition"].nunique()
    runs = r["n"].to_numpy()
    each = f"{runs.min():,}" if runs.min() == runs.max() else f"{runs.min():,} to {runs.max():,}"
    lines = [
        f"Agreement rate over all {n_cond} conditions, 95% Wilson interval, {each} runs each "
        f"({len(df):,} runs, {len(r)} sequences):",
        "",
        "| rank | sequence | agreement | median rounds |",
        "|---|---|---|---|",
    ]

    def row(x: pd.Series, rank_text: str) -> str:
        rounds = "-" if pd.isna(x["median_rounds"]) else f"{x['median_rounds']:g}"
        return f"| {rank_text} | {x['sequence']} | {x['rate']:.3f} [{x['low']:.3f}, {x['high']:.3f}] | {rounds} |"

    lines += [row(x, str(x["rank"])) for _, x in r.head(top).iterrows()]
    if len(r) > 2 * top:
        lines.append("| ... | | | |")
    lines += [row(x, str(x["rank"])) for _, x in r.tail(top).iterrows() if x["rank"] > top]
    never = r[r["agreements"] == 0]
    lines += [
        "",
        f"{len(never)} of the {len(r)} sequences never agreed"
        + (f" (95% upper bound {never['high'].max():.3f})." if len(never) else "."),
    ]
    pooled = []
    for col in CONDITIONS:
        by = rank(df, by=[col]).sort_values(col)
        pooled.append(f"{col[: -len('_level')]} " + " -> ".join(f"{x:.3f}" for x in by["rate"]))
    lines.append("Pooled over sequences, lowest to highest level: " + "; ".join(pooled) + ".")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("atlas", help="atlas.parquet (from negotiate-report) or a sweep directory")
    ap.add_argument("--out", default="figures", help="folder for the figures (default: figures/)")
    ap.add_argument("--top", type=int, default=5, help="how many best and worst sequences to print")
    ap.add_argument(
        "--scenario",
        help="the scenario choice whose anchor words label the terms figure (default: the atlas's scenario column)",
    )
    a = ap.parse_args(argv)
    df = load(a.atlas)
    out = Path(a.out)
    sc = load_scenario(a.scenario or str(df["scenario"].iloc[0])).sc
    written = []
    for name, fig in (
        ("heatmap", plots.atlas_heatmap(df)),
        ("ranking", plots.ranking_figure(df)),
        ("terms", plots.terms_figure(df, sc)),
    ):
        written += plots.save_figure(fig, out / name)
    r = rank(df)
    print(f"{len(df)} runs, {len(r)} sequences, {df['condition'].nunique()} conditions\n")
    print(f"Best and worst {a.top} sequences (agreement rate, 95% Wilson interval):")
    print(ranking_text(r, a.top))
    print("\nBest cells (a sequence under one condition):")
    cells = rank(df, by=["sequence", "condition"]).head(a.top)
    for _, c in cells.iterrows():
        print(f"  {c['rate']:.3f} [{c['low']:.3f}, {c['high']:.3f}]  {c['sequence']}  {c['condition']}")
    print("\nAgreement rate by condition level (all sequences pooled):")
    for col in CONDITIONS:
        by = rank(df, by=[col]).sort_values(col)
        levels = ", ".join(
            f"{v:g}: {x:.3f} [{lo:.3f}, {hi:.3f}]"
            for v, x, lo, hi in zip(by[col], by["rate"], by["low"], by["high"], strict=True)
        )
        print(f"  {col[: -len('_level')]:<12} {levels}")
    print("\nThe issue that blocks most often, by agenda:")
    for _, b in blocking(df).iterrows():
        share = "" if pd.isna(b["share_of_failures"]) else f" ({b['share_of_failures']:.0%} of failed runs)"
        print(f"  {b['label']:<40} {b['blocking_issue'] or '-'}{share}")
    summary = out / "results.md"
    summary.write_text(results_markdown(df, a.top))
    written.append(summary)
    print("\nWrote " + ", ".join(str(p) for p in written))


if __name__ == "__main__":
    main()
