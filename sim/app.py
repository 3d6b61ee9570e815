"""The classroom dashboard: negotiations in the browser, rooms for a class, a board for the teacher.

Start it with ``negotiate-dashboard`` and open http://127.0.0.1:8521. The page has three
views. *Practice alone* (``/``): one negotiation per browser session, with its controls
(scenario, agenda, seed, initial trust, pressure, guarantor credibility; changes wait for
Reset, and the page says so), charts the browser draws (:mod:`sim.dashboard.charts`), the
text in words, the round log, and a seat a student can take. *Join a room*
(``/?view=join``, then ``/?room=CODE&token=...``): a seat in a room shared with the class
(:mod:`sim.rooms`); the token in the address keeps the seat across reloads. *Teacher*
(``/?view=teacher``): open rooms, the class board, the outcome chart, CSV export, reset and
close, and a large projector view of one room's text.

The menus offer only the scenario x agenda pairs that build (:mod:`sim.dashboard.menus`).
The page's front-end files are served from the virtualenv (``share/solara/cdn``, filled by
``negotiate-dashboard --install-assets``), so it works with no internet access.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")

# npm packages Solara's page loads from a CDN (pinned by the solara release in pyproject.toml)
ASSETS = (
    "@widgetti/solara-vuetify-app@10.1.1",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2",
    "font-awesome@4.5.0",
    "requirejs@2.3.6",
    # the browser-drawn charts (Altair -> Vega-Lite): the paths Solara's VegaLite widget asks for
    "vega@5",
    "vega-lite@5",
    "vega-embed@6",
)
DEFAULT_PORT = 8521
CONF = Path(__file__).resolve().parent.parent / "conf"


def cdn_dir() -> Path:
    """Where Solara looks for its front-end files before asking the CDN."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def missing_assets(dest: Path | None = None) -> list[str]:
    """The front-end packages of :data:`ASSETS` not yet in ``dest`` (Solara's CDN folder unless given)."""
    dest = dest or cdn_dir()
    return [spec for spec in ASSETS if not (dest / spec / "package.json").exists()]


def install_assets(dest: Path | None = None, npm: str | None = None) -> list[str]:
    """Fetch the page's front-end packages with ``npm pack`` into ``dest`` (once).

    Returns the packages installed now. Raises RuntimeError naming the package when npm
    is missing or fails, so the fix is obvious.
    """
    dest = dest or cdn_dir()
    todo = missing_assets(dest)
    if not todo:
        return []
    npm = npm or shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "negotiate-dashboard --install-assets needs npm (Debian: apt-get install npm) "
            f"to fetch {', '.join(todo)} into {dest}"
        )
    for spec in todo:
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run([npm, "pack", "--silent", spec], cwd=tmp, capture_output=True, text=True)
            tgz = sorted(Path(tmp).glob("*.tgz"))
            if done.returncode != 0 or not tgz:
                raise RuntimeError(f"npm pack {spec} failed: {done.stderr.strip()[-500:]}")
            target = dest / spec
            target.mkdir(parents=True, exist_ok=True)
            with tarfile.open(tgz[0]) as tar:
                for member in tar.getmembers():
                    parts = Path(member.name).parts[1:]  # drop the leading "package/"
                    if not parts or ".." in parts or member.issym() or member.islnk():
                        continue
                    member.name = str(Path(*parts))
                    tar.extract(member, target, filter="data")
    return todo


# -- the page ----------------------------------------------------------------------------
from sim.dashboard.menus import CALIBRATION_ONLY, agenda_names, scenario_names  # noqa: E402,F401  (kept for callers)


def build_page():
    """The Solara ``Page`` component and the page's model class ``DashboardModel`` (built on first use of ``Page``).

    The views live in :mod:`sim.dashboard`: the shared panels (``panels``), practice alone
    (``solo``), a room (``room``), the teacher's board (``teacher``) and the page that picks
    one by its address (``page``). Importing them loads Solara and the model, so it waits
    until a page is served.
    """
    import threading

    from sim.dashboard.menus import offered
    from sim.dashboard.page import Page
    from sim.dashboard.solo import DashboardModel

    threading.Thread(target=offered, daemon=True).start()  # the menus take a few seconds to check: start now
    return Page, DashboardModel


def __getattr__(name: str):
    # ``solara run sim.app`` looks up ``Page``; building it lazily keeps imports light.
    if name in ("Page", "DashboardModel"):
        page, model = build_page()
        globals().update(Page=page, DashboardModel=model)
        return globals()[name]
    raise AttributeError(name)


# -- the command ----------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """``negotiate-dashboard``: serve the classroom dashboard (127.0.0.1 unless told)."""
    p = argparse.ArgumentParser(prog="negotiate-dashboard", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this computer only; 0.0.0.0 opens it to the network)",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument(
        "--install-assets",
        action="store_true",
        help="fetch the page's front-end files into the virtualenv with npm, then exit",
    )
    args = p.parse_args(argv)
    if args.install_assets:
        got = install_assets()
        print(f"front-end assets in {cdn_dir()}: " + (f"installed {', '.join(got)}" if got else "already there"))
        return 0
    if missing_assets():
        print(
            f"negotiate-dashboard: front-end files missing in {cdn_dir()} ({', '.join(missing_assets())}); "
            "run `negotiate-dashboard --install-assets` once (needs npm), or `make dashboard`.",
            file=sys.stderr,
        )
        return 2
    # a session whose page went away without closing is dropped after a few minutes (Solara's
    # default keeps it a day: thirty students' reloads would hold memory all day)
    env = dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="false")
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", "3m")
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "sim.app",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--no-open",
    ]
    print(f"Negotiation classroom on http://{args.host}:{args.port}  (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
