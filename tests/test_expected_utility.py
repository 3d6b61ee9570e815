"""Bueno de Mesquita's expected-utility protocol: the published case, the variants, the plumbing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim import validate
from sim.api import build, load_config, run
from sim.baselines import weighted_median
from sim.errors import ConfigError
from sim.model import NegotiationModel
from sim.protocols.expected_utility import bdm_round, forecast

EC = ["scenario=ec_emissions_1994", "protocol=expected_utility"]


def test_published_case_lands_within_a_year_of_the_published_forecast():
    case = validate.ec_case()
    assert case.passed, case
    f = validate.ec_forecasts()
    assert abs(f["expected_utility (scholz_2011)"]["years"] - validate.EC_PUBLISHED) <= 1.0
    # the baselines of the case file, computed from the published table
    assert f["weighted mean"]["years"] == pytest.approx(7.39, abs=0.005)
    assert f["weighted median"]["years"] == pytest.approx(7.0)


def test_the_path_retraces_the_published_replication():
    path = validate.bdm_path("scholz_2011", rounds=len(validate.EC_SCHOLZ_PATH))
    assert path[0] == pytest.approx(7.0)  # the Condorcet winner of the stated positions
    diffs = np.abs(np.array(path[1:]) - np.array(validate.EC_SCHOLZ_PATH))
    assert diffs.max() <= 0.3, diffs
    # and, as they report, it does not stabilise: the forecast falls back after round 5
    assert min(path[5:]) < 8.0 < max(path[5:])


def test_textbook_variant_settles_on_the_weighted_median():
    rs = run(load_config([*EC, "protocol.params.variant=textbook"]))
    rec = rs.record(0)
    assert rec["agreement"] and rec["rounds"] == 1
    sc = rs.static.sc
    med = weighted_median(sc.position, sc.capability[:, None] * sc.salience)[0]
    assert rec["terms"]["delay"]["value"] == pytest.approx(med)


def test_one_round_by_hand_on_two_actors():
    # two actors, equal weight, at 0 and 1: each one's challenge of the other is a coin toss
    # worth nothing more than the status quo, so nobody moves (textbook P = 1/2)
    x = np.array([[0.0, 1.0]])
    s = np.array([[0.5, 0.5]])
    new, r = bdm_round(x, s, np.array([1.0, 1.0]), np.array([1.0]), "textbook")
    assert np.array_equal(new, x) and np.allclose(r, 1.0)
    # a weak, indifferent actor facing a strong, committed one: the weak one gives way
    s = np.array([[0.1, 1.0]])
    new, _ = bdm_round(x, s, np.array([0.1, 1.0]), np.array([1.0]), "textbook")
    assert new[0, 1] == 1.0 and new[0, 0] > 0.0


def test_a_batch_of_runs_equals_each_run_alone():
    rng = np.random.default_rng(3)
    x, s = rng.random((6, 7)), rng.random((6, 7))
    s[2, 3] = 0.0  # an actor with no stake in one run
    c = rng.random(7)
    scale = x.max(axis=1) - x.min(axis=1)
    for variant in ("scholz_2011", "textbook"):
        many, _ = bdm_round(x, s, c, scale, variant, q=0.6)
        for k in range(6):
            one, _ = bdm_round(x[k : k + 1], s[k : k + 1], c, scale[k : k + 1], variant, q=0.6)
            assert np.array_equal(one[0], many[k])
        assert np.all((many >= x.min(axis=1, keepdims=True)) & (many <= x.max(axis=1, keepdims=True)))
        assert many[2, 3] == x[2, 3]  # who takes no part does not move
    assert forecast(x, s, c).shape == (6,)


def test_runs_any_scenario_through_the_result_tables_and_repeats_itself():
    cfg = load_config(["protocol=expected_utility", "n_seeds=6", "seed=3"])
    a, b = run(cfg).table, run(cfg).table
    assert a.equals(b)
    assert set(a["status"]) <= {"agreement", "max_rounds", "stalemate", "shock", "walkout"}
    assert {"baseline_mean_disarmament", "baseline_median_disarmament"} <= set(a.columns)


def test_mesa_model_equals_the_batch():
    rs = run(load_config([*EC, "n_seeds=3", "seed=5"]))
    for k in range(3):
        m = NegotiationModel(rng=5 + k, static=rs.static)
        got, want = m.run(), rs.record(k)
        got.pop("config_hash", None)
        want.pop("config_hash", None)
        assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)


@pytest.mark.parametrize(
    "key,value,expected",
    [
        ("variant", "nonsense", "variant must be one of"),
        ("q", 1.5, "q must be a probability"),
        ("risk", 7, "risk must be null"),
        ("settle_rounds", 0, "settle_rounds must be a whole number"),
    ],
)
def test_bad_parameters_name_the_key(key, value, expected):
    with pytest.raises(ConfigError) as e:
        build(load_config([*EC, f"protocol.params.{key}={value}"]))
    assert expected in str(e.value) and "protocol" in str(e.value)


@pytest.mark.workflow
def test_validate_prints_the_published_case_and_draws_its_path(tmp_path, capsys):
    assert validate.main(["--figures", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Bueno de Mesquita 1994, published" in out and "weighted mean" in out and "7.39" in out
    assert (tmp_path / "ec_emissions_1994.png").stat().st_size > 10_000
