"""The Python entry points: load a configuration, build it, run it. No Hydra app here.

``load_config`` composes ``conf/`` with Hydra's compose API (the same files and
overrides as the command line), ``build`` checks and compiles it, ``run`` runs every
seed and returns a :class:`sim.results.RunSet`. Notebooks and tests use these; the
``negotiate`` command is a thin wrapper around them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

import sim.config  # noqa: F401  (registers the schemas)
from sim.agenda import compile_agenda
from sim.batch import simulate
from sim.config import PROTOCOL_SCHEMAS, check_yaml_file
from sim.errors import (
    COMMAND_LINE,
    ConfigError,
    attribute_to_override,
    from_compose_error,
    from_schema_error,
    split_override,
)
from sim.kernel import Settings, Static, horizon, make_static
from sim.protocols import PROTOCOLS
from sim.results import RunSet, make_table
from sim.scenario import compile_scenario
from sim.sweep import check_fits_in_memory, check_seed_range

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")
MAX_WINDOW = 100_000  # rounds: the longest observation window
RUN_ONLY_KEYS = ("seed", "n_seeds", "quiet", "trajectories", "chunk_size", "output", "hydra")
DATA_GROUPS = ("scenario", "agenda", "protocol")  # files of these groups are data, wherever they are
CHOICE_GROUPS = (*DATA_GROUPS, "experiment", "local")  # groups whose choices are checked as names
CHOICE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def load_config(overrides: list[str] | None = None, config_name: str = "config") -> DictConfig:
    """Compose the run configuration from ``conf/`` with command-line style overrides.

    Example: ``load_config(["agenda=phased_plan", "scenario.trust.initial=0.4"])``.

    Raises:
        ConfigError: for an unknown key or option, a value of the wrong type, an override
            that does not parse or a YAML file that does not parse (file and line); for a
            group choice that is a path rather than a name (``scenario=../x``); and for a
            scenario, agenda or protocol file (or any file from outside ``conf/``) that is
            not data: one that sets ``hydra:`` or holds a ``_target_`` (see
            :func:`check_data_file`).
    """
    overrides = list(overrides or [])
    check_choice_names(overrides)
    try:
        return _compose(overrides, config_name)
    except (HydraException, OmegaConfBaseException, yaml.YAMLError) as e:
        better = _unknown_key(e, overrides) or from_compose_error(e, overrides, search_dirs(overrides))
        raise better from e


def _compose(overrides: list[str], config_name: str) -> DictConfig:
    gh = GlobalHydra.instance()
    if gh.is_initialized():
        gh.clear()
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        # Config files are data: check every file the composition will read before Hydra
        # merges it (with the directories the overrides name), and again after it with
        # the search path Hydra actually used.
        loader = GlobalHydra.instance().config_loader()
        try:
            chosen = loader.compute_defaults_list(config_name, overrides, RunMode.RUN).defaults
        except Exception:  # noqa: BLE001 - composing below reports what is wrong, unless a file is not data
            chosen = None
        _check_chosen_files(chosen if chosen is not None else _chosen_by(overrides), search_dirs(overrides))
        cfg = compose(config_name=config_name, overrides=overrides, return_hydra_config=True)
        if chosen is None:
            chosen = loader.compute_defaults_list(config_name, overrides, RunMode.RUN).defaults
    rt = cfg.hydra.runtime
    dirs = [str(s.path) for s in rt.config_sources if s.schema == "file"]
    _check_chosen_files(chosen, dirs)
    files = {}
    for group in ("scenario", "agenda", "protocol"):
        option = rt.choices.get(group)
        if option:
            path = next(
                (Path(d) / group / f"{option}.yaml" for d in dirs if (Path(d) / group / f"{option}.yaml").is_file()),
                None,
            )
            files[group] = _show_path(path) if path else f"{group} choice {option} (generated, no file)"
    for key in ("run", "sweep"):
        with contextlib.suppress(Exception):  # an unresolvable directory is Hydra's to report
            files[f"hydra.{key}.dir"] = str(OmegaConf.select(cfg, f"hydra.{key}.dir"))
    with open_dict(cfg):
        del cfg["hydra"]
    _type_protocol(cfg, files.get("protocol", "conf/protocol"))
    _FILES[id(cfg)] = (weakref.ref(cfg), files, dirs)
    return cfg


@dataclass
class _ProtocolHolder:
    protocol: Any = None


def _type_protocol(cfg: DictConfig, file: str) -> None:
    """Give a protocol file written without its schema (no ``defaults:``) the schema of the
    protocol it names, so that its keys are checked as the project's own files' are: a key
    another protocol has, or a value of the wrong type, is an error naming the key."""
    p = cfg.get("protocol")
    if p is None or not isinstance(p, DictConfig) or OmegaConf.get_type(p) is not dict:
        return
    schema = PROTOCOL_SCHEMAS.get(p.get("name"))
    if schema is None:
        return  # settings_from names the unknown protocol
    try:
        typed = OmegaConf.merge(OmegaConf.structured(_ProtocolHolder(protocol=schema())), {"protocol": p})
    except OmegaConfBaseException as e:
        raise from_schema_error(e, file) from e
    with open_dict(cfg):
        cfg.protocol = typed.protocol


# which file each config group came from, for error messages, and the config directories
# searched (keyed by the config's id)
_FILES: dict[int, tuple[weakref.ref, dict[str, str], list[str]]] = {}


# -- config files are data ---------------------------------------------------------------------


def check_choice_names(overrides: list[str]) -> None:
    """Group choices are names of config files, never paths: ``scenario=../x`` is refused.

    Checks every value of an override of a config group (``scenario``, ``agenda``,
    ``protocol``, ``experiment``, ``local``), each value of a sweep, and the patterns of
    a ``glob(...)``.

    Raises:
        ConfigError: naming the override and what a choice must be.
    """
    parser = OverridesParser.create()
    for text in overrides:
        key, raw = split_override(text)
        if key not in CHOICE_GROUPS or raw is None:
            continue
        try:
            o = parser.parse_overrides([text])[0]
        except Exception:  # noqa: BLE001 - Hydra reports the syntax error; a path is still refused here
            values = [raw] if re.search(r"[/\\]|\.\.", raw) else []
        else:
            values = _choice_values(o)
        for v in values:
            if v is None:
                continue
            if isinstance(v, Glob):
                names = [str(p) for p in [*v.include, *v.exclude]]
                if all(re.fullmatch(r"[A-Za-z0-9_.*?\[\]!-]+", n) and ".." not in n for n in names):
                    continue
            elif (
                isinstance(v, str | int | float)
                and not isinstance(v, bool)
                and CHOICE_NAME.fullmatch(str(v))
                and ".." not in str(v)
            ):
                continue
            raise ConfigError(
                f"{COMMAND_LINE} {text}", key, "a config name (letters, digits, _ . -), not a path", str(v)
            )


def _choice_values(o) -> list:
    """The values an override of a config group chooses (each value of a sweep)."""
    v = o.value()
    if isinstance(v, Glob):
        return [v]
    if o.is_sweep_override():
        try:
            return list(o.sweep_string_iterator())
        except Exception:  # noqa: BLE001 - an interval is no choice of files
            return [str(v)]
    if isinstance(v, list | tuple):  # a list of configs of one group
        return list(v)
    if isinstance(v, dict):
        return [str(v)]
    return [v]


def _chosen_by(overrides: list[str]) -> list:
    """The data-group files the overrides choose (when Hydra cannot list what it would read)."""
    from types import SimpleNamespace

    out = []
    for o in overrides:
        key, value = split_override(o)
        if key in DATA_GROUPS and value and CHOICE_NAME.fullmatch(value) and "@" not in o.split("=", 1)[0]:
            out.append(SimpleNamespace(config_path=f"{key}/{value}", package=None))
    return out


def _located(config_path: str, dirs: list[str]) -> Path | None:
    """The YAML file Hydra reads for ``config_path`` (first in the search path), if a file."""
    for d in dirs:
        p = Path(d) / f"{config_path}.yaml"
        if p.is_file():
            return p
    return None


def _in_conf(path: Path) -> bool:
    return path.resolve().is_relative_to(Path(CONF_DIR).resolve())


def _check_chosen_files(chosen, dirs: list[str]) -> None:
    """Check each config file a composition reads (Hydra's defaults list, in ``dirs``).

    A file of a data group (scenario, agenda, protocol), wherever it is, and any file from
    a directory other than the project's ``conf/`` must be data: see
    :func:`check_data_file`. The project's own ``conf/config.yaml``, ``conf/experiment/``
    and ``conf/hydra/`` may set ``hydra:``.
    """
    seen = set()
    for rd in chosen:
        cp = rd.config_path
        if not cp or cp in seen:
            continue
        seen.add(cp)
        path = _located(cp, dirs)
        if path is None:  # a stored node (ConfigStore) or Hydra's own package: code, not a file
            continue
        group = cp.rpartition("/")[0]
        if group in DATA_GROUPS or not _in_conf(path):
            check_data_file(path, group, rd.package)


def check_group_files(dirs: list[str]) -> None:
    """Check every file a sweep could choose: all options of the data groups in ``dirs``
    and every config file (outside ``hydra/``) in a directory other than ``conf/``.

    A sweeper picks files job by job (``glob(*)``, an experiment's ``hydra.sweeper.params``)
    after Hydra has started, so ``negotiate -m`` checks them all before it starts.
    """
    for d in dirs:
        root = Path(d)
        if not root.is_dir():
            continue
        files = set()
        for group in DATA_GROUPS:
            files |= set((root / group).glob("*.yaml"))
        if not _in_conf(root):
            files |= {p for p in root.rglob("*.yaml") if p.relative_to(root).parts[0] != "hydra"}
        for p in sorted(files):
            group = p.relative_to(root).parent.as_posix()
            check_data_file(p, "" if group == "." else group)


def check_data_file(path: str | Path, group: str, package: str | None = None) -> None:
    """Refuse a config file that is not data: one that sets anything under ``hydra:`` or
    holds a ``_target_`` key anywhere (or, for a scenario, agenda or protocol file, pulls in
    configs other than files of its own group, by name, through a ``defaults:`` list).

    Hydra settings (callbacks, launchers, sweepers) build Python objects, so they come only
    from the command line and the project's own ``conf/``.

    Args:
        path: the YAML file (read with a safe loader; what does not parse is left to Hydra).
        group: its config group (``scenario``; ``""`` for a file at the top of a config dir).
        package: where its keys go, as Hydra computed it (``""`` for ``_global_``); by
            default from its ``# @package`` header.

    Raises:
        ConfigError: naming the file, the key (e.g. ``hydra.callbacks``) and that the file
            must be data.
    """
    path = Path(path)
    check_yaml_file(path)  # size, encoding, nesting and aliases, before parsing
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return  # Hydra reports a file it cannot read
    file = _show_path(path)
    what = f"{group} file" if group in DATA_GROUPS else "config file from outside the project's conf/"
    what = f"{'an' if what[0] in 'aeiou' else 'a'} {what}"
    expected = f"data only: {what} may not set hydra: or _target_"
    if package is None:
        package = package_header(text, group)
    if isinstance(data, dict) and "defaults" in data:
        entries = data["defaults"] if isinstance(data["defaults"], list) else [data["defaults"]]
        for i, entry in enumerate(entries):
            # a data file may build on another file of its own group, by name (a shared
            # base scenario); that file is read and checked like any other
            same_group = (
                isinstance(entry, str) and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", entry) and entry != "override"
            )
            if group in DATA_GROUPS and entry != "_self_" and not same_group:
                raise ConfigError(file, f"defaults[{i}]", f"data only: {what} may not include other configs", entry)
            if "hydra" in str(entry).lower():
                raise ConfigError(file, f"defaults[{i}]", expected, entry)
        data = {k: v for k, v in data.items() if k != "defaults"}
    bad = _not_data(data, package)
    if bad is not None:
        raise ConfigError(file, bad, expected)


def package_header(text: str, group: str) -> str:
    """Where Hydra puts the keys of a file of ``group``: its ``# @package`` header, resolved
    (``_global_`` -> ``""``, ``_group_`` -> the group), or the group itself."""
    header = None
    for line in text.splitlines():  # as Hydra reads it: the @-lines before anything else
        line = line.strip()
        if not line:
            continue
        if not re.match(r"^#\s*@", line):
            break
        parts = line.lstrip("#").split()
        if len(parts) >= 2 and parts[0] == "@package":
            header = parts[1]
    here = group.replace("/", ".")
    if header is None or header == "_group_":
        return here
    for prefix, base in (("_global_", ""), ("_group_", here)):
        if header == prefix:
            return base
        if header.startswith(prefix + "."):
            rest = header[len(prefix) + 1 :]
            return f"{base}.{rest}" if base else rest
    return header


def _not_data(node, prefix: str) -> str | None:
    """The first key path under ``hydra`` or ending in ``_target_`` (None if there is none)."""
    if prefix == "hydra" or prefix.startswith(("hydra.", "hydra[")):
        return f"{prefix}.{next(iter(node))}" if isinstance(node, dict) and node else prefix
    if isinstance(node, dict):
        for k, v in node.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if str(k) == "_target_":
                return key
            bad = _not_data(v, key)
            if bad is not None:
                return bad
    elif isinstance(node, list):
        for i, v in enumerate(node):
            bad = _not_data(v, f"{prefix}[{i}]")
            if bad is not None:
                return bad
    return None


def config_dirs(cfg: DictConfig) -> list[str]:
    """The config directories searched when ``cfg`` was composed (``conf/`` first)."""
    ref, _, dirs = _FILES.get(id(cfg), (None, {}, []))
    return list(dirs) if ref is not None and ref() is cfg else [CONF_DIR]


def _show_path(path: Path) -> str:
    root = Path(CONF_DIR).parent
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def hydra_dir(cfg: DictConfig, key: str) -> str | None:
    """``hydra.run.dir`` or ``hydra.sweep.dir`` as composed with ``cfg`` (None if unknown)."""
    ref, files, _ = _FILES.get(id(cfg), (None, {}, []))
    return files.get(key) if ref is not None and ref() is cfg else None


def group_file(cfg: DictConfig, group: str) -> str:
    """The YAML file a config group (``scenario``, ``agenda``, ``protocol``) was read from."""
    for k in [k for k, (ref, _, _) in _FILES.items() if ref() is None]:
        del _FILES[k]
    ref, files, _ = _FILES.get(id(cfg), (None, {}, []))
    if ref is not None and ref() is cfg and group in files:
        return files[group]
    try:
        from hydra.core.hydra_config import HydraConfig

        option = HydraConfig.get().runtime.choices.get(group)
        if option:
            return f"conf/{group}/{option}.yaml"
    except ValueError:  # not inside a Hydra app
        pass
    return f"conf/{group}/{cfg[group].get('name', '?')}.yaml"


def search_dirs(overrides: list[str]) -> list[str]:
    """``conf/`` and the ``file://`` directories added with ``hydra.searchpath=[...]``."""
    dirs = [CONF_DIR]
    for o in overrides:
        key, value = split_override(o)
        if key == "hydra.searchpath" and value:
            try:
                entries = OverridesParser.create().parse_overrides([o])[0].value()
            except Exception:  # noqa: BLE001 - Hydra reports the syntax; read it as plainly as we can
                entries = value.strip("[]").split(",")
            if not isinstance(entries, list):
                entries = [entries]
            dirs += [str(d).strip().removeprefix("file://") for d in entries if str(d).strip().startswith("file://")]
    return dirs


def _unknown_key(e: BaseException, overrides: list[str]) -> ConfigError | None:
    """Turn Hydra's "Could not override 'a.b.c'" into: which keys a.b does have."""
    m = re.search(r"Could not override '([^']+)'", str(e))
    if not m:
        return None
    key = m.group(1)
    parent, _, last = key.rpartition(".")
    try:
        cfg = _compose([o for o in overrides if not split_override(o)[0].startswith(key)], "config")
        node = OmegaConf.select(cfg, parent) if parent else cfg
    except Exception:  # noqa: BLE001 - fall back to the general translation
        return None
    if node is None or not hasattr(node, "keys") or last in node:
        return None  # the key exists: the error is inside the value (see from_compose_error)
    group = key.split(".")[0]
    file = (
        f"conf/{group}/{cfg[group].get('name', '?')}.yaml"
        if group in ("scenario", "agenda", "protocol") and hasattr(cfg.get(group), "get")
        else "conf/config.yaml"
    )
    keys = ", ".join(str(k) for k in node)
    o = next((x for x in overrides if split_override(x)[0] == key), key)
    return ConfigError(f"{COMMAND_LINE} {o} (over {file})", key, f"a key of {parent or 'the config'} ({keys})", last)


def scenario_file(cfg: DictConfig) -> str:
    """The YAML file the scenario was read from (for error messages that name it)."""
    return group_file(cfg, "scenario")


def agenda_file(cfg: DictConfig) -> str:
    """The YAML file the agenda was read from (for error messages that name it)."""
    return group_file(cfg, "agenda")


def settings_from(cfg: DictConfig, window: int | None = None) -> Settings:
    """The protocol's settings; ``window`` is the observation window when ``max_rounds`` is null."""
    p = cfg.protocol
    file = group_file(cfg, "protocol")
    if p.name not in PROTOCOLS:
        raise ConfigError(file, "protocol.name", f"one of {sorted(PROTOCOLS)}", p.name)
    max_rounds = p.max_rounds if p.max_rounds is not None else window
    if (
        max_rounds is None
        or isinstance(max_rounds, bool)
        or not isinstance(max_rounds, int)
        or not 0 < max_rounds <= MAX_WINDOW
    ):
        raise ConfigError(
            file,
            "protocol.max_rounds",
            f"a whole number of rounds in [1, {MAX_WINDOW}] or null (twice the agenda's horizon)",
            p.max_rounds,
        )
    # the mediators' drafting (the other protocols' schemas have no such keys)
    rule, step0, step_max, steps = (
        p.get("rule", "nash"),
        p.get("step0", 0.05),
        p.get("step_max", 0.2),
        p.get("steps_per_round", 1),
    )
    if not 0 < int(steps) <= 1000:
        raise ConfigError(file, "protocol.steps_per_round", "a whole number in [1, 1000]", steps)
    if not 0 < float(step0) <= float(step_max) <= 1:
        raise ConfigError(file, "protocol.step0", "a number in (0, step_max] (step_max at most 1)", step0)
    if not 0 < int(p.stall_rounds) <= 1000:
        raise ConfigError(file, "protocol.stall_rounds", "a whole number of rounds in [1, 1000]", p.stall_rounds)
    if not 0 < float(p.stall_tol) < 1:
        raise ConfigError(file, "protocol.stall_tol", "a number in (0, 1)", p.stall_tol)
    params = p.get("params")
    return Settings(
        name=str(p.name),
        max_rounds=int(max_rounds),
        rule=str(rule),
        step0=float(step0),
        step_max=float(step_max),
        steps_per_round=int(steps),
        stall_rounds=int(p.stall_rounds),
        stall_tol=float(p.stall_tol),
        params=OmegaConf.to_container(params, resolve=True) if params is not None else {},
    )


def build(cfg: DictConfig, overrides: list[str] | None = None) -> Static:
    """Check a composed configuration and compile it to the kernel's shared arrays.

    Args:
        cfg: a composed configuration (see :func:`load_config`).
        overrides: the overrides it was composed with, if known: an error about a value
            that came from one of them then names the override rather than the file.

    Raises:
        ConfigError: naming the file, the key and what was expected.
    """
    try:
        return _build(cfg)
    except ConfigError as e:
        better = attribute_to_override(e, overrides)
        if better is e:
            raise
        raise better from e


def _build(cfg: DictConfig) -> Static:
    check_run_options(cfg)
    sc = compile_scenario(cfg.scenario, file=scenario_file(cfg))
    ag = compile_agenda(cfg.agenda, sc, file=agenda_file(cfg))
    settings = settings_from(cfg, window=2 * horizon(sc, ag.n_phases))
    st = make_static(sc, ag, settings, PROTOCOLS[settings.name])
    if not cfg.get("calibration") and not (cfg.get("design") or {}).get("file"):
        check_fits_in_memory(cfg, st.n_actors, st.n_issues)
    why = st.protocol.check(st)
    if why:
        raise ConfigError(
            group_file(cfg, "protocol"),
            "protocol.name",
            f"a protocol that can run scenario {sc.name} ({why})",
            st.settings.name,
        )
    return st


def check_run_options(cfg: DictConfig) -> None:
    """Seeds, chunk size and condition levels: checked before anything runs."""
    for key in ("seed", "n_seeds", "chunk_size"):
        v = cfg.get(key, 1)
        if isinstance(v, bool) or not isinstance(v, int) or v < (0 if key == "seed" else 1):
            raise ConfigError("conf/config.yaml", key, "an integer >= 0" if key == "seed" else "a positive integer", v)
    check_seed_range(cfg)
    conditions_grid(cfg, 1, 0)


def config_hash(cfg: DictConfig) -> str:
    """A short hash of everything that shapes a run except the seeds and output options."""
    data = OmegaConf.to_container(cfg, resolve=True)
    data = {k: v for k, v in data.items() if k not in RUN_ONLY_KEYS}
    blob = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def conditions_grid(cfg: DictConfig, n_seeds: int, base_seed: int):
    """Seeds and per-run condition levels: every grid point crossed with every seed.

    Common random numbers: each grid point uses the same seeds, so differences between
    conditions are not differences of luck.
    """
    c = cfg.conditions
    g = cfg.get("grid") or {}
    axes = {}
    for k in ("trust", "credibility", "pressure"):
        levels = list(g.get(k) or [])
        default = c.get(k)
        axes[k] = levels if levels else [np.nan if default is None else default]
        for j, v in enumerate(axes[k]):
            if not levels and default is None:
                continue  # NaN here stands for the scenario's own value; a NaN given is refused below
            ok = isinstance(v, int | float) and not isinstance(v, bool)
            if not (ok and 0 <= v <= (10 if k == "pressure" else 1)):
                raise ConfigError(
                    "conf/config.yaml",
                    f"grid.{k}[{j}]" if levels else f"conditions.{k}",
                    "a number in [0, 1]" if k != "pressure" else "a number in [0, 10]",
                    v,
                )
    mesh = (
        np.array(np.meshgrid(axes["trust"], axes["credibility"], axes["pressure"], indexing="ij"), dtype=float)
        .reshape(3, -1)
        .T
    )
    seeds = base_seed + np.arange(n_seeds)
    rep = np.repeat(mesh, n_seeds, axis=0)
    return np.tile(seeds, len(mesh)), rep[:, 0], rep[:, 1], rep[:, 2]


def run(cfg: DictConfig | None = None, overrides: list[str] | None = None, progress=None) -> RunSet:
    """Run a configuration for all its seeds (and grid points); no Hydra app involved.

    Args:
        cfg: a composed configuration; if None, composed from ``overrides``.
    """
    if cfg is None:
        cfg = load_config(overrides)
    st = build(cfg, overrides)
    if cfg.get("calibration"):
        return run_forecast(cfg, st, progress)
    if (cfg.get("design") or {}).get("file"):
        return run_design_block(cfg, st, progress)
    seeds, trust, cred, press = conditions_grid(cfg, int(cfg.n_seeds), int(cfg.seed))
    cols = simulate(st, seeds, trust, cred, press, chunk_size=int(cfg.get("chunk_size", 5000)), progress=progress)
    table = make_table(st, cols, trust, cred, press)
    return RunSet(
        static=st, table=table, config_hash=config_hash(cfg), config=OmegaConf.to_container(cfg, resolve=True)
    )


def read_design(cfg: DictConfig):
    """The rows of ``design.file`` that this job runs (block ``design.block`` of ``design.blocks``)."""
    import pandas as pd

    d = cfg.design
    path = Path(str(d.file)).expanduser()
    where = f"design.file={d.file}"
    if not path.is_file():
        raise ConfigError(COMMAND_LINE + " " + where, "design.file", "a Parquet or CSV file that exists", str(path))
    try:
        df = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path)
    except Exception as e:  # any reader error: name the file
        raise ConfigError(
            str(path), "design.file", f"a readable Parquet or CSV table ({type(e).__name__})", str(path)
        ) from e
    blocks, block = int(d.blocks), int(d.block)
    if not 1 <= blocks <= max(len(df), 1) or not 0 <= block < blocks:
        raise ConfigError(
            COMMAND_LINE + " " + where,
            "design.block",
            f"0 <= block < blocks <= rows ({len(df)})",
            f"{block} of {blocks}",
        )
    rows = np.array_split(np.arange(len(df)), blocks)[block]
    return df.iloc[rows], int(rows[0]) if rows.size else 0


def run_design_block(cfg: DictConfig, st: Static, progress=None) -> RunSet:
    """One job's block of a design table (``design.file``), as a RunSet; ``point`` counts rows
    of the whole design, so the blocks of a sweep merge into the design's table."""
    from sim.design import run_design

    part, first = read_design(cfg)
    res = run_design(cfg, part, progress=progress)
    table = res.table
    table["point"] = table["point"] + first
    return RunSet(
        static=st, table=table, config_hash=config_hash(cfg), config=OmegaConf.to_container(cfg, resolve=True)
    )


def run_forecast(cfg: DictConfig, st: Static, progress=None) -> RunSet:
    """Every kept parameter set of ``calibration``'s ensemble, ``n_seeds`` seeds each (sim.forecast)."""
    from sim.design import run_design
    from sim.forecast import ensemble_design

    design, _ = ensemble_design(cfg)
    res = run_design(cfg, design, progress=progress)
    return RunSet(
        static=st, table=res.table, config_hash=config_hash(cfg), config=OmegaConf.to_container(cfg, resolve=True)
    )


def load_scenario(
    name: str = "sharm_el_sheikh_2025", overrides: list[str] | None = None, agenda: str | None = None
) -> Static:
    """A compiled scenario (with agenda and protocol) by name, for notebooks and tests."""
    ov = [f"scenario={name}"] + ([f"agenda={agenda}"] if agenda else []) + list(overrides or [])
    return build(load_config(ov), ov)
