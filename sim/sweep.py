"""Sweeps: the issue orders as agenda choices, job bookkeeping, and a monitor for Hydra multiruns.

A sweep is many Hydra jobs, one per configuration, each writing into its own folder of
the sweep directory. This module holds what the jobs and the report share: the agenda
choices ``order_00`` ... (the K-th ordering of the scenario's core issues, generated,
not written out as files), what a finished, failed or unfinished job folder looks like,
where a result came from (package version and git commit), a per-job peak-memory
reading, and :class:`SweepMonitor`, a Hydra callback that counts jobs as they finish
and lists the failures when the sweep ends. A sweep owns its directory
(:class:`SweepGuard`, added to every ``negotiate -m``: a lock, workers that stop when the
sweep's process dies, a failing status when a job failed); a job counts as done only if
its files check out (:func:`verify_job`: the checksum ``job.json`` records, the run
table's rows and column types); and a job is refused up front if its results could not
fit in memory (:func:`check_fits_in_memory`).
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

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

import sim
from sim.config import N_ORDERS, order_choice, register_orders  # noqa: F401  (public here too)

JOB_FILE = "job.json"  # written last by a finished job: its config, provenance and timing
ERROR_FILE = "error.json"  # written by a job that failed
RESULT_FILES = ("runs.parquet", "result.json", JOB_FILE)


MAX_SEED = 2**63 - 1  # seeds are held as 64-bit integers: seed + n_seeds - 1 must not pass this
GRID_AXES = ("trust", "credibility", "pressure", "first_mover", "agenda")


def runs_in_job(cfg: DictConfig) -> int:
    """Runs in one job: seeds times the grid points (and first movers and agendas) crossed inside it."""
    g = cfg.get("grid") or {}
    return int(cfg.n_seeds) * math.prod(max(1, len(g.get(k) or [])) for k in GRID_AXES)


def bytes_per_run(n_actors: int, n_issues: int) -> int:
    """Memory one run's results take while a job holds them (measured: ~3.3 KB for 5 actors, 6 issues).

    The run table has a few dozen fixed columns plus some per actor, per issue and per
    actor and issue; pandas, the concatenation of chunks and the Parquet writer each hold
    a copy for a while.
    """
    return 32 * (40 + 4 * n_actors + 4 * n_issues + n_actors * n_issues)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or None if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_fits_in_memory(cfg: DictConfig, n_actors: int, n_issues: int, available: int | None = None) -> None:
    """Refuse up front a job whose results cannot fit in memory, with the figure and what fits.

    ``chunk_size`` bounds the kernel's working arrays, not the results, which a job holds
    whole until it writes ``runs.parquet``: a larger request is split over jobs
    (``-m seed=0,N,2N,... n_seeds=N``), each a file of its own that the report merges.

    Raises:
        ConfigError: naming ``n_seeds``, the memory needed and available, and the
            largest ``n_seeds`` that fits.
    """
    from sim.errors import ConfigError

    avail = available_memory() if available is None else available
    limit = int(0.8 * avail) if avail else 8 * 2**30
    if limit > 2**30:  # whole GiB, so that the figure does not change with every page the system frees
        limit -= limit % 2**30
    runs = runs_in_job(cfg)
    per = bytes_per_run(n_actors, n_issues)
    need = runs * per
    if need <= limit:
        return
    n_seeds = int(cfg.n_seeds)
    fit = max(1, n_seeds * limit // need)
    if fit >= 100:  # two significant digits, rounded down
        step = 10 ** (len(str(fit)) - 2)
        fit -= fit % step
    gib = 2**30
    raise ConfigError(
        "conf/config.yaml",
        "n_seeds",
        f"a job whose results fit in memory: {runs:,} runs x {n_actors} actors x {n_issues} issues "
        f"need about {need / gib:,.1f} GiB, {limit / gib:.1f} GiB can be used; run at most "
        f"n_seeds={fit:,} per job and split the seeds over a sweep "
        f"(-m n_seeds={fit} seed=0,{fit},{2 * fit},...; chunk_size bounds only the working arrays)",
        n_seeds,
    )


def check_seed_range(cfg: DictConfig) -> None:
    """Seeds are 64-bit integers: ``seed + n_seeds - 1`` must not pass :data:`MAX_SEED`.

    Raises:
        ConfigError: naming ``seed`` and the range it may take with this ``n_seeds``.
    """
    from sim.errors import ConfigError

    seed, n = int(cfg.seed), int(cfg.n_seeds)
    if n > MAX_SEED + 1:  # no seed leaves room for that many: the count itself is out of range
        raise ConfigError(
            "conf/config.yaml",
            "n_seeds",
            f"an integer in [1, {MAX_SEED + 1}] (seed + n_seeds - 1 must fit in a 64-bit integer)",
            n,
        )
    if seed + n - 1 > MAX_SEED:
        raise ConfigError(
            "conf/config.yaml",
            "seed",
            f"an integer in [0, {MAX_SEED - n + 1}] (seed + n_seeds - 1 must fit in a 64-bit "
            f"integer, at most 2**63 - 1)",
            seed,
        )


def quiet_progress() -> bool:
    """Progress bars and job counts are off when the ``CI`` environment variable is set."""
    return bool(os.environ.get("CI"))


@functools.lru_cache(maxsize=1)
def provenance() -> dict[str, Any]:
    """Package version, git commit (None outside a git checkout) and interpreter, for ``job.json``."""
    root = Path(sim.__file__).resolve().parent.parent
    commit, dirty = None, None
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
        if commit:
            st = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=10,
            )
            dirty = bool(st.stdout.strip()) if st.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "version": sim.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "host": platform.node(),
    }


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
    """A JSON object's contents, or None if the file is missing, unreadable (a job still writing)
    or holds something other than an object."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# the columns every run table has, and their kinds (a check that a runs.parquet is one)
RUN_COLUMNS = {
    "seed": "integer",
    "agenda": "string",
    "agreement": "boolean",
    "rounds": "integer",
    "trust_level": "floating",
    "credibility_level": "floating",
    "pressure_level": "floating",
}


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_job_record(rec: Any) -> str | None:
    """Why a ``job.json`` is not the record of a finished job (None if it is)."""
    if not isinstance(rec, dict):
        return f"{JOB_FILE}: expected a JSON object"
    if rec.get("status") != "ok":
        return f"{JOB_FILE}: status: expected 'ok', got {rec.get('status')!r}"
    kinds = {
        "config": dict,
        "overrides": list,
        "n_runs": int,
        "runs_sha256": str,
        "agenda_choice": str,
        "version": str,
        "config_hash": str,
    }
    for key, kind in kinds.items():
        v = rec.get(key)
        if v is not None and (not isinstance(v, kind) or isinstance(v, bool)):
            return f"{JOB_FILE}: {key}: expected {kind.__name__}, got {type(v).__name__}"
    if not isinstance(rec.get("n_runs"), int):
        return f"{JOB_FILE}: n_runs: expected the number of runs"
    return None


def _kind(t: Any) -> str:
    import pyarrow as pa

    for name, test in (
        ("boolean", pa.types.is_boolean),
        ("integer", pa.types.is_integer),
        ("floating", pa.types.is_floating),
        ("string", pa.types.is_string),
        ("string", pa.types.is_large_string),
    ):
        if test(t):
            return name
    return str(t)


@functools.lru_cache(maxsize=65536)
def _verify(d_s: str, stamp: tuple) -> str | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    del stamp  # part of the cache key only
    d = Path(d_s)
    try:
        rec = json.loads((d / JOB_FILE).read_text())
    except (OSError, ValueError) as e:
        return f"{JOB_FILE}: expected JSON ({e})"
    bad = check_job_record(rec)
    if bad:
        return bad
    runs = d / "runs.parquet"
    want = rec.get("runs_sha256")
    try:
        if want is not None and file_sha256(runs) != want:
            return "runs.parquet: expected the checksum recorded in job.json (the file changed or is damaged)"
        meta = pq.read_metadata(runs)
        schema = meta.schema.to_arrow_schema()
    except (OSError, pa.ArrowException) as e:
        return f"runs.parquet: expected a readable Parquet file ({str(e).splitlines()[0] if str(e) else e})"
    if meta.num_rows != rec["n_runs"]:
        return f"runs.parquet: expected {rec['n_runs']} rows (job.json), got {meta.num_rows}"
    for col, kind in RUN_COLUMNS.items():
        if col not in schema.names:
            return f"runs.parquet: expected a column {col}"
        got = _kind(schema.field(col).type)
        if got != kind:
            return f"runs.parquet: {col}: expected {kind}, got {got}"
    return None


def verify_job(d: Path) -> str | None:
    """Why a job folder's results cannot count (None if they can): checked before a job is taken as done.

    ``job.json`` must be the record of a finished job (status ``ok``, the right types);
    ``runs.parquet`` must have the checksum recorded there (jobs written before checksums
    were recorded are checked without it), be readable Parquet with the recorded number of
    rows, and have the run table's key columns with their types. Results are cached while
    the files do not change.
    """
    d = Path(d)
    try:
        stamp = tuple((st.st_size, st.st_mtime_ns) for st in ((d / f).stat() for f in (JOB_FILE, "runs.parquet")))
    except OSError:
        return "job.json and runs.parquet: expected both files"
    return _verify(str(d), stamp)


def job_state(d: Path) -> str:
    """``done``, ``damaged`` (results that fail :func:`verify_job`), ``failed`` or ``incomplete``
    (started by Hydra, no result yet) for a job folder."""
    d = Path(d)
    if all((d / f).exists() for f in RESULT_FILES):
        return "done" if verify_job(d) is None else "damaged"
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
    out: dict[str, Any] = {"done": 0, "failed": [], "incomplete": [], "damaged": []}
    for d in job_dirs(root):
        state = job_state(d)
        rel = str(d.relative_to(root))
        if state == "done":
            out["done"] += 1
        elif state == "damaged":
            out["damaged"].append({"job": rel, "error": verify_job(d)})
        elif state == "failed":
            err = read_json(d / ERROR_FILE) or {}
            out["failed"].append({"job": rel, "error": err.get("error", "?")})
        else:
            out["incomplete"].append(rel)
    return out


# -- a sweep owns its directory -----------------------------------------------------------------

LOCK_FILE = ".sweep.lock"  # in the sweep directory: held (flock) by the sweep writing into it
SWEEP_PID_ENV = "NEGOTIATE_SWEEP_PID"  # the sweep's own process, for its workers to watch
_LOCKS: dict[str, Any] = {}  # sweep directory -> open lock file (held until the sweep ends)
_RESULT: dict[str, Any] = {"failed": []}  # what the last sweep of this process left failed


def acquire_sweep_lock(root: Path) -> None:
    """Take the sweep directory for this process, or refuse: one sweep writes into a directory at a time.

    The lock is an ``flock`` on ``.sweep.lock`` in the directory, so the system releases
    it when the sweep's process ends, however it ends (a SIGKILL too): a stale lock
    never blocks the re-run that resumes a killed sweep. Taking it again in the same
    process does nothing.

    Raises:
        ConfigError: naming ``hydra.sweep.dir`` and the process that holds it.
    """
    import fcntl

    from sim.errors import ConfigError

    root = Path(root).absolute()
    if str(root) in _LOCKS:
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        fh = open(root / LOCK_FILE, "a+")  # noqa: SIM115 - held open while the sweep runs
    except OSError as e:
        raise ConfigError(str(root), "hydra.sweep.dir", "a directory the sweep can write", e.strerror) from e
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise ConfigError(
            str(root),
            "hydra.sweep.dir",
            "a sweep directory no other sweep is writing into (wait for that sweep to end, "
            "or choose another hydra.sweep.dir)",
            f"in use by {holder}",
        ) from e
    fh.seek(0)
    fh.truncate()
    fh.write(f"sweep pid {os.getpid()} on {platform.node()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    fh.flush()
    _LOCKS[str(root)] = fh


def release_sweep_lock(root: Path) -> None:
    """Give the sweep directory back (the lock file stays; only the lock goes)."""
    fh = _LOCKS.pop(str(Path(root).absolute()), None)
    if fh is not None:
        fh.close()


def failed_since(root: Path, t0: float) -> list[dict[str, Any]]:
    """The jobs under ``root`` that failed (``error.json``) since time ``t0`` (seconds since the epoch)."""
    out = []
    for f in summarize(root)["failed"] if Path(root).exists() else []:
        p = Path(root) / f["job"] / ERROR_FILE
        with contextlib.suppress(OSError):
            if p.stat().st_mtime >= t0 - 1:
                out.append(f)
    return out


class SweepGuard(Callback):
    """Hydra callback added to every ``negotiate -m``: the sweep owns its directory and reports failure.

    On start it takes the directory's lock (:func:`acquire_sweep_lock`; a second sweep
    into it is refused with the one-line error, exit status 2) and tells the jobs which
    process is the sweep's (:data:`SWEEP_PID_ENV`), so that workers stop when it dies
    (:func:`watch_sweep_process`). At the end it lists the jobs that failed in this
    sweep; ``negotiate`` then exits with status 1.
    """

    def __init__(self) -> None:
        self.t0 = time.time()

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Take the sweep directory's lock (exit 2 if another sweep holds it) and tell the workers our pid."""
        from sim.errors import ConfigError

        self.t0 = time.time()
        _RESULT["failed"] = []
        try:
            acquire_sweep_lock(_sweep_dir(config))
        except ConfigError as e:
            print(f"negotiate: error: {e}", file=sys.stderr, flush=True)
            raise SystemExit(2) from e
        os.environ[SWEEP_PID_ENV] = str(os.getpid())

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Note the jobs that failed in this sweep, release the lock and name the failures on stderr."""
        root = _sweep_dir(config)
        failed = failed_since(root, self.t0)
        _RESULT["failed"] = failed
        release_sweep_lock(root)
        if failed:
            names = "; ".join(f"{f['job']}: {f['error']}" for f in failed[:5])
            more = f" (and {len(failed) - 5} more)" if len(failed) > 5 else ""
            print(f"negotiate: {len(failed)} job(s) failed in {root}: {names}{more}", file=sys.stderr, flush=True)


def sweep_failed() -> list[dict[str, Any]]:
    """The jobs the last sweep of this process left failed (empty if none, or no sweep ran)."""
    return list(_RESULT["failed"])


_WATCHING: dict[str, Any] = {}


def watch_sweep_process() -> None:
    """In a worker process of a sweep, end this process as soon as the sweep's process is gone.

    A launcher's workers (joblib's loky processes, submitit's local jobs) are children of
    the sweep's process; killed with SIGKILL, it cannot stop them, and they would go on
    computing and writing. A daemon thread here checks twice a second that this process's
    parent is still the sweep's, and otherwise ends it at once (``os._exit``: no clean-up
    that could write). Results are written atomically, so what is left is whole files or
    a temporary file the next writer removes. Does nothing in the sweep's own process,
    or where the job is not its child (a cluster job).
    """
    import threading

    pid = os.environ.get(SWEEP_PID_ENV)
    if not pid or not pid.isdigit() or int(pid) == os.getpid() or os.getppid() != int(pid) or _WATCHING:
        return
    parent = int(pid)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    t = threading.Thread(target=watch, name="sweep-watchdog", daemon=True)
    t.start()
    _WATCHING["thread"] = t


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
        """Take the lock, write the plan (jobs planned, jobs already done, provenance) and say what will run."""
        self.t0 = time.perf_counter()
        root = _sweep_dir(config)
        from sim.errors import ConfigError

        try:  # before writing anything into the directory (SweepGuard takes it too)
            acquire_sweep_lock(root)
        except ConfigError as e:
            print(f"negotiate: error: {e}", file=sys.stderr, flush=True)
            raise SystemExit(2) from e
        n = count_jobs(config)
        already = summarize(root)["done"] if root.exists() else 0
        from sim.io import write_json

        write_json(root / self.plan_file, {"planned_jobs": n, "already_done": already, **provenance()})
        if not quiet_progress():
            left = f", {already} already done (skipped)" if already else ""
            print(f"sweep: {n if n is not None else '?'} jobs into {root}{left}", flush=True)

    def on_job_end(self, config: DictConfig, job_return: Any = None, **kwargs: Any) -> None:
        """Print ``[done/planned] job`` after each job, unless progress is quiet."""
        if quiet_progress():
            return
        root = _sweep_dir(config)
        plan = read_json(root / self.plan_file) or {}
        done = sum(1 for d in job_dirs(root) if job_state(d) != "incomplete")
        total = plan.get("planned_jobs") or "?"
        name = config.hydra.job.get("override_dirname") or config.hydra.job.get("num")
        print(f"[{done}/{total}] {name}", flush=True)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Record the wall time and counts in the plan file and list failed, incomplete and damaged jobs."""
        root = _sweep_dir(config)
        s = summarize(root)
        wall = time.perf_counter() - self.t0
        plan = read_json(root / self.plan_file) or {}
        plan.update({"wall_s": wall, "done": s["done"], "failed": len(s["failed"]), "incomplete": len(s["incomplete"])})
        from sim.io import write_json

        write_json(root / self.plan_file, plan)
        print(
            f"sweep finished in {wall:.1f} s: {s['done']} jobs done, {len(s['failed'])} failed, "
            f"{len(s['incomplete'])} incomplete ({root})",
            flush=True,
        )
        for f in s["failed"]:
            print(f"  FAILED {f['job']}: {f['error']}", flush=True)
        for d in s["incomplete"]:
            print(f"  INCOMPLETE {d}", flush=True)
        for f in s["damaged"]:
            print(f"  DAMAGED {f['job']}: {f['error']} (run the sweep again to redo it)", flush=True)
        if self.best > 0:
            print(best_jobs_text(root, self.best), flush=True)


def best_jobs(root: Path, n: int = 5) -> list[dict[str, Any]]:
    """The ``n`` finished jobs with the highest agreement rate (ties: higher lower bound first)."""
    recs = []
    for d in job_dirs(root):
        rec = read_json(d / JOB_FILE) if job_state(d) == "done" else None
        if rec and rec.get("agreement_rate") is not None:
            recs.append(
                {
                    "job": str(d.relative_to(root)),
                    "rate": rec["agreement_rate"],
                    "interval": rec.get("agreement_interval_95") or [math.nan, math.nan],
                    "n_runs": rec.get("n_runs"),
                    "overrides": " ".join(o for o in rec.get("overrides") or [] if not o.startswith("experiment=")),
                }
            )
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
