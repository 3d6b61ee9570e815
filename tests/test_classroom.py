"""The classroom model: the seat, counter-offers, and the views a class reads."""

from __future__ import annotations

import numpy as np
import pytest

from sim.classroom import ClassroomModel, salience_overrides, text_in_words, trajectories, utilities
from sim.model import NegotiationModel


def test_nobody_seated_is_the_engine_model_bit_for_bit():
    for seed in (0, 3, 11):
        a, b = ClassroomModel(rng=seed), NegotiationModel(rng=seed, trajectories=True)
        ra, rb = a.run(), b.run()
        assert a.log == b.log
        assert ra == rb
        np.testing.assert_array_equal(a.batch.x, b.batch.x)


def test_a_seated_principal_that_always_holds_out_blocks_agreement():
    m = ClassroomModel(rng=0)
    m.seat("Hamas")
    while m.running:
        m.step()
    assert m.status != "agreement"
    assert all(ans.move == "hold" for ans in m.answers)
    assert all("Hamas rejected" in line for line in m.log)
    free = ClassroomModel(rng=0)
    free.run()
    assert free.status == "agreement"  # the same seed agrees when Hamas follows its strategy


def test_accepting_is_recorded_and_overrides_the_strategy():
    m = ClassroomModel(rng=0)
    m.step()
    assert "Hamas rejected" in m.log[-1]
    m.seat("Hamas")
    ans = m.play("accept")
    assert ans.move == "accept" and ans.round == 2
    assert "Hamas accepted" in ans.line
    assert m.agent("Hamas").accepts


def test_a_counter_offer_is_tabled_answered_and_redrafted_from():
    free, seated = ClassroomModel(rng=0), ClassroomModel(rng=0)
    for m in (free, seated):
        m.step()
    seated.seat("Hamas")
    sc = seated.static.sc
    i = sc.issues.index("disarmament")
    verdicts = seated.counter({"disarmament": 0.3, "guarantees": 0.3})
    # the other principal answers; the guarantors judge only the guarantee they would carry,
    # and 0.3 is within what every one of them carries
    assert {v.actor for v in verdicts} == {"Israel"}
    assert seated.agent("Hamas").position[i] == 0.3 and seated.agent("Hamas").initial_position[i] == 0.3
    assert seated.text[i] == pytest.approx(0.3)
    seated.step()
    ans = seated.answers[-1]
    # next round everyone answers the offer itself, as the verdicts said they would
    assert "disarmament 0.30" in ans.line and "guarantees 0.30" in ans.line
    for v in ans.verdicts:
        assert (f"{v.actor} accepted" in ans.line) == v.accepts
        if not v.accepts:
            assert f"{v.actor} rejected" in ans.line
    assert "Hamas countered with disarmament 0.30" in ans.summary()
    # then the mediators redraft from the offer, not from where they were
    for _ in range(3):
        seated.step()
        free.step()
    assert seated.text[i] < free.text[i]
def test_bad_moves_get_clear_messages():
    m = ClassroomModel(rng=0, agenda="phased_plan")
    with pytest.raises(ValueError, match="nobody is seated"):
        m.accept()
    with pytest.raises(ValueError, match="no actor 'Fatah'"):
        m.seat("Fatah")
    m.seat("Israel")
    with pytest.raises(ValueError, match="governance is not on the table"):
        m.counter({"governance": 0.5})
    with pytest.raises(ValueError, match=r"must be a number in \[0, 1\]"):
        m.counter({"exchange": 1.5})
    with pytest.raises(ValueError, match="move must be one of"):
        m.play("walk")
    m.leave_seat()
    assert m.batch.override[0].tolist() == [-1] * m.static.sc.n_actors


def test_salience_overrides_reach_the_scenario():
    assert salience_overrides({"Israel": {"disarmament": 0.5}}) == ("scenario.actors.Israel.salience.disarmament=0.5",)
    m = ClassroomModel(rng=0, salience={"Israel": {"disarmament": 0.2}})
    sc = m.static.sc
    assert sc.salience[sc.actors.index("Israel"), sc.issues.index("disarmament")] == pytest.approx(0.2)


def test_views_name_values_with_anchor_labels():
    m = ClassroomModel(rng=0, agenda="phased_plan")
    for _ in range(3):
        m.step()
    t = text_in_words(m)
    assert list(t["issue"]) == list(m.static.sc.issues)
    row = t.set_index("issue").loc["governance"]
    assert row["state"] == "not yet open"
    assert row["meaning"] == m.static.sc.anchor_label(m.static.sc.issues.index("governance"), row["value"])
    u = utilities(m)
    assert set(u.columns) >= {"actor", "expected_utility", "reservation_value", "aspiration", "accepts"}
    text, pos = trajectories(m)
    assert len(text) == 4 and len(pos) == 4 * m.static.sc.n_actors
