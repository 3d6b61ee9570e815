"""Theory against play: does each protocol reproduce its textbook result?

Each case runs the simulator as a user would (a composed configuration, the protocol's
own strategies, no closed form inside any of them) and compares what the play produced
with what bargaining theory says, computed here independently of the simulator: a
formula (Rubinstein), an optimiser on the same utilities (scipy.optimize for the Nash
and Kalai-Smorodinsky points), a brute-force search of the deal set (Zeuthen), a linear
solve (Friedkin-Johnsen). ``negotiate-validate`` prints one row per case: theory,
simulation, tolerance, pass or fail, and exits non-zero if any case fails. The tests
run the same cases.

One case is a published forecast rather than a theorem: Bueno de Mesquita's (1994) EC
car-emissions case, where the expected-utility protocol must land within a year of his
published forecast. ``negotiate-validate`` prints it beside the published figures and the
baselines, with its round-by-round path (``--figures DIR`` draws it).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.api import build, load_config, run
from sim.baselines import of_scenario
from sim.kernel import RUNNING, influence, init_batch
from sim.scenario import Scenario

RUBINSTEIN_GRID = ((0.5, 0.5), (0.5, 0.99), (0.99, 0.5), (0.99, 0.99), (0.9, 0.9), (0.8, 0.95))
MEDIATED = ["protocol.max_rounds=200", "protocol.steps_per_round=5"]  # time for the text to converge
# the Kalai-Smorodinsky cases: in the last two, neither side's own ideal is individually
# rational for the other, so the ideal points of the solution are well below 1
KS_SCENARIOS = ("logroll", "bilateral_three_issues", "ks_ir_utopia", "ks_ir_utopia_two_issues")


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
        """The case as a row of the printed table."""
        return [
            self.name,
            self.theory,
            self.simulation,
            f"{self.error:.1e}",
            f"{self.tolerance:.0e}",
            "pass" if self.passed else "FAIL",
        ]


def _fmt(v: Iterable[float]) -> str:
    return "(" + ", ".join(f"{x:.4f}" for x in v) + ")"


def rubinstein_share(d1: float, d2: float) -> float:
    """The first proposer's share in Rubinstein's (1982) game: ``(1 - d2) / (1 - d1 d2)``."""
    return (1.0 - d2) / (1.0 - d1 * d2)


def rubinstein(d1: float, d2: float, tol: float = 0.01) -> Case:
    """``split_the_pie`` under alternating offers, A first: agreed at once on A's share?"""
    rs = run(
        load_config(
            [
                "scenario=split_the_pie",
                "protocol=alternating_offers",
                f"scenario.actors.A.discount={d1}",
                f"scenario.actors.B.discount={d2}",
            ]
        )
    )
    rec = rs.record(0)
    share = rec["terms"].get("share", {}).get("value", float("nan"))
    theory = rubinstein_share(d1, d2)
    err = abs(share - theory)
    ok = rec["agreement"] and rec["rounds"] == 1 and err <= tol
    return Case(
        f"Rubinstein d=({d1}, {d2}): A's share, round {rec['rounds']}",
        f"{theory:.4f}",
        f"{share:.4f}",
        err,
        tol,
        bool(ok),
    )


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
        r = minimize(
            neg_log_product,
            x0,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * sc.n_issues,
            options={"ftol": 1e-14, "maxiter": 1000},
        )
        if best is None or r.fun < best.fun:
            best = r
    return linear_utilities(sc, best.x, who)


def _linear_program(sc: Scenario):
    """The principals' linear-additive utilities as rows of a linear program in ``z = (x, d, t)``.

    ``x`` ``[I]`` is the text in ``[0, 1]^I``; ``d`` ``[P, I]`` bounds each principal's distance
    to its ideal from above (``d >= x - p`` and ``d >= p - x``), so that ``const + coef . z =
    sum_i w_i (1 - d_i)`` is at most the principal's utility, and equal to it at any optimum
    that presses on it; ``t`` is a free scalar for the Kalai-Smorodinsky program.

    Returns:
        ``(rv [P], coef [P, Z], const [P], a_ub, b_ub, bounds)``: the distance rows and the
        variables' bounds, to which a program adds its own rows.
    """
    who = np.flatnonzero(sc.principal)
    w, pos, rv = sc.weight[who], sc.position[who], sc.reservation_value[who]
    k, n = w.shape
    nz = n + k * n + 1
    rows, rhs = [], []
    for j in range(k):
        for i in range(n):
            for s in (1.0, -1.0):  # s (x_i - p_ji) - d_ji <= 0
                r = np.zeros(nz)
                r[i], r[n + j * n + i] = s, -1.0
                rows.append(r)
                rhs.append(s * pos[j, i])
    coef = np.zeros((k, nz))
    for j in range(k):
        coef[j, n + j * n : n + (j + 1) * n] = -w[j]
    bounds = [(0.0, 1.0)] * n + [(0.0, None)] * (k * n) + [(None, None)]
    return rv, coef, w.sum(-1), rows, rhs, bounds


def ir_utopias(sc: Scenario) -> np.ndarray:
    """Each principal's ideal point in Kalai and Smorodinsky's sense: its best utility among
    the texts that give every other principal at least its reservation value (a linear
    program per principal, by scipy's HiGHS)."""
    from scipy.optimize import linprog

    rv, coef, const, rows, rhs, bounds = _linear_program(sc)
    out = np.empty(rv.size)
    for j in range(rv.size):
        a_ub = rows + [-coef[k] for k in range(rv.size) if k != j]  # u_k >= rv_k
        b_ub = rhs + [const[k] - rv[k] for k in range(rv.size) if k != j]
        r = linprog(-coef[j], A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
        if r.status != 0:
            raise ValueError(f"no text gives every other principal its reservation value ({r.message})")
        out[j] = const[j] + coef[j] @ r.x
    return out


def ks_point(sc: Scenario, utopia: np.ndarray | None = None) -> np.ndarray:
    """The principals' Kalai-Smorodinsky point by linear programming (utilities).

    Maximise ``t`` subject to every principal's gain fraction ``(u - rv) / (U - rv) >= t``
    over texts in ``[0, 1]^I``, ``U`` its ideal point over the individually rational set
    (:func:`ir_utopias`; or ``utopia`` if given); then, at that ``t``, the largest sum of
    utilities (so the point is on the frontier even where it runs flat). ``|x - p|`` enters
    through the distance variables of :func:`_linear_program`.
    """
    from scipy.optimize import linprog

    who = np.flatnonzero(sc.principal)
    rv, coef, const, rows, rhs, bounds = _linear_program(sc)
    top = ir_utopias(sc) if utopia is None else np.asarray(utopia, float)
    span = top - rv
    # (const + coef . z - rv) >= t span  <=>  -coef . z + t span <= const - rv
    frac_rows = [np.concatenate([-coef[j, :-1], [span[j]]]) for j in range(rv.size)]
    c = np.zeros(coef.shape[1])
    c[-1] = -1.0
    r = linprog(
        c, A_ub=np.array(rows + frac_rows), b_ub=np.array(rhs + list(const - rv)), bounds=bounds, method="highs"
    )
    t = r.x[-1]
    bounds2 = bounds[:-1] + [(t, None)]
    r2 = linprog(
        -coef.sum(0),
        A_ub=np.array(rows + frac_rows),
        b_ub=np.array(rhs + list(const - rv)),
        bounds=bounds2,
        method="highs",
    )
    z = r2.x if r2.status == 0 else r.x
    return linear_utilities(sc, z[: sc.n_issues], who)


def mediated_case(
    scenario: str, rule: str, theory_fn: Callable[[Scenario], np.ndarray], label: str, tol: float = 1e-3
) -> Case:
    """A mediator rule on a two-party scenario: do the principals' utilities match the theory's point?"""
    rs = run(load_config([f"scenario={scenario}", f"protocol.rule={rule}", *MEDIATED]))
    sc = rs.static.sc
    rec = rs.record(0)
    who = [sc.actors[i] for i in np.flatnonzero(sc.principal)]
    sim_u = np.array([rec["utilities"][a] for a in who])
    th = theory_fn(sc)
    err = float(np.abs(sim_u - th).max())
    return Case(
        f"{label} ({scenario}): utilities of {', '.join(who)}",
        _fmt(th),
        _fmt(sim_u),
        err,
        tol,
        bool(rec["agreement"] and err <= tol),
    )


def nash_case(scenario: str) -> Case:
    """The Nash mediator against scipy's Nash bargaining solution."""
    return mediated_case(scenario, "nash", nash_point, "Nash mediator")


def ks_case(scenario: str) -> Case:
    """The Kalai-Smorodinsky mediator against the solution over the individually rational ideal point."""
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
    return Case(
        f"Zeuthen ({scenario}, {grid}^{sc.n_issues} deals): agreed deal", _fmt(best), _fmt(got), err, tol, bool(ok)
    )


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
    return Case(
        f"Friedkin-Johnsen ({scenario}): positions after {rounds} rounds",
        f"{sc.n_actors}x{sc.n_issues} steady state",
        f"max |diff| {err:.1e}",
        err,
        tol,
        err <= tol,
    )


# Bueno de Mesquita (1994, p. 78); Scholz, Calbert & Smith (2011)
EC_CASE = "ec_emissions_1994"
EC_PUBLISHED = 9.05  # years: BDM's forecast (the "dominant outcome" once stable)
EC_ACTUAL = 8.833  # years: the Council's decision
EC_SCHOLZ_PATH = (8.4, 9.9, 9.9, 9.9, 9.9, 7.4, 8.8, 9.6)  # their replication's median, rounds 1-8
EC_TOLERANCE = 1.0  # years
EC_ROUNDS = 10  # rounds of the path shown (the protocol itself stops when the forecast settles)


def years(v: float) -> float:
    """The EC scale: 0 is 4 years, 1 is 10 years."""
    return 4.0 + 6.0 * float(v)


def bdm_path(variant: str = "scholz_2011", rounds: int = EC_ROUNDS) -> list[float]:
    """The forecast (years) at the start and after each of ``rounds`` rounds, on the stated inputs."""
    from sim.protocols.expected_utility import bdm_round, forecast

    sc = build(load_config([f"scenario={EC_CASE}", "protocol=expected_utility"])).sc
    x, s = sc.position[None, :, 0].copy(), sc.salience[None, :, 0]
    scale = np.array([x.max() - x.min()])
    path = [years(forecast(x, s, sc.capability)[0])]
    for _ in range(rounds):
        x, _r = bdm_round(x, s, sc.capability, scale, variant)
        path.append(years(forecast(x, s, sc.capability)[0]))
    return path


@functools.lru_cache(maxsize=1)
def ec_forecasts() -> dict[str, dict]:
    """Every forecast of the EC case, in years, with its round (for the protocol's variants)."""
    out: dict[str, dict] = {}
    for variant in ("scholz_2011", "textbook"):
        rs = run(
            load_config([f"scenario={EC_CASE}", "protocol=expected_utility", f"protocol.params.variant={variant}"])
        )
        rec = rs.record(0)
        out[f"expected_utility ({variant})"] = {
            "years": years(rec["terms"]["delay"]["value"]),
            "round": int(rec["rounds"]),
            "status": rec["status"],
        }
    base = of_scenario(build(load_config([f"scenario={EC_CASE}", "protocol=expected_utility"])).sc)["delay"]
    out["weighted mean"] = {"years": years(base["weighted_mean"])}
    out["weighted median"] = {"years": years(base["weighted_median"])}
    return out


def ec_case() -> Case:
    """The expected-utility protocol on Bueno de Mesquita's EC case: within a year of his 9.05?"""
    f = ec_forecasts()["expected_utility (scholz_2011)"]
    err = abs(f["years"] - EC_PUBLISHED)
    return Case(
        f"Bueno de Mesquita ({EC_CASE}): forecast in years, settled at round {f['round']}",
        f"{EC_PUBLISHED:.2f} (published)",
        f"{f['years']:.2f}",
        err,
        EC_TOLERANCE,
        bool(f["status"] == "agreement" and err <= EC_TOLERANCE),
    )


def ec_table() -> str:
    """The EC case's forecasts beside the published figures and the decision."""
    rows = [
        ["forecast", "years", "off the decision (8.833)"],
        ["Bueno de Mesquita 1994, published", f"{EC_PUBLISHED:.2f}", f"{EC_PUBLISHED - EC_ACTUAL:+.2f}"],
    ]
    for name, f in ec_forecasts().items():
        where = f" (round {f['round']})" if "round" in f else ""
        rows.append([name + where, f"{f['years']:.2f}", f"{f['years'] - EC_ACTUAL:+.2f}"])
    widths = [max(len(r[k]) for r in rows) for k in range(3)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    path = bdm_path()
    lines.append("")
    lines.append("Round by round (scholz_2011; start, then rounds 1-10): " + ", ".join(f"{v:.2f}" for v in path))
    lines.append(
        "Scholz et al. 2011, rounds 1-8:                          " + ", ".join(f"{v:.1f}" for v in EC_SCHOLZ_PATH)
    )
    return "\n".join(lines)


def ec_figure(out: str | Path) -> list[Path]:
    """The round-by-round forecast of both variants against the published figures (.png and .svg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.report import _save

    f = ec_forecasts()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    rounds = np.arange(EC_ROUNDS + 1)
    for variant, colour in (("scholz_2011", "#1f77b4"), ("textbook", "#2ca02c")):
        ax.plot(rounds, bdm_path(variant), "o-", color=colour, lw=1.5, ms=4, label=f"expected_utility, {variant}")
        stop = f[f"expected_utility ({variant})"]["round"]
        ax.plot(
            [stop],
            [f[f"expected_utility ({variant})"]["years"]],
            "s",
            color=colour,
            ms=9,
            mfc="none",
            label=f"  settles at round {stop}",
        )
    ax.plot(
        np.arange(1, len(EC_SCHOLZ_PATH) + 1),
        EC_SCHOLZ_PATH,
        "x--",
        color="#7f7f7f",
        lw=1,
        label="Scholz et al. 2011 (published path)",
    )
    ax.axhline(EC_PUBLISHED, color="#d62728", lw=1.2, label=f"Bueno de Mesquita's forecast {EC_PUBLISHED}")
    ax.axhline(EC_ACTUAL, color="k", lw=1.2, ls=":", label=f"the decision {EC_ACTUAL}")
    ax.axhline(
        f["weighted mean"]["years"],
        color="#ff7f0e",
        lw=1,
        ls="-.",
        label=f"weighted mean {f['weighted mean']['years']:.2f}",
    )
    ax.set_xlabel("round", fontsize=9)
    ax.set_ylabel("forecast: years before stricter standards", fontsize=9)
    ax.set_ylim(3.8, 10.2)
    ax.set_xticks(rounds)
    ax.tick_params(labelsize=8)
    ax.set_title(
        "EC car-emission standards: the expected-utility forecast round by round\n"
        "(median of positions weighted by capability x salience)",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _save(fig, out, dpi=150)


def all_cases() -> list[Callable[[], Case]]:
    """Every case, as zero-argument callables (the table's rows, in order)."""
    cases: list[Callable[[], Case]] = [lambda d=d: rubinstein(*d) for d in RUBINSTEIN_GRID]
    for sc in ("logroll", "bilateral_three_issues"):
        cases.append(lambda sc=sc: nash_case(sc))
    for sc in KS_SCENARIOS:
        cases.append(lambda sc=sc: ks_case(sc))
    cases.append(zeuthen_case)
    cases.append(friedkin_johnsen_case)
    cases.append(ec_case)
    return cases


def table(cases: list[Case]) -> str:
    """The cases as an aligned text table."""
    head = ["case", "theory", "simulation", "error", "tolerance", "result"]
    rows = [head] + [c.row() for c in cases]
    widths = [max(len(r[k]) for r in rows) for k in range(len(head))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``negotiate-validate``: print the table; exit status 1 if any case fails."""
    parser = argparse.ArgumentParser(prog="negotiate-validate", description=__doc__.splitlines()[0])
    parser.add_argument("--figures", metavar="DIR", help="also draw the published case's round-by-round path here")
    args = parser.parse_args(argv)
    results = [case() for case in all_cases()]
    print(table(results))
    print(f"\nThe published case ({EC_CASE}):")
    print(ec_table())
    if args.figures:
        for p in ec_figure(Path(args.figures) / EC_CASE):
            print(f"figure: {p}")
    failed = [c for c in results if not c.passed]
    print(f"\n{len(results) - len(failed)} of {len(results)} cases pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
