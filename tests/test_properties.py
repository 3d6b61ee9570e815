"""Property-based tests (hypothesis): any valid scenario runs and keeps the invariants;
any invalid scenario or bad override ends in ConfigError, never in another exception.

A strategy draws scenario dicts shaped like a YAML file: 3-6 actors (at least two
principals and a mediator with a channel to each of them), 1-6 issues, random positions,
saliences, reservation values, leverage, red lines (soft and hard, some conditional on
another issue), strategies from the registry, a guarantees issue, shocks and noise; and
an agenda (comprehensive, phased with ranges, or a sequence). The kernel is then stepped
round by round and checked after every round.
"""

from __future__ import annotations

import copy
import math
import string
from functools import lru_cache
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim.protocols.alternating
import sim.protocols.expected_utility
import sim.protocols.mediated
import sim.protocols.monotonic
from sim.agenda import compile_agenda
from sim.api import build, load_config
from sim.batch import advance, simulate
from sim.errors import ConfigError
from sim.kernel import AGREED, RUNNING, SUSPENDED, Settings, evaluate_batch, init_batch, make_static, open_mask, settle
from sim.protocols import PROTOCOLS
from sim.protocols.rules import RULES
from sim.results import make_table
from sim.scenario import compile_scenario
from sim.strategies import STRATEGIES

EPS = 1e-9
PROTOCOL_MODULES = (
    sim.protocols.alternating,
    sim.protocols.expected_utility,
    sim.protocols.mediated,
    sim.protocols.monotonic,
)
SETTINGS = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=True
)

unit = st.floats(0.0, 1.0, allow_nan=False)
small = st.floats(0.0, 0.05, allow_nan=False)


@st.composite
def strategy_conf(draw) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(STRATEGIES)))
    cls = STRATEGIES[name]
    params = {}
    for k in cls.params:
        if draw(st.booleans()):
            lo, hi = cls.bounds.get(k, (0.0, 10.0))
            params[k] = draw(st.floats(max(lo, -10.0), min(hi, 10.0), allow_nan=False))
    return {"name": name, "params": params}


@st.composite
def bound(draw, issues: list[str]) -> dict[str, Any]:
    key = draw(st.sampled_from(["at_least", "at_most"]))
    return {"issue": draw(st.sampled_from(issues)), key: draw(unit)}


@st.composite
def red_line(draw, issues: list[str]) -> dict[str, Any]:
    line = draw(bound(issues))
    if len(issues) > 1 and draw(st.booleans()):
        other = [i for i in issues if i != line["issue"]]
        line["unless"] = draw(bound(other))
    line["hard"] = draw(st.booleans())
    line["strength"] = draw(st.floats(0.0, 5.0, allow_nan=False))
    return line


@st.composite
def scenarios(draw) -> dict[str, Any]:
    """A valid scenario dict, as a YAML file would give it."""
    n_i = draw(st.integers(1, 6))
    issues = [f"i{k}" for k in range(n_i)]
    n_a = draw(st.integers(3, 6))
    actors = [f"a{k}" for k in range(n_a)]
    roles = {
        "a0": ["principal"],
        "a1": ["principal"],
        "a2": draw(st.sampled_from([["mediator"], ["mediator", "guarantor"]])),
    }
    for a in actors[3:]:
        roles[a] = draw(st.sampled_from([["principal"], ["mediator"], ["guarantor"], ["mediator", "guarantor"]]))
    principals = [a for a in actors if "principal" in roles[a]]
    mediators = [a for a in actors if "mediator" in roles[a]]
    core = [draw(st.booleans()) for _ in issues]
    out: dict[str, Any] = {
        "name": "generated",
        "utility": draw(st.sampled_from(["linear", "quadratic"])),
        "issues": {i: {"core": c, "status_quo": draw(unit)} for i, c in zip(issues, core, strict=True)},
        "actors": {},
        "channels": [{"between": [m, p], "weight": draw(st.floats(0.1, 2.0))} for m in mediators for p in principals],
        "trust": {"initial": draw(unit), "gain_per_phase": draw(st.floats(0.0, 0.5))},
        "shocks": {
            "rate": draw(small),
            "trust_drop": draw(unit),
            "collapse": draw(st.floats(0.0, 0.02)),
            "suspend": draw(st.floats(0.0, 0.5)),
            "suspend_rounds": draw(st.integers(1, 6)),
        },
        "uncertainty": {"position": draw(small), "salience": draw(small), "reservation_value": draw(small)},
        "pressure_rate": draw(st.floats(0.0, 0.01)),
        "no_deal_influence": draw(st.booleans()),
    }
    if draw(st.booleans()):
        out["on_implement"] = {
            draw(st.sampled_from(issues)): [
                {
                    "actor": draw(st.sampled_from(actors)),
                    "input": draw(st.sampled_from(["reservation_value", "delay_cost", "pressure"])),
                    "add": draw(st.floats(-0.2, 0.2)),
                }
            ]
        }
    for a, b in draw(st.lists(st.tuples(st.sampled_from(actors), st.sampled_from(actors)), max_size=3)):
        if a != b:
            out["channels"].append({"between": [a, b], "weight": draw(st.floats(0.1, 2.0))})
    if draw(st.booleans()):
        out["commitment"] = {
            "guarantee_issue": draw(st.sampled_from(issues)),
            "strong_end": draw(st.sampled_from([0, 1])),
        }
    for a in actors:
        sal = [draw(unit) for _ in issues]
        sal[draw(st.integers(0, n_i - 1))] = draw(st.floats(0.05, 1.0))  # at least one positive salience
        act: dict[str, Any] = {
            "roles": roles[a],
            "position": {i: draw(unit) for i in issues},
            "salience": dict(zip(issues, sal, strict=True)),
            "reservation_value": draw(st.floats(0.0, 0.9)),
            "delay_cost": draw(small),
            "stubbornness": draw(unit),
            "strategy": draw(strategy_conf()),
            "patience": draw(st.integers(1, 60)),
        }
        if "principal" in roles[a]:
            act["red_lines"] = draw(st.lists(red_line(issues), max_size=2))
            if draw(st.booleans()):
                act["deadline"] = draw(st.integers(0, 30))
                act["deadline_drop"] = draw(small)
            if draw(st.booleans()):
                act["clock_carry"] = draw(unit)
                start = draw(st.integers(0, 20))
                act["outside_option"] = [
                    {
                        "what": "w",
                        "from": start,
                        "until": start + draw(st.integers(1, 20)),
                        "per_round": draw(st.floats(-0.02, 0.02)),
                    },
                    {"what": "e", "at": draw(st.integers(0, 30)), "change": draw(st.floats(-0.2, 0.2))},
                ]
        if "guarantor" in roles[a]:
            act["credibility"] = draw(unit)
        if "mediator" in roles[a]:
            act["leverage"] = {p: draw(unit) for p in principals if p != a and draw(st.booleans())}
            act["bias"] = draw(st.floats(0.0, 2.0))
            act["target"] = {i: draw(unit) for i in issues if draw(st.booleans())} or {issues[0]: draw(unit)}
        out["actors"][a] = act
    return out


@st.composite
def agendas(draw, sc: dict[str, Any]) -> dict[str, Any]:
    issues = list(sc["issues"])
    actors = list(sc["actors"])
    kind = draw(st.sampled_from(["comprehensive", "phased", "sequence"]))
    if kind == "comprehensive":
        return {"kind": kind, "first_mover": draw(st.sampled_from(["mediators", *actors]))}
    order = draw(st.permutations(issues))
    cut = sorted(set(draw(st.lists(st.integers(1, len(issues)), max_size=3))) | {len(issues)})
    phases, start = [], 0
    for c in cut:
        if c > start:
            phases.append(order[start:c])
            start = c
    if kind == "sequence":
        return {"kind": kind, "order": [p if len(p) > 1 else p[0] for p in phases]}
    out = []
    for p in phases:
        ph: dict[str, Any] = {"issues": list(p)}
        if draw(st.booleans()):
            lo, hi = sorted((draw(unit), draw(unit)))
            ph["ranges"] = {p[0]: [lo, hi]}
        out.append(ph)
    if len(out) > 1 and draw(st.booleans()):  # an issue comes back in the last phase
        back = out[0]["issues"][0]
        if back not in out[-1]["issues"]:
            out[-1]["issues"].append(back)
    fm = [draw(st.sampled_from(["mediators", *actors])) for _ in out]
    return {"kind": kind, "phases": out, "first_mover": fm}


@st.composite
def runs(draw):
    sc = draw(scenarios())
    ag = draw(agendas(sc))
    protocol = draw(st.sampled_from(sorted(PROTOCOLS)))
    settings_ = Settings(
        name=protocol,
        max_rounds=draw(st.integers(1, 25)),
        rule=draw(st.sampled_from(sorted(RULES))),
        steps_per_round=draw(st.integers(1, 3)),
    )
    return sc, ag, settings_, draw(st.lists(st.integers(0, 2**31 - 1), min_size=1, max_size=4, unique=True))


def compile_run(sc_raw, ag_raw, settings_):
    sc = compile_scenario(sc_raw, file="generated.yaml")
    ag = compile_agenda(ag_raw, sc, file="generated-agenda.yaml")
    stc = make_static(sc, ag, settings_, PROTOCOLS[settings_.name])
    return stc, PROTOCOLS[settings_.name].check(stc)


def penalty_floor(stc) -> np.ndarray:
    """The lowest utility each actor can have: minus the sum of its red lines' strengths."""
    floor = np.zeros(stc.n_actors)
    np.add.at(floor, stc.sc.rl_actor, -stc.sc.rl_strength)
    return floor


@settings(SETTINGS, max_examples=60)
@given(runs())
def test_valid_scenarios_run_and_keep_the_invariants(case):
    sc_raw, ag_raw, settings_, seeds = case
    stc, why = compile_run(sc_raw, ag_raw, settings_)
    if why:  # the protocol cannot run this scenario: that must be a clear error through build
        assert isinstance(why, str) and why
        return
    pr = stc.sc.principal
    b = init_batch(stc, np.array(seeds))
    lock_value = np.full(b.x.shape, np.nan)

    def settle_checked(st_, b_, agreed, t):
        """Every agreement (each phase and the last), as the actors see it when it is made."""
        rows = np.flatnonzero(agreed & (b_.status == RUNNING))
        if rows.size:
            ev = evaluate_batch(st_, b_, open_mask(st_, b_), with_grad=False)
            eu, rv, hard = ev.eu[rows][:, pr], b_.rv[rows][:, pr], ev.hard[rows][:, pr]
            seated = b_.override[rows][:, pr] >= 0
            assert np.all((eu >= rv - 1e-9) | seated), ("agreement below a reservation value", eu, rv)
            assert not np.any(hard & ~seated), "agreement across a hard red line"
        settle(st_, b_, agreed, t)

    patches = [mock.patch(f"{m.__name__}.settle", settle_checked) for m in PROTOCOL_MODULES]
    for p in patches:
        p.start()
    try:
        play(stc, b, settings_.max_rounds, lock_value)
    finally:
        for p in patches:
            p.stop()
    check_table(stc, seeds, b)


def play(stc, b, max_rounds: int, lock_value: np.ndarray) -> None:
    """Step the kernel round by round, checking the texts after every round."""
    sc = stc.sc
    for t in range(max_rounds):
        before_x, before_locked = b.x.copy(), b.locked.copy()
        advance(stc, b, t)
        x = b.x
        assert np.all((x >= -EPS) & (x <= 1 + EPS)), "texts stay in [0, 1]"
        op = open_mask(stc, b)
        live = b.status == RUNNING
        assert np.all(~(op & live[:, None]) | ((x >= b.lo - EPS) & (x <= b.hi + EPS))), "texts stay in phase bounds"
        # an issue locked in an earlier phase and not reopened does not move
        still = before_locked & b.locked
        assert np.array_equal(np.where(still, x, 0.0), np.where(still, before_x, 0.0)), "locked issues moved"
        # an issue that comes back never moves back toward the status quo
        had = ~np.isnan(lock_value)
        sq = sc.status_quo
        back = had & (np.sign(lock_value - sq) * (x - lock_value) < -1e-9)
        assert not back.any(), "a reopened issue moved back toward the status quo"
        newly = b.locked & ~before_locked
        lock_value = np.where(newly, x, lock_value)
        if not (live | (b.status == SUSPENDED)).any():  # a suspended run is not over
            break


def check_table(stc, seeds, b) -> None:
    """The table of the same runs: same outcomes, terms within phase ranges, utilities within bounds."""
    sc, ag = stc.sc, stc.ag
    cols = simulate(stc, np.array(seeds))
    assert np.array_equal(cols["status"], b.status), "batch and step-by-step runs differ"
    tab = make_table(stc, cols)
    assert len(tab) == len(seeds)
    for i, iss in enumerate(sc.issues):
        term = tab[f"term_{iss}"].to_numpy()
        ok = np.isnan(term) | ((term >= -EPS) & (term <= 1 + EPS))
        assert ok.all()
        final = tab[f"final_{iss}"].to_numpy()
        assert np.all((final >= -EPS) & (final <= 1 + EPS))
        for r in range(len(tab)):
            k = int(tab["phases_agreed"].iloc[r])
            phases = [p for p in range(min(k, ag.n_phases)) if ag.open[p, i]]
            if phases and not np.isnan(term[r]) and len(phases) == 1:
                p = phases[-1]
                assert ag.lo[p, i] - EPS <= term[r] <= ag.hi[p, i] + EPS, "term outside its phase's range"
    floor = penalty_floor(stc)
    for a, act in enumerate(sc.actors):
        u = tab[f"utility_{act}"].to_numpy()
        assert np.all((u <= 1 + EPS) & (u >= floor[a] - EPS)), (act, u, floor[a])
        assert tab[f"rv_{act}"].between(-EPS, 1 + EPS).all()
    assert np.array_equal(tab["agreement"].to_numpy(), cols["status"] == AGREED)


# -- invalid scenarios --------------------------------------------------------------------

UNIT_KEYS = ("position", "salience")
ACTOR_UNIT_NUMBERS = ("reservation_value", "stubbornness", "credibility", "delay_cost", "renege_base")


def references(sc: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """Paths to values that name an actor or an issue, with which kind."""
    out: list[tuple[list[Any], str]] = []
    for k in range(len(sc["channels"])):
        out += [(["channels", k, "between", 0], "actor"), (["channels", k, "between", 1], "actor")]
    for a, act in sc["actors"].items():
        for k, line in enumerate(act.get("red_lines", [])):
            out.append((["actors", a, "red_lines", k, "issue"], "issue"))
            if "unless" in line:
                out.append((["actors", a, "red_lines", k, "unless", "issue"], "issue"))
    return out


def numbers(sc: dict[str, Any]) -> list[list[Any]]:
    """Paths to numbers that must lie in [0, 1]."""
    out: list[list[Any]] = [["trust", "initial"]]
    out += [["issues", i, "status_quo"] for i in sc["issues"]]
    for a, act in sc["actors"].items():
        out += [["actors", a, k, i] for k in UNIT_KEYS for i in act[k]]
        out += [["actors", a, k] for k in ACTOR_UNIT_NUMBERS if k in act]
        out += [["actors", a, "leverage", t] for t in act.get("leverage", {})]
    return out


def set_path(d: Any, path: list[Any], value: Any) -> None:
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value


bad_number = st.one_of(
    st.floats(1.0001, 1e6),
    st.floats(-1e6, -0.0001),
    st.just(math.nan),
    st.just(math.inf),
    st.text(string.ascii_letters, min_size=1, max_size=6),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.none().map(lambda _: {"value": 0.5, "source": "X"}),
)
bad_name = st.text(string.ascii_letters + "_", min_size=1, max_size=8).filter(
    lambda s: not (s.startswith("a") and s[1:].isdigit()) and not (s.startswith("i") and s[1:].isdigit())
)


@st.composite
def invalid_scenarios(draw) -> dict[str, Any]:
    sc = copy.deepcopy(draw(scenarios()))
    how = draw(
        st.sampled_from(
            [
                "number",
                "reference",
                "no_principal",
                "no_mediator_channel",
                "unknown_strategy",
                "leverage_target",
                "not_a_mapping",
                "no_issues",
                "bad_role",
                "missing_position",
            ]
        )
    )
    actors = list(sc["actors"])
    if how == "number":
        set_path(sc, draw(st.sampled_from(numbers(sc))), draw(bad_number))
    elif how == "reference":
        set_path(sc, draw(st.sampled_from([p for p, _ in references(sc)])), draw(bad_name))
    elif how == "no_principal":
        for act in sc["actors"].values():
            act["roles"] = [r for r in act["roles"] if r != "principal"] or ["guarantor"]
    elif how == "no_mediator_channel":
        m = draw(st.sampled_from([a for a in actors if "mediator" in sc["actors"][a]["roles"]]))
        sc["channels"] = [c for c in sc["channels"] if m not in c["between"]]
    elif how == "unknown_strategy":
        sc["actors"][draw(st.sampled_from(actors))]["strategy"] = {"name": draw(bad_name)}
    elif how == "leverage_target":
        sc["actors"][draw(st.sampled_from(actors))]["leverage"] = {draw(bad_name): 0.5}
    elif how == "not_a_mapping":
        key = draw(st.sampled_from(["issues", "actors", "trust", "shocks"]))
        sc[key] = draw(st.sampled_from([[1, 2], 3, "text"]))
    elif how == "no_issues":
        sc["issues"] = {}
    elif how == "bad_role":
        sc["actors"][draw(st.sampled_from(actors))]["roles"] = [draw(bad_name)]
    else:
        a = draw(st.sampled_from(actors))
        del sc["actors"][a]["position"][draw(st.sampled_from(list(sc["issues"])))]
    return sc


@settings(SETTINGS, max_examples=200)
@given(invalid_scenarios())
def test_invalid_scenarios_always_end_in_config_error(sc):
    with pytest.raises(ConfigError) as err:
        compile_scenario(sc, file="generated.yaml")
    e = err.value
    assert str(e).startswith("generated.yaml: scenario") and ": expected " in str(e)
    assert "\n" not in str(e)


# -- bad overrides ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def default_paths() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Keys of the default config whose values are unit-range numbers, and integer run keys."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_container(load_config([]), resolve=True)
    unit_keys = []
    for a, act in cfg["scenario"]["actors"].items():
        for k in UNIT_KEYS:
            unit_keys += [f"scenario.actors.{a}.{k}.{i}" for i in act[k]]
        unit_keys += [f"scenario.actors.{a}.reservation_value"]
    unit_keys += [f"scenario.issues.{i}.status_quo" for i in cfg["scenario"]["issues"]]
    unit_keys += ["scenario.trust.initial", "scenario.shocks.rate", "conditions.trust"]
    return tuple(unit_keys), ("n_seeds", "seed", "chunk_size", "protocol.max_rounds", "protocol.steps_per_round")


override_text = st.text(string.ascii_letters + string.digits + "_-.,[]{}:'\" =$", min_size=0, max_size=10)


@st.composite
def bad_overrides(draw) -> tuple[list[str], bool]:
    """Overrides on the default config, and whether they must fail (random text may be valid)."""
    ov = draw(_bad_overrides())
    return ov, not ov[0].startswith("garbage:")


@st.composite
def _bad_overrides(draw) -> list[str]:
    unit_keys, int_keys = default_paths()
    kinds = ["unit_range", "unit_text", "int_value", "non_finite", "huge_int", "unknown_key", "unknown_option"]
    how = draw(st.sampled_from([*kinds, "garbage"]))
    if how == "non_finite":  # infinities, NaN and numbers that overflow to infinity
        key = draw(st.sampled_from(unit_keys + int_keys + ("scenario.self_weight", "scenario.pressure_rate")))
        return [f"{key}={draw(st.sampled_from(['inf', '-inf', '.inf', 'nan', '1e400', '-1e400']))}"]
    if how == "huge_int":  # integers beyond what the engine or numpy can hold
        key = draw(st.sampled_from(("n_seeds", "seed", "protocol.max_rounds", "protocol.steps_per_round")))
        return [f"{key}={draw(st.sampled_from([2**63, 2**64 + 1, 10**20, 10**400]))}"]
    if how == "unit_range":
        v = draw(st.one_of(st.floats(1.001, 1e3), st.floats(-1e3, -0.001)))
        return [f"{draw(st.sampled_from(unit_keys))}={v!r}"]
    if how == "unit_text":
        word = draw(
            st.text(string.ascii_letters, min_size=1, max_size=8).filter(
                lambda s: s.lower() not in ("true", "false", "null", "nan", "inf", "yes", "no", "on", "off")
            )
        )
        return [f"{draw(st.sampled_from(unit_keys))}={word}"]
    if how == "int_value":
        v = draw(
            st.one_of(
                st.integers(-1000, 0),
                st.floats(0.1, 99.9).filter(lambda f: f != int(f)),
                st.text(string.ascii_letters, min_size=1, max_size=5),
            )
        )
        key = draw(st.sampled_from(int_keys))
        if key == "seed" and isinstance(v, int) and v == 0:
            v = -1
        return [f"{key}={v}"]
    if how == "unknown_key":
        parent = draw(st.sampled_from(["scenario", "scenario.actors.Israel", "protocol", "agenda", "scenario.trust"]))
        return [f"{parent}.{draw(bad_name)}zz=1"]
    if how == "unknown_option":
        return [f"{draw(st.sampled_from(['scenario', 'agenda', 'protocol']))}={draw(bad_name)}zz"]
    return [f"garbage:{draw(st.sampled_from(unit_keys + int_keys))}={draw(override_text)}"]


@settings(SETTINGS, max_examples=60)
@given(bad_overrides())
def test_bad_overrides_end_in_config_error(case):
    overrides, must_fail = case
    overrides = [o.removeprefix("garbage:") for o in overrides]
    try:
        build(load_config(overrides), overrides)
    except ConfigError as e:
        msg = str(e)
        assert ": expected " in msg and "\n" not in msg and "$VALUE" not in msg
        assert msg.startswith("command-line override"), msg
        return
    assert not must_fail, f"{overrides} was accepted"
