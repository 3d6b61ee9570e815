"""One kind of error for bad input, with the file, the key and what was expected.

Every check on a scenario, an agenda or a run raises :class:`ConfigError`. The
command-line tools print its one-line message and exit with status 2, so a student
who mistypes a key sees where and what, not a traceback.
"""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """Bad input: names the file, the key path and what was expected."""

    def __init__(self, file: str, key: str, expected: str, got: Any = None) -> None:
        self.file = file
        self.key = key
        self.expected = expected
        self.got = got
        msg = f"{file}: {key}: expected {expected}"
        if got is not None:
            msg += f", got {got!r}"
        super().__init__(msg)
