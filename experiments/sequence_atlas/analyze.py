"""Turn a sequence atlas (atlas.parquet, or the sweep directory) into its figures and rankings.

Usage:
    python experiments/sequence_atlas/analyze.py multirun/sequence_atlas/atlas.parquet --out figures/

Draws the heatmap of agreement rate by sequence and condition, the ranked bars with 95%
Wilson intervals and the terms of agreement (PNG and SVG), prints the best and worst
sequences, the best cells (a sequence under one condition), how each condition moves
the agreement rate, and the issue that blocks most often under each agenda. All the
work is done by :mod:`sim.report`, which notebooks call the same way.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sim.report import CONDITIONS, blocking, load, plot_heatmap, plot_ranking, plot_terms, rank, ranking_text


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("atlas", help="atlas.parquet (from negotiate-report) or a sweep directory")
    ap.add_argument("--out", default="figures", help="folder for the figures (default: figures/)")
    ap.add_argument("--top", type=int, default=5, help="how many best and worst sequences to print")
    a = ap.parse_args(argv)
    df = load(a.atlas)
    out = Path(a.out)
    written = plot_heatmap(df, out / "heatmap") + plot_ranking(df, out / "ranking") + plot_terms(df, out / "terms")
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
        levels = ", ".join(f"{v:g}: {x:.3f} [{lo:.3f}, {hi:.3f}]"
                           for v, x, lo, hi in zip(by[col], by["rate"], by["low"], by["high"], strict=True))
        print(f"  {col[:-len('_level')]:<12} {levels}")
    print("\nThe issue that blocks most often, by agenda:")
    for _, b in blocking(df).iterrows():
        share = "" if pd.isna(b["share_of_failures"]) else f" ({b['share_of_failures']:.0%} of failed runs)"
        print(f"  {b['label']:<40} {b['blocking_issue'] or '-'}{share}")
    print("\nWrote " + ", ".join(str(p) for p in written))


if __name__ == "__main__":
    main()
