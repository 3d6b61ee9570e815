"""The Python entry points: load a configuration, build it, run it. No Hydra app here.

``load_config`` composes ``conf/`` with Hydra's compose API (the same files and
overrides as the command line), ``build`` checks and compiles it, ``run`` runs every
seed and returns a :class:`sim.results.RunSet`. Notebooks and tests use these; the
``negotiate`` command is a thin wrapper around them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf

import sim.config  # noqa: F401  (registers the schemas)
from sim.agenda import compile_agenda
from sim.batch import simulate
from sim.errors import ConfigError
from sim.kernel import Settings, Static, make_static
from sim.protocols import PROTOCOLS
from sim.results import RunSet, make_table
from sim.scenario import compile_scenario

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")
RUN_ONLY_KEYS = ("seed", "n_seeds", "quiet", "trajectories", "chunk_size", "output", "hydra")


def load_config(overrides: list[str] | None = None, config_name: str = "config") -> DictConfig:
    """Compose the run configuration from ``conf/`` with command-line style overrides.

    Example: ``load_config(["agenda=phased_plan", "scenario.trust.initial=0.4"])``.
    """
    gh = GlobalHydra.instance()
    if gh.is_initialized():
        gh.clear()
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides or []))


def scenario_file(cfg: DictConfig) -> str:
    return f"conf/scenario/{cfg.scenario.get('name', '?')}.yaml"


def agenda_file(cfg: DictConfig) -> str:
    return f"conf/agenda/{cfg.agenda.get('name', '?')}.yaml"


def settings_from(cfg: DictConfig) -> Settings:
    p = cfg.protocol
    file = f"conf/protocol/{p.get('name', '?')}.yaml"
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


def build(cfg: DictConfig) -> Static:
    """Check a composed configuration and compile it to the kernel's shared arrays.

    Raises:
        ConfigError: naming the file, the key and what was expected.
    """
    sc = compile_scenario(cfg.scenario, file=scenario_file(cfg))
    ag = compile_agenda(cfg.agenda, sc, file=agenda_file(cfg))
    st = make_static(sc, ag, settings_from(cfg))
    why = PROTOCOLS[st.settings.name].check(st)
    if why:
        raise ConfigError(f"conf/protocol/{st.settings.name}.yaml", "protocol",
                          f"a protocol that can run scenario {sc.name}: {why}")
    for key in ("n_seeds", "chunk_size"):
        if int(cfg.get(key, 1)) <= 0:
            raise ConfigError("command line", key, "a positive integer", cfg.get(key))
    return st


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
        for v in axes[k]:
            if not (isinstance(v, int | float) and (np.isnan(v) or (0 <= v <= (10 if k == "pressure" else 1)))):
                raise ConfigError("command line", f"grid.{k}" if levels else f"conditions.{k}",
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
    st = build(cfg)
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
    return build(load_config(ov))


def to_plain(value: Any) -> Any:
    """JSON-friendly copy of numpy scalars and arrays."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
