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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


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
    """The protocol that advances the talks, and its parameters."""

    name: str = "mediated"
    max_rounds: Any = None  # the observation window; null: twice the agenda's horizon (sim.kernel.horizon)
    rule: str = "nash"
    step0: float = 0.05
    step_max: float = 0.2
    steps_per_round: int = 1
    stall_rounds: int = 10  # quiet rounds in a row that make a stalemate
    stall_tol: float = 1e-3  # a quiet round moves nothing by more than this
    params: dict[str, Any] = field(default_factory=dict)


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
    protocol: ProtocolConf = field(default_factory=ProtocolConf)
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


def register_configs() -> None:
    """Register the schemas with Hydra so that composed configs are type-checked."""
    cs = ConfigStore.instance()
    cs.store(name="run_schema", node=RunConf)
    cs.store(group="scenario", name="scenario_schema", node=ScenarioConf)
    cs.store(group="agenda", name="agenda_schema", node=AgendaConf)
    cs.store(group="protocol", name="protocol_schema", node=ProtocolConf)


register_configs()
