"""The `negotiate` command as a user runs it: outputs, determinism, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import run_cli

GOLDEN = Path(__file__).parent / "golden" / "default_summary.json"


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
    for key in ("agreement", "phases_agreed", "rounds", "terms", "utilities", "reservation_values",
                "nash_product", "breakdown_reason", "seed", "config_hash"):
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
        (["scenario.actors.Israel.salience.disarmamnet=0.5"],
         ["conf/scenario/sharm_el_sheikh_2025.yaml", "scenario.actors.Israel.salience.disarmamnet",
          "expected a key of scenario.actors.Israel.salience (disarmament, withdrawal"]),
        (["scenario.actors.Israel.position.disarmament=1.4"],
         ["scenario.actors.Israel.position.disarmament", "expected a position in [0, 1]", "1.4"]),
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


def golden_now() -> dict:
    from sim.api import load_config, run

    out = {}
    for agenda in ("comprehensive", "phased_plan"):
        rs = run(load_config([f"agenda={agenda}", "n_seeds=5"]))
        out[agenda] = [{k: rec[k] for k in ("seed", "outcome", "rounds", "phases_agreed", "terms",
                                             "breakdown_reason")}
                       for rec in (rs.record(i) for i in range(5))]
    return json.loads(json.dumps(out))


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(golden_now(), indent=1) + "\n")
    print(f"wrote {GOLDEN}")
