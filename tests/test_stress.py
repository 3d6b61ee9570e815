"""Sweeps under stress: two sweeps into one directory, and the sweep's process killed outright.

A sweep owns its directory (a lock taken when it starts, released by the system when its
process ends), so a second sweep into it is refused with one line naming the sweep that
holds it; a launcher's worker processes end as soon as the sweep's process is killed, and
write nothing after. Each test is bounded in time (a few tens of seconds on two cores).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.sweep import LOCK_FILE, job_dirs, job_state

pytestmark = pytest.mark.slow


def env() -> dict[str, str]:
    return dict(os.environ, CI="1", HYDRA_FULL_ERROR="0")


def start_sweep(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", "-m", f"hydra.sweep.dir={out}", *extra],
        cwd=out.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )


def wait_for(test, timeout: float = 120.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def children(pid: int) -> list[int]:
    """The live (not zombie) processes whose parent is ``pid``."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def test_second_sweep_into_the_same_directory_is_refused(tmp_path):
    out = tmp_path / "sweep"
    first = start_sweep(out, "n_seeds=40000", "seed=0,1")
    try:
        wait_for(lambda: (out / LOCK_FILE).exists() and (out / LOCK_FILE).read_text().strip(), what="the lock")
        second = subprocess.run(
            [sys.executable, "-m", "sim", "-m", f"hydra.sweep.dir={out}", "n_seeds=40000", "seed=0,1"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env(),
            timeout=120,
        )
        assert first.poll() is None, "the first sweep must still be running"
        assert second.returncode == 2, second.stderr[-2000:]
        err = second.stderr.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert err.startswith(
            f"negotiate: error: {out}: hydra.sweep.dir: expected a sweep directory no other "
            "sweep is writing into (wait for that sweep to end, or choose another hydra.sweep.dir)"
        )
        assert f"in use by sweep pid {first.pid} on " in err
        _, ferr = first.communicate(timeout=600)
        assert first.returncode == 0, ferr[-2000:]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=30)
    assert [job_state(d) for d in job_dirs(out)] == ["done", "done"]
    # the lock went with the first sweep: the same command now resumes (nothing left to run)
    again = subprocess.run(
        [sys.executable, "-m", "sim", "-m", f"hydra.sweep.dir={out}", "n_seeds=40000", "seed=0,1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
    )
    assert again.returncode == 0, again.stderr[-2000:]


def test_workers_die_with_a_killed_sweep_and_write_nothing(tmp_path):
    out = tmp_path / "sweep"
    sweep = start_sweep(out, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "n_seeds=300000", "seed=0,1")
    try:
        # both workers are inside their jobs (Hydra wrote each job's .hydra/) and computing
        wait_for(lambda: len([d for d in out.glob("*") if (d / ".hydra").is_dir()]) == 2, what="two jobs started")
        time.sleep(1.5)
        assert sweep.poll() is None, "the sweep must still be running"
        workers = children(sweep.pid)
        assert len(workers) >= 2, workers
        sweep.send_signal(signal.SIGKILL)
        sweep.wait(timeout=30)
        t_kill = time.monotonic()
        wait_for(lambda: not any(alive(p) for p in workers), timeout=20, what="the workers to end")
        assert time.monotonic() - t_kill < 20
    finally:
        if sweep.poll() is None:
            sweep.kill()
            sweep.wait(timeout=30)
    before = snapshot(out)
    time.sleep(3)
    assert snapshot(out) == before, "nothing is written after the sweep was killed"
    assert not list(out.rglob("runs.parquet")) and not list(out.rglob("job.json"))
    assert sorted(job_state(d) for d in job_dirs(out)) == ["incomplete", "incomplete"]
