"""The classroom model: the seat, counter-offers, and the views a class reads."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sim.classroom import ClassroomModel, brief, salience_overrides, text_in_words, trajectories, utilities
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
    drawn = seated.agent("Hamas").initial_position.copy()
    verdicts = seated.counter({"disarmament": 0.3, "guarantees": 0.3})
    # the other principal answers; the guarantors judge only the guarantee they would carry,
    # and 0.3 is within what every one of them carries
    assert {v.actor for v in verdicts} == {"Israel"}
    assert seated.text[i] != pytest.approx(0.3)  # nothing is tabled before the round is played
    seated.step()
    ans = seated.answers[-1]
    # the round's text is the offer itself, and everyone answers it as the verdicts said
    assert "Hamas's counter-offer was tabled: disarmament 0.30" in ans.line and "guarantees 0.30" in ans.line
    for v in ans.verdicts:
        assert (f"{v.actor} accepted" in ans.line) == v.accepts
        if not v.accepts:
            assert f"{v.actor} rejected" in ans.line
    assert "Hamas accepted" in ans.line  # the sender stands by its own offer
    assert "Hamas countered with disarmament 0.30" in ans.summary()
    # its stated position moved to the offer; its priorities (by which the outcome is scored) did not
    np.testing.assert_array_equal(seated.agent("Hamas").initial_position, drawn)
    # then the mediators redraft from the offer, not from where they were
    for _ in range(3):
        seated.step()
        free.step()
    assert seated.text[i] < free.text[i]


def test_a_counter_offer_position_stays_where_the_student_put_it():
    """The stubborn part of the position (``pos_anchor``) moves with the offer: no snap back."""
    m = ClassroomModel(rng=0)
    m.step()
    m.seat("Hamas")
    sc = m.static.sc
    i = sc.issues.index("disarmament")
    a = sc.actors.index("Hamas")
    before = float(m.batch.pos[0, a, i])
    m.play("counter", {"disarmament": 0.45})
    after_offer = float(m.batch.pos[0, a, i])
    for _ in range(5):
        m.step()
    later = float(m.batch.pos[0, a, i])
    assert abs(after_offer - 0.45) < 0.05
    # influence may nudge it, but it does not go back to where it was
    assert abs(later - 0.45) < abs(later - before) and abs(later - 0.45) < 0.05
    assert m.stated["Hamas"] == {"disarmament": 0.45}


def test_a_preview_changes_nothing_and_reports_both_sides():
    m = ClassroomModel(rng=0)
    m.step()
    m.seat("Hamas")
    x, pos = m.batch.x.copy(), m.batch.pos.copy()
    p = m.preview({"disarmament": 0.3, "guarantees": 0.3})
    np.testing.assert_array_equal(m.batch.x, x)
    np.testing.assert_array_equal(m.batch.pos, pos)
    assert m.moves == {}
    assert 0.0 < p.utility < 1.0 and p.utility > m.own_utility("Hamas")  # closer to Hamas's ideal
    assert [v.actor for v in p.verdicts] == ["Israel"] and not np.isnan(p.verdicts[0].utility)
    assert p.summary().startswith(f"Worth {p.utility:.2f} to you")
    # the preview's verdict is what Israel answers once the offer is sent
    ans = m.play("counter", {"disarmament": 0.3, "guarantees": 0.3})
    assert ("Israel accepted" in ans.line) == p.verdicts[0].accepts


def test_several_seats_each_move_and_no_move_is_a_hold():
    m = ClassroomModel(rng=0)
    m.sit("Israel")
    m.sit("Hamas")
    assert m.humans == ["Israel", "Hamas"] and m.seated == "Israel"
    m.accept("Israel")
    assert m.has_moved("Israel") and not m.has_moved("Hamas")
    m.step()
    israel, hamas = m.answer_of("Israel"), m.answer_of("Hamas")
    assert israel.move == "accept" and israel.chosen
    assert hamas.move == "hold" and not hamas.chosen
    assert "Hamas made no move, so it held out" in hamas.summary()
    assert "Israel accepted" in m.log[-1] and "Hamas rejected: held out (a seated player's decision)" in m.log[-1]
    # two counter-offers in one round: the text is their mean, and neither sender's own offer
    m.counter({"disarmament": 0.2}, "Hamas")
    m.counter({"disarmament": 0.8}, "Israel")
    m.step()
    i = m.static.sc.issues.index("disarmament")
    assert (
        "Israel and Hamas's counter-offer was tabled" in m.log[-1]
        or "Hamas and Israel's counter-offer was tabled" in m.log[-1]
    )
    assert "disarmament 0.50" in m.log[-1]
    assert m.batch.override[0, m.static.sc.actors.index("Israel")] == 0
    m.stand("Israel")
    assert m.humans == ["Hamas"] and m.batch.override[0, m.static.sc.actors.index("Israel")] == -1
    with pytest.raises(ValueError, match="Israel is not seated"):
        m.accept("Israel")
    assert m.text[i] >= 0.0


def test_reasons_name_the_direction_in_anchor_words_with_enough_digits():
    m = ClassroomModel(rng=0)
    m.run()
    text = " ".join(m.log)
    sc = m.static.sc
    labels = {lbl for anchors in sc.anchors for _, lbl in anchors}
    reasons = re.findall(r"wants (\w+) moved toward '([^']+)' \(its position ([\d.]+), the text ([\d.]+)\)", text)
    assert reasons
    for issue, label, want, now in reasons:
        assert label in labels and issue in sc.issues
        assert want != now  # the two numbers differ as printed
        i = sc.issues.index(issue)
        target = [at for at, lbl in sc.anchors[i] if lbl == label][0]
        # the anchor named lies on the side the actor wants the issue moved to
        assert (target - float(now)) * (float(want) - float(now)) > 0
    # "X below its aspiration Y" never prints two equal numbers
    for low, high in re.findall(r"expected utility (\d+\.\d+) below its (?:aspiration|no-deal value) (\d+\.\d+)", text):
        assert float(low) < float(high), (low, high)
    assert "wants more on" not in text


def test_a_change_of_mind_is_explained():
    m = ClassroomModel(rng=0)
    m.run()
    turned = [line for line in m.log if "changed its mind" in line]
    assert turned, "the default negotiation has actors who first refuse and then accept"
    for line in turned:
        assert re.search(
            r"accepted \(changed its mind: (its aspiration fell from [\d.]+ to [\d.]+|its deadline passed"
            r"|its no-deal value fell|the new text gives it)",
            line,
        ), line


def test_a_brief_is_in_plain_words_from_the_scenario():
    m = ClassroomModel(rng=0)
    b = brief(m, "Hamas")
    assert b["who"].startswith("You are Hamas (principal)")
    assert len(b["priorities"]) == m.static.sc.n_issues
    shares = [float(re.search(r"\((\d+)% of what", p).group(1)) for p in b["priorities"]]
    assert shares == sorted(shares, reverse=True) and abs(sum(shares) - 100) <= 3
    assert any("disarmament must be at most 0.50" in r for r in b["red_lines"])
    assert f"{float(m.batch.rv0[0, 1]):.2f}" in b["no_deal"]
    with pytest.raises(ValueError, match="no actor 'Fatah'"):
        brief(m, "Fatah")


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
    with pytest.raises(ValueError, match="give a value for at least one issue"):
        m.counter({})
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
