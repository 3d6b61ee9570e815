"""Reading a sweep: merge its jobs into one table, rank the concession sequences, draw them.

A sweep directory holds one folder per Hydra job, each with ``runs.parquet`` (one row
per run) and ``job.json`` (its config and where it came from). :func:`merge` stacks the
finished jobs into one table, adding who moved first and a short label per sequence;
:func:`rank` orders the sequences by how often they reached agreement, with 95% Wilson
intervals, the median rounds to agreement and the mean agreed terms; :func:`blocking`
names the issue that most often stood in the way under each agenda; the ``plot_*``
functions draw the heatmap, the ranked bars and the terms; :func:`write_report` does all
of it and writes ``atlas.parquet``, the figures (PNG and SVG) and ``report.md``. The
``negotiate-report DIR`` command calls :func:`write_report` and prints the ranking.
Notebooks and ``experiments/*/analyze.py`` call the same functions.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ConfigError
from sim.io import write_parquet, write_text
from sim.results import wilson
from sim.sweep import ERROR_FILE, JOB_FILE, job_dirs, job_state, quiet_progress, read_json

ATLAS_FILE = "atlas.parquet"
CONDITIONS = ("trust_level", "credibility_level", "pressure_level")
SEQUENCE = ("agenda", "first_mover")  # what a concession sequence is: an agenda and who opens
SORT_KEYS = ("agenda", "first_mover", *CONDITIONS, "job", "seed")


# --------------------------------------------------------------------------- loading


def _first_mover(cfg: dict[str, Any]) -> str:
    fm = (cfg.get("agenda") or {}).get("first_mover", "mediators")
    return ">".join(str(x) for x in fm) if isinstance(fm, list) else str(fm)


def jobs(root: str | Path) -> pd.DataFrame:
    """One row per job folder of a sweep: its state, sequence, timing, memory and provenance."""
    root = Path(root)
    rows = []
    for d in job_dirs(root):
        state = job_state(d)
        rec = read_json(d / (JOB_FILE if state == "done" else ERROR_FILE)) or {}
        cfg = rec.get("config") or {}
        rows.append({
            "job": str(d.relative_to(root)) if d != root else ".",
            "state": state,
            "agenda_choice": rec.get("agenda_choice"),
            "first_mover": _first_mover(cfg) if cfg else None,
            "n_runs": rec.get("n_runs"),
            "wall_s": rec.get("wall_s"),
            "runs_per_s": rec.get("runs_per_s"),
            "peak_memory_mb": rec.get("peak_memory_mb"),
            "version": rec.get("version"),
            "git_commit": rec.get("git_commit"),
            "error": rec.get("error"),
        })
    cols = ["job", "state", "agenda_choice", "first_mover", "n_runs", "wall_s", "runs_per_s", "peak_memory_mb",
            "version", "git_commit", "error"]
    return pd.DataFrame(rows, columns=cols)


def _abbreviations(issues: Iterable[str]) -> dict[str, str]:
    """The shortest prefixes (3 letters at least) that tell the issues apart."""
    issues = sorted(set(issues))
    for n in range(3, max((len(i) for i in issues), default=3) + 1):
        short = {i: i[:n] for i in issues}
        if len(set(short.values())) == len(issues):
            return short
    return {i: i for i in issues}


def agenda_label(agenda: str, abbrev: dict[str, str] | None = None) -> str:
    """A short name for an agenda: ``exc+cea>dis>wit>gua>gov`` for an issue order, else its name."""
    if not agenda.startswith("sequence:"):
        return agenda
    phases = agenda[len("sequence:"):].split(">")
    ab = abbrev or {}
    return ">".join("+".join(ab.get(i, i) for i in ph.split("+")) for ph in phases)


def add_labels(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``sequence`` (short agenda label and first mover) and ``condition`` columns."""
    issues = [c[len("term_"):] for c in df.columns if c.startswith("term_")]
    ab = _abbreviations(issues)
    labels = {a: agenda_label(a, ab) for a in df["agenda"].unique()}
    df = df.copy()
    df["sequence"] = [f"{labels[a]} / {fm}" for a, fm in zip(df["agenda"], df["first_mover"], strict=True)]
    df["condition"] = condition_labels(df)
    return df


def condition_labels(df: pd.DataFrame) -> list[str]:
    """``T0.4 C0.6 P1`` per row (trust, guarantor credibility, pressure); ``-`` for the scenario's own."""
    def fmt(v: float) -> str:
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:g}"

    return [f"T{fmt(t)} C{fmt(c)} P{fmt(p)}" for t, c, p in
            zip(df["trust_level"], df["credibility_level"], df["pressure_level"], strict=True)]


def merge(root: str | Path, progress: bool | None = None) -> pd.DataFrame:
    """Stack the runs of every finished job under ``root`` into one table, sorted deterministically.

    Adds ``job`` (the folder, relative to ``root``), ``agenda_choice``, ``first_mover``,
    ``version``, ``sequence`` and ``condition``. Failed and unfinished jobs are left out
    (see :func:`jobs`). Rows are sorted by agenda, first mover, conditions, job and seed,
    so the same sweep gives the same table whatever order its jobs finished in.

    Raises:
        ConfigError: if ``root`` holds no finished job.
    """
    root = Path(root)
    done = [d for d in job_dirs(root) if job_state(d) == "done"]
    if not done:
        raise ConfigError(str(root), "DIR", "a sweep directory with finished jobs (runs.parquet and job.json)")
    it: Iterable[Path] = done
    if progress if progress is not None else not quiet_progress():
        from tqdm import tqdm

        it = tqdm(done, desc="merging jobs", unit="job", leave=False, file=sys.stderr)
    parts = []
    for d in it:
        t = pd.read_parquet(d / "runs.parquet")
        rec = read_json(d / JOB_FILE) or {}
        # a job that crosses several agendas (grid.agenda) names each row's choice itself
        choice = t.pop("agenda_choice") if "agenda_choice" in t.columns else rec.get("agenda_choice") or ""
        t["job"] = str(d.relative_to(root)) if d != root else "."
        t["agenda_choice"] = choice
        if "first_mover" not in t.columns:
            t["first_mover"] = _first_mover(rec.get("config") or {})
        t["version"] = rec.get("version") or ""
        parts.append(t)
    df = pd.concat(parts, ignore_index=True)
    df = df.sort_values(list(SORT_KEYS), kind="mergesort", na_position="first").reset_index(drop=True)
    return add_labels(df)


def load(path: str | Path) -> pd.DataFrame:
    """The atlas table: read ``atlas.parquet`` (a file, or in a directory) or merge the directory."""
    p = Path(path)
    if p.is_file():
        df = pd.read_parquet(p)
    elif (p / ATLAS_FILE).is_file():
        df = pd.read_parquet(p / ATLAS_FILE)
    else:
        return merge(p)
    return df if "sequence" in df.columns else add_labels(df)


# --------------------------------------------------------------------------- tables


def rank(df: pd.DataFrame, by: Sequence[str] = ("sequence",)) -> pd.DataFrame:
    """Sequences (or any grouping) ranked by agreement rate, best first.

    Columns: the ``by`` keys, ``agenda`` and ``first_mover`` when they are constant in a
    group, ``n`` runs, ``agreements``, ``rate`` with its 95% Wilson interval ``low`` /
    ``high``, ``median_rounds`` to agreement and ``term_<issue>``: the mean agreed value
    of each issue (NaN where no run agreed). Ties are broken by the interval's lower
    end, then by name, so the order is deterministic.
    """
    by = list(by)
    terms = [c for c in df.columns if c.startswith("term_")]
    g = df.groupby(by, sort=True, dropna=False)
    out = g["agreement"].agg(n="size", agreements="sum").reset_index()
    out["agreements"] = out["agreements"].astype(int)
    out["rate"] = out["agreements"] / out["n"]
    ci = [wilson(int(k), int(n)) for k, n in zip(out["agreements"], out["n"], strict=True)]
    out["low"] = [c[0] for c in ci]
    out["high"] = [c[1] for c in ci]
    ok = df[df["agreement"]]
    if len(ok):
        agg = ok.groupby(by, sort=True, dropna=False)[["rounds", *terms]].agg(
            {"rounds": "median", **{t: "mean" for t in terms}}).rename(columns={"rounds": "median_rounds"})
        out = out.merge(agg.reset_index(), on=by, how="left")
    else:
        out["median_rounds"] = np.nan
        for t in terms:
            out[t] = np.nan
    for extra in ("agenda", "first_mover"):
        if extra not in by and extra in df.columns:
            first = g[extra].agg(lambda s: s.iloc[0] if s.nunique() == 1 else "(mixed)").reset_index(drop=True)
            out.insert(len(by), extra, first.to_numpy())
    out = out.sort_values(["rate", "low", *by], ascending=[False, False] + [True] * len(by), kind="mergesort")
    out = out.reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def blocking(df: pd.DataFrame, by: str = "agenda") -> pd.DataFrame:
    """Under each agenda (or ``by``): the issue that blocked failed runs most often, and its share."""
    fail = df[~df["agreement"] & (df["blocking_issue"].astype(str) != "")]
    rows = []
    for key, grp in df.groupby(by, sort=True):
        f = fail[fail[by] == key]
        counts = f["blocking_issue"].value_counts()
        top = counts.index[0] if len(counts) else ""
        rows.append({by: key, "label": grp["sequence"].iloc[0].rsplit(" / ", 1)[0] if "sequence" in grp else key,
                     "runs": len(grp), "not_agreed": int((~grp["agreement"]).sum()),
                     "blocking_issue": top, "share_of_failures": counts.iloc[0] / len(f) if len(f) else math.nan,
                     "others": ", ".join(f"{k} {v}" for k, v in counts.iloc[1:].items())})
    return pd.DataFrame(rows)


def version_warnings(jobs_table: pd.DataFrame) -> list[str]:
    """Warnings when a sweep directory mixes package versions or git commits."""
    out = []
    for col, what in (("version", "package versions"), ("git_commit", "git commits")):
        vals = jobs_table[col].dropna()
        if vals.nunique() > 1:
            counts = ", ".join(f"{str(k)[:12]} ({v} jobs)" for k, v in vals.value_counts().items())
            out.append(f"this directory mixes {what}: {counts}")
    return out


# --------------------------------------------------------------------------- figures


def _save(fig: Any, path: str | Path) -> list[Path]:
    import matplotlib.pyplot as plt

    base = Path(path)
    base = base.with_suffix("") if base.suffix.lower() in (".png", ".svg") else base
    base.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in (".png", ".svg"):
        p = base.with_name(base.name + ext)
        fig.savefig(p, dpi=120, bbox_inches="tight", metadata={"Date": None} if ext == ".svg" else None)
        out.append(p)
    plt.close(fig)
    return out


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_heatmap(df: pd.DataFrame, path: str | Path) -> list[Path]:
    """Heatmap of the agreement rate by sequence (rows, best first) and condition (columns).

    Writes ``path`` as PNG and SVG (the suffix is replaced) and returns both paths.
    """
    plt = _pyplot()
    order = rank(df)["sequence"].tolist()
    cond = rank(df, by=["condition", *CONDITIONS]).sort_values(list(CONDITIONS))["condition"].tolist()
    piv = df.pivot_table(index="sequence", columns="condition", values="agreement", aggfunc="mean")
    piv = piv.reindex(index=order, columns=cond)
    h = max(3.0, 0.2 * len(order) + 1.5)
    w = max(5.0, 0.32 * len(cond) + 4.5)
    fig, ax = plt.subplots(figsize=(w, h))
    im = ax.imshow(piv.to_numpy(dtype=float), aspect="auto", cmap="viridis", vmin=0.0,
                   vmax=max(float(np.nanmax(piv.to_numpy(dtype=float))), 1e-9), interpolation="nearest")
    ax.set_yticks(range(len(order)), order, fontsize=7)
    ax.set_xticks(range(len(cond)), cond, fontsize=7, rotation=90)
    ax.set_xlabel("condition: initial trust T, guarantor credibility C, pressure P")
    ax.set_title("Agreement rate by sequence (best first) and condition")
    fig.colorbar(im, ax=ax, label="agreement rate", shrink=0.6)
    return _save(fig, path)


def plot_ranking(df: pd.DataFrame, path: str | Path) -> list[Path]:
    """Ranked horizontal bars of the agreement rate per sequence with 95% Wilson intervals."""
    plt = _pyplot()
    r = rank(df).iloc[::-1]
    movers = sorted(r["first_mover"].astype(str).unique())
    colors = dict(zip(movers, plt.get_cmap("tab10").colors, strict=False))
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.2 * len(r) + 1.5)))
    y = np.arange(len(r))
    ax.barh(y, r["rate"], color=[colors[m] for m in r["first_mover"].astype(str)], height=0.7)
    ax.errorbar(r["rate"], y, xerr=[r["rate"] - r["low"], r["high"] - r["rate"]], fmt="none", ecolor="black",
                elinewidth=0.8, capsize=2)
    ax.set_yticks(y, r["sequence"], fontsize=7)
    ax.set_xlabel("agreement rate over all conditions (95% Wilson interval)")
    ax.set_title("Sequences ranked by agreement rate")
    ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=colors[m]) for m in movers],
              labels=[f"{m} opens" for m in movers], loc="lower right", fontsize=7)
    ax.set_xlim(0, min(1.0, max(float(r["high"].max()) * 1.1, 0.05)))
    return _save(fig, path)


def plot_terms(df: pd.DataFrame, path: str | Path) -> list[Path]:
    """Mean agreed value of each issue by sequence (rows, best first); grey where none agreed."""
    plt = _pyplot()
    r = rank(df)
    terms = [c for c in r.columns if c.startswith("term_")]
    vals = r[terms].to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(terms) + 4.5), max(3.0, 0.2 * len(r) + 1.5)))
    cmap = plt.get_cmap("cividis").with_extremes(bad="lightgrey")
    im = ax.imshow(np.ma.masked_invalid(vals), aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            if not np.isnan(vals[i, j]):
                ax.text(j, i, f"{vals[i, j]:.2f}", ha="center", va="center", fontsize=5,
                        color="white" if vals[i, j] < 0.5 else "black")
    ax.set_yticks(range(len(r)), r["sequence"], fontsize=7)
    ax.set_xticks(range(len(terms)), [t[len("term_"):] for t in terms], fontsize=8, rotation=30, ha="right")
    ax.set_title("Terms of agreement by sequence (mean over agreed runs)")
    fig.colorbar(im, ax=ax, label="agreed value on the issue's [0, 1] scale (anchors: scenario file)", shrink=0.6)
    return _save(fig, path)


# --------------------------------------------------------------------------- report


def _fmt_rate(row: pd.Series) -> str:
    return f"{row['rate']:.3f} [{row['low']:.3f}, {row['high']:.3f}]"


def ranking_text(r: pd.DataFrame, top: int | None = None) -> str:
    """The ranking as aligned text lines (all rows, or the first and last ``top``)."""
    terms = [c for c in r.columns if c.startswith("term_")]
    head = f"{'rank':>4}  {'sequence':<44} {'n':>6}  {'agreement [95% CI]':<24} {'rounds':>6}  " + \
        " ".join(f"{t[5:][:6]:>6}" for t in terms)
    rows = r if top is None or len(r) <= 2 * top else pd.concat([r.head(top), r.tail(top)])
    lines = [head]
    prev = None
    for _, x in rows.iterrows():
        if prev is not None and x["rank"] != prev + 1:
            lines.append(f"{'...':>4}")
        prev = x["rank"]
        rounds = "-" if pd.isna(x["median_rounds"]) else f"{x['median_rounds']:.1f}"
        tv = " ".join("     -" if pd.isna(x[t]) else f"{x[t]:6.2f}" for t in terms)
        lines.append(f"{x['rank']:>4}  {str(x['sequence'])[:44]:<44} {x['n']:>6}  {_fmt_rate(x):<24} {rounds:>6}  {tv}")
    return "\n".join(lines)


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, x in df.iterrows():
        cells = []
        for c in cols:
            v = x[c]
            if isinstance(v, float):
                cells.append("" if math.isnan(v) else f"{v:.3f}")
            else:
                cells.append(str(v))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def _md_ranking(r: pd.DataFrame) -> str:
    terms = [c for c in r.columns if c.startswith("term_")]
    t = pd.DataFrame({"rank": r["rank"], "sequence": r["sequence"].map(lambda s: f"`{s}`"), "n": r["n"],
                      "agreement [95% CI]": r.apply(_fmt_rate, axis=1), "median rounds": r["median_rounds"]})
    for c in terms:
        t[c[len("term_"):]] = r[c]
    return _md_table(t)


def _sweep_timing(root: Path, jt: pd.DataFrame) -> dict[str, Any]:
    done = jt[jt["state"] == "done"]
    out: dict[str, Any] = {"jobs": len(done), "runs": int(done["n_runs"].fillna(0).sum()),
                           "job_time_s": float(done["wall_s"].fillna(0).sum())}
    out["runs_per_s_per_job"] = out["runs"] / out["job_time_s"] if out["job_time_s"] > 0 else math.nan
    mem = done["peak_memory_mb"].dropna()
    out["peak_memory_mb_median"] = float(mem.median()) if len(mem) else math.nan
    out["peak_memory_mb_max"] = float(mem.max()) if len(mem) else math.nan
    plan = read_json(root / "sweep.json") or {}
    out["sweep_wall_s"] = plan.get("wall_s")
    return out


def write_report(root: str | Path, out: str | Path | None = None, figures: bool = True,
                 top: int = 5) -> dict[str, Any]:
    """Merge a sweep, write ``atlas.parquet``, ``ranking.csv``, the figures and ``report.md``.

    Args:
        root: the sweep directory (``hydra.sweep.dir``).
        out: where to write (default: ``root``).
        figures: draw the PNG and SVG figures.
        top: how many best and worst sequences (and best cells) ``report.md`` lists first.

    Returns:
        A dict with the tables (``atlas``, ``ranking``, ``cells``, ``blocking``, ``jobs``),
        ``warnings`` and the paths written (``files``).
    """
    root = Path(root)
    out = Path(out) if out is not None else root
    jt = jobs(root)
    df = merge(root)
    write_parquet(out / ATLAS_FILE, df)
    r = rank(df)
    cells = rank(df, by=["sequence", "condition"])
    bl = blocking(df)
    warnings = version_warnings(jt)
    files = [out / ATLAS_FILE]
    ranking_csv = out / "ranking.csv"
    write_text(ranking_csv, r.to_csv(index=False))
    files.append(ranking_csv)
    figs: dict[str, list[Path]] = {}
    if figures:
        figs["heatmap"] = plot_heatmap(df, out / "figures" / "heatmap")
        figs["ranking"] = plot_ranking(df, out / "figures" / "ranking")
        figs["terms"] = plot_terms(df, out / "figures" / "terms")
        files += [p for ps in figs.values() for p in ps]
    timing = _sweep_timing(root, jt)
    failed = jt[jt["state"] == "failed"]
    incomplete = jt[jt["state"] == "incomplete"]

    md = [f"# Sweep report: {root.name}", ""]
    md += [f"{timing['jobs']} jobs, {timing['runs']} runs, {r.shape[0]} sequences, "
           f"{df['condition'].nunique()} conditions. Agreement rates with 95% Wilson intervals; "
           "terms are means over the runs that agreed, on each issue's [0, 1] scale.", ""]
    for w in warnings:
        md += [f"> **Warning:** {w}", ""]
    if len(failed) or len(incomplete):
        md += ["## Failed and incomplete jobs", ""]
        md += [f"- FAILED `{j}`: {e}" for j, e in zip(failed["job"], failed["error"], strict=True)]
        md += [f"- INCOMPLETE `{j}`" for j in incomplete["job"]]
        md += [""]
    if len(r) > 2 * top:
        md += ["## Ranking of sequences", "", f"Best {top}:", "", _md_ranking(r.head(top)), "",
               f"Worst {top}:", "", _md_ranking(r.tail(top)), ""]
    if figs:
        rel = {k: [p.relative_to(out) for p in v] for k, v in figs.items()}
        md += [f"![Sequences ranked by agreement rate]({rel['ranking'][0]}) ([SVG]({rel['ranking'][1]}))", "",
               f"![Agreement rate by sequence and condition]({rel['heatmap'][0]}) ([SVG]({rel['heatmap'][1]}))", "",
               f"![Terms of agreement by sequence]({rel['terms'][0]}) ([SVG]({rel['terms'][1]}))", ""]
    md += [f"## Best {top} cells (sequence under one condition)", "", _md_table(
        cells.head(top).assign(**{"agreement [95% CI]": cells.head(top).apply(_fmt_rate, axis=1)})[
            ["rank", "sequence", "condition", "n", "agreement [95% CI]", "median_rounds"]]), ""]
    md += ["## The issue that blocks most often, by agenda", "",
           _md_table(bl[["label", "runs", "not_agreed", "blocking_issue", "share_of_failures"]]), ""]
    md += ["## Full ranking", "", _md_ranking(r), ""]
    md += ["## Timing", "",
           f"- summed job time {timing['job_time_s']:.1f} s, {timing['runs_per_s_per_job']:.0f} runs/s per job",
           f"- peak memory per job: median {timing['peak_memory_mb_median']:.0f} MB, "
           f"max {timing['peak_memory_mb_max']:.0f} MB"]
    if timing["sweep_wall_s"]:
        md += [f"- sweep wall time {timing['sweep_wall_s']:.1f} s (from sweep.json)"]
    md += ["", "Label legend: sequences of one-issue phases are written as the phases in order, issues "
           "abbreviated to their first letters, `+` joining issues of one phase; `/ X` says who opens each phase.", ""]
    report = out / "report.md"
    write_text(report, "\n".join(md))
    files.append(report)
    return {"atlas": df, "ranking": r, "cells": cells, "blocking": bl, "jobs": jt, "warnings": warnings,
            "timing": timing, "files": files}


def main(argv: list[str] | None = None) -> int:
    """``negotiate-report DIR``: merge, rank, plot and list failures of a sweep directory."""
    ap = argparse.ArgumentParser(prog="negotiate-report", description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="a sweep directory (hydra.sweep.dir), e.g. multirun/sequence_atlas")
    ap.add_argument("--out", help="where to write atlas.parquet, figures/ and report.md (default: DIR)")
    ap.add_argument("--top", type=int, default=None, help="print only the best and worst N sequences")
    ap.add_argument("--no-figures", action="store_true", help="skip the PNG and SVG figures")
    a = ap.parse_args(argv)
    root = Path(a.dir)
    if not root.is_dir():
        print(f"negotiate-report: error: {root}: expected a sweep directory, got none", file=sys.stderr)
        return 2
    try:
        res = write_report(root, a.out, figures=not a.no_figures)
    except ConfigError as e:
        print(f"negotiate-report: error: {e}", file=sys.stderr)
        return 2
    for w in res["warnings"]:
        print(f"WARNING: {w}", file=sys.stderr)
    print(f"Ranking of sequences by agreement rate ({len(res['atlas'])} runs):")
    print(ranking_text(res["ranking"], a.top))
    print("\nThe issue that blocks most often, by agenda:")
    for _, b in res["blocking"].iterrows():
        share = "" if pd.isna(b["share_of_failures"]) else f" ({b['share_of_failures']:.0%} of failed runs)"
        print(f"  {b['label']:<40} {b['blocking_issue'] or '-'}{share}")
    jt = res["jobs"]
    bad = jt[jt["state"] != "done"]
    print(f"\nJobs: {int((jt['state'] == 'done').sum())} done, {int((jt['state'] == 'failed').sum())} failed, "
          f"{int((jt['state'] == 'incomplete').sum())} incomplete")
    for _, j in bad.iterrows():
        print(f"  {j['state'].upper()} {j['job']}" + (f": {j['error']}" if j["error"] else ""))
    print(f"\nWrote {', '.join(str(p) for p in res['files'] if p.suffix != '.svg')} (+ SVG)")
    return 0


def cli() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    cli()
