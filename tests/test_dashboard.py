"""The classroom dashboard in a real headless Chromium (Debian's package, driven by playwright).

A real ``negotiate-dashboard`` server is started on a free local port; the browser loads
the page with every request outside 127.0.0.1 counted, steps the model, takes a seat
and makes a counter-offer. The charts are drawn by the browser (Vega-Lite, SVG), so the
tests read their text: labels at least 12 px at 1024x768, a legend naming every actor.
Every scenario x agenda pair the menus offer is played through the page's own model
class (fast, no browser), and a sample of them through the browser. Screenshots at
1024x768 go to test-artifacts/ and docs/.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright import sync_api as playwright_api

expect = playwright_api.expect

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SMALL = {"width": 1024, "height": 768}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log_name: str = "dashboard-server.log", env: dict | None = None):
    """Start ``negotiate-dashboard`` on a free port; yield its URL; stop it (a generator for fixtures)."""
    from sim.app import missing_assets

    assert not missing_assets(), "front-end assets missing: run `negotiate-dashboard --install-assets` (make test does)"
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / log_name, "w")  # noqa: SIM115  (closed at teardown)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.app", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="false", **(env or {})),
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"dashboard server did not start; see {log.name}")
        time.sleep(0.5)
    try:
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def launch():
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def new_context(browser, viewport=None):
    return browser.new_context(viewport=viewport or SMALL)


# -- without a browser: every offered pair runs ----------------------------------------------------
def test_every_offered_scenario_and_agenda_runs_through_the_page_model():
    from sim.app import build_page
    from sim.dashboard.menus import offered

    _, DashboardModel = build_page()
    menu = offered()
    assert "sharm_el_sheikh_2025" in menu["class"]
    assert not any(s.startswith(("round_", "gaza_rounds_base")) for part in menu.values() for s in part)
    # theory and test scenarios are offered only under the technical heading
    assert "symmetric" in menu["technical"] and not set(menu["technical"]) & set(menu["class"])
    pairs = [(s, a) for part in menu.values() for s, ags in part.items() for a in ags]
    assert len(pairs) >= 7
    for scen, agenda in pairs:
        m = DashboardModel(scenario=scen, agenda=agenda, rng=0, book={})
        for _ in range(3):
            m.step()
        assert m.round == 3 or not m.running, (scen, agenda)
        assert m.log[-1].startswith("Round"), (scen, agenda)
        from sim.dashboard import charts

        for iss in m.static.sc.issues:
            assert charts.issue_chart(m, iss)["datasets"]["rows"], (scen, agenda, iss)
        charts.utility_chart(m)
        charts.network_chart(m)


def test_a_step_costs_the_server_little():
    """Server CPU per step (round + every chart spec), the page's work for one click."""
    from sim.app import build_page
    from sim.classroom import text_in_words
    from sim.dashboard import charts

    _, DashboardModel = build_page()
    m = DashboardModel(rng=0, book={})
    m.step()
    costs = []
    for _ in range(15):
        t0 = time.process_time()
        m.step()
        for iss in m.static.sc.issues:
            charts.issue_chart(m, iss)
        charts.utility_chart(m)
        charts.network_chart(m)
        text_in_words(m)
        costs.append(time.process_time() - t0)
    costs.sort()
    assert costs[len(costs) // 2] < 0.050, f"median server CPU per step {costs[len(costs) // 2] * 1000:.1f} ms"


# -- in a real browser ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server():
    yield from start_server()


@pytest.fixture(scope="module")
def browser():
    yield from launch()


class Page:
    """One browser session on the dashboard, recording requests that left 127.0.0.1 or failed."""

    def __init__(self, browser, url: str, viewport=None) -> None:
        self.context = new_context(browser, viewport)
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith(("http://127.0.0.1", "data:", "blob:", "ws://127"))
                else self.outside.append(r.url)
            ),
        )
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        self.page.goto(url)
        expect(self.page.get_by_text("Take a seat")).to_be_visible(timeout=120_000)
        expect(self.status).to_contain_text("round 0")

    @property
    def status(self):
        return self.page.locator(".status-line")

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            before = self.status.inner_text()
            self.page.get_by_role("button", name="Step", exact=True).click()
            expect(self.status).not_to_have_text(before, timeout=30_000)

    def chart(self, kind: str):
        svg = self.page.locator(f".{kind} svg").first
        expect(svg).to_be_visible(timeout=30_000)
        return svg

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def page(server, browser):
    p = Page(browser, server)
    yield p
    p.close()


@pytest.mark.browser
def test_page_loads_offline_with_every_panel_and_readable_charts(page):
    for title in (
        "Positions over the rounds",
        "The text after round 0",
        "Utility of the text",
        "Channels and leverage",
        "Take a seat",
        "Salience",
        "Last round",
        "Controls",
        "Initial trust between the principals: 0.15",
        "Guarantor credibility: 0.60",
        "Pressure (leverage multiplier): 1.00",
        "Seed: 0",
    ):
        expect(page.page.get_by_text(title).first).to_be_visible()
    for kind in ("issue-disarmament", "utility-chart", "network-chart", "legend"):
        page.chart(kind)
    # at 1024x768 a chart fills its card, and its text is at least 12 px
    sizes = page.page.evaluate("""() => Array.from(document.querySelectorAll('.chart svg text'))
        .filter(t => t.textContent.trim()).map(t => parseFloat(getComputedStyle(t).fontSize))""")
    assert sizes and min(sizes) >= 12, sorted(sizes)[:5]
    card = page.page.locator(".utilities").bounding_box()
    svg = page.chart("utility-chart").bounding_box()
    assert svg["width"] >= 0.85 * (card["width"] - 32), (svg, card)
    legend = page.chart("legend").text_content()
    for actor in ("Israel", "Hamas", "US", "Qatar", "Egypt", "text"):
        assert actor in legend
    table = page.page.locator(".text-in-words table").inner_text()
    assert "disarmament" in table
    assert not page.outside, f"requests left this computer: {page.outside}"
    assert not page.failed, f"failed requests: {page.failed}"


@pytest.mark.browser
def test_five_steps_change_the_charts_and_the_text(page):
    chart0 = page.chart("issue-disarmament").inner_html()
    util0 = page.chart("utility-chart").inner_html()
    text0 = page.page.locator(".text-in-words table").inner_text()
    page.step(5)
    expect(page.status).to_contain_text("round 5")
    expect(page.page.locator(".round-log")).to_contain_text("Round 5 (phase 1): The mediators proposed")
    expect(page.page.get_by_text("The text after round 5")).to_be_visible()
    page.page.wait_for_timeout(600)  # the charts redraw after a short debounce
    assert page.chart("issue-disarmament").inner_html() != chart0
    assert page.chart("utility-chart").inner_html() != util0
    assert page.page.locator(".text-in-words table").inner_text() != text0
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "dashboard.png"))
    page.page.screenshot(path=str(DOCS / "dashboard.png"))
    assert not page.failed and not page.outside


@pytest.mark.browser
def test_a_change_waits_for_reset_and_says_so(page):
    note = page.page.locator(".pending-note")
    expect(note).to_have_count(0)
    slider = page.page.locator(".controls [role=slider]").nth(1)  # initial trust
    slider.focus()
    page.page.keyboard.press("ArrowRight")
    expect(note).to_contain_text("take effect when you press Reset")
    expect(page.page.get_by_text("Initial trust between the principals: 0.20")).to_be_visible()
    page.page.get_by_role("button", name="Reset").click()
    expect(note).to_have_count(0, timeout=30_000)


@pytest.mark.browser
def test_a_seat_is_taken_and_a_counter_offer_previewed_and_answered(page):
    page.step(2)
    seat = page.page.locator(".seat")
    seat.locator(".v-select").click()
    page.page.get_by_role("option", name="Hamas").click()
    seat.get_by_role("button", name="Take the seat").click()
    expect(seat).to_contain_text("You are Hamas")
    seat.get_by_text("Your private brief as Hamas").click()
    expect(seat).to_contain_text("no deal is worth")
    expect(page.status).to_contain_text("seat: Hamas")
    expect(page.page.locator(".step-note")).to_contain_text("Hamas holds out")
    # every open issue's slider starts at Hamas's position, not at an end of the scale
    values = [
        float(v)
        for v in seat.locator("[role=slider]").evaluate_all("els => els.map(e => e.getAttribute('aria-valuenow'))")
    ]
    assert len(values) == 6 and all(0.0 <= v < 0.6 for v in values) and len(set(values)) > 3, values
    slider = seat.locator("[role=slider]").first
    before = float(slider.get_attribute("aria-valuenow"))
    slider.focus()
    for _ in range(2):
        page.page.keyboard.press("ArrowRight")
    wanted = round(before + 0.10, 2)
    seat.get_by_role("button", name="Preview the counter-offer").click()
    expect(page.page.locator(".preview")).to_contain_text("Worth", timeout=30_000)
    expect(page.page.locator(".preview")).to_contain_text("Israel would")
    expect(page.status).to_contain_text("round 2")  # a preview plays nothing
    seat.get_by_role("button", name="Send the counter-offer").click()
    answer = page.page.locator(".answer")
    expect(answer).to_contain_text(f"Hamas countered with disarmament {wanted:.2f}", timeout=30_000)
    expect(answer).to_contain_text("Then: Round 3 (phase 1): Hamas's counter-offer was tabled")
    expect(page.status).to_contain_text("round 3")
    # the slider stays where the student put it; the others stay where they were
    after = [
        float(v)
        for v in seat.locator("[role=slider]").evaluate_all("els => els.map(e => e.getAttribute('aria-valuenow'))")
    ]
    assert after[0] == pytest.approx(wanted) and after[1:] == pytest.approx(values[1:], abs=0.011)
    # Step while seated: the round is played with Hamas holding out, and the page says so
    page.step(1)
    expect(answer).to_contain_text("Hamas made no move, so it held out")
    seat.get_by_role("button", name="Accept the text").click()
    expect(answer).to_contain_text("Hamas accepted the text. Then: Round 5", timeout=30_000)
    expect(page.page.locator(".round-log")).to_contain_text("Hamas accepted")
    page.page.screenshot(path=str(ARTIFACTS / "dashboard-seat.png"))
    seat.get_by_text("Your private brief as Hamas").click()  # fold the brief: the moves fit the screen
    seat.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.page.wait_for_timeout(500)
    page.page.screenshot(path=str(DOCS / "dashboard-seat.png"))


@pytest.mark.browser
def test_the_menus_offer_technical_scenarios_under_their_heading_and_they_run(page):
    select = page.page.locator(".scenario-select")
    select.click()
    expect(page.page.get_by_text("Technical: theory and test cases")).to_be_visible()
    options = page.page.get_by_role("option")
    names = [t.strip() for t in options.all_inner_texts()]
    assert names[0] == "sharm_el_sheikh_2025" and "symmetric" in names
    assert not any(n.startswith("round_") for n in names)
    page.page.get_by_role("option", name="symmetric").click()
    page.page.get_by_role("button", name="Reset").click()
    expect(page.page.locator("h3").first).not_to_contain_text("Gaza", timeout=30_000)
    page.step(2)
    expect(page.page.locator(".round-log")).to_contain_text("Round 2")
    assert not page.failed


@pytest.mark.browser
def test_two_browsers_have_two_negotiations(server, browser):
    a, b = Page(browser, server), Page(browser, server)
    try:
        a.step(3)
        expect(a.status).to_contain_text("round 3")
        b.page.reload()
        expect(b.page.get_by_text("Take a seat")).to_be_visible(timeout=60_000)
        expect(b.status).to_contain_text("round 0")
        b.step(1)
        expect(b.status).to_contain_text("round 1")
        expect(a.status).to_contain_text("round 3")
    finally:
        a.close()
        b.close()
