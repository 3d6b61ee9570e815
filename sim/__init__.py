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

__all__ = ["ConfigError", "__version__", "build", "load_config", "load_scenario", "run"]

# Imported on first use (PEP 562), so that `negotiate --help` and the other light paths do
# not load numba, pandas and the kernel: ``from sim import run`` works as before.
_LAZY = {
    "build": "sim.api",
    "load_config": "sim.api",
    "load_scenario": "sim.api",
    "run": "sim.api",
    "ConfigError": "sim.errors",
}


def __getattr__(name: str):
    from importlib import import_module

    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        return import_module(f"{__name__}.{name}")  # a submodule, as eager imports made it available
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
