"""What a concession strategy is, and the registry that names them.

An actor's **aspiration** is the utility it currently insists on. Every strategy here
moves one number per actor and run, ``frac``: the fraction of the actor's range, from
its reservation value up to the best it could get in the current phase, that it still
insists on (1 = its ideal, 0 = its reservation value). Working in fractions keeps the
strategies independent of the scenario's scale, and lets one vectorised function serve
one actor's row in the Mesa model and a batch of 100,000 runs alike.

A strategy is a class with a ``name`` (the key used in config files), a small
``classifier`` dict in the manner of the Axelrod library, default ``params``, and a
``update(ctx, p)`` that returns the new ``frac`` for every run and actor; ``p`` holds
the parameters as ``[A]`` arrays. The kernel applies each family that appears in the
scenario to the whole batch and keeps the rows of the actors that use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np


@dataclass
class ConcessionContext:
    """What a strategy may look at in a round (arrays are ``[R, A]`` unless noted)."""

    t: np.ndarray | int  # each actor's clock: rounds of talks in the current phase ([R, A] or a number)
    horizon: np.ndarray | int  # [A] each actor's patience: the clock value by which it has conceded all
    frac: np.ndarray  # current fraction insisted on
    frac_prev: np.ndarray  # fraction one round earlier
    eu: np.ndarray  # expected utility of the current text
    aspiration: np.ndarray
    reservation_value: np.ndarray
    principal: np.ndarray  # [A] bool
    # Set only by protocols that have them (alternating offers): None elsewhere.
    discount: np.ndarray | None = None  # [A] per-round discount factors
    proposer: np.ndarray | None = None  # [R, A] bool: who proposes this round


class Strategy:
    """Base class: subclasses set ``name``, ``classifier``, ``params`` and ``update``."""

    name: ClassVar[str] = ""
    classifier: ClassVar[dict[str, Any]] = {}
    params: ClassVar[dict[str, float]] = {}
    bounds: ClassVar[dict[str, tuple[float, float]]] = {}
    # True if ``update`` reads only ``ctx.t`` and ``ctx.horizon``: the kernel then computes
    # the fraction at each clock value once per configuration instead of every round.
    time_only: ClassVar[bool] = False

    @classmethod
    def check_params(cls, given: Mapping, fail: Callable[[str, str, Any], Exception]) -> dict[str, float]:
        """Fill defaults and check ranges; ``fail(key, expected, got)`` builds the error."""
        out = dict(cls.params)
        for k, v in given.items():
            if k not in cls.params:
                raise fail(k, f"a parameter of strategy {cls.name} ({', '.join(cls.params) or 'none'})", k)
            if isinstance(v, Mapping):
                v = v.get("value")
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise fail(k, "a number", v)
            lo, hi = cls.bounds.get(k, (-np.inf, np.inf))
            if not lo <= v <= hi:
                raise fail(k, f"a number in [{lo:g}, {hi:g}]", v)
            out[k] = float(v)
        return out

    @staticmethod
    def update(ctx: ConcessionContext, p: Mapping[str, np.ndarray]) -> np.ndarray:
        """The new demand fractions ``[R, A]`` (1: the actor's best, 0: its value of no deal)
        from the round's context and the strategy's parameters ``p`` (each ``[A]``)."""
        raise NotImplementedError


STRATEGIES: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: add a strategy to the registry under its ``name``."""
    STRATEGIES[cls.name] = cls
    return cls
