"""Writing results: atomically, so that a killed job never leaves a partial file.

Every file is written to a temporary name in the same directory, flushed to disk and
renamed into place; a reader sees either the whole file or none. A job killed while
writing leaves only a hidden ``.<name>.<pid>.<random>.tmp``, removed the next time that
file is written (unless process ``pid`` is still running: two writers never delete each
other's temporary files). A full disk or an unwritable folder becomes a :class:`ConfigError` naming
the file, so the command prints one line instead of a traceback.

Files get the mode the umask gives a new file (0644 under the usual 022), like any file
``open()`` creates, so a group can read a sweep: the temporary file is made 0600 and set
to that mode before it is renamed into place.

Parquet files carry key-value metadata: ``negotiation_sim.schema_version``
(:data:`SCHEMA_VERSION`, raised whenever a column changes name, type or meaning),
``negotiation_sim.package_version`` and ``negotiation_sim.columns``, a short JSON note
pointing to the column dictionary (``docs/columns.md``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import ConfigError

SCHEMA_VERSION = "2"  # of the run table and the atlas; files without it are older (version 1)
META_PREFIX = "negotiation_sim."
SCHEMA_KEY = f"{META_PREFIX}schema_version"
COLUMNS_NOTE = {
    "dictionary": "docs/columns.md",
    "note": "one row per run; per-actor and per-issue columns are named utility_<actor>, "
    "term_<issue>, ...; each column's type, unit and meaning are in the dictionary",
}
ROW_GROUP = 16_384  # rows per Parquet row group (fixed, so the same rows give the same bytes)


def check_writable_dir(path: str | Path, key: str, origin: str) -> None:
    """Fail early, with the clear error, if ``path`` cannot be created or written.

    Args:
        key: the config key that gave the directory (e.g. ``hydra.run.dir``).
        origin: where that value came from (a file, or a command-line override).
    """
    p = Path(path).absolute()
    probe = p
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(origin, key, f"a directory that can be created ({probe} is a file)", str(path))
    try:  # a file can be made where the directory will be (nothing is left behind)
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as e:
        raise ConfigError(origin, key, f"a writable directory ({e.strerror})", str(path)) from e


def _writer_alive(pid: int) -> bool:
    """Whether process ``pid`` (the writer named in a temporary file's name) is still running here."""
    if pid == os.getpid():
        return False  # this process writes one file at a time: an older temp file of its own is stale
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _clear_stale(path: Path) -> None:
    """Remove temporary files a killed writer of ``path`` left behind.

    A temporary file's name carries its writer's process id (``.<name>.<pid>.<random>.tmp``):
    one whose writer still runs is another process writing the same file at this moment,
    and is left alone.
    """
    prefix = f".{path.name}."
    for tmp in path.parent.glob(f"{prefix}*.tmp"):
        pid = tmp.name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and _writer_alive(int(pid)):
            continue
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    """The process's umask, read without changing it (``/proc``), else set and restored."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic(path: Path, write) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _clear_stale(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise ConfigError(str(path.parent), "output", "a writable output directory", e.strerror) from e
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fchmod(fh.fileno(), 0o666 & ~_umask())  # mkstemp makes 0600: take the umask's mode
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(
            str(path), "output", "room to write the results (disk full or unwritable?)", e.strerror
        ) from e
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    blob = (json.dumps(data, indent=2, sort_keys=False) + "\n").encode()
    _atomic(path, lambda fh: fh.write(blob))


def parquet_metadata(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The key-value metadata of the package's Parquet files (schema and package version, column note)."""
    from sim import __version__

    return {
        SCHEMA_KEY: SCHEMA_VERSION,
        f"{META_PREFIX}package_version": __version__,
        f"{META_PREFIX}columns": json.dumps(COLUMNS_NOTE, sort_keys=True),
        **(extra or {}),
    }


def _with_metadata(schema: pa.Schema, metadata: dict[str, str] | None) -> pa.Schema:
    meta = dict(schema.metadata or {})
    meta.update({k.encode(): v.encode() for k, v in parquet_metadata(metadata).items()})
    return schema.with_metadata(meta)


def _options(schema: pa.Schema) -> dict[str, Any]:
    """How the package writes Parquet: zstd, with dictionaries for the text columns only.

    On the run tables of the atlas this writes a third faster than pyarrow's default
    (snappy, a dictionary tried on every column) and makes files a sixth to a third smaller.
    """
    text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    return {"compression": "zstd", "use_dictionary": text}


def write_parquet(path: Path, table: pd.DataFrame, metadata: dict[str, str] | None = None) -> None:
    """Write ``table`` as Parquet with the package's metadata (:func:`parquet_metadata`), atomically.

    Rows go in row groups of :data:`ROW_GROUP`, so a reader that wants some rows (the
    merge of a sweep wants one part at a time) can skip the groups that hold none.

    Args:
        metadata: more key-value pairs (or overrides) for the file's metadata.
    """
    t = pa.Table.from_pandas(table, preserve_index=False)
    t = t.replace_schema_metadata(_with_metadata(t.schema, metadata).metadata)
    _atomic(path, lambda fh: pq.write_table(t, fh, row_group_size=ROW_GROUP, **_options(t.schema)))


class SourceError(RuntimeError):
    """The rows to write could not be produced: a fault of their source, not of the file written."""


def _pull(batches: Iterable[pa.RecordBatch]) -> Iterable[pa.RecordBatch]:
    it = iter(batches)
    while True:
        try:
            b = next(it)
        except StopIteration:
            return
        except Exception as e:  # an OSError here is the reader's, not the disk's (see _atomic)
            raise SourceError(str(e)) from e
        yield b


def write_parquet_batches(
    path: Path,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    metadata: dict[str, str] | None = None,
    row_group: int = ROW_GROUP,
) -> int:
    """Stream record batches into one Parquet file with the package's metadata, atomically.

    Rows are regrouped into row groups of ``row_group`` rows whatever the batches' sizes,
    so the same rows give the same bytes. Returns the number of rows written.

    Raises:
        SourceError: if getting a batch failed (the file is left as it was).
    """
    schema = _with_metadata(schema, metadata)
    n = 0

    def write(fh) -> None:
        nonlocal n
        with pq.ParquetWriter(fh, schema, **_options(schema)) as w:
            held: list[pa.RecordBatch] = []
            size = 0
            for b in _pull(batches):
                held.append(b)
                size += b.num_rows
                while size >= row_group:
                    t = pa.Table.from_batches(held, schema=schema)
                    w.write_table(t.slice(0, row_group), row_group_size=row_group)
                    rest = t.slice(row_group)
                    held, size = rest.to_batches(), rest.num_rows
                    n += row_group
            if size or n == 0:
                w.write_table(pa.Table.from_batches(held, schema=schema), row_group_size=row_group)
                n += size

    _atomic(path, write)
    return n


def read_parquet_schema(path: str | Path) -> pa.Schema:
    """A Parquet file's schema (with its metadata), from its footer only.

    Raises:
        ConfigError: naming the file, if it is missing or not Parquet (a damaged file).
    """
    try:
        return pq.read_schema(path)
    except (OSError, pa.ArrowException) as e:
        raise ConfigError(str(path), "file", "a readable Parquet file", str(e).splitlines()[0]) from e


def read_schema_version(path: str | Path) -> str | None:
    """``negotiation_sim.schema_version`` of a Parquet file; None if it has none (written before version 2).

    Raises:
        ConfigError: naming the file, if it cannot be read.
    """
    meta = read_parquet_schema(path).metadata or {}
    v = meta.get(SCHEMA_KEY.encode())
    return v.decode() if v is not None else None


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8), atomically."""
    _atomic(path, lambda fh: fh.write(text.encode()))
