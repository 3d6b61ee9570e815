"""Write the config reference (docs/config.md) from the schemas in sim/config.py.

Every key a configuration may set is a field of a dataclass in :mod:`sim.config`
(registered in Hydra's ConfigStore, so a misspelt key fails when the config is composed).
This script walks those dataclasses from :class:`sim.config.RunConf` down and writes one
table per section: the dotted key, its type, its default and what it means. The meaning
is the field's comment in sim/config.py where it has one, else the short text below;
per-actor numbers also show their allowed range and the value used when a scenario gives
none (``sim.scenario.ACTOR_NUMBERS``). ``make docs`` runs it, and a test checks that the
committed page is what it writes.

    python scripts/config_reference.py docs/config.md     # write the page
    python scripts/config_reference.py                    # print it
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import sys
import tokenize
import typing
from pathlib import Path

from omegaconf import MISSING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import config as schema  # noqa: E402
from sim.scenario import ACTOR_NUMBERS, DEFAULT_PATIENCE  # noqa: E402

# What a field means, where sim/config.py has no comment on it (keyed "Class.field").
MEANING = {
    "RunConf.scenario": "the scenario (`scenario=<name>` picks a file of conf/scenario/)",
    "RunConf.agenda": "the agenda (`agenda=<name>`: conf/agenda/, or a generated `order_NN`)",
    "RunConf.protocol": "the protocol (`protocol=<name>`: conf/protocol/)",
    "RunConf.conditions": "sweep knobs applied on top of the scenario",
    "RunConf.grid": "conditions crossed inside one job",
    "RunConf.design": "a design table to run instead of one point",
    "RunConf.seed": "the first seed; seeds `seed` ... `seed + n_seeds - 1` run",
    "RunConf.n_seeds": "how many seeds to run (each its own random stream)",
    "RunConf.chunk_size": "runs per batch in memory (a large `n_seeds` runs in chunks)",
    "RunConf.trajectories": "record the round-by-round trajectory (Mesa DataCollector)",
    "RunConf.quiet": "print no summary",
    "RunConf.output": "where a run writes its files (Hydra's output directory by default)",
    "ScenarioConf.name": "the scenario's name (its file's stem)",
    "ScenarioConf.title": "a title for summaries and the dashboard",
    "ScenarioConf.description": "free text",
    "ScenarioConf.utility": "per-issue loss from the ideal point: `linear` or `quadratic`",
    "ScenarioConf.issues": "the issues of the deal, by name",
    "ScenarioConf.actors": "the actors, by name",
    "ScenarioConf.channels": "who talks to whom (the influence network)",
    "ScenarioConf.self_weight": "an actor's weight on its own view in the influence step",
    "ScenarioConf.pressure_rate": "how fast leverage lowers a value of no deal, per round",
    "ScenarioConf.commitment": "the commitment problem",
    "ScenarioConf.trust": "trust between the principals",
    "ScenarioConf.shocks": "random events each round",
    "ScenarioConf.uncertainty": "per-run noise on judged inputs",
    "IssueConf.description": "free text",
    "IssueConf.core": "a core issue (generated orders permute the core issues)",
    "IssueConf.anchors": "labelled points on the [0, 1] scale",
    "AnchorConf.at": "where on the scale, in [0, 1]",
    "AnchorConf.label": "what that point means",
    "ActorConf.label": "a display name",
    "ActorConf.roles": "`principal`, `mediator`, `guarantor` (one or more)",
    "ActorConf.position": "ideal point per issue, in [0, 1]",
    "ActorConf.salience": "weight per issue (normalised over the open issues)",
    "ActorConf.red_lines": "bounds the actor will not accept a text beyond",
    "ActorConf.reservation_value": "value of no deal (BATNA), on the actor's utility scale",
    "ActorConf.delay_cost": "how much the value of no deal falls per round of the actor's clock",
    "ActorConf.deadline": "round after which the value of no deal drops (null: none)",
    "ActorConf.deadline_drop": "how far it drops at the deadline",
    "ActorConf.stubbornness": "Friedkin-Johnsen weight on the actor's initial view",
    "ActorConf.leverage": "pressure on other actors, by name",
    "ActorConf.credibility": "a guarantor's credibility",
    "ActorConf.renege_base": "chance of reneging with no guarantees and no trust",
    "ActorConf.bias": "a mediator's pull toward its declared `target`",
    "ActorConf.discount": "per-round discount factor (alternating offers)",
    "ActorConf.strategy": "the concession strategy",
    "ActorConf.note": "free text",
    "StrategyConf.name": "registry name: time_dependent, hardliner, reciprocal, zeuthen, backward_induction",
    "StrategyConf.params": "the strategy's parameters (e.g. `e` for time_dependent)",
    "RedLineConf.issue": "the issue it bounds",
    "RedLineConf.at_least": "the text must be at least this",
    "RedLineConf.at_most": "the text must be at most this",
    "RedLineConf.unless": "binds only while this condition is not met",
    "RedLineConf.hard": "a veto (true) or a penalty (false)",
    "RedLineConf.strength": "a soft line's penalty: times the issue's worth, per rest of the scale crossed",
    "RedLineConf.source": "Q (quote), S (public reporting) or J (judgement)",
    "RedLineConf.note": "free text",
    "ConditionConf.issue": "the issue the condition reads",
    "ConditionConf.at_least": "met when the issue is at least this",
    "ConditionConf.at_most": "met when the issue is at most this",
    "ChannelConf.between": "the two actors",
    "ChannelConf.weight": "influence weight along the channel",
    "ChannelConf.source": "Q, S or J",
    "CommitmentConf.guarantee_issue": "the issue that carries guarantees (null: no commitment problem)",
    "CommitmentConf.strong_end": "which end of that issue is the strong guarantee: 0 or 1",
    "TrustConf.initial": "trust between the principals at the start, in [0, 1]",
    "TrustConf.gain_per_phase": "how much trust rises when a phase is implemented",
    "TrustConf.pairs": "initial trust per pair of actors, overriding `initial`",
    "ShockConf.rate": "chance of a shock each round",
    "ShockConf.trust_drop": "how much a shock lowers trust",
    "ShockConf.suspend_rounds": "rounds a suspension lasts",
    "UncertaintyConf.position": "standard deviation of the noise on positions",
    "UncertaintyConf.salience": "standard deviation of the noise on saliences",
    "UncertaintyConf.reservation_value": "standard deviation of the noise on values of no deal",
    "PhaseConf.issues": "the issues the phase opens",
    "PhaseConf.ranges": "bounds per issue within this phase, `[low, high]`",
    "AgendaConf.name": "the agenda's name",
    "AgendaConf.kind": "`comprehensive`, `phased` or `sequence`",
    "AgendaConf.phases": "the phases, in order (kind `phased`)",
    "AgendaConf.order": "one phase per entry (kind `sequence`)",
    "AgendaConf.permutation": "the K-th order of the core issues (set by `agenda=order_K`)",
    "AgendaConf.others": "where issues not in `order` go: opening, closing, first or last",
    "AgendaConf.first_mover": "who opens each phase: an actor, `mediators`, or a list (one per phase)",
    "ProtocolConf.name": "`mediated`, `alternating_offers`, `monotonic_concession`, `expected_utility`",
    "ConditionsConf.trust": "initial trust between the principals (null: the scenario's)",
    "ConditionsConf.credibility": "the guarantors' credibility (null: the scenario's)",
    "ConditionsConf.pressure": "multiplies the pressure of actors with leverage",
    "GridConf.trust": "trust levels crossed in one job",
    "GridConf.credibility": "credibility levels crossed in one job",
    "GridConf.pressure": "pressure levels crossed in one job",
    "DesignConf.file": "the design table (Parquet or CSV); null: no design",
    "DesignConf.block": "which block this job runs",
    "DesignConf.blocks": "how many blocks the rows are split into",
}


def field_comments(cls: type) -> dict[str, str]:
    """The trailing ``# comment`` of each field line in the class's source."""
    src = inspect.getsource(cls)
    out: dict[str, str] = {}
    line_field: dict[int, str] = {}
    for k, line in enumerate(src.splitlines(), 1):
        head = line.strip().split(":", 1)[0]
        if head.isidentifier() and ":" in line and not line.strip().startswith(("def ", "class ", "#")):
            line_field[k] = head
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type == tokenize.COMMENT and tok.start[0] in line_field:
            text = tok.string.lstrip("#").strip()
            if not text.startswith(("noqa", "type:")):
                out[line_field[tok.start[0]]] = text
    return out


def type_name(tp: typing.Any) -> str:
    """A short, readable type."""
    if tp is typing.Any:
        return "any"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        inner = [type_name(a) for a in args if a is not type(None)]
        return " or ".join(inner) + (" or null" if type(None) in args else "")
    if origin is list:
        return f"list of {type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping of {type_name(args[1])}" if args else "mapping"
    if dataclasses.is_dataclass(tp):
        return "section"
    return getattr(tp, "__name__", str(tp))


def default_text(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        if f.default is MISSING or f.default == MISSING:
            return "required"
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
        if dataclasses.is_dataclass(value):
            return ""
    else:
        return "required"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f"`{value}`" if value else '""'
    if isinstance(value, list | dict) and not value:
        return "[]" if isinstance(value, list) else "{}"
    return f"`{value}`"


def sections(cls: type, path: str, title: str) -> list[tuple[str, str, type]]:
    """(title, dotted path, dataclass) for cls and every dataclass below it, depth first."""
    out = [(title, path, cls)]
    hints = typing.get_type_hints(cls, vars(schema))
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        origin = typing.get_origin(tp)
        sub = f"{path}.{f.name}" if path else f.name
        if dataclasses.is_dataclass(tp):
            out += sections(tp, sub, sub)
        elif origin is list and args and dataclasses.is_dataclass(args[0]):
            out += sections(args[0], f"{sub}[i]", f"{sub}[i]")
        elif origin is dict and len(args) == 2 and dataclasses.is_dataclass(args[1]):
            key = {"issues": "<issue>", "actors": "<actor>"}.get(f.name, "<name>")
            out += sections(args[1], f"{sub}.{key}", f"{sub}.{key}")
        elif args and dataclasses.is_dataclass(args[0]):  # Optional[dataclass]
            out += sections(args[0], sub, sub)
    return out


def table(cls: type, path: str) -> list[str]:
    hints = typing.get_type_hints(cls, vars(schema))
    comments: dict[str, str] = {}
    for base in reversed(cls.__mro__):  # a protocol's schema inherits the fields every protocol has
        if dataclasses.is_dataclass(base):
            comments.update(field_comments(base))
    rows = ["| key | type | default | meaning |", "|:--|:--|:--|:--|"]
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        key = f"{path}.{f.name}" if path else f.name
        meaning = (
            comments.get(f.name)
            or MEANING.get(f"{cls.__name__}.{f.name}", "")
            or MEANING.get(f"ProtocolConf.{f.name}", "")
        )
        default = default_text(f)
        if cls is schema.ActorConf and f.name in ACTOR_NUMBERS:
            lo, hi, when_absent = ACTOR_NUMBERS[f.name]
            default = f"`{when_absent}`"
            meaning += f" (in [{lo}, {hi:g}])"
        if cls is schema.ActorConf and f.name == "patience":
            default = f"`{DEFAULT_PATIENCE}`"
        kind = type_name(tp)
        if kind == "section":
            kind = "section (below)"
        elif typing.get_origin(tp) in (list, dict) and any(dataclasses.is_dataclass(a) for a in typing.get_args(tp)):
            kind += " (below)"
        rows.append(f"| `{key}` | {kind} | {default} | {meaning.replace('|', '/')} |")
    return rows


def render() -> str:
    out = [
        "# Config reference",
        "",
        "<!-- Generated by scripts/config_reference.py from sim/config.py: do not edit by hand. -->",
        "",
        "Every key a run may set, from the schemas in `sim/config.py` (Hydra structured configs:",
        "a key that is not here fails when the config is composed, naming the key and the keys",
        "that exist). Set any of them on the command line as `key=value` with its dotted path",
        "(`negotiate scenario.shocks.rate=0 n_seeds=200`), in a scenario, agenda or protocol",
        "file (conf/), or with `load_config([...])` in Python. `<actor>`, `<issue>` and `<name>`",
        "stand for names from the scenario; `[i]` for an entry of a list.",
        "",
        "A number in a scenario may be written plain (`0.8`) or with its source",
        "(`{value: 0.8, source: J}`: `Q` a quote from the seed article, `S` public reporting,",
        "`J` a judgement); fields of type `any` accept both. `null` keeps the scenario's value or",
        "the default the code documents. Ranges are checked when the scenario is built; a value",
        "out of range stops the run with one line naming the file, the key and what was expected.",
        "",
    ]
    for title, path, cls in sections(schema.RunConf, "", "Run"):
        doc = inspect.getdoc(cls) or ""
        first = " ".join(doc.split("\n\n")[0].split())
        heading = f"## `{title}`" if path else "## Top level"
        out += [heading, "", f"`{cls.__name__}`: {first}", "", *table(cls, path), ""]
    out += ["## `protocol`", "", "Each protocol has its own schema: the keys of one are errors in another.", ""]
    for name, proto in schema.PROTOCOL_SCHEMAS.items():
        for _title, path, cls in sections(proto, "protocol", f"protocol={name}"):
            doc = inspect.getdoc(cls) or ""
            first = " ".join(doc.split("\n\n")[0].split())
            heading = f"### `protocol={name}`" if path == "protocol" else f"### `{path}` (`protocol={name}`)"
            out += [heading, "", f"`{cls.__name__}`: {first}", "", *table(cls, path), ""]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if argv:
        Path(argv[0]).write_text(text)
        print(f"wrote {argv[0]}")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
