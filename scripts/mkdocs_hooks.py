"""MkDocs hooks for the documentation site (mkdocs.yml): pages that quote the repository.

A line ``<!-- include README.md "## The model in one page" -->`` in a page becomes that
section of README.md (its body, up to the next heading of the same level), so the model
page and the README cannot drift apart; ``<!-- include CITATION.cff -->`` becomes the
whole file. A missing file or section stops the build with a message naming both.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = re.compile(r'^<!-- include (?P<file>[\w./-]+)(?: "(?P<heading>[^"]+)")? -->$', re.MULTILINE)


def section(text: str, heading: str, where: str) -> str:
    """The body of the section under ``heading`` (a whole line, e.g. ``## Running it``)."""
    lines = text.splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        raise ValueError(f"{where}: no line {heading!r} to include") from None
    level = len(heading) - len(heading.lstrip("#"))
    body = []
    for line in lines[start + 1 :]:
        m = re.match(r"^(#+) ", line)
        if m and len(m[1]) <= level:
            break
        body.append(line)
    return "\n".join(body).strip("\n")


LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")


def relink(text: str) -> str:
    """Links of the README, which are relative to the repository, as the site sees them:
    ``docs/x`` becomes ``x``; any other file of the repository is named, not linked."""

    def one(m: re.Match) -> str:
        target = m["target"]
        if re.match(r"^[a-z]+:|^#", target):
            return m[0]
        if target.startswith("docs/"):
            return f"{m['bang']}[{m['text']}]({target.removeprefix('docs/')})"
        return m["text"] if m["text"].strip("`") == target else f"{m['text']} (`{target}`)"

    return LINK.sub(one, text)


def expand(markdown: str, page_name: str = "a page") -> str:
    def one(m: re.Match) -> str:
        path = ROOT / m["file"]
        if not path.is_file():
            raise ValueError(f"{page_name}: cannot include {m['file']}: no such file")
        text = path.read_text()
        if not m["heading"]:
            return text.rstrip("\n")
        return relink(section(text, m["heading"], f"{page_name}: {m['file']}"))

    return INCLUDE.sub(one, markdown)


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001 - MkDocs' hook signature
    return expand(markdown, page.file.src_path)


SPHINX_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|exc):(?=<code)")


def on_page_content(html, page, config, files):  # noqa: ARG001 - MkDocs' hook signature
    """Docstrings cross-reference in Sphinx's style (:func:`run`): show just the name."""
    return SPHINX_ROLE.sub("", html)
