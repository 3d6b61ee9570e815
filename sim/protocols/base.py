"""What a protocol is, and the registry that names them.

A protocol is a plain object that advances a batch of negotiations by one round:
``step(static, batch, t)``. It reads and writes the arrays of :class:`sim.kernel.Batch`
and uses the shared pieces of :mod:`sim.kernel` (evaluation, concession, influence,
time, shocks), so each protocol is only the part that differs: who proposes what, and
when a text counts as agreed. Protocols import neither mesa nor hydra.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from sim.kernel import Batch, Static


class Protocol:
    """Base class: subclasses set ``name``, ``classifier`` and implement ``step``."""

    name: ClassVar[str] = ""
    classifier: ClassVar[dict[str, Any]] = {}

    @classmethod
    def check(cls, static: Static) -> str | None:
        """Why this protocol cannot run the scenario, or None if it can."""
        return None

    @classmethod
    def init(cls, st: Static, b: Batch) -> None:
        """Add the protocol's own per-run state to a new batch (``b.add``); none by default."""

    @classmethod
    def last_try(cls, st: Static, b: Batch, rows: np.ndarray) -> np.ndarray:
        """Before ``rows`` end in a stalemate: can a text every principal accepts still be found?

        Protocols whose texts follow from the demands alone have nothing more to try (the
        default); the mediated protocol searches on (:meth:`Mediated.last_try`).
        """
        return np.zeros(rows.size, bool)

    @classmethod
    def step(cls, st: Static, b: Batch, t: int) -> None:
        """Advance every running run of ``b`` by round ``t`` (in place)."""
        raise NotImplementedError


PROTOCOLS: dict[str, type[Protocol]] = {}


def register(cls: type[Protocol]) -> type[Protocol]:
    """Class decorator: add a protocol to the registry under its ``name``."""
    PROTOCOLS[cls.name] = cls
    return cls
