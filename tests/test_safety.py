"""Safety: configuration files are data, never code; the dashboard stays on this computer unless told.

A scenario file handed round a class must not be able to run anything: no ``eval`` or
``exec`` of config strings, YAML read only with safe loaders (Hydra and OmegaConf use a
SafeLoader subclass), no pickles of configs. The dashboard binds to 127.0.0.1 by default.
"""

from __future__ import annotations

import ast
import copy
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sim.api import load_config
from sim.errors import ConfigError
from tests.conftest import ROOT
from tests.test_errors import MINI, cli_error, searchpath, write_yaml

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_ATTRS = {
    ("yaml", "unsafe_load"),
    ("yaml", "full_load"),
    ("yaml", "unsafe_load_all"),
    ("pickle", "load"),
    ("pickle", "loads"),
    ("marshal", "loads"),
    ("hydra.utils", "instantiate"),
    ("hydra.utils", "call"),
    ("hydra.utils", "get_method"),
    ("hydra.utils", "get_class"),
}


def sources() -> list[Path]:
    return sorted((ROOT / "sim").rglob("*.py"))


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


def test_no_code_evaluation_in_the_package():
    found = []
    for path in sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = dotted(node.func)
                if name in FORBIDDEN_CALLS or name.startswith("builtins."):
                    found.append(f"{path.name}:{node.lineno} {name}()")
                if any(name == f"{m}.{a}" or name.endswith(f".{m}.{a}") for m, a in FORBIDDEN_ATTRS):
                    found.append(f"{path.name}:{node.lineno} {name}()")
                if name in ("yaml.load", "yaml.load_all"):
                    loader = [k.value for k in node.keywords if k.arg == "Loader"] + node.args[1:2]
                    if not loader or "Safe" not in dotted(loader[0]):
                        found.append(f"{path.name}:{node.lineno} {name} without a SafeLoader")
            if isinstance(node, ast.ImportFrom) and node.module in ("pickle", "marshal", "dill"):
                found.append(f"{path.name}:{node.lineno} from {node.module} import ...")
            if isinstance(node, ast.ImportFrom) and node.module == "hydra.utils":
                names = {a.name for a in node.names}
                if names & {"instantiate", "call", "get_method", "get_class"}:
                    found.append(f"{path.name}:{node.lineno} from hydra.utils import {names}")
    assert found == [], "code that could evaluate config strings: " + "; ".join(found)


def test_the_scanner_catches_what_it_looks_for(tmp_path):
    """The scan above is only worth something if it would catch these."""
    bad = "import yaml\nyaml.load(s)\neval(t)\nyaml.load(s, Loader=yaml.SafeLoader)\n"
    tree = ast.parse(bad)
    calls = [dotted(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert calls.count("yaml.load") == 2 and "eval" in calls


def test_yaml_python_tags_are_refused_not_run(tmp_path):
    """A scenario file with a Python object tag is rejected; the command in it never runs."""
    canary = tmp_path / "pwned"
    conf = tmp_path / "conf"
    text = write_yaml(conf / "scenario" / "mini.yaml", MINI).read_text()
    evil = text.replace(
        "title: Two principals", f"title: !!python/object/apply:os.system ['touch {canary}']\n# Two principals", 1
    )
    write_yaml(conf / "scenario" / "evil.yaml", evil)
    with pytest.raises(ConfigError) as err:
        load_config([searchpath(conf), "scenario=evil"])
    assert err.value.file == str(conf / "scenario" / "evil.yaml")
    assert "python/object/apply" in err.value.expected
    assert not canary.exists()


def test_config_strings_are_not_evaluated(tmp_path):
    """A string that looks like code stays a string (here a label, and a strategy name that fails)."""
    conf = tmp_path / "conf"
    raw = {**MINI, "title": "__import__('os').system('true')"}
    write_yaml(conf / "scenario" / "strs.yaml", raw)
    cfg = load_config([searchpath(conf), "scenario=strs"])
    assert cfg.scenario.title == "__import__('os').system('true')"
    with pytest.raises(ConfigError, match=r"strategy.name: expected one of"):
        from sim.api import build

        build(load_config([searchpath(conf), "scenario=strs", "scenario.actors.A.strategy.name=print"]))


# -- config files are data: no hydra: and no _target_ in a scenario, agenda or protocol file ----

DATA_ONLY = "data only: a scenario file may not set hydra: or _target_"
NOT_A_PATH = "a config name (letters, digits, _ . -), not a path"


def evil_scenario(conf: Path, canary: Path, name: str = "evil") -> Path:
    """The mini scenario, plus Hydra callbacks that would write ``canary`` (and could run anything)."""
    body = yaml.safe_dump(
        {
            "scenario": MINI,
            "agenda": {"first_mover": "A"},
            "hydra": {"callbacks": {"pwn": {"_target_": "sim.io.write_text", "path": str(canary), "text": "pwned"}}},
        },
        sort_keys=False,
    )
    return write_yaml(conf / "scenario" / f"{name}.yaml", "# @package _global_\n" + body)


def test_hydra_callbacks_in_a_scenario_file_are_refused(tmp_path):
    canary = tmp_path / "pwned"
    conf = tmp_path / "conf"
    file = evil_scenario(conf, canary)
    with pytest.raises(ConfigError) as err:
        load_config([searchpath(conf), "scenario=evil"])
    assert (err.value.file, err.value.key, err.value.expected) == (str(file), "hydra.callbacks", DATA_ONLY)
    assert not canary.exists()


@pytest.mark.parametrize("multirun", [False, True], ids=["run", "multirun"])
def test_hydra_callbacks_in_a_scenario_file_never_run(tmp_path, negotiate_cmd, multirun):
    canary = tmp_path / "pwned"
    conf = tmp_path / "conf"
    file = evil_scenario(conf, canary)
    args = ["--config-dir", str(conf), "scenario=evil", "n_seeds=1"]
    msg = cli_error(negotiate_cmd, (["-m"] if multirun else []) + args, tmp_path)
    assert msg.startswith(f"{file}: hydra.callbacks: expected {DATA_ONLY}"), msg
    assert not canary.exists()


def test_a_sweep_checks_every_file_it_could_pick(tmp_path, negotiate_cmd):
    """``glob()`` picks files after Hydra has started (a job's ``hydra.job_logging`` builds objects)."""
    canary = tmp_path / "pwned"
    conf = tmp_path / "conf"
    write_yaml(conf / "scenario" / "mini.yaml", MINI)
    text = (
        "# @package _global_\nagenda: {name: evil, kind: comprehensive}\nhydra:\n  job_logging:\n"
        "    version: 1\n    handlers:\n      h: {'()': sim.io.write_text, path: "
        + str(canary)
        + ", text: pwned}\n    root: {handlers: [h]}\n"
    )
    file = write_yaml(conf / "agenda" / "evil.yaml", text)
    msg = cli_error(
        negotiate_cmd, ["-m", "--config-dir", str(conf), "agenda=glob(evil)", "hydra/launcher=basic"], tmp_path
    )
    assert msg.startswith(f"{file}: hydra.job_logging: expected data only: an agenda file"), msg
    assert not canary.exists()


@pytest.mark.parametrize(
    ("group", "text", "key"),
    [
        ("protocol", "# @package hydra.callbacks\npwn:\n  _target_: sim.io.write_text\n", "hydra.callbacks.pwn"),
        ("protocol", "# @package _global_.hydra\nlauncher:\n  n_jobs: 1\n", "hydra.launcher"),
        ("agenda", "name: x\nkind: comprehensive\nfirst_mover: {_target_: os.getcwd}\n", "agenda.first_mover._target_"),
        (
            "agenda",
            "defaults:\n  - override /hydra/launcher: basic\n  - _self_\nname: x\nkind: comprehensive\n",
            "defaults[0]",
        ),
    ],
    ids=["package_hydra_callbacks", "package_global_hydra", "target_in_agenda", "defaults_reach_hydra"],
)
def test_other_ways_into_hydra_are_refused(tmp_path, group, text, key):
    conf = tmp_path / "conf"
    file = write_yaml(conf / group / "bad.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_config([searchpath(conf), f"{group}=bad"])
    assert (err.value.file, err.value.key) == (str(file), key)
    assert err.value.expected.startswith(f"data only: a{'n' if group == 'agenda' else ''} {group} file may not")


def test_target_nested_in_a_scenario_file_is_refused(tmp_path, negotiate_cmd):
    conf = tmp_path / "conf"
    raw = copy.deepcopy(MINI)
    raw["actors"]["A"]["_target_"] = "os.system"
    raw["actors"]["B"]["strategy"]["params"] = {"how": {"_target_": "os.system"}}
    file = write_yaml(conf / "scenario" / "target.yaml", raw)
    with pytest.raises(ConfigError) as err:
        load_config([searchpath(conf), "scenario=target"])
    assert (err.value.file, err.value.key, err.value.expected) == (str(file), "scenario.actors.A._target_", DATA_ONLY)
    del raw["actors"]["A"]["_target_"]  # one that the schema would let through
    write_yaml(file, raw)
    with pytest.raises(ConfigError) as err:
        load_config([searchpath(conf), "scenario=target"])
    assert err.value.key == "scenario.actors.B.strategy.params.how._target_"
    msg = cli_error(negotiate_cmd, ["--config-dir", str(conf), "scenario=target", "agenda.first_mover=A"], tmp_path)
    assert msg == str(err.value)


def test_files_from_a_users_config_dir_may_not_set_hydra(tmp_path):
    """Not only the three groups: ``local/default.yaml`` is read without being chosen, and a
    file may stand in for a launcher's stored config (joblib, in the experiments)."""
    conf = tmp_path / "conf"
    local = write_yaml(conf / "local" / "default.yaml", "# @package _global_\nhydra:\n  job:\n    chdir: true\n")
    with pytest.raises(ConfigError) as err:
        load_config([searchpath(conf)])
    assert (err.value.file, err.value.key) == (str(local), "hydra.job")
    local.unlink()
    launcher = write_yaml(conf / "hydra" / "launcher" / "joblib.yaml", {"_target_": "sim.io.write_text"})
    load_config([searchpath(conf)])  # not chosen: nothing read
    with pytest.raises(ConfigError) as err:
        load_config([searchpath(conf), "experiment=atlas_smoke"])
    assert (err.value.file, err.value.key) == (str(launcher), "hydra.launcher._target_")


@pytest.mark.parametrize(
    "override",
    [
        "scenario=../../../some/other/dir/mini",
        "agenda=/etc/foo",
        "protocol=a/b",
        "scenario=a\\b",
        "scenario='../mini'",
        "experiment=../x",
        "scenario=..",
        "+scenario@x=../mini",
    ],
)
def test_a_choice_is_a_name_not_a_path(tmp_path, override):
    with pytest.raises(ConfigError) as err:
        load_config([searchpath(tmp_path), override])
    e = err.value
    assert (e.file, e.expected) == (f"command-line override {override}", NOT_A_PATH)
    assert e.key == override.lstrip("+").split("@")[0].split("=")[0]


def test_a_path_as_choice_fails_before_anything_runs(tmp_path, negotiate_cmd):
    for args in (["scenario=../../../some/other/dir/mini"], ["-m", "scenario=mini,../x"], ["-m", "agenda=glob(../*)"]):
        msg = cli_error(negotiate_cmd, args, tmp_path)
        assert NOT_A_PATH in msg and msg.startswith("command-line override "), msg


@pytest.mark.parametrize("experiment", sorted(p.stem for p in (ROOT / "conf" / "experiment").glob("*.yaml")))
def test_the_projects_experiments_still_compose(tmp_path, monkeypatch, experiment):
    """Experiments of the project's conf/ set hydra.sweeper, hydra.launcher and hydra.callbacks: allowed."""
    from sim.cli import check

    cfg = load_config([f"experiment={experiment}"])
    assert cfg.quiet is True
    monkeypatch.chdir(tmp_path)
    check(["-m", f"experiment={experiment}", f"hydra.sweep.dir={tmp_path / 'sweep'}"])
    assert not (tmp_path / "sweep").exists()


def test_an_unrelated_bad_file_does_not_block_a_single_run(tmp_path):
    conf = tmp_path / "conf"
    write_yaml(conf / "scenario" / "mini.yaml", MINI)
    evil_scenario(conf, tmp_path / "pwned")
    assert load_config([searchpath(conf), "scenario=mini"]).scenario.name == "mini"


def test_an_unrelated_unreadable_file_does_not_block_a_single_run(tmp_path):
    """Only the files a run reads are checked (size, encoding, nesting, aliases)."""
    conf = tmp_path / "conf"
    write_yaml(conf / "scenario" / "mini.yaml", MINI)
    (conf / "scenario" / "binary.yaml").write_bytes(bytes(range(256)))
    assert load_config([searchpath(conf), "scenario=mini"]).scenario.name == "mini"
    with pytest.raises(ConfigError) as err:
        load_config([searchpath(conf), "scenario=binary"])
    assert err.value.key == "encoding"


# -- the dashboard ------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["../../../some/other/dir/mini", "/etc/passwd", "a/b"])
def test_dashboard_model_loads_config_names_only(scenario):
    """The dashboard's model (and the classroom's) is built from a scenario name: a path is refused."""
    from sim.classroom import ClassroomModel

    with pytest.raises(ConfigError) as err:
        ClassroomModel(scenario=scenario)
    assert err.value.expected == NOT_A_PATH and err.value.got == scenario


def test_dashboard_binds_to_localhost_unless_told(monkeypatch):
    import sim.app as app

    seen = []
    monkeypatch.setattr(app, "missing_assets", lambda: [])
    monkeypatch.setattr(app.subprocess, "call", lambda cmd, env=None: seen.append(cmd) or 0)
    assert app.main([]) == 0
    assert app.main(["--host", "0.0.0.0", "--port", "9000"]) == 0
    first, second = seen
    assert first[first.index("--host") + 1] == "127.0.0.1"
    assert second[second.index("--host") + 1] == "0.0.0.0" and second[second.index("--port") + 1] == "9000"


def listening_addresses(port: int) -> set[str]:
    """Local addresses of TCP sockets listening on ``port`` (from /proc/net/tcp, IPv4)."""
    out = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, p = local.split(":")
        if state == "0A" and int(p, 16) == port:
            out.add(socket.inet_ntoa(bytes.fromhex(addr)[::-1]))
    return out


@pytest.mark.slow
def test_running_dashboard_listens_on_loopback_only(tmp_path):
    from sim.app import missing_assets

    if missing_assets() or not Path("/proc/net/tcp").exists():
        pytest.skip("the dashboard's front-end assets are not installed (make dashboard)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).parent / "negotiate-dashboard"
    p = subprocess.Popen(
        [str(exe), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not listening_addresses(port):
            assert p.poll() is None, "the dashboard exited"
            time.sleep(0.2)
        assert listening_addresses(port) == {"127.0.0.1"}
    finally:
        import os
        import signal

        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=30)
