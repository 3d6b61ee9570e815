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
    return [
        sys.executable,
        "-m",
        "sim",
        "-m",
        "experiment=atlas_smoke",
        f"hydra.sweep.dir={out}",
        f"n_seeds={SEEDS}",
        *extra,
    ]


def env() -> dict[str, str]:
    return dict(os.environ, CI="1", HYDRA_FULL_ERROR="0")


def run_sweep(out: Path, *extra: str) -> subprocess.CompletedProcess:
    res = subprocess.run(sweep_cmd(out, *extra), cwd=out.parent, capture_output=True, text=True, env=env(), timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def report(out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim.report", str(out), "--no-figures"],
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
    )


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
    p = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(target)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
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


def test_two_writers_of_one_file_leave_each_other_alone(tmp_path):
    """A writer clears the temporary files of dead writers only, never one still writing."""
    target = tmp_path / "job" / "result.json"
    p = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(target)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert p.stdout.readline().strip() == "HALF"
        theirs = list(target.parent.glob(".result.json.*.tmp"))
        assert len(theirs) == 1 and f".result.json.{p.pid}." in theirs[0].name
        write_json(target, {"seed": 3})  # while the other writer is still at work
        assert theirs[0].exists(), "a live writer's temporary file must stay"
        assert json.loads(target.read_text()) == {"seed": 3}
    finally:
        p.kill()
        p.wait(timeout=30)
    write_json(target, {"seed": 4})  # now it is dead: its file is stale and goes
    assert not list(target.parent.glob(".*.tmp"))


def test_writer_killed_before_first_file_leaves_nothing(tmp_path):
    target = tmp_path / "job" / "runs.parquet"
    p = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(target)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
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
    p = subprocess.Popen(
        sweep_cmd(out, "hydra/launcher=basic"),
        cwd=out.parent,
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
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
    ok = (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(mnt)], capture_output=True).returncode
        == 0
        if os.geteuid() == 0
        else False
    )
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
        res = subprocess.run(
            negotiate_cmd + args + [f"hydra.run.dir={out}"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=e,
            timeout=300,
        )
    err = one_line_error(res)
    assert f"{out}/runs.parquet: output: expected room to write the results" in err
    assert "No space left on device" in err
    assert not (out / "runs.parquet").exists() and not list(out.glob(".*.tmp"))


# -- a job whose files are damaged is not done: the report leaves it out, the sweep redoes it ----


def _truncate(d: Path) -> None:
    p = d / "runs.parquet"
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _empty(d: Path) -> None:
    (d / "runs.parquet").write_bytes(b"")


def _wrong_types(d: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pq.read_table(d / "runs.parquet")
    t = t.set_column(t.schema.get_field_index("seed"), "seed", pa.array([str(s) for s in t["seed"].to_pylist()]))
    pq.write_table(t, d / "runs.parquet")
    rec = json.loads((d / "job.json").read_text())
    del rec["runs_sha256"]  # as a job written before checksums: the schema check alone must catch it
    (d / "job.json").write_text(json.dumps(rec))


def _other_rows(d: Path) -> None:
    t = pd.read_parquet(d / "runs.parquet")
    write_parquet(d / "runs.parquet", t.iloc[:-1])  # a whole, readable file, but not the one the job wrote


def _config_5(d: Path) -> None:
    (d / "job.json").write_text('{"config": 5}')


def _job_json_a_list(d: Path) -> None:
    (d / "job.json").write_text("[1, 2]")


DAMAGES = [  # (id, damage, what verify_job says)
    ("truncated", _truncate, "runs.parquet: expected the checksum recorded in job.json"),
    ("empty", _empty, "runs.parquet: expected the checksum recorded in job.json"),
    ("wrong_typed", _wrong_types, "runs.parquet: seed: expected integer, got string"),
    ("other_rows", _other_rows, "runs.parquet: expected the checksum recorded in job.json"),
    ("job_json_config_5", _config_5, "job.json: status: expected 'ok', got None"),
    ("job_json_a_list", _job_json_a_list, "job.json: expected a JSON object"),
]


@pytest.fixture(scope="module")
def two_jobs(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """A sweep of two finished jobs (made by the job body itself), and their runs.parquet bytes."""
    from sim.api import load_config
    from sim.job import run_sweep_job

    root = tmp_path_factory.mktemp("two") / "sweep"
    for name, seed in (("a", 0), ("b", 100)):
        run_sweep_job(load_config(["n_seeds=8", f"seed={seed}"]), root / name)
    return root, {n: (root / n / "runs.parquet").read_bytes() for n in "ab"}


@pytest.mark.parametrize(("case", "damage", "why"), DAMAGES, ids=[c[0] for c in DAMAGES])
def test_damaged_job_is_left_out_then_run_again(tmp_path, two_jobs, case, damage, why):
    import shutil

    from sim.api import load_config
    from sim.job import finished, run_sweep_job
    from sim.report import jobs, write_report
    from sim.sweep import verify_job

    root = tmp_path / "sweep"
    shutil.copytree(two_jobs[0], root)
    damage(root / "b")
    assert job_state(root / "b") == "damaged" and job_state(root / "a") == "done"
    assert verify_job(root / "b").startswith(why), verify_job(root / "b")
    cfg = load_config(["n_seeds=8", "seed=100"])
    assert finished(root / "b", cfg) is None, "a damaged job is not done"
    # the report merges the good job only, says which one it left out and why
    res = write_report(root, tmp_path / "out", figures=False)
    assert res["n_runs"] == 8
    assert set(pd.read_parquet(tmp_path / "out" / "atlas.parquet")["job"]) == {"a"}
    row = jobs(root).set_index("job").loc["b"]
    assert row["state"] == "damaged" and why in row["error"]
    assert any(w.startswith("job b not merged: damaged, not merged: " + why) for w in res["warnings"])
    # the next sweep runs it again, to the same bytes
    run_sweep_job(cfg, root / "b")
    assert job_state(root / "b") == "done"
    assert (root / "b" / "runs.parquet").read_bytes() == two_jobs[1]["b"]


def test_damaged_job_on_the_command_line(tmp_path, two_jobs):
    import shutil

    root = tmp_path / "sweep"
    shutil.copytree(two_jobs[0], root)
    _config_5(root / "b")
    res = report(root)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "DAMAGED b: damaged, not merged: job.json: status: expected 'ok'" in res.stdout
    assert "1 done, 0 failed, 0 incomplete, 1 damaged" in res.stdout


def test_job_json_records_the_checksum_of_its_runs(two_jobs):
    from sim.sweep import file_sha256

    rec = json.loads((two_jobs[0] / "a" / "job.json").read_text())
    assert rec["runs_sha256"] == file_sha256(two_jobs[0] / "a" / "runs.parquet")
    assert rec["n_runs"] == len(pd.read_parquet(two_jobs[0] / "a" / "runs.parquet")) == 8


def test_stale_error_json_goes_once_the_job_succeeds(tmp_path, two_jobs):
    import shutil

    from sim.api import load_config
    from sim.job import run_sweep_job

    root = tmp_path / "sweep"
    shutil.copytree(two_jobs[0], root)
    # a finished job with an old error beside it (skipped as done): the error goes
    write_json(root / "a" / "error.json", {"status": "failed", "error": "OSError: earlier"})
    run_sweep_job(load_config(["n_seeds=8", "seed=0"]), root / "a")
    assert not (root / "a" / "error.json").exists()
    # a job that failed, run again and done: the error goes
    write_json(tmp_path / "c" / "error.json", {"status": "failed", "error": "OSError: earlier"})
    run_sweep_job(load_config(["n_seeds=3"]), tmp_path / "c")
    assert job_state(tmp_path / "c") == "done" and not (tmp_path / "c" / "error.json").exists()


# -- the report refuses to mix sweeps or configurations, and never writes a partial atlas -------


def _fake_sweep(root: Path, jobs: dict[str, list[str]], sweep_overrides: dict[str, list[str]] | None = None) -> None:
    from sim.api import load_config
    from sim.job import run_sweep_job

    for name, ov in jobs.items():
        run_sweep_job(load_config(ov), root / name)
        if sweep_overrides:  # what Hydra records for a job of a sweep
            rec = json.loads((root / name / "job.json").read_text())
            rec["overrides"] = sweep_overrides[name]
            write_json(root / name / "job.json", rec)


def test_report_refuses_nested_sweeps(tmp_path):
    from sim.report import write_report

    for s in ("s1", "s2"):
        _fake_sweep(tmp_path / "multirun" / s, {"0": ["n_seeds=4"]})
        (tmp_path / "multirun" / s / "multirun.yaml").write_text("hydra: {}\n")
    root = tmp_path / "multirun"
    with pytest.raises(ConfigError) as err:
        write_report(root, figures=False)
    e = err.value
    assert e.key == "DIR" and "pass --allow-mixed" in e.expected
    assert "2 sweeps (folders with a multirun.yaml: s1, s2)" in e.got
    assert "the same configuration and seeds in jobs s1/0 and s2/0 (counted twice)" in e.got
    assert not (root / "atlas.parquet").exists()
    res = report(root)
    assert res.returncode == 2 and res.stderr.strip().count("\n") == 0, res.stderr
    assert res.stderr.startswith(f"negotiate-report: error: {root}: DIR: expected one sweep of one configuration")
    res = subprocess.run(
        [sys.executable, "-m", "sim.report", str(root), "--no-figures", "--allow-mixed"],
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "WARNING: merged although it mixes: 2 sweeps" in res.stderr
    assert len(pd.read_parquet(root / "atlas.parquet")) == 8


def test_report_refuses_configurations_that_differ_beyond_the_swept_keys(tmp_path):
    from sim.report import mixing_problems, write_report

    same = tmp_path / "same"
    _fake_sweep(
        same,
        {"0": ["n_seeds=4", "seed=0"], "1": ["n_seeds=4", "seed=4", "agenda=phased_plan"]},
        {"0": ["seed=0", "agenda=comprehensive"], "1": ["seed=4", "agenda=phased_plan"]},
    )
    assert mixing_problems(same) == []
    # block 1 run again after the scenario was edited
    edited = tmp_path / "edited"
    _fake_sweep(
        edited,
        {"0": ["n_seeds=4", "seed=0"], "1": ["n_seeds=4", "seed=4", "scenario.trust.initial=0.2"]},
        {"0": ["seed=0"], "1": ["seed=4"]},
    )
    with pytest.raises(ConfigError) as err:
        write_report(edited, figures=False)
    assert (
        "2 configurations that differ beyond the swept keys: jobs 0 and 1 differ in scenario.trust.initial"
        in err.value.got
    )
    assert not (edited / "atlas.parquet").exists()
    res = write_report(edited, figures=False, allow_mixed=True)
    assert res["n_runs"] == 8 and any("scenario.trust.initial" in w for w in res["warnings"])


def test_failed_merge_leaves_no_partial_atlas(tmp_path, two_jobs, monkeypatch):
    import shutil

    import sim.report
    from sim.report import write_report

    root = tmp_path / "sweep"
    shutil.copytree(two_jobs[0], root)
    write_report(root, figures=False)
    atlas = root / "atlas.parquet"
    before = atlas.read_bytes()
    real = sim.report._Merge.batches

    def fail_midway(self, rows=16384):
        it = real(self, rows)
        yield next(it)
        raise OSError("the disk went away")

    monkeypatch.setattr(sim.report._Merge, "batches", fail_midway)
    with pytest.raises(ConfigError) as err:
        write_report(root, figures=False)
    assert "the disk went away" in str(err.value)
    assert atlas.read_bytes() == before, "the old atlas stays whole"
    assert not list(root.glob(".*.tmp"))


@pytest.mark.parametrize("where", ["full_disk", "under_a_file"])
def test_report_out_that_cannot_be_written(tmp_path, two_jobs, where):
    """``negotiate-report --out`` on a full disk or where no folder can be: one line, status 2, no file."""
    root = two_jobs[0]
    e = env()
    if where == "full_disk":
        hook = tmp_path / "hook"
        hook.mkdir()
        (hook / "sitecustomize.py").write_text(FULL_DISK_HOOK)
        e["PYTHONPATH"] = f"{hook}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
        out = tmp_path / "out"
    else:
        (tmp_path / "afile").write_text("x")
        out = tmp_path / "afile" / "out"
    res = subprocess.run(
        [sys.executable, "-m", "sim.report", str(root), "--out", str(out), "--no-figures"],
        capture_output=True,
        text=True,
        env=e,
        timeout=300,
        cwd=ROOT,
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("negotiate-report: error: "), err
    if where == "full_disk":
        assert f"{out}/atlas.parquet: output: expected room to write the results" in err
        assert "No space left on device" in err
        assert not (out / "atlas.parquet").exists() and not list(out.glob(".*.tmp"))
    else:
        assert f"{out}: output: expected a writable output directory" in err


# -- a sweep with a failed job fails; a long run stops cleanly on Ctrl-C ------------------------


def test_sweep_with_a_failed_job_exits_nonzero(tmp_path, negotiate_cmd):
    out = tmp_path / "sweep"
    res = run_cli(
        negotiate_cmd,
        ["-m", f"hydra.sweep.dir={out}", "n_seeds=2", "seed=0,1", "design.file=/nonexistent/design.csv"],
        tmp_path,
    )
    assert res.returncode == 1, (res.returncode, res.stderr[-2000:])
    assert f"negotiate: 2 job(s) failed in {out}: 0: ConfigError: " in res.stderr
    assert "design.file: expected a Parquet or CSV file that exists" in res.stderr
    assert sorted(job_state(d) for d in job_dirs(out)) == ["failed", "failed"]
    ok = run_cli(negotiate_cmd, ["-m", f"hydra.sweep.dir={tmp_path / 'fine'}", "n_seeds=2", "seed=0,1"], tmp_path)
    assert ok.returncode == 0, ok.stderr[-2000:]


def test_ctrl_c_stops_a_long_run_with_one_line(tmp_path, negotiate_cmd):
    out = tmp_path / "run"
    p = subprocess.Popen(
        negotiate_cmd + ["n_seeds=300000", f"hydra.run.dir={out}"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, HYDRA_FULL_ERROR="0"),
    )
    deadline = time.monotonic() + 120
    while not (out / ".hydra").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)  # well into the runs
    assert p.poll() is None, "the run must still be going when interrupted"
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    assert err.strip().splitlines() == [
        "negotiate: interrupted: nothing more was written (results are written "
        "whole when a job ends; a sweep run again resumes)"
    ]
    assert not (out / "runs.parquet").exists() and not (out / "result.json").exists()
    assert not list(out.glob(".*.tmp"))


def test_long_single_run_shows_progress_at_a_terminal(tmp_path, negotiate_cmd):
    """At a terminal a run that lasts over two seconds draws a bar (runs done, rate); a short one none."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    def run_at_terminal(n_seeds: int) -> tuple[int, str]:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal 120 wide
        p = subprocess.Popen(
            negotiate_cmd + [f"n_seeds={n_seeds}", "chunk_size=2000", f"hydra.run.dir={tmp_path / str(n_seeds)}"],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=slave,
            env=dict(os.environ, HYDRA_FULL_ERROR="0", CI=""),
        )
        os.close(slave)
        chunks = []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 4096)
                except OSError:  # the other end closed
                    break
                if not data:
                    break
                chunks.append(data)
            elif p.poll() is not None:
                break
        os.close(master)
        return p.wait(timeout=60), b"".join(chunks).decode(errors="replace")

    rc, err = run_at_terminal(120_000)
    assert rc == 0, err[-2000:]
    assert "runs:" in err and "/120000" in err and "run/s" in err, err[-2000:]
    rc, err = run_at_terminal(50)
    assert rc == 0 and "run/s" not in err, err[-2000:]
