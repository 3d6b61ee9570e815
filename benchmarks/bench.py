"""How fast the simulator runs, and how its cost grows: the figures quoted in the README.

Run ``python benchmarks/bench.py`` (or ``make bench``); ``--quick`` for a fast smoke run,
``--json PATH`` to write the figures. It prints, for the default scenario, the time of
one run through the Mesa model (trajectories off and on), batch throughput for batch
sizes 1 to 10,000, scaling tables for actors, issues and rounds (generated scenarios,
``sim.synthetic``), the peak memory of one job of 100,000 seeds, and, when NegMAS and
``sim.compare`` are installed, the comparison with NegMAS on a shared bilateral case.

Times are CPU seconds of this process (``time.process_time``), medians over repeats: on
a shared machine wall-clock time also counts the time other programs hold the core, CPU
time does not. Everything runs in one process, so "runs per second" is per core.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.api import build, load_config, run  # noqa: E402
from sim.batch import simulate  # noqa: E402
from sim.model import NegotiationModel  # noqa: E402
from sim.synthetic import random_static  # noqa: E402

CLOCK = time.process_time


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_average_1min": os.getloadavg()[0],
    }


def median_cpu(fn, repeat: int) -> float:
    """Median CPU seconds of ``fn()`` over ``repeat`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = CLOCK()
        fn()
        times.append(CLOCK() - t0)
    return statistics.median(times)


def bench_mesa(st, n: int) -> dict:
    """One default run through the Mesa model: construct, step to the end, outcome record.

    Medians over three passes of ``n`` seeds, after one untimed run.
    """
    out = {}
    for traj in (False, True):
        NegotiationModel(rng=0, static=st, trajectories=traj).run()  # warm-up: not timed
        steps, record, rounds = [], [], []
        for seed in list(range(n)) * 3:  # three passes over the seeds: a busy moment weighs less
            t0 = CLOCK()
            m = NegotiationModel(rng=seed, static=st, trajectories=traj)
            while m.running:
                m.step()
            t1 = CLOCK()
            m.result()
            t2 = CLOCK()
            steps.append(t1 - t0)
            record.append(t2 - t1)
            rounds.append(m.round)
        key = "on" if traj else "off"
        out[key] = {
            "run_ms": 1e3 * statistics.median(np.add(steps, record)),
            "steps_ms": 1e3 * statistics.median(steps),
            "outcome_ms": 1e3 * statistics.median(record),
            "us_per_round": 1e6 * statistics.median(np.divide(steps, rounds)),
            "median_rounds": float(statistics.median(rounds)),
        }
    return out


def bench_batch(st, sizes, budget_runs: int) -> dict:
    out = {}
    for n in sizes:
        seeds = np.arange(n)
        repeat = max(1, min(15, budget_runs // n))
        sec = median_cpu(lambda seeds=seeds: simulate(st, seeds), repeat)
        out[n] = n / sec
    return out


def per_run(st, n: int) -> dict:
    """CPU cost per run of ``n`` seeds in one batch, and per run-round."""
    seeds = np.arange(n)
    t0 = CLOCK()
    cols = simulate(st, seeds)
    sec = CLOCK() - t0
    rounds = float(cols["rounds"].mean())
    return {"ms_per_run": 1e3 * sec / n, "mean_rounds": rounds, "us_per_run_round": 1e6 * sec / n / max(rounds, 1e-9)}


def bench_scaling(n: int, quick: bool) -> dict:
    tables: dict[str, dict] = {"actors": {}, "issues": {}, "rounds": {}}
    for a in (5, 20, 50):
        tables["actors"][a] = per_run(random_static(a, 6, seed=1), n)
    for i in (4, 10, 20):
        tables["issues"][i] = per_run(random_static(6, i, seed=1), n)
    for t in (50, 200) if quick else (50, 200, 800):
        # a deadlocked scenario (no text satisfies both principals, no shocks): every run lasts t rounds
        tables["rounds"][t] = per_run(random_static(5, 6, seed=4, max_rounds=t, deadlock=True), max(n // 4, 10))
    return tables


def paired(st_a, st_b, n: int, repeats: int) -> tuple[dict, dict]:
    """Cost per run of two configurations, measured in turns ``repeats`` times: the median of each.

    Taking turns lets both see the same load on a shared machine, so their ratio is steadier
    than one measurement of each.
    """
    a, b = [], []
    for _ in range(repeats):
        a.append(per_run(st_a, n))
        b.append(per_run(st_b, n))

    def median(rs):
        return sorted(rs, key=lambda r: r["ms_per_run"])[len(rs) // 2]

    return median(a), median(b)


def rss_child(n_seeds: int) -> None:
    """Body of the child process whose peak memory is measured: one job of ``n_seeds`` seeds."""
    t0 = time.perf_counter()
    rs = run(load_config([f"n_seeds={n_seeds}"]))
    print(json.dumps({"runs": rs.n_runs, "seconds": time.perf_counter() - t0}))


def bench_rss(n_seeds: int) -> dict:
    """Peak resident memory (MB) of a fresh process running one job of ``n_seeds`` seeds."""
    proc = subprocess.run(
        [sys.executable, __file__, "--rss-child", str(n_seeds)], capture_output=True, text=True, check=True
    )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KB on Linux
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"peak_rss_mb": peak_kb / 1024, "wall_s": info["seconds"], "runs": info["runs"]}


def bench_negmas(n_single: int, n_batch: int) -> dict | None:
    try:
        import negmas  # noqa: F401

        from sim import compare
    except ImportError:
        return None
    negmas_ms, _ = compare.run_negmas(n_single)
    ours_single, _ = compare.run_ours(n_single, batched=False)
    ours_batch, _ = compare.run_ours(n_batch, batched=True)
    return {
        "negmas_ms_per_run": negmas_ms,
        "ours_ms_single": ours_single,
        "ours_ms_batch": ours_batch,
        "ratio_vs_negmas_single": negmas_ms / ours_single,
        "ratio_vs_negmas_batch": negmas_ms / ours_batch,
    }


def bench_design(n_points: int, n_seeds: int, repeat: int) -> dict:
    """``sim.run_design`` throughput with every row different: per-run inputs in one batch,
    and structural inputs (a patience and a red-line strength), which group the rows."""
    import numpy as np
    import pandas as pd

    from sim.design import run_design

    cfg = load_config([])
    g = np.random.default_rng(0)
    per_run = pd.DataFrame(
        {
            "scenario.actors.Hamas.reservation_value": g.uniform(0.2, 0.6, n_points),
            "scenario.actors.Israel.reservation_value": g.uniform(0.3, 0.7, n_points),
            "scenario.actors.Israel.position.withdrawal": g.uniform(0.6, 1.0, n_points),
            "scenario.actors.Hamas.renege_base": g.uniform(0.3, 0.9, n_points),
            "conditions.pressure": g.uniform(0.0, 3.0, n_points),
        }
    )
    n_slow = max(n_points // 20, 2)
    structural = pd.DataFrame(
        {
            "scenario.actors.Israel.patience": g.integers(15, 60, n_slow),
            "scenario.actors.Hamas.red_lines.0.strength": g.uniform(0.5, 3.0, n_slow),
        }
    )
    run_design(cfg, per_run.head(5), n_seeds=2)  # warm: compiled loops loaded
    fast = median_cpu(lambda: run_design(cfg, per_run, n_seeds=n_seeds), repeat)
    slow = median_cpu(lambda: run_design(cfg, structural, n_seeds=n_seeds), repeat)
    return {
        "points": n_points,
        "n_seeds": n_seeds,
        "per_run_runs_per_s": n_points * n_seeds / fast,
        "structural_points": n_slow,
        "structural_runs_per_s": n_slow * n_seeds / slow,
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    ap.add_argument("--quick", action="store_true", help="few repeats and small sizes (a smoke run)")
    ap.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.rss_child:
        rss_child(args.rss_child)
        return {}
    quick = args.quick
    figs: dict = {
        "machine": machine(),
        "quick": quick,
        "command": "python benchmarks/bench.py" + (" --quick" if quick else ""),
    }
    m = figs["machine"]
    print(
        f"Machine: {m['cpu']}, {m['nproc']} cores, Python {m['python']}, numpy {m['numpy']}, "
        f"load average {m['load_average_1min']:.1f}. Times are CPU time (medians)."
    )
    st = build(load_config([]))

    mesa = bench_mesa(st, 10 if quick else 60)
    figs["mesa"] = mesa
    figs["mesa_ms_per_run"] = mesa["off"]["run_ms"]
    figs["mesa_ms_per_run_trajectories"] = mesa["on"]["run_ms"]
    print("\nMesa model, one default run (construct, step to the end, outcome record):")
    for k in ("off", "on"):
        r = mesa[k]
        print(
            f"  trajectories {k:3}: {r['run_ms']:6.2f} ms per run = {r['steps_ms']:.2f} ms stepping "
            f"({r['median_rounds']:.0f} rounds, {r['us_per_round']:.0f} us each) + {r['outcome_ms']:.2f} ms "
            f"outcome measures"
        )

    sizes = (1, 10, 100, 1000) if quick else (1, 10, 100, 1000, 10000)
    tput = bench_batch(st, sizes, 2000 if quick else 30000)
    figs["batch_runs_per_s"] = {str(k): v for k, v in tput.items()}
    print("\nBatch throughput, default scenario (runs per second per core):")
    for n, v in tput.items():
        print(f"  batch of {n:>6,}: {v:9,.0f} runs/s")

    des = bench_design(100 if quick else 1000, 20, 1 if quick else 3)
    figs["design"] = des
    print(f"\nDesign table (sim.run_design), every row different, {des['n_seeds']} seeds per point:")
    print(
        f"  per-run inputs ({des['points']:,} points: values of no deal, a position, a renege chance, "
        f"pressure): {des['per_run_runs_per_s']:9,.0f} runs/s"
    )
    print(
        f"  structural inputs ({des['structural_points']:,} points: a patience, a red-line strength; "
        f"one compile per point): {des['structural_runs_per_s']:9,.0f} runs/s"
    )

    n_scale = 200 if quick else 1000
    scaling = bench_scaling(n_scale, quick)
    default, scaling["50x20"] = paired(st, random_static(50, 20, seed=1), n_scale, 1 if quick else 5)
    scaling["default"] = default
    figs["scaling"] = {
        k: ({str(kk): vv for kk, vv in v.items()} if k in ("actors", "issues", "rounds") else v)
        for k, v in scaling.items()
    }
    print(f"\nScaling (generated scenarios, batches of {n_scale}; cost per run and per run-round):")
    for name, label in (
        ("actors", "actors (6 issues)"),
        ("issues", "issues (6 actors)"),
        ("rounds", "max rounds (5 actors, 6 issues, deadlocked)"),
    ):
        print(f"  {label}:")
        for k, r in scaling[name].items():
            print(
                f"    {k:>4}: {r['ms_per_run']:8.3f} ms/run  {r['mean_rounds']:6.1f} rounds  "
                f"{r['us_per_run_round']:7.2f} us/run-round"
            )
    big, d = scaling["50x20"], default
    figs["ratio_50x20_vs_default"] = big["ms_per_run"] / d["ms_per_run"]
    print(
        f"  50 actors x 20 issues: {big['ms_per_run']:.3f} ms/run ({big['mean_rounds']:.1f} rounds) vs default "
        f"{d['ms_per_run']:.3f} ms/run ({d['mean_rounds']:.1f} rounds): {figs['ratio_50x20_vs_default']:.1f}x "
        f"(medians of {1 if quick else 5}, measured in turns)"
    )

    n_rss = 10_000 if quick else 100_000
    rss = bench_rss(n_rss)
    figs[f"peak_rss_mb_{n_rss // 1000}k"] = rss["peak_rss_mb"]
    figs["rss_job"] = rss
    print(
        f"\nOne job of {n_rss:,} seeds (api.run, chunked): peak RSS {rss['peak_rss_mb']:.0f} MB, "
        f"{rss['wall_s']:.1f} s wall"
    )

    cmp = bench_negmas(20 if quick else 100, 1000 if quick else 10000)
    if cmp is None:
        print('\nNegMAS comparison: needs `pip install -e ".[compare]"` (NegMAS and sim.compare).')
    else:
        figs.update(cmp)
        print(
            f"\nNegMAS comparison (shared bilateral case): NegMAS {cmp['negmas_ms_per_run']:.2f} ms per "
            f"negotiation; here {cmp['ours_ms_single']:.3f} ms one at a time "
            f"({cmp['ratio_vs_negmas_single']:.0f}x), {cmp['ours_ms_batch']:.4f} ms batched "
            f"({cmp['ratio_vs_negmas_batch']:.0f}x)"
        )
    if args.json:
        args.json.write_text(json.dumps(figs, indent=1) + "\n")
        print(f"\nwrote {args.json}")
    return figs


if __name__ == "__main__":
    main()
