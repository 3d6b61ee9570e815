"""Theory against play: does each protocol reproduce its textbook result?

Each case runs the simulator as a user would (a composed configuration, the protocol's
own strategies, no closed form inside any of them) and compares what the play produced
with what bargaining theory says, computed here independently of the simulator: a
formula (Rubinstein), an optimiser on the same utilities (scipy.optimize for the Nash
and Kalai-Smorodinsky points), a brute-force search of the deal set (Zeuthen), a linear
solve (Friedkin-Johnsen). ``negotiate-validate`` prints one row per case: theory,
simulation, tolerance, pass or fail, and exits non-zero if any case fails. The tests
run the same cases.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from sim.api import build, load_config, run
from sim.kernel import RUNNING, influence, init_batch
from sim.scenario import Scenario

RUBINSTEIN_GRID = ((0.5, 0.5), (0.5, 0.99), (0.99, 0.5), (0.99, 0.99), (0.9, 0.9), (0.8, 0.95))
MEDIATED = ["protocol.max_rounds=200", "protocol.steps_per_round=5"]  # time for the text to converge


@dataclass(frozen=True)
class Case:
    """One comparison: what theory says, what the play gave, and how close it must be."""

    name: str
    theory: str
    simulation: str
    error: float
    tolerance: float
    passed: bool

    def row(self) -> list[str]:
        return [self.name, self.theory, self.simulation, f"{self.error:.1e}", f"{self.tolerance:.0e}",
                "pass" if self.passed else "FAIL"]


def _fmt(v: Iterable[float]) -> str:
    return "(" + ", ".join(f"{x:.4f}" for x in v) + ")"


def rubinstein_share(d1: float, d2: float) -> float:
    """The first proposer's share in Rubinstein's (1982) game: ``(1 - d2) / (1 - d1 d2)``."""
    return (1.0 - d2) / (1.0 - d1 * d2)


def rubinstein(d1: float, d2: float, tol: float = 0.01) -> Case:
    """``split_the_pie`` under alternating offers, A first: agreed at once on A's share?"""
    rs = run(load_config(["scenario=split_the_pie", "protocol=alternating_offers",
                          f"scenario.actors.A.discount={d1}", f"scenario.actors.B.discount={d2}"]))
    rec = rs.record(0)
    share = rec["terms"].get("share", {}).get("value", float("nan"))
    theory = rubinstein_share(d1, d2)
    err = abs(share - theory)
    ok = rec["agreement"] and rec["rounds"] == 1 and err <= tol
    return Case(f"Rubinstein d=({d1}, {d2}): A's share, round {rec['rounds']}", f"{theory:.4f}", f"{share:.4f}",
                err, tol, bool(ok))


def linear_utilities(sc: Scenario, x: np.ndarray, who: np.ndarray) -> np.ndarray:
    """Linear-additive utilities ``[..., len(who)]`` of texts ``x``, written out afresh."""
    w = sc.weight[who]
    return (w * (1.0 - np.abs(x[..., None, :] - sc.position[who]))).sum(-1)


def nash_point(sc: Scenario, starts: int = 40) -> np.ndarray:
    """The two principals' Nash bargaining solution by SLSQP from many starts (utilities)."""
    from scipy.optimize import minimize

    who = np.flatnonzero(sc.principal)
    rv = sc.reservation_value[who]

    def neg_log_product(x):
        s = linear_utilities(sc, x, who) - rv
        return -np.log(np.maximum(s, 1e-12)).sum()

    best = None
    for x0 in np.random.default_rng(0).random((starts, sc.n_issues)):
        r = minimize(neg_log_product, x0, method="SLSQP", bounds=[(0.0, 1.0)] * sc.n_issues,
                     options={"ftol": 1e-14, "maxiter": 1000})
        if best is None or r.fun < best.fun:
            best = r
    return linear_utilities(sc, best.x, who)


def ks_point(sc: Scenario) -> np.ndarray:
    """The principals' Kalai-Smorodinsky point by linear programming (utilities).

    Maximise ``t`` subject to every principal's gain fraction ``(u - rv) / (umax - rv) >= t``
    over texts in ``[0, 1]^I``; with linear values ``|x - p|`` is linear on each side of
    ``p``, and every principal's ideal here sits at an end of each issue.
    """
    from scipy.optimize import linprog

    who = np.flatnonzero(sc.principal)
    pos = sc.position[who]
    if not np.all((pos == 0) | (pos == 1)):
        raise ValueError("ks_point needs principals' positions at the ends of each issue")
    w = sc.weight[who]
    rv = sc.reservation_value[who]
    n = sc.n_issues
    # u_a(x) = sum_i w_ai (1 - |x_i - p_ai|) = const_a + coef_a . x
    coef = np.where(pos == 1, w, -w)
    const = np.where(pos == 1, 0.0, w).sum(-1)
    span = 1.0 - rv  # the best each can get: every issue its way
    c = np.zeros(n + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-coef / span[:, None], np.ones((len(who), 1))])
    b_ub = (const - rv) / span
    r = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=[(0.0, 1.0)] * n + [(None, None)], method="highs")
    return const + coef @ r.x[:n]


def mediated_case(scenario: str, rule: str, theory_fn: Callable[[Scenario], np.ndarray], label: str,
                  tol: float = 1e-3) -> Case:
    rs = run(load_config([f"scenario={scenario}", f"protocol.rule={rule}", *MEDIATED]))
    sc = rs.static.sc
    rec = rs.record(0)
    who = [sc.actors[i] for i in np.flatnonzero(sc.principal)]
    sim_u = np.array([rec["utilities"][a] for a in who])
    th = theory_fn(sc)
    err = float(np.abs(sim_u - th).max())
    return Case(f"{label} ({scenario}): utilities of {', '.join(who)}", _fmt(th), _fmt(sim_u), err, tol,
                bool(rec["agreement"] and err <= tol))


def nash_case(scenario: str) -> Case:
    return mediated_case(scenario, "nash", nash_point, "Nash mediator")


def ks_case(scenario: str) -> Case:
    return mediated_case(scenario, "kalai_smorodinsky", ks_point, "Kalai-Smorodinsky mediator")


def nash_product_maximiser(sc: Scenario, grid: int) -> tuple[np.ndarray, float, float]:
    """Brute force over the deal set: the deal with the largest Nash product, the largest
    product and the runner-up's (so a case can tell a unique maximiser from a tie)."""
    who = np.flatnonzero(sc.principal)
    deals = np.array(list(itertools.product(np.linspace(0.0, 1.0, grid), repeat=sc.n_issues)))
    s = linear_utilities(sc, deals, who) - sc.reservation_value[who]
    prod = np.where((s >= 0).all(-1), np.prod(s, axis=-1), -np.inf)
    order = np.argsort(-prod, kind="stable")
    return deals[order[0]], float(prod[order[0]]), float(prod[order[1]])


def zeuthen_case(scenario: str = "bilateral_zeuthen", grid: int = 11) -> Case:
    """Monotonic concession with Zeuthen's rule ends at the Nash-product maximiser."""
    rs = run(load_config([f"scenario={scenario}", "protocol=monotonic_concession", f"protocol.params.grid={grid}"]))
    sc = rs.static.sc
    rec = rs.record(0)
    got = np.array([rec["terms"].get(i, {}).get("value", np.nan) for i in sc.issues])
    best, top, second = nash_product_maximiser(sc, grid)
    err = float(np.abs(got - best).max())
    tol = 1e-6
    ok = rec["agreement"] and err <= tol and top > second
    return Case(f"Zeuthen ({scenario}, {grid}^{sc.n_issues} deals): agreed deal", _fmt(best), _fmt(got), err, tol,
                bool(ok))


def friedkin_johnsen_case(scenario: str = "sharm_el_sheikh_2025", rounds: int = 400, tol: float = 1e-6) -> Case:
    """Influence alone, iterated, against ``(I - L W)^-1 (I - L) x0`` for every issue."""
    st = build(load_config([f"scenario={scenario}"]))
    sc = st.sc
    b = init_batch(st, np.array([0]))
    live = b.status == RUNNING
    x0 = b.pos0[0].copy()
    for t in range(rounds):
        influence(st, b, live, t + 1)  # positions: influence alone (time moves reservation values only)
    lam = np.diag(sc.susceptibility)
    steady = np.linalg.solve(np.eye(sc.n_actors) - lam @ sc.influence, (np.eye(sc.n_actors) - lam) @ x0)
    err = float(np.abs(b.pos[0] - steady).max())
    return Case(f"Friedkin-Johnsen ({scenario}): positions after {rounds} rounds",
                f"{sc.n_actors}x{sc.n_issues} steady state", f"max |diff| {err:.1e}", err, tol, err <= tol)


def all_cases() -> list[Callable[[], Case]]:
    """Every case, as zero-argument callables (the table's rows, in order)."""
    cases: list[Callable[[], Case]] = [lambda d=d: rubinstein(*d) for d in RUBINSTEIN_GRID]
    for sc in ("logroll", "bilateral_three_issues"):
        cases.append(lambda sc=sc: nash_case(sc))
    for sc in ("logroll", "bilateral_three_issues"):
        cases.append(lambda sc=sc: ks_case(sc))
    cases.append(zeuthen_case)
    cases.append(friedkin_johnsen_case)
    return cases


def table(cases: list[Case]) -> str:
    head = ["case", "theory", "simulation", "error", "tolerance", "result"]
    rows = [head] + [c.row() for c in cases]
    widths = [max(len(r[k]) for r in rows) for k in range(len(head))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``negotiate-validate``: print the table; exit status 1 if any case fails."""
    parser = argparse.ArgumentParser(prog="negotiate-validate", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    results = [case() for case in all_cases()]
    print(table(results))
    failed = [c for c in results if not c.passed]
    print(f"\n{len(results) - len(failed)} of {len(results)} cases pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
