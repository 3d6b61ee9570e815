"""From a scenario config to checked numpy arrays the kernel can use.

A scenario file describes a negotiation in words and numbers: issues with labelled
anchors, actors with roles, positions, saliences and red lines, the channels between
them. :func:`compile_scenario` checks every value (names the file and the key when one
is wrong) and turns them into a frozen :class:`Scenario` of arrays shaped
``[actors, issues]``. Nothing here knows any particular conflict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError, MissingMandatoryValue

from sim.errors import ConfigError
from sim.strategies import STRATEGIES

ROLES = ("principal", "mediator", "guarantor")
SOURCE_TAGS = ("Q", "S", "J")
# per-actor numbers: (lowest, highest, value when not given)
ACTOR_NUMBERS = {
    "reservation_value": (0, 1, 0.3),
    "delay_cost": (0, 1, 0.0),
    "deadline_drop": (0, 1, 0.0),
    "stubbornness": (0, 1, 0.9),
    "credibility": (0, 1, 0.0),
    "renege_base": (0, 1, 0.0),
    "bias": (0, 10, 0.0),
    "discount": (0, 1, 1.0),
    "clock_carry": (0, 1, 0.0),
    "capability": (0, 1e6, 1.0),
}
DEFAULT_PATIENCE = 40  # rounds: an actor's clock when the scenario gives none
MAX_ROUNDS_LIMIT = 100_000  # rounds: the longest patience, deadline or event time a scenario may set
REST_FLOOR = 0.05  # a red line at the very end of its scale still costs a finite amount per unit
# Inputs that implementing an issue can change (``on_implement``): how each effect applies.
EFFECT_INPUTS = ("reservation_value", "delay_cost", "pressure")


@dataclass(frozen=True)
class Scenario:
    """A compiled scenario. Arrays are ``[A]``, ``[A, I]`` or ``[A, A]``; never mutated."""

    name: str
    title: str
    issues: tuple[str, ...]
    core: np.ndarray  # [I] bool
    anchors: tuple[tuple[tuple[float, str], ...], ...]
    status_quo: np.ndarray  # [I]
    actors: tuple[str, ...]
    labels: tuple[str, ...]
    principal: np.ndarray  # [A] bool
    mediator: np.ndarray  # [A] bool
    guarantor: np.ndarray  # [A] bool
    position: np.ndarray  # [A, I]
    salience: np.ndarray  # [A, I] as written
    reservation_value: np.ndarray  # [A]
    delay_cost: np.ndarray  # [A]
    deadline: np.ndarray  # [A] int, -1 for none
    deadline_drop: np.ndarray  # [A]
    susceptibility: np.ndarray  # [A] = 1 - stubbornness
    influence: np.ndarray  # [A, A] row-stochastic channel weights (self included)
    leverage: np.ndarray  # [A, A] from -> to
    credibility: np.ndarray  # [A]
    capability: np.ndarray  # [A] an actor's weight in the baselines (weighted mean and median of positions)
    renege_base: np.ndarray  # [A]
    bias: np.ndarray  # [A]
    discount: np.ndarray  # [A]
    strategy: tuple[str, ...]
    strategy_params: tuple[dict[str, float], ...]
    patience: np.ndarray  # [A] int: rounds over which the actor concedes in each phase (its clock)
    clock_carry: np.ndarray  # [A] share of the clock an actor carries into the next phase
    target: np.ndarray  # [A, I] a mediator's declared drafting target (NaN: none)
    # no-deal drivers: (actor, from round, until round, change per round), one row each;
    # a one-off event at round r is (actor, r, r + 1, change)
    od_actor: np.ndarray  # [D] int
    od_from: np.ndarray  # [D] int
    od_until: np.ndarray  # [D] int
    od_change: np.ndarray  # [D]
    od_what: tuple[str, ...]
    # spent leverage: (issue, actor, input index into EFFECT_INPUTS, mode 0 add / 1 scale, amount)
    effects: tuple[tuple[int, int, int, int, float], ...]
    no_deal_influence: bool
    trust: np.ndarray  # [A, A]
    trust_gain: float
    guarantee_issue: int  # -1 when the scenario has none
    guarantee_strong_end: float
    pressure_rate: float
    shock_rate: float
    shock_trust_drop: float
    shock_collapse: float
    shock_suspend: float
    shock_suspend_rounds: int
    noise_position: float
    noise_salience: float
    noise_reservation: float
    utility: str
    # red lines, one row each
    rl_actor: np.ndarray  # [K] int
    rl_issue: np.ndarray  # [K] int
    rl_bound: np.ndarray  # [K]
    rl_sign: np.ndarray  # [K] +1: must stay >= bound; -1: must stay <= bound
    rl_cond_issue: np.ndarray  # [K] int, -1 unconditional
    rl_cond_bound: np.ndarray  # [K]
    rl_cond_sign: np.ndarray  # [K] +1: lifted when issue >= bound; -1: when <= bound
    rl_strength: np.ndarray  # [K] per unit of violation: the given strength over the rest of the scale
    rl_strength_given: np.ndarray  # [K] as written: 1 = crossing by the rest of the scale costs the issue
    rl_hard: np.ndarray  # [K] bool
    channels: tuple[tuple[str, str, float], ...]
    sources: Mapping[str, str] = field(default_factory=dict)
    file: str = ""

    @property
    def n_actors(self) -> int:
        """How many actors (the ``A`` of the arrays' shapes)."""
        return len(self.actors)

    @property
    def n_issues(self) -> int:
        """How many issues (the ``I`` of the arrays' shapes)."""
        return len(self.issues)

    @property
    def weight(self) -> np.ndarray:
        """Saliences normalised to sum to one per actor, so utilities lie in [0, 1]."""
        return self.salience / self.salience.sum(axis=1, keepdims=True)

    def issue_index(self, name: str) -> int:
        """The column of issue ``name`` in the ``[A, I]`` arrays (ValueError if it is not one)."""
        return self.issues.index(name)

    def actor_index(self, name: str) -> int:
        """The row of actor ``name`` in the ``[A]`` and ``[A, ...]`` arrays (ValueError if it is not one)."""
        return self.actors.index(name)

    def graph(self) -> nx.Graph:
        """The channels as a weighted networkx graph, actors as nodes with their roles."""
        g = nx.Graph()
        for i, a in enumerate(self.actors):
            roles = [r for r, m in zip(ROLES, (self.principal, self.mediator, self.guarantor), strict=True) if m[i]]
            g.add_node(a, roles=roles, label=self.labels[i])
        for a, b, w in self.channels:
            g.add_edge(a, b, weight=w)
        return g

    def leverage_graph(self) -> nx.DiGraph:
        """Who can press whom, and how hard (directed)."""
        g = nx.DiGraph()
        g.add_nodes_from(self.actors)
        for i, j in zip(*np.nonzero(self.leverage), strict=True):
            g.add_edge(self.actors[i], self.actors[j], strength=float(self.leverage[i, j]))
        return g

    def anchor_label(self, issue: int, value: float) -> str:
        """The label of the anchor nearest to ``value`` on issue ``issue``."""
        anchors = self.anchors[issue]
        if not anchors:
            return ""
        return min(anchors, key=lambda a: abs(a[0] - value))[1]


def to_container(cfg: Any, file: str | None = None) -> Any:
    """A plain Python copy of an OmegaConf node (or the value itself).

    With ``file``, a required value left out (``???``, e.g. an anchor without a label)
    raises :class:`ConfigError` naming that file and key instead of passing through.
    """
    if isinstance(cfg, DictConfig | ListConfig):
        if file is None:
            return OmegaConf.to_container(cfg, resolve=True)
        try:
            return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
        except MissingMandatoryValue as e:
            raise ConfigError(file, str(e.full_key), "a value (this key is required)") from e
        except InterpolationResolutionError as e:
            raise ConfigError(
                file, str(e.full_key), f"an interpolation that resolves ({str(e).splitlines()[0]})"
            ) from e
    return cfg


class _Checker:
    """Reads numbers out of a plain-dict scenario, raising ConfigError with the key path."""

    def __init__(self, file: str, prefix: str) -> None:
        self.file = file
        self.prefix = prefix
        self.sources: dict[str, str] = {}

    def fail(self, key: str, expected: str, got: Any = None) -> ConfigError:
        return ConfigError(self.file, f"{self.prefix}.{key}", expected, got)

    def number(
        self,
        raw: Any,
        key: str,
        lo: float | None = None,
        hi: float | None = None,
        *,
        lo_open: bool = False,
        what: str = "a number",
        default: float | None = None,
        record: bool = True,
    ) -> float:
        if raw is None and default is not None:
            self.sources[f"{self.prefix}.{key}"] = "default"
            return float(default)
        value, source = raw, None
        if isinstance(raw, Mapping):
            extra = set(raw) - {"value", "source", "note", "range"}
            if "value" not in raw or extra:
                raise self.fail(key, "a number or {value: number, source: Q|S|J, range: [low, high] ...}", raw)
            value, source = raw["value"], raw.get("source")
            rg = raw.get("range")
            if rg is not None and (
                not isinstance(rg, list | tuple)
                or len(rg) != 2
                or any(isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) for v in rg)
                or rg[0] > rg[1]
            ):
                raise self.fail(f"{key}.range", "[low, high]: two finite numbers, low <= high", rg)
            if source is not None and (not isinstance(source, str) or source[:1] not in SOURCE_TAGS):
                raise self.fail(f"{key}.source", "a tag starting with Q, S or J", source)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(key, f"{what} (finite)" if isinstance(value, float) else what, value)
        value = float(value)
        below = value <= lo if (lo is not None and lo_open) else (lo is not None and value < lo)
        if below or (hi is not None and value > hi):
            lo_s = "(" if lo_open else "["
            rng = f"{lo_s}{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
            raise self.fail(key, f"{what} in {rng}", value)
        if record:
            self.sources[f"{self.prefix}.{key}"] = source or "untagged"
        return value

    def rounds(self, raw: Any, key: str, lo: int = 0, default: int | None = None) -> int:
        """A whole number of rounds (plain or tagged), in [lo, MAX_ROUNDS_LIMIT]."""
        if raw is None and default is not None:
            self.sources[f"{self.prefix}.{key}"] = "default"
            return int(default)
        value = raw.get("value") if isinstance(raw, Mapping) else raw
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= MAX_ROUNDS_LIMIT:
            raise self.fail(key, f"a whole number of rounds in [{lo}, {MAX_ROUNDS_LIMIT}]", value)
        if isinstance(raw, Mapping):
            self.number(raw, key, lo, MAX_ROUNDS_LIMIT)  # checks the tag and records it
        else:
            self.sources[f"{self.prefix}.{key}"] = "untagged"
        return int(value)

    def mapping(self, raw: Any, key: str) -> Mapping:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            raise self.fail(key, "a mapping", raw)
        return raw


RESERVED_ACTOR = "mediators"  # agenda.first_mover: mediators (sim.agenda.MEDIATORS)


def _names(raw: Mapping, what: str, chk: _Checker, key: str) -> tuple[str, ...]:
    if not raw:
        raise chk.fail(key, f"at least one {what}")
    return tuple(str(k) for k in raw)


@dataclass
class _Actors:
    """The actors' side of a scenario being compiled, filled in one actor at a time."""

    names: tuple[str, ...]
    issues: tuple[str, ...]
    roles: dict[str, np.ndarray]
    position: np.ndarray
    salience: np.ndarray
    numbers: dict[str, np.ndarray]  # the ACTOR_NUMBERS, one [A] array each
    deadline: np.ndarray
    patience: np.ndarray
    target: np.ndarray
    leverage: np.ndarray
    labels: list[str] = field(default_factory=list)
    strategy: list[str] = field(default_factory=list)
    strategy_params: list[dict[str, float]] = field(default_factory=list)
    drivers: list[tuple[int, int, int, float, str]] = field(default_factory=list)
    red_lines: list[tuple] = field(default_factory=list)

    @classmethod
    def empty(cls, names: tuple[str, ...], issues: tuple[str, ...]) -> _Actors:
        """Arrays for ``names`` x ``issues`` holding the values an actor has before it is read."""
        n_a, n_i = len(names), len(issues)
        return cls(
            names=names,
            issues=issues,
            roles={r: np.zeros(n_a, bool) for r in ROLES},
            position=np.zeros((n_a, n_i)),
            salience=np.zeros((n_a, n_i)),
            numbers={k: np.zeros(n_a) for k in ACTOR_NUMBERS},
            deadline=np.full(n_a, -1, dtype=np.int64),
            patience=np.zeros(n_a, dtype=np.int64),
            target=np.full((n_a, n_i), np.nan),
            leverage=np.zeros((n_a, n_a)),
        )


def compile_scenario(cfg: Any, file: str = "<scenario>") -> Scenario:
    """Check a scenario config and compile it to arrays.

    The parts are read in a fixed order (issues, actors, channels, commitment, trust,
    effects, shocks and uncertainty), so the first wrong key met is the one reported.

    Args:
        cfg: the ``scenario`` node (OmegaConf or plain dict).
        file: the file it came from, used in error messages.

    Raises:
        ConfigError: naming the file, the key and what was expected.
    """
    raw = to_container(cfg, file)
    chk = _Checker(file, "scenario")
    if not isinstance(raw, Mapping):
        raise chk.fail("", "a mapping", raw)
    utility = raw.get("utility", "linear")
    if utility not in ("linear", "quadratic"):
        raise chk.fail("utility", "'linear' or 'quadratic'", utility)
    issues, core, anchors, status_quo = _issues(raw, chk)
    act = _actors(raw, chk, issues)
    channels, influence = _channels(raw, chk, act)
    guarantee_issue, strong_end = _commitment(raw, chk, issues)
    trust, gain = _trust(raw, chk, act.names)
    _check_biased_mediators(chk, act)
    effects = _effects(chk, chk.mapping(raw.get("on_implement"), "on_implement"), issues, act.names)
    ndi = raw.get("no_deal_influence", False)
    if not isinstance(ndi, bool):
        raise chk.fail("no_deal_influence", "true or false", ndi)
    vec = act.numbers
    return Scenario(
        name=str(raw.get("name") or "scenario"),
        title=str(raw.get("title") or raw.get("name") or ""),
        issues=issues,
        core=core,
        anchors=anchors,
        status_quo=status_quo,
        actors=act.names,
        labels=tuple(act.labels),
        principal=act.roles["principal"],
        mediator=act.roles["mediator"],
        guarantor=act.roles["guarantor"],
        position=act.position,
        salience=act.salience,
        reservation_value=vec["reservation_value"],
        delay_cost=vec["delay_cost"],
        deadline=act.deadline,
        deadline_drop=vec["deadline_drop"],
        susceptibility=1.0 - vec["stubbornness"],
        influence=influence,
        leverage=act.leverage,
        credibility=vec["credibility"],
        renege_base=vec["renege_base"],
        bias=vec["bias"],
        capability=vec["capability"],
        discount=vec["discount"],
        strategy=tuple(act.strategy),
        strategy_params=tuple(act.strategy_params),
        trust=trust,
        trust_gain=gain,
        guarantee_issue=guarantee_issue,
        guarantee_strong_end=strong_end,
        patience=act.patience,
        clock_carry=vec["clock_carry"],
        target=act.target,
        **_driver_arrays(act.drivers),
        effects=effects,
        no_deal_influence=ndi,
        **_shocks_and_noise(raw, chk),
        utility=utility,
        **_red_line_arrays(act.red_lines),
        channels=channels,
        sources=dict(chk.sources),
        file=file,
    )


def _issues(raw: Mapping, chk: _Checker) -> tuple[tuple[str, ...], np.ndarray, tuple, np.ndarray]:
    """``issues``: their names, which are core, their labelled anchors and the status quo."""
    issues_raw = chk.mapping(raw.get("issues"), "issues")
    issues = _names(issues_raw, "issue", chk, "issues")
    n_i = len(issues)
    core = np.zeros(n_i, bool)
    status_quo = np.zeros(n_i)
    anchors = []
    for i, name in enumerate(issues):
        item = chk.mapping(issues_raw[name], f"issues.{name}")
        core[i] = bool(item.get("core", True))
        status_quo[i] = chk.number(item.get("status_quo", 0.5), f"issues.{name}.status_quo", 0, 1)
        pts = []
        for k, a in enumerate(item.get("anchors") or []):
            if not isinstance(a, Mapping) or "at" not in a or "label" not in a:
                raise chk.fail(f"issues.{name}.anchors[{k}]", "{at: number, label: text}", a)
            pts.append((chk.number(a["at"], f"issues.{name}.anchors[{k}].at", 0, 1, record=False), str(a["label"])))
        anchors.append(tuple(sorted(pts)))
    return issues, core, tuple(anchors), status_quo


def _actors(raw: Mapping, chk: _Checker, issues: tuple[str, ...]) -> _Actors:
    """``actors``: every actor read in file order; at least one must be a principal."""
    actors_raw = chk.mapping(raw.get("actors"), "actors")
    actors = _names(actors_raw, "actor", chk, "actors")
    if RESERVED_ACTOR in actors:  # the word means "the mediators" where an agenda names a first mover
        raise chk.fail(
            f"actors.{RESERVED_ACTOR}",
            f"an actor name other than '{RESERVED_ACTOR}' (the word names "
            "the mediators in agenda.first_mover: call the actor, e.g., 'Mediators' or 'mediator')",
            RESERVED_ACTOR,
        )
    out = _Actors.empty(actors, issues)
    for a, name in enumerate(actors):
        _actor(chk, out, a, chk.mapping(actors_raw[name], f"actors.{name}"))
    if not out.roles["principal"].any():
        raise chk.fail("actors", "at least one actor with the role 'principal'")
    return out


def _actor(chk: _Checker, out: _Actors, a: int, act: Mapping) -> None:
    """One actor: its label, roles, preferences, numbers, clock, target, outside option,
    leverage, strategy and red lines, written into row ``a`` of ``out``."""
    name = out.names[a]
    base = f"actors.{name}"
    out.labels.append(str(act.get("label") or name))
    _roles(chk, out, a, act, base)
    _preferences(chk, out, a, act, base)
    for k, (lo, hi, default) in ACTOR_NUMBERS.items():
        out.numbers[k][a] = chk.number(act.get(k), f"{base}.{k}", lo, hi, default=default, lo_open=(k == "discount"))
    dl = act.get("deadline")
    if dl is not None:
        out.deadline[a] = chk.rounds(dl, f"{base}.deadline")
    out.patience[a] = chk.rounds(act.get("patience"), f"{base}.patience", lo=1, default=DEFAULT_PATIENCE)
    _target(chk, out, a, act, base)
    for k, d in enumerate(act.get("outside_option") or []):
        out.drivers.append(_driver(chk, f"{base}.outside_option[{k}]", d, a))
    lev = chk.mapping(act.get("leverage"), f"{base}.leverage")
    for tgt, v in lev.items():
        if tgt not in out.names or tgt == name:
            raise chk.fail(f"{base}.leverage.{tgt}", "another actor of this scenario", tgt)
        out.leverage[a, out.names.index(tgt)] = chk.number(v, f"{base}.leverage.{tgt}", 0, 1)
    _strategy(chk, out, act, base)
    for k, line in enumerate(act.get("red_lines") or []):
        out.red_lines.append(_red_line(chk, f"{base}.red_lines[{k}]", line, a, out.issues))


def _roles(chk: _Checker, out: _Actors, a: int, act: Mapping, base: str) -> None:
    """An actor's ``roles``: a non-empty list drawn from ROLES."""
    rl = act.get("roles") or []
    if not isinstance(rl, list) or not rl:
        raise chk.fail(f"{base}.roles", f"a non-empty list of roles from {list(ROLES)}", rl)
    for r in rl:
        if r not in ROLES:
            raise chk.fail(f"{base}.roles", f"roles from {list(ROLES)}", r)
        out.roles[r][a] = True


def _preferences(chk: _Checker, out: _Actors, a: int, act: Mapping, base: str) -> None:
    """An actor's ``position`` and ``salience``: one point in [0, 1] per issue, no more, no fewer."""
    issues = out.issues
    for what, arr in (("position", out.position), ("salience", out.salience)):
        given = chk.mapping(act.get(what), f"{base}.{what}")
        for k in given:
            if k not in issues:
                raise chk.fail(f"{base}.{what}.{k}", f"an issue of this scenario ({', '.join(issues)})", k)
        for i, iss in enumerate(issues):
            if iss not in given:
                raise chk.fail(f"{base}.{what}.{iss}", f"a {what} for every issue (missing)")
            arr[a, i] = chk.number(given[iss], f"{base}.{what}.{iss}", 0, 1, what=f"a {what}")
    if out.salience[a].sum() <= 0:
        raise chk.fail(f"{base}.salience", "at least one positive salience")


def _target(chk: _Checker, out: _Actors, a: int, act: Mapping, base: str) -> None:
    """A mediator's drafting ``target``: a point on the scale for some issues (others stay NaN)."""
    tg = chk.mapping(act.get("target"), f"{base}.target")
    if tg and not out.roles["mediator"][a]:
        raise chk.fail(f"{base}.target", "no target: only a mediator drafts toward a target", dict(tg))
    for k, v in tg.items():
        if k not in out.issues:
            raise chk.fail(f"{base}.target.{k}", f"an issue of this scenario ({', '.join(out.issues)})", k)
        out.target[a, out.issues.index(k)] = chk.number(v, f"{base}.target.{k}", 0, 1, what="a point on the scale")


def _strategy(chk: _Checker, out: _Actors, act: Mapping, base: str) -> None:
    """An actor's ``strategy``: a registered name and the parameters that strategy checks itself."""
    st = chk.mapping(act.get("strategy") or {}, f"{base}.strategy")
    sname = st.get("name", "time_dependent")
    if sname not in STRATEGIES:
        raise chk.fail(f"{base}.strategy.name", f"one of {sorted(STRATEGIES)}", sname)
    out.strategy.append(sname)
    out.strategy_params.append(
        STRATEGIES[sname].check_params(
            chk.mapping(st.get("params"), f"{base}.strategy.params"),
            lambda k, exp, got, _b=base: chk.fail(f"{_b}.strategy.params.{k}", exp, got),
        )
    )


def _channels(raw: Mapping, chk: _Checker, act: _Actors) -> tuple[tuple[tuple[str, str, float], ...], np.ndarray]:
    """``channels`` and ``self_weight``: who talks to whom, as a row-stochastic influence matrix."""
    actors = act.names
    n_a = len(actors)
    channels = []
    adj = np.zeros((n_a, n_a))
    for k, ch in enumerate(raw.get("channels") or []):
        key = f"channels[{k}]"
        if not isinstance(ch, Mapping):
            raise chk.fail(key, "{between: [actor, actor], weight: number}", ch)
        pair = ch.get("between") or []
        if len(pair) != 2 or pair[0] == pair[1]:
            raise chk.fail(f"{key}.between", "two different actors", pair)
        for p in pair:
            if p not in actors:
                raise chk.fail(f"{key}.between", f"actors of this scenario ({', '.join(actors)})", p)
        w = chk.number(ch.get("weight", 1.0), f"{key}.weight", 0, None, lo_open=True)
        i, j = actors.index(pair[0]), actors.index(pair[1])
        adj[i, j] = adj[j, i] = w
        channels.append((pair[0], pair[1], w))
    self_w = chk.number(raw.get("self_weight", 1.0), "self_weight", 0, None, lo_open=True)
    influence = adj + np.eye(n_a) * self_w
    influence /= influence.sum(axis=1, keepdims=True)
    _check_mediators_reach(chk, act, adj)
    return tuple(channels), influence


def _check_mediators_reach(chk: _Checker, act: _Actors, adj: np.ndarray) -> None:
    """Every mediator talks to some principal, and every principal hears from some mediator."""
    actors, mediator, principal = act.names, act.roles["mediator"], act.roles["principal"]
    for m in np.flatnonzero(mediator):
        if not any(adj[m, p] > 0 for p in np.flatnonzero(principal)):
            raise chk.fail("channels", f"a channel from mediator {actors[m]} to at least one principal")
    if mediator.any():
        reach = set()
        for m in np.flatnonzero(mediator):
            reach |= {actors[p] for p in np.flatnonzero(adj[m] > 0)}
        for p in np.flatnonzero(principal):
            if actors[p] not in reach and not mediator[p]:
                raise chk.fail("channels", f"a channel from some mediator to principal {actors[p]}")


def _commitment(raw: Mapping, chk: _Checker, issues: tuple[str, ...]) -> tuple[int, float]:
    """``commitment``: the issue that carries guarantees (-1: none) and its strong end (0 or 1)."""
    com = chk.mapping(raw.get("commitment"), "commitment")
    gi = com.get("guarantee_issue")
    if gi is not None and gi not in issues:
        raise chk.fail("commitment.guarantee_issue", f"an issue of this scenario ({', '.join(issues)})", gi)
    strong = com.get("strong_end", 0.0)
    if strong not in (0, 1, 0.0, 1.0):
        raise chk.fail("commitment.strong_end", "0 or 1", strong)
    return -1 if gi is None else issues.index(gi), float(strong)


def _trust(raw: Mapping, chk: _Checker, actors: tuple[str, ...]) -> tuple[np.ndarray, float]:
    """``trust``: the initial [A, A] matrix (self-trust 1, named pairs overridden) and its gain per phase."""
    n_a = len(actors)
    tr = chk.mapping(raw.get("trust"), "trust")
    t0 = chk.number(tr.get("initial", 0.5), "trust.initial", 0, 1)
    trust = np.full((n_a, n_a), t0)
    np.fill_diagonal(trust, 1.0)
    pairs = chk.mapping(tr.get("pairs"), "trust.pairs")
    for src, row in pairs.items():
        if src not in actors:
            raise chk.fail(f"trust.pairs.{src}", "an actor of this scenario", src)
        for dst, v in chk.mapping(row, f"trust.pairs.{src}").items():
            if dst not in actors:
                raise chk.fail(f"trust.pairs.{src}.{dst}", "an actor of this scenario", dst)
            trust[actors.index(src), actors.index(dst)] = chk.number(v, f"trust.pairs.{src}.{dst}", 0, 1)
    gain = chk.number(tr.get("gain_per_phase", 0.2), "trust.gain_per_phase", 0, 1)
    return trust, gain


def _check_biased_mediators(chk: _Checker, act: _Actors) -> None:
    """A mediator with a bias leans toward a target, so it must declare one."""
    for a in range(len(act.names)):
        if act.numbers["bias"][a] > 0 and act.roles["mediator"][a] and np.isnan(act.target[a]).all():
            raise chk.fail(f"actors.{act.names[a]}.target", "a target (issue: point) for a mediator with a bias > 0")


def _shocks_and_noise(raw: Mapping, chk: _Checker) -> dict[str, Any]:
    """``shocks``, ``uncertainty`` and ``pressure_rate``, as the Scenario fields they fill."""
    sh = chk.mapping(raw.get("shocks"), "shocks")
    collapse = chk.number(sh.get("collapse", 0.0), "shocks.collapse", 0, 1)
    suspend = chk.number(sh.get("suspend", 0.0), "shocks.suspend", 0, 1)
    if collapse + suspend > 1:
        raise chk.fail("shocks.suspend", f"a number in [0, {1 - collapse:g}] (collapse + suspend <= 1)", suspend)
    un = chk.mapping(raw.get("uncertainty"), "uncertainty")
    return dict(
        pressure_rate=chk.number(raw.get("pressure_rate", 0.002), "pressure_rate", 0, 1),
        shock_rate=chk.number(sh.get("rate", 0.0), "shocks.rate", 0, 1),
        shock_trust_drop=chk.number(sh.get("trust_drop", 0.3), "shocks.trust_drop", 0, 1),
        shock_collapse=collapse,
        shock_suspend=suspend,
        shock_suspend_rounds=chk.rounds(sh.get("suspend_rounds"), "shocks.suspend_rounds", lo=1, default=4),
        noise_position=chk.number(un.get("position", 0.0), "uncertainty.position", 0, 1),
        noise_salience=chk.number(un.get("salience", 0.0), "uncertainty.salience", 0, 1),
        noise_reservation=chk.number(un.get("reservation_value", 0.0), "uncertainty.reservation_value", 0, 1),
    )


def _driver_arrays(drivers: list[tuple[int, int, int, float, str]]) -> dict[str, Any]:
    """The outside-option drivers, one row each, as the Scenario's ``od_*`` columns."""
    od = list(zip(*drivers, strict=True)) if drivers else [()] * 5
    return dict(
        od_actor=np.array(od[0], dtype=np.int64),
        od_from=np.array(od[1], dtype=np.int64),
        od_until=np.array(od[2], dtype=np.int64),
        od_change=np.array(od[3], dtype=float),
        od_what=tuple(od[4]),
    )


def _red_line_arrays(red_lines: list[tuple]) -> dict[str, Any]:
    """The red lines, one row each, as the Scenario's ``rl_*`` columns.

    A line's strength is given per "rest of the scale" (1: crossing it all the way costs
    the issue), so per unit of violation it is the given strength over the scale beyond
    the line, floored at REST_FLOOR so a line at the very end still costs a finite amount.
    """
    rl = list(zip(*red_lines, strict=True)) if red_lines else [()] * 9
    given = np.array(rl[7], dtype=float)
    bound, sign = np.array(rl[2], dtype=float), np.array(rl[3], dtype=float)
    rest = np.where(sign > 0, bound, 1.0 - bound)  # the scale beyond the line
    return dict(
        rl_actor=np.array(rl[0], dtype=np.int64),
        rl_issue=np.array(rl[1], dtype=np.int64),
        rl_bound=bound,
        rl_sign=sign,
        rl_cond_issue=np.array(rl[4], dtype=np.int64),
        rl_cond_bound=np.array(rl[5], dtype=float),
        rl_cond_sign=np.array(rl[6], dtype=float),
        rl_strength=given / np.maximum(rest, REST_FLOOR),
        rl_strength_given=given,
        rl_hard=np.array(rl[8], dtype=bool),
    )


def _bound(chk: _Checker, key: str, item: Mapping) -> tuple[float, float]:
    lo, hi = item.get("at_least"), item.get("at_most")
    if (lo is None) == (hi is None):
        raise chk.fail(key, "exactly one of at_least or at_most")
    if lo is not None:
        return chk.number(lo, f"{key}.at_least", 0, 1), 1.0
    return chk.number(hi, f"{key}.at_most", 0, 1), -1.0


def _red_line(chk: _Checker, key: str, line: Any, actor: int, issues: tuple[str, ...]) -> tuple:
    if not isinstance(line, Mapping):
        raise chk.fail(key, "a red line {issue, at_least|at_most, ...}", line)
    iss = line.get("issue")
    if iss not in issues:
        raise chk.fail(f"{key}.issue", f"an issue of this scenario ({', '.join(issues)})", iss)
    bound, sign = _bound(chk, key, line)
    cond_issue, cond_bound, cond_sign = -1, 0.0, 1.0
    unless = line.get("unless")
    if unless is not None:
        if not isinstance(unless, Mapping) or unless.get("issue") not in issues:
            raise chk.fail(
                f"{key}.unless.issue",
                f"an issue of this scenario ({', '.join(issues)})",
                unless.get("issue") if isinstance(unless, Mapping) else unless,
            )
        cond_issue = issues.index(unless["issue"])
        cond_bound, cond_sign = _bound(chk, f"{key}.unless", unless)
    strength = chk.number(line.get("strength", 1.0), f"{key}.strength", 0, 1000)
    hard = line.get("hard", False)
    if not isinstance(hard, bool):
        raise chk.fail(f"{key}.hard", "true or false", hard)
    return (actor, issues.index(iss), bound, sign, cond_issue, cond_bound, cond_sign, strength, hard)


def _driver(chk: _Checker, key: str, d: Any, actor: int) -> tuple[int, int, int, float, str]:
    """One declared reason an actor's value of no deal moves: an event or a change per round.

    ``{what, at: round, change: x}`` moves it once, at round ``at``;
    ``{what, from: round, until: round, per_round: x}`` moves it every round of talks in
    ``[from, until)``. Rounds count from the start of the talks; both kinds end, so a
    long enough observation window sees every change.
    """
    if not isinstance(d, Mapping):
        raise chk.fail(key, "{what, at, change} or {what, from, until, per_round}", d)
    extra = set(d) - {"what", "at", "change", "from", "until", "per_round", "source", "note"}
    if extra:
        raise chk.fail(f"{key}.{sorted(extra)[0]}", "one of what, at, change, from, until, per_round, source", None)
    what = str(d.get("what") or "")
    if "at" in d:
        if "per_round" in d or "from" in d or "until" in d:
            raise chk.fail(key, "either {at, change} (an event) or {from, until, per_round}, not both", dict(d))
        at = chk.rounds(d["at"], f"{key}.at")
        return actor, at, at + 1, chk.number(d.get("change"), f"{key}.change", -1, 1), what
    start = chk.rounds(d.get("from", 0), f"{key}.from")
    if d.get("until") is None:
        raise chk.fail(f"{key}.until", "the round the change stops (every driver ends)")
    until = chk.rounds(d["until"], f"{key}.until", lo=start + 1)
    return actor, start, until, chk.number(d.get("per_round"), f"{key}.per_round", -1, 1), what


def _effects(
    chk: _Checker, raw: Mapping, issues: tuple[str, ...], actors: tuple[str, ...]
) -> tuple[tuple[int, int, int, int, float], ...]:
    """``on_implement``: what implementing an issue changes, ``{issue: [{actor, input, add|scale}]}``."""
    out = []
    for iss, items in raw.items():
        if iss not in issues:
            raise chk.fail(f"on_implement.{iss}", f"an issue of this scenario ({', '.join(issues)})", iss)
        if not isinstance(items, list):
            raise chk.fail(f"on_implement.{iss}", "a list of effects {actor, input, add|scale, source}", items)
        for k, e in enumerate(items):
            key = f"on_implement.{iss}[{k}]"
            if not isinstance(e, Mapping):
                raise chk.fail(key, "{actor, input, add|scale, source}", e)
            extra = set(e) - {"actor", "input", "add", "scale", "source", "note"}
            if extra:
                raise chk.fail(f"{key}.{sorted(extra)[0]}", "one of actor, input, add, scale, source, note", None)
            if e.get("actor") not in actors:
                raise chk.fail(f"{key}.actor", f"an actor of this scenario ({', '.join(actors)})", e.get("actor"))
            if e.get("input") not in EFFECT_INPUTS:
                raise chk.fail(f"{key}.input", f"one of {', '.join(EFFECT_INPUTS)}", e.get("input"))
            if ("add" in e) == ("scale" in e):
                raise chk.fail(key, "exactly one of add or scale", dict(e))
            src = {"source": e["source"]} if e.get("source") is not None else {}
            kind = "add" if "add" in e else "scale"
            v = e[kind] if isinstance(e[kind], Mapping) else {"value": e[kind], **src}
            amount = chk.number(v, f"{key}.{kind}", *((-1, 1) if kind == "add" else (0, 100)))
            out.append(
                (
                    issues.index(iss),
                    actors.index(e["actor"]),
                    EFFECT_INPUTS.index(e["input"]),
                    0 if "add" in e else 1,
                    amount,
                )
            )
    return tuple(out)
