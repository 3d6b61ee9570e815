"""Agendas: which issues are open in which phase, and who opens each phase.

An agenda is a list of phases, each a set of issues. Agreed phases are locked and
implemented before the next opens. ``comprehensive`` puts every issue in one phase;
``phased`` takes the phases as written (an issue may come back in a later phase, which
may move it further from the status quo but never back); ``sequence`` builds one phase
per entry of ``order``, so that every ordering of the issues is a one-line override.
A **concession sequence** is an agenda plus who moves first in each phase.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.errors import ConfigError
from sim.scenario import Scenario, to_container

KINDS = ("comprehensive", "phased", "sequence")
OTHERS = ("opening", "closing", "first", "last")
MEDIATORS = "mediators"


@dataclass(frozen=True)
class Agenda:
    """A compiled agenda: ``open[p, i]`` says whether issue i is open in phase p."""

    name: str
    open: np.ndarray  # [P, I] bool
    lo: np.ndarray  # [P, I] lower bound of the text in phase p
    hi: np.ndarray  # [P, I]
    first_mover: np.ndarray  # [P] actor index, -1 for the mediators

    @property
    def n_phases(self) -> int:
        """Number of phases."""
        return self.open.shape[0]

    def describe(self, scenario: Scenario) -> list[str]:
        """One line per phase: its issues and who opens it."""
        out = []
        for p in range(self.n_phases):
            iss = [scenario.issues[i] for i in np.flatnonzero(self.open[p])]
            fm = self.first_mover[p]
            who = MEDIATORS if fm < 0 else scenario.actors[fm]
            out.append(f"phase {p + 1}: {', '.join(iss)} (opened by {who})")
        return out


Phases = list[tuple[list[int], dict[int, tuple[float, float]]]]  # (open issues, their ranges) per phase


class _Checker:
    """Checks the keys of one agenda file against a scenario; errors name the file and key."""

    def __init__(self, file: str, scenario: Scenario) -> None:
        self.file, self.scenario, self.issues = file, scenario, scenario.issues

    def fail(self, key: str, expected: str, got: Any = None) -> ConfigError:
        return ConfigError(self.file, f"agenda.{key}", expected, got)

    def issue(self, name: Any, key: str) -> int:
        if name not in self.issues:
            raise self.fail(key, f"an issue of the scenario ({', '.join(self.issues)})", name)
        return self.issues.index(name)


def _phased(raw: Mapping, chk: _Checker) -> Phases:
    """``kind: phased``: the phases as written, each with optional ``ranges`` for its issues."""
    phases: Phases = []
    for k, ph in enumerate(raw.get("phases") or []):
        if not isinstance(ph, Mapping) or not ph.get("issues"):
            raise chk.fail(f"phases[{k}].issues", "a non-empty list of issues", ph)
        idx = [chk.issue(n, f"phases[{k}].issues") for n in ph["issues"]]
        ranges = {}
        for n, r in (ph.get("ranges") or {}).items():
            i = chk.issue(n, f"phases[{k}].ranges.{n}")
            if i not in idx:
                raise chk.fail(f"phases[{k}].ranges.{n}", "an issue opened in this phase", n)
            if (
                not isinstance(r, list | tuple)
                or len(r) != 2
                or not all(isinstance(v, int | float) for v in r)
                or not 0 <= r[0] <= r[1] <= 1
            ):
                raise chk.fail(f"phases[{k}].ranges.{n}", "[lo, hi] with 0 <= lo <= hi <= 1", r)
            ranges[i] = (float(r[0]), float(r[1]))
        phases.append((idx, ranges))
    if not phases:
        raise chk.fail("phases", "at least one phase")
    return phases


def _sequence(raw: Mapping, chk: _Checker) -> Phases:
    """``kind: sequence``: one phase per entry of ``order`` (or of the ``permutation``-th order of
    the core issues); the issues not named go where ``others`` says."""
    issues, scenario = chk.issues, chk.scenario
    order = raw.get("order") or []
    perm = raw.get("permutation")
    if perm is not None:
        core = [n for n, c in zip(issues, scenario.core, strict=True) if c]
        orders = issue_orders(core)
        if isinstance(perm, bool) or not isinstance(perm, int) or not 0 <= perm < len(orders):
            raise chk.fail(
                "permutation", f"an integer in [0, {len(orders) - 1}] (orders of {len(core)} core issues)", perm
            )
        order = orders[perm]
    if not isinstance(order, list) or not order:
        raise chk.fail("order", "a non-empty list of issues (or lists of issues)", order)
    phases: Phases = []
    for k, entry in enumerate(order):
        names = entry if isinstance(entry, list) else [entry]
        phases.append(([chk.issue(n, f"order[{k}]") for n in names], {}))
    named = {i for idx, _ in phases for i in idx}
    rest = [i for i in range(len(issues)) if i not in named]
    missing = [issues[i] for i in rest if scenario.core[i]]
    if missing:
        raise chk.fail("order", f"every core issue on the agenda (missing: {', '.join(missing)})")
    others = raw.get("others", "opening")
    if others not in OTHERS:
        raise chk.fail("others", f"one of {list(OTHERS)}", others)
    if rest:
        if others == "opening":
            phases.insert(0, (rest, {}))
        elif others == "closing":
            phases.append((rest, {}))
        elif others == "first":
            phases[0] = (rest + phases[0][0], {})
        else:
            phases[-1] = (phases[-1][0] + rest, {})
    return phases


def _first_movers(raw: Mapping, chk: _Checker, n_p: int) -> np.ndarray:
    """``[P]``: who opens each phase (an actor's index, or -1 for the mediators)."""
    fm_raw = raw.get("first_mover", MEDIATORS)
    fm_list = fm_raw if isinstance(fm_raw, list) else [fm_raw] * n_p
    if len(fm_list) != n_p:
        raise chk.fail("first_mover", f"one name, or a list of {n_p} (one per phase)", fm_raw)
    actors = chk.scenario.actors
    first = np.empty(n_p, dtype=np.int64)
    for p, who in enumerate(fm_list):
        if who == MEDIATORS:
            # with no mediators the protocol picks the opener (alternating offers: the first
            # principal); the mediated protocol itself refuses a scenario without mediators
            first[p] = -1
        elif who in actors:
            first[p] = actors.index(who)
        else:
            raise chk.fail("first_mover", f"'{MEDIATORS}' or an actor ({', '.join(actors)})", who)
    return first


def compile_agenda(cfg: Any, scenario: Scenario, file: str = "<agenda>") -> Agenda:
    """Check an agenda config against a scenario and compile it.

    Raises:
        ConfigError: naming the file, the key and what was expected.
    """
    raw = to_container(cfg, file) or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(file, "agenda", "a mapping", raw)
    kind = raw.get("kind", "comprehensive")
    issues = scenario.issues
    chk = _Checker(file, scenario)
    if kind == "comprehensive":
        phases: Phases = [(list(range(len(issues))), {})]
    elif kind == "phased":
        phases = _phased(raw, chk)
    elif kind == "sequence":
        phases = _sequence(raw, chk)
    else:
        raise chk.fail("kind", f"one of {list(KINDS)}", kind)

    covered = {i for idx, _ in phases for i in idx}
    for i in np.flatnonzero(scenario.core):
        if i not in covered:
            raise chk.fail(
                "phases" if kind == "phased" else "order", f"every core issue on the agenda (missing: {issues[i]})"
            )
    n_p, n_i = len(phases), len(issues)
    open_ = np.zeros((n_p, n_i), bool)
    lo, hi = np.zeros((n_p, n_i)), np.ones((n_p, n_i))
    for p, (idx, ranges) in enumerate(phases):
        if len(set(idx)) != len(idx):
            raise chk.fail(f"phases[{p}]" if kind == "phased" else "order", "each issue once per phase", idx)
        open_[p, idx] = True
        for i, (a, b) in ranges.items():
            lo[p, i], hi[p, i] = a, b
    first = _first_movers(raw, chk, n_p)
    name = str(raw.get("name") or kind)
    if kind == "sequence":
        name = "sequence:" + ">".join("+".join(issues[i] for i in idx) for idx, _ in phases)
    return Agenda(name=name, open=open_, lo=lo, hi=hi, first_mover=first)


def issue_orders(names: list[str]) -> list[list[str]]:
    """Every ordering of ``names`` (for the sequence atlas: 24 orders of 4 core issues)."""
    return [list(p) for p in itertools.permutations(names)]
