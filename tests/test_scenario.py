"""Scenario schema: every bad value is caught with the file, the key and what was expected."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from omegaconf import OmegaConf

from sim.api import build, load_config
from sim.errors import ConfigError
from sim.scenario import compile_scenario


def raw_default() -> dict:
    return OmegaConf.to_container(load_config([]).scenario, resolve=True)


def compile_with(mutate) -> None:
    raw = copy.deepcopy(raw_default())
    mutate(raw)
    compile_scenario(raw, file="conf/scenario/test.yaml")


@pytest.mark.parametrize(
    ("mutate", "key", "expected"),
    [
        (
            lambda r: r["actors"]["Israel"]["salience"].update(disarmamnet=0.5),
            "scenario.actors.Israel.salience.disarmamnet",
            "an issue of this scenario",
        ),
        (
            lambda r: r["actors"]["Israel"]["position"].update(disarmament=1.4),
            "scenario.actors.Israel.position.disarmament",
            "a position in [0, 1]",
        ),
        (
            lambda r: r["actors"]["Hamas"]["salience"].update(withdrawal=-0.1),
            "scenario.actors.Hamas.salience.withdrawal",
            "a salience in [0, 1]",
        ),
        (
            lambda r: r["channels"].append({"between": ["Israel", "Turkey"]}),
            "scenario.channels[9].between",
            "actors of this scenario",
        ),
        (
            lambda r: r["actors"]["US"]["leverage"].update(Jordan=0.5),
            "scenario.actors.US.leverage.Jordan",
            "another actor",
        ),
        (
            lambda r: r["actors"]["Israel"]["red_lines"].append({"issue": "borders", "at_least": 0.5}),
            "scenario.actors.Israel.red_lines[3].issue",
            "an issue of this scenario",
        ),
        (
            lambda r: [a.update(roles=["mediator"]) for n, a in r["actors"].items() if n in ("Israel", "Hamas")],
            "scenario.actors",
            "principal",
        ),
        (
            lambda r: r["actors"]["Israel"]["strategy"].update(name="bulware"),
            "scenario.actors.Israel.strategy.name",
            "one of",
        ),
        (
            lambda r: r["actors"]["Israel"]["strategy"]["params"].update(e=-1),
            "scenario.actors.Israel.strategy.params.e",
            "a number in",
        ),
        (
            lambda r: r["actors"]["Israel"].update(reservation_value={"value": 0.4, "source": "X"}),
            "scenario.actors.Israel.reservation_value.source",
            "Q, S or J",
        ),
        (
            lambda r: r.update(channels=[c for c in r["channels"] if "Qatar" not in c["between"]]),
            "scenario.channels",
            "mediator Qatar",
        ),
        (
            lambda r: r["issues"]["withdrawal"].update(status_quo=2),
            "scenario.issues.withdrawal.status_quo",
            "in [0, 1]",
        ),
    ],
)
def test_bad_scenario_names_key_and_expectation(mutate, key, expected):
    with pytest.raises(ConfigError) as err:
        compile_with(mutate)
    msg = str(err.value)
    assert msg.startswith("conf/scenario/test.yaml: ")
    assert f" {key}: " in msg
    assert expected in msg


def test_default_scenario_tags_every_number():
    st = build(load_config([]))
    untagged = [k for k, v in st.sc.sources.items() if v == "untagged"]
    assert untagged == []
    assert len(st.sc.sources) > 100
    assert all(v[0] in "QSJ" or v == "default" for v in st.sc.sources.values())


def test_default_scenario_shape(default_static):
    sc = default_static.sc
    assert sc.actors == ("Israel", "Hamas", "US", "Qatar", "Egypt")
    assert set(sc.issues) >= {"disarmament", "withdrawal", "guarantees", "governance", "exchange", "ceasefire"}
    assert sc.principal.tolist() == [True, True, False, False, False]
    assert sc.mediator[2:].all() and sc.guarantor[2] and not sc.guarantor[:2].any()
    g = sc.graph()
    assert not g.has_edge("Israel", "Hamas"), "Israel and Hamas talk only through mediators"
    np.testing.assert_allclose(sc.influence.sum(axis=1), 1.0)
    assert sc.weight.sum(axis=1) == pytest.approx(np.ones(sc.n_actors))


def test_agenda_must_cover_core_issues():
    with pytest.raises(ConfigError, match="agenda.order: expected every core issue"):
        build(load_config(["agenda=sequence", "agenda.order=[disarmament,withdrawal,guarantees]"]))


def test_agenda_unknown_issue_and_first_mover():
    with pytest.raises(ConfigError, match=r"agenda.order\[1\]: expected an issue"):
        build(load_config(["agenda=sequence", "agenda.order=[disarmament,borders,guarantees,governance]"]))
    with pytest.raises(ConfigError, match="agenda.first_mover"):
        build(load_config(["agenda.first_mover=Turkey"]))


def test_non_positive_rounds_and_seeds():
    with pytest.raises(ConfigError, match="protocol.max_rounds"):
        build(load_config(["protocol.max_rounds=0"]))
    with pytest.raises(ConfigError, match="n_seeds"):
        build(load_config(["n_seeds=0"]))
