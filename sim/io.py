"""Writing results: atomically, so that a killed job never leaves a partial file.

Every file is written to a temporary name in the same directory and renamed into
place; a reader sees either the whole file or none.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ConfigError


def _atomic(path: Path, write) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
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
    _atomic(path, lambda fh: fh.write(text.encode()))
