"""Shared fixtures: composed configs and compiled scenarios, built once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.api import build, load_config

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")


# Modules that run whole workflows (commands in subprocesses, sweeps, reports, installs,
# notebooks): `make test` runs them, `make test-fast` (everyday work, under two minutes) does not.
WORKFLOW_MODULES = {
    "test_atlas",
    "test_calibrate",
    "test_cli",
    "test_compare",
    "test_docs",
    "test_errors",
    "test_experiments",
    "test_explore",
    "test_faults",
    "test_forecasters",
    "test_grid_agenda",
    "test_install",
    "test_launchers",
    "test_notebooks",
    "test_properties",
    "test_report",
    "test_reproducibility",
    "test_safety",
    "test_search",
    "test_stress",
    "test_dashboard",
    "test_load",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in WORKFLOW_MODULES:
            item.add_marker(pytest.mark.workflow)


@pytest.fixture(scope="session")
def default_static():
    return build(load_config([]))


@pytest.fixture(scope="session")
def negotiate_cmd() -> list[str]:
    exe = shutil.which("negotiate", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "sim"]


def run_cli(cmd: list[str], args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HYDRA_FULL_ERROR="0")
    return subprocess.run(cmd + args, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
