"""negotiate-report: merging jobs, ranking with Wilson intervals, blocking issues, figures, warnings.

Jobs are made by the real job body (:func:`sim.job.run_sweep_job`) in-process, which is
what each Hydra job runs, so these tests need no subprocess.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.api import load_config
from sim.job import run_sweep_job
from sim.report import blocking, main, merge, rank
from sim.results import wilson

CONFIGS = {  # folder -> overrides: three sequences, one condition grid
    "a": ["agenda=comprehensive", "agenda.first_mover=mediators"],
    "b": ["agenda=order_05", "agenda.first_mover=Hamas"],
    "c": ["agenda=phased_plan", "grid.first_mover=[Israel,mediators]"],  # two batches in one job
}
GRID = ["n_seeds=12", "grid.trust=[0.15,0.7]", "grid.pressure=[1.0,2.0]"]


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report")
    for name, ov in CONFIGS.items():
        rate = run_sweep_job(load_config([*ov, *GRID]), root / name)
        assert 0.0 <= rate <= 1.0
    return root


def test_rank_orders_by_rate_with_wilson_intervals_and_terms_of_agreed_runs():
    df = pd.DataFrame(
        {
            "sequence": ["x"] * 10 + ["y"] * 10 + ["z"] * 4,
            "agenda": ["x"] * 10 + ["y"] * 10 + ["z"] * 4,
            "first_mover": ["m"] * 24,
            "agreement": [True] * 3 + [False] * 7 + [True] * 8 + [False] * 2 + [True] * 2 + [False] * 2,
            "rounds": list(range(10)) + list(range(10, 20)) + [5, 7, 1, 1],
            "term_a": [0.2] * 3 + [9.0] * 7 + [0.6] * 8 + [9.0] * 2 + [0.1, 0.3, 9.0, 9.0],
        }
    )
    r = rank(df)
    assert list(r["sequence"]) == ["y", "z", "x"] and list(r["rank"]) == [1, 2, 3]
    y = r.iloc[0]
    assert (y["n"], y["agreements"], y["rate"]) == (10, 8, 0.8)
    assert (y["low"], y["high"]) == pytest.approx(wilson(8, 10))
    assert y["median_rounds"] == np.median(range(10, 18))
    # terms average the runs that agreed only
    assert r.set_index("sequence").loc["z", "term_a"] == pytest.approx(0.2)
    assert r.set_index("sequence").loc["x", "term_a"] == pytest.approx(0.2)


def test_rank_breaks_ties_by_lower_interval_end():
    df = pd.DataFrame(
        {
            "sequence": ["small"] * 2 + ["big"] * 20,
            "agenda": "q",
            "first_mover": "m",
            "agreement": [True, False] + [True] * 10 + [False] * 10,
            "rounds": 1,
        }
    )
    r = rank(df)
    assert list(r["sequence"]) == ["big", "small"]  # same rate 0.5, tighter interval first


def test_blocking_names_the_most_frequent_blocking_issue():
    df = pd.DataFrame(
        {
            "agenda": ["p"] * 5 + ["q"] * 3,
            "sequence": ["p / m"] * 5 + ["q / m"] * 3,
            "agreement": [False, False, False, True, False, False, False, True],
            "blocking_issue": ["w", "d", "w", "", "g", "d", "d", ""],
        }
    )
    b = blocking(df).set_index("agenda")
    assert b.loc["p", "blocking_issue"] == "w" and b.loc["p", "share_of_failures"] == pytest.approx(0.5)
    assert b.loc["q", "blocking_issue"] == "d" and b.loc["q", "not_agreed"] == 2


def test_merge_matches_the_jobs_and_is_sorted(sweep_dir):
    df = merge(sweep_dir, progress=False)
    parts = {n: pd.read_parquet(sweep_dir / n / "runs.parquet") for n in CONFIGS}
    assert len(df) == sum(len(p) for p in parts.values()) == 4 * 12 * 4
    assert set(df["first_mover"]) == {"mediators", "Hamas", "Israel"}
    assert df.groupby("sequence").size().tolist() == [48] * 4
    key = ["agenda", "first_mover", "trust_level", "credibility_level", "pressure_level", "job", "seed"]
    assert df[key].equals(df.sort_values(key, kind="mergesort")[key].reset_index(drop=True))
    for n, p in parts.items():
        mine = df[df["job"] == n]
        assert mine["agreement"].sum() == p["agreement"].sum()


def test_report_ranks_correctly_and_writes_figures(sweep_dir, capsys):
    assert main([str(sweep_dir)]) == 0
    out = capsys.readouterr().out
    for f in (
        "atlas.parquet",
        "ranking.csv",
        "report.md",
        *(f"figures/{k}.{e}" for k in ("heatmap", "ranking", "terms") for e in ("png", "svg")),
    ):
        assert (sweep_dir / f).stat().st_size > 0, f
    assert (sweep_dir / "figures/ranking.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (sweep_dir / "figures/heatmap.svg").read_bytes()[:2000]
    md = (sweep_dir / "report.md").read_text()
    for k in ("heatmap", "ranking", "terms"):
        assert f"](figures/{k}.png)" in md
    # the printed ranking follows the agreement rate computed straight from the jobs' tables
    t = pd.concat([pd.read_parquet(sweep_dir / n / "runs.parquet") for n in CONFIGS])
    rates = t.groupby(["agenda", "first_mover"])["agreement"].mean()
    ranking = pd.read_csv(sweep_dir / "ranking.csv")
    assert list(ranking["rate"]) == sorted(rates, reverse=True)
    printed = [ln for ln in out.splitlines() if ln.strip()[:1].isdigit() and " / " in ln]
    assert [ln.split()[0] for ln in printed] == ["1", "2", "3", "4"]
    assert "blocks most often" in out and "3 done, 0 failed" in out


def test_report_warns_on_mixed_versions_and_lists_incomplete_jobs(sweep_dir, tmp_path, capsys):
    import shutil

    root = tmp_path / "mixed"
    shutil.copytree(sweep_dir, root)
    rec = json.loads((root / "b" / "job.json").read_text())
    rec["version"] = "0.0.1"
    (root / "b" / "job.json").write_text(json.dumps(rec))
    (root / "d" / ".hydra").mkdir(parents=True)  # started by Hydra, never finished
    assert main([str(root), "--no-figures"]) == 0
    cap = capsys.readouterr()
    assert "mixes package versions" in cap.err and "0.0.1 (1 jobs)" in cap.err
    assert "INCOMPLETE d" in cap.out and "1 incomplete" in cap.out
    assert "mixes package versions" in (root / "report.md").read_text()


def test_report_on_a_directory_without_jobs_fails_clearly(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("negotiate-report: error:") and "finished jobs" in err and len(err.strip().splitlines()) == 1


# -- files people can share: schema version, column dictionary, group-readable files ------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "columns.md"


def documented_columns() -> list[str]:
    """The column names and patterns in the first cell of the tables of docs/columns.md."""
    import re

    return re.findall(r"^\| `([^`]+)` \|", DOCS.read_text(), flags=re.M)


def test_every_column_of_a_default_run_table_is_documented():
    import re

    from sim.api import run

    rs = run(load_config(["n_seeds=2"]))
    sc = rs.static.sc
    alt = {"actor": "|".join(map(re.escape, sc.actors)), "issue": "|".join(map(re.escape, sc.issues))}
    # `utility_<actor>` stands for utility_Israel, utility_Hamas, ... (the scenario's actors only)
    names = [n for n in documented_columns() if set(re.findall(r"<([^>]*)>", n)) <= set(alt)]
    patterns = [
        re.compile(
            "".join(f"(?:{alt[p[1:-1]]})" if p.startswith("<") else re.escape(p) for p in re.split(r"(<\w+>)", n) if p)
        )
        for n in names
    ]
    missing = [c for c in rs.table.columns if not any(p.fullmatch(c) for p in patterns)]
    assert not missing, f"columns not in docs/columns.md: {missing}"
    # ... and nothing documented that no table has (sweeps, designs and forecasts add a few)
    added = {"first_mover", "agenda_choice", "job", "version", "sequence", "condition", "point"}
    stale = [
        n
        for n, p in zip(names, patterns, strict=True)
        if n not in added and not any(p.fullmatch(c) for c in rs.table.columns)
    ]
    assert not stale, f"documented but in no run table: {stale}"
    text = DOCS.read_text()
    for status in ("agreement", "stalemate", "walkout", "shock", "max_rounds"):
        assert f"`{status}`" in text
    assert set(rs.table["status"]) <= {"agreement", "stalemate", "walkout", "shock", "max_rounds"}


def test_parquet_files_carry_the_schema_version(sweep_dir, tmp_path):
    import pyarrow.parquet as pq

    from sim.io import SCHEMA_VERSION, read_schema_version

    assert main([str(sweep_dir), "--no-figures", "--out", str(tmp_path)]) == 0
    for f in [*(sweep_dir / n / "runs.parquet" for n in CONFIGS), tmp_path / "atlas.parquet"]:
        meta = pq.read_schema(f).metadata
        assert read_schema_version(f) == SCHEMA_VERSION == "2", f
        assert meta[b"negotiation_sim.package_version"].decode()
        assert json.loads(meta[b"negotiation_sim.columns"])["dictionary"] == "docs/columns.md"
    # the atlas is the merged table, and what merge() gives in memory
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "atlas.parquet"), merge(sweep_dir))


def test_report_warns_once_on_mixed_schema_versions(sweep_dir, tmp_path, capsys):
    import shutil

    import pyarrow.parquet as pq

    root = tmp_path / "mixed"
    shutil.copytree(sweep_dir, root)
    old = pq.read_table(root / "a" / "runs.parquet")
    pq.write_table(old.replace_schema_metadata({}), root / "a" / "runs.parquet")  # as written before version 2
    job = json.loads((root / "a" / "job.json").read_text())
    job.pop("runs_sha256", None)  # ... by a version that kept no checksum either
    (root / "a" / "job.json").write_text(json.dumps(job))
    assert main([str(root), "--no-figures"]) == 0
    err = [ln for ln in capsys.readouterr().err.splitlines() if "schema version" in ln]
    assert len(err) == 1 and "1 (1 jobs)" in err[0] and "2 (2 jobs)" in err[0], err
    assert main([str(sweep_dir), "--no-figures", "--out", str(tmp_path / "same")]) == 0
    assert "schema version" not in capsys.readouterr().err


def test_merge_in_parts_is_the_merge_in_one_query(sweep_dir, tmp_path):
    """Sorting a few sequences at a time gives the rows of one sort, also over files of different columns."""
    import shutil

    import pyarrow as pa

    from sim.report import _arrow_reader, _Merge

    root = tmp_path / "sweep"
    shutil.copytree(sweep_dir, root)
    # a job that crosses agendas has an agenda_choice column the others lack
    run_sweep_job(
        load_config(["grid.agenda=[order_02,comprehensive]", "n_seeds=5", "grid.trust=[0.4]"]), root / "crossed"
    )
    # folder names that DuckDB would read as glob patterns ("x?" matches "xy" too)
    shutil.copytree(root / "a", root / "x?")
    shutil.copytree(root / "b", root / "xy")
    shutil.copytree(root / "c", root / "grid.agenda=[a,b]")
    shutil.copytree(root / "a", root / "agenda=other,seed=1")  # no Hive partitions read from the path
    with _Merge(root, chunk_rows=7) as m:
        assert len(m.parts) > 10
        parts = pa.Table.from_batches(list(m.batches()), schema=m.schema)
        whole = _arrow_reader(m.con.sql(m.sql), 1 << 20).read_all()
    assert parts.equals(whole.cast(m.schema))
    df = merge(root)
    assert df.groupby("job").size().to_dict() == {
        j: len(pd.read_parquet(root / j / "runs.parquet"))
        for j in ["a", "b", "c", "crossed", "x?", "xy", "grid.agenda=[a,b]", "agenda=other,seed=1"]
    }
    hive = df[df["job"] == "agenda=other,seed=1"]
    assert (
        hive.drop(columns="job")
        .reset_index(drop=True)
        .equals(df[df["job"] == "a"].drop(columns="job").reset_index(drop=True))
    )
    assert set(df[df["job"] == "crossed"]["agenda_choice"]) == {"order_02", "comprehensive"}
    assert set(df[df["job"] != "crossed"]["agenda_choice"]) == {""}  # ran without Hydra: no choice recorded


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_result_files_follow_the_umask(tmp_path, umask, mode):
    import os
    import stat

    old = os.umask(umask)
    try:
        run_sweep_job(load_config(["n_seeds=4"]), tmp_path / "job")
        assert main([str(tmp_path), "--no-figures"]) == 0
    finally:
        os.umask(old)
    for f in (
        "job/runs.parquet",
        "job/result.json",
        "job/job.json",
        "job/config.yaml",
        "atlas.parquet",
        "ranking.csv",
        "report.md",
    ):
        assert stat.S_IMODE((tmp_path / f).stat().st_mode) == mode, f
