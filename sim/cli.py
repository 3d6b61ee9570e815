"""The `negotiate` command: a thin Hydra app around :func:`sim.api.run`.

``negotiate`` runs the default scenario once and prints a summary; any config value can
be changed as ``key=value``; ``-m`` sweeps with Hydra's launchers. Each job writes
``result.json`` and ``runs.parquet`` (one row per seed) into its Hydra output directory.
Bad input exits with status 2 and one message naming the file, the key and what was
expected; ``--debug`` shows the traceback as well.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.api import CONF_DIR, build, load_config
from sim.errors import ConfigError
from sim.job import run_job

HYDRA_FLAGS_WITH_VALUE = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd",
                          "--experimental-rerun", "--info", "-i", "--package", "-p", "--cfg", "-c"}


@hydra.main(config_path=CONF_DIR, config_name="config", version_base="1.3")
def app(cfg: DictConfig) -> float:
    """One Hydra job (see :func:`sim.job.run_job`)."""
    return run_job(cfg, Path(HydraConfig.get().runtime.output_dir))


def _overrides(argv: list[str]) -> list[str]:
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in HYDRA_FLAGS_WITH_VALUE:
            skip = True
            continue
        if a.startswith("-") or a.startswith("hydra.") or a.startswith("hydra/") or a.startswith("+hydra"):
            continue
        out.append(a)
    return out


def explain(e: BaseException) -> str:
    """One line from a Hydra or OmegaConf error: the key and what went wrong."""
    if isinstance(e, ConfigError):
        return str(e)
    parts = []
    cur: BaseException | None = e
    while cur is not None:
        text = str(cur).strip()
        if text:
            first = [ln.strip() for ln in text.splitlines() if ln.strip()]
            key = next((ln.split(":", 1)[1].strip() for ln in first if ln.startswith("full_key:")), None)
            msg = first[0]
            if key and key not in msg:
                msg = f"{key}: {msg}"
            if msg not in parts:
                parts.append(msg)
        cur = cur.__cause__ or cur.__context__
    return "command line / conf: " + "; ".join(parts[:3])


def _unknown_key(e: BaseException, overrides: list[str]) -> ConfigError | None:
    """Turn Hydra's "Could not override 'a.b.c'" into: which keys a.b does have."""
    m = re.search(r"Could not override '([^']+)'", str(e))
    if not m:
        return None
    key = m.group(1)
    parent, _, last = key.rpartition(".")
    try:
        cfg = load_config([o for o in overrides if not o.lstrip("+~").startswith(key)])
        node = OmegaConf.select(cfg, parent) if parent else cfg
    except Exception:  # noqa: BLE001 - fall back to Hydra's own words
        return None
    if node is None or not hasattr(node, "keys"):
        return None
    group = key.split(".")[0]
    file = f"conf/{group}/{cfg[group].get('name', '?')}.yaml" if group in ("scenario", "agenda", "protocol") \
        and hasattr(cfg.get(group), "get") else "conf/config.yaml"
    keys = ", ".join(str(k) for k in node)
    return ConfigError(f"command line over {file}", key, f"a key of {parent or 'the config'} ({keys})", last)


def check(argv: list[str]) -> None:
    """Compose and validate before Hydra runs, so bad input fails fast and clearly."""
    overrides = _overrides(argv)
    try:
        cfg = load_config(overrides)
    except HydraException as e:
        better = _unknown_key(e, overrides)
        if better is not None:
            raise better from e
        raise
    build(cfg)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `negotiate` console script (and ``python -m sim``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    informational = {"--help", "-h", "--hydra-help", "--version", "--cfg", "-c", "--info", "-i",
                     "--shell-completion", "-sc"}
    multirun = "-m" in argv or "--multirun" in argv
    if not multirun and not informational.intersection(argv):
        try:
            check(argv)
        except (ConfigError, HydraException, OmegaConfBaseException, ValueError) as e:
            if debug:
                raise
            print(f"negotiate: error: {explain(e)}", file=sys.stderr)
            sys.exit(2)
    sys.argv = [sys.argv[0]] + argv
    try:
        app()
    except ConfigError as e:  # raised inside a job (e.g. an unwritable output directory)
        if debug:
            raise
        print(f"negotiate: error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
