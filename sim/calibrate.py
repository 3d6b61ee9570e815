"""Calibration on earlier rounds: which behavioural parameters reproduce what happened?

A calibration file (``experiments/calibration/<name>.yaml``) lists **rounds** (a scenario and the
agenda that was on the table), **targets** (a statistic of a round's runs, an observed
pattern as a number, and a tolerance) and **parameters** (the shared behavioural inputs
to vary, each set at the same value in every round, with a range).

The method is **history matching** (Craig et al. 1997; Vernon, Goldstein & Bower 2010):
sample the parameters over their ranges (a Latin hypercube), simulate every round for
``n_seeds`` seeds at every sample (through :func:`sim.design.run_design`, one batched
call per round and block), and measure each target's **implausibility**

    I = |simulated - target| / sqrt(tolerance^2 + sampling variance of the simulated value)

A sample is kept (not ruled out) when its largest implausibility over all targets is at
most the cut-off (3, Pukelsheim's three-sigma rule). The kept samples, equally weighted,
are the posterior ensemble. History matching is chosen over ABC because the targets are
patterns with judged tolerances, not data with a likelihood: it says which parameter
values are ruled out by which pattern, and keeps all the others, instead of pretending
to a posterior density the tolerances cannot support. The tolerance plays ABC's
epsilon and the observation error at once, and it is written next to each target.

Work is done in blocks of samples, each written to its own Parquet file as soon as it is
finished, so a calibration killed at any moment resumes where it stopped, with the same
result. Blocks run in parallel processes (``n_jobs``); a block's numbers do not depend
on which process ran it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.errors import ConfigError

CONF = Path(__file__).resolve().parent.parent / "experiments" / "calibration"
STATISTICS = ("agreement_rate", "phase1_rate", "phase2_given_phase1", "median_rounds_agreed", "blocking_share")
CUTOFF = 3.0
RATE_STATISTICS = ("agreement_rate", "phase1_rate", "phase2_given_phase1", "blocking_share")


@dataclass(frozen=True)
class Calibration:
    """A calibration file, checked: its rounds, targets and parameters."""

    name: str
    file: str
    rounds: dict[str, dict[str, Any]]
    targets: list[dict[str, Any]]
    parameters: list[dict[str, Any]]
    cutoff: float = CUTOFF  # the largest implausibility a kept sample may have

    def overrides(self, round_name: str) -> list[str]:
        """The config overrides that run one round (scenario, agenda and the round's own overrides)."""
        r = self.rounds[round_name]
        return [f"scenario={r['scenario']}", f"agenda={r['agenda']}", *(r.get("overrides") or [])]


def load(name_or_path: str) -> Calibration:
    """Read and check a calibration file (a name under ``experiments/calibration/`` or a path).

    Raises:
        ConfigError: naming the file, the key and what was expected.
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = CONF / f"{name_or_path}.yaml"
    file = str(path)
    if not path.is_file():
        choices = sorted(p.stem for p in CONF.glob("*.yaml"))
        raise ConfigError(file, "calibration", f"a calibration file (one of {', '.join(choices)})", name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(file, "calibration", f"readable YAML ({type(e).__name__})") from e
    rounds = data.get("rounds") or {}
    if not isinstance(rounds, dict) or not rounds:
        raise ConfigError(file, "rounds", "a mapping of round names to {scenario, agenda}", rounds)
    for k, r in rounds.items():
        if not isinstance(r, dict) or "scenario" not in r or "agenda" not in r:
            raise ConfigError(file, f"rounds.{k}", "{scenario: name, agenda: name, overrides: [...]}", r)
    targets = data.get("targets") or []
    for i, t in enumerate(targets):
        key = f"targets[{i}]"
        if t.get("round") not in rounds:
            raise ConfigError(file, f"{key}.round", f"a round of this file ({', '.join(rounds)})", t.get("round"))
        if t.get("statistic") not in STATISTICS:
            raise ConfigError(file, f"{key}.statistic", f"one of {', '.join(STATISTICS)}", t.get("statistic"))
        for f in ("target", "tolerance"):
            v = t.get(f)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ConfigError(file, f"{key}.{f}", "a finite number", v)
        if t["tolerance"] <= 0:
            raise ConfigError(file, f"{key}.tolerance", "a number > 0", t["tolerance"])
        if str(t.get("source", ""))[:1] not in ("S", "J", "Q"):
            raise ConfigError(file, f"{key}.source", "a tag starting with Q, S or J", t.get("source"))
    params = data.get("parameters") or []
    for i, p in enumerate(params):
        key = f"parameters[{i}]"
        if not p.get("paths") or not isinstance(p["paths"], list):
            raise ConfigError(file, f"{key}.paths", "a list of dotted config paths", p.get("paths"))
        if not (
            isinstance(p.get("low"), int | float) and isinstance(p.get("high"), int | float) and p["low"] < p["high"]
        ):
            raise ConfigError(file, f"{key}.low", "numbers low < high", (p.get("low"), p.get("high")))
    if not targets or not params:
        raise ConfigError(file, "targets" if not targets else "parameters", "at least one entry")
    cutoff = data.get("cutoff", CUTOFF)
    if isinstance(cutoff, bool) or not isinstance(cutoff, int | float) or not cutoff > 0:
        raise ConfigError(file, "cutoff", "a number > 0", cutoff)
    return Calibration(
        name=str(data.get("name") or path.stem),
        file=file,
        rounds=rounds,
        targets=list(targets),
        parameters=list(params),
        cutoff=float(cutoff),
    )


STRUCTURAL_LEVELS = 4  # values a parameter takes if the kernel cannot vary it per run


def sample(cal: Calibration, n: int, seed: int = 0) -> pd.DataFrame:
    """A Latin hypercube of ``n`` parameter samples over the parameters' ranges (integers rounded).

    A parameter the kernel cannot vary inside one batch (any path that is not per run, see
    :func:`sim.design.is_per_run`: a red-line strength, a spent-leverage effect) takes one of
    ``levels`` evenly spaced values (default 4), so that the samples fall into a few groups,
    each compiled once, instead of one compile per sample.
    """
    from scipy.stats import qmc

    from sim.design import is_per_run

    u = qmc.LatinHypercube(d=len(cal.parameters), seed=seed).random(n)
    cols = {}
    for j, p in enumerate(cal.parameters):
        if all(is_per_run(path) for path in p["paths"]):
            v = p["low"] + u[:, j] * (p["high"] - p["low"])
        else:
            k = int(p.get("levels", STRUCTURAL_LEVELS))
            v = np.linspace(p["low"], p["high"], k)[np.minimum((u[:, j] * k).astype(np.int64), k - 1)]
        cols[p["name"]] = np.round(v).astype(np.int64) if p.get("integer") else v
    return pd.DataFrame(cols)


def design_of(cal: Calibration, samples: pd.DataFrame) -> pd.DataFrame:
    """The design table: every path of a parameter set to the parameter's value."""
    cols = {}
    for p in cal.parameters:
        for path in p["paths"]:
            cols[path] = samples[p["name"]].to_numpy()
    return pd.DataFrame(cols)


def statistics(table: pd.DataFrame, targets: list[dict[str, Any]]) -> pd.DataFrame:
    """Each target's statistic per design point, with the sampling variance of the estimate.

    Returns one row per point, columns ``<target name>`` and ``<target name>__var``.
    """
    g = table.groupby("point", sort=True)
    out = {}
    for t in targets:
        name, stat = t["name"], t["statistic"]
        if stat == "agreement_rate":
            k, n = g["agreement"].sum(), g["agreement"].size()
        elif stat == "phase1_rate":
            k, n = g["phases_agreed"].apply(lambda s: (s >= 1).sum()), g["phases_agreed"].size()
        elif stat == "phase2_given_phase1":
            k = g["phases_agreed"].apply(lambda s: (s >= 2).sum())
            n = g["phases_agreed"].apply(lambda s: (s >= 1).sum())
        elif stat == "blocking_share":
            issues = set(t.get("issues") or [])
            failed = table[~table["agreement"]]
            gf = failed.groupby("point", sort=True)
            k = (
                gf["blocking_issue"]
                .apply(lambda s, iss=issues: s.isin(iss).sum())
                .reindex(g.size().index, fill_value=0)
            )
            n = gf.size().reindex(g.size().index, fill_value=0)
        else:  # median_rounds_agreed
            med = table[table["agreement"]].groupby("point")["rounds"].median().reindex(g.size().index)
            sd = table[table["agreement"]].groupby("point")["rounds"].std().reindex(g.size().index)
            cnt = table[table["agreement"]].groupby("point")["rounds"].size().reindex(g.size().index, fill_value=0)
            out[name] = med.to_numpy(dtype=float)
            # the variance of a median is about (pi / 2) sd^2 / n for a roughly normal sample
            out[f"{name}__var"] = (math.pi / 2) * sd.to_numpy(dtype=float) ** 2 / np.maximum(cnt.to_numpy(), 1)
            continue
        k, n = k.to_numpy(dtype=float), n.to_numpy(dtype=float)
        p = np.where(n > 0, k / np.maximum(n, 1), np.nan)
        # the variance of a rate over n runs (with a floor of one run's worth, so 0 and 1 are not certain)
        pv = np.where(n > 0, (k + 0.5) / (n + 1), 0.5)
        out[name] = p
        out[f"{name}__var"] = pv * (1 - pv) / np.maximum(n, 1)
    return pd.DataFrame(out, index=g.size().index)


def implausibility(stats: pd.DataFrame, targets: list[dict[str, Any]]) -> pd.DataFrame:
    """``I = |sim - target| / sqrt(tol^2 + var)`` per target (NaN statistics are implausible: inf)."""
    out = {}
    for t in targets:
        sim, var = stats[t["name"]].to_numpy(), stats[f"{t['name']}__var"].to_numpy()
        i = np.abs(sim - t["target"]) / np.sqrt(t["tolerance"] ** 2 + np.nan_to_num(var))
        out[t["name"]] = np.where(np.isnan(sim), np.inf, i)
    return pd.DataFrame(out, index=stats.index)


def run_block(
    cal: Calibration, samples: pd.DataFrame, n_seeds: int, seed: int = 0, rounds: list[str] | None = None
) -> pd.DataFrame:
    """Simulate every round at every sample of one block; return the statistics per sample."""
    from sim.api import load_config
    from sim.design import run_design

    design = design_of(cal, samples)
    parts = []
    for r in rounds or list(cal.rounds):
        tg = [t for t in cal.targets if t["round"] == r]
        if not tg:
            continue
        cfg = load_config(cal.overrides(r))
        res = run_design(cfg, design, n_seeds=n_seeds, seed=seed, record_inputs=False)
        parts.append(statistics(res.table, tg))
    stats = pd.concat(parts, axis=1)
    stats.index = samples.index
    return stats


def _block_file(out: Path, k: int) -> Path:
    return out / "blocks" / f"block_{k:05d}.parquet"


def _run_one(args: tuple) -> int:
    cal_file, samples, n_seeds, seed, out, k = args
    cal = load(cal_file)
    stats = run_block(cal, samples, n_seeds, seed)
    df = pd.concat([samples, stats], axis=1)
    path = _block_file(out, k)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    df.to_parquet(tmp, index=True)
    os.replace(tmp, path)
    return len(samples)


def calibrate(
    cal: Calibration,
    n_samples: int,
    n_seeds: int,
    out: Path,
    seed: int = 0,
    block_size: int = 500,
    n_jobs: int = 1,
    cutoff: float = CUTOFF,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Run the history match, resuming from the blocks already in ``out``; write the results.

    Returns:
        A dict with the paths written and the counts (samples, kept).
    """
    out.mkdir(parents=True, exist_ok=True)
    (out / "blocks").mkdir(exist_ok=True)
    (out / "calibration.yaml").write_text(Path(cal.file).read_text(encoding="utf-8"))  # what the ensemble means
    samples = sample(cal, n_samples, seed)
    blocks = [samples.iloc[i : i + block_size] for i in range(0, n_samples, block_size)]
    todo = [k for k in range(len(blocks)) if not _block_file(out, k).is_file()]
    done = len(blocks) - len(todo)
    if progress is not None and done:
        progress(sum(len(blocks[k]) for k in range(len(blocks)) if k not in todo))
    jobs = [(cal.file, blocks[k], n_seeds, seed, out, k) for k in todo]
    if n_jobs > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=n_jobs) as ex:
            for n in ex.map(_run_one, jobs):
                if progress is not None:
                    progress(n)
    else:
        for j in jobs:
            n = _run_one(j)
            if progress is not None:
                progress(n)
    return summarise(cal, out, cutoff)


def summarise(cal: Calibration, out: Path, cutoff: float = CUTOFF) -> dict:
    """Merge the blocks: implausibilities, the kept ensemble, the target table, the figures."""
    df = pd.concat([pd.read_parquet(p) for p in sorted((out / "blocks").glob("block_*.parquet"))]).sort_index()
    imp = implausibility(df, cal.targets)
    df["max_implausibility"] = imp.max(axis=1)
    for t in cal.targets:
        df[f"{t['name']}__I"] = imp[t["name"]]
    df["kept"] = df["max_implausibility"] <= cutoff
    df.to_parquet(out / "samples.parquet")
    names = [p["name"] for p in cal.parameters]
    post = df[df["kept"]][names].copy()
    post["weight"] = 1.0 / max(len(post), 1)
    post.to_parquet(out / "posterior.parquet")
    # the samples that meet the most targets: what is closest, when nothing is kept
    met = (df[[f"{t['name']}__I" for t in cal.targets]] <= cutoff).sum(axis=1)
    df["targets_met"] = met
    near = df[met == met.max()][names].copy()
    near["weight"] = 1.0 / max(len(near), 1)
    near["targets_met"] = int(met.max())
    near.to_parquet(out / "nearest.parquet")
    (out / "conflicts.md").write_text(conflicts_markdown(cal, df, cutoff))
    table = target_table(cal, df, cutoff)
    (out / "targets.md").write_text(target_markdown(cal, table, df, cutoff))
    table.to_parquet(out / "targets.parquet")
    plot_marginals(cal, df, out / "marginals.png")
    loo = leave_one_out(cal, df, cutoff)
    loo.to_parquet(out / "leave_one_out.parquet")
    (out / "leave_one_out.md").write_text(leave_one_out_markdown(loo))
    return {
        "samples": len(df),
        "kept": int(df["kept"].sum()),
        "posterior": str(out / "posterior.parquet"),
        "targets": str(out / "targets.md"),
        "figure": str(out / "marginals.png"),
        "leave_one_out": str(out / "leave_one_out.md"),
    }


def leave_one_out(cal: Calibration, df: pd.DataFrame, cutoff: float = CUTOFF) -> pd.DataFrame:
    """Calibrate on every round but one and predict the one left out, for each round.

    The samples already carry every round's statistics, so leaving a round out only
    changes which samples are kept: those whose targets on the other rounds are all
    within the cut-off. The left-out round's targets are then predicted by the kept
    samples (median and 90% range) and compared with what was observed.
    """
    rows = []
    for r in cal.rounds:
        mine = [t for t in cal.targets if t["round"] == r]
        others = [t for t in cal.targets if t["round"] != r]
        if not mine or not others:
            continue
        kept = (df[[f"{t['name']}__I" for t in others]] <= cutoff).all(axis=1)
        for t in mine:
            v = df.loc[kept, t["name"]].dropna()
            pred = float(v.median()) if len(v) else math.nan
            rows.append(
                {
                    "left_out": r,
                    "target": t["name"],
                    "observed": t["target"],
                    "tolerance": t["tolerance"],
                    "kept_without_it": int(kept.sum()),
                    "predicted": pred,
                    "predicted_low": float(v.quantile(0.05)) if len(v) else math.nan,
                    "predicted_high": float(v.quantile(0.95)) if len(v) else math.nan,
                    "within_tolerance": bool(len(v)) and abs(pred - t["target"]) <= t["tolerance"],
                }
            )
    return pd.DataFrame(rows)


def leave_one_out_markdown(loo: pd.DataFrame) -> str:
    """The leave-one-round-out table as markdown."""
    lines = [
        "# Leave one round out: calibrate on the others, predict the one left out",
        "",
        "| round left out | target | observed (tolerance) | kept without it | predicted: median [90% range] "
        "| within tolerance |",
        "|:--|:--|--:|--:|--:|:--|",
    ]
    for r in loo.itertuples():
        pred = (
            "no sample kept"
            if math.isnan(r.predicted)
            else f"{r.predicted:.3g} [{r.predicted_low:.3g}, {r.predicted_high:.3g}]"
        )
        lines.append(
            f"| {r.left_out} | {r.target} | {r.observed:g} ({r.tolerance:g}) | {r.kept_without_it:,} | "
            f"{pred} | {'yes' if r.within_tolerance else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def conflicts_markdown(cal: Calibration, df: pd.DataFrame, cutoff: float = CUTOFF) -> str:
    """Which targets can be met together: the share of samples meeting each pair (the
    diagonal: each alone). A zero off the diagonal is two patterns no sampled parameter set
    reproduces at once: a conflict in the model, not in the data."""
    ok = {t["name"]: df[f"{t['name']}__I"] <= cutoff for t in cal.targets}
    names = list(ok)
    lines = [
        f"# Which patterns can be met together ({len(df):,} samples; cut-off {cutoff:g})",
        "",
        "Share of samples meeting both the row's and the column's target (the diagonal: the row's "
        "target alone). Columns are numbered as the rows.",
        "",
        "| target | " + " | ".join(str(k + 1) for k in range(len(names))) + " |",
        "|:--|" + "--:|" * len(names),
    ]
    for k, a in enumerate(names):
        cells = [f"{(ok[a] & ok[b]).mean():.2f}" for b in names]
        lines.append(f"| {k + 1}. {a} | " + " | ".join(cells) + " |")
    met = pd.concat(ok, axis=1).sum(axis=1)
    lines += [
        "",
        f"Most targets met by one sample: {int(met.max())} of {len(names)} "
        f"({int((met == met.max()).sum()):,} samples).",
    ]
    return "\n".join(lines) + "\n"


def target_table(cal: Calibration, df: pd.DataFrame, cutoff: float = CUTOFF) -> pd.DataFrame:
    """Every target: what was observed (target +/- tolerance) against what the model gives,
    over all samples, over the kept ones, and at the least implausible sample."""
    kept = df[df["kept"]]
    best = df.loc[df["max_implausibility"].idxmin()]
    rows = []
    for t in cal.targets:
        name = t["name"]
        k = kept[name].dropna()
        rows.append(
            {
                "target": name,
                "round": t["round"],
                "statistic": t["statistic"],
                "observed": t["target"],
                "tolerance": t["tolerance"],
                "source": t.get("source", ""),
                "prior_median": float(df[name].median()),
                "kept_median": float(k.median()) if len(k) else math.nan,
                "kept_low": float(k.quantile(0.05)) if len(k) else math.nan,
                "kept_high": float(k.quantile(0.95)) if len(k) else math.nan,
                "best": float(best[name]),
                "share_of_samples_within": float((df[f"{name}__I"] <= cutoff).mean()),
                "reproduced": bool(len(k)) and bool((kept[f"{name}__I"] <= cutoff).all()),
            }
        )
    return pd.DataFrame(rows)


def target_markdown(cal: Calibration, table: pd.DataFrame, df: pd.DataFrame, cutoff: float) -> str:
    """Every target against what the samples give, as markdown."""
    n, kept = len(df), int(df["kept"].sum())
    lines = [
        f"# Calibration `{cal.name}`: {kept:,} of {n:,} samples kept (largest implausibility <= {cutoff:g})",
        "",
        "| target | round | statistic | observed (tolerance) | prior median | kept: median [90% range] "
        "| least implausible sample | samples within alone |",
        "|:--|:--|:--|--:|--:|--:|--:|--:|",
    ]
    for r in table.itertuples():
        kept_s = (
            f"{r.kept_median:.3g} [{r.kept_low:.3g}, {r.kept_high:.3g}]"
            if not math.isnan(r.kept_median)
            else "none kept"
        )
        lines.append(
            f"| {r.target} | {r.round} | {r.statistic} | {r.observed:g} ({r.tolerance:g}) | "
            f"{r.prior_median:.3g} | {kept_s} | {r.best:.3g} | {r.share_of_samples_within:.0%} |"
        )
    if kept == 0:
        worst = {t["name"]: float((df[f"{t['name']}__I"] <= cutoff).mean()) for t in cal.targets}
        hard = min(worst, key=worst.get)
        lines += [
            "",
            f"No sample reproduces every pattern. The hardest target is `{hard}`: "
            f"{worst[hard]:.0%} of samples meet it on its own.",
        ]
    return "\n".join(lines) + "\n"


def plot_marginals(cal: Calibration, df: pd.DataFrame, path: Path) -> None:
    """Histograms of each parameter: all samples (prior) and the kept ones (posterior)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(cal.parameters)
    cols = min(k, 3)
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.6 * rows), squeeze=False)
    for ax, p in zip(axes.ravel(), cal.parameters, strict=False):
        bins = np.linspace(p["low"], p["high"], 21)
        ax.hist(df[p["name"]], bins=bins, color="0.8", label="prior (all samples)", density=True)
        if df["kept"].any():
            ax.hist(df.loc[df["kept"], p["name"]], bins=bins, color="tab:blue", alpha=0.7, label="kept", density=True)
        elif "targets_met" in df:  # none kept: the samples that meet the most targets
            near = df["targets_met"] == df["targets_met"].max()
            ax.hist(
                df.loc[near, p["name"]],
                bins=bins,
                color="tab:orange",
                alpha=0.7,
                density=True,
                label=f"nearest ({int(df['targets_met'].max())} of {len(cal.targets)} targets met)",
            )
        ax.set_title(p["name"], fontsize=9)
        ax.tick_params(labelsize=8)
    for ax in axes.ravel()[k:]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=8)
    fig.suptitle(
        f"Calibration {cal.name}: {int(df['kept'].sum()):,} of {len(df):,} samples kept "
        "(densities over each parameter's range)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """``negotiate-calibrate``: history matching of a calibration file's parameters."""
    ap = argparse.ArgumentParser(prog="negotiate-calibrate", description=__doc__.splitlines()[0])
    ap.add_argument(
        "calibration",
        nargs="?",
        default="earlier_rounds",
        help="a file under experiments/calibration/ (by name) or a path (default: earlier_rounds)",
    )
    ap.add_argument("--samples", type=int, default=2000, help="parameter samples (Latin hypercube)")
    ap.add_argument("--n-seeds", type=int, default=20, help="seeds per sample and round")
    ap.add_argument("--seed", type=int, default=0, help="seed of the sample and first seed of the runs")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: calibration/<name>)")
    ap.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)), help="processes")
    ap.add_argument("--block-size", type=int, default=500)
    ap.add_argument(
        "--cutoff", type=float, default=None, help="largest implausibility kept (default: the file's cutoff, else 3)"
    )
    ap.add_argument("--debug", action="store_true")
    args = ap.parse_args(argv)
    try:
        cal = load(args.calibration)
        out = args.out or Path("calibration") / cal.name
        t0 = time.perf_counter()
        bar = None
        if not os.environ.get("CI"):
            from tqdm import tqdm

            bar = tqdm(total=args.samples, unit="sample", desc=f"calibrating {cal.name}", file=sys.stderr)
        res = calibrate(
            cal,
            args.samples,
            args.n_seeds,
            out,
            seed=args.seed,
            block_size=args.block_size,
            n_jobs=args.jobs,
            cutoff=cal.cutoff if args.cutoff is None else args.cutoff,
            progress=None if bar is None else bar.update,
        )
        if bar is not None:
            bar.close()
    except ConfigError as e:
        if args.debug:
            raise
        print(f"negotiate-calibrate: error: {e}", file=sys.stderr)
        return 2
    print((Path(res["targets"])).read_text())
    print(f"{res['kept']:,} of {res['samples']:,} samples kept; {time.perf_counter() - t0:.0f} s")
    print(f"wrote {res['posterior']}, {res['targets']}, {res['figure']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
