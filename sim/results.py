"""Results: one tidy table per job, one record per run, and a summary a student can read.

The table has one row per run (seed and condition levels included) and only flat
columns (``term_<issue>``, ``utility_<actor>``, ...), so it goes to Parquet and back
without loss and merges across the jobs of a sweep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.kernel import AGREED, MAX_ROUNDS, SHOCK, STALEMATE, STATUS, WALKOUT, Static


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for a proportion ``k / n`` (95% by default)."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, mid - half), min(1.0, mid + half))


def actor_names(st: Static, bits: int) -> list[str]:
    """The actors whose bits are set in ``bits`` (bit ``a`` for actor ``a``)."""
    return [a for k, a in enumerate(st.sc.actors) if int(bits) >> k & 1]


def breakdown_reason(st: Static, status: int, walker: int, blockers: int = 0) -> str:
    """Why a run ended without agreement, in words ("" for an agreement)."""
    if status == AGREED:
        return ""
    if status == STALEMATE:
        who = " and ".join(actor_names(st, blockers)) or "a principal"
        return f"stalemate: nobody would move further and no text in reach was acceptable to all ({who} refused)"
    if status == WALKOUT:
        who = st.sc.actors[walker] if walker >= 0 else "a principal"
        return f"{who} walked out: no text on the open issues beats its reservation value"
    if status == SHOCK:
        return "a shock (a strike or a violation) ended the talks"
    if status == MAX_ROUNDS:
        return f"the observation window closed after {st.settings.max_rounds} rounds with the talks still moving"
    return "still running"


def make_table(st: Static, cols: dict[str, np.ndarray], trust=None, cred=None, press=None) -> pd.DataFrame:
    """The tidy per-run table from the kernel's outcome columns."""
    return pd.DataFrame(table_columns(st, cols, trust, cred, press))


def table_columns(st: Static, cols: dict[str, np.ndarray], trust=None, cred=None, press=None) -> dict[str, Any]:
    """The columns of :func:`make_table` as a dict (a scalar stands for a constant column)."""
    sc, n_ph = st.sc, st.ag.n_phases
    n = cols["seed"].size
    status = cols["status"]
    agreed = status == AGREED
    outcome = np.where(agreed, "agreement", np.where(cols["phases_agreed"] > 0, "partial", "breakdown"))
    data: dict[str, Any] = {
        "seed": cols["seed"],
        "trust_level": np.full(n, np.nan) if trust is None else np.asarray(trust, float),
        "credibility_level": np.full(n, np.nan) if cred is None else np.asarray(cred, float),
        "pressure_level": np.ones(n) if press is None else np.asarray(press, float),
        "scenario": sc.name,
        "agenda": st.ag.name,
        "protocol": st.settings.name,
        "n_phases": n_ph,
        "agreement": agreed,
        "outcome": outcome,
        "status": [STATUS[int(s)] for s in status],
        "breakdown_reason": [
            breakdown_reason(st, int(s), int(w), int(k))
            for s, w, k in zip(status, cols["walker"], cols["blockers"], strict=True)
        ],
        "rounds": cols["rounds"],
        "phases_agreed": cols["phases_agreed"],
        "nash_product": cols["nash_product"],
        "nbs_distance": cols["nbs_distance"],
        "pareto_efficient": cols["pareto_efficient"],
        "blocking_issue": [sc.issues[i] if i >= 0 else "" for i in cols["blocking_issue"]],
        "walkout_actor": [sc.actors[w] if w >= 0 else "" for w in cols["walker"]],
        "blocking_actors": [", ".join(actor_names(st, k)) for k in cols["blockers"]],
        "trust_final": cols["trust"],
    }
    for i, iss in enumerate(sc.issues):
        data[f"term_{iss}"] = cols["terms"][:, i]
    for i, iss in enumerate(sc.issues):
        data[f"final_{iss}"] = cols["final_text"][:, i]
    for i, iss in enumerate(sc.issues):  # the naive forecasts, from the run's drawn positions
        data[f"baseline_mean_{iss}"] = cols["baseline_mean"][:, i]
        data[f"baseline_median_{iss}"] = cols["baseline_median"][:, i]
    for a, act in enumerate(sc.actors):
        data[f"utility_{act}"] = cols["utility"][:, a]
        data[f"eu_{act}"] = cols["expected_utility"][:, a]
        data[f"rv_{act}"] = cols["reservation_value"][:, a]
        data[f"rv0_{act}"] = cols["reservation_value_0"][:, a]
        data[f"surplus_{act}"] = cols["expected_utility"][:, a] - cols["reservation_value"][:, a]
        data[f"conceded_{act}"] = cols["conceded"][:, a]
    return data


@dataclass(frozen=True)
class RunSet:
    """The runs of one configuration: the table, the compiled config and its hash."""

    static: Static
    table: pd.DataFrame
    config_hash: str
    config: dict

    @property
    def n_runs(self) -> int:
        """Number of runs in the table."""
        return len(self.table)

    def agreement_rate(self) -> tuple[float, float, float]:
        """Share of runs that reached full agreement, with its 95% Wilson interval."""
        k, n = int(self.table["agreement"].sum()), len(self.table)
        lo, hi = wilson(k, n)
        return (k / n if n else math.nan, lo, hi)

    def record(self, row: int = 0) -> dict[str, Any]:
        """One run as the dict written to ``result.json``."""
        return run_record(self.static, self.table.iloc[row], self.config_hash)

    def summary(self) -> dict[str, Any]:
        """Agreement rate (with interval), outcomes, median rounds and mean terms."""
        t = self.table
        rate, lo, hi = self.agreement_rate()
        ok = t[t["agreement"]]
        out = {
            "n_runs": int(len(t)),
            "agreement_rate": rate,
            "agreement_interval_95": [lo, hi],
            "outcomes": {k: int(v) for k, v in t["outcome"].value_counts().items()},
            "median_rounds_to_agreement": float(ok["rounds"].median()) if len(ok) else None,
            "mean_terms": {iss: float(ok[f"term_{iss}"].mean()) for iss in self.static.sc.issues} if len(ok) else {},
            "breakdown_reasons": {k: int(v) for k, v in t.loc[~t["agreement"], "status"].value_counts().items()},
            "blocking_issues": {k: int(v) for k, v in t.loc[~t["agreement"], "blocking_issue"].value_counts().items()},
        }
        from sim.baselines import of_scenario

        out["baselines"] = {
            iss: {**b, "model_mean_term": out["mean_terms"].get(iss)} for iss, b in of_scenario(self.static.sc).items()
        }
        if (self.config or {}).get("calibration") and "point" in t.columns:
            from sim.forecast import summarise

            out["forecast"] = summarise(t, self.static.ag.n_phases, self.config.get("forecast_horizon"))
        return out


def run_record(static: Static, r: Any, config_hash: str = "") -> dict[str, Any]:
    """One run as the dict written to ``result.json``, from a row of the table (any mapping)."""
    sc, ag = static.sc, static.ag
    terms = {}
    for i, iss in enumerate(sc.issues):
        v = r[f"term_{iss}"]
        if not np.isnan(v):
            terms[iss] = {"value": round(float(v), 6), "label": sc.anchor_label(i, float(v))}
    agreed_phases = list(range(1, int(r["phases_agreed"]) + 1))
    return {
        "scenario": sc.name,
        "agenda": ag.name,
        "protocol": static.settings.name,
        "seed": int(r["seed"]),
        "config_hash": config_hash,
        "agreement": bool(r["agreement"]),
        "outcome": str(r["outcome"]),
        "status": str(r["status"]),
        "phases_agreed": agreed_phases,
        "n_phases": int(ag.n_phases),
        "rounds": int(r["rounds"]),
        "terms": terms,
        "utilities": {a: float(r[f"utility_{a}"]) for a in sc.actors},
        "expected_utilities": {a: float(r[f"eu_{a}"]) for a in sc.actors},
        "reservation_values": {a: float(r[f"rv_{a}"]) for a in sc.actors},
        "initial_reservation_values": {a: float(r[f"rv0_{a}"]) for a in sc.actors},
        "conceded": {a: float(r[f"conceded_{a}"]) for a in sc.actors},
        "nash_product": float(r["nash_product"]),
        "nbs_distance": None if np.isnan(r["nbs_distance"]) else float(r["nbs_distance"]),
        "pareto_efficient": bool(r["pareto_efficient"]),
        "blocking_issue": str(r["blocking_issue"]) or None,
        "blocking_actors": str(r["blocking_actors"]) or None,
        "baselines": {
            iss: {
                "weighted_mean": float(r[f"baseline_mean_{iss}"]),
                "weighted_median": float(r[f"baseline_median_{iss}"]),
            }
            for iss in sc.issues
        },
        "breakdown_reason": str(r["breakdown_reason"]) or None,
    }
