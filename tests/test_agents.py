"""Agents that explain themselves: their verdicts are the protocol's, their reasons the round log's."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import NegotiationModel


@pytest.mark.parametrize("agenda", ["comprehensive", "phased_plan"])
def test_would_accept_predicts_the_next_verdict(agenda):
    m = NegotiationModel(agenda=agenda, rng=3)
    names = [n for n, p in zip(m.static.sc.actors, m.static.sc.principal, strict=True) if p]
    checked = 0
    while m.status == "running" and checked < 60:
        said = {n: m.agent(n).would_accept() for n in names}
        values = {n: m.agent(n).evaluate().expected_utility for n in names}
        phase = m.phase
        m.step()
        if m.phase != phase or m.status != "running":
            break  # the text judged was agreed: the next phase's text is another
        for n in names:
            a = m.agent(n)
            assert a.accepts == said[n][0], (m.round, n)
            assert a.expected_utility == pytest.approx(values[n], abs=1e-12)
            if not said[n][0]:  # the reason the agent gives is the round log's
                assert said[n][1] and said[n][1] in m.log[-1], (said[n][1], m.log[-1])
        checked += 1
    assert checked >= 5


def test_evaluate_and_explain_read_like_the_scenario():
    m = NegotiationModel(rng=1)
    m.step()
    hamas = m.agent("Hamas")
    j = hamas.evaluate()
    assert 0.0 <= j.expected_utility <= j.utility <= 1.0
    assert j.aspiration >= j.value_of_no_deal
    assert all("red line" in r for r in j.red_lines)
    ok, why = hamas.would_accept()
    text = hamas.explain()
    assert hamas.strategy in text and f"patience of {hamas.patience}" in text
    assert ("would accept" in text) if ok else (why in text)
    # a text that gives the actor its own position on every open issue is not refused for wanting more
    own = {iss: float(v) for iss, v in zip(m.static.sc.issues, hamas.position, strict=True)}
    better = hamas.evaluate(own)
    assert better.utility == pytest.approx(1.0) and better.expected_utility > j.expected_utility
    # a dict changes only the issues it names
    one = hamas.evaluate({"disarmament": 0.0})
    assert np.isfinite(one.expected_utility)


def test_one_reason_function_serves_the_log_and_the_classroom():
    import inspect

    from sim import classroom, model, reasons

    assert "refusal(" in inspect.getsource(model.NegotiationModel._why)
    assert "refusal(" in inspect.getsource(classroom.ClassroomModel._reason)
    assert "def refusal" in inspect.getsource(reasons)
