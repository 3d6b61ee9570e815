"""Protocols: registration, configuration, behaviour tables and the mediator rules."""

from __future__ import annotations

import numpy as np
import pytest

from sim.api import build, load_config, run
from sim.batch import advance
from sim.errors import ConfigError
from sim.kernel import AGREED, RUNNING, evaluate_batch, init_batch
from sim.protocols import PROTOCOLS
from sim.protocols.alternating import proposer_of
from sim.protocols.rules import RULES


def test_registry_and_configs():
    assert {"mediated", "alternating_offers", "monotonic_concession"} <= set(PROTOCOLS)
    assert {"nash", "kalai_smorodinsky", "split_the_difference", "biased"} <= set(RULES)
    for name in ("alternating_offers", "monotonic_concession"):
        st = build(load_config([f"protocol={name}", "scenario=symmetric"]))
        assert st.settings.name == name


@pytest.mark.parametrize("protocol", ["alternating_offers", "monotonic_concession"])
def test_runs_the_default_scenario_and_repeats_itself(protocol):
    ov = [f"protocol={protocol}", "n_seeds=8", "seed=4"] + (["protocol.params.grid=3"] if "mono" in protocol else [])
    a = run(load_config(ov)).table
    b = run(load_config([o for o in ov if not o.startswith(("n_seeds", "seed"))] + ["seed=6", "n_seeds=1"])).table
    row = a[a.seed == 6].iloc[0]
    assert row["status"] == b.iloc[0]["status"] and row["rounds"] == b.iloc[0]["rounds"]
    assert row["utility_Israel"] == b.iloc[0]["utility_Israel"]


def test_alternating_turns_go_round_the_principals():
    st = build(load_config(["scenario=split_the_pie", "protocol=alternating_offers"]))
    b = init_batch(st, np.array([0]))
    assert [int(proposer_of(st, b, t)[0]) for t in range(4)] == [0, 1, 0, 1]
    st = build(load_config(["scenario=split_the_pie", "protocol=alternating_offers", "agenda.first_mover=B"]))
    assert [int(proposer_of(st, b, t)[0]) for t in range(3)] == [1, 0, 1]


def test_alternating_b_first_mirrors_rubinstein():
    rs = run(
        load_config(
            [
                "scenario=split_the_pie",
                "protocol=alternating_offers",
                "agenda.first_mover=B",
                "scenario.actors.A.discount=0.9",
                "scenario.actors.B.discount=0.7",
            ]
        )
    )
    rec = rs.record(0)
    b_share = (1 - 0.9) / (1 - 0.9 * 0.7)
    assert rec["rounds"] == 1 and abs(1 - rec["terms"]["share"]["value"] - b_share) < 0.01


def test_alternating_offer_is_the_logroll():
    # a proposer asking for less than everything gives away first the issue it values least
    st = build(load_config(["scenario=logroll", "protocol=alternating_offers"]))
    from sim.protocols.alternating import frontier_offer

    b = init_batch(st, np.array([0]))
    op = np.ones((1, 2), bool)
    others = np.array([[False, True, False]])
    x = frontier_offer(st, b, np.array([0]), np.array([0.9]), op, others)
    assert np.allclose(x, [[1.0, 0.5]])  # A (0.8 on a, 0.2 on b) concedes half of b


def test_monotonic_rejects_a_deal_set_too_large():
    with pytest.raises(ConfigError, match="protocol.params.grid"):
        build(load_config(["protocol=monotonic_concession", "protocol.params.grid=11"]))


def test_monotonic_stalemate_when_nobody_concedes():
    cfg = load_config(["scenario=bilateral_zeuthen", "protocol=monotonic_concession"])
    for a in ("A", "B"):
        cfg.scenario.actors[a].strategy.name = "hardliner"
        cfg.scenario.actors[a].strategy.params = {"floor": 1.0}
    rec = run(cfg).record(0)
    assert rec["status"] == "stalemate" and rec["rounds"] == 2
    assert rec["blocking_actors"]


def test_split_the_difference_goes_to_the_midpoint():
    rec = run(
        load_config(
            [
                "scenario=logroll",
                "protocol.rule=split_the_difference",
                "protocol.max_rounds=200",
                "protocol.steps_per_round=5",
            ]
        )
    ).record(0)
    assert rec["agreement"]
    assert all(abs(t["value"] - 0.5) < 1e-3 for t in rec["terms"].values())


def test_biased_rule_leans_toward_the_stronger_side():
    base = ["scenario=bilateral_three_issues", "protocol.max_rounds=200", "protocol.steps_per_round=5"]
    nash = run(load_config(base + ["protocol.rule=nash"])).record(0)
    lean = run(load_config(base + ["protocol.rule=biased", "+protocol.params.power={A: 3.0}"])).record(0)
    assert lean["agreement"] and nash["agreement"]
    assert lean["utilities"]["A"] > nash["utilities"]["A"] + 0.01
    assert lean["utilities"]["B"] < nash["utilities"]["B"]


def test_every_protocol_agrees_only_on_acceptable_texts():
    for protocol, scenario in (("alternating_offers", "logroll"), ("monotonic_concession", "bilateral_zeuthen")):
        ov = [f"protocol={protocol}", f"scenario={scenario}"]
        st = build(load_config(ov))
        b = init_batch(st, np.arange(5))
        for t in range(st.settings.max_rounds):
            before = b.status.copy()
            advance(st, b, t)
            new = (before == RUNNING) & (b.status == AGREED)
            if new.any():
                ev = evaluate_batch(st, b, np.ones((len(b), st.n_issues), bool), with_grad=False)
                assert np.all(ev.eu[new] >= b.rv[new] - 1e-9)
            if not (b.status == RUNNING).any():
                break
        assert (b.status == AGREED).all(), protocol


def test_the_engine_imports_neither_mesa_nor_hydra_and_protocols_import_no_other_protocol():
    import subprocess
    import sys

    code = (
        "import sys; import sim.kernel, sim.batch, sim.compiled, sim.utility, sim.protocols, sim.reasons; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('mesa', 'hydra')); print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
    from pathlib import Path

    import sim.protocols

    here = Path(sim.protocols.__file__).parent
    for f in here.glob("*.py"):
        text = f.read_text()
        for other in ("alternating", "mediated", "monotonic", "expected_utility"):
            if f.stem != other and f.stem != "__init__":
                assert f"sim.protocols.{other}" not in text, (f.name, other)


def test_the_static_state_carries_its_protocol():
    st = build(load_config(["protocol=monotonic_concession", "scenario=symmetric"]))
    assert st.protocol is PROTOCOLS["monotonic_concession"]


@pytest.mark.slow
def test_each_protocol_has_its_own_schema_and_every_config_file_composes():
    """Keys of one protocol are errors in another; every file under conf/ composes in a fresh interpreter."""
    import subprocess
    import sys
    from pathlib import Path

    from omegaconf import OmegaConf

    from sim.config import PROTOCOL_SCHEMAS

    for name, schema in PROTOCOL_SCHEMAS.items():
        cfg = load_config([f"protocol={name}", "scenario=symmetric"])
        assert OmegaConf.get_type(cfg.protocol) is schema
    with pytest.raises(ConfigError) as e:
        load_config(["protocol=monotonic_concession", "protocol.rule=nash"])
    assert "protocol.rule" in str(e.value) and "a key of protocol" in str(e.value)
    conf = Path(__file__).resolve().parent.parent / "conf"
    choices = {
        g: sorted(p.stem for p in (conf / g).glob("*.yaml")) for g in ("scenario", "agenda", "protocol", "experiment")
    }
    code = "\n".join(
        [
            "from sim import load_config",
            "from sim.api import build",
            f"choices = {choices!r}",
            "for s in choices['scenario']:",
            "    load_config([f'scenario={s}'])",
            "for g in ('agenda', 'protocol'):",
            "    for c in choices[g]:",
            "        load_config([f'{g}={c}'])",
            "for e in choices['experiment']:",
            "    load_config([f'experiment={e}'])",
            "build(load_config(['agenda=order_03']))  # the generated orders, without importing sim.sweep first",
            "print('ok')",
        ]
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.stdout.strip().endswith("ok"), res.stderr[-2000:]
