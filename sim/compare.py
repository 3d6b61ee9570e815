"""A cross-check with NegMAS: the same bilateral negotiation in both tools, side by side.

NegMAS (Mohammad, Greenwald, Nakadai et al.) is the reference library for automated
negotiation. The shared case is the textbook bilateral one: four issues with eleven
values each, opposing linear-additive preferences, a Boulware negotiator against a
Conceder, alternating offers for 100 steps. Here it is ``conf/scenario/negmas_bilateral.yaml``
under ``protocol=alternating_offers`` with time-dependent strategies (our exponent
``e`` is the reciprocal of NegMAS's); in NegMAS it is an ``SAOMechanism`` with
``BoulwareTBNegotiator`` and ``ConcederTBNegotiator``. The two tools should agree on who
gets more and roughly when and where they settle; they differ in detail because NegMAS
offers only the discrete outcomes while this simulator's texts are continuous.

NegMAS is an optional extra (``pip install -e ".[compare]"``); only :func:`run_negmas`
needs it. ``benchmarks/bench.py`` times both tools with these functions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

SCENARIO = "negmas_bilateral"
N_STEPS = 100
N_VALUES = 11


@dataclass(frozen=True)
class Agreement:
    """One negotiation's end: the outcome on NegMAS's 0..10 scale, utilities, steps taken."""

    outcome: tuple[float, ...] | None
    utilities: tuple[float, float] | None
    steps: int


def negmas_case() -> dict:
    """The shared case, read from the scenario file so both tools use the same numbers.

    Returns a dict with ``issues`` (names), ``n_values``, ``n_steps``, ``weights``
    (``{"A": [...], "B": [...]}``, normalised), ``ideal`` (each side's best value index
    per issue), ``exponents`` (NegMAS's time exponents: > 1 Boulware, < 1 Conceder) and
    ``overrides`` (the configuration of our run).
    """
    from sim.api import build, load_config

    overrides = [f"scenario={SCENARIO}", "protocol=alternating_offers", f"protocol.max_rounds={N_STEPS}"]
    sc = build(load_config(overrides)).sc
    a, b = sc.actor_index("A"), sc.actor_index("B")
    exps = {n: 1.0 / sc.strategy_params[i]["e"] for n, i in (("A", a), ("B", b))}
    return {
        "issues": list(sc.issues),
        "n_values": N_VALUES,
        "n_steps": N_STEPS,
        "weights": {"A": sc.weight[a].tolist(), "B": sc.weight[b].tolist()},
        "ideal": {
            "A": (sc.position[a] * (N_VALUES - 1)).round().astype(int).tolist(),
            "B": (sc.position[b] * (N_VALUES - 1)).round().astype(int).tolist(),
        },
        "exponents": exps,
        "overrides": overrides,
    }


def run_negmas(n_runs: int) -> tuple[float, list[Agreement]]:
    """Run the shared case ``n_runs`` times in NegMAS: (ms per negotiation, agreements)."""
    from negmas import SAOMechanism, make_issue, make_os
    from negmas.preferences import LinearAdditiveUtilityFunction
    from negmas.preferences.value_fun import AffineFun
    from negmas.sao import BoulwareTBNegotiator, ConcederTBNegotiator

    case = negmas_case()
    top = case["n_values"] - 1
    issues = [make_issue(case["n_values"], name) for name in case["issues"]]
    space = make_os(issues)

    def ufun(side: str) -> LinearAdditiveUtilityFunction:
        # value 1 at the side's ideal index, falling linearly to 0 at the other end
        vals = [
            AffineFun(1.0 / top, 0.0) if ideal == top else AffineFun(-1.0 / top, 1.0) for ideal in case["ideal"][side]
        ]
        return LinearAdditiveUtilityFunction(
            values=vals, weights=case["weights"][side], outcome_space=space, reserved_value=0.0
        )

    ua, ub = ufun("A"), ufun("B")
    kinds = {
        "A": BoulwareTBNegotiator if case["exponents"]["A"] > 1 else ConcederTBNegotiator,
        "B": BoulwareTBNegotiator if case["exponents"]["B"] > 1 else ConcederTBNegotiator,
    }
    out = []
    start = time.perf_counter()
    for _ in range(n_runs):
        m = SAOMechanism(issues=issues, n_steps=case["n_steps"])
        m.add(kinds["A"](name="A"), ufun=ua)
        m.add(kinds["B"](name="B"), ufun=ub)
        state = m.run()
        agr = state.agreement
        out.append(
            Agreement(
                outcome=None if agr is None else tuple(float(v) for v in agr),
                utilities=None if agr is None else (float(ua(agr)), float(ub(agr))),
                steps=int(state.step),
            )
        )
    ms = (time.perf_counter() - start) * 1000.0 / max(n_runs, 1)
    return ms, out


def run_ours(n_runs: int, batched: bool) -> tuple[float, list[Agreement]]:
    """Run the shared case ``n_runs`` times here: all seeds in one batch, or one at a time.

    Returns (ms per negotiation, agreements); compiling the configuration is not timed.
    """
    from sim.api import build, load_config
    from sim.batch import simulate
    from sim.kernel import AGREED

    case = negmas_case()
    st = build(load_config(case["overrides"]))
    a, b = st.sc.actor_index("A"), st.sc.actor_index("B")
    seeds = np.arange(n_runs)
    start = time.perf_counter()
    parts = [simulate(st, seeds)] if batched else [simulate(st, seeds[k : k + 1]) for k in range(n_runs)]
    ms = (time.perf_counter() - start) * 1000.0 / max(n_runs, 1)
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    out = []
    for r in range(n_runs):
        ok = cols["status"][r] == AGREED
        out.append(
            Agreement(
                outcome=tuple(float(v) * (N_VALUES - 1) for v in cols["terms"][r]) if ok else None,
                utilities=(float(cols["utility"][r, a]), float(cols["utility"][r, b])) if ok else None,
                steps=int(cols["rounds"][r]),
            )
        )
    return ms, out


def side_by_side(n_runs: int = 1) -> str:
    """A small table of both tools' first agreement and timing, for a reader."""
    ms_n, neg = run_negmas(n_runs)
    ms_o, ours = run_ours(n_runs, batched=True)
    rows = [("tool", "outcome (0..10 per issue)", "utilities (Boulware, Conceder)", "steps", "ms/negotiation")]
    for name, ms, ag in (("NegMAS", ms_n, neg[0]), ("negotiation-sim", ms_o, ours[0])):
        oc = "none" if ag.outcome is None else "(" + ", ".join(f"{v:.2f}" for v in ag.outcome) + ")"
        ut = "none" if ag.utilities is None else f"({ag.utilities[0]:.3f}, {ag.utilities[1]:.3f})"
        rows.append((name, oc, ut, str(ag.steps), f"{ms:.2f}"))
    widths = [max(len(r[k]) for r in rows) for k in range(5)]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows)


if __name__ == "__main__":
    print(side_by_side())
