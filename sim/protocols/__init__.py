"""Protocols, one module each, in a registry keyed by the name used in config files."""

from sim.protocols import alternating, expected_utility, mediated, monotonic  # noqa: F401  (registration)
from sim.protocols.base import PROTOCOLS, Protocol, register

__all__ = ["PROTOCOLS", "Protocol", "register"]
