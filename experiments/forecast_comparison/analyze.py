"""Who forecasts better: weighted mean, weighted median, Bueno de Mesquita's model, the mediated model.

Two comparisons against what happened:

1. The published EC car-emissions case (``conf/scenario/ec_emissions_1994.yaml``): each
   forecast in years against the Council's decision (8.833) and Bueno de Mesquita's own
   published forecast (9.05).
2. The earlier rounds of the Gaza talks (``experiments/calibration/earlier_rounds.yaml``):
   each target of the calibration, with each forecaster at the stated, uncalibrated inputs
   (see :mod:`sim.forecasters` for how a baseline text becomes a forecast of agreement).

Writes ``comparison.md`` and ``rounds.parquet`` beside this file.

    python experiments/forecast_comparison/analyze.py            # 200 seeds, about 30 s
    python experiments/forecast_comparison/analyze.py --check    # does it reproduce comparison.md?
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim import validate
from sim.calibrate import load
from sim.forecasters import compare_rounds, forecaster_table, rounds_markdown

HERE = Path(__file__).parent


def ec_markdown() -> str:
    f = validate.ec_forecasts()
    rows = [
        "| forecast | years | off the decision (8.833) |",
        "|---|---|---|",
        f"| Bueno de Mesquita 1994, published | {validate.EC_PUBLISHED:.2f} | "
        f"{validate.EC_PUBLISHED - validate.EC_ACTUAL:+.2f} |",
    ]
    for name, v in f.items():
        where = f", settles at round {v['round']}" if "round" in v else ""
        rows.append(f"| {name}{where} | {v['years']:.2f} | {v['years'] - validate.EC_ACTUAL:+.2f} |")
    rows.append("| mediated | n/a | the case has no mediator |")
    return "\n".join(rows)


def outcomes_markdown(n_seeds: int, seed: int) -> str:
    """How the expected-utility runs of each round end: a settled forecast agreed or refused, or none."""
    cal = load("earlier_rounds")
    kinds = ("agreement", "stalemate", "max_rounds", "shock")
    rows = ["| round | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for r in cal.rounds:
        t = forecaster_table(cal.overrides(r), "expected_utility", n_seeds, seed)
        share = t["status"].value_counts(normalize=True)
        rows.append(f"| {r} | " + " | ".join(f"{share.get(k, 0.0):.2f}" for k in kinds) + " |")
    return "\n".join(rows)


def markdown(n_seeds: int, seed: int) -> tuple[str, object]:
    df = compare_rounds("earlier_rounds", n_seeds=n_seeds, seed=seed)
    text = "\n".join(
        [
            "# Who forecasts better",
            "",
            "Written by `python experiments/forecast_comparison/analyze.py`; do not edit by hand.",
            "",
            "## The published case: EC car-emission standards (Bueno de Mesquita 1994)",
            "",
            ec_markdown(),
            "",
            "## The earlier rounds of the Gaza talks (the calibration's targets)",
            "",
            rounds_markdown(df, n_seeds),
            "",
            "How the expected-utility runs end (share of runs): `agreement`, the settled forecast "
            "accepted by every principal; `stalemate`, a settled forecast some principal refuses; "
            "`max_rounds`, no settled forecast within the window; `shock`, ended by a shock.",
            "",
            outcomes_markdown(n_seeds, seed),
            "",
        ]
    )
    return text, df


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-seeds", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--check", action="store_true", help="compare with the committed comparison.md instead of writing")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    text, df = markdown(args.n_seeds, args.seed)
    print(text)
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.check:
        same = (HERE / "comparison.md").read_text(encoding="utf-8") == text
        print("reproduces comparison.md" if same else "DIFFERS from comparison.md")
        return 0 if same else 1
    (HERE / "comparison.md").write_text(text, encoding="utf-8")
    df.to_parquet(HERE / "rounds.parquet", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
