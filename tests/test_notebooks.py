"""The notebooks: committed without outputs, and executed top to bottom by nbmake.

Each notebook runs in its own ``pytest --nbmake`` process (a fresh Jupyter kernel of this
virtualenv), the same way ``pytest --nbmake notebooks/`` runs them by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_the_teaching_notebooks_are_there():
    names = {p.stem for p in NOTEBOOKS}
    assert {
        "01_one_negotiation",
        "02_sequence_atlas",
        "03_classroom_exercises",
        "03_classroom_exercises_answers",
    } <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", SWEEP_DIR="")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbmake", "--nbmake-timeout=600", str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
