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
