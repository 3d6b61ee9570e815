"""Forecasts under a calibrated ensemble: every kept parameter set, many seeds each.

``negotiate calibration=<name> agenda=<agenda>`` runs the configured scenario at every
parameter set of a calibration's posterior ensemble (``posterior.parquet``, written by
``negotiate-calibrate``), ``n_seeds`` seeds each, through :func:`sim.design.run_design`.
The forecast reports each quantity twice: pooled over all runs, and as the spread of the
per-parameter-set values across the ensemble (the 5th to 95th percentile), which is the
part of the uncertainty that the calibration leaves in the parameters.

The calibration's inputs stop at 8 October 2025 for the default scenario; so does this
forecast.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from sim.errors import COMMAND_LINE, ConfigError

ROOT = Path(__file__).resolve().parent.parent
ROUND_DAYS = 0.5  # a round is about half a day of talks (the scenarios' unit)


def find(name: str) -> Path:
    """The folder of a calibration's results: a path, ``calibration/<name>`` here, or the project's
    ``experiments/calibration/<name>``."""
    for p in (Path(name), Path("calibration") / name, ROOT / "experiments" / "calibration" / name):
        if (p / "posterior.parquet").is_file():
            return p
    raise ConfigError(
        f"{COMMAND_LINE} calibration={name}",
        "calibration",
        "a calibration folder with posterior.parquet (run negotiate-calibrate first; looked in "
        f"{name}, calibration/{name} and experiments/calibration/{name})",
        name,
    )


def ensemble_design(cfg: DictConfig) -> tuple[pd.DataFrame, Path]:
    """The posterior ensemble as a design table over the calibration file's parameter paths."""
    from sim.calibrate import design_of, load

    folder = find(str(cfg.calibration))
    which = str(cfg.get("calibration_set") or "posterior")
    if which not in ("posterior", "nearest"):
        raise ConfigError(f"{COMMAND_LINE} calibration_set={which}", "calibration_set", "posterior or nearest", which)
    post = pd.read_parquet(folder / f"{which}.parquet")
    if post.empty:
        raise ConfigError(
            str(folder / f"{which}.parquet"),
            "calibration",
            "a posterior with at least one kept parameter set (the calibration kept none: see its "
            "targets.md; calibration_set=nearest forecasts with the sets that meet the most targets)",
            0,
        )
    cal = load(str(folder / "calibration.yaml")) if (folder / "calibration.yaml").is_file() else load(folder.name)
    names = [p["name"] for p in cal.parameters]
    return design_of(cal, post[names].reset_index(drop=True)), folder


def summarise(table: pd.DataFrame, n_phases: int, horizon_rounds: int | None = None) -> dict[str, Any]:
    """The forecast's numbers: pooled over all runs and spread across the ensemble."""
    g = table.groupby("point")
    per = pd.DataFrame(
        {
            "agreement": g["agreement"].mean(),
            "phase1": g["phases_agreed"].apply(lambda s: float((s >= 1).mean())),
        }
    )

    def spread(s: pd.Series) -> list[float]:
        s = s.dropna()
        return [float(s.quantile(0.05)), float(s.quantile(0.95))] if len(s) else [math.nan, math.nan]

    out: dict[str, Any] = {
        "parameter_sets": int(len(per)),
        "runs": int(len(table)),
        "agreement": {"pooled": float(table["agreement"].mean()), "ensemble_90": spread(per["agreement"])},
        "phase1_agreed": {"pooled": float((table["phases_agreed"] >= 1).mean()), "ensemble_90": spread(per["phase1"])},
    }
    if n_phases > 1:
        p2 = table[table["phases_agreed"] >= 1]
        within = p2["phases_agreed"] >= 2
        if horizon_rounds is not None:
            within &= p2["rounds"] <= horizon_rounds
        per2 = within.groupby(p2["point"]).mean()
        out["next_phase_given_first"] = {
            "pooled": float(within.mean()) if len(p2) else math.nan,
            "ensemble_90": spread(per2),
            "within_rounds": horizon_rounds,
        }
    agreed = table[table["agreement"]]["rounds"]
    out["rounds_to_agreement"] = {
        "median": float(agreed.median()) if len(agreed) else math.nan,
        "runs_90": [float(agreed.quantile(0.05)), float(agreed.quantile(0.95))]
        if len(agreed)
        else [math.nan, math.nan],
        "days_median": float(agreed.median()) * ROUND_DAYS if len(agreed) else math.nan,
    }
    return out


def text(fc: dict[str, Any], name: str, agenda: str, which: str = "kept parameter sets") -> list[str]:
    """The forecast in a few lines for the printed summary."""

    def pct(v):
        return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.0f}%"

    lines = [
        f"Forecast under calibration {name} ({fc['parameter_sets']} {which}, {fc['runs']:,} runs; "
        "inputs up to 8 October 2025):"
    ]
    a = fc["agreement"]
    lines.append(
        f"  every phase of {agenda} agreed: {pct(a['pooled'])} (across the ensemble "
        f"{pct(a['ensemble_90'][0])}-{pct(a['ensemble_90'][1])})"
    )
    if "next_phase_given_first" in fc:
        p1, p2 = fc["phase1_agreed"], fc["next_phase_given_first"]
        lines.append(
            f"  first phase agreed: {pct(p1['pooled'])} ({pct(p1['ensemble_90'][0])}-{pct(p1['ensemble_90'][1])})"
        )
        w = p2["within_rounds"]
        lines.append(
            f"  next phase agreed once the first is{'' if w is None else f', within {w} rounds'}: "
            f"{pct(p2['pooled'])} ({pct(p2['ensemble_90'][0])}-{pct(p2['ensemble_90'][1])})"
        )
    r = fc["rounds_to_agreement"]
    if not math.isnan(r["median"]):
        lines.append(
            f"  rounds to agreement: median {r['median']:.0f} (about {r['days_median']:.0f} days), "
            f"90% of agreed runs {r['runs_90'][0]:.0f}-{r['runs_90'][1]:.0f}"
        )
    return lines
