"""Sweeps: the issue orders as agenda choices, job bookkeeping, and a monitor for Hydra multiruns.

A sweep is many Hydra jobs, one per configuration, each writing into its own folder of
the sweep directory. This module holds what the jobs and the report share: the agenda
choices ``order_00`` ... (the K-th ordering of the scenario's core issues, generated,
not written out as files), what a finished, failed or unfinished job folder looks like,
where a result came from (package version and git commit), a per-job peak-memory
reading, and :class:`SweepMonitor`, a Hydra callback that counts jobs as they finish
and lists the failures when the sweep ends.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

import sim

JOB_FILE = "job.json"  # written last by a finished job: its config, provenance and timing
ERROR_FILE = "error.json"  # written by a job that failed
RESULT_FILES = ("runs.parquet", "result.json", JOB_FILE)
N_ORDERS = 120  # order_00 ... order_119: every ordering of up to five core issues


def order_choice(k: int) -> str:
    """The agenda choice for the K-th order of the core issues (``agenda=order_03``)."""
    return f"order_{k:02d}"


def register_orders(n: int = N_ORDERS) -> None:
    """Register ``agenda=order_K`` for K < n: a ``sequence`` agenda with ``permutation=K``.

    Orders are generated from the scenario's issue list when the agenda is compiled
    (:func:`sim.agenda.issue_orders`); K beyond the number of orders fails there with a
    clear message. Registering them as choices of the ``agenda`` group lets one Hydra
    sweep cross the orders with other agendas (``comprehensive``, ``phased_plan``) without
    crossing ``agenda.permutation`` with agendas that have no order.
    """
    cs = ConfigStore.instance()
    for k in range(n):
        cs.store(group="agenda", name=order_choice(k),
                 node={"name": "sequence", "kind": "sequence", "permutation": k, "others": "opening",
                       "first_mover": "mediators"})


register_orders()


def quiet_progress() -> bool:
    """Progress bars and job counts are off when the ``CI`` environment variable is set."""
    return bool(os.environ.get("CI"))


@functools.lru_cache(maxsize=1)
def provenance() -> dict[str, Any]:
    """Package version, git commit (None outside a git checkout) and interpreter, for ``job.json``."""
    root = Path(sim.__file__).resolve().parent.parent
    commit, dirty = None, None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10).stdout.strip() or None
        if commit:
            st = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                capture_output=True, text=True, timeout=10)
            dirty = bool(st.stdout.strip()) if st.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"version": sim.__version__, "git_commit": commit, "git_dirty": dirty,
            "python": platform.python_version(), "host": platform.node()}


def reset_peak_memory() -> None:
    """Reset this process's peak resident memory (Linux), so a reused worker measures one job."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_memory_mb() -> float | None:
    """Peak resident memory of this process in MB since the last reset (Linux) or since it started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return kb / (1024 * 1024) if sys.platform == "darwin" else kb / 1024
    except (ImportError, OSError):
        return None


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON file's contents, or None if it is missing or unreadable (a job still writing)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def job_state(d: Path) -> str:
    """``done``, ``failed`` or ``incomplete`` (started by Hydra, no result yet) for a job folder."""
    d = Path(d)
    if all((d / f).exists() for f in RESULT_FILES):
        return "done"
    if (d / ERROR_FILE).exists():
        return "failed"
    return "incomplete"


def job_dirs(root: Path) -> list[Path]:
    """Every job folder under a sweep directory (one with results, an error or Hydra's ``.hydra``)."""
    root = Path(root)
    found = {p.parent for name in (JOB_FILE, ERROR_FILE, ".hydra") for p in root.rglob(name)}
    return sorted(found, key=lambda p: str(p.relative_to(root)))


def count_jobs(config: DictConfig) -> int | None:
    """How many jobs a basic-sweeper multirun will launch (None for other sweepers)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    hc = config.hydra
    if "basic_sweeper" not in str(hc.sweeper.get("_target_", "")):
        return None
    params = dict(hc.sweeper.get("params") or {})
    args = [f"{k}={v}" for k, v in params.items()]
    args += list(hc.overrides.task)
    try:
        parsed = OverridesParser.create().parse_overrides(args)
    except Exception:  # noqa: BLE001 - a count is a nicety, never a reason to fail
        return None
    sizes: dict[str, int] = {}
    for o in parsed:
        sizes[o.get_key_element()] = len(list(o.sweep_iterator())) if o.is_sweep_override() else 1
    return math.prod(sizes.values()) if sizes else 1


def _sweep_dir(config: DictConfig) -> Path:
    return Path(str(config.hydra.sweep.dir))


def summarize(root: Path) -> dict[str, Any]:
    """Counts of done / failed / incomplete jobs under ``root`` and the failures' messages."""
    out: dict[str, Any] = {"done": 0, "failed": [], "incomplete": []}
    for d in job_dirs(root):
        state = job_state(d)
        rel = str(d.relative_to(root))
        if state == "done":
            out["done"] += 1
        elif state == "failed":
            err = read_json(d / ERROR_FILE) or {}
            out["failed"].append({"job": rel, "error": err.get("error", "?")})
        else:
            out["incomplete"].append(rel)
    return out


class SweepMonitor(Callback):
    """Hydra callback: a count of jobs as they finish and the list of failures at the end.

    Enabled by the experiment configs (``hydra.callbacks.sweep_monitor``). Counting reads
    the sweep directory, so it works whatever the launcher and however many processes.
    """

    def __init__(self, plan_file: str = "sweep.json", best: int = 0) -> None:
        """Args: plan_file: bookkeeping file in the sweep dir; best: list the N best jobs at the end."""
        self.plan_file = plan_file
        self.best = int(best)
        self.t0 = time.perf_counter()

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.t0 = time.perf_counter()
        root = _sweep_dir(config)
        n = count_jobs(config)
        already = summarize(root)["done"] if root.exists() else 0
        from sim.io import write_json

        write_json(root / self.plan_file, {"planned_jobs": n, "already_done": already, **provenance()})
        if not quiet_progress():
            left = f", {already} already done (skipped)" if already else ""
            print(f"sweep: {n if n is not None else '?'} jobs into {root}{left}", flush=True)

    def on_job_end(self, config: DictConfig, job_return: Any = None, **kwargs: Any) -> None:
        if quiet_progress():
            return
        root = _sweep_dir(config)
        plan = read_json(root / self.plan_file) or {}
        done = sum(1 for d in job_dirs(root) if job_state(d) != "incomplete")
        total = plan.get("planned_jobs") or "?"
        name = config.hydra.job.get("override_dirname") or config.hydra.job.get("num")
        print(f"[{done}/{total}] {name}", flush=True)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        root = _sweep_dir(config)
        s = summarize(root)
        wall = time.perf_counter() - self.t0
        plan = read_json(root / self.plan_file) or {}
        plan.update({"wall_s": wall, "done": s["done"], "failed": len(s["failed"]),
                     "incomplete": len(s["incomplete"])})
        from sim.io import write_json

        write_json(root / self.plan_file, plan)
        print(f"sweep finished in {wall:.1f} s: {s['done']} jobs done, {len(s['failed'])} failed, "
              f"{len(s['incomplete'])} incomplete ({root})", flush=True)
        for f in s["failed"]:
            print(f"  FAILED {f['job']}: {f['error']}", flush=True)
        for d in s["incomplete"]:
            print(f"  INCOMPLETE {d}", flush=True)
        if self.best > 0:
            print(best_jobs_text(root, self.best), flush=True)


def best_jobs(root: Path, n: int = 5) -> list[dict[str, Any]]:
    """The ``n`` finished jobs with the highest agreement rate (ties: higher lower bound first)."""
    recs = []
    for d in job_dirs(root):
        rec = read_json(d / JOB_FILE) if job_state(d) == "done" else None
        if rec and rec.get("agreement_rate") is not None:
            recs.append({"job": str(d.relative_to(root)), "rate": rec["agreement_rate"],
                         "interval": rec.get("agreement_interval_95") or [math.nan, math.nan],
                         "n_runs": rec.get("n_runs"),
                         "overrides": " ".join(o for o in rec.get("overrides") or []
                                               if not o.startswith("experiment="))})
    recs.sort(key=lambda r: (-r["rate"], -r["interval"][0], r["job"]))
    return recs[:n]


def best_jobs_text(root: Path, n: int = 5) -> str:
    """The best jobs as lines: agreement rate, 95% Wilson interval, runs and the job's overrides."""
    lines = [f"best {n} configurations by agreement rate (95% Wilson interval):"]
    for k, r in enumerate(best_jobs(root, n), 1):
        lo, hi = r["interval"]
        what = r["overrides"] or r["job"]
        lines.append(f"  {k}. {r['rate']:.3f} [{lo:.3f}, {hi:.3f}] over {r['n_runs']} runs: {what}")
    return "\n".join(lines)


def resolved(cfg: DictConfig) -> dict[str, Any]:
    """The job's configuration as plain data, interpolations resolved."""
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
