"""The classroom dashboard in a real headless Chromium (Debian's package, driven by playwright).

A real ``negotiate-dashboard`` server is started on a free local port; the browser loads
the page with every request outside 127.0.0.1 counted, steps the model, takes a seat
and makes a counter-offer. A screenshot is kept in test-artifacts/dashboard.png.
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

pytestmark = pytest.mark.browser
expect = playwright_api.expect

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    from sim.app import missing_assets

    assert not missing_assets(), ("front-end assets missing: run `negotiate-dashboard --install-assets` "
                                  "(make test does)")
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "dashboard-server.log", "w")  # noqa: SIM115  (closed at teardown)
    proc = subprocess.Popen([sys.executable, "-m", "sim.app", "--port", str(port)], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env=dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="false"))
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
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


@pytest.fixture(scope="module")
def browser():
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """One browser session on the dashboard, recording requests that left 127.0.0.1 or failed."""

    def __init__(self, browser, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:", "ws://127"))
                     else self.outside.append(r.url))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        self.page.goto(url)
        expect(self.page.get_by_text("Take a seat")).to_be_visible(timeout=60_000)
        expect(self.status).to_contain_text("round 0")

    @property
    def status(self):
        return self.page.locator(".status-line")

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            before = self.status.inner_text()
            self.page.get_by_role("button", name="Step", exact=True).click()
            expect(self.status).not_to_have_text(before, timeout=30_000)

    def figure(self, card: str) -> bytes:
        """The pixels of a card's picture, once the browser has decoded it."""
        img = self.page.locator(f".{card} img").first
        expect(img).to_be_visible(timeout=30_000)
        self.page.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=img.element_handle())
        return img.screenshot()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def page(server, browser):
    p = Page(browser, server)
    yield p
    p.close()


def test_page_loads_offline_with_every_panel(page):
    for title in ("Positions over the rounds", "The text after round 0", "Utility of the text",
                  "Channels and leverage", "Take a seat", "Salience", "Last round", "Controls",
                  "Initial trust between the principals", "Guarantor credibility", "Pressure"):
        expect(page.page.get_by_text(title).first).to_be_visible()
    for card in ("positions", "utilities", "network"):
        assert len(page.figure(card)) > 5_000, card  # a drawn picture, not an empty box
    table = page.page.locator(".text-in-words table").inner_text()
    assert "disarmament" in table and "arms kept" not in table.split("\n")[0]
    assert not page.outside, f"requests left this computer: {page.outside}"
    assert not page.failed, f"failed requests: {page.failed}"


def test_five_steps_change_the_plots_and_the_text(page):
    positions0, utilities0 = page.figure("positions"), page.figure("utilities")
    text0 = page.page.locator(".text-in-words table").inner_text()
    page.step(5)
    expect(page.status).to_contain_text("round 5")
    expect(page.page.locator(".round-log")).to_contain_text("Round 5 (phase 1): The mediators proposed")
    expect(page.page.get_by_text("The text after round 5")).to_be_visible()
    page.page.wait_for_timeout(500)  # let the new pictures decode
    assert page.figure("positions") != positions0
    assert page.figure("utilities") != utilities0
    assert page.page.locator(".text-in-words table").inner_text() != text0
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.locator("h3").first.scroll_into_view_if_needed()
    page.page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert not page.failed and not page.outside


def test_a_seat_is_taken_and_a_counter_offer_answered(page):
    page.step(2)
    seat = page.page.locator(".seat")
    seat.locator(".v-select").click()
    page.page.get_by_role("option", name="Hamas").click()
    seat.get_by_role("button", name="Take the seat").click()
    expect(seat).to_contain_text("You are Hamas")
    expect(page.status).to_contain_text("seat: Hamas")
    # move the first slider of the counter-offer (disarmament) down with the keyboard
    slider = seat.locator("[role=slider]").first
    before = slider.get_attribute("aria-valuenow")
    slider.focus()
    for _ in range(3):
        page.page.keyboard.press("ArrowLeft")
    expect(slider).not_to_have_attribute("aria-valuenow", before)
    seat.get_by_role("button", name="Counter-offer").click()
    answer = page.page.locator(".answer")
    expect(answer).to_contain_text("Hamas countered with disarmament", timeout=30_000)
    expect(answer).to_contain_text("As a text: Israel would")
    expect(answer).to_contain_text("Then: Round 3 (phase 1)")
    expect(page.status).to_contain_text("round 3")
    seat.get_by_role("button", name="Accept the text").click()
    expect(answer).to_contain_text("Hamas accepted the text. Then: Round 4", timeout=30_000)
    expect(page.page.locator(".round-log")).to_contain_text("Hamas accepted")
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "dashboard-seat.png"), full_page=True)


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
