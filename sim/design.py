"""Design tables: many points of a configuration, each run for many seeds, in one batched call.

A **design** is a table whose columns are dotted config paths (``scenario.actors.Hamas.
reservation_value``, ``conditions.pressure``, ``protocol.step0``, ...) and whose rows are
points. :func:`run_design` runs ``n_seeds`` seeds of every point and returns one row per
run, with the point's inputs beside its outcome, and a long table of the inputs each run
actually used (its own draws of the judged positions, saliences and values of no deal).

Inputs the kernel holds per run (positions, saliences, values of no deal, costs of delay,
renege chances, credibility, patience, strategy parameters, the trust gained per phase,
the conditions) vary inside one batch: a design over them runs at the kernel's full speed
however many rows differ. Any other path (a red line's
strength, a patience, a protocol constant) changes the compiled configuration, so the
rows are grouped by those values and each group is compiled once and run as one batch.
Either way a run gives bit for bit what the same point gives alone (`sim.api.run` with the
point's values as overrides): the same seeds, the same arithmetic. (A design over patience
watches every point of a batch for the window of its most patient point; a point alone
with the same ``protocol.max_rounds`` gives the same runs, and the window tests show that
a longer window changes no answer.)

Every point uses the same seeds (``seed`` ... ``seed + n_seeds - 1``): common random
numbers, so differences between points are not differences of luck.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.api import build
from sim.batch import simulate
from sim.errors import ConfigError
from sim.kernel import Static, horizon, make_static
from sim.results import make_table
from sim.scenario import MAX_ROUNDS_LIMIT
from sim.strategies import STRATEGIES

ACTOR_INPUT = re.compile(
    r"^scenario\.actors\.([^.]+)\.(reservation_value|delay_cost|renege_base|credibility|patience)$"
)
STRATEGY_INPUT = re.compile(r"^scenario\.actors\.([^.]+)\.strategy\.params\.([^.]+)$")
TRUST_GAIN = "scenario.trust.gain_per_phase"
ISSUE_INPUT = re.compile(r"^scenario\.actors\.([^.]+)\.(position|salience)\.([^.]+)$")
CONDITIONS = ("conditions.trust", "conditions.credibility", "conditions.pressure")
DESIGN_FILE = "design table"


@dataclass(frozen=True)
class DesignResult:
    """What :func:`run_design` returns.

    Attributes:
        table: one row per run: ``point`` (the design row), ``seed``, every design column
            under its dotted path, then the outcome columns of :func:`sim.results.make_table`.
        inputs: one row per run, actor and issue (long form: its columns do not change with
            the scenario): ``point``, ``seed``, ``actor``, ``issue``, and the ``position``,
            ``weight`` (normalised salience) and ``reservation_value`` the run drew.
        design: the design as given.
    """

    table: pd.DataFrame
    inputs: pd.DataFrame
    design: pd.DataFrame


def is_per_run(path: str) -> bool:
    """Whether a design column varies inside one batch (else its rows are grouped)."""
    return (
        bool(ACTOR_INPUT.match(path) or ISSUE_INPUT.match(path) or STRATEGY_INPUT.match(path))
        or path in CONDITIONS
        or path == TRUST_GAIN
    )


def _fail(path: str, expected: str, got: Any, row: int | None = None) -> ConfigError:
    where = f"{DESIGN_FILE}, column {path}" + ("" if row is None else f", row {row}")
    return ConfigError(where, path, expected, got)


def _check_numbers(path: str, values: np.ndarray, lo: float, hi: float) -> None:
    for k, v in enumerate(values):
        if (
            isinstance(v, bool | np.bool_)
            or not isinstance(v, int | float | np.integer | np.floating)
            or not math.isfinite(float(v))
            or not lo <= float(v) <= hi
        ):
            raise _fail(path, f"a number in [{lo:g}, {hi:g}]", v, k)


def _per_run_inputs(
    st: Static, design: pd.DataFrame, cols: list[str], points: np.ndarray, n_seeds: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray | None]]:
    """Per-run base arrays for the kernel and per-run condition levels, for ``points`` of one group."""
    sc = st.sc
    n = points.size * n_seeds
    rep = np.repeat(points, n_seeds)
    base: dict[str, np.ndarray] = {}
    cond: dict[str, np.ndarray | None] = {"trust": None, "credibility": None, "pressure": None}
    for path in cols:
        vals = design[path].to_numpy()[rep]
        if path in CONDITIONS:
            kind = path.split(".")[1]
            _check_numbers(path, design[path].to_numpy(), 0.0, 10.0 if kind == "pressure" else 1.0)
            cond[kind] = vals.astype(float)
            continue
        if path == TRUST_GAIN:
            _check_numbers(path, design[path].to_numpy(), 0.0, 1.0)
            base["trust_gain"] = vals.astype(float)
            continue
        sm = STRATEGY_INPUT.match(path)
        if sm:
            actor, param = sm.group(1), sm.group(2)
            if actor not in sc.actors:
                raise _fail(path, f"an actor of scenario {sc.name} ({', '.join(sc.actors)})", actor)
            a = sc.actor_index(actor)
            cls = STRATEGIES[sc.strategy[a]]
            if param not in cls.params:
                raise _fail(path, f"a parameter of strategy {cls.name} ({', '.join(cls.params) or 'none'})", param)
            lo, hi = cls.bounds.get(param, (-np.inf, np.inf))
            _check_numbers(path, design[path].to_numpy(), lo, hi)
            key = f"strategy.{param}"
            if key not in base:  # every actor's own value of the parameter (the default for those without it)
                base[key] = np.broadcast_to(
                    np.array([sc.strategy_params[k].get(param, cls.params[param]) for k in range(sc.n_actors)]),
                    (n, sc.n_actors),
                ).copy()
            base[key][:, a] = vals.astype(float)
            continue
        m = ACTOR_INPUT.match(path) or ISSUE_INPUT.match(path)
        actor = m.group(1)
        if actor not in sc.actors:
            raise _fail(path, f"an actor of scenario {sc.name} ({', '.join(sc.actors)})", actor)
        a = sc.actor_index(actor)
        kind = m.group(2)
        if kind in ("position", "salience"):
            issue = m.group(3)
            if issue not in sc.issues:
                raise _fail(path, f"an issue of scenario {sc.name} ({', '.join(sc.issues)})", issue)
            _check_numbers(path, design[path].to_numpy(), 0.0, 1.0)
            arr = base.setdefault(kind, np.broadcast_to(getattr(sc, kind), (n, sc.n_actors, sc.n_issues)).copy())
            arr[:, a, sc.issue_index(issue)] = vals.astype(float)
            if kind == "salience" and (arr[:, a].sum(axis=-1) <= 0).any():
                raise _fail(path, "a salience that leaves the actor at least one positive salience", 0.0)
        elif kind == "patience":
            for k, x in enumerate(design[path].to_numpy()):
                if (
                    isinstance(x, bool | np.bool_)
                    or not isinstance(x, int | float | np.integer | np.floating)
                    or not math.isfinite(float(x))
                    or not float(x).is_integer()
                    or not 1 <= x <= MAX_ROUNDS_LIMIT
                ):
                    raise _fail(path, f"a whole number of rounds in [1, {MAX_ROUNDS_LIMIT}]", x, k)
            arr = base.setdefault(kind, np.broadcast_to(sc.patience, (n, sc.n_actors)).copy())
            arr[:, a] = vals.astype(np.int64)
        else:
            _check_numbers(path, design[path].to_numpy(), 0.0, 1.0)
            source = {
                "reservation_value": sc.reservation_value,
                "delay_cost": sc.delay_cost,
                "renege_base": sc.renege_base,
                "credibility": sc.credibility,
            }[kind]
            arr = base.setdefault(kind, np.broadcast_to(source, (n, sc.n_actors)).copy())
            arr[:, a] = vals.astype(float)
    return base, cond


_BASES: dict[int, tuple[DictConfig, dict]] = {}


def _base_container(cfg: DictConfig) -> dict:
    """``cfg`` as a plain (resolved) container, made once per configuration: a group changes a
    deep copy of it, far cheaper than copying or creating OmegaConf nodes."""
    key = id(cfg)
    if key not in _BASES or _BASES[key][0] is not cfg:
        _BASES.clear()
        _BASES[key] = (cfg, OmegaConf.to_container(cfg, resolve=True))
    return _BASES[key][1]


def _set_path(c: dict, path: str, value: Any) -> None:
    """Set a dotted path (list items by index) in a plain container; KeyError if it is not there."""
    parts = path.split(".")
    node: Any = c
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        if last not in node:
            raise KeyError(path)
        node[last] = value


def _group_static(cfg: DictConfig, design: pd.DataFrame, cols: list[str], row: int) -> Static:
    """The compiled configuration of one group: the base config with the row's structural values."""
    import copy

    from sim.agenda import compile_agenda
    from sim.api import agenda_file, scenario_file, settings_from
    from sim.protocols import PROTOCOLS
    from sim.scenario import compile_scenario

    c = copy.deepcopy(_base_container(cfg))
    for path in cols:
        v = design[path].iloc[row]
        v = v.item() if isinstance(v, np.generic) else v
        try:
            _set_path(c, path, v)
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise _fail(path, "a dotted path of the configuration", path, row) from e
    where = f"{DESIGN_FILE}, row {row}"
    try:
        sc = compile_scenario(c["scenario"], file=f"{where} (over {scenario_file(cfg)})")
        ag = compile_agenda(c["agenda"], sc, file=f"{where} (over {agenda_file(cfg)})")
        proto = (
            cfg
            if not any(str(p).startswith("protocol.") for p in cols)
            else OmegaConf.create({"protocol": c["protocol"]})
        )
        settings = settings_from(proto, window=2 * horizon(sc, ag.n_phases))
        st = make_static(sc, ag, settings, PROTOCOLS[settings.name])
    except ConfigError as e:
        raise ConfigError(
            e.file if e.file.startswith(DESIGN_FILE) else f"{where} (over {e.file})", e.key, e.expected, e.got
        ) from e
    why = st.protocol.check(st)
    if why:
        raise _fail("protocol.name", f"a protocol that can run scenario {sc.name} ({why})", st.settings.name, row)
    return st


def run_design(
    cfg: DictConfig,
    design: pd.DataFrame,
    n_seeds: int | None = None,
    seed: int | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    record_inputs: bool = True,
) -> DesignResult:
    """Run ``n_seeds`` seeds of every point (row) of ``design`` over the configuration ``cfg``.

    Args:
        cfg: a composed configuration (:func:`sim.api.load_config`), the base every point
            changes; its ``n_seeds``, ``seed`` and ``chunk_size`` are the defaults here.
        design: columns are dotted config paths, rows are points. Values must be what the
            config accepts at that path.
        progress: called with the number of runs finished after each chunk.
        record_inputs: build ``inputs``, the long table of every run's drawn inputs (one
            row per run, actor and issue); off, it is empty (a calibration needs only the
            outcomes).

    Raises:
        ConfigError: naming the design column (and row) and what was expected.
    """
    design = design.reset_index(drop=True)
    if design.empty or not len(design.columns):
        raise _fail("(none)", "a design with at least one row and one column", list(design.columns))
    n_seeds = int(cfg.n_seeds if n_seeds is None else n_seeds)
    seed = int(cfg.seed if seed is None else seed)
    chunk = int(cfg.get("chunk_size", 5000) if chunk_size is None else chunk_size)
    if n_seeds <= 0:
        raise _fail("n_seeds", "a positive number of seeds", n_seeds)
    fast = [c for c in design.columns if is_per_run(str(c))]
    slow = [c for c in design.columns if c not in fast]
    for c in slow:
        if OmegaConf.select(cfg, str(c), default="__missing__") == "__missing__":
            raise _fail(str(c), "a dotted path of the configuration (e.g. scenario.actors.<name>.patience)", c)
    keys = design[slow].astype(str).agg("\x1f".join, axis=1) if slow else pd.Series([""] * len(design))
    tables, longs = [], []
    for _, idx in keys.groupby(keys, sort=False).groups.items():
        points = np.asarray(idx, dtype=np.int64)
        st = _group_static(cfg, design, slow, int(points[0])) if slow else build(cfg)
        base, cond = _per_run_inputs(st, design, fast, points, n_seeds)
        if "patience" in base and cfg.protocol.max_rounds is None:
            # the default window follows the longest patience: the group's longest, so that
            # each point sees at least the window it would see alone (beyond the horizon a
            # longer window changes nothing: the window tests)
            window = 2 * horizon(st.sc, st.ag.n_phases, int(base["patience"].max()))
            if window > st.settings.max_rounds:
                st = make_static(st.sc, st.ag, replace(st.settings, max_rounds=window), st.protocol)
        defaults = {
            k: (None if cfg.conditions.get(k) is None else float(cfg.conditions.get(k)))
            for k in ("trust", "credibility", "pressure")
        }
        for k, v in cond.items():
            if v is None and defaults[k] is not None:
                cond[k] = np.full(points.size * n_seeds, defaults[k])
        seeds = np.tile(seed + np.arange(n_seeds), points.size)
        cols = simulate(
            st,
            seeds,
            cond["trust"],
            cond["credibility"],
            cond["pressure"],
            chunk_size=chunk,
            progress=progress,
            inputs=base or None,
        )
        t = make_table(st, cols, cond["trust"], cond["credibility"], cond["pressure"])
        point = np.repeat(points, n_seeds)
        front = pd.DataFrame({"point": point, **{c: design[c].to_numpy()[point] for c in design.columns}})
        tables.append(pd.concat([front, t], axis=1))
        sc = st.sc
        r, a, i = seeds.size, sc.n_actors, sc.n_issues
        if not record_inputs:
            continue
        longs.append(
            pd.DataFrame(
                {
                    "point": np.repeat(point, a * i),
                    "seed": np.repeat(seeds, a * i),
                    "actor": np.tile(np.repeat(np.array(sc.actors), i), r),
                    "issue": np.tile(np.array(sc.issues), r * a),
                    "position": cols["position_drawn"].reshape(-1),
                    "weight": cols["weight_drawn"].reshape(-1),
                    "reservation_value": np.repeat(cols["reservation_value_0"].reshape(-1), i),
                }
            )
        )
    table = pd.concat(tables, ignore_index=True).sort_values(["point", "seed"], kind="stable", ignore_index=True)
    inputs = (
        pd.concat(longs, ignore_index=True).sort_values(["point", "seed"], kind="stable", ignore_index=True)
        if longs
        else pd.DataFrame(columns=["point", "seed", "actor", "issue", "position", "weight", "reservation_value"])
    )
    return DesignResult(table=table, inputs=inputs, design=design)


UNIT_KEYS = (
    "position",
    "salience",
    "reservation_value",
    "renege_base",
    "credibility",
    "stubbornness",
    "initial",
    "gain_per_phase",
    "rate",
    "trust_drop",
    "collapse",
    "suspend",
    "at_least",
    "at_most",
    "status_quo",
    "leverage",
    "clock_carry",
)
INTEGER_KEYS = ("patience", "deadline", "suspend_rounds", "at", "from", "until")
DEFAULT_HALF_WIDTH = 0.15  # judged numbers on a [0, 1] scale vary by +/- this unless tagged with a range


def judgement_inputs(cfg: DictConfig, tags: tuple[str, ...] = ("J",)) -> pd.DataFrame:
    """Every number of the configured scenario tagged with one of ``tags``, with a range to vary it over.

    Returns a DataFrame with ``path`` (a design column), ``value``, ``source``, ``low``,
    ``high``, ``integer`` and ``group`` (``actor:kind`` or the scenario section, for grouped
    screens). The range is the number's own ``range: [low, high]`` tag where given, else
    ``value +/- 0.15`` clipped to [0, 1] for numbers on a unit scale (positions, saliences,
    values of no deal, probabilities), else half to twice the value (a strength, a weight,
    a patience in rounds, a cost of delay per round).
    """
    st = build(cfg)
    rows = []
    for key, source in st.sc.sources.items():
        if not isinstance(source, str) or source[:1] not in tags:
            continue
        path = re.sub(r"\[(\d+)\]", r".\1", key)
        node = OmegaConf.select(cfg, path)
        raw = OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node
        value = raw.get("value") if isinstance(raw, dict) else raw
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        last = path.split(".")[-1]
        parent = path.split(".")[-2] if path.count(".") >= 1 else ""
        integer = last in INTEGER_KEYS
        given = raw.get("range") if isinstance(raw, dict) else None
        if given is not None:
            low, high = float(given[0]), float(given[1])
        elif integer:
            low, high = max(1.0, round(value / 2)), float(round(value * 2))
        elif last in UNIT_KEYS or parent in UNIT_KEYS:
            low, high = max(0.0, value - DEFAULT_HALF_WIDTH), min(1.0, value + DEFAULT_HALF_WIDTH)
        else:
            low, high = value / 2.0, value * 2.0
        parts = path.split(".")
        group = f"{parts[2]}:{parts[3]}" if parts[:2] == ["scenario", "actors"] and len(parts) > 3 else parts[1]
        rows.append(
            {
                "path": path,
                "value": float(value),
                "source": source,
                "low": low,
                "high": high,
                "integer": integer,
                "group": group,
            }
        )
    return pd.DataFrame(rows)
