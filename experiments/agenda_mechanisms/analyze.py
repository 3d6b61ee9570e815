"""Which mechanism makes agendas differ? Switch each one off and compare agreement rates.

Runs the default scenario under the comprehensive package and the phased plan (and,
optionally, more agendas), first with the full model, then with one mechanism removed
at a time: the commitment problem (no one fears reneging), trust built by implemented
phases, red lines, logrolling across a package's issues... (the last cannot be switched
off directly; compare the comprehensive package with one-issue sequences instead), and
shocks. Prints a table and writes `ablation.parquet` and `ablation.md` beside this file.

`ablation.md` holds two Markdown tables (agreement rates, and each ablation's change from
the full model), rounded to two decimals as ``numpy.round`` does (halves to even: 0.885
gives 0.88); the README copies them from there. ``--check`` compares a fresh run with the
committed ``ablation.parquet`` and ``ablation.md`` instead of writing them.

    python experiments/agenda_mechanisms/analyze.py --n-seeds 1000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim.api import load_config, run

ABLATIONS: dict[str, list[str]] = {
    "full model": [],
    "no commitment problem": ["scenario.actors.Israel.renege_base=0", "scenario.actors.Hamas.renege_base=0"],
    "no trust from implemented phases": ["scenario.trust.gain_per_phase=0"],
    "high initial trust (0.6)": ["conditions.trust=0.6"],
    "no red lines": [f"scenario.actors.{a}.red_lines=[]" for a in ("Israel", "Hamas", "US")],
    "no shocks": ["scenario.shocks.rate=0"],
    "no pressure or cost of delay": [
        "conditions.pressure=0",
        "scenario.actors.Israel.delay_cost=0",
        "scenario.actors.Hamas.delay_cost=0",
        "scenario.actors.Hamas.outside_option=[]",
    ],
    "no spent leverage": ["scenario.on_implement.exchange=[]"],
}
AGENDAS = {
    "comprehensive": ["agenda=comprehensive"],
    "phased_plan": ["agenda=phased_plan"],
    "sequence D>W>G>V": ["agenda=sequence", "agenda.order=[disarmament,withdrawal,guarantees,governance]"],
    "sequence W>V>G>D": ["agenda=sequence", "agenda.order=[withdrawal,governance,guarantees,disarmament]"],
}


def ablation_table(
    n_seeds: int, agendas: dict[str, list[str]] = AGENDAS, ablations: dict[str, list[str]] = ABLATIONS
) -> pd.DataFrame:
    """Agreement rate (with 95% Wilson interval) and outcome counts per agenda and ablation."""
    rows = []
    for ab, ab_ov in ablations.items():
        for ag, ag_ov in agendas.items():
            rs = run(load_config(ag_ov + ab_ov + [f"n_seeds={n_seeds}"]))
            s = rs.summary()
            lo, hi = s["agreement_interval_95"]
            rows.append(
                {
                    "ablation": ab,
                    "agenda": ag,
                    "agreement_rate": s["agreement_rate"],
                    "low": lo,
                    "high": hi,
                    "partial": s["outcomes"].get("partial", 0),
                    "breakdown": s["outcomes"].get("breakdown", 0),
                    "median_rounds": s["median_rounds_to_agreement"],
                    "top_blocking_issue": next(iter(s["blocking_issues"]), ""),
                }
            )
    return pd.DataFrame(rows)


HERE = Path(__file__).parent


def pipe_table(wide: pd.DataFrame, signed: bool = False) -> str:
    """``wide`` (index: ablation, columns: agendas) as an aligned Markdown table, two decimals."""

    def cell(v: float) -> str:
        r = float(np.round(v, 2)) + 0.0  # + 0.0: no "-0.00"
        return f"{r:+.2f}" if signed and r != 0 else f"{r:.2f}"

    head = [str(wide.index.name or "ablation"), *map(str, wide.columns)]
    rows = [[str(i), *(cell(v) for v in r)] for i, r in zip(wide.index, wide.to_numpy(), strict=True)]
    w = [max(len(x[k]) for x in [head, *rows]) for k in range(len(head))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w[0]) if k == 0 else c.rjust(w[k]) for k, c in enumerate(cells)) + " |"

    rule = "|" + "|".join(":" + "-" * (w[0] + 1) if k == 0 else "-" * (w[k] + 1) + ":" for k in range(len(w))) + "|"
    return "\n".join([line(head), rule, *(line(r) for r in rows)])


def markdown(df: pd.DataFrame, n_seeds: int) -> str:
    """The text of ``ablation.md``: agreement rates, then each ablation's change from the full model."""
    ablations = [a for a in ABLATIONS if a in set(df["ablation"])] + [
        a for a in dict.fromkeys(df["ablation"]) if a not in ABLATIONS
    ]
    agendas = [a for a in AGENDAS if a in set(df["agenda"])] + [
        a for a in dict.fromkeys(df["agenda"]) if a not in AGENDAS
    ]
    wide = df.pivot(index="ablation", columns="agenda", values="agreement_rate").reindex(ablations)[agendas]
    wide.index.name, wide.columns.name = "ablation", None
    parts = [
        f"Agreement rate, {n_seeds:,} seeds each (the same seeds in every cell; agreement = every phase agreed).",
        "",
        pipe_table(wide),
    ]
    if "full model" in wide.index:
        change = (wide - wide.loc["full model"]).drop(index="full model")
        parts += ["", "Change from the full model (from the unrounded rates).", "", pipe_table(change, signed=True)]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-seeds", type=int, default=1000, help="seeds per cell (default: %(default)s, as committed)")
    ap.add_argument(
        "--check",
        action="store_true",
        help="compare with the committed ablation.parquet and ablation.md instead of writing them",
    )
    args = ap.parse_args(argv)
    df = ablation_table(args.n_seeds)
    text = markdown(df, args.n_seeds)
    print(text)
    print(df.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.check:
        same_table = df.reset_index(drop=True).equals(pd.read_parquet(HERE / "ablation.parquet"))
        same_text = (HERE / "ablation.md").read_text() == text
        print(
            f"\nablation.parquet {'reproduced' if same_table else 'DIFFERENT'}, "
            f"ablation.md {'reproduced' if same_text else 'DIFFERENT'}"
        )
        return 0 if same_table and same_text else 1
    df.to_parquet(HERE / "ablation.parquet", index=False)
    (HERE / "ablation.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
