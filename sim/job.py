"""The body of one Hydra job: run every seed of a configuration and write the results.

Kept apart from the command-line wrapper so that sweeps, launchers and tests call the
same function. Results are written atomically (see :mod:`sim.io`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from sim.api import run
from sim.io import write_json, write_parquet
from sim.results import RunSet
from sim.summary import summary_text

log = logging.getLogger("sim")


def write_outputs(rs: RunSet, out: Path) -> None:
    """``result.json`` (the first run, plus the summary over seeds) and ``runs.parquet``."""
    rec = rs.record(0)
    rec["n_seeds"] = rs.n_runs
    rec["summary"] = rs.summary()
    write_parquet(out / "runs.parquet", rs.table)
    write_json(out / "result.json", rec)


def run_job(cfg: DictConfig, out: Path) -> float:
    """Run ``cfg`` for all its seeds, write the results into ``out``, return the agreement rate."""
    rs = run(cfg)
    write_outputs(rs, out)
    log.info("agreement rate %.4f over %d runs", rs.agreement_rate()[0], rs.n_runs)
    if not cfg.get("quiet", False):
        print(summary_text(rs))
        print(f"\nResults: {out}/result.json, {out}/runs.parquet")
    return rs.agreement_rate()[0]
