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
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from sim.api import (
    CONF_DIR,
    build,
    check_choice_names,
    check_group_files,
    config_dirs,
    hydra_dir,
    load_config,
    search_dirs,
)
from sim.errors import COMMAND_LINE, ConfigError, from_compose_error
from sim.io import check_writable_dir
from sim.job import check_grid_overrides, run_job
from sim.sweep import sweep_failed

_DEBUG = False
HYDRA_FLAGS_WITH_VALUE = {
    "--config-path",
    "-cp",
    "--config-name",
    "-cn",
    "--config-dir",
    "-cd",
    "--experimental-rerun",
    "--info",
    "-i",
    "--package",
    "-p",
    "--cfg",
    "-c",
}


@hydra.main(config_path=CONF_DIR, config_name="config", version_base="1.3")
def app(cfg: DictConfig) -> float:
    """One Hydra job (see :func:`sim.job.run_job`).

    Bad input found inside a job (an unwritable output directory, a full disk) ends it
    with the one-line message and status 2; Hydra would otherwise print a stack trace.
    """
    try:
        return run_job(cfg, Path(HydraConfig.get().runtime.output_dir))
    except ConfigError as e:
        if _DEBUG:
            raise
        print(f"negotiate: error: {e}", file=sys.stderr)
        raise SystemExit(2) from e


def _overrides(argv: list[str]) -> tuple[list[str], str]:
    """The config overrides of a command line (Hydra's own flags and keys left out), and the config name.

    ``--config-dir DIR`` becomes ``hydra.searchpath=[file://DIR]`` so that pre-validation
    sees the same files as the Hydra app; with ``hydra.searchpath=[...]`` as well, the two
    become one override (Hydra reads only the first), in the app's order.
    """
    out, extra_dirs, name = [], [], "config"
    searchpath: list[str] | None = None
    it = iter(argv)
    for a in it:
        if a in HYDRA_FLAGS_WITH_VALUE:
            value = next(it, "")
            if a in ("--config-dir", "-cd"):
                extra_dirs.append(str(Path(value).resolve()))
            elif a in ("--config-name", "-cn"):
                name = value
            continue
        if a.startswith(("--config-dir=", "--config-name=")):
            flag, _, value = a.partition("=")
            if flag == "--config-dir":
                extra_dirs.append(str(Path(value).resolve()))
            else:
                name = value
            continue
        if a.startswith("hydra.searchpath=") and searchpath is not None:
            continue  # Hydra reads the first one only
        if a.startswith("hydra.searchpath="):
            try:
                value = OverridesParser.create().parse_overrides([a])[0].value()
            except Exception:  # noqa: BLE001 - left as it is: composing reports the syntax
                value = None
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                searchpath = value
                continue
        if a.startswith(("hydra.searchpath=", "hydra.run.dir=", "hydra.sweep.dir=")):
            out.append(a)
            continue
        if a.startswith("-") or a.startswith("hydra.") or a.startswith("hydra/") or a.startswith("+hydra"):
            continue
        out.append(a)
    entries = [f"file://{d}" for d in extra_dirs] + (searchpath or [])
    if entries:
        out.append("hydra.searchpath=[" + ",".join(_quoted(e) for e in entries) + "]")
    return out, name


def _quoted(entry: str) -> str:
    """A search path entry as an element of an override list (quoted if it needs to be)."""
    if re.fullmatch(r"[\w./:~+-]+", entry):
        return entry
    return "'" + entry.replace("'", "\\'") + "'"


def explain(e: BaseException) -> str:
    """One line from any error of bad input: the file, the key and what was expected."""
    if isinstance(e, ConfigError):
        return str(e)
    return str(from_compose_error(e, [], [CONF_DIR]))


def check(argv: list[str]) -> None:
    """Compose and validate before Hydra runs, so bad input fails fast and clearly.

    A sweep (``-m``) is checked value by value: each value of each swept key once, with
    the other keys at their first value, so a typo in the 17th value of a list fails
    before the first job starts, at the cost of one check per value rather than per job.

    Config files are data (:func:`sim.api.check_data_file`): every file the run reads, and
    in a sweep every file a sweeper could pick, is checked here, before Hydra starts and
    so before it builds any callback, launcher or sweeper. Group choices must be names
    (:func:`sim.api.check_choice_names`).
    """
    overrides, name = _overrides(argv)
    check_choice_names(overrides)
    for d in search_dirs(overrides)[1:]:  # --config-dir and hydra.searchpath: folders of config files
        if not Path(d).is_dir():
            flag = "--config-dir" if any(a.startswith(("--config-dir", "-cd")) for a in argv) else "hydra.searchpath"
            raise ConfigError("command line", flag, "a directory of config files (scenario/, agenda/, ...)", d)
    try:
        variants = sweep_variants(overrides)
    except HydraException as e:
        raise from_compose_error(e, overrides, search_dirs(overrides)) from e
    multirun = "-m" in argv or "--multirun" in argv
    if not multirun:
        parsed = OverridesParser.create().parse_overrides(overrides)
        for o, text in zip(parsed, overrides, strict=True):
            if o.is_sweep_override():
                raise ConfigError(
                    f"{COMMAND_LINE} {text}",
                    o.get_key_element().lstrip("+~"),
                    "a single value (a comma-separated list is a sweep: run with -m)",
                    text.split("=", 1)[1],
                )
    for k, variant in enumerate(variants):
        cfg = load_config(variant, config_name=name)  # refuses a config file that is not data
        if k == 0 and multirun:  # the sweeper may pick any file: check them all before Hydra starts
            check_group_files(config_dirs(cfg))
        build(cfg, variant)
        check_grid_overrides(cfg, config_dirs(cfg), variant)  # grid.agenda, grid.first_mover
        if k == 0:
            key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
            where = hydra_dir(cfg, key)
            if where:
                o = next((x for x in variant if x.startswith(key + "=")), None)
                check_writable_dir(where, key, f"{COMMAND_LINE} {o}" if o else "conf/config.yaml")


def sweep_variants(overrides: list[str]) -> list[list[str]]:
    """Single-run override lists that together use every value of every swept key."""
    parsed = OverridesParser.create().parse_overrides(overrides)
    fixed, sweeps = [], []
    for o, text in zip(parsed, overrides, strict=True):
        if not o.is_sweep_override():
            fixed.append(text)
            continue
        prefix = text[: len(text) - len(text.lstrip("+~"))]
        try:
            values = list(o.sweep_string_iterator())
        except Exception:  # noqa: BLE001 - glob() and interval(): leave those to the sweeper
            continue
        sweeps.append([f"{prefix}{o.get_key_element()}={v}" for v in values])
    if not sweeps:
        return [fixed]
    first = [vals[0] for vals in sweeps]
    variants = [fixed + first]
    for k, vals in enumerate(sweeps):
        for v in vals[1:]:
            variants.append(fixed + first[:k] + [v] + first[k + 1 :])
    return variants


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `negotiate` console script (and ``python -m sim``)."""
    global _DEBUG
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["search"]:  # the sequence search as design tables (sim.search), no Hydra job per point
        from sim.search import main as search_main

        sys.exit(search_main(argv[1:]))
    _DEBUG = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    if "--help" in argv or "-h" in argv:  # our own, one screen (Hydra's: --hydra-help)
        from sim.usage import print_help

        print_help()
        return
    informational = {
        "--help",
        "-h",
        "--hydra-help",
        "--version",
        "--cfg",
        "-c",
        "--info",
        "-i",
        "--shell-completion",
        "-sc",
    }
    if not informational.intersection(argv):
        from sim.usage import missing_extra

        if need := missing_extra(argv):
            print(f"negotiate: error: {need}", file=sys.stderr)
            sys.exit(2)
        try:
            check(argv)
        except (ConfigError, HydraException, OmegaConfBaseException, yaml.YAMLError) as e:
            if _DEBUG:
                raise
            print(f"negotiate: error: {explain(e)}", file=sys.stderr)
            sys.exit(2)
    multirun = "-m" in argv or "--multirun" in argv
    guard = ["++hydra.callbacks.sweep_guard._target_=sim.sweep.SweepGuard"] if multirun else []
    sys.argv = [sys.argv[0]] + argv + guard  # a sweep locks its directory and fails if a job fails
    try:
        app()
    except KeyboardInterrupt:
        if _DEBUG:
            raise
        print(
            "negotiate: interrupted: nothing more was written (results are written whole when a job "
            "ends; a sweep run again resumes)",
            file=sys.stderr,
        )
        sys.exit(130)
    if multirun and sweep_failed():
        sys.exit(1)


if __name__ == "__main__":
    main()
