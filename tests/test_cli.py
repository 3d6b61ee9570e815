"""The `negotiate` command as a user runs it: outputs, determinism, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import run_cli

GOLDEN = Path(__file__).parent / "golden" / "default_summary.json"
ROOT = Path(__file__).resolve().parent.parent


def only_dir(root: Path) -> Path:
    found = sorted(p.parent for p in root.rglob("result.json"))
    assert len(found) == 1, found
    return found[0]


def test_default_run_prints_summary_and_writes_results(tmp_path, negotiate_cmd):
    res = run_cli(negotiate_cmd, [], tmp_path)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    for needle in ("Outcome:", "Israel", "Hamas", "reservation", "Agenda comprehensive"):
        assert needle in out
    d = only_dir(tmp_path / "outputs")
    rec = json.loads((d / "result.json").read_text())
    for key in (
        "agreement",
        "phases_agreed",
        "rounds",
        "terms",
        "utilities",
        "reservation_values",
        "nash_product",
        "breakdown_reason",
        "seed",
        "config_hash",
    ):
        assert key in rec
    runs = pd.read_parquet(d / "runs.parquet")
    assert len(runs) == 1 and runs.seed.iloc[0] == 0


def test_same_seed_identical_result_json(tmp_path, negotiate_cmd):
    blobs = []
    for k in range(2):
        wd = tmp_path / str(k)
        wd.mkdir()
        res = run_cli(negotiate_cmd, ["seed=11", "agenda=phased_plan", "quiet=true"], wd)
        assert res.returncode == 0, res.stderr
        blobs.append((only_dir(wd / "outputs") / "result.json").read_bytes())
    assert blobs[0] == blobs[1]


def test_n_seeds_prints_rate_with_interval(tmp_path, negotiate_cmd):
    res = run_cli(negotiate_cmd, ["n_seeds=30"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert "95% Wilson interval" in res.stdout
    runs = pd.read_parquet(only_dir(tmp_path / "outputs") / "runs.parquet")
    assert list(runs.seed) == list(range(30))


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (
            ["scenario.actors.Israel.salience.disarmamnet=0.5"],
            [
                "conf/scenario/sharm_el_sheikh_2025.yaml",
                "scenario.actors.Israel.salience.disarmamnet",
                "expected a key of scenario.actors.Israel.salience (disarmament, withdrawal",
            ],
        ),
        (
            ["scenario.actors.Israel.position.disarmament=1.4"],
            ["scenario.actors.Israel.position.disarmament", "expected a position in [0, 1]", "1.4"],
        ),
        (["scenario.actors.Israel.salinece=0.5"], ["scenario.actors.Israel.salinece"]),
        (["n_seeds=abc"], ["n_seeds"]),
        (["agenda=nonsense"], ["agenda"]),
    ],
)
def test_bad_input_exits_2_with_one_clear_message(tmp_path, negotiate_cmd, args, needles):
    res = run_cli(negotiate_cmd, args, tmp_path)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    err = res.stderr.strip()
    assert err.startswith("negotiate: error:") and len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err


def test_golden_summary_of_default_scenario():
    """A few seeds of the default scenario, against results kept in a file.

    Regenerate deliberately with `python -m tests.test_cli` after a change to the model.
    """
    assert json.loads(GOLDEN.read_text()) == golden_now()


def test_help_fits_one_screen_and_comes_fast(tmp_path, negotiate_cmd):
    """Our own --help: about 40 lines, the groups with their choices, the common keys, examples."""
    t0 = time.perf_counter()
    res = run_cli(negotiate_cmd, ["--help"], tmp_path)
    took = time.perf_counter() - t0
    assert res.returncode == 0, res.stderr
    out = res.stdout
    lines = out.splitlines()
    assert len(lines) <= 45 and max(map(len, lines)) <= 100, (len(lines), max(map(len, lines)))
    assert "powered by Hydra" not in out and "== Config ==" not in out
    for needle in (
        "scenario",
        "sharm_el_sheikh_2025*",
        "comprehensive*",
        "mediated*",
        "phased_plan",
        "sequence_atlas",
        "order_00 ... order_119",
        "calibration",
        "round_2023_11",
        "Examples:",
        "--hydra-help",
        "n_seeds=",
        "agenda.order=",
        "protocol.rule=",
    ):
        assert needle in out, needle
    keys = out.split("Keys people change most")[1].split("Examples:")[0].strip().splitlines()[1:]
    assert len(keys) == 10, keys
    assert "order_100" not in out and "order_11," not in out  # one numeric range, not 120 names
    # the calibration and test scenarios are on their own line, not among the main choices
    main_line = next(line for line in lines if line.strip().startswith("scenario"))
    assert "round_" not in main_line and "split_the_pie" not in main_line
    assert took < 3, f"negotiate --help took {took:.2f} s"


def test_help_does_not_load_the_simulator():
    """--help is answered before numba, pandas or the kernel are imported (the 1 s budget)."""
    code = (
        "import sys; from sim.usage import help_text; help_text(); "
        "print(sorted(m for m in ('numba', 'pandas', 'sim.kernel', 'sim.api', 'mesa') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]", res.stdout


def test_help_orders_numbered_choices_numerically():
    from sim.usage import _numbered, group_choices

    agendas = group_choices("agenda")
    orders = [a for a in agendas if a.startswith("order_")]
    assert orders[:3] == ["order_00", "order_01", "order_02"] and orders[-1] == "order_119"
    assert orders.index("order_11") < orders.index("order_100")
    assert [x for x in _numbered(agendas) if "order" in x] == ["order_00 ... order_119 (120 orders of the core issues)"]


def test_hydra_help_is_still_there(tmp_path, negotiate_cmd):
    res = run_cli(negotiate_cmd, ["--hydra-help"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Hydra" in res.stdout and "--multirun" in res.stdout


@pytest.mark.parametrize(
    ("args", "hidden", "needles"),
    [
        (
            ["-m", "hydra/launcher=submitit_local", "n_seeds=2"],
            "hydra_plugins.hydra_submitit_launcher",
            ["command-line override hydra/launcher=submitit_local", "'submitit'", '"negotiation-sim[submitit]"'],
        ),
        (
            ["-m", "hydra/launcher=ray", "n_seeds=2"],
            "hydra_plugins.hydra_ray_launcher",
            ["hydra/launcher: ray needs the optional extra 'ray'"],
        ),
    ],
)
def test_missing_extra_named_in_one_line(tmp_path, args, hidden, needles):
    """A launcher or sweeper from an extra that is not installed: one line naming the extra."""
    code = (
        f"import sys; sys.modules[{hidden!r}] = None; "  # as if the plugin were not installed
        f"from sim.cli import main; main({args!r})"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, (res.stdout, res.stderr)
    err = res.stderr.strip()
    assert err.startswith("negotiate: error:") and len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, (n, err)


def golden_now() -> dict:
    from sim.api import load_config, run

    out = {}
    for agenda in ("comprehensive", "phased_plan"):
        rs = run(load_config([f"agenda={agenda}", "n_seeds=5"]))
        out[agenda] = [
            {k: rec[k] for k in ("seed", "outcome", "rounds", "phases_agreed", "terms", "breakdown_reason")}
            for rec in (rs.record(i) for i in range(5))
        ]
    return json.loads(json.dumps(out))


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(golden_now(), indent=1) + "\n")
    print(f"wrote {GOLDEN}")
