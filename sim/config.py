"""The shape of a configuration: what a scenario, an agenda and a run may say.

These dataclasses are registered in Hydra's ConfigStore, so a misspelt key in a
YAML file or on the command line fails when the config is composed, with the key's
full path. Values that are keyed by issue or actor names (positions, saliences,
leverage) are plain mappings here and are checked against the scenario's own lists
in :mod:`sim.scenario`, which names the file and the key in its message.

A number in a scenario may be written plain (``0.8``) or tagged with where it comes
from (``{value: 0.8, source: "J"}``): ``Q`` for a quote from the seed article, ``S``
for public reporting, ``J`` for a judgement. The tags travel with the numbers so a
student can see which inputs are facts and which are assumptions.

Every YAML file Hydra reads is checked before it is parsed (:func:`check_yaml_file`):
its size, its encoding, how deep it nests and how far its aliases expand.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from sim.errors import ConfigError

# -- limits on what is read ----------------------------------------------------------------------
MAX_YAML_BYTES = 1_000_000  # a config file (the largest in conf/ is under 20 KB)
MAX_YAML_DEPTH = 50  # levels of nested mappings and lists
MAX_YAML_NODES = 100_000  # values in a file once its aliases (*name) are expanded


@dataclass
class AnchorConf:
    """A labelled point on an issue's [0, 1] scale."""

    at: float = MISSING
    label: str = MISSING


@dataclass
class IssueConf:
    """One dimension of the deal."""

    description: str = ""
    core: bool = True
    anchors: list[AnchorConf] = field(default_factory=list)
    status_quo: Any = 0.5  # where the issue stands with no deal (tagged number)


@dataclass
class ConditionConf:
    """The condition under which a red line stops binding."""

    issue: str = MISSING
    at_least: Any = None
    at_most: Any = None


@dataclass
class RedLineConf:
    """A bound an actor will not accept a text beyond.

    ``at_least`` / ``at_most`` give the acceptable side of the bound. With ``unless``
    the red line binds only while the condition is not met (a linkage: withdrawal
    beyond a line only once disarmament passes a threshold). Soft red lines cost
    ``strength`` utility per unit of violation; hard ones veto the text.
    """

    issue: str = MISSING
    at_least: Any = None
    at_most: Any = None
    unless: ConditionConf | None = None
    hard: bool = False
    strength: Any = 1.0
    source: str = ""
    note: str = ""


@dataclass
class StrategyConf:
    """A concession strategy, by registry name, with its parameters."""

    name: str = "time_dependent"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ActorConf:
    """An actor: roles, preferences, outside option and behaviour."""

    label: str = ""
    roles: list[str] = field(default_factory=list)
    position: dict[str, Any] = field(default_factory=dict)
    salience: dict[str, Any] = field(default_factory=dict)
    red_lines: list[RedLineConf] = field(default_factory=list)
    reservation_value: Any = None
    delay_cost: Any = None
    deadline: Any = None
    deadline_drop: Any = None
    stubbornness: Any = None
    leverage: dict[str, Any] = field(default_factory=dict)
    credibility: Any = None
    renege_base: Any = None
    bias: Any = None
    discount: Any = None
    patience: Any = None  # rounds over which the actor concedes in each phase (its own clock)
    capability: Any = None  # the actor's weight in the baselines (default 1: all equal)
    clock_carry: Any = None  # share of its clock an actor carries into the next phase (0: a fresh clock)
    target: dict[str, Any] = field(default_factory=dict)  # a mediator's drafting target, by issue
    outside_option: list[Any] = field(default_factory=list)  # declared reasons its no-deal value moves
    strategy: StrategyConf = field(default_factory=StrategyConf)
    note: str = ""


@dataclass
class ChannelConf:
    """An undirected channel between two actors along which texts and influence pass."""

    between: list[str] = field(default_factory=list)
    weight: Any = 1.0
    source: str = ""


@dataclass
class CommitmentConf:
    """The commitment problem: which issue carries guarantees and which end is strong."""

    guarantee_issue: str | None = None
    strong_end: float = 0.0


@dataclass
class TrustConf:
    """Initial trust between principals and how it moves."""

    initial: Any = 0.5
    gain_per_phase: Any = 0.2
    pairs: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ShockConf:
    """Random events each round: a violation that hits trust, rarely a collapse."""

    rate: Any = 0.0
    trust_drop: Any = 0.3
    collapse: Any = 0.0  # chance that a shock ends the talks
    suspend: Any = 0.0  # chance that a shock suspends them for ``suspend_rounds`` rounds
    suspend_rounds: Any = None


@dataclass
class UncertaintyConf:
    """Per-run noise on judgement inputs (standard deviations), drawn from the run's seed."""

    position: Any = 0.0
    salience: Any = 0.0
    reservation_value: Any = 0.0


@dataclass
class ScenarioConf:
    """A negotiation: its issues, actors, channels and environment."""

    name: str = MISSING
    title: str = ""
    description: str = ""
    utility: str = "linear"
    issues: dict[str, IssueConf] = field(default_factory=dict)
    actors: dict[str, ActorConf] = field(default_factory=dict)
    channels: list[ChannelConf] = field(default_factory=list)
    self_weight: Any = 1.0
    pressure_rate: Any = 0.002
    commitment: CommitmentConf = field(default_factory=CommitmentConf)
    trust: TrustConf = field(default_factory=TrustConf)
    shocks: ShockConf = field(default_factory=ShockConf)
    uncertainty: UncertaintyConf = field(default_factory=UncertaintyConf)
    on_implement: dict[str, Any] = field(default_factory=dict)  # issue -> effects of implementing it
    no_deal_influence: bool = False  # do no-deal values also average along the channels?


@dataclass
class PhaseConf:
    """One phase of an agenda: the issues it opens, optionally bounded."""

    issues: list[str] = field(default_factory=list)
    ranges: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class AgendaConf:
    """The order of the talks.

    ``kind``: ``comprehensive`` (one phase, every issue), ``phased`` (``phases`` as
    written) or ``sequence`` (``order``: one phase per entry; issues not named go
    in an opening phase, a closing phase, or join the first or last phase, as
    ``others`` says). ``first_mover`` opens each phase: an actor's name,
    ``mediators``, or a list with one entry per phase.
    """

    name: str = "comprehensive"
    kind: str = "comprehensive"
    phases: list[PhaseConf] = field(default_factory=list)
    order: list[Any] = field(default_factory=list)
    permutation: int | None = None
    others: str = "opening"
    first_mover: Any = "mediators"


@dataclass
class ProtocolConf:
    """What every protocol has: its name, the observation window and the stalemate rule.

    Each protocol has its own schema below (``protocol=<name>`` picks the file, whose
    ``defaults`` name the schema); a key another protocol has is an error, not ignored.
    """

    name: str = "mediated"
    max_rounds: Any = None  # the observation window; null: twice the agenda's horizon (sim.kernel.horizon)
    stall_rounds: int = 10  # quiet rounds in a row that make a stalemate
    stall_tol: float = 1e-3  # a quiet round moves nothing by more than this


@dataclass
class MediatedConf(ProtocolConf):
    """``protocol=mediated``: the mediators revise one single negotiating text."""

    name: str = "mediated"
    rule: str = "nash"  # drafting rule: nash, kalai_smorodinsky, split_the_difference, biased
    step0: float = 0.05  # the mediators' first drafting step
    step_max: float = 0.2  # their largest drafting step
    steps_per_round: int = 1  # drafting steps per round
    params: dict[str, Any] = field(default_factory=dict)  # power: {actor: weight} for the biased rule


@dataclass
class AlternatingOffersConf(ProtocolConf):
    """``protocol=alternating_offers``: the principals propose in turn."""

    name: str = "alternating_offers"


@dataclass
class MonotonicParams:
    """Parameters of monotonic concession."""

    grid: int = 5  # values per open issue; the deal set has grid^issues deals (at most 20000)


@dataclass
class MonotonicConcessionConf(ProtocolConf):
    """``protocol=monotonic_concession``: every principal proposes from a discrete deal set and may only concede."""

    name: str = "monotonic_concession"
    params: MonotonicParams = field(default_factory=MonotonicParams)  # grid


@dataclass
class ExpectedUtilityParams:
    """Parameters of Bueno de Mesquita's expected-utility model."""

    variant: str = "scholz_2011"  # scholz_2011 (as their replication computes it) or textbook (as their text states)
    q: float = 1.0  # probability that the status quo holds when nobody challenges
    risk: float | None = None  # null: each actor's risk from its exposure; or a number in [0.5, 2]
    settle_rounds: int = 1  # rounds in a row the forecast must hold still to count as settled


@dataclass
class ExpectedUtilityConf(ProtocolConf):
    """``protocol=expected_utility``: Bueno de Mesquita's model, one issue at a time."""

    name: str = "expected_utility"
    params: ExpectedUtilityParams = field(default_factory=ExpectedUtilityParams)  # variant, q, risk, settle_rounds


# each protocol's schema, by the name its config file gives (``protocol.name``)
PROTOCOL_SCHEMAS: dict[str, type] = {
    "mediated": MediatedConf,
    "alternating_offers": AlternatingOffersConf,
    "monotonic_concession": MonotonicConcessionConf,
    "expected_utility": ExpectedUtilityConf,
}


@dataclass
class ConditionsConf:
    """Sweep knobs applied on top of the scenario (null keeps the scenario's value)."""

    trust: Any = None
    credibility: Any = None
    pressure: Any = 1.0


@dataclass
class GridConf:
    """Conditions crossed inside one job (every combination, every seed)."""

    trust: list[Any] = field(default_factory=list)
    credibility: list[Any] = field(default_factory=list)
    pressure: list[Any] = field(default_factory=list)
    first_mover: list[Any] = field(default_factory=list)  # agenda.first_mover values, one batch each
    agenda: list[str] = field(default_factory=list)  # agenda choices (order_03, phased_plan), run in turn


@dataclass
class DesignConf:
    """A design table to run instead of one point (``sim.design``): a Parquet or CSV file
    whose columns are dotted config paths and whose rows are points. ``blocks`` splits its
    rows into that many contiguous blocks and the job runs block ``block``, so a Hydra
    multirun over ``design.block`` spreads one design over processes and machines."""

    file: str | None = None
    block: int = 0
    blocks: int = 1


@dataclass
class RunConf:
    """Everything one `negotiate` invocation needs."""

    scenario: ScenarioConf = field(default_factory=ScenarioConf)
    agenda: AgendaConf = field(default_factory=AgendaConf)
    protocol: Any = None  # one of the schemas of PROTOCOL_SCHEMAS, chosen by the protocol file
    conditions: ConditionsConf = field(default_factory=ConditionsConf)
    grid: GridConf = field(default_factory=GridConf)
    design: DesignConf = field(default_factory=DesignConf)
    calibration: str | None = None  # forecast over a calibration's kept parameter sets (sim.forecast)
    calibration_set: str = "posterior"  # posterior (the kept sets) or nearest (those meeting the most targets)
    forecast_horizon: int | None = None  # rounds within which the next phase counts as agreed in a forecast
    block: str | None = None  # a key of `blocks`: experiments sweep it to split agendas into jobs
    blocks: dict[str, list[str]] = field(default_factory=dict)  # block name -> agenda choices
    seed: int = 0
    n_seeds: int = 1
    chunk_size: int = 5000
    trajectories: bool = False
    quiet: bool = False
    output: str = "."


def _show(path: Path) -> str:
    root = Path(__file__).resolve().parent.parent
    p = path.resolve()
    return str(p.relative_to(root)) if p.is_relative_to(root) else str(path)


def check_yaml_file(path: str | Path) -> None:
    """Refuse a YAML config file that could not be read safely, before anything parses it.

    Checked in this order, each in milliseconds whatever the file holds: its size
    (:data:`MAX_YAML_BYTES`), its encoding (UTF-8 text: not Latin-1, UTF-16 or binary),
    how deep its mappings and lists nest (:data:`MAX_YAML_DEPTH`; a deeper file would
    exhaust the parser's recursion) and how many values it holds once its aliases are
    expanded (:data:`MAX_YAML_NODES`; seven levels of nested anchors in 1.5 KB expand to
    millions). The last two read the file as a stream of YAML events, which needs no
    recursion and expands nothing. A file that is not valid YAML passes: the parser then
    reports it with its line and column.

    Raises:
        ConfigError: naming the file, where in it (a line) and the limit.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        return  # a missing file is reported by whoever wanted it
    _check_yaml_cached(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _check_yaml_cached(path_s: str, size: int, mtime_ns: int) -> None:
    del mtime_ns  # part of the cache key only
    path = Path(path_s)
    file = _show(path)
    if size > MAX_YAML_BYTES:
        raise ConfigError(
            file, "file", f"a config file of at most {MAX_YAML_BYTES // 1_000_000} MB", f"{size / 1e6:.1f} MB"
        )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(file, "file", "a readable file", e.strerror) from e
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[1::2].count(0) > len(data) // 4
        raise ConfigError(
            file,
            "encoding",
            "UTF-8 text (save the file as UTF-8)",
            "UTF-16 text" if utf16 else "binary data (NUL bytes)",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ConfigError(
            file,
            "encoding",
            "UTF-8 text (save the file as UTF-8; Latin-1 is not UTF-8)",
            f"byte 0x{data[e.start]:02x} on line {line}",
        ) from e
    _check_yaml_shape(text, file)


def _check_yaml_shape(text: str, file: str) -> None:
    """Nesting depth and expanded size, from the YAML event stream (see :func:`check_yaml_file`)."""
    try:
        _scan_yaml(text, file, getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        # libyaml stops at its own nesting limit (1000) without saying where; the Python
        # parser (no recursion either) reads up to the first error and applies ours
        try:
            _scan_yaml(text, file, yaml.SafeLoader)
        except yaml.YAMLError:
            return  # not valid YAML: the parser that reads it next says where


def _scan_yaml(text: str, file: str, loader: Any) -> None:
    sizes: dict[str, int] = {}  # anchor -> values under it, aliases expanded
    stack: list[list[Any]] = []  # [values so far, anchor] per open mapping or list
    total = 0

    def where(ev: Any) -> str:
        m = ev.start_mark
        return f"line {m.line + 1}, column {m.column + 1}" if m is not None else "file"

    for ev in yaml.parse(text, Loader=loader):
        if isinstance(ev, yaml.CollectionStartEvent):
            stack.append([1, ev.anchor])
            total += 1
            if len(stack) > MAX_YAML_DEPTH:
                raise ConfigError(
                    file,
                    where(ev),
                    f"mappings and lists nested at most {MAX_YAML_DEPTH} levels deep",
                    f"more than {MAX_YAML_DEPTH}",
                )
            continue
        if isinstance(ev, yaml.CollectionEndEvent):
            n, anchor = stack.pop()
            if anchor:
                sizes[anchor] = n
            if stack:
                stack[-1][0] += n
            continue
        if isinstance(ev, yaml.ScalarEvent):
            n = 1
            if ev.anchor:
                sizes[ev.anchor] = 1
        elif isinstance(ev, yaml.AliasEvent):
            n = sizes.get(ev.anchor, 1)
        else:
            continue
        total += n
        if stack:
            stack[-1][0] += n
        if total > MAX_YAML_NODES:
            raise ConfigError(
                file,
                where(ev),
                f"at most {MAX_YAML_NODES:,} values once aliases (*name) are expanded",
                f"more than {MAX_YAML_NODES:,}",
            )


def _guard_hydra_files() -> None:
    """Check every config file Hydra reads from a folder (:func:`check_yaml_file`) before it parses it.

    Hydra reads the files of ``conf/`` and of any ``--config-dir`` itself, while it
    composes; this puts the one reader check in front of its config repository (which
    every read goes through), so the chosen files are checked before composition
    whichever way they were chosen.
    """
    from hydra._internal.config_repository import ConfigRepository
    from hydra.core.object_type import ObjectType

    load = ConfigRepository.load_config
    if getattr(load, "_checked", False):
        return

    def load_config(self: Any, config_path: str) -> Any:
        try:
            source = self._find_object_source(config_path=config_path, object_type=ObjectType.CONFIG)
            path = (
                os.path.realpath(os.path.join(source.path, source._normalize_file_name(config_path)))
                if source is not None and source.scheme() == "file"
                else None
            )
        except (AttributeError, TypeError):  # another Hydra's internals: sim.api.check_data_file still checks
            path = None
        if path is not None:
            check_yaml_file(path)
        return load(self, config_path)

    load_config._checked = True  # type: ignore[attr-defined]
    ConfigRepository.load_config = load_config  # type: ignore[method-assign]


N_ORDERS = 120  # order_00 ... order_119: every ordering of up to five core issues


def order_choice(k: int) -> str:
    """The agenda choice for the K-th order of the core issues (``agenda=order_03``)."""
    return f"order_{k:02d}"


def register_orders(n: int = N_ORDERS) -> None:
    """Register ``agenda=order_K`` for K < n: a ``sequence`` agenda with ``permutation=K``.

    Orders are generated from the scenario's issue list when the agenda is compiled
    (:func:`sim.agenda.issue_orders`); K beyond the number of orders fails there with a
    clear message. Registering them as choices of the ``agenda`` group lets one Hydra
    sweep cross the orders with other agendas (``comprehensive``, ``phased_plan``) without
    crossing ``agenda.permutation`` with agendas that have no order.
    """
    cs = ConfigStore.instance()
    for k in range(n):
        cs.store(
            group="agenda",
            name=order_choice(k),
            node={
                "name": "sequence",
                "kind": "sequence",
                "permutation": k,
                "others": "opening",
                "first_mover": "mediators",
            },
        )


def register_configs() -> None:
    """Register the schemas with Hydra so that composed configs are type-checked."""
    cs = ConfigStore.instance()
    cs.store(name="run_schema", node=RunConf)
    cs.store(group="scenario", name="scenario_schema", node=ScenarioConf)
    cs.store(group="agenda", name="agenda_schema", node=AgendaConf)
    cs.store(group="protocol", name="protocol_schema", node=ProtocolConf)
    for name, node in PROTOCOL_SCHEMAS.items():
        cs.store(group="protocol", name=f"{name}_schema", node=node)
    register_orders()


register_configs()
_guard_hydra_files()
