"""The documentation site and the citation file: built, current, and valid."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tomllib
import typing
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import config_reference  # noqa: E402
import mkdocs_hooks  # noqa: E402

from sim import config as schema  # noqa: E402


def test_config_reference_is_current():
    """docs/config.md is what scripts/config_reference.py writes from sim/config.py now."""
    committed = (ROOT / "docs" / "config.md").read_text()
    assert committed == config_reference.render(), (
        "docs/config.md is out of date: run `python scripts/config_reference.py docs/config.md`"
    )


def test_config_reference_covers_every_key_of_the_schemas():
    text = (ROOT / "docs" / "config.md").read_text()
    seen = 0
    for _title, path, cls in config_reference.sections(schema.RunConf, "", "Run"):
        for f in dataclasses.fields(cls):
            key = f"{path}.{f.name}" if path else f.name
            assert f"| `{key}` |" in text, key
            seen += 1
    for name, proto in schema.PROTOCOL_SCHEMAS.items():  # each protocol's own schema
        for _title, path, cls in config_reference.sections(proto, "protocol", name):
            for f in dataclasses.fields(cls):
                assert f"| `{path}.{f.name}` |" in text, (name, f.name)
    assert seen > 100  # the schemas really were walked (scenario, actors, red lines, agenda, ...)
    for key in (
        "scenario.actors.<actor>.reservation_value",
        "scenario.shocks.rate",
        "protocol.rule",
        "agenda.phases[i].issues",
        "scenario.actors.<actor>.red_lines[i].unless.issue",
        "n_seeds",
    ):
        assert f"| `{key}` |" in text, key
    # a row names the value used when a scenario leaves the key out, from the code
    assert "| `scenario.actors.<actor>.stubbornness` | any | `0.9` |" in text
    # every key has a meaning
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    empty = [r for r in rows if r.rstrip().endswith("|  |")]
    assert not empty, empty


def test_readme_sections_are_included_and_relinked():
    md = mkdocs_hooks.expand('<!-- include README.md "## The model in one page" -->', "model.md")
    assert "commitment" in md and "## " not in md.split("\n", 1)[0]
    assert "## The default scenario" not in md  # stops at the next section
    assert mkdocs_hooks.relink("see [docs/columns.md](docs/columns.md)") == "see [docs/columns.md](columns.md)"
    assert mkdocs_hooks.relink("![x](docs/a.png)") == "![x](a.png)"
    assert mkdocs_hooks.relink("[the README](experiments/x/README.md)") == "the README (`experiments/x/README.md`)"
    assert mkdocs_hooks.relink("[site](https://example.org)") == "[site](https://example.org)"
    try:
        mkdocs_hooks.expand('<!-- include README.md "## No such section" -->', "model.md")
    except ValueError as e:
        assert "model.md" in str(e) and "No such section" in str(e)
    else:
        raise AssertionError("a missing section must stop the build")


def test_docs_site_builds_strict(tmp_path):
    """`mkdocs build --strict` (what `make docs` runs): no warning, and every page is there."""
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    res = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    pages = {
        "model/index.html": ["Time belongs to the actors", "commitment problem"],
        "config/index.html": ["scenario.actors.&lt;actor&gt;.reservation_value", "protocol.max_rounds"],
        "columns/index.html": ["schema_version"],
        "api/api/index.html": ["load_config", "run"],
        "api/design/index.html": ["run_design"],
        "api/explore/index.html": ["morris"],
        "api/calibrate/index.html": ["implausibility"],
        "citing/index.html": ["cff-version", "contributors"],
    }
    for page, needles in pages.items():
        html = (site / page).read_text()
        for n in needles:
            assert n in html, (page, n)
        assert "<!-- include" not in html, page
        assert ":func:<code" not in html and ":class:<code" not in html, page


def test_citation_cff_is_valid_and_matches_the_package():
    """CITATION.cff: the keys CFF 1.2.0 requires, and the package's version and licence.

    (Checked against the CFF 1.2.0 schema with `cffconvert --validate` when it was written.)
    """
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):
        assert isinstance(cff[key], str | list) and cff[key], key
    assert cff["authors"] == [{"name": "negotiation-sim contributors"}]
    assert cff["type"] == "software"
    assert str(cff["version"]) == project["version"]
    assert cff["license"] == project["license"]
    allowed = {
        "cff-version",
        "message",
        "type",
        "title",
        "abstract",
        "authors",
        "version",
        "license",
        "keywords",
        "date-released",
        "repository-code",
        "url",
        "identifiers",
        "doi",
        "references",
        "preferred-citation",
        "contact",
        "commit",
        "license-url",
        "repository",
        "repository-artifact",
    }
    assert set(cff) <= allowed, set(cff) - allowed
    assert "doi" not in cff and "identifiers" not in cff  # none has been minted
    assert all(isinstance(k, str) for k in typing.cast(list, cff["keywords"]))
