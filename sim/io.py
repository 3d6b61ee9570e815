"""Writing results: atomically, so that a killed job never leaves a partial file.

Every file is written to a temporary name in the same directory, flushed to disk and
renamed into place; a reader sees either the whole file or none. A job killed while
writing leaves only a hidden ``.<name>.<random>.tmp``, removed the next time that file
is written. A full disk or an unwritable folder becomes a :class:`ConfigError` naming
the file, so the command prints one line instead of a traceback.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ConfigError


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


def _clear_stale(path: Path) -> None:
    """Remove temporary files a killed writer of ``path`` left behind (one writer per file)."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        tmp.unlink(missing_ok=True)


def _atomic(path: Path, write) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _clear_stale(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise ConfigError(str(path.parent), "output", "a writable output directory", e.strerror) from e
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(str(path), "output", "room to write the results (disk full or unwritable?)",
                          e.strerror) from e
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    blob = (json.dumps(data, indent=2, sort_keys=False) + "\n").encode()
    _atomic(path, lambda fh: fh.write(blob))


def write_parquet(path: Path, table: pd.DataFrame) -> None:
    """Write ``table`` as Parquet, atomically."""
    _atomic(path, lambda fh: table.to_parquet(fh, index=False))


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8), atomically."""
    _atomic(path, lambda fh: fh.write(text.encode()))
