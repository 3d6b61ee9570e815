"""Reading a sweep: merge its jobs into one table, rank the concession sequences, draw them.

A sweep directory holds one folder per Hydra job, each with ``runs.parquet`` (one row
per run) and ``job.json`` (its config and where it came from). :func:`merge` stacks the
finished jobs into one table, adding who moved first and a short label per sequence
(DuckDB reads every job's file at once and sorts; :func:`merge_to` streams the sorted
rows into ``atlas.parquet`` without holding the table in Python);
:func:`rank` orders the sequences by how often they reached agreement, with 95% Wilson
intervals, the median rounds to agreement and the mean agreed terms; :func:`blocking`
names the issue that most often stood in the way under each agenda; the ``plot_*``
functions draw the heatmap, the ranked bars and the terms; :func:`write_report` does all
of it and writes ``atlas.parquet``, the figures (PNG and SVG) and ``report.md``. The
``negotiate-report DIR`` command calls :func:`write_report` and prints the ranking.
Notebooks and ``experiments/*/analyze.py`` call the same functions. Only jobs whose files
check out are merged (:func:`sim.sweep.verify_job`); the report refuses nested sweeps, the
same runs twice and configurations that differ beyond the swept keys unless
``--allow-mixed`` (:func:`mixing_problems`).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ConfigError, split_override
from sim.io import (
    ROW_GROUP,
    SourceError,
    read_parquet_schema,
    read_schema_version,
    write_parquet_batches,
    write_text,
)
from sim.results import wilson
from sim.sweep import ERROR_FILE, JOB_FILE, job_dirs, job_state, read_json, verify_job

ATLAS_FILE = "atlas.parquet"
CONDITIONS = ("trust_level", "credibility_level", "pressure_level")
SEQUENCE = ("agenda", "first_mover")  # what a concession sequence is: an agenda and who opens
SORT_KEYS = ("agenda", "first_mover", *CONDITIONS, "job", "seed")
CHUNK_ROWS = 32_768  # the merge sorts about this many rows at a time (a sequence, condition and job whole)
MEMORY_LIMIT = "128MB"  # DuckDB's memory in merge_to (measured: benchmarks/merge_bench.py)
THREADS = 1  # DuckDB's threads in merge_to: measured as fast as two (a part is a file or two), less memory


# --------------------------------------------------------------------------- loading


def _first_mover(cfg: dict[str, Any]) -> str:
    fm = (cfg.get("agenda") or {}).get("first_mover", "mediators")
    return ">".join(str(x) for x in fm) if isinstance(fm, list) else str(fm)


def jobs(root: str | Path) -> pd.DataFrame:
    """One row per job folder of a sweep: its state, sequence, timing, memory, provenance and schema version."""
    root = Path(root)
    rows = []
    for d in job_dirs(root):
        state = job_state(d)
        rec = read_json(d / (JOB_FILE if state in ("done", "damaged") else ERROR_FILE)) or {}
        if state == "damaged":
            rec = {"error": f"damaged, not merged: {verify_job(d)} (run the sweep again to redo it)"}
        cfg = rec.get("config") if isinstance(rec.get("config"), dict) else {}
        rows.append(
            {
                "job": str(d.relative_to(root)) if d != root else ".",
                "state": state,
                "agenda_choice": rec.get("agenda_choice"),
                "first_mover": _first_mover(cfg) if cfg else None,
                "n_runs": rec.get("n_runs"),
                "wall_s": rec.get("wall_s"),
                "runs_per_s": rec.get("runs_per_s"),
                "peak_memory_mb": rec.get("peak_memory_mb"),
                "version": rec.get("version"),
                "git_commit": rec.get("git_commit"),
                # of runs.parquet (1: written before the version was recorded in the file)
                "schema_version": (read_schema_version(d / "runs.parquet") or "1") if state == "done" else None,
                "error": rec.get("error"),
            }
        )
    cols = [
        "job",
        "state",
        "agenda_choice",
        "first_mover",
        "n_runs",
        "wall_s",
        "runs_per_s",
        "peak_memory_mb",
        "version",
        "git_commit",
        "schema_version",
        "error",
    ]
    return pd.DataFrame(rows, columns=cols)


def _abbreviations(issues: Iterable[str]) -> dict[str, str]:
    """The shortest prefixes (3 letters at least) that tell the issues apart."""
    issues = sorted(set(issues))
    for n in range(3, max((len(i) for i in issues), default=3) + 1):
        short = {i: i[:n] for i in issues}
        if len(set(short.values())) == len(issues):
            return short
    return {i: i for i in issues}


def agenda_label(agenda: str, abbrev: dict[str, str] | None = None) -> str:
    """A short name for an agenda: ``exc+cea>dis>wit>gua>gov`` for an issue order, else its name."""
    if not agenda.startswith("sequence:"):
        return agenda
    phases = agenda[len("sequence:") :].split(">")
    ab = abbrev or {}
    return ">".join("+".join(ab.get(i, i) for i in ph.split("+")) for ph in phases)


def add_labels(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``sequence`` (short agenda label and first mover) and ``condition`` columns."""
    issues = [c[len("term_") :] for c in df.columns if c.startswith("term_")]
    ab = _abbreviations(issues)
    labels = {a: agenda_label(a, ab) for a in df["agenda"].unique()}
    df = df.copy()
    df["sequence"] = [f"{labels[a]} / {fm}" for a, fm in zip(df["agenda"], df["first_mover"], strict=True)]
    df["condition"] = condition_labels(df)
    return df


def condition_labels(df: pd.DataFrame) -> list[str]:
    """``T0.4 C0.6 P1`` per row (trust, guarantor credibility, pressure); ``-`` for the scenario's own."""

    def fmt(v: float) -> str:
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:g}"

    return [
        f"T{fmt(t)} C{fmt(c)} P{fmt(p)}"
        for t, c, p in zip(df["trust_level"], df["credibility_level"], df["pressure_level"], strict=True)
    ]


def _sql_str(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _order_key(v: Any) -> tuple:
    """Sort a value as DuckDB's ``ORDER BY ... NULLS FIRST``: NULL, then values (NaN after numbers)."""
    if v is None:
        return (0, 0)
    if isinstance(v, float) and math.isnan(v):
        return (2, 0)
    return (1, v)


def _arrow_reader(rel: Any, batch: int) -> Any:
    f = getattr(rel, "to_arrow_reader", None) or rel.fetch_arrow_reader  # duckdb >= 1.4 / older
    return f(batch)


class _Merge:
    """The merge of a sweep's jobs in DuckDB (see :func:`merge`).

    DuckDB reads the jobs' ``runs.parquet`` as one table (``read_parquet([...],
    union_by_name = true)``: a column missing from a file is NULL there), takes the
    per-job columns from a small table of the jobs and the labels from small tables
    computed here, and sorts. The sort goes by parts of about ``chunk_rows`` rows, each
    a run of consecutive sort keys read from the files that hold it, so only one part is
    held at a time (in DuckDB's memory, spilled to a temporary folder past
    ``memory_limit``); the parts one after another are the sorted table (:attr:`sql`
    is the same as one query). Use as a context manager; :meth:`batches` gives the rows.
    """

    def __init__(
        self, root: Path, memory_limit: str | None = None, chunk_rows: int = CHUNK_ROWS, threads: int | None = None
    ) -> None:
        import tempfile

        import duckdb
        import pyarrow as pa
        import pyarrow.parquet as pq

        done = [d for d in job_dirs(root) if job_state(d) == "done"]
        if not done:
            raise ConfigError(str(root), "DIR", "a sweep directory with finished jobs (runs.parquet and job.json)")
        self._tmp = tempfile.TemporaryDirectory(prefix="negotiate-report-")
        # DuckDB reads a name as a glob pattern: a folder named by Hydra's overrides
        # (grid.agenda=[a,b]) would match other names, so such a file is read through a link
        self.real = {self._plain(str(d / "runs.parquet"), k): str(d / "runs.parquet") for k, d in enumerate(done)}
        self.files = list(self.real)
        jobs_rows: dict[str, list[str]] = {"file": [], "job": [], "choice": [], "fm": [], "version": []}
        self.cols: list[str] = []  # the runs' columns, in order of first appearance (as pd.concat)
        self.file_cols: dict[str, set[str]] = {}
        for d, f in zip(done, self.files, strict=True):
            rec = read_json(d / JOB_FILE) or {}
            jobs_rows["file"].append(f)
            jobs_rows["job"].append(str(d.relative_to(root)) if d != root else ".")
            jobs_rows["choice"].append(rec.get("agenda_choice") or "")
            jobs_rows["fm"].append(_first_mover(rec.get("config") or {}))
            jobs_rows["version"].append(rec.get("version") or "")
            names = read_parquet_schema(self.real[f]).names
            self.file_cols[f] = set(names)
            self.cols += [c for c in names if c not in self.cols]
        config = {"temp_directory": self._tmp.name}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        self.con = con = duckdb.connect(":memory:", config=config)
        con.register("jobs", pa.table(jobs_rows))
        # One pass over the files: the rows of each sort-key prefix (agenda, first mover,
        # condition levels, job). The sorted table is these groups one after another, so
        # the merge sorts a few at a time (``parts`` of about chunk_rows rows, each from
        # the files that hold them) and DuckDB holds one part at a time. A group is one
        # job's seeds of one grid point: larger than chunk_rows, it is a part alone.
        src, fm, _ = self._source(self.files)
        keys = ["r.agenda", fm, *(f"r.{c}" for c in CONDITIONS)]
        groups = con.execute(
            f"SELECT {', '.join(keys)}, j.job, r.filename, count(*) FROM {src} GROUP BY ALL"
        ).fetchall()
        groups.sort(key=lambda g: tuple(_order_key(v) for v in g[:6]))  # as ORDER BY ... NULLS FIRST
        part_of: list[int] = []
        part, size = -1, 0
        for g in groups:
            if part < 0 or size + g[-1] > chunk_rows:
                part, size = part + 1, 0
            part_of.append(part)
            size += g[-1]
        self.parts: list[list[str]] = [[] for _ in range(part + 1)]  # the files each part reads
        for g, k in zip(groups, part_of, strict=True):
            if g[-2] not in self.parts[k]:
                self.parts[k].append(g[-2])
        self.n_rows = sum(g[-1] for g in groups)
        read: dict[str, int] = {}
        for g in groups:
            read[g[-2]] = read.get(g[-2], 0) + g[-1]
        for f, real in self.real.items():  # each file read once, whole
            if read.get(f, 0) != (n := pq.read_metadata(real).num_rows):
                raise ConfigError(real, "runs.parquet", f"{n} rows read once by the merge", read.get(f, 0))
        # the labels: one per agenda and one per condition, as add_labels makes them
        ab = _abbreviations([c[len("term_") :] for c in self.cols if c.startswith("term_")])
        agendas = sorted({g[0] for g in groups if g[0] is not None})
        con.register(
            "labels",
            pa.table(
                {
                    "agenda": pa.array(agendas, pa.string()),
                    "label": pa.array([agenda_label(a, ab) for a in agendas], pa.string()),
                }
            ),
        )
        conds = pd.DataFrame([g[2:5] for g in groups], columns=list(CONDITIONS), dtype=float)
        con.register(
            "parts",
            pa.table(
                {
                    "agenda": pa.array([g[0] for g in groups], pa.string()),
                    "fm": pa.array([g[1] for g in groups], pa.string()),
                    **{c: pa.array(conds[c], pa.float64(), from_pandas=True) for c in CONDITIONS},
                    "file": pa.array([g[6] for g in groups], pa.string()),
                    "part": pa.array(part_of, pa.int64()),
                    "condition": pa.array(condition_labels(conds), pa.string()),
                }
            ),
        )
        self.schema = _arrow_reader(con.sql(self._query(self.files) + " LIMIT 0"), 1).schema

    def _plain(self, path: str, k: int) -> str:
        """``path``, or a link to it without glob characters in its name (if links can be made)."""
        if not any(ch in path for ch in "*?[]{}"):
            return path
        link = Path(self._tmp.name) / f"job{k}.parquet"
        try:
            link.symlink_to(Path(path).absolute())
        except OSError:
            return path
        return str(link)

    def _source(self, files: list[str]) -> tuple[str, str, str]:
        """``FROM`` the files joined with their jobs, and the first mover and agenda choice of a row."""
        have = set().union(*(self.file_cols[f] for f in files))
        listed = ", ".join(_sql_str(f) for f in files)
        src = (
            f"read_parquet([{listed}], union_by_name = true, filename = true, file_row_number = true, "
            "hive_partitioning = false) r "
            "JOIN jobs j ON r.filename = j.file"
        )
        fm = "COALESCE(r.first_mover, j.fm)" if "first_mover" in have else "j.fm"
        choice = "COALESCE(r.agenda_choice, j.choice)" if "agenda_choice" in have else "j.choice"
        return src, fm, choice

    def _query(self, files: list[str], where: str = "") -> str:
        """The sorted merge of the rows of ``files`` (that meet ``where``)."""
        src, fm, choice = self._source(files)
        have = set().union(*(self.file_cols[f] for f in files))
        select = [
            f"{fm} AS first_mover" if c == "first_mover" else f"r.{_ident(c)}"
            for c in self.cols
            if (c in have or c == "first_mover")
            and c not in ("job", "agenda_choice", "version", "sequence", "condition")
        ]  # in place
        select += ["j.job AS job", f"{choice} AS agenda_choice"]
        select += [] if "first_mover" in self.cols else [f"{fm} AS first_mover"]
        select += ["j.version AS version", f"l.label || ' / ' || {fm} AS sequence", "p.condition AS condition"]
        keys = ["r.agenda", fm, *(f"r.{c}" for c in CONDITIONS)]
        on = " AND ".join(
            f"{k} IS NOT DISTINCT FROM p.{c}" for k, c in zip(keys, ["agenda", "fm", *CONDITIONS], strict=True)
        )
        order = ", ".join(f"{k} NULLS FIRST" for k in (*keys, "j.job", "r.seed")) + ", r.file_row_number"
        return (
            f"SELECT {', '.join(select)} FROM {src} LEFT JOIN labels l ON r.agenda = l.agenda "
            f"JOIN parts p ON r.filename = p.file AND {on} {f'WHERE {where} ' if where else ''}ORDER BY {order}"
        )

    @property
    def sql(self) -> str:
        """The whole merge as one query (the parts give the same rows in the same order)."""
        return self._query(self.files)

    def _conform(self, b: Any) -> Any:
        """A batch of one part with the columns of the whole table (NULL where its files have none)."""
        import pyarrow as pa

        if b.schema.equals(self.schema):
            return b
        arrays = [
            b.column(f.name).cast(f.type) if f.name in b.schema.names else pa.nulls(b.num_rows, f.type)
            for f in self.schema
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def batches(self, rows: int = ROW_GROUP) -> Iterator[Any]:
        """The merged table's record batches, in order (columns: :attr:`schema`)."""
        for k, files in enumerate(self.parts):
            for b in _arrow_reader(self.con.sql(self._query(files, f"p.part = {k}")), rows):
                yield self._conform(b)

    def close(self) -> None:
        self.con.close()
        self._tmp.cleanup()

    def __enter__(self) -> _Merge:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@contextlib.contextmanager
def _readable(root: Path) -> Iterator[None]:
    """DuckDB's errors (a file it cannot read) as the one-line :class:`ConfigError`."""
    import duckdb

    try:
        yield
    except (duckdb.Error, SourceError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(str(root), "DIR", "job folders whose runs.parquet can be read and merged", msg) from e


def merge(root: str | Path, progress: bool | None = None) -> pd.DataFrame:
    """Stack the runs of every finished job under ``root`` into one table, sorted deterministically.

    Adds ``job`` (the folder, relative to ``root``), ``agenda_choice``, ``first_mover``,
    ``version``, ``sequence`` and ``condition``. Failed and unfinished jobs are left out
    (see :func:`jobs`). Rows are sorted by agenda, first mover, conditions, job and seed,
    so the same sweep gives the same table whatever order its jobs finished in. This is
    the table :func:`merge_to` writes (``pd.read_parquet`` of that file gives it back),
    made the same way (DuckDB, :class:`_Merge`) but held whole in memory: for a large
    sweep, prefer :func:`merge_to` and read the columns you need. ``progress`` is kept
    for callers of earlier versions and does nothing.

    Raises:
        ConfigError: if ``root`` holds no finished job, or a job's file cannot be read.
    """
    del progress
    import pyarrow as pa

    root = Path(root)
    with _readable(root), _Merge(root) as m:
        return pa.Table.from_batches(list(m.batches()), schema=m.schema).to_pandas()


def merge_to(
    root: str | Path, path: str | Path, memory_limit: str | None = MEMORY_LIMIT, threads: int | None = THREADS
) -> int:
    """Merge the sweep under ``root`` (as :func:`merge`) straight into a Parquet file; return the rows.

    The rows go from DuckDB's sort to the file in batches (atomically: a temporary file,
    then a rename), never as one table in Python, with the package's metadata (schema
    version, package version, column note: :func:`sim.io.write_parquet_batches`).
    ``memory_limit`` caps DuckDB's memory (past it the sort spills to a temporary folder;
    should one part of the sort not fit even so, the merge is done again without the
    cap) and ``threads`` its threads (None: one per core).

    Raises:
        ConfigError: if ``root`` holds no finished job, or a job's file cannot be read.
    """
    root = Path(root)
    with _readable(root):
        try:
            with _Merge(root, memory_limit=memory_limit, threads=threads) as m:
                return write_parquet_batches(Path(path), m.schema, m.batches())
        except Exception as e:
            if not memory_limit or "out of memory" not in str(e).lower():
                raise
        with _Merge(root, memory_limit=None, threads=threads) as m:  # one part is too large for the cap
            return write_parquet_batches(Path(path), m.schema, m.batches())


def load(path: str | Path) -> pd.DataFrame:
    """The atlas table: read ``atlas.parquet`` (a file, or in a directory) or merge the directory."""
    p = Path(path)
    if p.is_file():
        df = pd.read_parquet(p)
    elif (p / ATLAS_FILE).is_file():
        df = pd.read_parquet(p / ATLAS_FILE)
    else:
        return merge(p)
    return df if "sequence" in df.columns else add_labels(df)


# --------------------------------------------------------------------------- tables


def rank(df: pd.DataFrame, by: Sequence[str] = ("sequence",)) -> pd.DataFrame:
    """Sequences (or any grouping) ranked by agreement rate, best first.

    Columns: the ``by`` keys, ``agenda`` and ``first_mover`` when they are constant in a
    group, ``n`` runs, ``agreements``, ``rate`` with its 95% Wilson interval ``low`` /
    ``high``, ``median_rounds`` to agreement and ``term_<issue>``: the mean agreed value
    of each issue (NaN where no run agreed). Ties are broken by the interval's lower
    end, then by name, so the order is deterministic.
    """
    by = list(by)
    terms = [c for c in df.columns if c.startswith("term_")]
    g = df.groupby(by, sort=True, dropna=False)
    out = g["agreement"].agg(n="size", agreements="sum").reset_index()
    out["agreements"] = out["agreements"].astype(int)
    out["rate"] = out["agreements"] / out["n"]
    ci = [wilson(int(k), int(n)) for k, n in zip(out["agreements"], out["n"], strict=True)]
    out["low"] = [c[0] for c in ci]
    out["high"] = [c[1] for c in ci]
    ok = df[df["agreement"]]
    if len(ok):
        agg = (
            ok.groupby(by, sort=True, dropna=False)[["rounds", *terms]]
            .agg({"rounds": "median", **{t: "mean" for t in terms}})
            .rename(columns={"rounds": "median_rounds"})
        )
        out = out.merge(agg.reset_index(), on=by, how="left")
    else:
        out["median_rounds"] = np.nan
        for t in terms:
            out[t] = np.nan
    for extra in ("agenda", "first_mover"):
        if extra not in by and extra in df.columns:
            first = g[extra].agg(lambda s: s.iloc[0] if s.nunique() == 1 else "(mixed)").reset_index(drop=True)
            out.insert(len(by), extra, first.to_numpy())
    out = out.sort_values(["rate", "low", *by], ascending=[False, False] + [True] * len(by), kind="mergesort")
    out = out.reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def blocking(df: pd.DataFrame, by: str = "agenda") -> pd.DataFrame:
    """Under each agenda (or ``by``): the issue that blocked failed runs most often, and its share."""
    fail = df[~df["agreement"] & (df["blocking_issue"].astype(str) != "")]
    rows = []
    for key, grp in df.groupby(by, sort=True):
        f = fail[fail[by] == key]
        counts = f["blocking_issue"].value_counts()
        top = counts.index[0] if len(counts) else ""
        rows.append(
            {
                by: key,
                "label": grp["sequence"].iloc[0].rsplit(" / ", 1)[0] if "sequence" in grp else key,
                "runs": len(grp),
                "not_agreed": int((~grp["agreement"]).sum()),
                "blocking_issue": top,
                "share_of_failures": counts.iloc[0] / len(f) if len(f) else math.nan,
                "others": ", ".join(f"{k} {v}" for k, v in counts.iloc[1:].items()),
            }
        )
    return pd.DataFrame(rows)


RUN_ONLY = ("seed", "n_seeds", "quiet", "trajectories", "chunk_size", "output", "hydra")  # not the configuration


def _drop(node: Any, path: list[str]) -> None:
    """Remove the key at a dotted ``path`` from nested dicts (nothing if it is not there)."""
    for k in path[:-1]:
        node = node.get(k) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _first_difference(a: Any, b: Any, prefix: str = "") -> str | None:
    """The first key path where two configs differ (None if they are equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            key = f"{prefix}.{k}" if prefix else str(k)
            if k not in a or k not in b:
                return key
            d = _first_difference(a[k], b[k], key)
            if d is not None:
                return d
        return None
    return None if a == b else (prefix or "(the whole config)")


def mixing_problems(root: str | Path) -> list[str]:
    """Why the finished jobs under ``root`` are not one sweep of one configuration (empty if they are).

    - **Nested sweeps**: more than one ``multirun.yaml`` (one per Hydra sweep) under ``root``,
      as when the report is pointed at ``multirun/``: the same seeds would count again.
    - **The same run twice**: two jobs with the same configuration and seeds.
    - **Mixed configurations**: jobs (of Hydra sweeps: they record their overrides) whose
      configurations differ in a key that no job's overrides set, as when one block is run
      again after the scenario was edited.
    """
    import json

    root = Path(root)
    out = []
    sweeps = sorted(str(p.parent.relative_to(root)) for p in root.rglob("multirun.yaml"))
    if len(sweeps) > 1:
        shown = ", ".join(sweeps[:4]) + (f" and {len(sweeps) - 4} more" if len(sweeps) > 4 else "")
        out.append(f"{len(sweeps)} sweeps (folders with a multirun.yaml: {shown})")
    done = [d for d in job_dirs(root) if job_state(d) == "done"]
    recs = {str(d.relative_to(root)) if d != root else ".": read_json(d / JOB_FILE) or {} for d in done}
    seen: dict[tuple, str] = {}
    for job, rec in recs.items():
        key = (rec.get("config_hash"), rec.get("seed"), rec.get("n_seeds"))
        if key[0] is not None and key in seen:
            out.append(f"the same configuration and seeds in jobs {seen[key]} and {job} (counted twice)")
            break
        seen.setdefault(key, job)
    swept = {split_override(o)[0] for rec in recs.values() for o in rec.get("overrides") or []}
    swept.discard("experiment")
    if "block" in swept:
        swept.add("grid.agenda")
    prints: dict[str, tuple[str, dict]] = {}
    for job, rec in recs.items():
        if not rec.get("overrides") or not isinstance(rec.get("config"), dict):
            continue  # not a Hydra sweep's job: what was varied is not recorded
        cfg = json.loads(json.dumps(rec["config"]))
        for k in (*RUN_ONLY, *swept):
            _drop(cfg, k.split("."))
        prints.setdefault(json.dumps(cfg, sort_keys=True, default=str), (job, cfg))
    if len(prints) > 1:
        (j1, c1), (j2, c2) = list(prints.values())[:2]
        out.append(
            f"{len(prints)} configurations that differ beyond the swept keys: jobs {j1} and {j2} differ in "
            f"{_first_difference(c1, c2)}"
        )
    return out


def version_warnings(jobs_table: pd.DataFrame) -> list[str]:
    """Warnings (a line each) when a sweep directory mixes package versions, git commits or schema versions."""
    out = []
    for col, what in (
        ("version", "package versions"),
        ("git_commit", "git commits"),
        ("schema_version", "schema versions of runs.parquet (docs/columns.md)"),
    ):
        if col not in jobs_table.columns:
            continue
        vals = jobs_table[col].dropna()
        if vals.nunique() > 1:
            counts = ", ".join(f"{str(k)[:12]} ({v} jobs)" for k, v in vals.value_counts().items())
            out.append(f"this directory mixes {what}: {counts}")
    return out


# --------------------------------------------------------------------------- figures


def _save(fig: Any, path: str | Path, dpi: int = 120) -> list[Path]:
    """Write ``path`` as .png and .svg (no date in the SVG, so reruns give the same file), and close it."""
    import matplotlib.pyplot as plt

    base = Path(path)
    base = base.with_suffix("") if base.suffix.lower() in (".png", ".svg") else base
    base.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in (".png", ".svg"):
        p = base.with_name(base.name + ext)
        fig.savefig(p, dpi=dpi, bbox_inches="tight", metadata={"Date": None} if ext == ".svg" else None)
        out.append(p)
    plt.close(fig)
    return out


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_heatmap(df: pd.DataFrame, path: str | Path) -> list[Path]:
    """Heatmap of the agreement rate by sequence and condition on a [0, 1] scale
    (:func:`sim.plots.atlas_heatmap`); writes ``path`` as PNG and SVG and returns both paths."""
    from sim.plots import atlas_heatmap

    return _save(atlas_heatmap(df), path, dpi=150)


def plot_ranking(df: pd.DataFrame, path: str | Path) -> list[Path]:
    """Sequences ranked by agreement rate with 95% Wilson intervals (:func:`sim.plots.ranking_figure`)."""
    from sim.plots import ranking_figure

    return _save(ranking_figure(df), path, dpi=150)


def plot_terms(df: pd.DataFrame, path: str | Path) -> list[Path]:
    """Mean agreed terms by sequence with n and intervals, each issue's scale in its anchor words
    (:func:`sim.plots.terms_figure`; the scenario is the one the atlas ran)."""
    from sim.api import load_scenario
    from sim.plots import terms_figure

    name = str(df["scenario"].iloc[0]) if "scenario" in df.columns and len(df) else "sharm_el_sheikh_2025"
    return _save(terms_figure(df, load_scenario(name).sc), path, dpi=150)


# --------------------------------------------------------------------------- report


def _fmt_rate(row: pd.Series) -> str:
    return f"{row['rate']:.3f} [{row['low']:.3f}, {row['high']:.3f}]"


def ranking_text(r: pd.DataFrame, top: int | None = None) -> str:
    """The ranking as aligned text lines (all rows, or the first and last ``top``)."""
    terms = [c for c in r.columns if c.startswith("term_")]
    head = f"{'rank':>4}  {'sequence':<44} {'n':>6}  {'agreement [95% CI]':<24} {'rounds':>6}  " + " ".join(
        f"{t[5:][:6]:>6}" for t in terms
    )
    rows = r if top is None or len(r) <= 2 * top else pd.concat([r.head(top), r.tail(top)])
    lines = [head]
    prev = None
    for _, x in rows.iterrows():
        if prev is not None and x["rank"] != prev + 1:
            lines.append(f"{'...':>4}")
        prev = x["rank"]
        rounds = "-" if pd.isna(x["median_rounds"]) else f"{x['median_rounds']:.1f}"
        tv = " ".join("     -" if pd.isna(x[t]) else f"{x[t]:6.2f}" for t in terms)
        lines.append(f"{x['rank']:>4}  {str(x['sequence'])[:44]:<44} {x['n']:>6}  {_fmt_rate(x):<24} {rounds:>6}  {tv}")
    return "\n".join(lines)


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, x in df.iterrows():
        cells = []
        for c in cols:
            v = x[c]
            if isinstance(v, float):
                cells.append("" if math.isnan(v) else f"{v:.3f}")
            else:
                cells.append(str(v))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def _md_ranking(r: pd.DataFrame) -> str:
    terms = [c for c in r.columns if c.startswith("term_")]
    t = pd.DataFrame(
        {
            "rank": r["rank"],
            "sequence": r["sequence"].map(lambda s: f"`{s}`"),
            "n": r["n"],
            "agreement [95% CI]": r.apply(_fmt_rate, axis=1),
            "median rounds": r["median_rounds"],
        }
    )
    for c in terms:
        t[c[len("term_") :]] = r[c]
    return _md_table(t)


def _sweep_timing(root: Path, jt: pd.DataFrame) -> dict[str, Any]:
    done = jt[jt["state"] == "done"]
    out: dict[str, Any] = {
        "jobs": len(done),
        "runs": int(done["n_runs"].fillna(0).sum()),
        "job_time_s": float(done["wall_s"].fillna(0).sum()),
    }
    out["runs_per_s_per_job"] = out["runs"] / out["job_time_s"] if out["job_time_s"] > 0 else math.nan
    mem = done["peak_memory_mb"].dropna()
    out["peak_memory_mb_median"] = float(mem.median()) if len(mem) else math.nan
    out["peak_memory_mb_max"] = float(mem.max()) if len(mem) else math.nan
    plan = read_json(root / "sweep.json") or {}
    out["sweep_wall_s"] = plan.get("wall_s")
    return out


REPORT_COLUMNS = (
    "agenda",
    "first_mover",
    *CONDITIONS,
    "agreement",
    "rounds",
    "blocking_issue",
    "sequence",
    "condition",
)  # what the rankings, blocking table and figures read, with the term_<issue>


def _analysis_columns(path: Path) -> pd.DataFrame:
    """The columns of the atlas that the report reads (a batch at a time: less memory than at once)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path, pre_buffer=False)
    cols = [c for c in f.schema_arrow.names if c in REPORT_COLUMNS or c.startswith("term_")]
    schema = pa.schema([f.schema_arrow.field(c) for c in cols])
    t = pa.Table.from_batches(list(f.iter_batches(columns=cols, use_threads=False)), schema=schema)
    return t.to_pandas(self_destruct=True, split_blocks=True)


class Report(dict):
    """What :func:`write_report` returns: a dict whose ``atlas`` is read from the file when first asked for."""

    def __missing__(self, key: str) -> Any:
        if key == "atlas" and "atlas_path" in self:
            self["atlas"] = df = pd.read_parquet(self["atlas_path"])
            return df
        raise KeyError(key)


def write_report(
    root: str | Path, out: str | Path | None = None, figures: bool = True, top: int = 5, allow_mixed: bool = False
) -> dict[str, Any]:
    """Merge a sweep, write ``atlas.parquet``, ``ranking.csv``, the figures and ``report.md``.

    The merge goes from the jobs' files to ``atlas.parquet`` without the whole table in
    Python (:func:`merge_to`); the rankings and figures read back only the columns they need.

    Args:
        root: the sweep directory (``hydra.sweep.dir``).
        out: where to write (default: ``root``).
        figures: draw the PNG and SVG figures.
        top: how many best and worst sequences (and best cells) ``report.md`` lists first.
        allow_mixed: merge even what :func:`mixing_problems` finds (nested sweeps, the same
            runs twice, configurations that differ beyond the swept keys); each is then a warning.

    Raises:
        ConfigError: naming ``root``, for a mix of sweeps or configurations (unless
            ``allow_mixed``), a directory without finished jobs, or an output that cannot
            be written. ``atlas.parquet`` is written to a temporary file and renamed, so a
            failure never leaves a partial one.

    Returns:
        A dict with the tables (``ranking``, ``cells``, ``blocking``, ``jobs``), ``warnings``,
        the paths written (``files``), ``n_runs`` and ``atlas_path``; ``atlas`` (the whole
        table) is read from ``atlas.parquet`` when first asked for.
    """
    root = Path(root)
    out = Path(out) if out is not None else root
    jt = jobs(root)
    mixed = mixing_problems(root)
    if mixed and not allow_mixed:
        raise ConfigError(
            str(root), "DIR", "one sweep of one configuration (pass --allow-mixed to merge anyway)", "; ".join(mixed)
        )
    atlas = out / ATLAS_FILE
    n_runs = merge_to(root, atlas)
    df = _analysis_columns(atlas)
    r = rank(df)
    cells = rank(df, by=["sequence", "condition"])
    bl = blocking(df)
    warnings = _merge_warnings(jt, mixed)
    files = [atlas]
    ranking_csv = out / "ranking.csv"
    write_text(ranking_csv, r.to_csv(index=False))
    files.append(ranking_csv)
    figs = _report_figures(df, out) if figures else {}
    files += [p for ps in figs.values() for p in ps]
    timing = _sweep_timing(root, jt)
    md = _report_markdown(
        root.name,
        out,
        top,
        df=df,
        ranking=r,
        cells=cells,
        blocking_table=bl,
        jobs_table=jt,
        warnings=warnings,
        figs=figs,
        timing=timing,
    )
    report = out / "report.md"
    write_text(report, "\n".join(md))
    files.append(report)
    return Report(
        {
            "ranking": r,
            "cells": cells,
            "blocking": bl,
            "jobs": jt,
            "warnings": warnings,
            "timing": timing,
            "files": files,
            "n_runs": n_runs,
            "atlas_path": atlas,
        }
    )


def _merge_warnings(jt: pd.DataFrame, mixed: list[str]) -> list[str]:
    """What the reader of a report should know about the merge: versions, mixing, damaged jobs."""
    warnings = version_warnings(jt) + [f"merged although it mixes: {m}" for m in mixed]
    damaged = jt[jt["state"] == "damaged"]
    warnings += [f"job {j} not merged: {e}" for j, e in zip(damaged["job"], damaged["error"], strict=True)]
    return warnings


def _report_figures(df: pd.DataFrame, out: Path) -> dict[str, list[Path]]:
    """The report's three figures under ``out/figures``, each as a PNG and an SVG path."""
    return {
        "heatmap": plot_heatmap(df, out / "figures" / "heatmap"),
        "ranking": plot_ranking(df, out / "figures" / "ranking"),
        "terms": plot_terms(df, out / "figures" / "terms"),
    }


def _report_markdown(
    name: str,
    out: Path,
    top: int,
    *,
    df: pd.DataFrame,
    ranking: pd.DataFrame,
    cells: pd.DataFrame,
    blocking_table: pd.DataFrame,
    jobs_table: pd.DataFrame,
    warnings: list[str],
    figs: dict[str, list[Path]],
    timing: dict[str, Any],
) -> list[str]:
    """The lines of ``report.md``: summary, warnings, failures, rankings, figures, blocking issues, timing."""
    r, jt = ranking, jobs_table
    failed = jt[jt["state"] == "failed"]
    incomplete = jt[jt["state"] == "incomplete"]
    md = [f"# Sweep report: {name}", ""]
    md += [
        f"{timing['jobs']} jobs, {timing['runs']} runs, {r.shape[0]} sequences, "
        f"{df['condition'].nunique()} conditions. Agreement rates with 95% Wilson intervals; "
        "terms are means over the runs that agreed, on each issue's [0, 1] scale.",
        "",
    ]
    for w in warnings:
        md += [f"> **Warning:** {w}", ""]
    if len(failed) or len(incomplete):
        md += ["## Failed and incomplete jobs", ""]
        md += [f"- FAILED `{j}`: {e}" for j, e in zip(failed["job"], failed["error"], strict=True)]
        md += [f"- INCOMPLETE `{j}`" for j in incomplete["job"]]
        md += [""]
    if len(r) > 2 * top:
        md += [
            "## Ranking of sequences",
            "",
            f"Best {top}:",
            "",
            _md_ranking(r.head(top)),
            "",
            f"Worst {top}:",
            "",
            _md_ranking(r.tail(top)),
            "",
        ]
    if figs:
        rel = {k: [p.relative_to(out) for p in v] for k, v in figs.items()}
        md += [
            f"![Sequences ranked by agreement rate]({rel['ranking'][0]}) ([SVG]({rel['ranking'][1]}))",
            "",
            f"![Agreement rate by sequence and condition]({rel['heatmap'][0]}) ([SVG]({rel['heatmap'][1]}))",
            "",
            f"![Terms of agreement by sequence]({rel['terms'][0]}) ([SVG]({rel['terms'][1]}))",
            "",
        ]
    md += [
        f"## Best {top} cells (sequence under one condition)",
        "",
        _md_table(
            cells.head(top).assign(**{"agreement [95% CI]": cells.head(top).apply(_fmt_rate, axis=1)})[
                ["rank", "sequence", "condition", "n", "agreement [95% CI]", "median_rounds"]
            ]
        ),
        "",
    ]
    md += [
        "## The issue that blocks most often, by agenda",
        "",
        _md_table(blocking_table[["label", "runs", "not_agreed", "blocking_issue", "share_of_failures"]]),
        "",
    ]
    md += ["## Full ranking", "", _md_ranking(r), ""]
    md += [
        "## Timing",
        "",
        f"- summed job time {timing['job_time_s']:.1f} s, {timing['runs_per_s_per_job']:.0f} runs/s per job",
        f"- peak memory per job: median {timing['peak_memory_mb_median']:.0f} MB, "
        f"max {timing['peak_memory_mb_max']:.0f} MB",
    ]
    if timing["sweep_wall_s"]:
        md += [f"- sweep wall time {timing['sweep_wall_s']:.1f} s (from sweep.json)"]
    md += [
        "",
        "Label legend: sequences of one-issue phases are written as the phases in order, issues "
        "abbreviated to their first letters, `+` joining issues of one phase; `/ X` says who opens each phase.",
        "",
    ]
    return md


def main(argv: list[str] | None = None) -> int:
    """``negotiate-report DIR``: merge, rank, plot and list failures of a sweep directory."""
    ap = argparse.ArgumentParser(prog="negotiate-report", description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="a sweep directory (hydra.sweep.dir), e.g. multirun/sequence_atlas")
    ap.add_argument("--out", help="where to write atlas.parquet, figures/ and report.md (default: DIR)")
    ap.add_argument("--top", type=int, default=None, help="print only the best and worst N sequences")
    ap.add_argument("--no-figures", action="store_true", help="skip the PNG and SVG figures")
    ap.add_argument(
        "--allow-mixed",
        action="store_true",
        help="merge even nested sweeps, repeated runs or configurations that differ beyond the swept keys",
    )
    a = ap.parse_args(argv)
    root = Path(a.dir)
    if not root.is_dir():
        print(f"negotiate-report: error: {root}: expected a sweep directory, got none", file=sys.stderr)
        return 2
    try:
        res = write_report(root, a.out, figures=not a.no_figures, allow_mixed=a.allow_mixed)
    except ConfigError as e:
        print(f"negotiate-report: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("negotiate-report: interrupted: atlas.parquet is written whole or not at all", file=sys.stderr)
        return 130
    for w in res["warnings"]:
        print(f"WARNING: {w}", file=sys.stderr)
    print(f"Ranking of sequences by agreement rate ({res['n_runs']} runs):")
    print(ranking_text(res["ranking"], a.top))
    print("\nThe issue that blocks most often, by agenda:")
    for _, b in res["blocking"].iterrows():
        share = "" if pd.isna(b["share_of_failures"]) else f" ({b['share_of_failures']:.0%} of failed runs)"
        print(f"  {b['label']:<40} {b['blocking_issue'] or '-'}{share}")
    jt = res["jobs"]
    bad = jt[jt["state"] != "done"]
    print(
        f"\nJobs: {int((jt['state'] == 'done').sum())} done, {int((jt['state'] == 'failed').sum())} failed, "
        f"{int((jt['state'] == 'incomplete').sum())} incomplete, {int((jt['state'] == 'damaged').sum())} damaged"
    )
    for _, j in bad.iterrows():
        print(f"  {j['state'].upper()} {j['job']}" + (f": {j['error']}" if j["error"] else ""))
    print(f"\nWrote {', '.join(str(p) for p in res['files'] if p.suffix != '.svg')} (+ SVG)")
    return 0


def cli() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    cli()
