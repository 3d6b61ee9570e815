"""Random but valid scenarios, for tests of the kernel and for the scaling benchmarks.

A generated scenario has the same shape as a real one (principals, mediators,
guarantors, channels, red lines with linkages, a guarantees issue, shocks, noise,
deadlines and leverage) with numbers drawn from a seeded generator, so a test can check
properties that must hold for *any* scenario and a benchmark can grow the number of
actors and issues at will. None of these numbers describes a real conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.agenda import compile_agenda
from sim.kernel import Settings, Static, make_static
from sim.protocols import PROTOCOLS
from sim.scenario import compile_scenario

FAMILIES = ("time_dependent", "hardliner", "reciprocal", "zeuthen")


def random_scenario(
    n_actors: int = 6,
    n_issues: int = 5,
    seed: int = 0,
    *,
    deadlock: bool = False,
    strategies: tuple[str, ...] = FAMILIES,
) -> dict[str, Any]:
    """A scenario config (a plain dict, as a YAML file would give) drawn from ``seed``.

    Actors 0 and 1 are principals at opposite ends of every issue's range (with noise);
    about a third of the others are mediators (at least one), and every mediator is also a
    guarantor with some credibility. Each principal gets one to three red lines, one of
    them conditional on another issue.

    Args:
        deadlock: principals' reservation values so high that no text satisfies both, and
            no shocks, so every run goes to the last round (for timing rounds).
        strategies: the strategy families to draw from.
    """
    if n_actors < 3 or n_issues < 2:
        raise ValueError("a generated scenario needs at least 3 actors and 2 issues")
    g = np.random.default_rng(seed)
    issues = [f"i{k}" for k in range(n_issues)]
    actors = [f"a{k}" for k in range(n_actors)]
    n_med = max(1, (n_actors - 2) // 3)
    mediators = set(actors[2 : 2 + n_med])
    cast = _Cast(
        issues=issues,
        actors=actors,
        mediators=mediators,
        extra_principals=set(actors[2 + n_med : 2 + n_med + max(0, (n_actors - 2 - n_med) // 4)]),
        side=g.random(n_issues) < 0.5,  # which end principal 0 wants on each issue
        strategies=strategies,
        deadlock=deadlock,
    )
    actor_cfg = {name: _actor(g, k, name, cast) for k, name in enumerate(actors)}
    channels = _channels(g, cast, actor_cfg)
    return {
        "name": f"generated_{n_actors}x{n_issues}_{seed}",
        "utility": "linear",
        "self_weight": 2.0,
        "pressure_rate": 0.0 if deadlock else 0.002,
        "issues": {iss: {"status_quo": _num(g.random()), "core": True} for iss in issues},
        "actors": actor_cfg,
        "channels": channels,
        "commitment": {"guarantee_issue": issues[-1], "strong_end": 0.0},
        "trust": {"initial": _num(g.uniform(0.1, 0.6)), "gain_per_phase": 0.2},
        "shocks": {
            "rate": 0.0 if deadlock else 0.03,
            "trust_drop": 0.3,
            "collapse": 0.0 if deadlock else 0.1,
            "suspend": 0.0 if deadlock else 0.3,
            "suspend_rounds": 3,
        },
        "on_implement": {}
        if deadlock
        else {
            issues[0]: [
                {"actor": actors[0], "input": "reservation_value", "add": _num(g.uniform(-0.05, 0.05))},
                {"actor": actors[1], "input": "delay_cost", "scale": _num(g.uniform(0.2, 2.0))},
            ]
        },
        "uncertainty": {"position": 0.05, "salience": 0.1, "reservation_value": 0.03},
    }


@dataclass(frozen=True)
class _Cast:
    """Who is in a generated scenario and what the principals want: fixed before any actor is drawn."""

    issues: list[str]
    actors: list[str]
    mediators: set[str]
    extra_principals: set[str]
    side: np.ndarray  # [I] bool: principal 0 wants the high end of the issue
    strategies: tuple[str, ...]
    deadlock: bool


def _num(x: float) -> float:
    """A drawn number as a YAML file would hold it (four decimals)."""
    return round(float(x), 4)


def _actor(g: np.random.Generator, k: int, name: str, cast: _Cast) -> dict[str, Any]:
    """Actor ``k``'s config. The draws come in a fixed order, so a seed gives one scenario."""
    n_issues, issues, deadlock = len(cast.issues), cast.issues, cast.deadlock
    roles, pos, want = _role_and_position(g, k, name, cast)
    sal = g.uniform(0.1, 1.0, n_issues)
    strategy = _strategy(g, roles, cast.strategies)
    cfg: dict[str, Any] = {
        "roles": roles,
        "position": {iss: _num(np.clip(p, 0, 1)) for iss, p in zip(issues, pos, strict=True)},
        "salience": {iss: _num(s) for iss, s in zip(issues, sal, strict=True)},
        "reservation_value": _num(0.8 if deadlock and k < 2 else g.uniform(0.2, 0.45)),
        "delay_cost": 0.0 if deadlock else _num(g.uniform(0, 0.003)),
        "stubbornness": _num(g.uniform(0.7, 0.98)),
        "renege_base": _num(g.uniform(0.1, 0.5)),
        "strategy": strategy,
    }
    cfg["patience"] = int(g.integers(10, 60))
    if "mediator" in roles:
        cfg["bias"] = _num(g.uniform(0, 0.3))
        cfg["target"] = {iss: _num(g.random()) for iss in issues if g.random() < 0.6} or {issues[0]: 0.5}
    if "principal" in roles and not deadlock and g.random() < 0.5:
        cfg["clock_carry"] = _num(g.uniform(0, 1))
        start = int(g.integers(0, 20))
        cfg["outside_option"] = [
            {
                "what": "generated",
                "from": start,
                "until": start + int(g.integers(1, 30)),
                "per_round": _num(g.uniform(-0.003, 0.003)),
            }
        ]
    if "guarantor" in roles:
        cfg["credibility"] = _num(g.uniform(0.3, 0.9))
    if "principal" in roles and k < 2:
        cfg["red_lines"] = _red_lines(g, want, issues)
    if k < 2 and not deadlock and g.random() < 0.5:
        cfg["deadline"] = int(g.integers(5, 30))
        cfg["deadline_drop"] = _num(g.uniform(0, 0.05))
    if "mediator" in roles:
        cfg["leverage"] = {cast.actors[int(g.integers(2))]: _num(g.uniform(0, 0.5))}
    return cfg


def _role_and_position(
    g: np.random.Generator, k: int, name: str, cast: _Cast
) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """An actor's roles, its drawn positions and (for a principal) which end of each issue it wants.

    Actors 0 and 1 (and the extra principals) sit near opposite ends; mediators near the
    middle; the rest are drawn anywhere, about a third of them principals.
    """
    n_issues = len(cast.issues)
    want = None
    if k < 2 or name in cast.extra_principals:
        roles = ["principal"]
        want = cast.side if k % 2 == 0 else ~cast.side
        pos = np.where(want, 0.85, 0.15) + g.normal(0, 0.1, n_issues)
    elif name in cast.mediators:
        roles = ["mediator", "guarantor"]
        pos = 0.5 + g.normal(0, 0.1, n_issues)
    else:
        roles = ["principal"] if g.random() < 0.3 else ["mediator"]
        pos = g.random(n_issues)
    return roles, pos, want


def _strategy(g: np.random.Generator, roles: list[str], strategies: tuple[str, ...]) -> dict[str, Any]:
    """A strategy family and its parameters; principals concede by time or in kind, Zeuthen's rule
    only among the others."""
    pool = [s for s in strategies if s != "zeuthen" or "principal" not in roles] or list(strategies)
    strat = str(g.choice(pool))
    params: dict[str, float] = {}
    if strat in ("time_dependent", "hardliner"):
        params["e"] = _num(g.choice([0.3, 1.0, 2.5]))
    if strat == "hardliner":
        params["floor"] = _num(g.uniform(0.0, 0.3))
    if strat == "reciprocal":
        params["min_step"] = _num(g.uniform(0.02, 0.08))
    return {"name": strat, "params": params}


def _red_lines(g: np.random.Generator, want: np.ndarray, issues: list[str]) -> list[dict[str, Any]]:
    """One to three red lines on the side the principal wants; the first lifted by another issue."""
    n_issues = len(issues)
    lines = []
    for _ in range(int(g.integers(1, 4))):
        i = int(g.integers(n_issues))
        keeps_high = bool(want[i])
        line: dict[str, Any] = (
            {"at_least": _num(g.uniform(0.2, 0.5))} if keeps_high else {"at_most": _num(g.uniform(0.5, 0.8))}
        )
        line.update(issue=issues[i], strength=_num(g.uniform(0.5, 2.0)))
        lines.append(line)
    j = int(g.integers(n_issues))
    lines[0]["unless"] = {
        "issue": issues[(issues.index(lines[0]["issue"]) + 1 + j) % n_issues] if n_issues > 1 else issues[0],
        "at_least": _num(g.uniform(0.5, 0.9)),
    }
    if lines[0]["unless"]["issue"] == lines[0]["issue"]:
        del lines[0]["unless"]
    return lines


def _channels(g: np.random.Generator, cast: _Cast, actor_cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """Mediators talk to both principals 0 and 1; every other actor talks to one mediator."""
    actors = cast.actors
    n_med = len(cast.mediators)
    channels = []
    for name in actors[2:]:
        if "mediator" in actor_cfg[name]["roles"]:
            channels += [
                {"between": [name, actors[0]], "weight": _num(g.uniform(0.5, 2))},
                {"between": [name, actors[1]], "weight": _num(g.uniform(0.5, 2))},
            ]
        else:
            channels.append(
                {"between": [name, sorted(cast.mediators)[int(g.integers(n_med))]], "weight": _num(g.uniform(0.5, 2))}
            )
    return channels


def random_agenda(n_issues: int, seed: int = 0) -> dict[str, Any]:
    """A phased agenda over ``n_issues`` generated issues: a random order cut into two or three phases."""
    g = np.random.default_rng(seed)
    order = [f"i{k}" for k in g.permutation(n_issues)]
    cuts = sorted(g.choice(np.arange(1, n_issues), size=min(2, n_issues - 1), replace=False).tolist())
    parts = [order[a:b] for a, b in zip([0, *cuts], [*cuts, n_issues], strict=True) if order[a:b]]
    return {"name": "generated", "kind": "phased", "phases": [{"issues": p} for p in parts], "first_mover": "mediators"}


def random_static(
    n_actors: int = 6,
    n_issues: int = 5,
    seed: int = 0,
    *,
    max_rounds: int = 40,
    phased: bool = False,
    deadlock: bool = False,
) -> Static:
    """A compiled generated scenario with the default mediated protocol (``max_rounds`` rounds)."""
    sc = compile_scenario(random_scenario(n_actors, n_issues, seed, deadlock=deadlock), file="<generated>")
    ag_cfg = random_agenda(n_issues, seed) if phased else {"name": "comprehensive", "kind": "comprehensive"}
    ag = compile_agenda(ag_cfg, sc, file="<generated>")
    return make_static(sc, ag, Settings(max_rounds=max_rounds), PROTOCOLS["mediated"])
