"""Faults: a job killed mid-run or mid-write, a full disk, an unwritable output directory.

What must hold: a killed job leaves no partial result file (a reader sees a whole file or
none), ``negotiate-report`` lists the unfinished jobs and reports the rest, a re-run runs
only what is missing and ends with the same ``atlas.parquet`` as a sweep that was never
interrupted; a full disk or an unwritable directory ends in the one-line error, and the
results already written stay whole.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.errors import ConfigError
from sim.io import write_json, write_parquet
from sim.sweep import RESULT_FILES, job_dirs, job_state
from tests.conftest import ROOT, run_cli

SEEDS = 150  # x 4 grid points: long enough to kill a job in the middle, short enough for CI


def sweep_cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim", "-m", "experiment=atlas_smoke", f"hydra.sweep.dir={out}",
            f"n_seeds={SEEDS}", *extra]


def env() -> dict[str, str]:
    return dict(os.environ, CI="1", HYDRA_FULL_ERROR="0")


def run_sweep(out: Path, *extra: str) -> subprocess.CompletedProcess:
    res = subprocess.run(sweep_cmd(out, *extra), cwd=out.parent, capture_output=True, text=True, env=env(),
                         timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def report(out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.report", str(out), "--no-figures"], capture_output=True,
                          text=True, env=env(), timeout=300)


def assert_whole_files(d: Path) -> None:
    """Every result file present under its real name reads completely."""
    for name in RESULT_FILES + ("result.json", "config.yaml", "error.json"):
        p = d / name
        if not p.exists():
            continue
        if p.suffix == ".parquet":
            assert len(pd.read_parquet(p)) > 0
        elif p.suffix == ".json":
            json.loads(p.read_text())
        else:
            assert p.read_text().strip()


# -- a writer killed in the middle of a file ----------------------------------------------

KILLED_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from sim.io import _atomic
    def half_then_hang(fh):
        fh.write(b"{\\"partial\\": " + b"0" * 100000)
        fh.flush()
        print("HALF", flush=True)
        time.sleep(120)
    _atomic(Path(sys.argv[1]), half_then_hang)
""")


def test_writer_killed_mid_file_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "job" / "result.json"
    write_json(target, {"seed": 1, "agreement": True})
    before = target.read_bytes()
    p = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)], stdout=subprocess.PIPE, text=True,
                         cwd=ROOT)
    assert p.stdout.readline().strip() == "HALF"
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL
    assert target.read_bytes() == before, "the killed write must not touch the file"
    stale = list(target.parent.glob(".result.json.*.tmp"))
    assert len(stale) == 1 and stale[0].stat().st_size >= 100000  # the half-written bytes went elsewhere
    write_json(target, {"seed": 2})  # the next write of that file clears what the killed one left
    assert json.loads(target.read_text()) == {"seed": 2}
    assert not list(target.parent.glob(".*.tmp"))


def test_writer_killed_before_first_file_leaves_nothing(tmp_path):
    target = tmp_path / "job" / "runs.parquet"
    p = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)], stdout=subprocess.PIPE, text=True,
                         cwd=ROOT)
    assert p.stdout.readline().strip() == "HALF"
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=30)
    assert not target.exists()
    assert job_state(target.parent) == "incomplete"


# -- a sweep killed in the middle of a job ------------------------------------------------

@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    """The same sweep, never interrupted, through the joblib launcher (two processes)."""
    out = tmp_path_factory.mktemp("whole") / "sweep"
    run_sweep(out, "hydra.launcher.n_jobs=2")
    rep = report(out)
    assert rep.returncode == 0, rep.stderr
    return out


def kill_mid_job(out: Path) -> tuple[list[Path], Path]:
    """Start the sweep with the basic launcher (one job at a time) and SIGKILL it while a job runs.

    Returns the jobs finished before the kill and the job that was running.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    p = subprocess.Popen(sweep_cmd(out, "hydra/launcher=basic"), cwd=out.parent, env=env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            assert p.poll() is None, "the sweep ended before it could be killed"
            dirs = job_dirs(out) if out.exists() else []
            done = [d for d in dirs if job_state(d) == "done"]
            running = [d for d in dirs if job_state(d) == "incomplete" and (d / ".hydra").exists()]
            if len(done) >= 1 and running:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)
                return done, running[0]
            time.sleep(0.01)
        raise AssertionError("the sweep never reached its second job")
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=30)


@pytest.mark.slow
def test_sweep_killed_mid_job_then_report_and_rerun(tmp_path, uninterrupted):
    out = tmp_path / "sweep"
    done, killed = kill_mid_job(out)
    states = {d: job_state(d) for d in job_dirs(out)}
    assert states[killed] == "incomplete"
    n_jobs = len(job_dirs(uninterrupted))
    assert 1 <= sum(s == "done" for s in states.values()) < n_jobs
    for d in states:
        assert_whole_files(d)
    assert not (killed / "job.json").exists()

    # the report works on what finished and names what did not
    rep = report(out)
    assert rep.returncode == 0, rep.stderr
    n_done = sum(s == "done" for s in states.values())
    n_incomplete = sum(s == "incomplete" for s in states.values())
    assert f"Jobs: {n_done} done, 0 failed, {n_incomplete} incomplete" in rep.stdout
    assert f"INCOMPLETE {killed.name}" in rep.stdout
    partial_atlas = pd.read_parquet(out / "atlas.parquet")
    assert sorted(partial_atlas.job.unique()) == sorted(d.name for d, s in states.items() if s == "done")

    # the re-run skips the finished jobs and runs only the rest
    stamps = {d: (d / "runs.parquet").stat().st_mtime_ns for d in done}
    res = run_sweep(out, "hydra/launcher=basic")
    assert f"{n_jobs} jobs done, 0 failed, 0 incomplete" in res.stdout
    for d, mtime in stamps.items():
        assert (d / "runs.parquet").stat().st_mtime_ns == mtime, f"{d.name} ran again"
    assert all(job_state(d) == "done" for d in job_dirs(out))
    assert not list(out.rglob(".*.tmp"))

    # and the atlas equals that of the sweep that was never interrupted, byte for byte
    rep = report(out)
    assert rep.returncode == 0 and f"Jobs: {n_jobs} done, 0 failed, 0 incomplete" in rep.stdout
    a, b = pd.read_parquet(out / "atlas.parquet"), pd.read_parquet(uninterrupted / "atlas.parquet")
    assert len(a) == sum(json.loads((d / "job.json").read_text())["n_runs"] for d in job_dirs(out))
    pd.testing.assert_frame_equal(a, b)
    assert (out / "atlas.parquet").read_bytes() == (uninterrupted / "atlas.parquet").read_bytes()


# -- a full disk, an unwritable directory --------------------------------------------------

def test_full_disk_keeps_the_old_file_and_says_so(tmp_path, monkeypatch):
    target = tmp_path / "runs.parquet"
    old = pd.DataFrame({"seed": [0, 1], "agreement": [True, False]})
    write_parquet(target, old)

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(ConfigError) as err:
        write_parquet(target, pd.DataFrame({"seed": range(1000)}))
    e = err.value
    assert e.file == str(target) and e.key == "output" and "disk full" in e.expected
    assert e.got == "No space left on device"
    pd.testing.assert_frame_equal(pd.read_parquet(target), old)
    assert not list(tmp_path.glob(".*.tmp"))


def test_output_under_a_file_is_a_config_error(tmp_path):
    blocker = tmp_path / "results.txt"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError) as err:
        write_json(blocker / "job" / "result.json", {"a": 1})
    assert err.value.file == str(blocker / "job") and "a writable output directory" in err.value.expected


def one_line_error(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    assert "Traceback" not in res.stderr
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("negotiate: error: "), err
    return err


@pytest.mark.parametrize("where", ["under_a_file", "proc"])
def test_unwritable_output_directory_on_the_command_line(tmp_path, negotiate_cmd, where):
    if where == "under_a_file":
        (tmp_path / "afile").write_text("x")
        target = tmp_path / "afile" / "out"
    else:
        target = Path("/proc/negotiate-out")
    err = one_line_error(run_cli(negotiate_cmd, [f"hydra.run.dir={target}"], tmp_path))
    assert f"command-line override hydra.run.dir={target}: hydra.run.dir: expected a" in err
    err = one_line_error(run_cli(negotiate_cmd, ["-m", f"hydra.sweep.dir={target}", "seed=0,1"], tmp_path))
    assert "hydra.sweep.dir: expected a" in err


@pytest.fixture
def tiny_disk(tmp_path):
    """A 128 KB tmpfs (a real full disk), or None where mounting is not allowed."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(mnt)],
                        capture_output=True).returncode == 0 if os.geteuid() == 0 else False
    yield mnt if ok else None
    if ok:
        subprocess.run(["umount", str(mnt)], check=False)


FULL_DISK_HOOK = textwrap.dedent("""
    import errno, os
    def _no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    os.fsync = _no_space
""")


def test_full_disk_on_the_command_line(tmp_path, negotiate_cmd, tiny_disk):
    """The command on a disk that fills up: status 2, one line naming the file; no partial file.

    On a real 128 KB tmpfs where the test may mount one; elsewhere the same failure is
    injected where the data reach the disk (``os.fsync`` raising ENOSPC, via sitecustomize).
    """
    args = ["n_seeds=3000", "quiet=true"]
    if tiny_disk is not None:
        out = tiny_disk / "out"
        res = run_cli(negotiate_cmd, args + [f"hydra.run.dir={out}"], tmp_path)
    else:
        hook = tmp_path / "hook"
        hook.mkdir()
        (hook / "sitecustomize.py").write_text(FULL_DISK_HOOK)
        out = tmp_path / "out"
        e = dict(os.environ, HYDRA_FULL_ERROR="0", PYTHONPATH=f"{hook}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
        res = subprocess.run(negotiate_cmd + args + [f"hydra.run.dir={out}"], cwd=tmp_path, capture_output=True,
                             text=True, env=e, timeout=300)
    err = one_line_error(res)
    assert f"{out}/runs.parquet: output: expected room to write the results" in err
    assert "No space left on device" in err
    assert not (out / "runs.parquet").exists() and not list(out.glob(".*.tmp"))
