"""Search for the concession sequence and conditions under which talks agree most often.

The search crosses every agenda choice (the orders of the core issues, the package, the
phased plans) with who opens each phase and with levels of initial trust, guarantor
credibility and pressure, and runs ``n_seeds`` seeds at every point. Its points come from
``conf/experiment/sequence_search.yaml`` (the ``hydra.sweeper.params`` that a Hydra
multirun would sweep), so the two ways of running it describe the same search.

Here it runs as design tables (:func:`sim.design.run_design`): one composed configuration
per agenda, and within it one batch per first mover, with the conditions varying run by
run. Hydra composes one configuration per point instead (696 of them), which costs far
more than the runs. A point gives, bit for bit, what the same overrides give alone
(``negotiate agenda=... agenda.first_mover=... conditions.trust=...``): the same seeds
(``seed`` ... ``seed + n_seeds - 1`` at every point, common random numbers) and the same
arithmetic.

The result says which points are **not distinguishable from the best**, not an arbitrary
top five: every point whose 95% Wilson interval overlaps the interval of the point with
the highest agreement rate (its upper bound reaches the best point's lower bound). That
rule is lenient: a point outside the set is clearly worse than the best; a point inside
is not shown to be worse, which is not the same as being as good.

``python -m sim.search`` (or ``negotiate search``) writes ``runs.parquet`` (one row per
run), ``points.parquet`` (one row per point: agreement rate, interval, rank, whether it is
in the best set) and ``search.md`` into ``--out``. ``--sampler optuna`` asks Optuna's
TPE sampler for points one at a time instead of the grid (the ``optuna`` extra).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from omegaconf import DictConfig, open_dict

from sim.errors import ConfigError
from sim.results import wilson

CONF_EXPERIMENTS = Path(__file__).resolve().parent.parent / "conf" / "experiment"
DEFAULT_EXPERIMENT = "sequence_search"
DEFAULT_OUT = "multirun/sequence_search_table"
PARAMS = {
    "agenda": "agendas",
    "agenda.first_mover": "first_movers",
    "conditions.trust": "trust",
    "conditions.credibility": "credibility",
    "conditions.pressure": "pressure",
}
CONDITION_RANGES = {"trust": (0.0, 1.0), "credibility": (0.0, 1.0), "pressure": (0.0, 10.0)}
BEST_RULE = (
    "a point is in the best set when its 95% Wilson interval overlaps the best point's, "
    "that is, when its upper bound is at least the best point's lower bound"
)
OPTUNA_EXTRA = 'the optuna extra installed (pip install -e ".[optuna]")'


@dataclass(frozen=True)
class SearchSpace:
    """The points of a grid search: every agenda x first mover x trust x credibility x pressure.

    A first mover of ``None`` keeps each agenda's own; an empty list of levels keeps the
    configuration's own condition.
    """

    agendas: tuple[str, ...]
    first_movers: tuple[str | None, ...] = (None,)
    trust: tuple[float, ...] = ()
    credibility: tuple[float, ...] = ()
    pressure: tuple[float, ...] = ()
    n_seeds: int = 100
    seed: int = 0

    @property
    def n_points(self) -> int:
        """How many points the space holds: every agenda, first mover and swept condition combined."""
        return (
            len(self.agendas)
            * len(self.first_movers)
            * max(1, len(self.trust))
            * max(1, len(self.credibility))
            * max(1, len(self.pressure))
        )


@dataclass(frozen=True)
class SearchResult:
    """What :func:`run_search` returns.

    Attributes:
        runs: one row per run: ``agenda_choice``, the point's inputs under their dotted
            paths, ``point``, ``seed`` and the outcome columns of :func:`sim.results.make_table`.
        points: one row per point, best first (see :func:`summarise`).
        space: the search's points, as given.
        seconds: wall-clock time of the runs (composing and compiling included).
        rule: how the best set was chosen, in words.
    """

    runs: pd.DataFrame
    points: pd.DataFrame
    space: SearchSpace
    seconds: float
    rule: str = BEST_RULE
    overrides: tuple[str, ...] = field(default=())

    @property
    def best(self) -> pd.DataFrame:
        """The points not distinguishable from the best (``points[points.best]``)."""
        return self.points[self.points["best"]]


# --------------------------------------------------------------------------- the search space


def _sweep_values(key: str, text: str, file: str) -> list[str]:
    """The values of one Hydra sweep parameter (``a,b,c``), as strings."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        o = OverridesParser.create().parse_overrides([f"{key}={text}"])[0]
        values = list(o.sweep_string_iterator()) if o.is_sweep_override() else [str(o.value())]
    except Exception as e:  # noqa: BLE001 - any parse error: name the file and the key
        raise ConfigError(file, f"hydra.sweeper.params.{key}", "a comma-separated list of values", text) from e
    return [v.strip() for v in values]


def _numbers(key: str, values: Sequence, file: str) -> tuple[float, ...]:
    lo, hi = CONDITION_RANGES[key.split(".")[-1].lstrip("-")]
    out = []
    for v in values:
        try:
            x = float(v)
        except (TypeError, ValueError):
            x = math.nan
        if isinstance(v, bool) or not math.isfinite(x) or not lo <= x <= hi:
            raise ConfigError(file, key, f"numbers in [{lo:g}, {hi:g}]", v)
        out.append(x)
    return tuple(out)


def space_from_experiment(name: str = DEFAULT_EXPERIMENT, conf_dir: Path = CONF_EXPERIMENTS) -> SearchSpace:
    """The grid of ``conf/experiment/<name>.yaml``: its ``hydra.sweeper.params`` and ``n_seeds``.

    Raises:
        ConfigError: naming the file and key when the file is missing, a parameter is not one
            of the search's (agenda, first mover, the three conditions) or a value is out of range.
    """
    path = Path(conf_dir) / f"{name}.yaml"
    file = str(path)
    if not path.is_file():
        have = sorted(p.stem for p in Path(conf_dir).glob("*.yaml"))
        raise ConfigError(file, "experiment", f"an experiment file of {conf_dir} ({', '.join(have)})", name)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(file, "(file)", "valid YAML", str(e).splitlines()[0]) from e
    params = ((data.get("hydra") or {}).get("sweeper") or {}).get("params") or {}
    if "agenda" not in params:
        raise ConfigError(file, "hydra.sweeper.params.agenda", "the list of agenda choices to search", None)
    fields: dict[str, tuple] = {}
    for key, text in params.items():
        if key not in PARAMS:
            raise ConfigError(file, f"hydra.sweeper.params.{key}", f"one of {', '.join(PARAMS)}", key)
        values = _sweep_values(key, str(text), file)
        if key.startswith("conditions."):
            fields[PARAMS[key]] = _numbers(f"hydra.sweeper.params.{key}", values, file)
        else:
            fields[PARAMS[key]] = tuple(values)
    n_seeds = data.get("n_seeds", 100)
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds <= 0:
        raise ConfigError(file, "n_seeds", "a positive whole number of seeds", n_seeds)
    return SearchSpace(n_seeds=n_seeds, **fields)


def _design(space: SearchSpace) -> pd.DataFrame:
    """The points of one agenda: first mover x conditions (columns are dotted config paths)."""
    axes: dict[str, Sequence] = {}
    if space.first_movers != (None,):
        axes["agenda.first_mover"] = space.first_movers
    for k in ("trust", "credibility", "pressure"):
        if getattr(space, k):
            axes[f"conditions.{k}"] = getattr(space, k)
    if not axes:
        return pd.DataFrame({"conditions.pressure": [math.nan]}).iloc[:0]
    return pd.DataFrame(list(itertools.product(*axes.values())), columns=list(axes))


# --------------------------------------------------------------------------- running it


def agenda_configs(
    space: SearchSpace, overrides: Sequence[str] = (), where: str = "command line", key: str = "agendas"
) -> list[tuple[str, DictConfig]]:
    """One configuration per agenda choice of ``space``, every one checked before any run.

    The configuration is composed once (with ``overrides``) and each choice replaces its
    ``agenda``, as ``agenda=<choice>`` does on the command line (:func:`sim.job.resolve_agenda`),
    so a point gets the very same agenda as when run alone. Each agenda is compiled with
    each first mover here, so a bad name fails before the first run.

    Raises:
        ConfigError: an override, agenda choice or first mover that the configuration refuses.
    """
    import copy

    import sim.sweep  # noqa: F401  (registers the agenda choices order_00 ...)
    from sim.agenda import compile_agenda
    from sim.api import build, load_config
    from sim.job import _describe, agenda_options, resolve_agenda

    base = load_config([f"n_seeds={space.n_seeds}", f"seed={space.seed}", *overrides])
    st = build(base, list(overrides))
    options = agenda_options()
    out = []
    for choice in space.agendas:
        if choice not in options:
            raise ConfigError(where, key, _describe(options), choice)
        agenda, file = resolve_agenda(choice, options)
        for fm in space.first_movers:
            if fm is not None:
                a = copy.deepcopy(agenda)
                a.first_mover = fm
                compile_agenda(a, st.sc, file=f"{file} with first mover {fm} ({where})")
        c = copy.deepcopy(base)
        with open_dict(c):
            c.agenda = agenda
        out.append((choice, c))
    return out


def run_agenda(
    choice: str, cfg: DictConfig, space: SearchSpace, progress: Callable[[int], None] | None = None
) -> pd.DataFrame:
    """Every point of one agenda (``cfg`` from :func:`agenda_configs`), ``space.n_seeds`` seeds each.

    One row per run: ``agenda_choice``, ``first_mover``, the design's dotted columns, then
    the columns of :func:`sim.design.run_design`.
    """
    from sim.api import run
    from sim.design import run_design

    design = _design(space)
    if design.empty:  # nothing varies within the agenda: one point, as run alone
        table = run(cfg, progress=progress).table
        table.insert(0, "point", 0)
    else:
        with warnings.catch_warnings():  # run_design adds one column per design input
            warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
            table = run_design(cfg, design, record_inputs=False, progress=progress).table
    mover = table["agenda.first_mover"] if "agenda.first_mover" in table.columns else cfg.agenda.get("first_mover")
    table.insert(0, "first_mover", mover)
    table.insert(0, "agenda_choice", choice)
    return table


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per point, best first: inputs, ``n_runs``, ``n_agreed``, ``rate``, ``low``, ``high``
    (95% Wilson), ``median_rounds`` (agreed runs), ``rank`` (1 for the highest rate; equal
    rates share a rank) and ``best`` (not distinguishable from the best, :data:`BEST_RULE`)."""
    agreed = runs["agreement"].astype(bool)
    g = runs.assign(_agreed=agreed, _rounds=runs["rounds"].where(agreed))
    keys = ["agenda_choice", "point"]
    pts = (
        g.groupby(keys, sort=False)
        .agg(
            first_mover=("first_mover", "first"),
            trust=("trust_level", "first"),
            credibility=("credibility_level", "first"),
            pressure=("pressure_level", "first"),
            n_runs=("_agreed", "size"),
            n_agreed=("_agreed", "sum"),
            median_rounds=("_rounds", "median"),
        )
        .reset_index()
        .rename(columns={"agenda_choice": "agenda"})
    )
    pts["rate"] = pts["n_agreed"] / pts["n_runs"]
    ci = [wilson(int(k), int(n)) for k, n in zip(pts["n_agreed"], pts["n_runs"], strict=True)]
    pts["low"] = [c[0] for c in ci]
    pts["high"] = [c[1] for c in ci]
    pts = pts.sort_values(["rate", "low"], ascending=[False, False], kind="stable", ignore_index=True)
    pts["rank"] = pts["rate"].rank(method="min", ascending=False).astype(int)
    pts["best"] = best_set(pts)
    return pts[
        [
            "rank",
            "best",
            "agenda",
            "first_mover",
            "trust",
            "credibility",
            "pressure",
            "n_runs",
            "n_agreed",
            "rate",
            "low",
            "high",
            "median_rounds",
            "point",
        ]
    ]


def best_set(points: pd.DataFrame) -> np.ndarray:
    """Which points are not distinguishable from the best (:data:`BEST_RULE`)."""
    if points.empty:
        return np.zeros(0, dtype=bool)
    top = points.loc[points["rate"].idxmax()]
    low = points.loc[points["rate"] == top["rate"], "low"].min()
    return (points["high"].to_numpy() >= low) | (points["rate"].to_numpy() == top["rate"])


def run_search(
    space: SearchSpace,
    overrides: Sequence[str] = (),
    progress: bool | None = None,
    origin: tuple[str, str] = ("search space", "agendas"),
) -> SearchResult:
    """Run every point of ``space`` (agenda by agenda) and summarise.

    Args:
        overrides: config overrides applied to every point (``scenario.shocks.rate=0``).
        progress: a bar of runs on stderr; by default on unless ``CI`` is set.
        origin: where the agenda list came from (file, key), for the error on a bad name.
    """
    from sim.sweep import quiet_progress

    show = (not quiet_progress()) if progress is None else bool(progress)
    t0 = time.perf_counter()
    configs = agenda_configs(space, overrides, *origin)
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=space.n_points * space.n_seeds, desc="search", unit="run", mininterval=0.5, file=sys.stderr)
    try:
        parts = [run_agenda(a, c, space, bar.update if bar is not None else None) for a, c in configs]
    finally:
        if bar is not None:
            bar.close()
    runs = pd.concat(parts, ignore_index=True)
    return SearchResult(
        runs=runs, points=summarise(runs), space=space, seconds=time.perf_counter() - t0, overrides=tuple(overrides)
    )


def optuna_search(
    space: SearchSpace,
    n_trials: int,
    overrides: Sequence[str] = (),
    seed: int = 0,
    origin: tuple[str, str] = ("search space", "agendas"),
) -> SearchResult:
    """Ask Optuna's TPE sampler for ``n_trials`` points; each is told its agreement rate.

    Agendas and first movers are categorical choices from ``space``; each condition with two
    or more levels is searched over the interval between its lowest and highest level (one
    level, or none, keeps it fixed). Uses Optuna's ask-and-tell interface, so no Hydra sweeper
    is involved.

    Raises:
        ConfigError: when Optuna is not installed (naming the extra).
    """
    try:
        import optuna
    except ImportError as e:
        raise ConfigError("--sampler optuna", "optuna", OPTUNA_EXTRA, "not installed") from e
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    t0 = time.perf_counter()
    configs = dict(agenda_configs(space, overrides, *origin))
    parts = []
    for k in range(n_trials):
        trial = study.ask()
        agenda = trial.suggest_categorical("agenda", list(space.agendas))
        point = {"agendas": (agenda,)}
        if space.first_movers != (None,):
            point["first_movers"] = (trial.suggest_categorical("first_mover", list(space.first_movers)),)
        for c in ("trust", "credibility", "pressure"):
            levels = getattr(space, c)
            if len(levels) >= 2:
                point[c] = (trial.suggest_float(c, min(levels), max(levels)),)
        t = run_agenda(agenda, configs[agenda], replace(space, **point))
        t["point"] = k
        parts.append(t)
        study.tell(trial, float(t["agreement"].mean()))
    runs = pd.concat(parts, ignore_index=True)
    return SearchResult(
        runs=runs, points=summarise(runs), space=space, seconds=time.perf_counter() - t0, overrides=tuple(overrides)
    )


# --------------------------------------------------------------------------- outputs


def _fmt(x: float) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:g}"


def _rows(pts: pd.DataFrame) -> list[str]:
    out = [
        "| rank | agenda | first mover | trust | credibility | pressure | agreed / runs | rate [95% CI] "
        "| median rounds |",
        "|--:|:--|:--|--:|--:|--:|--:|:--|--:|",
    ]
    for r in pts.itertuples():
        rounds = "-" if pd.isna(r.median_rounds) else f"{r.median_rounds:g}"
        fm = "" if pd.isna(r.first_mover) else str(r.first_mover)
        out.append(
            f"| {r.rank} | {r.agenda} | {fm} | {_fmt(r.trust)} | {_fmt(r.credibility)} | "
            f"{_fmt(r.pressure)} | {r.n_agreed} / {r.n_runs} | {r.rate:.3f} [{r.low:.3f}, {r.high:.3f}] "
            f"| {rounds} |"
        )
    return out


def markdown(res: SearchResult, command: str = "", top: int = 30) -> str:
    """A short report: what ran, the best set (up to ``top`` rows) and the best point of each agenda."""
    pts, sp = res.points, res.space
    n_runs = len(res.runs)
    best = res.best
    lines = ["# Sequence search", ""]
    if command:
        lines += [f"`{command}`", ""]
    lines += [
        f"{len(pts):,} points x {sp.n_seeds:,} seeds = {n_runs:,} runs (seeds {sp.seed} to "
        f"{sp.seed + sp.n_seeds - 1} at every point) in {res.seconds:.1f} s."
        + (f" Overrides: `{' '.join(res.overrides)}`." if res.overrides else ""),
        "",
        f"## Not distinguishable from the best: {len(best)} of {len(pts)} points",
        "",
        f"Rule: {res.rule}. Overlapping intervals do not show that two points are equal; "
        "a point outside the set is worse than the best.",
        "",
    ]
    lines += _rows(best.head(top))
    if len(best) > top:
        lines += ["", f"... and {len(best) - top} more (`points.parquet`, column `best`)."]
    per = pts.drop_duplicates("agenda", keep="first")
    lines += ["", "## The best point of each agenda", ""] + _rows(per)
    never = int((pts.groupby("agenda")["n_agreed"].sum() == 0).sum())
    if never:
        lines += ["", f"{never} agendas never agreed at any point."]
    return "\n".join(lines) + "\n"


def write(res: SearchResult, out: str | Path, command: str = "") -> list[Path]:
    """Write ``runs.parquet``, ``points.parquet`` and ``search.md`` into ``out``."""
    from sim.io import write_parquet, write_text

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"negotiation_sim.search_rule": res.rule, "negotiation_sim.command": command}
    paths = [out / "runs.parquet", out / "points.parquet", out / "search.md"]
    write_parquet(paths[0], res.runs, meta)
    write_parquet(paths[1], res.points, meta)
    write_text(paths[2], markdown(res, command))
    return paths


# --------------------------------------------------------------------------- command


def _list(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(s.strip() for s in text.split(",") if s.strip())


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="negotiate search",
        description="Search agendas, first movers and conditions for the highest agreement rate, as design "
        "tables (no Hydra job per point). The grid is that of conf/experiment/<experiment>.yaml; "
        "options replace parts of it; key=value config overrides apply to every point.",
    )
    ap.add_argument(
        "--experiment",
        default=DEFAULT_EXPERIMENT,
        help="experiment file whose hydra.sweeper.params give the grid (default: %(default)s)",
    )
    ap.add_argument("--agendas", help="comma-separated agenda choices (order_00,comprehensive,...)")
    ap.add_argument("--first-movers", help="comma-separated first movers (Israel,Hamas,mediators)")
    for c in ("trust", "credibility", "pressure"):
        ap.add_argument(f"--{c}", help=f"comma-separated levels of conditions.{c}")
    ap.add_argument("--n-seeds", type=int, help="seeds per point (default: the experiment's n_seeds)")
    ap.add_argument("--seed", type=int, default=0, help="first seed (default: 0)")
    ap.add_argument(
        "--sampler",
        choices=("grid", "optuna"),
        default="grid",
        help="grid: every point; optuna: TPE over the same choices and ranges (the optuna extra)",
    )
    ap.add_argument("--n-trials", type=int, default=60, help="points asked of Optuna (default: %(default)s)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--top", type=int, default=30, help="rows of the best set in search.md and on screen")
    ap.add_argument("--debug", action="store_true", help="show tracebacks")
    ap.add_argument("overrides", nargs="*", help="config overrides key=value, applied to every point")
    return ap


def main(argv: list[str] | None = None) -> int:
    """``negotiate search [options] [key=value ...]``: see ``--help``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = _parser()
    a = ap.parse_args(argv)
    command = "negotiate search " + " ".join(argv)
    try:
        from sim.io import check_writable_dir

        bad = [o for o in a.overrides if "=" not in o]
        if bad:
            raise ConfigError("command line", bad[0], "a config override key=value", bad[0])
        space = space_from_experiment(a.experiment)
        changes: dict = {}
        if a.agendas is not None:
            changes["agendas"] = _list(a.agendas)
        if a.first_movers is not None:
            changes["first_movers"] = _list(a.first_movers)
        for c in ("trust", "credibility", "pressure"):
            if getattr(a, c) is not None:
                changes[c] = _numbers(f"--{c}", _list(getattr(a, c)), "command line")
        if a.n_seeds is not None:
            if a.n_seeds <= 0:
                raise ConfigError("command line", "--n-seeds", "a positive number of seeds", a.n_seeds)
            changes["n_seeds"] = a.n_seeds
        space = replace(space, seed=a.seed, **changes)
        if not space.agendas:
            raise ConfigError("command line", "--agendas", "at least one agenda choice", a.agendas)
        check_writable_dir(a.out, "--out", "command line")
        origin = (
            ("command line", "--agendas")
            if a.agendas is not None
            else (str(CONF_EXPERIMENTS / f"{a.experiment}.yaml"), "hydra.sweeper.params.agenda")
        )
        if a.sampler == "optuna":
            if a.n_trials <= 0:
                raise ConfigError("command line", "--n-trials", "a positive number of trials", a.n_trials)
            res = optuna_search(space, a.n_trials, a.overrides, seed=a.seed, origin=origin)
        else:
            res = run_search(space, a.overrides, origin=origin)
        paths = write(res, a.out, command)
    except ConfigError as e:
        if a.debug:
            raise
        print(f"negotiate search: error: {e}", file=sys.stderr)
        return 2
    best = res.best
    print(
        f"{len(res.runs):,} runs, {len(res.points):,} points in {res.seconds:.1f} s "
        f"({len(res.runs) / max(res.seconds, 1e-9):,.0f} runs/s)"
    )
    print(f"{len(best)} points not distinguishable from the best (rule: {BEST_RULE}):")
    for r in best.head(a.top).itertuples():
        fm = "" if pd.isna(r.first_mover) else f", {r.first_mover} open{'' if r.first_mover == 'mediators' else 's'}"
        print(
            f"  {r.rate:.3f} [{r.low:.3f}, {r.high:.3f}]  {r.agenda}{fm}, trust {_fmt(r.trust)}, "
            f"credibility {_fmt(r.credibility)}, pressure {_fmt(r.pressure)}"
        )
    if len(best) > a.top:
        print(f"  ... and {len(best) - a.top} more")
    print("Wrote " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
