"""Who forecasts better: the baselines, Bueno de Mesquita's model and the mediated model.

Four forecasters, each run on the same scenario and agenda with the same seeds and judged
by the same statistics as the calibration (:func:`sim.calibrate.statistics`):

- ``weighted_mean`` and ``weighted_median``: in each phase the text is the capability x
  salience weighted mean (or median) of the actors' positions on the open issues (each
  run's own draws of both, as in the run table's ``baseline_*`` columns); the phase is
  agreed if every required actor accepts that text by the test every protocol uses
  (expected utility, with the commitment problem, at least its value of no deal; no hard
  red line crossed), and the next phase opens as it would in a run (trust, spent
  leverage). A static forecast: it has no rounds and names no blocking issue.
- ``expected_utility``: the protocol of that name (:mod:`sim.protocols.expected_utility`).
- ``mediated``: the project's default protocol, at the scenario's stated inputs.

``python experiments/forecast_comparison/analyze.py`` writes the comparison the README
quotes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.baselines import weighted_mean, weighted_median
from sim.kernel import RUNNING, STALEMATE, STATUS, evaluate_batch, init_batch, open_mask, required, settle

FORECASTERS = ("weighted_mean", "weighted_median", "expected_utility", "mediated")


def baseline_table(cfg, which: str = "weighted_mean") -> pd.DataFrame:
    """A run table (``agreement``, ``phases_agreed``, ``n_phases``, ``status``, ...) for a baseline text."""
    from sim.api import build

    st = build(cfg)
    sc = st.sc
    seeds = int(cfg.seed) + np.arange(int(cfg.n_seeds))
    b = init_batch(st, seeds)
    w = sc.capability[:, None] * b.sal
    text = (weighted_mean if which == "weighted_mean" else weighted_median)(b.pos0, w)  # [R, I]
    for phase in range(st.ag.n_phases):
        live = b.status == RUNNING
        if not live.any():
            break
        op = open_mask(st, b)
        b.x = np.where(op & live[:, None], np.where(np.isnan(text), b.x, text), b.x)
        ev = evaluate_batch(st, b, op, with_grad=False)
        acc = (ev.eu >= b.rv - 1e-12) & ~ev.hard
        ok = live & (acc | ~required(st, b)).all(axis=1)
        b.status = np.where(live & ~ok, STALEMATE, b.status).astype(np.int8)
        settle(st, b, ok, phase + 1)
    status = np.array([STATUS[int(s)] for s in b.status])
    return pd.DataFrame(
        {
            "point": 0,
            "seed": seeds,
            "agreement": status == "agreement",
            "phases_agreed": b.phases_agreed,
            "n_phases": st.ag.n_phases,
            "rounds": np.nan,
            "status": status,
            "blocking_issue": None,
        }
    )


def forecaster_table(overrides: list[str], forecaster: str, n_seeds: int, seed: int = 0) -> pd.DataFrame:
    """The run table of one forecaster on one configuration (``point`` = 0 for the statistics)."""
    from sim.api import load_config, run

    base = [*overrides, f"n_seeds={n_seeds}", f"seed={seed}"]
    if forecaster in ("weighted_mean", "weighted_median"):
        return baseline_table(load_config(base), forecaster)
    extra = ["protocol=expected_utility"] if forecaster == "expected_utility" else []
    table = run(load_config([*base, *extra])).table.copy()
    table["point"] = 0
    return table


def compare_rounds(calibration: str = "earlier_rounds", n_seeds: int = 200, seed: int = 0) -> pd.DataFrame:
    """Every target of a calibration file against every forecaster: its statistic and whether it holds.

    A statistic a forecaster cannot produce (rounds to agreement or the blocking issue, for
    the static baselines) is NaN and counts as not held.
    """
    from sim.calibrate import load, statistics

    cal = load(calibration)
    rows: list[dict[str, Any]] = []
    for r in cal.rounds:
        tg = [t for t in cal.targets if t["round"] == r]
        if not tg:
            continue
        for f in FORECASTERS:
            table = forecaster_table(cal.overrides(r), f, n_seeds, seed)
            stats = statistics(table, tg).iloc[0]
            for t in tg:
                v = float(stats[t["name"]])
                static = f.startswith("weighted") and t["statistic"] in ("median_rounds_agreed", "blocking_share")
                v = np.nan if static else v
                rows.append(
                    {
                        "target": t["name"],
                        "round": r,
                        "statistic": t["statistic"],
                        "target_value": t["target"],
                        "tolerance": t["tolerance"],
                        "forecaster": f,
                        "value": v,
                        "holds": bool(np.isfinite(v) and abs(v - t["target"]) <= t["tolerance"]),
                    }
                )
    return pd.DataFrame(rows)


def rounds_markdown(df: pd.DataFrame, n_seeds: int) -> str:
    """The comparison as a markdown table: one row per target, one column per forecaster."""
    head = "| target | what happened (range) | " + " | ".join(FORECASTERS) + " |"
    lines = [head, "|" + "---|" * (2 + len(FORECASTERS))]
    for name, g in df.groupby("target", sort=False):
        t = g.iloc[0]
        lo, hi = t.target_value - t.tolerance, t.target_value + t.tolerance
        rng = f"{lo:g} to {hi:g}" if t.statistic == "median_rounds_agreed" else f"{max(lo, 0):.1f} to {min(hi, 1):.1f}"
        cells = []
        for f in FORECASTERS:
            row = g[g.forecaster == f].iloc[0]
            if not np.isfinite(row.value):
                cells.append("n/a")
            else:
                v = f"{row.value:.0f}" if t.statistic == "median_rounds_agreed" else f"{row.value:.2f}"
                cells.append(f"{v} {'yes' if row.holds else 'no'}")
        lines.append(f"| {name} ({t.statistic}) | {rng} | " + " | ".join(cells) + " |")
    held = df.groupby("forecaster", sort=False)["holds"].sum()
    lines.append(
        "| **targets held** | of "
        + str(df.target.nunique())
        + " | "
        + " | ".join(f"**{int(held[f])}**" for f in FORECASTERS)
        + " |"
    )
    lines.append("")
    lines.append(
        f"{n_seeds} seeds per round and forecaster, at the stated (uncalibrated) inputs; "
        "'yes' when the statistic lies within the target's range."
    )
    return "\n".join(lines)
