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
from pathlib import Path

import numpy as np
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

import sim.config  # noqa: F401  (registers the schemas)
from sim.agenda import compile_agenda
from sim.batch import simulate
from sim.errors import COMMAND_LINE, ConfigError, attribute_to_override, from_compose_error, split_override
from sim.kernel import Settings, Static, make_static
from sim.protocols import PROTOCOLS
from sim.results import RunSet, make_table
from sim.scenario import compile_scenario

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")
RUN_ONLY_KEYS = ("seed", "n_seeds", "quiet", "trajectories", "chunk_size", "output", "hydra")


def load_config(overrides: list[str] | None = None, config_name: str = "config") -> DictConfig:
    """Compose the run configuration from ``conf/`` with command-line style overrides.

    Example: ``load_config(["agenda=phased_plan", "scenario.trust.initial=0.4"])``.

    Raises:
        ConfigError: for an unknown key or option, a value of the wrong type, an override
            that does not parse or a YAML file that does not parse (file and line).
    """
    overrides = list(overrides or [])
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
        cfg = compose(config_name=config_name, overrides=overrides, return_hydra_config=True)
    rt = cfg.hydra.runtime
    dirs = [str(s.path) for s in rt.config_sources if s.schema == "file"]
    files = {}
    for group in ("scenario", "agenda", "protocol"):
        option = rt.choices.get(group)
        if option:
            path = next((Path(d) / group / f"{option}.yaml" for d in dirs
                         if (Path(d) / group / f"{option}.yaml").is_file()), None)
            files[group] = _show_path(path) if path else f"{group} choice {option} (generated, no file)"
    for key in ("run", "sweep"):
        with contextlib.suppress(Exception):  # an unresolvable directory is Hydra's to report
            files[f"hydra.{key}.dir"] = str(OmegaConf.select(cfg, f"hydra.{key}.dir"))
    with open_dict(cfg):
        del cfg["hydra"]
    _FILES[id(cfg)] = (weakref.ref(cfg), files)
    return cfg


# which file each config group came from, for error messages (keyed by the config's id)
_FILES: dict[int, tuple[weakref.ref, dict[str, str]]] = {}


def _show_path(path: Path) -> str:
    root = Path(CONF_DIR).parent
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def hydra_dir(cfg: DictConfig, key: str) -> str | None:
    """``hydra.run.dir`` or ``hydra.sweep.dir`` as composed with ``cfg`` (None if unknown)."""
    ref, files = _FILES.get(id(cfg), (None, {}))
    return files.get(key) if ref is not None and ref() is cfg else None


def group_file(cfg: DictConfig, group: str) -> str:
    """The YAML file a config group (``scenario``, ``agenda``, ``protocol``) was read from."""
    for k in [k for k, (ref, _) in _FILES.items() if ref() is None]:
        del _FILES[k]
    ref, files = _FILES.get(id(cfg), (None, {}))
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
            dirs += [d.strip().removeprefix("file://") for d in value.strip("[]").split(",")
                     if d.strip().startswith("file://")]
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
    file = f"conf/{group}/{cfg[group].get('name', '?')}.yaml" if group in ("scenario", "agenda", "protocol") \
        and hasattr(cfg.get(group), "get") else "conf/config.yaml"
    keys = ", ".join(str(k) for k in node)
    o = next((x for x in overrides if split_override(x)[0] == key), key)
    return ConfigError(f"{COMMAND_LINE} {o} (over {file})", key, f"a key of {parent or 'the config'} ({keys})",
                       last)


def scenario_file(cfg: DictConfig) -> str:
    return group_file(cfg, "scenario")


def agenda_file(cfg: DictConfig) -> str:
    return group_file(cfg, "agenda")


def settings_from(cfg: DictConfig) -> Settings:
    p = cfg.protocol
    file = group_file(cfg, "protocol")
    if p.name not in PROTOCOLS:
        raise ConfigError(file, "protocol.name", f"one of {sorted(PROTOCOLS)}", p.name)
    if int(p.max_rounds) <= 0:
        raise ConfigError(file, "protocol.max_rounds", "a positive number of rounds", p.max_rounds)
    if int(p.steps_per_round) <= 0:
        raise ConfigError(file, "protocol.steps_per_round", "a positive integer", p.steps_per_round)
    if not 0 < float(p.step0) <= float(p.step_max):
        raise ConfigError(file, "protocol.step0", "a number in (0, step_max]", p.step0)
    return Settings(name=str(p.name), max_rounds=int(p.max_rounds), rule=str(p.rule),
                    step0=float(p.step0), step_max=float(p.step_max),
                    steps_per_round=int(p.steps_per_round),
                    params=OmegaConf.to_container(p.params, resolve=True) or {})


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
    st = make_static(sc, ag, settings_from(cfg))
    why = PROTOCOLS[st.settings.name].check(st)
    if why:
        raise ConfigError(group_file(cfg, "protocol"), "protocol.name",
                          f"a protocol that can run scenario {sc.name} ({why})", st.settings.name)
    return st


def check_run_options(cfg: DictConfig) -> None:
    """Seeds, chunk size and condition levels: checked before anything runs."""
    for key in ("seed", "n_seeds", "chunk_size"):
        v = cfg.get(key, 1)
        if isinstance(v, bool) or not isinstance(v, int) or v < (0 if key == "seed" else 1):
            raise ConfigError("conf/config.yaml", key,
                              "an integer >= 0" if key == "seed" else "a positive integer", v)
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
            ok = isinstance(v, int | float) and not isinstance(v, bool)
            if not (ok and (np.isnan(v) or (0 <= v <= (10 if k == "pressure" else 1)))):
                raise ConfigError("conf/config.yaml", f"grid.{k}[{j}]" if levels else f"conditions.{k}",
                                  "a number in [0, 1]" if k != "pressure" else "a number in [0, 10]", v)
    mesh = np.array(np.meshgrid(axes["trust"], axes["credibility"], axes["pressure"], indexing="ij"),
                    dtype=float).reshape(3, -1).T
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
    seeds, trust, cred, press = conditions_grid(cfg, int(cfg.n_seeds), int(cfg.seed))
    cols = simulate(st, seeds, trust, cred, press, chunk_size=int(cfg.get("chunk_size", 5000)),
                    progress=progress)
    table = make_table(st, cols, trust, cred, press)
    return RunSet(static=st, table=table, config_hash=config_hash(cfg),
                  config=OmegaConf.to_container(cfg, resolve=True))


def load_scenario(name: str = "sharm_el_sheikh_2025", overrides: list[str] | None = None,
                  agenda: str | None = None) -> Static:
    """A compiled scenario (with agenda and protocol) by name, for notebooks and tests."""
    ov = [f"scenario={name}"] + ([f"agenda={agenda}"] if agenda else []) + list(overrides or [])
    return build(load_config(ov), ov)

