"""Safety: configuration files are data, never code; the dashboard stays on this computer unless told.

A scenario file handed round a class must not be able to run anything: no ``eval`` or
``exec`` of config strings, YAML read only with safe loaders (Hydra and OmegaConf use a
SafeLoader subclass), no pickles of configs. The dashboard binds to 127.0.0.1 by default.
"""

from __future__ import annotations

import ast
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.api import load_config
from sim.errors import ConfigError
from tests.conftest import ROOT
from tests.test_errors import MINI, searchpath, write_yaml

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_ATTRS = {("yaml", "unsafe_load"), ("yaml", "full_load"), ("yaml", "unsafe_load_all"), ("pickle", "load"),
                   ("pickle", "loads"), ("marshal", "loads"), ("hydra.utils", "instantiate"),
                   ("hydra.utils", "call"), ("hydra.utils", "get_method"), ("hydra.utils", "get_class")}


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
    evil = text.replace("title: Two principals", f"title: !!python/object/apply:os.system ['touch {canary}']\n"
                        "# Two principals", 1)
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


# -- the dashboard ------------------------------------------------------------------------

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
    p = subprocess.Popen([str(exe), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, cwd=tmp_path)
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
