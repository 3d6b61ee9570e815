"""The body of one Hydra job: run every seed of a configuration and write the results.

Kept apart from the command-line wrapper so that sweeps, launchers and tests call the
same function. ``grid.agenda`` and ``grid.first_mover`` cross several agendas and first
movers inside one job (one batch each, stacked into one table), so that a sweep can be
a few large jobs rather than many small ones. Results are written atomically (see
:mod:`sim.io`). Beside them a job writes its resolved config (``config.yaml``) and, last,
``job.json``: the config, the package version and git commit, the SHA-256 of
``runs.parquet``, and how long the job took and how much memory it used.
In a sweep (Hydra multirun) a job whose ``job.json`` already records the same
configuration (and whose files check out) is skipped, and a job that fails writes
``error.json`` instead of stopping the sweep, so one bad configuration spoils no other.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from sim.agenda import compile_agenda
from sim.api import CONF_DIR, agenda_file, check_data_file, config_hash, run, scenario_file
from sim.config import AgendaConf
from sim.errors import ConfigError, attribute_to_override, split_override
from sim.io import write_json, write_parquet, write_text
from sim.results import RunSet
from sim.scenario import compile_scenario
from sim.summary import summary_text
from sim.sweep import (
    ERROR_FILE,
    JOB_FILE,
    file_sha256,
    peak_memory_mb,
    provenance,
    quiet_progress,
    read_json,
    reset_peak_memory,
    resolved,
    runs_in_job,
    verify_job,
    watch_sweep_process,
)

log = logging.getLogger("sim")


def write_outputs(rs: RunSet, out: Path) -> None:
    """``result.json`` (the first run, plus the summary over seeds) and ``runs.parquet``."""
    rec = rs.record(0)
    rec["n_seeds"] = rs.n_runs
    rec["summary"] = rs.summary()
    write_parquet(out / "runs.parquet", rs.table)
    write_json(out / "result.json", rec)


def _hydra() -> Any:
    return HydraConfig.get() if HydraConfig.initialized() else None


def n_runs(cfg: DictConfig) -> int:
    """Runs in this job: seeds times the grid points (and first movers and agendas) crossed inside it."""
    return runs_in_job(cfg)


def mover_label(fm: Any) -> str:
    """``agenda.first_mover`` as one string (a per-phase list joined by ``>``)."""
    return ">".join(str(x) for x in fm) if isinstance(fm, list | tuple | ListConfig) else str(fm)


def run_movers(cfg: DictConfig, progress: Any = None) -> RunSet:
    """Run ``cfg``; with ``grid.first_mover`` once per first mover, stacked into one table.

    The first mover changes the compiled agenda, so each is its own batch; putting them
    in one job (rather than one job each) keeps Hydra's per-job cost small against the
    work. Every table gets a ``first_mover`` column.
    """
    movers = list((cfg.get("grid") or {}).get("first_mover") or [])
    if not movers:
        rs = run(cfg, progress=progress)
        rs.table.insert(rs.table.columns.get_loc("agenda") + 1, "first_mover", mover_label(cfg.agenda.first_mover))
        return rs
    parts = []
    for fm in movers:
        c = copy.deepcopy(cfg)
        c.agenda.first_mover = fm
        rs = run(c, progress=progress)
        rs.table.insert(rs.table.columns.get_loc("agenda") + 1, "first_mover", mover_label(fm))
        parts.append(rs)
    table = pd.concat([p.table for p in parts], ignore_index=True)
    return RunSet(static=parts[0].static, table=table, config_hash=config_hash(cfg), config=resolved(cfg))


def agenda_choices(cfg: DictConfig) -> list[str]:
    """``grid.agenda`` as a list of names (empty when the job runs its one ``agenda``).

    Raises:
        ConfigError: naming ``block`` when it names no entry of ``blocks``.
    """
    try:
        choices = (cfg.get("grid") or {}).get("agenda") or []
    except OmegaConfBaseException as e:  # grid.agenda: ${blocks.${block}} with an unknown block
        blocks = sorted(cfg.get("blocks") or {})
        raise ConfigError(_experiment_file(), "block", f"one of the blocks {blocks}", cfg.get("block")) from e
    return [str(a) for a in choices]


def _experiment_file() -> str:
    hc = _hydra()
    exp = hc.runtime.choices.get("experiment") if hc is not None else None
    return f"conf/experiment/{exp}.yaml" if exp else "conf/config.yaml"


def _agenda_dirs(roots: list[str] | None = None) -> list[Path]:
    """The ``agenda/`` folders of the config search path (``conf/`` and any ``hydra.searchpath``)."""
    if not roots:
        hc = _hydra()
        roots = [str(s.path) for s in hc.runtime.config_sources if s.schema == "file"] if hc is not None else []
    return [Path(r) / "agenda" for r in (roots or [CONF_DIR])]


def agenda_options(roots: list[str] | None = None) -> dict[str, Any]:
    """Every agenda choice -> where it is defined: a YAML file, or a ConfigStore node (``order_K``).

    Files come first in the search path, as in Hydra, so a file shadows a stored node
    of the same name. The schema itself (``agenda_schema``) is not a choice.
    """
    found: dict[str, Any] = {}
    for d in _agenda_dirs(roots):
        for f in sorted(d.glob("*.yaml")) if d.is_dir() else []:
            found.setdefault(f.stem, f)
    for name, node in (ConfigStore.instance().repo.get("agenda") or {}).items():
        stem = name.removesuffix(".yaml")
        if stem != "agenda_schema":
            found.setdefault(stem, node)
    return found


def _describe(options: dict[str, Any]) -> str:
    orders = sorted((k for k in options if re.fullmatch(r"order_\d+", k)), key=lambda k: int(k[6:]))
    named = sorted(k for k in options if k not in orders)
    span = f"{orders[0]} ... {orders[-1]}, " if orders else ""
    return f"an agenda choice ({span}{', '.join(named)})"


def resolve_agenda(
    choice: str, options: dict[str, Any] | None = None, where: str | None = None
) -> tuple[DictConfig, str]:
    """The agenda config that ``agenda=<choice>`` selects, without composing the whole config.

    The choice's node (a YAML file of ``conf/agenda/`` or a ConfigStore node) is merged
    onto the :class:`sim.config.AgendaConf` schema, which is what Hydra's compose does for
    the agenda group, so a run gets the very same agenda (and the same results).

    Returns:
        The agenda config and where it came from (for error messages).

    Raises:
        ConfigError: naming ``grid.agenda`` and the valid choices, for an unknown name;
            naming the file, for an agenda file that is not data (``hydra:``, ``_target_``).
    """
    options = agenda_options() if options is None else options
    src = options.get(str(choice))
    if src is None:
        raise ConfigError(where or _experiment_file(), "grid.agenda", _describe(options), str(choice))
    if isinstance(src, Path):
        check_data_file(src, "agenda")  # data only: no hydra: and no _target_
        node, where = OmegaConf.load(src), _show(src)
    else:
        node, where = src.node, f"agenda choice {choice} (generated, no file)"
    merged = OmegaConf.merge(OmegaConf.structured(AgendaConf), node)
    OmegaConf.set_struct(merged, True)
    return merged, where


def _show(path: Path) -> str:
    root = Path(CONF_DIR).parent
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def agenda_configs(cfg: DictConfig) -> list[tuple[str, DictConfig]]:
    """One config per agenda of ``grid.agenda`` (just ``cfg`` without it), all checked first.

    Every choice is resolved and compiled (with each first mover) before any run, so a bad
    name or an agenda that does not fit the scenario fails the job before any work.
    """
    choices = agenda_choices(cfg)
    if not choices:
        return [("", cfg)]
    options = agenda_options()
    resolved_ = [(c, *resolve_agenda(c, options)) for c in choices]
    sc = compile_scenario(cfg.scenario, file=scenario_file(cfg))
    movers = list((cfg.get("grid") or {}).get("first_mover") or [])
    out = []
    for choice, agenda, where in resolved_:
        for fm in movers or [agenda.first_mover]:
            a = copy.deepcopy(agenda)
            a.first_mover = fm
            compile_agenda(a, sc, file=where)
        c = copy.deepcopy(cfg)
        with open_dict(c):
            c.agenda = agenda
        out.append((choice, c))
    return out


def check_grid_overrides(cfg: DictConfig, roots: list[str], overrides: list[str]) -> None:
    """:func:`check_grid` before Hydra starts: the file is the experiment the overrides choose
    (else ``conf/config.yaml``), and a bad value given on the command line names its override."""
    exp = next((v for k, v in map(split_override, overrides) if k == "experiment" and v), None)
    try:
        check_grid(cfg, roots, f"conf/experiment/{exp}.yaml" if exp else "conf/config.yaml")
    except ConfigError as e:
        better = attribute_to_override(e, overrides)
        if better is e:
            raise
        raise better from e


def check_grid(cfg: DictConfig, roots: list[str] | None = None, where: str | None = None) -> None:
    """Check every ``grid.agenda`` and ``grid.first_mover`` value before any run.

    Each agenda choice is resolved and compiled against the scenario with each first
    mover, so a name that is no agenda, or a first mover who is no actor, fails before
    the first job starts and names ``grid.agenda`` or ``grid.first_mover[j]`` in the file
    (or override) that set it, not the agenda file it was tried on.

    Args:
        roots: the config directories to look for agenda files in (default: Hydra's).
        where: the file that set the grid (default: the experiment's, else ``conf/config.yaml``).

    Raises:
        ConfigError: naming the grid key, the valid choices or actors, and the bad value.
    """
    where = where or _experiment_file()
    g = cfg.get("grid") or {}
    choices = agenda_choices(cfg)
    movers = list(g.get("first_mover") or [])
    if not choices and not movers:
        return
    sc = compile_scenario(cfg.scenario, file=scenario_file(cfg))
    options = agenda_options(roots) if choices else {}
    agendas = [(a, w) for c in choices for a, w in [resolve_agenda(c, options, where)]]
    if not agendas:
        agendas = [(cfg.agenda, agenda_file(cfg))]
    for agenda, src in agendas:
        if not movers:
            compile_agenda(agenda, sc, file=src)
        for j, fm in enumerate(movers):
            a = copy.deepcopy(agenda)
            with open_dict(a):
                a.first_mover = fm
            try:
                compile_agenda(a, sc, file=src)
            except ConfigError as e:
                if not e.key.endswith("first_mover"):
                    raise
                raise ConfigError(where, f"grid.first_mover[{j}]", e.expected, e.got) from e


def run_agendas(cfg: DictConfig, progress: Any = None) -> RunSet:
    """Run ``cfg``; with ``grid.agenda`` once per agenda choice (each with every first mover), stacked.

    Like ``grid.first_mover``, this puts several batches in one job so that Hydra's
    per-job cost stays small against the work. Each agenda runs exactly as
    ``agenda=<choice>`` alone would (same seeds, same results); its rows get an
    ``agenda_choice`` column beside ``agenda`` (the compiled agenda's name) and
    ``first_mover``. Each choice replaces the whole ``agenda`` (as ``agenda=<choice>``
    does), so overrides of ``agenda.*`` do not carry over: vary the first mover with
    ``grid.first_mover``.
    """
    check_grid(cfg)
    if not agenda_choices(cfg):
        return run_movers(cfg, progress=progress)
    parts = []
    for choice, c in agenda_configs(cfg):
        rs = run_movers(c, progress=progress)
        rs.table.insert(rs.table.columns.get_loc("first_mover") + 1, "agenda_choice", choice)
        parts.append(rs)
    table = pd.concat([p.table for p in parts], ignore_index=True)
    return RunSet(static=parts[0].static, table=table, config_hash=config_hash(cfg), config=resolved(cfg))


def finished(out: Path, cfg: DictConfig) -> dict[str, Any] | None:
    """The ``job.json`` of an earlier run of the same configuration in ``out``, if complete."""
    rec = read_json(out / JOB_FILE)
    if not rec or rec.get("status") != "ok" or not (out / "runs.parquet").exists():
        return None
    why = verify_job(out)
    if why is not None:  # damaged, truncated or not a run table: run the job again
        log.warning("results in %s do not count (%s): running the job again", out, why)
        return None
    same = (
        rec.get("config_hash") == config_hash(cfg)
        and rec.get("seed") == int(cfg.seed)
        and rec.get("n_seeds") == int(cfg.n_seeds)
    )
    return rec if same else None


def _job_name(hc: Any, out: Path) -> str:
    if hc is not None and hc.job.get("override_dirname"):
        return str(hc.job.override_dirname)
    return out.name


def _record(cfg: DictConfig, hc: Any) -> dict[str, Any]:
    return {
        "config_hash": config_hash(cfg),
        "seed": int(cfg.seed),
        "n_seeds": int(cfg.n_seeds),
        "overrides": list(hc.overrides.task) if hc is not None else [],
        "agenda_choice": ",".join(agenda_choices(cfg))
        or (hc.runtime.choices.get("agenda") if hc is not None else None),
        **provenance(),
        "config": resolved(cfg),
    }


def _run_and_write(cfg: DictConfig, out: Path, hc: Any, bar_desc: str | None) -> tuple[RunSet, dict[str, Any]]:
    total = n_runs(cfg)
    reset_peak_memory()
    t0 = time.perf_counter()
    bar = None
    if bar_desc is not None and not quiet_progress():
        from tqdm import tqdm

        bar = tqdm(total=total, desc=bar_desc[-40:], unit="run", leave=False, mininterval=0.5, file=sys.stderr)
    elif not quiet_progress() and not cfg.get("quiet", False) and sys.stderr.isatty():
        from tqdm import tqdm

        # a single run at a terminal: a bar only if it lasts (two seconds), so short runs print none
        bar = tqdm(total=total, desc="runs", unit="run", leave=False, mininterval=0.5, delay=2, file=sys.stderr)
    try:
        rs = run_agendas(cfg, progress=bar.update if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0
    write_outputs(rs, out)
    write_text(out / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    rate, lo, hi = rs.agreement_rate()
    rec = {
        "status": "ok",
        **_record(cfg, hc),
        "n_runs": rs.n_runs,
        "runs_sha256": file_sha256(out / "runs.parquet"),
        "wall_s": wall,
        "runs_per_s": rs.n_runs / wall if wall > 0 else None,
        "peak_memory_mb": peak_memory_mb(),
        "agreement_rate": rate,
        "agreement_interval_95": [lo, hi],
    }
    write_json(out / JOB_FILE, rec)
    return rs, rec


def run_sweep_job(cfg: DictConfig, out: Path, hc: Any = None) -> float:
    """One job of a sweep: skip it if done, run it, or record why it failed; never raise.

    Returns:
        The agreement rate (what a Hydra sweeper such as Optuna maximises); NaN for a
        failed job.
    """
    name = _job_name(hc, out)
    watch_sweep_process()  # a worker stops when the sweep's process is killed
    try:
        agenda_choices(cfg)  # an unknown block fails here with a clear message
        prior = finished(out, cfg)
        if prior is not None:
            (out / ERROR_FILE).unlink(missing_ok=True)  # an older failure, since made good
            log.info("skipped: results of the same configuration exist in %s", out)
            return float(prior["agreement_rate"])
        (out / ERROR_FILE).unlink(missing_ok=True)
        _, rec = _run_and_write(cfg, out, hc, bar_desc=name)
        (out / ERROR_FILE).unlink(missing_ok=True)
        log.info("agreement rate %.4f over %d runs in %.2f s", rec["agreement_rate"], rec["n_runs"], rec["wall_s"])
        return float(rec["agreement_rate"])
    except Exception as e:  # noqa: BLE001 - a failing job is recorded, the sweep goes on
        err = {"status": "failed", "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
        with contextlib.suppress(Exception):  # best effort when the config itself is broken
            err.update(_record(cfg, hc))
        with contextlib.suppress(Exception):  # an unwritable folder: the message below still says why
            write_json(out / ERROR_FILE, err)
        log.error("job failed: %s", err["error"])
        print(f"negotiate: job {name} failed: {err['error']}", file=sys.stderr, flush=True)
        return math.nan


def run_job(cfg: DictConfig, out: Path, multirun: bool | None = None) -> float:
    """Run ``cfg`` for all its seeds, write the results into ``out``, return the agreement rate.

    Args:
        multirun: whether this job is one of a sweep (default: ask Hydra). Sweep jobs
            skip finished work and record failures instead of raising
            (:func:`run_sweep_job`); a single run raises, so the command exits with a
            clear message.
    """
    hc = _hydra()
    if multirun is None:
        multirun = hc is not None and hc.mode == RunMode.MULTIRUN
    out = Path(out)
    if multirun:
        return run_sweep_job(cfg, out, hc)
    rs, _ = _run_and_write(cfg, out, hc, bar_desc=None)
    log.info("agreement rate %.4f over %d runs", rs.agreement_rate()[0], rs.n_runs)
    if not cfg.get("quiet", False):
        print(summary_text(rs))
        print(f"\nResults: {out}/result.json, {out}/runs.parquet")
    return rs.agreement_rate()[0]
