"""Validity: time belongs to the actors, stalemates happen, no-deal values move for declared
reasons, leverage is spent, red lines mean their strength, mediators draft for the principals.

Each test names a mechanism and checks something that fails without it. Rates are over
many seeds of the default scenario (or a small one built here), so the tolerances are
statistical; the seeds are fixed, so the numbers are too.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.api import build, load_config
from sim.batch import advance, simulate
from sim.kernel import AGREED, SHOCK, STALEMATE, SUSPENDED, WALKOUT, horizon, init_batch

AGENDAS = (
    "comprehensive",
    "phased_plan",
    "phased_exchange_first",
    "phased_disarmament_first",
    "phased_guarantees_first",
    "sequence",
)


def static(*overrides: str):
    return build(load_config(list(overrides)), list(overrides))


def outcomes(*overrides: str, n: int = 1000) -> dict[str, np.ndarray]:
    return simulate(static(*overrides), np.arange(n))


def rate(cols, status=AGREED) -> float:
    return float((cols["status"] == status).mean())


# -- Validity I: each actor's clock ------------------------------------------------------


def test_the_default_window_is_twice_the_agendas_horizon():
    st = static("agenda=phased_plan")
    h = horizon(st.sc, st.ag.n_phases)
    assert h == 2 * int(st.sc.patience.max()) + 8 + 1  # two phases at patience 30, the deadline event at 8
    assert st.settings.max_rounds == 2 * h


def test_agreement_time_follows_patience_not_the_window():
    base = outcomes("scenario.shocks.rate=0", n=300)
    slow = outcomes(
        "scenario.shocks.rate=0", "scenario.actors.Israel.patience=60", "scenario.actors.Hamas.patience=60", n=300
    )
    wide = outcomes("scenario.shocks.rate=0", "protocol.max_rounds=500", n=300)
    ok = base["status"] == AGREED
    assert ok.mean() > 0.5
    # doubling both principals' patience roughly doubles the time to agreement
    ratio = np.median(slow["rounds"][slow["status"] == AGREED]) / np.median(base["rounds"][ok])
    assert 1.6 < ratio < 2.4
    # a wider window changes nothing: every run ended long before either window closed
    np.testing.assert_array_equal(base["status"], wide["status"])
    np.testing.assert_array_equal(base["rounds"], wide["rounds"])
    np.testing.assert_array_equal(base["final_text"], wide["final_text"])


def test_a_new_phase_restarts_every_clock_unless_the_scenario_carries_it():
    for carry, first in ((0.0, 1), (1.0, None)):
        st = static(
            "agenda=phased_plan",
            "scenario.shocks.rate=0",
            *[f"scenario.actors.{a}.clock_carry={carry}" for a in ("Israel", "Hamas")],
        )
        b = init_batch(st, np.arange(50))
        t = 0
        while not (b.phase == 1).any():
            advance(st, b, t)
            t += 1
        rows = np.flatnonzero(b.phase == 1)
        clocks = b.clock[rows][:, st.derived.pidx]
        if first is not None:
            # the phase opened in this round and the clocks ticked once since
            assert (clocks == first).all()
        else:
            assert (clocks >= 2).all()


def test_strategies_never_read_the_window():
    a = static("protocol.max_rounds=100")
    b = static("protocol.max_rounds=400")
    np.testing.assert_array_equal(a.derived.frac_table, b.derived.frac_table)


# -- Validity I: stalemate and suspension ------------------------------------------------

# Israel's line on disarmament made hard and moved past Hamas's hard line: no text satisfies both
DISJOINT = (
    "scenario.shocks.rate=0",
    "scenario.actors.Israel.red_lines.1.issue=disarmament",
    "scenario.actors.Israel.red_lines.1.at_least=0.6",
    "scenario.actors.Israel.red_lines.1.hard=true",
    "scenario.actors.Hamas.red_lines.0.hard=true",
)


def test_no_text_in_reach_ends_in_a_stalemate_naming_the_blockers():
    cols = outcomes(*DISJOINT, n=200)
    st = static(*DISJOINT)
    stalled = cols["status"] == STALEMATE
    assert stalled.all()
    assert (cols["rounds"] < st.settings.max_rounds).all()  # before the window closed
    bits = cols["blockers"]
    assert (bits != 0).all()
    principals = sum(1 << int(a) for a in st.derived.pidx)
    assert (bits & ~principals == 0).all()  # only principals block
    # a wider window changes nothing
    wide = outcomes(*DISJOINT, f"protocol.max_rounds={4 * st.settings.max_rounds}", n=200)
    np.testing.assert_array_equal(cols["rounds"], wide["rounds"])


def test_a_stalemate_is_reported_in_words():
    from sim.api import run

    rs = run(load_config([*DISJOINT, "n_seeds=5"]))
    t = rs.table
    assert (t["status"] == "stalemate").all()
    assert t["breakdown_reason"].str.startswith("stalemate").all()
    assert (t["blocking_actors"] != "").all()


def test_shocks_can_suspend_the_talks_without_ending_them():
    kw = (
        "scenario.shocks.rate=0.2",
        "scenario.shocks.collapse=0",
        "scenario.shocks.suspend=1",
        "scenario.shocks.suspend_rounds=5",
    )
    st = static(*kw)
    b = init_batch(st, np.arange(200))
    seen_suspended = np.zeros(200, bool)
    for t in range(st.settings.max_rounds):
        before = b.clock.copy()
        still = (b.status == SUSPENDED) & (b.resume > t)  # suspended for the whole round
        advance(st, b, t)
        np.testing.assert_array_equal(b.clock[still], before[still])  # no clock runs while suspended
        seen_suspended |= b.status == SUSPENDED
    assert seen_suspended.mean() > 0.9
    assert (b.status != SHOCK).all()  # no shock ended a run
    calm = outcomes("scenario.shocks.rate=0", n=200)
    shaken = simulate(st, np.arange(200))
    assert np.median(shaken["rounds"]) > np.median(calm["rounds"]) + 5


# -- Validity II: outside options, spent leverage, red lines, mediators ------------------


def test_an_outside_option_that_rises_turns_deals_into_stalemates():
    base = outcomes("scenario.shocks.rate=0", n=400)
    rising = outcomes(
        "scenario.shocks.rate=0",
        "scenario.actors.Hamas.outside_option=[{what: outside support, at: 1, change: 0.4, source: J}]",
        n=400,
    )
    assert rate(base) > 0.9
    assert rate(rising) < 0.25
    assert rate(rising, STALEMATE) > 0.5  # the rest walk out: even their best is now below no deal
    assert rate(rising, STALEMATE) + rate(rising, WALKOUT) > 0.75


def test_influence_moves_no_deal_values_only_where_the_scenario_says_so():
    st = static(
        "scenario.shocks.rate=0",
        "scenario.actors.Hamas.delay_cost=0",
        "scenario.pressure_rate=0",
        "scenario.actors.Hamas.outside_option=[]",
    )
    b = init_batch(st, np.arange(20))
    rv0 = b.rv.copy()
    for t in range(5):
        advance(st, b, t)
    h = st.sc.actor_index("Hamas")
    np.testing.assert_array_equal(b.rv[:, h], rv0[:, h])  # Qatar's lower value does not pull Hamas's
    st2 = static(
        "scenario.shocks.rate=0",
        "scenario.actors.Hamas.delay_cost=0",
        "scenario.pressure_rate=0",
        "scenario.actors.Hamas.outside_option=[]",
        "scenario.no_deal_influence=true",
    )
    b2 = init_batch(st2, np.arange(20))
    for t in range(5):
        advance(st2, b2, t)
    assert (np.abs(b2.rv[:, h] - rv0[:, h]) > 0).all()


def test_spent_leverage_changes_the_second_phase():
    # with the hostages back, Israel's value of no deal rises a lot (an effect made large here)
    strong = (
        "agenda=phased_plan",
        "scenario.shocks.rate=0",
        "scenario.on_implement.exchange=[{actor: Israel, input: reservation_value, add: 0.2, source: J}]",
    )
    none = ("agenda=phased_plan", "scenario.shocks.rate=0", "scenario.on_implement.exchange=[]")
    with_effect, without = outcomes(*strong, n=1000), outcomes(*none, n=1000)
    p1 = with_effect["phases_agreed"] >= 1
    np.testing.assert_array_equal(p1, without["phases_agreed"] >= 1)  # the effect comes after phase 1
    assert rate(without) / p1.mean() - rate(with_effect) / p1.mean() > 0.2
    # in the comprehensive package nothing is implemented before everything is agreed
    np.testing.assert_array_equal(outcomes(*strong[1:], n=300)["status"], outcomes(*none[1:], n=300)["status"])


def test_red_line_strength_five_blocks_what_strength_one_allows():
    # Israel insists (a hard line) on disarmament 0.6, past Hamas's soft line at 0.5
    insist = (
        "scenario.shocks.rate=0",
        "scenario.actors.Israel.red_lines.1.issue=disarmament",
        "scenario.actors.Israel.red_lines.1.at_least=0.6",
        "scenario.actors.Israel.red_lines.1.hard=true",
    )
    weak = outcomes(*insist, "scenario.actors.Hamas.red_lines.0.strength=1", n=400)
    strong = outcomes(*insist, "scenario.actors.Hamas.red_lines.0.strength=5", n=400)
    assert rate(weak) > 0.1
    assert rate(strong) == 0.0


def test_red_line_strength_has_the_same_meaning_on_any_issue():
    st = static()
    sc = st.sc
    rest = np.where(sc.rl_sign > 0, sc.rl_bound, 1 - sc.rl_bound)
    # crossing a line by the rest of its scale costs strength x the issue's weight
    np.testing.assert_allclose(sc.rl_strength * rest, sc.rl_strength_given)


def test_a_guarantors_ideal_point_does_not_move_the_agreed_terms():
    ex = static().sc.issue_index("exchange")
    low = outcomes(
        "scenario.shocks.rate=0",
        *(f"scenario.actors.{m}.position.exchange=0.2" for m in ("US", "Qatar", "Egypt")),
        n=300,
    )
    high = outcomes(
        "scenario.shocks.rate=0",
        *(f"scenario.actors.{m}.position.exchange=0.8" for m in ("US", "Qatar", "Egypt")),
        n=300,
    )
    ok = (low["status"] == AGREED) & (high["status"] == AGREED)
    assert ok.mean() > 0.8
    shift = np.mean(high["final_text"][ok, ex] - low["final_text"][ok, ex])
    assert abs(shift) < 0.03  # only through influence on the principals' positions (was 0.17)


def test_a_declared_target_moves_the_draft_and_a_neutral_broker_does_not():
    gov = static().sc.issue_index("ceasefire")
    base = outcomes("scenario.shocks.rate=0", n=300)
    neutral = outcomes("scenario.shocks.rate=0", "scenario.actors.US.bias=0", n=300)
    toward = outcomes("scenario.shocks.rate=0", "+scenario.actors.US.target.ceasefire=1.0", n=300)
    ok = (base["status"] == AGREED) & (neutral["status"] == AGREED) & (toward["status"] == AGREED)
    assert np.mean(toward["final_text"][ok, gov]) > np.mean(base["final_text"][ok, gov]) + 0.02
    assert not np.array_equal(base["final_text"], neutral["final_text"])


def test_a_guarantor_judges_only_the_guarantee_it_carries():
    st = static()
    g_lo, g_hi = st.derived.guarantee_bounds
    assert (g_lo, g_hi) == (0.25, 1.0)  # the U.S. line: no binding international bar
    assert not st.derived.required_by_phase[:, st.sc.guarantor & ~st.sc.principal].any()
    cols = outcomes(n=300)
    gi = st.sc.guarantee_issue
    assert (cols["final_text"][cols["status"] == AGREED, gi] >= 0.25 - 1e-12).all()


# -- Constants and window (slow: many seeds per agenda) -----------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("agenda", AGENDAS)
def test_the_window_beyond_the_horizon_does_not_change_the_answer(agenda):
    st = static(f"agenda={agenda}")
    h = horizon(st.sc, st.ag.n_phases)
    r2 = rate(outcomes(f"agenda={agenda}", f"protocol.max_rounds={2 * h}", n=2000))
    r4 = rate(outcomes(f"agenda={agenda}", f"protocol.max_rounds={4 * h}", n=2000))
    assert abs(r2 - r4) <= 0.02, (agenda, r2, r4)
