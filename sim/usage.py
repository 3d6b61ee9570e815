"""``negotiate --help``: one screen on what the command does and what to change.

Hydra's own help lists every choice of every config group in string order and then the
whole config (about 700 lines); this one fits a screen: the config groups with their
choices (the generated ``order_NN`` agendas as one numeric range, calibration and test
cases on lines of their own), the keys people change most, examples, and where Hydra's
help is (``--hydra-help``). It is the console script's entry point, so ``--help`` is
answered before the simulator (numba, pandas) is imported.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"

# Scenarios that check the engine against theory or another tool rather than describe talks.
TECHNICAL_SCENARIOS = frozenset(
    {
        "bilateral_three_issues",
        "bilateral_zeuthen",
        "ks_ir_utopia",
        "ks_ir_utopia_two_issues",
        "logroll",
        "negmas_bilateral",
        "split_the_pie",
        "symmetric",
    }
)
# The keys people change most (README, "Running it"), with what each does.
COMMON_KEYS = (
    ("n_seeds=200", "seeds to run: agreement rate, 95% Wilson interval"),
    ("seed=0", "the first seed (same seed, same result)"),
    ("agenda.order=[a,b,c,d]", "phase order of agenda=sequence (core issues)"),
    ("agenda.first_mover=Hamas", "who opens each phase (an actor, or mediators)"),
    ("scenario.trust.initial=0.5", "trust between the principals at the start"),
    ("conditions.pressure=2", "x the pressure of actors with leverage"),
    ("conditions.credibility=0.9", "the guarantors' credibility (null: scenario's)"),
    ("scenario.shocks.rate=0", "chance of a shock each round"),
    ("protocol.rule=kalai_smorodinsky", "drafting rule (nash, split_the_difference, ...)"),
    ("protocol.max_rounds=200", "observation window (null: twice the horizon)"),
)
EXAMPLES = (
    "negotiate n_seeds=200 agenda=phased_plan",
    "negotiate agenda=sequence agenda.order=[governance,withdrawal,guarantees,disarmament]",
    "negotiate -m experiment=sequence_atlas     # a sweep (Hydra multirun); then negotiate-report",
    "negotiate search --n-seeds 100             # the sequence search as design tables (--help)",
    "negotiate --cfg job                        # print the composed config and exit",
)


def _natural(name: str) -> tuple:
    """Sort key that puts order_2 before order_10."""
    return tuple(int(s) if s.isdigit() else s for s in re.split(r"(\d+)", name))


def group_choices(group: str) -> list[str]:
    """The choices of a config group: its YAML files in conf/ and its ConfigStore nodes, in natural order."""
    from hydra.core.config_store import ConfigStore

    import sim.sweep  # noqa: F401  (registers the generated agenda choices order_00 ...)

    names = {f.stem for f in (CONF_DIR / group).glob("*.yaml")}
    names |= {
        n.removesuffix(".yaml")
        for n in ConfigStore.instance().repo.get(group, {})
        if n.endswith(".yaml") and not n.removesuffix(".yaml").endswith("_schema")
    }
    return sorted(names, key=_natural)


def _numbered(names: list[str]) -> list[str]:
    """Runs of ``prefix_NN`` choices shortened to ``prefix_00 ... prefix_119 (120)``, in numeric order."""
    runs: dict[str, list[str]] = {}
    out: list[str] = []
    for n in names:
        m = re.fullmatch(r"(order)_\d+", n)
        if m:
            if m[1] not in runs:
                runs[m[1]] = []
                out.append(m[1])
            runs[m[1]].append(n)
        else:
            out.append(n)
    return [f"{r[0]} ... {r[-1]} ({len(r)} orders of the core issues)" if (r := runs.get(n)) else n for n in out]


def _wrap(label: str, items: list[str], tail: str = "", width: int = 88) -> list[str]:
    """``label`` then the items, comma-separated (then ``tail``), wrapped under a hanging indent."""
    lines, line = [], f"  {label:<11}"
    pieces = [item + ("," if k < len(items) - 1 else "") for k, item in enumerate(items)]
    for piece in pieces + ([tail] if tail else []):
        if len(line) + len(piece) + 1 > width and line.strip() != label:
            lines.append(line.rstrip())
            line = " " * 13
        line += piece + " "
    return lines + [line.rstrip()]


def help_text() -> str:
    """``negotiate --help``: one screen (about 40 lines) in place of Hydra's 700."""
    defaults = {"scenario": "sharm_el_sheikh_2025", "agenda": "comprehensive", "protocol": "mediated"}
    cfg = CONF_DIR / "config.yaml"
    for line in cfg.read_text().splitlines():
        m = re.match(r"\s*-\s*(scenario|agenda|protocol):\s*(\w+)", line)
        if m:
            defaults[m[1]] = m[2]

    def mark(group: str, names: list[str]) -> list[str]:
        """The default first, starred."""
        d = defaults.get(group)
        return [d + "*"] * (d in names) + [n for n in names if n != d]

    scen = group_choices("scenario")
    calib = [n for n in scen if n.startswith("round_") or n.endswith("_base")]
    tech = [n for n in scen if n in TECHNICAL_SCENARIOS]
    main_s = [n for n in scen if n not in calib and n not in tech]
    agendas = group_choices("agenda")
    calib_a = [n for n in agendas if n.startswith("round_")]
    main_a = [n for n in agendas if n not in calib_a]
    out = [
        "usage: negotiate [group=choice ...] [key=value ...] [-m] [--debug] [--help] [--hydra-help]",
        "",
        "Simulate a mediated negotiation: a scenario (actors, issues, red lines), an agenda (the",
        "order of the talks) and a protocol, for n_seeds seeds. Prints a summary and writes",
        "result.json and runs.parquet into outputs/<date>/<time>/. With -m, a comma-separated",
        "list of values is a sweep (one job per combination, into multirun/).",
        "",
        "Config groups (group=choice; * marks the default):",
        *_wrap("scenario", mark("scenario", main_s)),
        *_wrap("agenda", mark("agenda", _numbered(main_a))),
        *_wrap("protocol", mark("protocol", group_choices("protocol"))),
        *_wrap("experiment", group_choices("experiment"), "(sweeps: with -m)"),
        "  calibration (the earlier rounds) and technical (theory and test cases):",
        *_wrap("scenario", calib + tech),
        *_wrap("agenda", calib_a),
        "",
        "Keys people change most (key=value; any key of the config works, dotted):",
        *(f"  {k:<33}{what}" for k, what in COMMON_KEYS),
        "",
        "Examples:",
        *(f"  {e}" for e in EXAMPLES),
        "",
        "Also: negotiate-report, -validate, -explore, -calibrate, -dashboard (each has --help).",
        "Hydra's own help and flags (--cfg, --info, --multirun, launchers): negotiate --hydra-help",
        "Documentation: README.md and docs/ (the config reference is docs/config.md).",
    ]
    return "\n".join(out)


# Hydra plugins that come with an optional extra: (config group, choice prefix) -> (module, extra).
PLUGINS = {
    ("hydra/launcher", "submitit"): ("hydra_plugins.hydra_submitit_launcher", "submitit"),
    ("hydra/launcher", "ray"): ("hydra_plugins.hydra_ray_launcher", "ray"),
}


def _plugin_choices(argv: list[str]) -> list[tuple[str, str, str]]:
    """(group, choice, where) of every launcher or sweeper a command line asks for,
    directly (``hydra/launcher=submitit_local``) or through an experiment's defaults."""
    found = []
    for a in argv:
        key, eq, value = a.lstrip("+~").partition("=")
        if not eq:
            continue
        if key in ("hydra/launcher", "hydra/sweeper"):
            found.append((key, value, f"command-line override {a}"))
        elif key == "experiment" and re.fullmatch(r"[\w-]+", value):
            f = CONF_DIR / "experiment" / f"{value}.yaml"
            if f.is_file():
                for m in re.finditer(
                    r"^\s*-\s*override\s+/?(hydra/(?:launcher|sweeper)):\s*(\w+)", f.read_text(), re.MULTILINE
                ):
                    found.append((m[1], m[2], f"conf/experiment/{value}.yaml (command-line override {a})"))
    return found


def missing_extra(argv: list[str]) -> str | None:
    """One line naming the optional extra a launcher or sweeper of the command line needs, if it
    is not installed (Hydra would say only "Could not find 'hydra/launcher/submitit_local'")."""
    from importlib.util import find_spec

    for group, choice, where in _plugin_choices(argv):
        for (g, prefix), (module, extra) in PLUGINS.items():
            if g == group and choice.startswith(prefix):
                try:
                    present = find_spec(module) is not None
                except (ImportError, ValueError):
                    present = False
                if not present:
                    return (
                        f"{where}: {group}: {choice} needs the optional extra '{extra}': "
                        f'pip install "negotiation-sim[{extra}]" (in a checkout: pip install -e ".[{extra}]")'
                    )
    return None


def print_help() -> None:
    """Print the help; a reader that stops early (``negotiate --help | head``) is no error."""
    try:
        print(help_text(), flush=True)
    except BrokenPipeError:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main() -> None:
    """Entry point of the `negotiate` console script: our help, else :func:`sim.cli.main`."""
    if "--help" in sys.argv[1:] or "-h" in sys.argv[1:]:
        print_help()
        return
    from sim.cli import main as run_main

    run_main()
