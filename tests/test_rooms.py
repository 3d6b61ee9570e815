"""Rooms: seats, moves, the time limit, the class board, and two browsers negotiating in one room.

The first tests drive :mod:`sim.rooms` directly. The browser tests start a real
``negotiate-dashboard`` server and drive Debian's Chromium with playwright: a teacher
opens a room, two students join it in two browser contexts (Israel and Hamas), one sends
a counter-offer, both negotiate to an outcome that both see, the class board shows it,
and a reload keeps the seat.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pytest

from sim.classroom import ClassroomModel
from sim.rooms import CODE_ALPHABET, CODE_LENGTH, Registry, frontier


@pytest.fixture
def registry():
    return Registry(max_rooms=5)


def test_codes_are_short_unique_and_found_in_any_case(registry):
    rooms = [registry.open("sharm_el_sheikh_2025", "comprehensive") for _ in range(5)]
    codes = [r.code for r in rooms]
    assert len(set(codes)) == 5
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert registry.get(f" {codes[0].lower()} ") is rooms[0]
    with pytest.raises(ValueError, match="no room with code 'NOPE1'"):
        registry.get("nope1")
    with pytest.raises(ValueError, match="at most 5 rooms"):
        registry.open("sharm_el_sheikh_2025", "comprehensive")


def test_two_students_never_hold_one_seat_and_a_token_keeps_its_seat(registry):
    room = registry.open("sharm_el_sheikh_2025", "comprehensive")
    room.take("a", "Israel")
    with pytest.raises(ValueError, match="Israel's seat in room .* is taken by another student"):
        room.take("b", "Israel")
    room.take("a", "Israel")  # the same browser again (a reload): still its seat
    assert room.seat_of("a") == "Israel" and room.seat_of("b") is None
    room.take("a", "Hamas")  # moving seats frees the first
    assert room.seats == {"Hamas": "a"}
    assert room.model.humans == ["Hamas"]
    room.take("b", "Israel")
    with pytest.raises(ValueError, match="no actor 'Fatah'"):
        room.take("c", "Fatah")
    room.leave("a")
    assert room.seats == {"Israel": "b"} and room.model.humans == ["Israel"]
    assert room.model.batch.override[0, room.model.static.sc.actors.index("Hamas")] == -1


def test_the_round_waits_for_every_seated_student(registry):
    room = registry.open("sharm_el_sheikh_2025", "comprehensive")
    room.take("a", "Israel")
    room.take("b", "Hamas")
    assert room.waiting_for() == ["Israel", "Hamas"]
    assert room.move("a", "hold") is False
    assert room.model.round == 0 and room.waiting_for() == ["Hamas"]
    v = room.version
    assert room.move("b", "hold") is True
    assert room.model.round == 1 and room.version > v
    assert room.waiting_for() == ["Israel", "Hamas"]
    with pytest.raises(ValueError, match="you hold no seat"):
        room.move("z", "accept")
    with pytest.raises(ValueError, match="move must be one of"):
        room.move("a", "walk")


def test_a_time_limit_plays_the_round_for_students_who_did_not_move(registry):
    room = registry.open("sharm_el_sheikh_2025", "comprehensive", time_limit=30)
    room.take("a", "Israel")
    room.take("b", "Hamas")
    room.move("a", "accept")
    start = room.round_started
    assert not room.tick(now=start + 29)
    assert room.tick(now=start + 31)
    assert room.model.round == 1
    hamas = room.model.answer_of("Hamas")
    assert hamas.move == "hold" and not hamas.chosen
    assert "made no move, so it held out" in hamas.summary()
    assert "Israel accepted" in room.model.log[-1]
    with pytest.raises(ValueError, match="time limit must be a positive"):
        registry.open("sharm_el_sheikh_2025", "comprehensive", time_limit=0)


def test_a_room_plays_the_same_negotiation_as_the_model(registry):
    room = registry.open("sharm_el_sheikh_2025", "comprehensive", seed=3)
    room.take("a", "Hamas")
    solo = ClassroomModel(rng=3)
    solo.seat("Hamas")
    for _ in range(4):
        room.move("a", "hold")
        solo.play("hold")
    assert list(room.model.log) == list(solo.log)
    np.testing.assert_array_equal(room.model.batch.x, solo.batch.x)


def test_board_rows_csv_reset_and_close(registry):
    a = registry.open("sharm_el_sheikh_2025", "comprehensive", label="pair 1")
    b = registry.open("sharm_el_sheikh_2025", "phased_plan")
    a.take("x", "Israel")
    a.take("y", "Hamas")
    while a.model.running:
        a.move("x", "accept")
        if a.model.running:
            a.move("y", "accept")
    board = registry.board()
    assert list(board["room"]) == [a.code, b.code]
    row = board.set_index("room").loc[a.code]
    assert row["outcome"] == a.model.result()["outcome"] and row["round"] == a.model.round
    assert row["utility_Israel"] == pytest.approx(a.model.result()["utilities"]["Israel"], abs=1e-4)
    assert row["no_deal_Hamas"] == pytest.approx(float(a.model.batch.rv0[0, 1]), abs=1e-4)
    assert "disarmament: " in row["text"]  # the final text in words (anchor labels)
    assert board.set_index("room").loc[b.code, "outcome"] == "running"
    parsed = list(csv.DictReader(io.StringIO(registry.csv())))
    assert [r["room"] for r in parsed] == [a.code, b.code] and parsed[0]["label"] == "pair 1"
    a.reset()
    assert a.model.round == 0 and a.model.humans == ["Israel", "Hamas"] and a.seats == {"Israel": "x", "Hamas": "y"}
    registry.close(b.code)
    assert b.closed and [r.code for r in registry.list()] == [a.code]
    with pytest.raises(ValueError, match="is closed"):
        b.take("z", "Israel")


def test_frontier_and_nash_point():
    f = frontier("sharm_el_sheikh_2025")
    assert f["actors"] == ("Israel", "Hamas")
    front = f["frontier"]
    assert len(front) > 10
    assert np.all(np.diff(front[:, 0]) >= 0) and np.all(np.diff(front[:, 1]) <= 1e-12)  # a frontier: a trade-off
    ua, ub = f["nash"]
    ra, rb = f["no_deal"]
    assert ua > ra and ub > rb
    # the Nash point is on (or within a hair of) the frontier: nothing on it beats both sides
    assert not np.any((front[:, 0] > ua + 1e-3) & (front[:, 1] > ub + 1e-3))


# -- in a real browser -------------------------------------------------------------------------
browser_only = pytest.mark.browser


@pytest.fixture(scope="module")
def server():
    from tests.test_dashboard import start_server

    yield from start_server("rooms-server.log")


@pytest.fixture(scope="module")
def browser():
    from tests.test_dashboard import launch

    yield from launch()


def _open_room(browser, url) -> tuple[object, str]:
    from tests.test_dashboard import new_context

    teacher = new_context(browser)
    page = teacher.new_page()
    page.goto(url + "?view=teacher")
    page.get_by_role("button", name="Open", exact=True).click()
    code_cell = page.locator(".board-table .join-code").first
    code_cell.wait_for(timeout=60_000)
    return page, code_cell.inner_text().strip()


def _student(browser, url, code, actor):
    from tests.test_dashboard import expect, new_context

    ctx = new_context(browser)
    page = ctx.new_page()
    page.goto(url + "?view=join")
    page.get_by_label("Room code").fill(code.lower())
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page).to_have_url(re.compile(rf"\?room={code}&token="), timeout=60_000)
    page.get_by_role("button", name=f"Take {actor}'s seat").click()
    expect(page.locator(".you-are")).to_contain_text(f"You are {actor}", timeout=30_000)
    return page


@browser_only
def test_two_students_negotiate_in_one_room_and_the_board_shows_it(server, browser):
    from tests.test_dashboard import ARTIFACTS, DOCS, expect

    teacher, code = _open_room(browser, server)
    israel = _student(browser, server, code, "Israel")
    hamas = _student(browser, server, code, "Hamas")
    expect(israel.get_by_role("button", name="Take Hamas's seat (taken)")).to_have_count(0)  # seated: no list
    # a third browser cannot take a held seat
    from tests.test_dashboard import new_context

    third = new_context(browser).new_page()
    third.goto(server + f"?room={code}")
    expect(third.get_by_role("button", name="Take Hamas's seat (taken)")).to_be_disabled(timeout=60_000)
    third.context.close()

    # Hamas drafts a counter-offer: disarmament down three steps; the preview comes first
    seat = hamas.locator(".room-seat")
    slider = seat.locator("[role=slider]").first
    start = float(slider.get_attribute("aria-valuenow"))
    slider.focus()
    for _ in range(3):
        hamas.keyboard.press("ArrowLeft")
    wanted = round(start - 0.15, 2)
    expect(slider).to_have_attribute("aria-valuenow", re.compile(rf"^{wanted:g}"))
    seat.get_by_role("button", name="Preview the counter-offer").click()
    expect(hamas.locator(".preview")).to_contain_text("Worth ", timeout=30_000)
    expect(hamas.locator(".preview")).to_contain_text("Israel is played by a student")
    expect(hamas.locator(".status-line")).to_contain_text("round 0")  # a preview plays nothing
    seat.get_by_role("button", name="Send the counter-offer").click()
    expect(hamas.locator(".moved")).to_contain_text("Your move this round: counter", timeout=30_000)
    expect(israel.locator(".status-line")).to_contain_text("waiting for Israel", timeout=30_000)
    israel.locator(".room-seat").get_by_role("button", name="Hold out").click()
    for p in (israel, hamas):
        expect(p.locator(".status-line")).to_contain_text("round 1", timeout=30_000)
        expect(p.locator(".round-log")).to_contain_text(f"Hamas's counter-offer was tabled: disarmament {wanted:.2f}")
    # the counter-offer's position stays where the student put it
    expect(seat.locator("[role=slider]").first).to_have_attribute("aria-valuenow", re.compile(rf"^{wanted:g}"))

    hamas.get_by_text("Your private brief as Hamas").click()  # fold the brief for the picture
    seat.evaluate("e => e.scrollIntoView({block: 'start'})")
    hamas.wait_for_timeout(800)
    hamas.screenshot(path=str(DOCS / "room-hamas.png"))
    hamas.screenshot(path=str(ARTIFACTS / "room-hamas.png"))

    # a reload keeps the seat (the token is in the address)
    israel.reload()
    expect(israel.locator(".you-are")).to_contain_text("You are Israel", timeout=60_000)
    expect(israel.locator(".status-line")).to_contain_text("round 1")

    # both accept until the talks end; both see the same outcome
    def accept(p) -> bool:
        """Accept on page p; False if the talks have ended instead."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        button = p.locator(".room-seat").get_by_role("button", name="Accept the text")
        for _ in range(3):  # the other browser's move may end the talks while this one clicks
            expect(p.locator(".outcome").or_(button).first).to_be_visible(timeout=30_000)
            if p.locator(".outcome").count():
                return False
            try:
                button.click(timeout=5_000)
                return True
            except PlaywrightTimeout:
                continue
        return not p.locator(".outcome").count()

    for _ in range(40):
        before = hamas.locator(".status-line").inner_text()
        if not accept(israel):
            break
        expect(israel.locator(".moved").or_(israel.locator(".outcome")).first).to_be_visible(timeout=30_000)
        if not accept(hamas):
            break
        expect(hamas.locator(".status-line")).not_to_have_text(before, timeout=30_000)
    expect(hamas.locator(".outcome")).to_contain_text("The talks have ended", timeout=30_000)
    outcome = hamas.locator(".outcome").inner_text()
    expect(israel.locator(".outcome")).to_have_text(outcome, timeout=30_000)
    status = re.search(r"ended: (\w[\w ]*) after", outcome).group(1)
    row = teacher.locator(".board-table tr", has_text=code)
    expect(row).to_contain_text(status, timeout=30_000)
    expect(teacher.locator(".outcome-chart svg")).to_have_count(1, timeout=30_000)
    expect(teacher.locator(".outcome-chart")).to_contain_text(f"room {code}")
    teacher.get_by_role("button", name="Show on the projector").click()
    expect(teacher.locator(".projector-view")).to_contain_text(f"Projector: room {code}", timeout=30_000)
    expect(teacher.locator(".projector-view .projector table")).to_contain_text("disarmament")
    expect(hamas.locator(".room-seat .v-alert.error")).to_have_count(0)  # a late click is no error
    shots = (
        (israel, "room-israel", ".status-line"),
        (teacher, "class-board", ".board"),
        (teacher, "class-board-outcomes", ".outcomes"),
    )
    for p, name, top in shots:
        p.locator(top).first.evaluate("e => e.scrollIntoView({block: 'start'})")
        p.wait_for_timeout(800)
        p.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        p.screenshot(path=str(DOCS / f"{name}.png"))
    with teacher.expect_download() as dl:
        teacher.get_by_text("Download the board (CSV)").click()
    text = Path(dl.value.path()).read_text()
    assert code in text and status in text
    for p in (israel, hamas, teacher):
        p.context.close()
