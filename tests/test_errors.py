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
        "A": {
            "roles": ["principal"],
            "position": {"x": 0.0, "y": 0.9, "z": 0.5},
            "salience": {"x": 0.8, "y": 0.4, "z": 0.1},
            "reservation_value": 0.3,
            "red_lines": [{"issue": "x", "at_most": 0.8, "unless": {"issue": "y", "at_least": 0.7}}],
        },
        "B": {
            "roles": ["principal"],
            "position": {"x": 1.0, "y": 0.1, "z": 0.5},
            "salience": {"x": 0.8, "y": 0.4, "z": 0.1},
            "reservation_value": 0.3,
            "strategy": {"name": "reciprocal"},
        },
        "M": {
            "roles": ["mediator"],
            "position": {"x": 0.5, "y": 0.5, "z": 0.5},
            "salience": {"x": 0.5, "y": 0.5, "z": 0.5},
            "leverage": {"B": 0.3},
        },
        "G": {
            "roles": ["guarantor"],
            "position": {"x": 0.5, "y": 0.5, "z": 1.0},
            "salience": {"x": 0.2, "y": 0.2, "z": 0.9},
            "credibility": 0.7,
        },
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
    (
        "position_below_range",
        add(["actors", "A", "position", "x"], -0.2),
        "scenario.actors.A.position.x",
        "a position in [0, 1]",
    ),
    (
        "salience_above_range",
        add(["actors", "B", "salience", "y"], 1.5),
        "scenario.actors.B.salience.y",
        "a salience in [0, 1]",
    ),
    (
        "channel_unknown_actor",
        lambda r: r["channels"].append({"between": ["M", "Z"]}),
        "scenario.channels[3].between",
        "actors of this scenario (A, B, M, G)",
    ),
    (
        "channel_to_itself",
        lambda r: r["channels"].append({"between": ["M", "M"]}),
        "scenario.channels[3].between",
        "two different actors",
    ),
    ("channel_weight_zero", add(["channels", 0, "weight"], 0), "scenario.channels[0].weight", "a number in (0, inf]"),
    (
        "leverage_unknown_actor",
        add(["actors", "M", "leverage", "Q"], 0.3),
        "scenario.actors.M.leverage.Q",
        "another actor of this scenario",
    ),
    (
        "leverage_on_itself",
        add(["actors", "M", "leverage", "M"], 0.3),
        "scenario.actors.M.leverage.M",
        "another actor of this scenario",
    ),
    (
        "red_line_missing_issue",
        add(["actors", "B", "red_lines"], [{"issue": "w", "at_least": 0.2}]),
        "scenario.actors.B.red_lines[0].issue",
        "an issue of this scenario (x, y, z)",
    ),
    (
        "red_line_condition_missing_issue",
        add(["actors", "A", "red_lines"], [{"issue": "x", "at_most": 0.8, "unless": {"issue": "w", "at_least": 0.5}}]),
        "scenario.actors.A.red_lines[0].unless.issue",
        "an issue of this scenario",
    ),
    (
        "red_line_two_bounds",
        add(["actors", "B", "red_lines"], [{"issue": "x", "at_least": 0.2, "at_most": 0.9}]),
        "scenario.actors.B.red_lines[0]",
        "exactly one of at_least or at_most",
    ),
    (
        "red_line_bound_out_of_range",
        add(["actors", "B", "red_lines"], [{"issue": "x", "at_least": 1.2}]),
        "scenario.actors.B.red_lines[0].at_least",
        "a number in [0, 1]",
    ),
    (
        "no_principal",
        both(add(["actors", "A", "roles"], ["guarantor"]), add(["actors", "B", "roles"], ["guarantor"])),
        "scenario.actors",
        "at least one actor with the role 'principal'",
    ),
    (
        "mediator_without_principal_channel",
        without_channels_of("M"),
        "scenario.channels",
        "a channel from mediator M to at least one principal",
    ),
    (
        "principal_out_of_reach",
        lambda r: r.update(channels=[{"between": ["M", "A"]}, {"between": ["A", "B"]}]),
        "scenario.channels",
        "a channel from some mediator to principal B",
    ),
    (
        "unknown_role",
        add(["actors", "G", "roles"], ["observer"]),
        "scenario.actors.G.roles",
        "roles from ['principal', 'mediator', 'guarantor']",
    ),
    (
        "missing_position",
        drop(["actors", "A", "position", "y"]),
        "scenario.actors.A.position.y",
        "a position for every issue",
    ),
    (
        "all_saliences_zero",
        add(["actors", "G", "salience"], {"x": 0, "y": 0, "z": 0}),
        "scenario.actors.G.salience",
        "at least one positive salience",
    ),
    (
        "unknown_strategy_parameter",
        add(["actors", "B", "strategy"], {"name": "reciprocal", "params": {"e": 2}}),
        "scenario.actors.B.strategy.params.e",
        "a parameter of strategy reciprocal",
    ),
    (
        "negative_deadline",
        add(["actors", "A", "deadline"], -3),
        "scenario.actors.A.deadline",
        "a whole number of rounds in [0, 100000]",
    ),
    (
        "patience_zero",
        add(["actors", "A", "patience"], 0),
        "scenario.actors.A.patience",
        "a whole number of rounds in [1, 100000]",
    ),
    (
        "patience_infinite",
        add(["actors", "A", "patience"], float("inf")),
        "scenario.actors.A.patience",
        "a whole number of rounds in [1, 100000]",
    ),
    (
        "strength_infinite",
        add(["actors", "A", "red_lines"], [{"issue": "x", "at_least": 0.5, "strength": 1e400}]),
        "scenario.actors.A.red_lines[0].strength",
        "a number (finite)",
    ),
    ("self_weight_infinite", add(["self_weight"], float("inf")), "scenario.self_weight", "a number (finite)"),
    (
        "driver_without_end",
        add(["actors", "A", "outside_option"], [{"what": "w", "per_round": 0.01}]),
        "scenario.actors.A.outside_option[0].until",
        "the round the change stops",
    ),
    (
        "effect_unknown_input",
        add(["on_implement"], {"x": [{"actor": "A", "input": "mood", "add": 0.1}]}),
        "scenario.on_implement.x[0].input",
        "one of reservation_value, delay_cost, pressure",
    ),
    (
        "collapse_plus_suspend",
        add(["shocks"], {"rate": 0.1, "collapse": 0.6, "suspend": 0.6}),
        "scenario.shocks.suspend",
        "collapse + suspend <= 1",
    ),
    (
        "trust_pair_unknown_actor",
        add(["trust", "pairs"], {"A": {"Q": 0.4}}),
        "scenario.trust.pairs.A.Q",
        "an actor of this scenario",
    ),
    (
        "guarantee_issue_unknown",
        add(["commitment", "guarantee_issue"], "w"),
        "scenario.commitment.guarantee_issue",
        "an issue of this scenario",
    ),
    ("utility_unknown", add(["utility"], "cubic"), "scenario.utility", "'linear' or 'quadratic'"),
    (
        "anchor_without_label",
        add(["issues", "x", "anchors"], [{"at": 0.5}]),
        "scenario.issues.x.anchors[0].label",
        "a value (this key is required)",
    ),
    (
        "reservation_value_above_range",
        add(["actors", "B", "reservation_value"], 1.3),
        "scenario.actors.B.reservation_value",
        "a number in [0, 1]",
    ),
    ("shock_rate_above_range", add(["shocks"], {"rate": 2}), "scenario.shocks.rate", "a number in [0, 1]"),
]

# agenda files for the mini scenario (its core issues are x and y; z is not core)
AGENDA_CASES = [
    (
        "phased_leaves_out_core_issue",
        {"name": "bad", "kind": "phased", "phases": [{"issues": ["x", "z"]}]},
        "agenda.phases",
        "every core issue on the agenda (missing: y)",
    ),
    (
        "phased_unknown_issue",
        {"name": "bad", "kind": "phased", "phases": [{"issues": ["x", "y", "w"]}]},
        "agenda.phases[0].issues",
        "an issue of the scenario (x, y, z)",
    ),
    (
        "phase_range_reversed",
        {"name": "bad", "kind": "phased", "phases": [{"issues": ["x", "y"], "ranges": {"x": [0.8, 0.2]}}]},
        "agenda.phases[0].ranges.x",
        "[lo, hi] with 0 <= lo <= hi <= 1",
    ),
    (
        "first_mover_list_wrong_length",
        {"name": "bad", "kind": "phased", "phases": [{"issues": ["x"]}, {"issues": ["y"]}], "first_mover": ["A"]},
        "agenda.first_mover",
        "one name, or a list of 2 (one per phase)",
    ),
    (
        "agenda_kind_unknown",
        {"name": "bad", "kind": "rolling"},
        "agenda.kind",
        "one of ['comprehensive', 'phased', 'sequence']",
    ),
    (
        "sequence_issue_twice",
        {"name": "bad", "kind": "sequence", "order": [["x", "x"], "y"]},
        "agenda.order",
        "each issue once per phase",
    ),
]

# protocol files, run against the default scenario
PROTOCOL_CASES = [
    (
        "steps_per_round_zero",
        {"name": "mediated", "steps_per_round": 0},
        "protocol.steps_per_round",
        "a whole number in [1, 1000]",
    ),
    (
        "window_too_long",
        {"name": "mediated", "max_rounds": 10**7},
        "protocol.max_rounds",
        "a whole number of rounds in [1, 100000] or null",
    ),
    (
        "step0_above_step_max",
        {"name": "mediated", "step0": 0.5, "step_max": 0.2},
        "protocol.step0",
        "a number in (0, step_max]",
    ),
    ("rule_unknown", {"name": "mediated", "rule": "coin_toss"}, "protocol.name", "protocol.rule must be one of"),
]


def rename_actor(old: str, new: str):
    def f(r):
        r["actors"][new] = r["actors"].pop(old)
        for c in r["channels"]:
            c["between"] = [new if x == old else x for x in c["between"]]

    return f


SCENARIO_CASES += [
    (
        "actor_named_mediators",
        rename_actor("M", "mediators"),
        "scenario.actors.mediators",
        "an actor name other than 'mediators'",
    ),
    (
        "integer_key_in_a_mapping",
        add(["actors", "A", "position", 1], 0.5),
        "scenario.actors.A.position.1",
        "a name as the key (text: write it in quotes, '1':)",
    ),
    ("integer_actor_name", add(["actors", 7], {"roles": ["mediator"]}), "scenario.actors.7", "a name as the key"),
    (
        "channel_weight_inf",
        add(["channels", 0, "weight"], float("inf")),
        "scenario.channels[0].weight",
        "a number (finite)",
    ),
    (
        "red_line_strength_inf",
        add(["actors", "A", "red_lines", 0, "strength"], float("inf")),
        "scenario.actors.A.red_lines[0].strength",
        "finite",
    ),
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


@pytest.mark.parametrize(("case", "protocol", "key", "expected"), PROTOCOL_CASES, ids=[c[0] for c in PROTOCOL_CASES])
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
    assert (e.file, e.key, e.expected, e.got) == (
        str(file),
        "protocol.steps_per_round",
        "an integer in [1, 1000]",
        "forty",
    )
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
    (
        "rounds_negative",
        ["protocol.max_rounds=-5"],
        "command-line override protocol.max_rounds=-5 (over conf/protocol/mediated.yaml)",
        "protocol.max_rounds",
        "a whole number of rounds in [1, 100000] or null",
    ),
    (
        "seeds_negative",
        ["n_seeds=-1"],
        "command-line override n_seeds=-1 (over conf/config.yaml)",
        "n_seeds",
        "a positive integer",
    ),
    ("seed_negative", ["seed=-1"], "command-line override seed=-1 (over conf/config.yaml)", "seed", "an integer >= 0"),
    (
        "chunk_size_zero",
        ["chunk_size=0"],
        "command-line override chunk_size=0 (over conf/config.yaml)",
        "chunk_size",
        "a positive integer",
    ),
    (
        "grid_level_out_of_range",
        ["grid.trust=[0.5,2]"],
        "command-line override grid.trust=[0.5,2] (over conf/config.yaml)",
        "grid.trust[1]",
        "a number in [0, 1]",
    ),
    (
        "pressure_out_of_range",
        ["conditions.pressure=11"],
        "command-line override conditions.pressure=11 (over conf/config.yaml)",
        "conditions.pressure",
        "a number in [0, 10]",
    ),
    (
        "salience_override_out_of_range",
        ["scenario.actors.Hamas.salience.governance=3"],
        "command-line override scenario.actors.Hamas.salience.governance=3 "
        "(over conf/scenario/sharm_el_sheikh_2025.yaml)",
        "scenario.actors.Hamas.salience.governance",
        "a salience in [0, 1]",
    ),
    ("seed_not_integer", ["seed=1.5"], "command-line override seed=1.5", "seed", "an integer"),
    ("bool_not_bool", ["quiet=maybe"], "command-line override quiet=maybe", "quiet", "true or false"),
    ("list_expected", ["agenda.order=5"], "command-line override agenda.order=5", "agenda.order", "a list"),
    (
        "roles_not_a_list",
        ["scenario.actors.Israel.roles=principal"],
        "command-line override scenario.actors.Israel.roles=principal",
        "scenario.actors.Israel.roles",
        "a list",
    ),
    (
        "not_null",
        ["protocol.steps_per_round=null"],
        "command-line override protocol.steps_per_round=null",
        "protocol.steps_per_round",
        "a value (not null)",
    ),
    (
        "unknown_scenario",
        ["scenario=gaza"],
        "command-line override scenario=gaza",
        "scenario",
        "one of " + ", ".join(sorted(p.stem for p in (ROOT / "conf" / "scenario").glob("*.yaml"))),
    ),
    ("override_syntax", ["n_seeds=[1,"], "command-line override n_seeds=[1,", "n_seeds", "Hydra's override syntax"),
    (
        "unknown_key_in_list_item",
        ["scenario.actors.Israel.red_lines=[{issue:withdrawal,beyond:1}]"],
        "command-line override scenario.actors.Israel.red_lines=[{issue:withdrawal,beyond:1}]",
        "scenario.actors.Israel.red_lines ... beyond",
        "a key of RedLineConf (issue, at_least, at_most",
    ),
    (
        "permutation_out_of_range",
        ["agenda=sequence", "agenda.permutation=24"],
        "command-line override agenda.permutation=24 (over conf/agenda/sequence.yaml)",
        "agenda.permutation",
        "an integer in [0, 23]",
    ),
    (
        "sweep_without_multirun",
        ["scenario.actors.Israel.position.disarmament=0,1"],
        "command-line override scenario.actors.Israel.position.disarmament=0,1",
        "scenario.actors.Israel.position.disarmament",
        "a single value (a comma-separated list is a sweep: run with -m)",
    ),
    (
        "protocol_unknown_name",
        ["protocol.name=auction"],
        "command-line override protocol.name=auction (over conf/protocol/mediated.yaml)",
        "protocol.name",
        "one of ['",
    ),
]


@pytest.mark.parametrize(
    ("case", "overrides", "file", "key", "expected"), OVERRIDE_CASES, ids=[c[0] for c in OVERRIDE_CASES]
)
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


# -- numbers the engine cannot hold, and requests that cannot fit --------------------------------

SCENARIO_FILE = "conf/scenario/sharm_el_sheikh_2025.yaml"
NUMBER_CASES = [  # (id, overrides, file, key, expected)
    (
        "self_weight_inf",
        ["scenario.self_weight=inf"],
        f"command-line override scenario.self_weight=inf (over {SCENARIO_FILE})",
        "scenario.self_weight",
        "a number (finite)",
    ),
    (
        "channel_weight_overflows_to_inf",
        ["scenario.channels.0.weight=1e400"],
        f"command-line override scenario.channels.0.weight=1e400 (over {SCENARIO_FILE})",
        "scenario.channels[0].weight",
        "a number (finite)",
    ),
    (
        "trust_nan",
        ["scenario.trust.initial=nan"],
        f"command-line override scenario.trust.initial=nan (over {SCENARIO_FILE})",
        "scenario.trust.initial",
        "a number (finite)",
    ),
    (
        "grid_level_nan",
        ["grid.trust=[0.2,nan]"],
        "command-line override grid.trust=[0.2,nan] (over conf/config.yaml)",
        "grid.trust[1]",
        "a number in [0, 1]",
    ),
    (
        "condition_inf",
        ["conditions.pressure=inf"],
        "command-line override conditions.pressure=inf (over conf/config.yaml)",
        "conditions.pressure",
        "a number in [0, 10]",
    ),
    (
        "max_rounds_1e7",
        ["protocol.max_rounds=1e7"],
        "command-line override protocol.max_rounds=1e7 (over conf/protocol/mediated.yaml)",
        "protocol.max_rounds",
        "a whole number of rounds in [1, 100000]",
    ),
    (
        "steps_per_round_1e6",
        ["protocol.steps_per_round=1e6"],
        "command-line override protocol.steps_per_round=1e6",
        "protocol.steps_per_round",
        "an integer in [1, 1000]",
    ),
    (
        "steps_per_round_huge",
        ["protocol.steps_per_round=1000000"],
        "command-line override protocol.steps_per_round=1000000 (over conf/protocol/mediated.yaml)",
        "protocol.steps_per_round",
        "a whole number in [1, 1000]",
    ),
    ("seed_1e20", ["seed=1e20"], "command-line override seed=1e20", "seed", "an integer in [0, 9223372036854775807]"),
    (
        "seed_beyond_64_bits",
        ["seed=100000000000000000000"],
        "command-line override seed=100000000000000000000 (over conf/config.yaml)",
        "seed",
        "an integer in [0, 9223372036854775807]",
    ),
    (
        "last_seed_beyond_64_bits",
        ["seed=9223372036854775807", "n_seeds=2"],
        "command-line override seed=9223372036854775807 (over conf/config.yaml)",
        "seed",
        "an integer in [0, 9223372036854775806]",
    ),
    (
        "deadline_1e19",
        ["scenario.actors.Israel.deadline=1e19"],
        f"command-line override scenario.actors.Israel.deadline=1e19 (over {SCENARIO_FILE})",
        "scenario.actors.Israel.deadline",
        "a whole number of rounds in [0, 100000]",
    ),
    (
        "n_seeds_beyond_memory",
        ["n_seeds=1000000000"],
        "command-line override n_seeds=1000000000 (over conf/config.yaml)",
        "n_seeds",
        "a job whose results fit in memory: 1,000,000,000 runs x 5 actors x 6 issues need about",
    ),
]


@pytest.mark.parametrize(
    ("case", "overrides", "file", "key", "expected"), NUMBER_CASES, ids=[c[0] for c in NUMBER_CASES]
)
def test_number_out_of_range(tmp_path, negotiate_cmd, case, overrides, file, key, expected):
    with pytest.raises(ConfigError) as err:
        build(load_config(overrides), overrides)
    e = err.value
    assert (e.file, e.key) == (file, key)
    assert expected in e.expected
    msg = cli_error(negotiate_cmd, overrides, tmp_path)
    if case == "n_seeds_beyond_memory":  # the memory free may change between the two processes
        msg, e = msg.split(" need about")[0], str(e).split(" need about")[0]
    assert msg == str(e)


def test_memory_refusal_names_what_fits():
    from sim.sweep import bytes_per_run, check_fits_in_memory

    cfg = load_config(["n_seeds=1000", "grid.trust=[0.2,0.4]"])
    per = bytes_per_run(5, 6)
    check_fits_in_memory(cfg, 5, 6, available=int(2000 * per / 0.8) + 1)  # 2,000 runs fit
    with pytest.raises(ConfigError) as err:
        check_fits_in_memory(cfg, 5, 6, available=int(1000 * per / 0.8) + 1)  # 1,000 runs fit, not 2,000
    e = err.value
    assert e.key == "n_seeds" and e.got == 1000
    assert "2,000 runs x 5 actors x 6 issues" in e.expected
    assert "run at most n_seeds=500 per job" in e.expected and "seed=0,500,1000" in e.expected


# -- grid values, checked before the first job -----------------------------------------------

GRID_CASES = [  # (id, overrides, key, expected)
    (
        "first_mover_unknown",
        ["grid.first_mover=[Nobody]"],
        "grid.first_mover[0]",
        "'mediators' or an actor (Israel, Hamas, US, Qatar, Egypt)",
    ),
    (
        "first_mover_third_unknown",
        ["grid.first_mover=[mediators,Qatar,Nobody]"],
        "grid.first_mover[2]",
        "'mediators' or an actor",
    ),
    (
        "agenda_unknown",
        ["grid.agenda=[comprehensive,nonsense]"],
        "grid.agenda",
        "an agenda choice (order_00 ... order_119, comprehensive",
    ),
]


@pytest.mark.parametrize(("case", "overrides", "key", "expected"), GRID_CASES, ids=[c[0] for c in GRID_CASES])
def test_bad_grid_value_fails_before_any_job(tmp_path, negotiate_cmd, case, overrides, key, expected):
    from sim.job import check_grid_overrides, run_agendas

    cfg = load_config(overrides)
    with pytest.raises(ConfigError) as err:
        check_grid_overrides(cfg, [str(ROOT / "conf")], overrides)
    e = err.value
    assert (e.file, e.key) == (f"command-line override {overrides[0]} (over conf/config.yaml)", key)
    assert expected in e.expected
    with pytest.raises(ConfigError) as err:  # the job body says the same (the config file, no override known)
        run_agendas(cfg)
    assert (err.value.key, err.value.expected) == (key, e.expected)
    msg = cli_error(negotiate_cmd, ["-m", "n_seeds=2", "seed=0,1", *overrides], tmp_path)
    assert msg == str(e)


def test_bad_grid_value_in_an_experiment_names_the_experiment(tmp_path, negotiate_cmd):
    ov = ["experiment=atlas_smoke", "grid.first_mover=[mediators,Nobody]"]
    msg = cli_error(negotiate_cmd, ["-m", *ov], tmp_path)
    assert msg.startswith(
        "command-line override grid.first_mover=[mediators,Nobody] "
        "(over conf/experiment/atlas_smoke.yaml): grid.first_mover[1]: expected"
    )


# -- limits on what is read: checked before any parser sees the file ---------------------------


def laughs(levels: int = 7, width: int = 9) -> str:
    """Nested anchors: each level lists the one below ``width`` times (9**7 values from 400 bytes)."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * width)}]" for k in range(1, levels + 1)]
    return "name: laughs\ndescription: nested anchors\n" + "\n".join(lines) + "\n"


READ_CASES = [  # (id, file content (bytes or a function of the path), key, expected, got)
    (
        "nested_anchors",
        lambda p: p.write_text(laughs()),
        "line ",
        "at most 100,000 values once aliases",
        "more than 100,000",
    ),
    (
        "deep_list_10000",
        lambda p: p.write_text("name: deep\ndescription: " + "[" * 10_000 + "]" * 10_000 + "\n"),
        "line 2,",
        "nested at most 50 levels deep",
        "more than 50",
    ),
    (
        "fifty_megabytes",
        lambda p: p.write_bytes(b"name: big\ndescription: '" + b"x" * 50_000_000 + b"'\n"),
        "file",
        "a config file of at most 1 MB",
        "50.0 MB",
    ),
    (
        "latin_1",
        lambda p: p.write_bytes("name: mini\ndescription: caf\xe9 cr\xe8me\n".encode("latin-1")),
        "encoding",
        "UTF-8 text (save the file as UTF-8; Latin-1 is not UTF-8)",
        "byte 0xe9 on line 2",
    ),
    ("utf_16", lambda p: p.write_bytes("name: mini\n".encode("utf-16")), "encoding", "UTF-8 text", "UTF-16 text"),
    (
        "utf_16_without_bom",
        lambda p: p.write_bytes("name: mini\ntitle: x\n".encode("utf-16-le")),
        "encoding",
        "UTF-8 text",
        "UTF-16 text",
    ),
    ("binary", lambda p: p.write_bytes(bytes(range(256)) * 8), "encoding", "UTF-8 text", "binary data (NUL bytes)"),
]


@pytest.mark.parametrize(("case", "write", "key", "expected", "got"), READ_CASES, ids=[c[0] for c in READ_CASES])
def test_unreadable_yaml_is_refused_before_parsing(confdir, tmp_path, negotiate_cmd, case, write, key, expected, got):
    import time

    from sim.config import check_yaml_file

    file = confdir / "scenario" / "bad.yaml"
    write(file)
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        check_yaml_file(file)
    assert time.perf_counter() - t0 < 1.0, "the check takes under a second"
    e = err.value
    assert e.file == str(file) and e.key.startswith(key) and expected in e.expected and e.got == got, str(e)
    with pytest.raises(ConfigError) as err:  # through the API: Hydra never parses the file
        load_config([searchpath(confdir), "scenario=bad"])
    assert str(err.value) == str(e)
    assert cli_error(negotiate_cmd, ["--config-dir", str(confdir), "scenario=bad"], tmp_path) == str(e)


def test_read_limits_leave_real_files_alone():
    from sim.config import MAX_YAML_BYTES, check_yaml_file

    for p in (ROOT / "conf").rglob("*.yaml"):
        check_yaml_file(p)  # every shipped config passes
        assert p.stat().st_size < MAX_YAML_BYTES / 20


def test_anchors_within_the_limit_still_load(confdir):
    raw = copy.deepcopy(MINI)
    raw["actors"]["B"]["salience"] = raw["actors"]["A"]["salience"]  # one mapping twice: an anchor and an alias
    text = yaml.safe_dump(raw, sort_keys=False)
    assert "&id001" in text and "*id001" in text
    (confdir / "scenario" / "anchors.yaml").write_text(text)
    st = build(load_config([searchpath(confdir), "scenario=anchors", "agenda.first_mover=A"]))
    assert st.sc.actors == ("A", "B", "M", "G")


@pytest.mark.parametrize("where", ["/etc/passwd", "/nonexistent/conf"])
def test_config_dir_that_is_not_a_directory(tmp_path, negotiate_cmd, where):
    msg = cli_error(negotiate_cmd, ["--config-dir", where, "n_seeds=2"], tmp_path)
    assert (
        msg == f"command line: --config-dir: expected a directory of config files (scenario/, agenda/, ...), "
        f"got '{where}'"
    )
