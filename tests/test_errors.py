"""Bad input, one case per row: the Python API raises ConfigError naming the file, the key
and what was expected; the `negotiate` command exits 2 with that one line and no traceback.

Files come from a temporary config directory (added to Hydra's search path), so each
case is a real YAML file that a user could have written: the message must name that
file. Cases already covered in test_scenario.py and test_cli.py are not repeated here.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.api import build, load_config
from sim.errors import ConfigError
from tests.conftest import ROOT, run_cli

MINI: dict[str, Any] = {
    "name": "mini",
    "title": "Two principals, a mediator and a guarantor",
    "issues": {
        "x": {"status_quo": 0.5, "anchors": [{"at": 0.0, "label": "A's end"}, {"at": 1.0, "label": "B's end"}]},
        "y": {"status_quo": 0.2},
        "z": {"core": False, "status_quo": 0.0},
    },
    "channels": [{"between": ["M", "A"]}, {"between": ["M", "B"], "weight": 0.5}, {"between": ["G", "A"]}],
    "actors": {
        "A": {"roles": ["principal"], "position": {"x": 0.0, "y": 0.9, "z": 0.5},
              "salience": {"x": 0.8, "y": 0.4, "z": 0.1}, "reservation_value": 0.3,
              "red_lines": [{"issue": "x", "at_most": 0.8, "unless": {"issue": "y", "at_least": 0.7}}]},
        "B": {"roles": ["principal"], "position": {"x": 1.0, "y": 0.1, "z": 0.5},
              "salience": {"x": 0.8, "y": 0.4, "z": 0.1}, "reservation_value": 0.3,
              "strategy": {"name": "reciprocal"}},
        "M": {"roles": ["mediator"], "position": {"x": 0.5, "y": 0.5, "z": 0.5},
              "salience": {"x": 0.5, "y": 0.5, "z": 0.5}, "leverage": {"B": 0.3}},
        "G": {"roles": ["guarantor"], "position": {"x": 0.5, "y": 0.5, "z": 1.0},
              "salience": {"x": 0.2, "y": 0.2, "z": 0.9}, "credibility": 0.7},
    },
    "commitment": {"guarantee_issue": "z", "strong_end": 1.0},
}


def without_channels_of(actor: str):
    def f(r):
        r["channels"] = [c for c in r["channels"] if actor not in c["between"]]
    return f


def add(path: list[str], value: Any):
    def f(r):
        node = r
        for k in path[:-1]:
            node = node[k] if isinstance(k, int) else node.setdefault(k, {})
        node[path[-1]] = value
    return f


def drop(path: list[str]):
    def f(r):
        node = r
        for k in path[:-1]:
            node = node[k]
        del node[path[-1]]
    return f


def both(*fs):
    def f(r):
        for g in fs:
            g(r)
    return f


# (id, mutation of MINI, key in the message, what the message must say was expected)
SCENARIO_CASES = [
    ("position_below_range", add(["actors", "A", "position", "x"], -0.2),
     "scenario.actors.A.position.x", "a position in [0, 1]"),
    ("salience_above_range", add(["actors", "B", "salience", "y"], 1.5),
     "scenario.actors.B.salience.y", "a salience in [0, 1]"),
    ("channel_unknown_actor", lambda r: r["channels"].append({"between": ["M", "Z"]}),
     "scenario.channels[3].between", "actors of this scenario (A, B, M, G)"),
    ("channel_to_itself", lambda r: r["channels"].append({"between": ["M", "M"]}),
     "scenario.channels[3].between", "two different actors"),
    ("channel_weight_zero", add(["channels", 0, "weight"], 0),
     "scenario.channels[0].weight", "a number in (0, inf]"),
    ("leverage_unknown_actor", add(["actors", "M", "leverage", "Q"], 0.3),
     "scenario.actors.M.leverage.Q", "another actor of this scenario"),
    ("leverage_on_itself", add(["actors", "M", "leverage", "M"], 0.3),
     "scenario.actors.M.leverage.M", "another actor of this scenario"),
    ("red_line_missing_issue", add(["actors", "B", "red_lines"], [{"issue": "w", "at_least": 0.2}]),
     "scenario.actors.B.red_lines[0].issue", "an issue of this scenario (x, y, z)"),
    ("red_line_condition_missing_issue",
     add(["actors", "A", "red_lines"], [{"issue": "x", "at_most": 0.8, "unless": {"issue": "w", "at_least": 0.5}}]),
     "scenario.actors.A.red_lines[0].unless.issue", "an issue of this scenario"),
    ("red_line_two_bounds", add(["actors", "B", "red_lines"], [{"issue": "x", "at_least": 0.2, "at_most": 0.9}]),
     "scenario.actors.B.red_lines[0]", "exactly one of at_least or at_most"),
    ("red_line_bound_out_of_range", add(["actors", "B", "red_lines"], [{"issue": "x", "at_least": 1.2}]),
     "scenario.actors.B.red_lines[0].at_least", "a number in [0, 1]"),
    ("no_principal", both(add(["actors", "A", "roles"], ["guarantor"]), add(["actors", "B", "roles"], ["guarantor"])),
     "scenario.actors", "at least one actor with the role 'principal'"),
    ("mediator_without_principal_channel", without_channels_of("M"),
     "scenario.channels", "a channel from mediator M to at least one principal"),
    ("principal_out_of_reach", lambda r: r.update(channels=[{"between": ["M", "A"]}, {"between": ["A", "B"]}]),
     "scenario.channels", "a channel from some mediator to principal B"),
    ("unknown_role", add(["actors", "G", "roles"], ["observer"]),
     "scenario.actors.G.roles", "roles from ['principal', 'mediator', 'guarantor']"),
    ("missing_position", drop(["actors", "A", "position", "y"]),
     "scenario.actors.A.position.y", "a position for every issue"),
    ("all_saliences_zero", add(["actors", "G", "salience"], {"x": 0, "y": 0, "z": 0}),
     "scenario.actors.G.salience", "at least one positive salience"),
    ("unknown_strategy_parameter", add(["actors", "B", "strategy"], {"name": "reciprocal", "params": {"e": 2}}),
     "scenario.actors.B.strategy.params.e", "a parameter of strategy reciprocal"),
    ("negative_deadline", add(["actors", "A", "deadline"], -3),
     "scenario.actors.A.deadline", "a whole number of rounds in [0, 100000]"),
    ("patience_zero", add(["actors", "A", "patience"], 0),
     "scenario.actors.A.patience", "a whole number of rounds in [1, 100000]"),
    ("patience_infinite", add(["actors", "A", "patience"], float("inf")),
     "scenario.actors.A.patience", "a whole number of rounds in [1, 100000]"),
    ("strength_infinite", add(["actors", "A", "red_lines"], [{"issue": "x", "at_least": 0.5, "strength": 1e400}]),
     "scenario.actors.A.red_lines[0].strength", "a number (finite)"),
    ("self_weight_infinite", add(["self_weight"], float("inf")), "scenario.self_weight", "a number (finite)"),
    ("driver_without_end", add(["actors", "A", "outside_option"], [{"what": "w", "per_round": 0.01}]),
     "scenario.actors.A.outside_option[0].until", "the round the change stops"),
    ("effect_unknown_input", add(["on_implement"], {"x": [{"actor": "A", "input": "mood", "add": 0.1}]}),
     "scenario.on_implement.x[0].input", "one of reservation_value, delay_cost, pressure"),
    ("collapse_plus_suspend", add(["shocks"], {"rate": 0.1, "collapse": 0.6, "suspend": 0.6}),
     "scenario.shocks.suspend", "collapse + suspend <= 1"),
    ("trust_pair_unknown_actor", add(["trust", "pairs"], {"A": {"Q": 0.4}}),
     "scenario.trust.pairs.A.Q", "an actor of this scenario"),
    ("guarantee_issue_unknown", add(["commitment", "guarantee_issue"], "w"),
     "scenario.commitment.guarantee_issue", "an issue of this scenario"),
    ("utility_unknown", add(["utility"], "cubic"), "scenario.utility", "'linear' or 'quadratic'"),
    ("anchor_without_label", add(["issues", "x", "anchors"], [{"at": 0.5}]),
     "scenario.issues.x.anchors[0].label", "a value (this key is required)"),
    ("reservation_value_above_range", add(["actors", "B", "reservation_value"], 1.3),
     "scenario.actors.B.reservation_value", "a number in [0, 1]"),
    ("shock_rate_above_range", add(["shocks"], {"rate": 2}), "scenario.shocks.rate", "a number in [0, 1]"),
]

# agenda files for the mini scenario (its core issues are x and y; z is not core)
AGENDA_CASES = [
    ("phased_leaves_out_core_issue", {"name": "bad", "kind": "phased", "phases": [{"issues": ["x", "z"]}]},
     "agenda.phases", "every core issue on the agenda (missing: y)"),
    ("phased_unknown_issue", {"name": "bad", "kind": "phased", "phases": [{"issues": ["x", "y", "w"]}]},
     "agenda.phases[0].issues", "an issue of the scenario (x, y, z)"),
    ("phase_range_reversed",
     {"name": "bad", "kind": "phased", "phases": [{"issues": ["x", "y"], "ranges": {"x": [0.8, 0.2]}}]},
     "agenda.phases[0].ranges.x", "[lo, hi] with 0 <= lo <= hi <= 1"),
    ("first_mover_list_wrong_length",
     {"name": "bad", "kind": "phased", "phases": [{"issues": ["x"]}, {"issues": ["y"]}], "first_mover": ["A"]},
     "agenda.first_mover", "one name, or a list of 2 (one per phase)"),
    ("agenda_kind_unknown", {"name": "bad", "kind": "rolling"}, "agenda.kind",
     "one of ['comprehensive', 'phased', 'sequence']"),
    ("sequence_issue_twice", {"name": "bad", "kind": "sequence", "order": [["x", "x"], "y"]},
     "agenda.order", "each issue once per phase"),
]

# protocol files, run against the default scenario
PROTOCOL_CASES = [
    ("steps_per_round_zero", {"name": "mediated", "steps_per_round": 0}, "protocol.steps_per_round",
     "a whole number in [1, 1000]"),
    ("window_too_long", {"name": "mediated", "max_rounds": 10**7}, "protocol.max_rounds",
     "a whole number of rounds in [1, 100000] or null"),
    ("step0_above_step_max", {"name": "mediated", "step0": 0.5, "step_max": 0.2}, "protocol.step0",
     "a number in (0, step_max]"),
    ("rule_unknown", {"name": "mediated", "rule": "coin_toss"}, "protocol.name",
     "protocol.rule must be one of"),
]


def write_yaml(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def confdir(tmp_path) -> Path:
    """A config directory on Hydra's search path, holding the valid mini scenario."""
    d = tmp_path / "conf"
    write_yaml(d / "scenario" / "mini.yaml", MINI)
    return d


def searchpath(d: Path) -> str:
    return f"hydra.searchpath=[file://{d}]"


def api_error(overrides: list[str]) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        build(load_config(overrides), overrides)
    return err.value


def cli_error(negotiate_cmd, args: list[str], cwd: Path) -> str:
    res = run_cli(negotiate_cmd, args, cwd)
    assert res.returncode == 2, (res.returncode, res.stdout[-500:], res.stderr[-2000:])
    assert "Traceback" not in res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("negotiate: error: "), err
    assert "$VALUE" not in err
    assert not (cwd / "outputs").exists() and not (cwd / "multirun").exists(), "nothing may run on bad input"
    return err.removeprefix("negotiate: error: ")


def test_mini_scenario_is_valid(confdir):
    st = build(load_config([searchpath(confdir), "scenario=mini"]))
    assert st.sc.actors == ("A", "B", "M", "G")
    assert st.sc.file.endswith("scenario/mini.yaml") and Path(st.sc.file).is_file()


@pytest.mark.parametrize(("case", "mutate", "key", "expected"), SCENARIO_CASES, ids=[c[0] for c in SCENARIO_CASES])
def test_bad_scenario_file(confdir, tmp_path, negotiate_cmd, case, mutate, key, expected):
    raw = copy.deepcopy(MINI)
    mutate(raw)
    file = write_yaml(confdir / "scenario" / "bad.yaml", raw)
    e = api_error([searchpath(confdir), "scenario=bad", "agenda.first_mover=A"])
    assert e.file == str(file)
    assert e.key == key
    assert expected in e.expected
    msg = cli_error(negotiate_cmd, ["--config-dir", str(confdir), "scenario=bad", "agenda.first_mover=A"], tmp_path)
    assert msg == str(e)


@pytest.mark.parametrize(("case", "agenda", "key", "expected"), AGENDA_CASES, ids=[c[0] for c in AGENDA_CASES])
def test_bad_agenda_file(confdir, tmp_path, negotiate_cmd, case, agenda, key, expected):
    file = write_yaml(confdir / "agenda" / "bad.yaml", agenda)
    e = api_error([searchpath(confdir), "scenario=mini", "agenda=bad"])
    assert (e.file, e.key) == (str(file), key)
    assert expected in e.expected
    msg = cli_error(negotiate_cmd, ["--config-dir", str(confdir), "scenario=mini", "agenda=bad"], tmp_path)
    assert msg == str(e)


@pytest.mark.parametrize(("case", "protocol", "key", "expected"), PROTOCOL_CASES,
                         ids=[c[0] for c in PROTOCOL_CASES])
def test_bad_protocol_file(confdir, tmp_path, negotiate_cmd, case, protocol, key, expected):
    file = write_yaml(confdir / "protocol" / "bad.yaml", protocol)
    e = api_error([searchpath(confdir), "protocol=bad"])
    assert (e.file, e.key) == (str(file), key)
    assert expected in e.expected
    msg = cli_error(negotiate_cmd, ["--config-dir", str(confdir), "protocol=bad"], tmp_path)
    assert msg == str(e)


def test_protocol_that_cannot_run_the_scenario_says_which(confdir, tmp_path, negotiate_cmd):
    raw = copy.deepcopy(MINI)
    del raw["actors"]["M"]
    raw["channels"] = [{"between": ["A", "B"]}, {"between": ["G", "A"]}]
    write_yaml(confdir / "scenario" / "nomed.yaml", raw)
    ov = [searchpath(confdir), "scenario=nomed", "agenda.first_mover=A"]
    e = api_error(ov)
    assert (e.file, e.key, e.got) == ("conf/protocol/mediated.yaml", "protocol.name", "mediated")
    assert "a protocol that can run scenario mini" in e.expected
    assert "the mediated protocol needs at least one actor with the role 'mediator'" in e.expected
    msg = cli_error(negotiate_cmd, ["--config-dir", str(confdir), "scenario=nomed", "agenda.first_mover=A"], tmp_path)
    assert msg == str(e)


# -- files that do not parse or do not fit the schema ----------------------------------------

def test_malformed_yaml_names_file_and_line(confdir, tmp_path, negotiate_cmd):
    text = yaml.safe_dump(MINI, sort_keys=False).splitlines()
    at = next(i for i, ln in enumerate(text) if ln.strip().startswith("y:"))
    text[at] = text[at] + " {status_quo: 0.5"  # an unclosed flow mapping
    file = write_yaml(confdir / "scenario" / "broken.yaml", "\n".join(text) + "\n")
    with pytest.raises(ConfigError) as err:
        load_config([searchpath(confdir), "scenario=broken"])
    e = err.value
    assert e.file == str(file)
    assert e.key.startswith("line ") and ", column " in e.key
    line = int(e.key.split()[1].rstrip(","))
    assert at + 1 <= line <= at + 3, (line, at)
    assert e.expected.startswith("valid YAML (")
    msg = cli_error(negotiate_cmd, ["--config-dir", str(confdir), "scenario=broken"], tmp_path)
    assert msg == str(e)


def test_tab_indented_yaml(confdir, tmp_path, negotiate_cmd):
    write_yaml(confdir / "agenda" / "tabs.yaml", "name: tabs\nkind: phased\nphases:\n\t- issues: [x, y]\n")
    with pytest.raises(ConfigError) as err:
        load_config([searchpath(confdir), "scenario=mini", "agenda=tabs"])
    assert err.value.file.endswith("agenda/tabs.yaml") and err.value.key.startswith("line 4,")
    assert "indent with spaces, not tabs" in err.value.expected
    msg = cli_error(negotiate_cmd, ["--config-dir", str(confdir), "scenario=mini", "agenda=tabs"], tmp_path)
    assert msg == str(err.value)


def test_wrong_type_in_a_file(confdir, tmp_path, negotiate_cmd):
    file = write_yaml(confdir / "protocol" / "typo.yaml", {"name": "mediated", "steps_per_round": "forty"})
    with pytest.raises(ConfigError) as err:
        load_config([searchpath(confdir), "protocol=typo"])
    e = err.value
    assert (e.file, e.key, e.expected, e.got) == (str(file), "protocol.steps_per_round", "an integer", "forty")
    assert cli_error(negotiate_cmd, ["--config-dir", str(confdir), "protocol=typo"], tmp_path) == str(e)


def test_unknown_key_in_a_file_lists_the_schema(confdir):
    raw = copy.deepcopy(MINI)
    raw["actors"]["A"]["salinece"] = raw["actors"]["A"].pop("salience")
    file = write_yaml(confdir / "scenario" / "typo.yaml", raw)
    with pytest.raises(ConfigError) as err:
        load_config([searchpath(confdir), "scenario=typo"])
    e = err.value
    assert (e.file, e.key, e.got) == (str(file), "scenario.actors.A.salinece", "salinece")
    assert "a key of ActorConf (label, roles, position, salience," in e.expected


# -- the command line ------------------------------------------------------------------------

# (id, overrides, file/origin in the message, key, expected)
OVERRIDE_CASES = [
    ("rounds_negative", ["protocol.max_rounds=-5"],
     "command-line override protocol.max_rounds=-5 (over conf/protocol/mediated.yaml)",
     "protocol.max_rounds", "a whole number of rounds in [1, 100000] or null"),
    ("seeds_negative", ["n_seeds=-1"], "command-line override n_seeds=-1 (over conf/config.yaml)",
     "n_seeds", "a positive integer"),
    ("seed_negative", ["seed=-1"], "command-line override seed=-1 (over conf/config.yaml)", "seed", "an integer >= 0"),
    ("chunk_size_zero", ["chunk_size=0"], "command-line override chunk_size=0 (over conf/config.yaml)",
     "chunk_size", "a positive integer"),
    ("grid_level_out_of_range", ["grid.trust=[0.5,2]"],
     "command-line override grid.trust=[0.5,2] (over conf/config.yaml)", "grid.trust[1]", "a number in [0, 1]"),
    ("pressure_out_of_range", ["conditions.pressure=11"],
     "command-line override conditions.pressure=11 (over conf/config.yaml)", "conditions.pressure",
     "a number in [0, 10]"),
    ("salience_override_out_of_range", ["scenario.actors.Hamas.salience.governance=3"],
     "command-line override scenario.actors.Hamas.salience.governance=3 (over conf/scenario/sharm_el_sheikh_2025.yaml)",
     "scenario.actors.Hamas.salience.governance", "a salience in [0, 1]"),
    ("seed_not_integer", ["seed=1.5"], "command-line override seed=1.5", "seed", "an integer"),
    ("bool_not_bool", ["quiet=maybe"], "command-line override quiet=maybe", "quiet", "true or false"),
    ("list_expected", ["agenda.order=5"], "command-line override agenda.order=5", "agenda.order", "a list"),
    ("roles_not_a_list", ["scenario.actors.Israel.roles=principal"],
     "command-line override scenario.actors.Israel.roles=principal", "scenario.actors.Israel.roles", "a list"),
    ("not_null", ["protocol.steps_per_round=null"], "command-line override protocol.steps_per_round=null",
     "protocol.steps_per_round", "a value (not null)"),
    ("unknown_scenario", ["scenario=gaza"], "command-line override scenario=gaza", "scenario",
     "one of " + ", ".join(sorted(p.stem for p in (ROOT / "conf" / "scenario").glob("*.yaml")))),
    ("override_syntax", ["n_seeds=[1,"], "command-line override n_seeds=[1,", "n_seeds", "Hydra's override syntax"),
    ("unknown_key_in_list_item", ["scenario.actors.Israel.red_lines=[{issue:withdrawal,beyond:1}]"],
     "command-line override scenario.actors.Israel.red_lines=[{issue:withdrawal,beyond:1}]",
     "scenario.actors.Israel.red_lines ... beyond", "a key of RedLineConf (issue, at_least, at_most"),
    ("permutation_out_of_range", ["agenda=sequence", "agenda.permutation=24"],
     "command-line override agenda.permutation=24 (over conf/agenda/sequence.yaml)", "agenda.permutation",
     "an integer in [0, 23]"),
    ("sweep_without_multirun", ["scenario.actors.Israel.position.disarmament=0,1"],
     "command-line override scenario.actors.Israel.position.disarmament=0,1",
     "scenario.actors.Israel.position.disarmament", "a single value (a comma-separated list is a sweep: run with -m)"),
    ("protocol_unknown_name", ["protocol.name=auction"],
     "command-line override protocol.name=auction (over conf/protocol/mediated.yaml)",
     "protocol.name", "one of ['"),
]


@pytest.mark.parametrize(("case", "overrides", "file", "key", "expected"), OVERRIDE_CASES,
                         ids=[c[0] for c in OVERRIDE_CASES])
def test_bad_override(tmp_path, negotiate_cmd, case, overrides, file, key, expected):
    with pytest.raises(ConfigError) as err:
        build(load_config(overrides), overrides)
    e = err.value
    assert (e.file, e.key) == (file, key)
    assert expected in e.expected
    assert cli_error(negotiate_cmd, overrides, tmp_path) == str(e)


def test_value_from_file_is_not_blamed_on_an_unrelated_override(confdir):
    raw = copy.deepcopy(MINI)
    raw["actors"]["A"]["position"]["x"] = 7
    write_yaml(confdir / "scenario" / "bad.yaml", raw)
    e = api_error([searchpath(confdir), "scenario=bad", "scenario.actors.A.position.y=0.3", "n_seeds=3"])
    assert e.file.endswith("scenario/bad.yaml") and e.key == "scenario.actors.A.position.x"


def test_bad_value_in_a_sweep_fails_before_any_job(tmp_path, negotiate_cmd):
    msg = cli_error(negotiate_cmd, ["-m", "n_seeds=2", "seed=0,1", "grid.pressure=[1],[20]"], tmp_path)
    assert msg.startswith("command-line override grid.pressure=[20] (over conf/config.yaml): grid.pressure[0]: ")


def test_unknown_config_name(tmp_path, negotiate_cmd):
    msg = cli_error(negotiate_cmd, ["--config-name", "nonsense"], tmp_path)
    assert "--config-name" in msg and "nonsense" in msg


def test_debug_shows_the_traceback(tmp_path, negotiate_cmd):
    res = run_cli(negotiate_cmd, ["--debug", "n_seeds=0"], tmp_path)
    assert res.returncode != 0 and "Traceback" in res.stderr and "ConfigError" in res.stderr
