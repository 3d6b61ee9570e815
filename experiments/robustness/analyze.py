"""Do the model's answers survive its own constants? Agreement rates under each variation.

For every agenda of the default scenario, runs ``n_seeds`` seeds with the default
constants and again with each constant of ``config.yaml`` halved and doubled (the
drafting step sizes, steps per round, the stalemate rule's rounds and tolerance) and
with the observation window at 2x and 4x the agenda's horizon. Every variant uses the
same seeds. Prints and writes ``robustness.md`` and ``robustness.parquet`` beside this
file: each rate with its 95% Wilson interval and its change from the default, and
whether every change stays within the tolerance.

    python experiments/robustness/analyze.py            # 2,000 seeds, about a minute
    python experiments/robustness/analyze.py --n-seeds 500 --agendas comprehensive phased_plan
    python experiments/robustness/analyze.py --check    # rerun; does it reproduce the committed files?

``summary`` gives the per-agenda table of the README (default rate and the largest change).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.api import build, load_config
from sim.batch import simulate
from sim.kernel import AGREED, horizon
from sim.results import wilson

HERE = Path(__file__).parent


def load(path: Path = HERE / "config.yaml") -> dict:
    with open(path) as f:
        return yaml.safe_load(f)


def variants(conf: dict, agenda: str) -> list[tuple[str, str, list[str]]]:
    """``(constant, value, overrides)`` for the default and every variation of one agenda."""
    st = build(load_config([f"agenda={agenda}"]))
    h = horizon(st.sc, st.ag.n_phases)
    out = [("default", "", [])]
    for name, v in conf["variations"].items():
        if "horizon_multiples" in v:
            for m in v["horizon_multiples"]:
                if m != 2:  # 2x is the default window
                    out.append((name, f"{m}x horizon ({m * h} rounds)", [f"{v['key']}={m * h}"]))
        for val in v.get("values", []):
            out.append((name, f"{val:g}", [f"{v['key']}={val}"]))
    return out


def table(conf: dict, n_seeds: int, agendas: list[str]) -> pd.DataFrame:
    """One row per agenda and variant: agreement rate, interval, change from the default."""
    seeds = np.arange(n_seeds)
    rows = []
    for agenda in agendas:
        base = None
        for const, value, ov in variants(conf, agenda):
            overrides = [f"agenda={agenda}", *ov]
            cols = simulate(build(load_config(overrides), overrides), seeds)
            k = int((cols["status"] == AGREED).sum())
            r = k / n_seeds
            base = r if base is None else base
            lo, hi = wilson(k, n_seeds)
            rows.append(
                {
                    "agenda": agenda,
                    "constant": const,
                    "value": value,
                    "agreement_rate": r,
                    "low": lo,
                    "high": hi,
                    "change": r - base,
                    "median_rounds": float(np.median(cols["rounds"][cols["status"] == AGREED])) if k else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def markdown(df: pd.DataFrame, tol: float, n_seeds: int) -> str:
    lines = [
        f"Agreement rate under each variation ({n_seeds:,} seeds each, the same seeds for every "
        f"variant; 95% Wilson intervals; change from the default).",
        "",
        "| agenda | constant | value | agreement | 95% interval | change |",
        "|:--|:--|:--|--:|:--|--:|",
    ]
    for r in df.itertuples():
        lines.append(
            f"| {r.agenda} | {r.constant} | {r.value} | {r.agreement_rate:.3f} | "
            f"[{r.low:.3f}, {r.high:.3f}] | {r.change:+.3f} |"
        )
    worst = df.loc[df["change"].abs().idxmax()]
    ok = bool((df["change"].abs() <= tol).all())
    lines += [
        "",
        f"Largest change: {worst['change']:+.3f} ({worst['agenda']}, {worst['constant']} = "
        f"{worst['value']}). Every change within {tol}: {'yes' if ok else 'NO'}.",
    ]
    return "\n".join(lines) + "\n"


def summary(df: pd.DataFrame) -> str:
    """Per agenda: the default rate with its interval and the largest change (the README's table)."""
    lines = ["| agenda | default rate [95% interval] | largest change under any constant |", "|:--|:--|--:|"]
    for agenda, g in df.groupby("agenda", sort=False):
        d = g[g["constant"] == "default"].iloc[0]
        lines.append(
            f"| {agenda} | {d['agreement_rate']:.3f} [{d['low']:.3f}, {d['high']:.3f}] | "
            f"{g['change'].abs().max():.3f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    conf = load()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-seeds", type=int, default=conf["n_seeds"])
    ap.add_argument("--agendas", nargs="*", default=conf["agendas"])
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument(
        "--check",
        action="store_true",
        help="compare with the committed robustness.parquet and robustness.md instead of writing them",
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    df = table(conf, args.n_seeds, args.agendas)
    text = markdown(df, conf["tolerance"], args.n_seeds)
    print(text)
    print(summary(df))
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.check:
        same_table = df.reset_index(drop=True).equals(pd.read_parquet(HERE / "robustness.parquet"))
        same_text = (HERE / "robustness.md").read_text() == text
        print(
            f"robustness.parquet {'reproduced' if same_table else 'DIFFERENT'}, "
            f"robustness.md {'reproduced' if same_text else 'DIFFERENT'}"
        )
        return 0 if same_table and same_text else 1
    if not args.no_write:
        df.to_parquet(HERE / "robustness.parquet", index=False)
        (HERE / "robustness.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
