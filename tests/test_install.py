"""Installs that work the same tomorrow: the lock, the extras, and what the Makefile runs."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())
UV = Path(sys.executable).parent / "uv"


def locked() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for p in LOCK["package"]:
        out.setdefault(canonicalize_name(p["name"]), []).append(p)
    return out


def closure(extras: tuple[str, ...]) -> set[str]:
    """Every package the lock installs for the project with these extras (markers ignored)."""
    pkgs = locked()
    todo = [("negotiation-sim", set(extras))]
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    while todo:
        name, want = todo.pop()
        for p in pkgs.get(canonicalize_name(name), []):
            deps = list(p.get("dependencies", []))
            for extra in want:
                deps += p.get("optional-dependencies", {}).get(extra, [])
            for d in deps:
                key = (canonicalize_name(d["name"]), ",".join(sorted(d.get("extra", []))))
                if key in seen:
                    continue
                seen.add(key)
                names.add(key[0])
                todo.append((d["name"], set(d.get("extra", []))))
    return names


def test_lock_matches_pyproject():
    """uv.lock was made from this pyproject.toml (`make lock` after changing a dependency)."""
    assert UV.exists(), f"{UV} is missing: `make test` installs uv into the venv first"
    res = subprocess.run(
        [str(UV), "lock", "--check", "--offline"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr


def test_this_environment_is_the_locked_one():
    """Every package of the project and its test extras is installed at the locked version."""
    pkgs = locked()
    names = closure(("test",))
    assert {"numpy", "pandas", "mesa", "hydra-core", "solara", "solara-assets", "ipywidgets", "mkdocs"} <= names
    wrong, missing = [], []
    for name in sorted(names - {"negotiation-sim"}):
        versions = {p["version"] for p in pkgs[name]}
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        if have not in versions:
            wrong.append(f"{name} {have} (locked: {', '.join(sorted(versions))})")
    assert not wrong, "installed versions differ from uv.lock (run `make test`): " + "; ".join(wrong)
    # packages absent here are only those for another platform or Python (markers)
    for name in ("numpy", "pandas", "numba", "mesa", "hydra-core", "pyarrow", "solara", "playwright", "negmas"):
        assert name not in missing, name


def test_pyproject_keeps_ranges_for_other_environments():
    """The package's own dependencies are ranges (the exact pins live in uv.lock)."""
    deps = [Requirement(d) for d in PYPROJECT["project"]["dependencies"]]
    assert deps and all(not any(s.operator == "==" for s in d.specifier) for d in deps), deps
    extras = PYPROJECT["project"]["optional-dependencies"]
    for extra in ("dashboard", "notebooks", "docs", "submitit", "optuna", "ray", "compare", "test"):
        assert extra in extras, extra
    assert {Requirement(d).name for d in extras["notebooks"]} >= {"jupyterlab", "ipywidgets"}
    # the dashboard extra needs neither the test extra nor npm: the front-end files are a package
    dash = {Requirement(d).name for d in extras["dashboard"]}
    assert "solara-assets" in dash and not any("[test]" in d for d in extras["dashboard"])
    assert "playwright" not in closure(("dashboard",)) and "pytest" not in closure(("dashboard",))


def test_solara_assets_hold_what_the_page_loads():
    """solara-assets (pinned) holds the exact front-end versions the pinned solara's page asks for."""
    from importlib.util import find_spec

    from sim.app import ASSETS, cdn_dir, missing_assets

    template = Path(find_spec("solara").origin).parent / "server" / "templates" / "solara.html.j2"
    text = template.read_text()
    wanted = set(re.findall(r"\{\{cdn\}\}/((?:@widgetti/)?[\w-]+@[\w.-]+?)/", text))
    wanted = {w for w in wanted if "vuetify3" not in w}  # ipyvuetify<3: the Vuetify 2 page
    assert "@widgetti/solara-vuetify-app@10.1.1" in wanted and "requirejs@2.3.6" in wanted, wanted
    assert wanted <= set(ASSETS), (wanted, ASSETS)
    assert not missing_assets(), f"front-end files missing in {cdn_dir()}"
    shipped = {
        m[1]
        for f in metadata.distribution("solara-assets").files or []
        if (m := re.search(r"share/solara/cdn/(.+)/package\.json$", str(f)))
    }
    for spec in wanted:  # the page itself: every file from solara-assets, none from npm
        assert spec in shipped, spec
    # the rest (the charts' libraries, asked for by major version: vega@5) are the only ones
    # `negotiate-dashboard --install-assets` still fetches (`make dashboard`, once)
    for spec in set(ASSETS) - shipped:
        assert re.fullmatch(r"[\w-]+@\d+", spec), spec


def test_makefile_installs_from_the_lock():
    """`make run`, `make test`, `make dashboard` and `make docs` sync from uv.lock, never resolve anew."""
    mk = (ROOT / "Makefile").read_text()
    assert re.search(r"^SYNC\s*:=.*\$\(UV\) sync --locked", mk, re.MULTILINE), "SYNC must use uv sync --locked"
    assert "pip install -q -e" not in mk and "pip install -e" not in mk
    for target, extra in (("$(STAMP)", "test"), ("$(DASH)", "dashboard"), ("$(DOCS)", "docs"), ("$(LAB)", "notebooks")):
        block = mk.split(f"\n{target}:")[1].split("\n\n")[0]
        assert f"$(SYNC) --extra {extra}" in block, target
    dashboard = mk.split("\ndashboard:")[1].split("\n")[0]
    assert "$(STAMP)" not in dashboard and "$(DASH)" in dashboard, dashboard  # not the test extra
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    res = subprocess.run(
        ["make", "-n", "-B", "run", "test", "dashboard", "docs"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    syncs = [line for line in res.stdout.splitlines() if " sync " in line]
    assert syncs and all("--locked" in s for s in syncs), syncs


def test_notebook_progress_bars_render_without_warning():
    """ipywidgets (test and notebooks extras): tqdm draws a widget, not "IProgress not found"."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from tqdm.auto import tqdm\nfor _ in tqdm(range(3)):\n    pass")]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    text = " ".join(str(o.get("text", "")) for o in outputs)
    assert "IProgress" not in text and "TqdmWarning" not in text, text
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs), outputs
