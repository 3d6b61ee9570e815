"""Concession strategies, one module per family, in a registry keyed by config name."""

from sim.strategies import backward_induction, reciprocal, time_dependent, zeuthen  # noqa: F401  (registration)
from sim.strategies.base import STRATEGIES, ConcessionContext, Strategy, register

__all__ = ["STRATEGIES", "ConcessionContext", "Strategy", "register"]
