"""What drives the outcome: global sensitivity analysis and scenario discovery.

Most numbers of a scenario are judgements (tagged ``J``): a position, a value of no deal,
the chance of a shock per round. This module asks which of them the results depend on.
A **Morris screen** moves one input at a time along many random paths through the input
ranges and reports, per input, how much the outcome moves on average (``mu_star``) and
how much that effect changes with the other inputs (``sigma``): cheap, and good at
telling the few inputs that matter from the many that do not. A **Sobol analysis** then
splits the variance of the outcome among the few inputs left: the share each explains
alone (``S1``) and with its interactions (``ST``). **Scenario discovery** (PRIM) finds a
simple box of input ranges, such as "the value of no deal below 0.43 and the pressure at
least 2", in which an outcome (a deal, a second phase agreed) is likely, and says how much
of that outcome the box holds (coverage) and how pure it is (density).

Every point of a design is run for ``n_seeds`` seeds through :func:`sim.design.run_design`
(the same seeds at every point) and reduced to one number per outcome: ``agreement`` (the
share of seeds agreed), ``phase<k>`` (the share with at least k phases agreed), ``rounds``
(mean rounds), ``term_<issue>`` (mean agreed term over the agreed runs), a status
(``stalemate``, ``shock``, ``walkout``, ``max_rounds``: its share), or the mean of any
other numeric column of the run table. Ranges come from :func:`sim.design.judgement_inputs`
and are judgements too: a result says what the model does over those ranges, not what
the real talks would do. The ``negotiate-explore`` command runs each analysis and writes
tidy Parquet tables, figures and ``report.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ConfigError
from sim.io import write_json, write_parquet, write_text

STATUSES = ("agreement", "stalemate", "shock", "walkout", "max_rounds")
DEFAULT_OUTCOMES = ("agreement", "phase1", "rounds")
RUNS_PER_CALL = 50_000  # runs per call of the runner: bounds the memory of one batch
MORRIS_FILE, SOBOL_FILE = "morris.parquet", "sobol.parquet"
MORRIS_INPUTS_FILE = "morris_inputs.parquet"
PRIM_TRAJECTORY_FILE, PRIM_BOX_FILE = "prim_trajectory.parquet", "prim_box.parquet"
PHASE = re.compile(r"^phase(\d+)$")
RUN_OUTCOMES = ("rounds", "phases_agreed", "n_phases", "trust_final", "nash_product")

#: ``runner(design, n_seeds) -> table``: one row per run with a ``point`` column (the design
#: row) and the outcome columns; :func:`design_runner` wraps :func:`sim.design.run_design`.
Runner = Callable[[pd.DataFrame, int], pd.DataFrame]


# --------------------------------------------------------------------------- inputs and designs


def usable_inputs(inputs: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The inputs with a range to vary over, and the paths of those without one (``low == high``)."""
    _check_inputs(inputs)
    ok = inputs["high"].astype(float) > inputs["low"].astype(float)
    return inputs[ok].reset_index(drop=True), inputs.loc[~ok, "path"].astype(str).tolist()


def _check_inputs(inputs: pd.DataFrame) -> None:
    missing = [c for c in ("path", "low", "high") if c not in inputs.columns]
    if missing:
        raise ConfigError(
            "inputs table", ", ".join(missing), "columns path, low, high (and integer, group)", list(inputs.columns)
        )
    if inputs.empty:
        raise ConfigError("inputs table", "path", "at least one input to vary", 0)
    dup = inputs["path"][inputs["path"].duplicated()].tolist()
    if dup:
        raise ConfigError("inputs table", "path", "each input once", dup[0])
    bad = inputs[~(inputs["high"].astype(float) >= inputs["low"].astype(float))]
    if len(bad):
        r = bad.iloc[0]
        raise ConfigError("inputs table", str(r["path"]), "low <= high", [r["low"], r["high"]])


def problem(inputs: pd.DataFrame, groups: str | Sequence[str] | None = None) -> dict[str, Any]:
    """The SALib problem of ``inputs`` (each row a factor, or grouped).

    Args:
        inputs: ``path``, ``low``, ``high`` (and ``group`` to group by it).
        groups: ``None`` (each input a factor), a column name of ``inputs`` (``"group"``) or
            one group name per input.
    """
    _check_inputs(inputs)
    p: dict[str, Any] = {
        "num_vars": len(inputs),
        "names": inputs["path"].astype(str).tolist(),
        "bounds": [[float(lo), float(hi)] for lo, hi in zip(inputs["low"], inputs["high"], strict=True)],
    }
    if groups is not None:
        g = inputs[groups].astype(str).tolist() if isinstance(groups, str) else [str(x) for x in groups]
        if len(g) != len(inputs):
            raise ConfigError("inputs table", "groups", f"one group per input ({len(inputs)})", len(g))
        p["groups"] = g
    return p


def to_design(X: np.ndarray, inputs: pd.DataFrame) -> pd.DataFrame:
    """A design table (columns = input paths) from a sample matrix; integer inputs are rounded."""
    design = pd.DataFrame(np.asarray(X, dtype=float), columns=inputs["path"].astype(str).tolist())
    integer = inputs["integer"].astype(bool).tolist() if "integer" in inputs.columns else [False] * len(inputs)
    for path, is_int in zip(design.columns, integer, strict=True):
        if is_int:
            design[path] = np.rint(design[path]).astype(np.int64)
    return design


# --------------------------------------------------------------------------- outcomes


def outcome_of_runs(table: pd.DataFrame, outcome: str) -> np.ndarray:
    """The per-run value whose mean over seeds is ``outcome`` (NaN where it is undefined)."""
    if outcome == "agreement":
        return table["agreement"].to_numpy(dtype=float)
    m = PHASE.match(outcome)
    if m:
        return (table["phases_agreed"].to_numpy() >= int(m.group(1))).astype(float)
    if outcome in STATUSES[1:]:
        return (table["status"].astype(str).to_numpy() == outcome).astype(float)
    if outcome not in table.columns:
        raise ConfigError(
            "outcomes",
            outcome,
            "agreement, phase<k>, rounds, term_<issue>, a status "
            "(stalemate, shock, walkout, max_rounds) or a numeric column of the run table",
            outcome,
        )
    col = table[outcome]
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        raise ConfigError("outcomes", outcome, "a numeric column of the run table", str(col.dtype))
    return col.to_numpy(dtype=float, na_value=np.nan)


def point_outcomes(table: pd.DataFrame, outcomes: Sequence[str], n_points: int | None = None) -> pd.DataFrame:
    """Reduce a run table (one row per run, column ``point``) to one row per point.

    Each outcome is the mean over the point's seeds of :func:`outcome_of_runs`, ignoring
    NaN (a ``term_<issue>`` is the mean over the runs that agreed; NaN where none did).
    The result has a row for every point ``0 .. n_points - 1`` and a column ``n_runs``.
    """
    idx = pd.RangeIndex(int(table["point"].max()) + 1 if n_points is None else n_points, name="point")
    out = pd.DataFrame(index=idx)
    point = table["point"].to_numpy()
    out["n_runs"] = pd.Series(point).value_counts().reindex(idx, fill_value=0).to_numpy()
    for o in outcomes:
        v = outcome_of_runs(table, o)
        out[o] = pd.Series(v, index=point).groupby(level=0).mean().reindex(idx)
    return out


def design_runner(cfg: Any, seed: int | None = None, progress: bool | None = None, desc: str = "runs") -> Runner:
    """A :data:`Runner` over :func:`sim.design.run_design` for the configuration ``cfg``.

    Calls ``run_design`` on slices of at most :data:`RUNS_PER_CALL` runs and keeps only the
    outcome columns; a tqdm bar on stderr unless ``progress`` is False (by default it is
    off when the ``CI`` environment variable is set).
    """
    from sim.design import run_design
    from sim.sweep import quiet_progress

    show = (not quiet_progress()) if progress is None else bool(progress)
    keep = ("point", "seed", "agreement", "status", *RUN_OUTCOMES)

    def run(design: pd.DataFrame, n_seeds: int) -> pd.DataFrame:
        bar = None
        if show:
            from tqdm import tqdm

            bar = tqdm(
                total=len(design) * n_seeds, desc=desc, unit="run", leave=False, mininterval=0.5, file=sys.stderr
            )
        try:
            step = max(1, RUNS_PER_CALL // max(1, n_seeds))
            parts = []
            for start in range(0, len(design), step):
                part = design.iloc[start : start + step].reset_index(drop=True)
                with warnings.catch_warnings():  # run_design adds one column per design input
                    warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
                    t = run_design(
                        cfg, part, n_seeds=n_seeds, seed=seed, progress=bar.update if bar is not None else None
                    ).table
                cols = [c for c in t.columns if c in keep or str(c).startswith(("term_", "utility_", "surplus_"))]
                t = t[cols].copy()
                t["point"] = t["point"].to_numpy() + start
                parts.append(t)
        finally:
            if bar is not None:
                bar.close()
        return pd.concat(parts, ignore_index=True)

    return run


def _runner(cfg: Any, runner: Runner | None, progress: bool | None, desc: str) -> Runner:
    if runner is not None:
        return runner
    if cfg is None:
        raise ConfigError("explore", "cfg", "a configuration (sim.api.load_config) or a runner", None)
    return design_runner(cfg, progress=progress, desc=desc)


def _evaluate(
    run: Runner, X: np.ndarray, inputs: pd.DataFrame, outcomes: Sequence[str], n_seeds: int
) -> tuple[pd.DataFrame, float]:
    """Run the design of sample ``X``; one row per point: the inputs, ``n_runs`` and the outcomes."""
    design = to_design(X, inputs)
    t0 = time.perf_counter()
    table = run(design, n_seeds)
    seconds = time.perf_counter() - t0
    pts = point_outcomes(table, outcomes, len(design))
    return pd.concat([design, pts.reset_index(drop=True)], axis=1), seconds


def _filled(y: np.ndarray) -> tuple[np.ndarray, int]:
    """NaN (an outcome undefined at a point, e.g. a term where no seed agreed) filled with the mean."""
    bad = ~np.isfinite(y)
    if bad.all():
        return y, int(bad.sum())
    y = y.copy()
    y[bad] = np.mean(y[~bad])
    return y, int(bad.sum())


def _check_outcomes(outcomes: Sequence[str] | str, cfg: Any = None, runner: Runner | None = None) -> list[str]:
    """The outcomes as a list; with the default runner, each one checked before any run."""
    outs = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    if not outs:
        raise ConfigError("outcomes", "outcomes", "at least one outcome", outs)
    if runner is not None or cfg is None:
        return outs
    issues = list(cfg.scenario.get("issues", {}) or {})
    actors = list(cfg.scenario.get("actors", {}) or {})
    known = {
        *STATUSES,
        *RUN_OUTCOMES,
        *(f"term_{i}" for i in issues),
        *(f"{k}_{a}" for k in ("utility", "surplus") for a in actors),
    }
    for o in outs:
        if o not in known and not PHASE.match(o):
            raise ConfigError(
                "outcomes",
                o,
                "agreement, phase<k>, rounds, a status (stalemate, shock, walkout, "
                f"max_rounds), term_<issue> ({', '.join(issues)}), utility_<actor> or surplus_<actor> "
                f"({', '.join(actors)}), trust_final or nash_product",
                o,
            )
    return outs


# --------------------------------------------------------------------------- Morris


def _members(prob: dict) -> dict[str, list[str]]:
    """Each name SALib reports (a group, or an input when ungrouped) and the input paths it covers."""
    members: dict[str, list[str]] = {}
    for name, path in zip(prob.get("groups") or prob["names"], prob["names"], strict=True):
        members.setdefault(name, []).append(path)
    return members


def morris(
    cfg: Any,
    inputs: pd.DataFrame,
    outcomes: Sequence[str] = DEFAULT_OUTCOMES,
    n_trajectories: int = 10,
    n_seeds: int = 20,
    groups: str | Sequence[str] | None = None,
    num_levels: int = 4,
    seed: int = 0,
    runner: Runner | None = None,
    progress: bool | None = None,
    return_points: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Morris elementary-effects screen of ``inputs`` on ``outcomes``.

    Samples ``n_trajectories`` one-at-a-time paths (SALib's ``morris.sample``; integer
    inputs rounded), runs every point for ``n_seeds`` seeds and analyses each outcome
    with ``SALib.analyze.morris``. Effects are per unit of an input's range (its whole
    range counts 1), so inputs with different scales compare.

    Args:
        cfg: the base configuration (:func:`sim.api.load_config`); its ``seed`` is the first
            seed of every point (common random numbers).
        inputs: ``path``, ``low``, ``high``, ``integer`` (and ``group``), e.g.
            :func:`sim.design.judgement_inputs`. Inputs with ``low == high`` are left out.
        outcomes: see the module docstring.
        groups: ``None`` (one factor per input) or ``"group"`` (or one name per input): a
            group's inputs move together and it gets one index.
        seed: seed of the sample (not of the runs).
        runner: stands in for :func:`sim.design.run_design` (see :data:`Runner`); ``cfg``
            may then be ``None``.
        return_points: also return the points (inputs and outcomes, one row per point).

    Returns:
        A tidy table, one row per input (or group) and outcome: ``input``, ``outcome``,
        ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma``, ``kind`` (input or group),
        ``members``, ``n_points``, ``n_runs``, ``n_missing`` (points where the outcome was
        undefined, filled with its mean), ``seconds`` (of the runs), sorted by outcome and ``mu_star``.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    outs = _check_outcomes(outcomes, cfg, runner)
    inputs, _ = usable_inputs(inputs)
    if int(n_trajectories) < 2:
        raise ConfigError("morris", "n_trajectories", "at least 2 trajectories", n_trajectories)
    prob = problem(inputs, groups)
    X = morris_sample.sample(dict(prob), int(n_trajectories), num_levels=int(num_levels), seed=int(seed))
    run = _runner(cfg, runner, progress, "morris")
    points, seconds = _evaluate(run, X, inputs, outs, int(n_seeds))
    members = _members(prob)
    rows = []
    for o in outs:
        y, n_missing = _filled(points[o].to_numpy(dtype=float))
        if n_missing == len(y):
            res = {
                "names": list(members),
                "mu": [np.nan] * len(members),
                "mu_star": [np.nan] * len(members),
                "mu_star_conf": [np.nan] * len(members),
                "sigma": [np.nan] * len(members),
            }
        else:
            res = morris_analyze.analyze(dict(prob), X, y, num_levels=int(num_levels), seed=int(seed))
        for k, name in enumerate(res["names"]):
            rows.append(
                {
                    "input": str(name),
                    "outcome": o,
                    "mu": float(res["mu"][k]),
                    "mu_star": float(res["mu_star"][k]),
                    "mu_star_conf": float(res["mu_star_conf"][k]),
                    "sigma": float(res["sigma"][k]),
                    "kind": "group" if groups is not None else "input",
                    "members": ",".join(members.get(str(name), [str(name)])),
                }
            )
    tidy = pd.DataFrame(rows)
    tidy["n_points"], tidy["n_runs"] = len(points), int(points["n_runs"].sum())
    tidy["n_missing"] = tidy["outcome"].map({o: _filled(points[o].to_numpy(dtype=float))[1] for o in outs})
    tidy["seconds"] = seconds
    tidy = _ranked(tidy, "mu_star", outs)
    return (tidy, points) if return_points else tidy


def _ranked(tidy: pd.DataFrame, by: str, outs: list[str]) -> pd.DataFrame:
    tidy["_o"] = tidy["outcome"].map({o: k for k, o in enumerate(outs)})
    tidy = tidy.sort_values(["_o", by], ascending=[True, False], kind="stable", na_position="last")
    return tidy.drop(columns="_o").reset_index(drop=True)


# --------------------------------------------------------------------------- Sobol


def sobol(
    cfg: Any,
    inputs: pd.DataFrame,
    outcomes: Sequence[str] = DEFAULT_OUTCOMES,
    n_base: int = 256,
    n_seeds: int = 40,
    groups: str | Sequence[str] | None = None,
    seed: int = 0,
    runner: Runner | None = None,
    progress: bool | None = None,
    num_resamples: int = 100,
    return_points: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Sobol indices of ``inputs`` on ``outcomes``: first order and total, with 95% intervals.

    A Saltelli design (``SALib.sample.sobol``, scrambled Sobol sequence, no second order)
    of ``n_base * (k + 2)`` points for ``k`` factors, each run for ``n_seeds`` seeds, then
    ``SALib.analyze.sobol`` per outcome. ``n_base`` is rounded up to a power of two.

    Args:
        cfg, inputs, outcomes, groups, seed, runner, progress, return_points: as in :func:`morris`.
        n_base: base sample size (the Sobol sequence length).
        num_resamples: bootstrap resamples for the confidence intervals.

    Returns:
        A tidy table, one row per input (or group) and outcome: ``input``, ``outcome``,
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (half-widths of 95% intervals), ``kind``,
        ``members``, ``n_points``, ``n_runs``, ``n_missing``, ``seconds`` (of the runs),
        sorted by outcome and ``ST``.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    outs = _check_outcomes(outcomes, cfg, runner)
    inputs, _ = usable_inputs(inputs)
    n = 1 << max(1, math.ceil(math.log2(max(2, int(n_base)))))
    prob = problem(inputs, groups)
    X = sobol_sample.sample(dict(prob), n, calc_second_order=False, seed=int(seed))
    run = _runner(cfg, runner, progress, "sobol")
    points, seconds = _evaluate(run, X, inputs, outs, int(n_seeds))
    members = _members(prob)
    rows = []
    for o in outs:
        y, n_missing = _filled(points[o].to_numpy(dtype=float))
        if n_missing == len(y) or np.var(y) == 0:
            res = {k: [np.nan] * len(members) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = sobol_analyze.analyze(
                    dict(prob), y, calc_second_order=False, num_resamples=int(num_resamples), seed=int(seed)
                )
        for k, name in enumerate(members):
            rows.append(
                {
                    "input": name,
                    "outcome": o,
                    "S1": float(res["S1"][k]),
                    "S1_conf": float(res["S1_conf"][k]),
                    "ST": float(res["ST"][k]),
                    "ST_conf": float(res["ST_conf"][k]),
                    "kind": "group" if groups is not None else "input",
                    "members": ",".join(members[name]),
                    "n_missing": n_missing,
                }
            )
    tidy = pd.DataFrame(rows)
    tidy["n_points"], tidy["n_runs"], tidy["seconds"] = len(points), int(points["n_runs"].sum()), seconds
    tidy = _ranked(tidy, "ST", outs)
    return (tidy, points) if return_points else tidy


def latin(
    cfg: Any,
    inputs: pd.DataFrame,
    outcomes: Sequence[str],
    n_samples: int = 500,
    n_seeds: int = 20,
    seed: int = 0,
    runner: Runner | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """A Latin hypercube of ``n_samples`` points over ``inputs``; one row per point with the outcomes.

    The table :func:`prim_boxes` reads (``SALib.sample.latin``; integer inputs rounded).
    """
    from SALib.sample import latin as latin_sample

    outs = _check_outcomes(outcomes, cfg, runner)
    inputs, _ = usable_inputs(inputs)
    X = latin_sample.sample(problem(inputs), int(n_samples), seed=int(seed))
    points, seconds = _evaluate(_runner(cfg, runner, progress, "latin hypercube"), X, inputs, outs, int(n_seeds))
    points.attrs["seconds"] = seconds
    return points


# --------------------------------------------------------------------------- PRIM


@dataclass
class PrimResult:
    """What :func:`prim_boxes` finds.

    Attributes:
        outcome: the outcome column; ``threshold`` and ``above`` define the cases of
            interest (``outcome > threshold``, or ``<`` when ``above`` is False).
        trajectory: one row per box of PRIM's peeling (and pasting) trajectory: ``step``,
            ``coverage``, ``density``, ``mass``, ``res_dim``, ``n``, ``k``, ``chosen``.
        box: one row per input: ``input``, ``lower``, ``upper`` (the box), ``low``,
            ``high`` (the range of the points), ``integer``, ``restricted``, ``qp_lower``,
            ``qp_upper`` (PRIM's quasi-p values of each side's restriction in the chosen
            step; NaN if that side is not restricted) and ``dropped`` (a restriction of the
            chosen step left out as not significant).
        chosen: the step of the trajectory the box comes from.
        coverage, density: of the box (after leaving out restrictions that are not significant).
        words: the box in words.
    """

    outcome: str
    threshold: float
    above: bool
    trajectory: pd.DataFrame
    box: pd.DataFrame
    chosen: int
    coverage: float
    density: float
    words: str
    n_points: int
    n_interest: int
    settings: dict[str, Any] = field(default_factory=dict)


def _num(v: float, integer: bool, up: bool) -> str:
    """A limit in words; an integer input's limit is the whole number inside the box."""
    if integer:
        return str(int(math.floor(v + 1e-9) if up else math.ceil(v - 1e-9)))
    return f"{v:.3g}"


def box_in_words(box: pd.DataFrame, what: str) -> str:
    """``"<what> when a is below 0.43 and b is at least 2"`` from a box table (see :class:`PrimResult`)."""
    parts = []
    for _, r in box[box["restricted"]].iterrows():
        integer = bool(r.get("integer", False))
        lo_cut = r["lower"] > r["low"]
        hi_cut = r["upper"] < r["high"]
        lo, hi = _num(r["lower"], integer, False), _num(r["upper"], integer, True)
        if lo_cut and hi_cut:
            parts.append(f"{r['input']} is between {lo} and {hi}")
        elif hi_cut:
            parts.append(f"{r['input']} is {'at most' if integer else 'below'} {hi}")
        else:
            parts.append(f"{r['input']} is at least {lo}")
    if not parts:
        return f"{what} anywhere in the ranges explored (no significant restriction of any input)"
    return f"{what} when " + " and ".join(parts)


_BOX_COLS = ["input", "lower", "upper", "low", "high", "integer", "restricted", "qp_lower", "qp_upper", "dropped"]


def prim_boxes(
    points: pd.DataFrame,
    inputs: Sequence[str],
    outcome: str,
    threshold: float = 0.5,
    above: bool = True,
    min_coverage: float = 0.5,
    max_qp: float | None = 0.05,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
    integer: Sequence[str] = (),
) -> PrimResult:
    """PRIM (the EMA Workbench's) on one row per point: where is ``outcome`` above ``threshold``?

    The cases of interest are the points with ``outcome > threshold`` (``<`` if ``above``
    is False). PRIM peels the input space down to boxes of ever higher density; the box
    chosen is the densest one that still holds at least ``min_coverage`` of the cases of
    interest (the last one, if none does). Restrictions of that box whose quasi-p value
    (Bryant and Lempert 2010: how likely a restriction this good is by chance) exceeds
    ``max_qp`` are left out, and the box's coverage and density are computed again.

    Args:
        points: one row per point: the ``inputs`` columns and the ``outcome`` column (e.g.
            from :func:`latin`, or the points of :func:`morris`/:func:`sobol`).
        inputs: the columns PRIM may restrict (numeric; PRIM is given them as floats).
        max_qp: ``None`` keeps every restriction PRIM made.
        integer: inputs to describe as whole numbers (integer columns are, anyway).

    Returns:
        A :class:`PrimResult` with the peeling trajectory, the box and its limits in words.
    """
    inputs = [str(c) for c in inputs]
    x, v, integer = _prim_inputs(points, inputs, outcome, integer)
    y = (v > threshold) if above else (v < threshold)
    label = f"{outcome} {'above' if above else 'below'} {threshold:g}"
    settings = {
        "peel_alpha": peel_alpha,
        "paste_alpha": paste_alpha,
        "mass_min": mass_min,
        "min_coverage": min_coverage,
        "max_qp": max_qp,
    }
    lo_hi = pd.DataFrame(
        {
            "input": inputs,
            "low": x.min().to_numpy(dtype=float),
            "high": x.max().to_numpy(dtype=float),
            "integer": [c in integer for c in inputs],
        }
    )
    n_int = int(y.sum())
    if n_int == 0 or n_int == len(y):
        return _prim_everywhere_or_nowhere(outcome, threshold, above, lo_hi, len(y), n_int, label, settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim as ema_prim

        # threshold: what counts as a case of interest (y >= it) and the least mean a box must
        # reach; with a tiny value every 1 counts and the whole trajectory is kept (the box is chosen below)
        p = ema_prim.Prim(
            x, y.astype(int), threshold=1e-9, peel_alpha=peel_alpha, paste_alpha=paste_alpha, mass_min=mass_min
        )
        found = p.find_box()
    traj, chosen = _prim_trajectory(found, min_coverage)
    box, inside = _prim_box(found, chosen, lo_hi, x, max_qp)
    coverage = float(y[inside].sum() / n_int)
    density = float(y[inside].mean()) if inside.any() else float("nan")
    words = box_in_words(box, f"{label} is {'likely' if density > 0.5 else 'most frequent'}")
    words += (
        f" (coverage {coverage:.2f}: that share of the points with {label} lies in the box;"
        f" density {density:.2f}: that share of the points in the box has it;"
        f" {n_int} of {len(y)} points overall)"
    )
    return PrimResult(
        outcome, float(threshold), bool(above), traj, box, chosen, coverage, density, words, len(y), n_int, settings
    )


def _prim_inputs(
    points: pd.DataFrame, inputs: list[str], outcome: str, integer: Sequence[str]
) -> tuple[pd.DataFrame, np.ndarray, set[str]]:
    """The inputs as float columns, the finite outcomes and the inputs to describe as whole numbers.

    Points whose outcome is not finite are left out. Only float columns go to PRIM: it treats
    anything non-numeric as categorical (which fails on pandas 3), and EMA 2.5's pasting
    writes float limits into an int64 column (a TypeError on pandas 3).
    """
    miss = [c for c in [*inputs, outcome] if c not in points.columns]
    if miss:
        raise ConfigError(
            "points table", miss[0], f"a column of the points ({', '.join(map(str, points.columns))})", miss[0]
        )
    v = points[outcome].to_numpy(dtype=float)
    ok = np.isfinite(v)
    x = points.loc[ok, inputs].reset_index(drop=True)
    whole = {*integer, *(c for c in inputs if pd.api.types.is_integer_dtype(x[c]))}
    for c in inputs:
        if not (pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c])):
            raise ConfigError("points table", c, "a numeric input column", str(x[c].dtype))
        x[c] = x[c].to_numpy(dtype=float)
    return x, v[ok], whole


def _prim_everywhere_or_nowhere(
    outcome: str,
    threshold: float,
    above: bool,
    lo_hi: pd.DataFrame,
    n: int,
    n_int: int,
    label: str,
    settings: dict[str, Any],
) -> PrimResult:
    """The result when every point, or none, is a case of interest: the whole space, nothing to peel."""
    box = lo_hi.assign(
        lower=lo_hi["low"], upper=lo_hi["high"], restricted=False, qp_lower=np.nan, qp_upper=np.nan, dropped=False
    )
    traj = pd.DataFrame(
        [
            {
                "step": 0,
                "coverage": 1.0 if n_int else np.nan,
                "density": n_int / max(1, n),
                "mass": 1.0,
                "res_dim": 0,
                "n": n,
                "k": n_int,
                "chosen": True,
            }
        ]
    )
    words = f"{label} at every point explored" if n_int else f"{label} at no point explored"
    return PrimResult(
        outcome,
        float(threshold),
        bool(above),
        traj,
        box[_BOX_COLS],
        0,
        float(traj["coverage"].iloc[0]),
        float(traj["density"].iloc[0]),
        words,
        n,
        n_int,
        settings,
    )


def _prim_trajectory(found: Any, min_coverage: float) -> tuple[pd.DataFrame, int]:
    """PRIM's peeling trajectory as a table, and the step chosen: the densest box that
    still covers ``min_coverage`` of the cases of interest (the last step if none does)."""
    pt = found.peeling_trajectory.reset_index(drop=True)
    traj = pd.DataFrame(
        {
            "step": np.arange(len(pt)),
            **{c: pt[c].to_numpy(dtype=float) for c in ("coverage", "density", "mass")},
            **{c: pt[c].to_numpy(dtype=np.int64) for c in ("res_dim", "n", "k")},
        }
    )
    enough = traj.index[traj["coverage"] >= min_coverage]
    chosen = int(traj.loc[enough, "density"].idxmax()) if len(enough) else int(traj.index[-1])
    traj["chosen"] = traj["step"] == chosen
    return traj, chosen


def _prim_box(
    found: Any, chosen: int, lo_hi: pd.DataFrame, x: pd.DataFrame, max_qp: float | None
) -> tuple[pd.DataFrame, np.ndarray]:
    """The chosen box's limits per input (restrictions with a quasi-p above ``max_qp``
    dropped) and which points lie inside it."""
    lims = found.box_lims[chosen]
    qp = found.qp[chosen] if chosen < len(found.qp) else {}
    rows = []
    inside = np.ones(len(x), dtype=bool)
    for _, r in lo_hi.iterrows():
        c = r["input"]
        lower, upper = float(lims.loc[0, c]), float(lims.loc[1, c])
        q = [float(s) if s is not None and np.isfinite(s) and s >= 0 else np.nan for s in qp.get(c, [-1, -1])]
        q = (q + [np.nan, np.nan])[:2]
        dropped = False
        if max_qp is not None:
            if lower > r["low"] and not q[0] <= max_qp:
                lower, dropped = float(r["low"]), True
            if upper < r["high"] and not q[1] <= max_qp:
                upper, dropped = float(r["high"]), True
        restricted = lower > r["low"] or upper < r["high"]
        inside &= (x[c].to_numpy() >= lower) & (x[c].to_numpy() <= upper)
        rows.append(
            {
                **r.to_dict(),
                "lower": lower,
                "upper": upper,
                "restricted": bool(restricted),
                "qp_lower": q[0] if lower > r["low"] else np.nan,
                "qp_upper": q[1] if upper < r["high"] else np.nan,
                "dropped": dropped,
            }
        )
    return pd.DataFrame(rows)[_BOX_COLS], inside


# --------------------------------------------------------------------------- figures


def short_name(path: str) -> str:
    """A short label: ``scenario.actors.Hamas.reservation_value`` -> ``Hamas reservation_value``."""
    parts = str(path).split(".")
    if parts[:2] == ["scenario", "actors"] and len(parts) > 3:
        return parts[2] + " " + ".".join(parts[3:])
    if parts[0] == "scenario" and len(parts) > 1:
        return ".".join(parts[1:])
    return str(path)


def _axes(ax: Any, size: tuple[float, float]) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _labels(ax: Any, items: list[tuple[str, float, float]], fontsize: float = 8) -> None:
    """Label points, moving a label up or down (in points) until it overlaps no label placed before."""
    fig = ax.figure
    dpi_scale = fig.dpi / 72.0
    placed: list[tuple[float, float, float, float]] = []  # display boxes
    offsets = [(4, 3), (4, -11), (4, 13), (4, -21), (4, 23), (4, -31), (4, 33)]
    for text, x, y in items:
        px, py = ax.transData.transform((x, y))
        w, h = 0.55 * fontsize * len(text) * dpi_scale, 1.2 * fontsize * dpi_scale
        for dx, dy in offsets:
            box = (px + dx * dpi_scale, py + dy * dpi_scale, px + dx * dpi_scale + w, py + dy * dpi_scale + h)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                break
        placed.append(box)
        ax.annotate(
            text,
            (x, y),
            xytext=(dx, dy),
            textcoords="offset points",
            fontsize=fontsize,
            arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.5} if (dx, dy) != (4, 3) else None,
        )


def plot_morris(tidy: pd.DataFrame, outcome: str | None = None, ax: Any = None, label_top: int = 10) -> Any:
    """Scatter of ``mu_star`` (with its interval) against ``sigma``; the top ``label_top`` labelled.

    SALib gives no ``sigma`` for a group of several inputs: a grouped screen is drawn as
    bars of ``mu_star`` (the top ``2 * label_top``) instead. Returns the matplotlib Figure.
    """
    outcome = outcome or str(tidy["outcome"].iloc[0])
    t = tidy[tidy["outcome"] == outcome].sort_values("mu_star", ascending=False).reset_index(drop=True)
    if (t["kind"] == "group").any() or t["sigma"].isna().all():
        return _plot_morris_bars(t, outcome, ax, 2 * label_top)
    fig, ax = _axes(ax, (6.4, 4.8))
    top = t.head(label_top)
    rest = t.iloc[label_top:]
    ax.scatter(rest["mu_star"], rest["sigma"], s=14, color="0.6", label=f"other {len(rest)}" if len(rest) else None)
    ax.errorbar(
        top["mu_star"],
        top["sigma"],
        xerr=top["mu_star_conf"],
        fmt="o",
        ms=5,
        color="C0",
        ecolor="C0",
        elinewidth=0.8,
        capsize=2,
        label=f"top {len(top)} by mu*",
    )
    hi = np.nanmax([t["mu_star"].max(), t["sigma"].max(), 1e-9])
    ax.plot([0, hi], [0, hi], ls=":", lw=0.8, color="0.5")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    _labels(
        ax,
        [
            (short_name(r["input"]), r["mu_star"], r["sigma"])
            for _, r in top.iterrows()
            if np.isfinite(r["mu_star"]) and np.isfinite(r["sigma"])
        ],
    )
    ax.set_xlabel("mu* (mean absolute effect of moving the input across its range)", fontsize=9)
    ax.set_ylabel("sigma (how much the effect varies: nonlinearity, interactions)", fontsize=9)
    ax.set_title(f"Morris screen: {outcome} ({int(t['n_runs'].iloc[0]) if len(t) else 0:,} runs)", fontsize=10)
    ax.tick_params(labelsize=8)
    if len(t):
        ax.legend(fontsize=8, loc="upper left")
    return fig


def _plot_morris_bars(t: pd.DataFrame, outcome: str, ax: Any, top: int) -> Any:
    t = t.head(top).iloc[::-1]
    fig, ax = _axes(ax, (6.4, max(2.4, 0.3 * len(t) + 1.2)))
    y = np.arange(len(t))
    ax.barh(y, t["mu_star"], xerr=t["mu_star_conf"], color="C0", error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_yticks(y, [short_name(s) for s in t["input"]], fontsize=8)
    ax.set_xlabel("mu* (mean absolute effect of moving the inputs across their ranges)", fontsize=9)
    n = int(t["n_runs"].iloc[0]) if len(t) else 0
    ax.set_title(f"Morris screen of groups: {outcome} ({n:,} runs, 95% intervals)", fontsize=10)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlim(left=0)
    return fig


def plot_sobol(tidy: pd.DataFrame, outcome: str | None = None, ax: Any = None) -> Any:
    """Horizontal bars of ``S1`` and ``ST`` with their 95% intervals, largest ``ST`` on top."""
    outcome = outcome or str(tidy["outcome"].iloc[0])
    t = tidy[tidy["outcome"] == outcome].sort_values("ST", ascending=True).reset_index(drop=True)
    fig, ax = _axes(ax, (6.4, max(2.4, 0.45 * len(t) + 1.2)))
    y = np.arange(len(t))
    ax.barh(
        y + 0.2,
        t["ST"],
        height=0.38,
        xerr=t["ST_conf"],
        color="C1",
        label="ST (total: alone and with others)",
        error_kw={"elinewidth": 0.8, "capsize": 2},
    )
    ax.barh(
        y - 0.2,
        t["S1"],
        height=0.38,
        xerr=t["S1_conf"],
        color="C0",
        label="S1 (first order: alone)",
        error_kw={"elinewidth": 0.8, "capsize": 2},
    )
    ax.set_yticks(y, [short_name(s) for s in t["input"]], fontsize=8)
    ax.axvline(0, color="0.3", lw=0.6)
    ax.set_xlabel("share of the variance of the outcome", fontsize=9)
    n = int(t["n_runs"].iloc[0]) if len(t) else 0
    ax.set_title(f"Sobol indices: {outcome} ({n:,} runs, 95% intervals)", fontsize=10)
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def plot_prim_tradeoff(result: PrimResult, ax: Any = None) -> Any:
    """Coverage against density along PRIM's peeling trajectory; colour = inputs restricted; chosen box ringed."""
    t = result.trajectory
    fig, ax = _axes(ax, (5.6, 4.4))
    sc = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=22, zorder=2)
    ax.plot(t["coverage"], t["density"], color="0.7", lw=0.8, zorder=1)
    c = t[t["chosen"]]
    ax.scatter(
        c["coverage"],
        c["density"],
        s=110,
        facecolors="none",
        edgecolors="red",
        lw=1.5,
        zorder=3,
        label=f"chosen step ({result.chosen})",
    )
    if result.box["dropped"].any():
        ax.scatter(
            [result.coverage],
            [result.density],
            marker="*",
            s=140,
            color="red",
            zorder=4,
            label="the box without restrictions\nthat are not significant",
        )
    cb = fig.colorbar(sc, ax=ax)
    cb.set_label("inputs restricted", fontsize=8)
    cb.ax.tick_params(labelsize=8)
    ax.set_xlabel("coverage (share of the cases of interest inside the box)", fontsize=9)
    ax.set_ylabel("density (share of the box that is of interest)", fontsize=9)
    ax.set_title(f"PRIM trade-off: {result.outcome} {'>' if result.above else '<'} {result.threshold:g}", fontsize=10)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8, loc="lower left")
    return fig


def save_figure(fig: Any, base: str | Path) -> list[Path]:
    """Write ``base``.png and ``base``.svg (no date in the SVG, so reruns give the same file)."""
    from sim.report import _save

    return _save(fig, base, dpi=150)


# --------------------------------------------------------------------------- report


def _md_table(df: pd.DataFrame, digits: int = 3) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return "" if not np.isfinite(v) else f"{v:.{digits}f}"
        return str(v).replace("|", "\\|")

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def report(
    outdir: str | Path,
    morris_table: pd.DataFrame | None = None,
    sobol_table: pd.DataFrame | None = None,
    prim_result: PrimResult | None = None,
    meta: dict[str, dict[str, Any]] | None = None,
    top: int = 10,
) -> Path:
    """Write the given analyses to ``outdir`` and (re)write ``report.md`` from every analysis there.

    Each analysis given is written as a tidy Parquet (``morris.parquet``, ``sobol.parquet``,
    ``prim_trajectory.parquet`` and ``prim_box.parquet``), a JSON of its settings and
    timing (``meta[name]``, e.g. the command), and figures (PNG and SVG, one per outcome) in
    ``figures/``. Analyses written earlier to the same folder stay and are reported too.

    Returns:
        The path of ``report.md``.
    """
    out = Path(outdir)
    meta = meta or {}
    fig_dir = out / "figures"
    if morris_table is not None:
        write_parquet(out / MORRIS_FILE, morris_table)
        write_json(out / "morris.json", meta.get("morris", {}))
        for o in morris_table["outcome"].unique():
            save_figure(plot_morris(morris_table, o), fig_dir / f"morris_{o}")
    if sobol_table is not None:
        write_parquet(out / SOBOL_FILE, sobol_table)
        write_json(out / "sobol.json", meta.get("sobol", {}))
        for o in sobol_table["outcome"].unique():
            save_figure(plot_sobol(sobol_table, o), fig_dir / f"sobol_{o}")
    if prim_result is not None:
        write_parquet(out / PRIM_TRAJECTORY_FILE, prim_result.trajectory)
        write_parquet(out / PRIM_BOX_FILE, prim_result.box)
        write_json(
            out / "prim.json",
            {
                **meta.get("prim", {}),
                "outcome": prim_result.outcome,
                "threshold": prim_result.threshold,
                "above": prim_result.above,
                "chosen": prim_result.chosen,
                "words": prim_result.words,
                "coverage": prim_result.coverage,
                "density": prim_result.density,
                "n_points": prim_result.n_points,
                "n_interest": prim_result.n_interest,
                "settings": prim_result.settings,
            },
        )
        save_figure(plot_prim_tradeoff(prim_result), fig_dir / f"prim_{prim_result.outcome}")
    text = _report_text(out, top)
    write_text(out / "report.md", text)
    return out / "report.md"


def _read_json(p: Path) -> dict[str, Any]:
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return {}


def _timing(m: dict[str, Any]) -> str:
    if not m.get("seconds"):
        return ""
    runs = m.get("n_runs")
    rate = f", {runs / m['seconds']:,.0f} runs/s" if runs else ""
    return f" Runs took {m['seconds']:.1f} s{rate} ({m.get('cores', '?')} cores)."


def _report_text(out: Path, top: int) -> str:
    lines = [
        "# What drives the outcome",
        "",
        "Sensitivity analysis and scenario discovery over the scenario's judged inputs "
        "(`negotiate-explore`). The ranges are judgements as well: the results say what the model "
        "does when these numbers move over these ranges, not what the real talks would do.",
        "",
    ]
    if (out / MORRIS_FILE).is_file():
        t = pd.read_parquet(out / MORRIS_FILE)
        m = _read_json(out / "morris.json")
        lines += [
            "## Morris screen",
            "",
            f"`{m.get('command', 'morris')}`",
            "",
            f"{t['input'].nunique()} {'groups' if (t['kind'] == 'group').any() else 'inputs'}, "
            f"{int(t['n_points'].iloc[0]):,} points, {int(t['n_runs'].iloc[0]):,} runs."
            + _timing(m)
            + (f" Left out (no range): {', '.join(m['dropped'])}." if m.get("dropped") else ""),
            "",
            "`mu_star` is the mean absolute change of the outcome when one input moves across a step of "
            "its range (in units of the whole range); `sigma` says how much that change depends on where "
            "the other inputs are (a large `sigma` means nonlinear effects or interactions).",
            "",
        ]
        for o in t["outcome"].unique():
            sub = t[t["outcome"] == o].head(top)
            lines += [
                f"### {o}",
                "",
                f"![Morris {o}](figures/morris_{o}.png)",
                "",
                _md_table(sub[["input", "mu_star", "mu_star_conf", "sigma", "mu"]]),
                "",
            ]
    if (out / SOBOL_FILE).is_file():
        t = pd.read_parquet(out / SOBOL_FILE)
        m = _read_json(out / "sobol.json")
        lines += [
            "## Sobol indices",
            "",
            f"`{m.get('command', 'sobol')}`",
            "",
            f"{t['input'].nunique()} inputs, {int(t['n_points'].iloc[0]):,} points, "
            f"{int(t['n_runs'].iloc[0]):,} runs." + _timing(m),
            "",
            "`S1` is the share of the outcome's variance an input explains alone, `ST` the share it "
            "takes part in (alone and through interactions); `_conf` is the half-width of a 95% "
            "bootstrap interval. A sum of `S1` well below 1 means interactions matter.",
            "",
        ]
        for o in t["outcome"].unique():
            sub = t[t["outcome"] == o]
            lines += [
                f"### {o}",
                "",
                f"![Sobol {o}](figures/sobol_{o}.png)",
                "",
                _md_table(sub[["input", "S1", "S1_conf", "ST", "ST_conf"]]),
                "",
                f"Sum of S1: {sub['S1'].sum():.2f}.",
                "",
            ]
    if (out / PRIM_BOX_FILE).is_file():
        box = pd.read_parquet(out / PRIM_BOX_FILE)
        traj = pd.read_parquet(out / PRIM_TRAJECTORY_FILE)
        m = _read_json(out / "prim.json")
        o = m.get("outcome", "outcome")
        lines += [
            "## Scenario discovery (PRIM)",
            "",
            f"`{m.get('command', 'prim')}`",
            "",
            f"{m.get('n_points', '?')} points of a Latin hypercube, {m.get('n_runs', '?')} runs." + _timing(m),
            "",
            f"**{m.get('words', '')}.**",
            "",
            f"![PRIM trade-off](figures/prim_{o}.png)",
            "",
            "Each dot of the figure is a box of PRIM's peeling: smaller boxes are purer (density) but "
            "hold fewer of the cases of interest (coverage). The chosen box is the densest one that "
            f"still covers at least {m.get('settings', {}).get('min_coverage', 0.5):g} of them.",
            "",
            _md_table(
                box[box["restricted"] | box["dropped"]][
                    ["input", "lower", "upper", "low", "high", "qp_lower", "qp_upper", "dropped"]
                ]
            ),
            "",
            "`lower`/`upper` are the box, `low`/`high` the range explored; `qp_*` are PRIM's quasi-p "
            "values of each restriction (small: unlikely by chance); a restriction with a quasi-p above "
            f"{m.get('settings', {}).get('max_qp', 0.05)} is left out (`dropped`), and the coverage and "
            f"density of the box are then {m.get('coverage', float('nan')):.2f} and "
            f"{m.get('density', float('nan')):.2f}.",
            "",
            f"Trajectory: {len(traj)} boxes, from coverage {traj['coverage'].iloc[0]:.2f} / density "
            f"{traj['density'].iloc[0]:.2f} to {traj['coverage'].iloc[-1]:.2f} / "
            f"{traj['density'].iloc[-1]:.2f}.",
            "",
        ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


def parse_inputs(specs: Sequence[str], known: pd.DataFrame | None) -> pd.DataFrame:
    """Inputs from ``PATH`` (its range from ``known``) or ``PATH:LOW:HIGH`` strings."""
    from sim.design import INTEGER_KEYS

    rows = []
    for s in specs:
        path, *rng = [p.strip() for p in s.split(":")]
        if rng:
            try:
                lo, hi = (float(v) for v in rng)
            except ValueError:
                raise ConfigError("--inputs", path, "PATH or PATH:LOW:HIGH with numbers LOW <= HIGH", s) from None
            integer = path.split(".")[-1] in INTEGER_KEYS
            rows.append(
                {
                    "path": path,
                    "value": np.nan,
                    "source": "command line",
                    "low": lo,
                    "high": hi,
                    "integer": integer,
                    "group": path,
                }
            )
            continue
        hit = known[known["path"] == path] if known is not None else pd.DataFrame()
        if hit.empty:
            raise ConfigError(
                "--inputs",
                path,
                "a judged input of the scenario (see judgement_inputs), or PATH:LOW:HIGH to give its range",
                s,
            )
        rows.append(hit.iloc[0].to_dict())
    return pd.DataFrame(rows)


def top_inputs(
    morris_table: pd.DataFrame, known: pd.DataFrame, k: int, outcome: str | None = None, per_run_only: bool = False
) -> tuple[pd.DataFrame, str | None]:
    """The ``k`` inputs (or groups) with the largest ``mu_star`` for ``outcome`` in a Morris table.

    Returns the input rows (from ``known``; a group contributes all its members) and the
    name of the grouping column if the screen was grouped (else ``None``).
    """
    from sim.design import is_per_run

    outcome = outcome or str(morris_table["outcome"].iloc[0])
    t = morris_table[morris_table["outcome"] == outcome].sort_values("mu_star", ascending=False)
    if t.empty:
        raise ConfigError(
            MORRIS_FILE, "outcome", f"an outcome of the screen ({', '.join(morris_table['outcome'].unique())})", outcome
        )
    grouped = bool((t["kind"] == "group").any())
    chosen: list[str] = []
    n_factors = 0
    for _, r in t.iterrows():
        if n_factors >= k:
            break
        members = str(r["members"]).split(",")
        if per_run_only and not all(is_per_run(m) for m in members):
            continue
        chosen.extend(members)
        n_factors += 1
    if known.empty or "path" not in known.columns:
        raise ConfigError(
            MORRIS_FILE,
            "input",
            "the ranges of the screened inputs (morris_inputs.parquet) or judged inputs in the scenario",
            chosen[:1],
        )
    rows = known.set_index("path").reindex(chosen)
    missing = rows.index[rows["low"].isna()].tolist()
    if missing:
        raise ConfigError(MORRIS_FILE, "input", "inputs of the current scenario's judgement table", missing[0])
    return rows.reset_index(), ("group" if grouped else None)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="negotiate-explore", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="analysis", required=True, metavar="{morris,sobol,prim}")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("overrides", nargs="*", help="config overrides key=value (as for `negotiate`)")
        p.add_argument("--agenda", help="agenda choice (same as agenda=NAME)")
        p.add_argument("--scenario", help="scenario choice (same as scenario=NAME)")
        p.add_argument("--out", default="explore", help="output folder (default: explore/)")
        p.add_argument("--n-seeds", type=int, default=20, help="seeds per point (default 20)")
        p.add_argument("--outcomes", default=None, help="comma-separated outcomes (default agreement,phase1,rounds)")
        p.add_argument(
            "--inputs",
            default=None,
            help="comma-separated inputs: PATH (a judged input) or PATH:LOW:HIGH (default: judged inputs)",
        )
        p.add_argument(
            "--add", default=None, help="extra inputs PATH:LOW:HIGH, comma-separated (e.g. conditions.pressure:0:3)"
        )
        p.add_argument("--tags", default="J", help="source tags of the inputs to vary (default J)")
        p.add_argument("--seed", type=int, default=0, help="seed of the sample (runs use the config's seed)")
        p.add_argument("--debug", action="store_true", help="show tracebacks")

    p = sub.add_parser("morris", help="Morris screen of the judged inputs")
    common(p)
    p.add_argument("--trajectories", type=int, default=10, help="Morris trajectories (default 10)")
    p.add_argument("--levels", type=int, default=4, help="grid levels (default 4)")
    p.add_argument("--groups", action="store_true", help="screen groups (actor and kind) instead of inputs")

    for name, helptext in (
        ("sobol", "Sobol indices of the top inputs"),
        ("prim", "Latin hypercube over the top inputs, then PRIM"),
    ):
        p = sub.add_parser(name, help=helptext)
        common(p)
        p.add_argument(
            "--top",
            type=int,
            default=8 if name == "sobol" else 6,
            help="use the inputs with the largest mu* of the Morris screen in --out",
        )
        p.add_argument("--screen", default=None, help="folder of the Morris screen (default: --out)")
        p.add_argument("--rank-by", default=None, help="outcome of the Morris screen to rank by (default its first)")
        p.add_argument(
            "--per-run", action="store_true", help="only inputs the kernel varies within one batch (fastest)"
        )
        if name == "sobol":
            p.add_argument("--n-base", type=int, default=256, help="base sample size, a power of 2 (default 256)")
        else:
            p.add_argument("--outcome", default="agreement", help="outcome to explain (default agreement)")
            p.add_argument("--threshold", type=float, default=0.5, help="cases of interest: outcome > this")
            p.add_argument("--below", action="store_true", help="cases of interest: outcome < threshold")
            p.add_argument("--samples", type=int, default=500, help="Latin hypercube points (default 500)")
            p.add_argument("--min-coverage", type=float, default=0.5, help="coverage the chosen box keeps")
    return ap


def _choose_inputs(a: argparse.Namespace, cfg: Any, overrides: list[str]) -> tuple[pd.DataFrame, str | None, list[str]]:
    from sim.design import judgement_inputs

    tags = tuple(t.strip() for t in a.tags.split(",") if t.strip())
    known = judgement_inputs(cfg, tags=tags)
    if known.empty and not a.inputs and a.analysis == "morris":
        raise ConfigError(
            "--inputs",
            "inputs",
            f"inputs to vary: scenario {cfg.scenario.get('name')} has no "
            f"numbers tagged {', '.join(tags)}; give --inputs PATH:LOW:HIGH,...",
            None,
        )
    groups = None
    if a.inputs:
        inputs = parse_inputs([s for s in a.inputs.split(",") if s.strip()], known)
    elif a.analysis == "morris":
        inputs = known
        groups = "group" if a.groups else None
    else:
        folder = Path(a.screen or a.out)
        path = folder / MORRIS_FILE
        if not path.is_file():
            raise ConfigError(
                str(path),
                "--top",
                "a Morris screen in --out or --screen (run `negotiate-explore "
                f"morris --out {folder}` first) or --inputs",
                None,
            )
        screen = pd.read_parquet(path)
        screened = folder / MORRIS_INPUTS_FILE  # the ranges the screen used (also --inputs/--add ones)
        if screened.is_file():
            known = pd.read_parquet(screened)
        rank_by = a.rank_by
        if rank_by is None and a.analysis == "prim" and a.outcome in set(screen["outcome"]):
            rank_by = a.outcome
        inputs, groups = top_inputs(screen, known, a.top, rank_by, a.per_run)
        before = _read_json(folder / "morris.json").get("overrides")
        if before is not None and sorted(before) != sorted(overrides):
            print(
                f"negotiate-explore: warning: the Morris screen in {folder} was run with overrides {before}; "
                f"this run uses {overrides}",
                file=sys.stderr,
            )
        if a.analysis == "prim":
            groups = None
    if a.add:
        inputs = pd.concat([inputs, parse_inputs([s for s in a.add.split(",") if s.strip()], None)], ignore_index=True)
        if groups is not None:
            inputs["group"] = inputs["group"].fillna(inputs["path"])
    inputs, dropped = usable_inputs(inputs)
    if groups is not None and "group" in inputs.columns:
        inputs["group"] = inputs["group"].fillna(inputs["path"])
    return inputs, groups, dropped


def main(argv: list[str] | None = None) -> int:
    """``negotiate-explore {morris,sobol,prim} [options] [key=value ...]``: see ``--help``."""
    import os

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    a, extra = parser.parse_known_args(argv)  # key=value overrides may also follow the options
    unknown = [x for x in extra if x.startswith("-")]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    overrides = [*a.overrides, *extra]
    for group in ("scenario", "agenda"):
        if getattr(a, group):
            overrides.insert(0, f"{group}={getattr(a, group)}")
    outs = [s.strip() for s in (a.outcomes or "").split(",") if s.strip()] or list(DEFAULT_OUTCOMES)
    if a.analysis == "prim" and a.outcome not in outs:
        outs = [a.outcome, *outs]
    command = "negotiate-explore " + " ".join(argv)
    try:
        from sim.api import load_config
        from sim.io import check_writable_dir

        bad = [o for o in overrides if "=" not in o]
        if bad:
            raise ConfigError("command line", bad[0], "a config override key=value", bad[0])
        check_writable_dir(a.out, "--out", "command line")
        cfg = load_config(overrides)
        _check_outcomes(outs, cfg)
        inputs, groups, dropped = _choose_inputs(a, cfg, overrides)
        cores = os.cpu_count()
        t0 = time.perf_counter()
        if a.analysis == "morris":
            tidy = morris(
                cfg,
                inputs,
                outs,
                n_trajectories=a.trajectories,
                n_seeds=a.n_seeds,
                groups=groups,
                num_levels=a.levels,
                seed=a.seed,
            )
            secs = float(tidy["seconds"].iloc[0])
            meta = {
                "command": command,
                "seconds": secs,
                "wall_seconds": time.perf_counter() - t0,
                "n_runs": int(tidy["n_runs"].iloc[0]),
                "cores": cores,
                "dropped": dropped,
                "overrides": overrides,
                "inputs": inputs["path"].tolist(),
            }
            path = report(a.out, morris_table=tidy, meta={"morris": meta})
            write_parquet(Path(a.out) / MORRIS_INPUTS_FILE, inputs)
            _print_top(tidy, "mu_star", outs)
        elif a.analysis == "sobol":
            tidy = sobol(cfg, inputs, outs, n_base=a.n_base, n_seeds=a.n_seeds, groups=groups, seed=a.seed)
            secs = float(tidy["seconds"].iloc[0])
            meta = {
                "command": command,
                "seconds": secs,
                "wall_seconds": time.perf_counter() - t0,
                "n_runs": int(tidy["n_runs"].iloc[0]),
                "cores": cores,
                "dropped": dropped,
                "overrides": overrides,
                "inputs": inputs["path"].tolist(),
            }
            path = report(a.out, sobol_table=tidy, meta={"sobol": meta})
            _print_top(tidy, "ST", outs)
        else:
            points = latin(cfg, inputs, outs, n_samples=a.samples, n_seeds=a.n_seeds, seed=a.seed)
            res = prim_boxes(
                points,
                inputs["path"].tolist(),
                a.outcome,
                threshold=a.threshold,
                above=not a.below,
                min_coverage=a.min_coverage,
                integer=inputs.loc[inputs["integer"].astype(bool), "path"].tolist()
                if "integer" in inputs.columns
                else (),
            )
            secs = float(points.attrs.get("seconds", 0.0))
            write_parquet(Path(a.out) / "prim_points.parquet", points)
            meta = {
                "command": command,
                "seconds": secs,
                "wall_seconds": time.perf_counter() - t0,
                "n_runs": int(points["n_runs"].sum()),
                "cores": cores,
                "dropped": dropped,
                "overrides": overrides,
                "inputs": inputs["path"].tolist(),
            }
            path = report(a.out, prim_result=res, meta={"prim": meta})
            print(res.words + ".")
        print(
            f"{meta['n_runs']:,} runs in {secs:.1f} s ({meta['n_runs'] / max(secs, 1e-9):,.0f} runs/s); "
            f"{time.perf_counter() - t0:.1f} s in all. Wrote {path}",
            file=sys.stderr,
        )
    except ConfigError as e:
        if a.debug:
            raise
        print(f"negotiate-explore: error: {e}", file=sys.stderr)
        return 2
    return 0


def _print_top(tidy: pd.DataFrame, by: str, outs: list[str], k: int = 8) -> None:
    for o in outs:
        sub = tidy[tidy["outcome"] == o].head(k)
        print(f"{o}: " + ", ".join(f"{short_name(r['input'])} ({by} {r[by]:.3f})" for _, r in sub.iterrows()))


def cli() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    cli()
