"""A simulator of mediated multi-party negotiations.

The engine is generic: a scenario is a YAML file (``conf/scenario/``), and the
default one is the October 2025 Sharm el-Sheikh talks. Use :func:`run` for many
seeds of a configuration, :class:`NegotiationModel` to step one negotiation as a
Mesa model, and the `negotiate` command for everything from the shell.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("negotiation-sim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

from sim.api import build, load_config, load_scenario, run  # noqa: E402
from sim.errors import ConfigError  # noqa: E402

__all__ = ["ConfigError", "__version__", "build", "load_config", "load_scenario", "run"]
