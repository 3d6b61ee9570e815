"""One kind of error for bad input, with the file, the key and what was expected.

Every check on a scenario, an agenda or a run raises :class:`ConfigError`. The
command-line tools print its one-line message and exit with status 2, so a student
who mistypes a key sees where and what, not a traceback. Errors raised by Hydra,
OmegaConf or the YAML parser while a configuration is composed are turned into a
:class:`ConfigError` here too (:func:`from_compose_error`), and an error about a value
that came from a command-line override says so (:func:`attribute_to_override`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

COMMAND_LINE = "command-line override"
ROOT = Path(__file__).resolve().parent.parent


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


def split_override(override: str) -> tuple[str, str | None]:
    """``"+a.b=1"`` -> ``("a.b", "1")``; ``"~a"`` -> ``("a", None)``; group overrides too."""
    body = override.lstrip("+~")
    key, sep, value = body.partition("=")
    key = key.split("@", 1)[0].replace("/", ".")
    return key.strip(), (value if sep else None)


def _covers(override_key: str, key: str) -> bool:
    """Whether ``key`` is the override's key or lies below it (``a.b`` covers ``a.b[2].c``;
    ``a.b.2.c``, as an override writes a list index, is ``a.b[2].c``)."""
    key = re.sub(r"\[(\d+)\]", r".\1", key)
    override_key = re.sub(r"\[(\d+)\]", r".\1", override_key)
    return key == override_key or key.startswith(override_key + ".") or key.startswith(override_key + "[")


def override_for(key: str, overrides: Iterable[str], groups: Sequence[str] = ()) -> str | None:
    """The last command-line override that set ``key`` (or a node above it), if any.

    Group choices (``agenda=sequence``) select a file rather than a value, so they do not
    count: the file that was selected is the right place to point at.
    """
    found = None
    for o in overrides:
        okey, value = split_override(o)
        if okey in groups or value is None:
            continue
        if _covers(okey, key):
            found = o
    return found


def attribute_to_override(
    err: ConfigError, overrides: Iterable[str] | None, groups: Sequence[str] = ("scenario", "agenda", "protocol")
) -> ConfigError:
    """Say that the bad value came from the command line when it did.

    ``conf/scenario/x.yaml: scenario.a.b: ...`` becomes
    ``command-line override scenario.a.b=1.4 (over conf/scenario/x.yaml): scenario.a.b: ...``.
    """
    if not overrides or err.file.startswith(COMMAND_LINE):
        return err
    o = override_for(err.key, overrides, groups)
    if o is None:
        return err
    where = f"{COMMAND_LINE} {o}"
    if (ROOT / err.file).is_file():
        where += f" (over {err.file})"
    new = ConfigError(where, err.key, err.expected, err.got)
    new.__cause__ = err
    return new


# -- errors raised while composing a configuration -------------------------------------------

_TYPE_WORDS = (
    (re.compile(r"could not be converted to Integer"), "an integer"),
    (re.compile(r"could not be converted to Float"), "a number"),
    (re.compile(r"is not a valid bool"), "true or false"),
    (re.compile(r"is not a ListConfig, list or tuple"), "a list, e.g. [a, b]"),
    (re.compile(r"is not a (DictConfig|dict|subclass of)"), "a mapping, e.g. {key: value}"),
    (re.compile(r"is not Optional"), "a value (not null)"),
    (re.compile(r"Invalid value '.*', expected one of"), "one of the allowed values"),
)


# the ranges of integer options, said when a value is not an integer at all (seed=1e20)
INTEGER_RANGES = {
    "seed": "[0, 9223372036854775807] (64 bits)",
    "protocol.steps_per_round": "[1, 1000]",
    "protocol.stall_rounds": "[1, 1000]",
}


def _chain(e: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = e
    while cur is not None and cur not in out:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _first_line(e: BaseException) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__


def _full_key(chain: list[BaseException]) -> str | None:
    for c in chain:
        key = getattr(c, "full_key", None)
        if key:
            return str(key)
    for c in chain:
        m = re.search(r"full_key: (\S+)", str(c))
        if m:
            return m.group(1)
    return None


def _expected_type(chain: list[BaseException]) -> str | None:
    for c in chain:
        text = str(c)
        if "$VALUE" in text:  # OmegaConf's message template, not for people
            continue
        for pattern, words in _TYPE_WORDS:
            if pattern.search(text):
                return words
    return None


def _schema_keys(schema: str) -> list[str]:
    """The field names of a config dataclass of :mod:`sim.config`, by class name."""
    import dataclasses

    import sim.config

    cls = getattr(sim.config, schema, None)
    return [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []


def _unparsable(overrides: Sequence[str]) -> str | None:
    """The first override Hydra's grammar rejects."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for o in overrides:
        try:
            parser.parse_overrides([o])
        except Exception:  # noqa: BLE001 - any failure means this one
            return o
    return None


def find_config_file(name: str, search_dirs: Sequence[str]) -> str:
    """``"protocol/badtype"`` -> the path of the YAML file in the first search dir that has it."""
    for d in search_dirs:
        p = Path(d) / f"{name}.yaml"
        if p.is_file():
            return str(p)
    return f"conf/{name}.yaml"


def summarize_options(options: Sequence[str]) -> list[str]:
    """Options sorted, with long numbered runs shortened: ``order_00 ... order_119 (120 options)``."""
    runs: dict[str, list[tuple[int, str]]] = {}
    plain = []
    for o in options:
        m = re.fullmatch(r"(.*?_)(\d+)", o)
        if m:
            runs.setdefault(m.group(1), []).append((int(m.group(2)), o))
        else:
            plain.append(o)
    out = list(plain)
    for items in runs.values():
        items.sort()
        if len(items) > 3:
            out.append(f"{items[0][1]} ... {items[-1][1]} ({len(items)} options)")
        else:
            out += [o for _, o in items]
    return sorted(out)


def group_options(group: str, search_dirs: Sequence[str]) -> list[str]:
    """The options of a config group: the YAML files of ``<dir>/<group>/`` in every search dir."""
    names = set()
    for d in search_dirs:
        names |= {p.stem for p in (Path(d) / group).glob("*.yaml")}
    return sorted(names)


def _yaml_error(chain: list[BaseException]) -> ConfigError | None:
    for c in chain:
        mark = getattr(c, "problem_mark", None)
        if mark is not None:
            problem = getattr(c, "problem", None) or _first_line(c)
            context = getattr(c, "context", None)
            hint = "; indent with spaces, not tabs" if "\\t" in str(problem) or "\t" in str(problem) else ""
            what = f"valid YAML ({problem}{'; ' + context if context else ''}{hint})"
            return ConfigError(str(mark.name), f"line {mark.line + 1}, column {mark.column + 1}", what)
    return None


def from_schema_error(e: BaseException, file: str) -> ConfigError:
    """A value of ``file`` that its schema refuses (a key it does not have, a wrong type), as one
    :class:`ConfigError` naming the file and the dotted key."""
    chain = _chain(e)
    key = _full_key(chain)
    expected = _expected_type(chain)
    if expected == "an integer" and key in INTEGER_RANGES:
        expected += f" in {INTEGER_RANGES[key]}"
    text = " ".join(str(c) for c in chain)
    km = re.search(r"Key '([^']+)' not in '(\w+)'", text)
    if km:
        name, schema = km.groups()
        return ConfigError(file, key or name, f"a key of {schema} ({', '.join(_schema_keys(schema))})", name)
    vm = re.search(r"Value '([^']*)'", text)
    return ConfigError(file, key or "?", expected or _first_line(chain[-1]), vm.group(1) if vm else None)


def from_compose_error(e: BaseException, overrides: Sequence[str], search_dirs: Sequence[str]) -> ConfigError:
    """One :class:`ConfigError` for anything that went wrong while composing a configuration.

    Args:
        e: the exception from Hydra's compose API (or the YAML parser beneath it).
        overrides: the command-line style overrides that were given.
        search_dirs: the config directories searched, to name files and list group options.
    """
    chain = _chain(e)
    for c in chain:  # a check that already said what is wrong (a file refused before parsing)
        if isinstance(c, ConfigError):
            return c
    y = _yaml_error(chain)
    if y is not None:
        return y
    text = str(e)

    # an unknown option of a config group: list the ones there are
    m = re.search(r"Could not find '([^']+)'", text)
    if m:
        missing = m.group(1)
        group, _, option = missing.rpartition("/")
        if group:
            opts = summarize_options(
                [
                    o
                    for o in (getattr(e, "options", None) or group_options(group, search_dirs))
                    if not o.endswith("_schema")
                ]
            )
            o = override_for(group, overrides) or next((x for x in overrides if split_override(x)[0] == group), None)
            where = f"{COMMAND_LINE} {o}" if o else "conf/config.yaml"
            return ConfigError(where, group, f"one of {', '.join(opts)} (the choices of the {group} group)", option)
        return ConfigError("command line", "--config-name", "an existing config file", missing)
    m = re.search(r"Cannot find primary config '([^']+)'", text)
    if m:
        return ConfigError(
            "command line",
            "--config-name",
            f"a config in the search path ({', '.join(group_options('.', search_dirs))})",
            m.group(1),
        )

    # the override itself does not parse
    if type(e).__name__ == "OverrideParseException":
        bad = _unparsable(overrides)
        return ConfigError(
            f"{COMMAND_LINE} {bad}" if bad else COMMAND_LINE,
            split_override(bad)[0] if bad else "key=value",
            f"key=value in Hydra's override syntax ({_first_line(e)})",
        )

    # a sweep (a, b or range(...)) given to a single run
    m = re.search(r"Ambiguous value for argument '([^']+)'", text)
    if m:
        o = m.group(1)
        okey, value = split_override(o)
        return ConfigError(
            f"{COMMAND_LINE} {o}", okey, "a single value (a comma-separated list is a sweep: run with -m)", value
        )

    key = _full_key(chain)
    expected = _expected_type(chain)
    if expected == "an integer" and key in INTEGER_RANGES:
        expected += f" in {INTEGER_RANGES[key]}"
    m = re.search(r"Error merging override (.+)", text)
    if m:
        o = m.group(1).strip()
        okey, value = split_override(o)
        return ConfigError(f"{COMMAND_LINE} {o}", key or okey, expected or _first_line(chain[-1]), value)

    # a value in a config file of the wrong type, or a key the schema does not have
    m = re.search(r"In '([^']+)': (\w+) raised while composing config", text)
    if m:
        file = find_config_file(m.group(1), search_dirs)
        bad_key = next(
            (c for c in chain if type(c).__name__ == "KeyValidationError" and getattr(c, "key", None) is not None), None
        )
        if bad_key is not None:  # `1:` in YAML is the integer 1, not a name
            return ConfigError(
                file,
                key or str(bad_key.full_key),
                f"a name as the key (text: write it in quotes, '{bad_key.key}':)",
                bad_key.key,
            )
        km = re.search(r"Key '([^']+)' not in '(\w+)'", text)
        if km:
            name, schema = km.groups()
            return ConfigError(file, key or name, f"a key of {schema} ({', '.join(_schema_keys(schema))})", name)
        vm = re.search(r"Value '([^']*)'", text)
        return ConfigError(file, key or "?", expected or _first_line(chain[-1]), vm.group(1) if vm else None)

    km = re.search(r"Key '([^']+)' not in '(\w+)'", " ".join(str(c) for c in chain))
    if km:
        name, schema = km.groups()
        o = next((x for x in overrides if "=" in x and name in split_override(x)[1]), None)
        where = split_override(o)[0] + f" ... {name}" if o else (key or name)
        return ConfigError(
            f"{COMMAND_LINE} {o}" if o else "conf",
            where,
            f"a key of {schema} ({', '.join(_schema_keys(schema))})",
            name,
        )
    msgs = []
    for c in chain:
        line = _first_line(c)
        if "$VALUE" not in line and line not in msgs:
            msgs.append(line)
    return ConfigError("command line / conf", key or "config", "a valid configuration (" + "; ".join(msgs[:2]) + ")")
