"""The earlier rounds of the Gaza talks as calibration data (experiments/calibration/earlier_rounds.yaml).

Every round file composes on the shared base (``conf/scenario/gaza_rounds_base.yaml``),
compiles with its agenda and runs; every number it sets carries a source tag; the
behavioural parameters are the same in every round (only the base sets them); the
targets file is well formed; and every calibration parameter path exists, has the same
value in every round, and moves the compiled model when set.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from omegaconf import DictConfig, OmegaConf

from sim.api import CONF_DIR, build, load_config, run
from sim.kernel import Static

CAL_FILE = Path(CONF_DIR).parent / "experiments" / "calibration" / "earlier_rounds.yaml"
CAL = yaml.safe_load(CAL_FILE.read_text())
BASE = "gaza_rounds_base"
ROUND_SCENARIOS = sorted(p.stem for p in (Path(CONF_DIR) / "scenario").glob("round_*.yaml"))
ROUND_AGENDAS = sorted(p.stem for p in (Path(CONF_DIR) / "agenda").glob("round_*.yaml"))
STATISTICS = {"agreement_rate", "phase1_rate", "phase2_given_phase1", "median_rounds_agreed", "blocking_share"}
RATES = STATISTICS - {"median_rounds_agreed"}


def overrides(name: str) -> list[str]:
    r = CAL["rounds"][name]
    return [f"scenario={r['scenario']}", f"agenda={r['agenda']}", *(r.get("overrides") or [])]


@functools.cache
def composed(name: str):
    return load_config(overrides(name))


@functools.cache
def compiled(name: str) -> Static:
    return build(composed(name), overrides(name))


@functools.cache
def scenario_only(scenario: str) -> Static:
    """A round scenario compiled with the agenda of its first calibration entry."""
    name = next(n for n, r in CAL["rounds"].items() if r["scenario"] == scenario)
    return compiled(name)


def test_every_round_file_is_used_and_builds_on_the_base():
    used_sc = {r["scenario"] for r in CAL["rounds"].values()}
    used_ag = {r["agenda"] for r in CAL["rounds"].values()}
    assert used_sc == set(ROUND_SCENARIOS) and len(ROUND_SCENARIOS) == 4
    assert used_ag == set(ROUND_AGENDAS)
    for s in ROUND_SCENARIOS:
        raw = yaml.safe_load((Path(CONF_DIR) / "scenario" / f"{s}.yaml").read_text())
        assert raw["defaults"] == [BASE, "_self_"], s
        assert composed(next(n for n, r in CAL["rounds"].items() if r["scenario"] == s)).scenario.name == s


@pytest.mark.parametrize("name", sorted(CAL["rounds"]))
def test_round_composes_compiles_and_runs(name):
    st = compiled(name)
    assert st.sc.name == CAL["rounds"][name]["scenario"]
    assert st.ag.name == CAL["rounds"][name]["agenda"]
    cfg = composed(name).copy()
    cfg.n_seeds = 3
    t = run(cfg).table
    assert len(t) == 3
    assert set(t["status"]) <= {"agreement", "stalemate", "shock", "walkout", "max_rounds"}
    assert (t["phases_agreed"] <= t["n_phases"]).all() and (t["rounds"] >= 1).all()


@pytest.mark.parametrize("scenario", ROUND_SCENARIOS)
def test_every_number_of_a_round_carries_a_source(scenario):
    st = scenario_only(scenario)
    bad = {k: v for k, v in st.sc.sources.items() if not (v == "default" or v[:1] in "QSJ")}
    assert bad == {}
    # and the round file itself writes no bare number: each is {value: x, source: ...}
    raw = yaml.safe_load((Path(CONF_DIR) / "scenario" / f"{scenario}.yaml").read_text())

    def bare(node, path):
        if isinstance(node, dict):
            if "value" in node:
                assert str(node.get("source", ""))[:1] in "QSJ" and node.get("source"), f"{path}: no source tag"
                return
            for k, v in node.items():
                bare(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                bare(v, f"{path}[{i}]")
        elif isinstance(node, int | float) and not isinstance(node, bool):
            raise AssertionError(f"{scenario}: bare number at {path}")

    bare(raw, scenario)


def test_the_base_numbers_carry_sources_too():
    st = build(load_config([f"scenario={BASE}"]))
    assert all(v == "default" or v[:1] in "QSJ" for v in st.sc.sources.values())


def behaviour(st: Static) -> dict[str, object]:
    """The behavioural parameters of a compiled scenario: what must not differ between rounds."""
    sc = st.sc
    return {
        "actors": sc.actors,
        "patience": sc.patience,
        "strategy": sc.strategy,
        "strategy_params": sc.strategy_params,
        "rl_actor": sc.rl_actor,
        "rl_issue": sc.rl_issue,
        "rl_strength": sc.rl_strength,
        "rl_strength_given": sc.rl_strength_given,
        "rl_hard": sc.rl_hard,
        "trust_gain": sc.trust_gain,
        "renege_base": sc.renege_base,
        "delay_cost": sc.delay_cost,
        "effects": sc.effects,
        "pressure_rate": sc.pressure_rate,
        "susceptibility": sc.susceptibility,
        "clock_carry": sc.clock_carry,
        "discount": sc.discount,
        "reservation_value": sc.reservation_value,  # the values of no deal are shared parameters too
        "shocks": (sc.shock_rate, sc.shock_trust_drop, sc.shock_collapse, sc.shock_suspend, sc.shock_suspend_rounds),
        "uncertainty": (sc.noise_position, sc.noise_salience, sc.noise_reservation),
    }


def same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b


def test_behavioural_parameters_are_the_same_in_every_round():
    ref = behaviour(build(load_config([f"scenario={BASE}"])))
    for name in sorted(CAL["rounds"]):
        got = behaviour(compiled(name))
        diff = [k for k in ref if not same(ref[k], got[k])]
        assert diff == [], f"{name} changes behavioural parameters: {diff}"


def test_the_base_shares_the_default_scenarios_behaviour():
    """What is fitted on the earlier rounds carries over to the October 2025 forecast."""
    ref = behaviour(build(load_config([])))
    got = behaviour(build(load_config([f"scenario={BASE}"])))
    assert [k for k in ref if not same(ref[k], got[k])] == []


def test_round_files_change_no_behavioural_key():
    """Belt and braces: the round files do not even write a behavioural key."""
    behavioural = {
        "patience",
        "strategy",
        "red_lines",
        "delay_cost",
        "renege_base",
        "stubbornness",
        "clock_carry",
        "discount",
        "pressure_rate",
        "on_implement",
        "shocks",
        "uncertainty",
        "self_weight",
    }

    def keys(node):
        if isinstance(node, dict):
            for k, v in node.items():
                yield k
                yield from keys(v)

    for s in ROUND_SCENARIOS:
        raw = yaml.safe_load((Path(CONF_DIR) / "scenario" / f"{s}.yaml").read_text())
        assert not set(keys(raw)) & behavioural, s
        assert "gain_per_phase" not in str(raw.get("trust", "")), s


def test_round_agendas_need_the_round_scenarios():
    """A round agenda that leaves out issues is refused on a scenario where they are core."""
    from sim.errors import ConfigError

    with pytest.raises(ConfigError, match="every core issue"):
        build(load_config(["agenda=round_2023_11_pause"]))


def test_targets_are_well_formed():
    targets = CAL["targets"]
    assert len(targets) >= 6
    names = [t["name"] for t in targets]
    assert len(names) == len(set(names))
    for t in targets:
        assert set(t) >= {"name", "round", "statistic", "target", "tolerance", "source", "note"}, t["name"]
        assert t["round"] in CAL["rounds"], t["name"]
        assert t["statistic"] in STATISTICS, t["name"]
        assert isinstance(t["tolerance"], int | float) and t["tolerance"] > 0, t["name"]
        assert isinstance(t["target"], int | float) and math.isfinite(t["target"]), t["name"]
        if t["statistic"] in RATES:
            assert 0 <= t["target"] <= 1, t["name"]
        assert str(t["source"])[:1] in "SJ" and "J:" in t["source"], t["name"]  # every reading is a judgement
        if t["statistic"] == "blocking_share":
            sc = scenario_only(CAL["rounds"][t["round"]]["scenario"]).sc
            assert t["issues"] and set(t["issues"]) <= set(sc.issues), t["name"]
        else:
            assert "issues" not in t, t["name"]
        if t["statistic"] in ("phase2_given_phase1",):
            assert compiled(t["round"]).ag.n_phases >= 2, t["name"]
    # one round at least per pattern of earlier_rounds.md
    assert {t["round"] for t in targets} == set(CAL["rounds"])


def test_parameters_are_well_formed():
    params = CAL["parameters"]
    assert 6 <= len(params) <= 14
    assert len({p["name"] for p in params}) == len(params)
    for p in params:
        assert set(p) - {"levels"} == {"name", "paths", "low", "high", "integer", "source"}, p["name"]
        assert p["low"] < p["high"] and isinstance(p["integer"], bool) and p["source"].startswith("J"), p["name"]
        assert p["paths"] and all(path.startswith("scenario.") for path in p["paths"]), p["name"]


def value_at(cfg, path: str):
    """The number at a dotted path: plain, or the ``value`` of a tagged ``{value, source}``."""
    v = OmegaConf.select(cfg, path, default=None)
    if isinstance(v, DictConfig) and "value" in v:
        v = v.value
    return v


@pytest.mark.parametrize("param", CAL["parameters"], ids=lambda p: p["name"])
def test_parameter_paths_exist_and_agree_in_every_round(param):
    values = set()
    for name in sorted(CAL["rounds"]):
        cfg = composed(name)
        for path in param["paths"]:
            v = value_at(cfg, path)
            assert isinstance(v, int | float) and not isinstance(v, bool), f"{name}: {path} -> {v!r}"
            assert param["low"] <= v <= param["high"], f"{name}: {path} = {v} outside the range"
            values.add(float(v))
    assert len(values) == 1, f"{param['name']}: different values across rounds and paths {values}"


@pytest.mark.parametrize("param", CAL["parameters"], ids=lambda p: p["name"])
def test_setting_a_parameter_moves_the_compiled_model(param):
    """Each path reaches the compiled scenario (a misspelt path would do nothing). The
    calibration sets a path to a plain number (``sim.design``), as this override does."""
    name = "c3_phased"  # every issue open, two phases: every parameter matters here
    new = param["high"] if not param["integer"] else int(param["high"])
    ov = overrides(name) + [f"{path}={new}" for path in param["paths"]]
    moved, ref = behaviour(build(load_config(ov), ov)), behaviour(compiled(name))
    assert [k for k in ref if not same(ref[k], moved[k])], param["name"]
