"""The house style the pre-commit hook applies holds for the whole tree (ruff check and ruff format)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIRS = ["sim", "tests", "benchmarks", "experiments", "scripts"]


def _ruff() -> list[str]:
    exe = shutil.which("ruff", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "ruff"]


def test_the_tree_is_formatted_and_lint_clean():
    fmt = subprocess.run([*_ruff(), "format", "--check", *DIRS], cwd=ROOT, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout[-2000:] + fmt.stderr[-2000:]
    lint = subprocess.run([*_ruff(), "check", *DIRS], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout[-2000:] + lint.stderr[-2000:]
