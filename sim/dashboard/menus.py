"""What the dashboard's menus offer: only the scenario x agenda pairs that build and run.

A scenario is for the class when its issues carry worded anchors beyond the two ends of
the scale (at least three anchors on some issue): a real case a student can read. The
rest (theory and test cases on bare scales) are offered under a "technical" heading. The
earlier rounds' files are calibration data and never offered: a round's agenda runs only
with its own round scenario, and the shared base is no negotiation alone. A pair is
offered only if the configuration composes and builds for the dashboard's protocol;
tests/test_dashboard.py plays every offered pair through the page's own code path.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import yaml

CONF = Path(__file__).resolve().parent.parent.parent / "conf"
CALIBRATION_ONLY = ("round_", "gaza_rounds_base")
PROTOCOL = "mediated"


def scenario_names() -> list[str]:
    """Every scenario file's name under ``conf/scenario``, without the calibration-only ones."""
    return sorted(p.stem for p in (CONF / "scenario").glob("*.yaml") if not p.stem.startswith(CALIBRATION_ONLY))


def agenda_names() -> list[str]:
    """Every agenda file's name under ``conf/agenda``, without the calibration-only ones."""
    return sorted(p.stem for p in (CONF / "agenda").glob("*.yaml") if not p.stem.startswith(CALIBRATION_ONLY))


_LOCK = threading.Lock()


def _named_issues(agenda: str) -> set[str]:
    """The issues an agenda file names (its phases' issues and its order): a quick pre-check."""
    data = yaml.safe_load((CONF / "agenda" / f"{agenda}.yaml").read_text()) or {}
    names = set(data.get("order") or [])
    for ph in data.get("phases") or []:
        names |= set(ph.get("issues") or [])
    return names


def _scenario_issues(scenario: str) -> set[str] | None:
    """The issues a scenario file lists itself (None if it inherits them: then only building tells)."""
    data = yaml.safe_load((CONF / "scenario" / f"{scenario}.yaml").read_text()) or {}
    issues = data.get("issues")
    return set(issues) if isinstance(issues, dict) and issues else None


@lru_cache(maxsize=1)
def _offered() -> dict[str, dict[str, list[str]]]:
    from sim.classroom import COMPOSE_LOCK
    from sim.model import _static

    out: dict[str, dict[str, list[str]]] = {"class": {}, "technical": {}}
    agendas = {ag: _named_issues(ag) for ag in agenda_names()}
    for scen in scenario_names():
        ok, worded = [], False
        issues = _scenario_issues(scen)
        for ag, named in agendas.items():
            if issues is not None and not named <= issues:
                continue  # names an issue the scenario lacks: it cannot build
            try:
                with COMPOSE_LOCK:  # one pair at a time: pages building models get their turn between pairs
                    st = _static(scen, ag, PROTOCOL, ())
            except Exception:  # noqa: BLE001  (a pair that does not build is simply not offered)
                continue
            ok.append(ag)
            issues = set(st.sc.issues)
            worded = any(len(a) >= 3 for a in st.sc.anchors)
        if ok:
            out["class" if worded else "technical"][scen] = ok
    return out


def offered() -> dict[str, dict[str, list[str]]]:
    """``{"class": {scenario: [agendas]}, "technical": {...}}``: every pair that builds, once per process."""
    with _LOCK:  # the page and the warm-up thread must not both compose every pair
        return _offered()


def agendas_for(scenario: str) -> list[str]:
    """The agendas offered with ``scenario`` (empty when it is offered with none)."""
    menu = offered()
    return menu["class"].get(scenario) or menu["technical"].get(scenario) or []


def scenario_items() -> list[dict]:
    """Items for a Vuetify select: the class scenarios, then a "technical" heading and the rest."""
    menu = offered()
    items = [{"header": "Class scenarios"}] + [{"text": s, "value": s} for s in menu["class"]]
    if menu["technical"]:
        items += [{"divider": True}, {"header": "Technical: theory and test cases"}]
        items += [{"text": s, "value": s} for s in menu["technical"]]
    return items
