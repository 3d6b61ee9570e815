"""Which mechanism makes agendas differ? Switch each one off and compare agreement rates.

Runs the default scenario under the comprehensive package and the phased plan (and,
optionally, more agendas), first with the full model, then with one mechanism removed
at a time: the commitment problem (no one fears reneging), trust built by implemented
phases, red lines, logrolling across a package's issues... (the last cannot be switched
off directly; compare the comprehensive package with one-issue sequences instead), and
shocks. Prints a table and writes `ablation.parquet` and `ablation.md` beside this file.

    python experiments/agenda_mechanisms/analyze.py --n-seeds 200
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sim.api import load_config, run

ABLATIONS: dict[str, list[str]] = {
    "full model": [],
    "no commitment problem": ["scenario.actors.Israel.renege_base=0", "scenario.actors.Hamas.renege_base=0"],
    "no trust from implemented phases": ["scenario.trust.gain_per_phase=0"],
    "high initial trust (0.6)": ["conditions.trust=0.6"],
    "no red lines": [f"scenario.actors.{a}.red_lines=[]" for a in ("Israel", "Hamas", "US")],
    "no shocks": ["scenario.shocks.rate=0"],
    "no pressure or cost of delay": ["conditions.pressure=0", "scenario.actors.Israel.delay_cost=0",
                                     "scenario.actors.Hamas.delay_cost=0", "scenario.actors.Hamas.outside_option=[]"],
    "no spent leverage": ["scenario.on_implement.exchange=[]"],
}
AGENDAS = {
    "comprehensive": ["agenda=comprehensive"],
    "phased_plan": ["agenda=phased_plan"],
    "sequence D>W>G>V": ["agenda=sequence", "agenda.order=[disarmament,withdrawal,guarantees,governance]"],
    "sequence W>V>G>D": ["agenda=sequence", "agenda.order=[withdrawal,governance,guarantees,disarmament]"],
}


def ablation_table(n_seeds: int, agendas: dict[str, list[str]] = AGENDAS,
                   ablations: dict[str, list[str]] = ABLATIONS) -> pd.DataFrame:
    """Agreement rate (with 95% Wilson interval) and outcome counts per agenda and ablation."""
    rows = []
    for ab, ab_ov in ablations.items():
        for ag, ag_ov in agendas.items():
            rs = run(load_config(ag_ov + ab_ov + [f"n_seeds={n_seeds}"]))
            s = rs.summary()
            lo, hi = s["agreement_interval_95"]
            rows.append({
                "ablation": ab, "agenda": ag, "agreement_rate": s["agreement_rate"], "low": lo, "high": hi,
                "partial": s["outcomes"].get("partial", 0), "breakdown": s["outcomes"].get("breakdown", 0),
                "median_rounds": s["median_rounds_to_agreement"],
                "top_blocking_issue": next(iter(s["blocking_issues"]), ""),
            })
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-seeds", type=int, default=200)
    args = ap.parse_args()
    df = ablation_table(args.n_seeds)
    here = Path(__file__).parent
    df.to_parquet(here / "ablation.parquet", index=False)
    wide = df.pivot(index="ablation", columns="agenda", values="agreement_rate").reindex(list(ABLATIONS))
    wide = wide[list(AGENDAS)]
    text = wide.round(2).to_string()
    (here / "ablation.md").write_text(f"Agreement rate, {args.n_seeds} seeds each\n\n{text}\n")
    print(text)
    print()
    print(df.to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
