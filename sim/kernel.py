"""The round kernel: the state of many negotiations as arrays, and the steps of a round.

Everything a round does (draft, evaluate, concede, influence, time, shocks) is written
once, over arrays shaped ``[runs, actors, issues]``, with no Python loop over actors or
runs: the steps here and in :mod:`sim.protocols` are numpy expressions and calls to the
compiled loops of :mod:`sim.compiled`, which go over runs, actors and issues in machine
code. The Mesa model runs a batch of one; a sweep job runs thousands at once and retires
finished runs as it goes. Each run draws its random numbers from its own
stream, ``numpy.random.default_rng(seed)`` (a ``SeedSequence(seed)``), always in the
same order, so a seed gives the same result bit for bit alone or inside any batch.

The protocol's round ``t`` is shared by all runs of a batch and is only how long we
watch (``max_rounds``, the observation window). Each actor concedes on its own clock
(``Batch.clock``): the rounds of talks in the current phase, restarted when a phase
opens (less what the actor carries over, ``clock_carry``), paused while the talks are
suspended, and read against the actor's ``patience``. Time-driven changes of the no-deal
values run on the same clocks and on declared events, so once every clock has run out
and every event has passed nothing moves unless someone does: a run then ends in
agreement or in a **stalemate**, whatever the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from sim.agenda import Agenda
from sim.compiled import accept, evaluate_runs, influence_and_time, renege_scale_runs, target_pull_runs
from sim.scenario import Scenario
from sim.strategies import STRATEGIES, ConcessionContext
from sim.streams import draw_many
from sim.utility import Evaluation, RedLines, evaluate

RUNNING, AGREED, MAX_ROUNDS, WALKOUT, SHOCK, STALEMATE, SUSPENDED = 0, 1, 2, 3, 4, 5, 6
STATUS = {
    RUNNING: "running",
    AGREED: "agreement",
    MAX_ROUNDS: "max_rounds",
    WALKOUT: "walkout",
    SHOCK: "shock",
    STALEMATE: "stalemate",
    SUSPENDED: "suspended",
}
ENDED = (AGREED, MAX_ROUNDS, WALKOUT, SHOCK, STALEMATE)
N_DRAWS_PER_ROUND = 2
EPS = 1e-3  # floor on a surplus in the Nash objective, so a principal at its
# reservation value pulls the draft hard toward itself instead of dividing by zero


@dataclass(frozen=True)
class Settings:
    """Protocol settings the kernel reads (from the ``protocol`` config)."""

    name: str = "mediated"
    max_rounds: int = 40  # the observation window only (see :func:`horizon`)
    rule: str = "nash"
    step0: float = 0.05
    step_max: float = 0.2
    steps_per_round: int = 1
    stall_rounds: int = 10  # quiet rounds in a row before a stalemate is declared
    stall_tol: float = 1e-3  # what counts as quiet: no text, position or value moves by more
    params: dict[str, Any] = field(default_factory=dict)


def horizon(sc: Scenario, n_phases: int, longest_patience: int | None = None) -> int:
    """How long anyone keeps moving: every phase at the longest patience, plus the last event.

    Past this round no clock runs, no declared change of a no-deal value is pending, and
    a run that has not agreed can only agree through moves already under way. The
    default observation window (``protocol.max_rounds: null``) is twice this.
    """
    last = int(max(sc.od_until.max(initial=0), sc.deadline.max(initial=-1) + 1))
    longest = int(sc.patience.max()) if longest_patience is None else int(longest_patience)
    return int(n_phases * longest + last)


@dataclass(frozen=True)
class Static:
    """What all runs of a batch share: the compiled scenario, agenda and settings."""

    sc: Scenario
    ag: Agenda
    settings: Settings
    red_lines: RedLines
    counterpart: np.ndarray  # [A, A] averaging weights over the other principals
    principal_pairs: np.ndarray  # [A, A] bool, both principals, a != b
    families: tuple  # ((strategy class, actor mask [A], params {name: [A]}), ...)
    required_base: np.ndarray  # [A] bool: principals
    protocol: Any  # the protocol class (:class:`sim.protocols.base.Protocol`) that advances the runs

    @property
    def n_actors(self) -> int:
        """Number of actors of the scenario."""
        return self.sc.n_actors

    @property
    def n_issues(self) -> int:
        """Number of issues of the scenario."""
        return self.sc.n_issues

    @cached_property
    def derived(self) -> Derived:
        """Constants the round steps would otherwise recompute every round."""
        return Derived.of(self)


@dataclass(frozen=True)
class Derived:
    """Per-configuration constants of the round steps, computed once (see ``Static.derived``).

    Each is the exact array the step used to compute in place, so precomputing it changes
    no result.
    """

    lam_w_sparse: tuple  # diag(L) W (susceptibility times influence weights), its nonzero
    # entries by rows: (row starts [A + 1], columns, values)
    one_minus_lam: np.ndarray  # [A]
    one_minus_lam_col: np.ndarray  # [A, 1]
    lev_in: np.ndarray  # [A] how hard each actor is pressed at pressure 1
    events: np.ndarray  # [E, A] declared change of each no-deal value at round t < E (0 after)
    principal_red_lines: RedLines  # the principals' red lines, renumbered over the principals
    pidx: np.ndarray  # [P] indices of the principals
    counterpart_p: np.ndarray  # [A, P] the columns of ``Static.counterpart`` that are not zero
    turn_start: np.ndarray  # [phases] where each phase's turn to propose starts among the principals
    biased: np.ndarray  # indices of the mediators with a bias toward a declared target
    biased_target: np.ndarray  # [M, I] their targets (NaN: none on that issue)
    biased_bias: np.ndarray  # [M] their biases
    required_by_phase: np.ndarray  # [phases, A] whose acceptance a text needs in each phase
    guarantee_bounds: tuple  # (lowest, highest) guarantee level every guarantor will carry
    no_events: np.ndarray  # [A] zeros: the change of each no-deal value after the last event
    actor_range: np.ndarray  # [A] 0 .. A - 1
    n_events: int  # rounds with a declared change of a no-deal value still to come (events.shape[0])
    frac_table: np.ndarray | None  # [P + 2, A] the concession at each clock value (P: the longest
    # patience), if every strategy reads only the clock; a clock past P reads row P + 1

    @classmethod
    def of(cls, st: Static) -> Derived:
        """Compute the derived constants of ``st`` (done once per compiled configuration)."""
        sc = st.sc
        lam = sc.susceptibility
        n_ev = int(max(sc.od_until.max(initial=0), sc.deadline.max(initial=-1) + 1))
        ts = np.arange(n_ev)[:, None]
        events = -np.where(sc.deadline == ts, sc.deadline_drop, 0.0)
        for a, t0, t1, ch in zip(sc.od_actor, sc.od_from, sc.od_until, sc.od_change, strict=True):
            events[t0:t1, a] += ch
        pidx = np.flatnonzero(sc.principal)
        frac_table = None
        if all(f[0].time_only for f in st.families):
            one = np.ones((1, sc.n_actors))
            frac_table = np.concatenate(
                [
                    concession(
                        st.families,
                        ConcessionContext(
                            t=np.full((1, sc.n_actors), t),
                            horizon=sc.patience,
                            frac=one,
                            frac_prev=one,
                            eu=one,
                            aspiration=one,
                            reservation_value=one,
                            principal=sc.principal,
                        ),
                    )
                    for t in range(int(sc.patience.max()) + 2)
                ]
            )
        lam_w = lam[:, None] * sc.influence
        rows, cols = np.nonzero(lam_w)  # row-major: each row's columns in order
        sparse = (
            np.searchsorted(rows, np.arange(sc.n_actors + 1)).astype(np.int64),
            cols.astype(np.int64),
            np.ascontiguousarray(lam_w[rows, cols]),
        )
        biased = np.flatnonzero(sc.mediator & (sc.bias > 0)).astype(np.int64)
        # A text needs the principals' acceptance. A guarantor judges only what binds it:
        # the guarantee level it is asked to carry, bounded by its red lines on that issue,
        # and the mediators draft within those bounds (``open_phase``).
        req = st.required_base[None, :] & np.ones((st.ag.n_phases, 1), bool)
        g_lo, g_hi, gi = 0.0, 1.0, sc.guarantee_issue
        for k in range(sc.rl_actor.size):
            a = sc.rl_actor[k]
            if gi >= 0 and sc.guarantor[a] and not sc.principal[a] and sc.rl_issue[k] == gi and sc.rl_cond_issue[k] < 0:
                if sc.rl_sign[k] > 0:
                    g_lo = max(g_lo, float(sc.rl_bound[k]))
                else:
                    g_hi = min(g_hi, float(sc.rl_bound[k]))
        return cls(
            guarantee_bounds=(g_lo, g_hi),
            n_events=n_ev,
            frac_table=frac_table,
            required_by_phase=req,
            biased=biased,
            biased_target=np.ascontiguousarray(sc.target[biased]),
            biased_bias=np.ascontiguousarray(sc.bias[biased]),
            lam_w_sparse=sparse,
            one_minus_lam=1.0 - lam,
            one_minus_lam_col=1.0 - lam[:, None],
            lev_in=sc.leverage.sum(axis=0),
            events=np.ascontiguousarray(events),
            no_events=np.zeros(sc.n_actors),
            actor_range=np.arange(sc.n_actors),
            principal_red_lines=st.red_lines.subset(pidx),
            pidx=pidx,
            counterpart_p=np.ascontiguousarray(st.counterpart[:, pidx]),
            # the first mover if it is a principal, else the first principal
            turn_start=np.array(
                [int(np.searchsorted(pidx, f)) if f in pidx else 0 for f in st.ag.first_mover], dtype=np.int64
            ),
        )


def make_static(sc: Scenario, ag: Agenda, settings: Settings, protocol: Any) -> Static:
    """Precompute the shared arrays of a batch; ``protocol`` is the class that plays ``settings.name``
    (callers look it up in :data:`sim.protocols.PROTOCOLS`, so the kernel never does)."""
    a = sc.n_actors
    pr = sc.principal
    pairs = pr[:, None] & pr[None, :] & ~np.eye(a, dtype=bool)
    counterpart = pairs.astype(float)
    rows = counterpart.sum(axis=1, keepdims=True)
    # actors that are not principals (or a lone principal) look at all principals
    lone = rows[:, 0] == 0
    counterpart[lone] = pr.astype(float)
    counterpart[lone & pr] = 0.0
    counterpart /= np.maximum(counterpart.sum(axis=1, keepdims=True), 1.0)
    families = []
    for name in sorted(set(sc.strategy)):
        cls = STRATEGIES[name]
        mask = np.array([s == name for s in sc.strategy])
        params = {
            k: np.array([sc.strategy_params[i].get(k, v) if mask[i] else v for i in range(a)], dtype=float)
            for k, v in cls.params.items()
        }
        families.append((cls, mask, params))
    return Static(
        sc=sc,
        ag=ag,
        settings=settings,
        red_lines=RedLines.from_scenario(sc),
        counterpart=counterpart,
        principal_pairs=pairs,
        families=tuple(families),
        required_base=pr.copy(),
        protocol=protocol,
    )


def any_true(a: np.ndarray) -> bool:
    """``a.any()`` for a bool array, several times faster on the small arrays of a round."""
    return np.count_nonzero(a) > 0


def all_true(a: np.ndarray) -> bool:
    """``a.all()`` for a bool array, several times faster on the small arrays of a round."""
    return np.count_nonzero(a) == a.size


def draw_run(rng: np.random.Generator, n_actors: int, n_issues: int, max_rounds: int):
    """All random numbers one run uses, in a fixed order (the same in every view)."""
    normals = rng.standard_normal(2 * n_actors * n_issues + n_actors)
    uniforms = rng.random((max_rounds, N_DRAWS_PER_ROUND))
    return normals, uniforms


class Batch:
    """The mutable state of ``R`` runs. Every attribute in ``PER_RUN`` has leading dim R.

    A mutable object rather than a frozen dataclass: a round updates a dozen arrays and
    copying them each round would cost more than the round itself.
    """

    PER_RUN = (
        "index",
        "seed",
        "pos0",
        "weight",
        "sal",
        "rv0",
        "cred",
        "pressure",
        "uniforms",
        "pos",
        "rv",
        "rv_own",
        "frac",
        "frac_prev",
        "trust",
        "x",
        "lo",
        "hi",
        "step",
        "gsign",
        "phase",
        "locked",
        "status",
        "rounds",
        "phases_agreed",
        "eu",
        "asp",
        "umax",
        "accept",
        "walker",
        "fresh",
        "last_phase_round",
        "override",
        "pos_anchor",
        "press_drop",
        "rs",
        "clock",
        "delay",
        "quiet",
        "resume",
        "blockers",
        "gap_best",
        "renege",
        "patience",
        "trust_gain",
    )

    def __init__(self, **arrays: np.ndarray) -> None:
        self.names = tuple(arrays)
        for k, v in arrays.items():
            setattr(self, k, v)

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def add(self, name: str, array: np.ndarray) -> None:
        """Add a per-run array (leading dimension R), e.g. a protocol's own state."""
        assert array.shape[0] == len(self), name
        setattr(self, name, array)
        if name not in self.names:
            self.names = self.names + (name,)

    def take(self, rows: np.ndarray) -> Batch:
        """A new batch holding only ``rows`` (indices or a boolean mask)."""
        return Batch(**{k: getattr(self, k)[rows] for k in self.names})


def init_batch(
    st: Static,
    seeds: np.ndarray,
    trust=None,
    credibility=None,
    pressure=None,
    draws: list | None = None,
    inputs: dict[str, np.ndarray] | None = None,
) -> Batch:
    """Start ``len(seeds)`` runs. Conditions are per-run arrays (NaN keeps the scenario's).

    Args:
        draws: the per-run random numbers, if already drawn (the Mesa model draws them
            from its own ``model.rng``); else drawn here from ``default_rng(seed)``.
        inputs: per-run values of the scenario's own inputs, in place of the compiled
            scenario's (a design table's points, :mod:`sim.design`): ``position`` and
            ``salience`` ``[R, A, I]``; ``reservation_value``, ``delay_cost``,
            ``renege_base``, ``credibility`` and ``patience`` ``[R, A]``; ``trust_gain``
            ``[R]``; ``strategy.<param>`` ``[R, A]`` (a strategy parameter, for the actors
            whose strategy has it). Each run's draws perturb its own values exactly as
            they would perturb the scenario's.
    """
    sc = st.sc
    r, a, i = len(seeds), sc.n_actors, sc.n_issues
    t_max = st.settings.max_rounds
    if draws is None:
        draws = draw_many(seeds, lambda g: draw_run(g, a, i, t_max))  # = default_rng(seed) per run
    normals = np.stack([d[0] for d in draws]) if r else np.zeros((0, 2 * a * i + a))
    uniforms = np.stack([d[1] for d in draws]) if r else np.zeros((0, t_max, N_DRAWS_PER_ROUND))
    n_pos = normals[:, : a * i].reshape(r, a, i)
    n_sal = normals[:, a * i : 2 * a * i].reshape(r, a, i)
    n_rv = normals[:, 2 * a * i :]
    given = inputs or {}
    position = given.get("position", sc.position)
    salience = given.get("salience", sc.salience)
    pos0 = np.clip(position + sc.noise_position * n_pos, 0.0, 1.0)
    sal = np.where(salience > 0, np.clip(salience + sc.noise_salience * n_sal, 0.01, 1.0), 0.0)
    weight = sal / sal.sum(axis=-1, keepdims=True)
    rv0 = np.clip(given.get("reservation_value", sc.reservation_value) + sc.noise_reservation * n_rv, 0.0, 1.0)

    def cond(v, default):
        arr = np.full(r, np.nan) if v is None else np.broadcast_to(np.asarray(v, float), (r,))
        return np.where(np.isnan(arr), default, arr)

    trust0 = np.broadcast_to(sc.trust, (r, a, a)).copy()
    if trust is not None:
        t_lvl = np.broadcast_to(np.asarray(trust, float), (r,))
        trust0 = np.where(
            st.principal_pairs & ~np.isnan(t_lvl)[:, None, None], np.nan_to_num(t_lvl)[:, None, None], trust0
        )
    cred_lvl = cond(credibility, np.nan)
    cred = np.where(
        sc.guarantor & ~np.isnan(cred_lvl)[:, None],
        np.nan_to_num(cred_lvl)[:, None],
        given.get("credibility", sc.credibility),
    )
    press = cond(pressure, 1.0)
    dv = st.derived
    b = Batch(
        index=np.arange(r),
        seed=np.asarray(seeds, dtype=np.int64),
        pos0=pos0,
        weight=weight,
        sal=sal,
        rv0=rv0,
        cred=cred,
        pressure=press,
        uniforms=uniforms,
        pos=pos0.copy(),
        rv=rv0.copy(),
        rv_own=rv0.copy(),
        frac=np.ones((r, a)),
        frac_prev=np.ones((r, a)),
        trust=trust0,
        x=np.broadcast_to(sc.status_quo, (r, i)).copy(),
        lo=np.zeros((r, i)),
        hi=np.ones((r, i)),
        step=np.zeros((r, i)),
        gsign=np.zeros((r, i)),
        phase=np.zeros(r, dtype=np.int64),
        locked=np.zeros((r, i), bool),
        status=np.zeros(r, dtype=np.int8),
        rounds=np.zeros(r, dtype=np.int64),
        phases_agreed=np.zeros(r, dtype=np.int64),
        eu=np.zeros((r, a)),
        asp=np.zeros((r, a)),
        umax=np.ones((r, a)),
        accept=np.zeros((r, a), bool),
        walker=np.full(r, -1, dtype=np.int64),
        fresh=np.ones(r, bool),
        last_phase_round=np.zeros(r, dtype=np.int64),
        override=np.full((r, a), -1, dtype=np.int8),
        # constant per run: the stubborn part of a position, and the drop due to leverage
        pos_anchor=dv.one_minus_lam_col * pos0,
        press_drop=sc.pressure_rate * press[:, None] * dv.lev_in,
        # each actor's clock (rounds of talks in this phase), its cost of delay (spent
        # leverage can change it), quiet rounds in a row, when a suspension ends, and who
        # blocked a stalemate (a bit per actor)
        clock=np.zeros((r, a), dtype=np.int64),
        delay=np.broadcast_to(given.get("delay_cost", sc.delay_cost), (r, a)).copy(),
        renege=np.ascontiguousarray(np.broadcast_to(given.get("renege_base", sc.renege_base), (r, a)), dtype=float),
        patience=np.ascontiguousarray(np.broadcast_to(given.get("patience", sc.patience), (r, a)), dtype=np.int64),
        trust_gain=np.ascontiguousarray(np.broadcast_to(given.get("trust_gain", sc.trust_gain), (r,)), dtype=float),
        quiet=np.zeros(r, dtype=np.int64),
        resume=np.zeros(r, dtype=np.int64),
        blockers=np.zeros(r, dtype=np.int64),
        gap_best=np.full(r, -np.inf),
    )
    # per-run strategy parameters (a design's points): ``strategy.<param>`` [R, A]
    per_run = {
        k[len("strategy.") :]: np.ascontiguousarray(v, dtype=float)
        for k, v in given.items()
        if k.startswith("strategy.")
    }
    if per_run or "patience" in given:
        b.add("own_clock", np.ones(r, bool))  # marks a batch whose concession is computed per run
        for k, v in per_run.items():
            b.add(f"param_{k}", v)
    update_renege_scale(st, b)
    open_phase(st, b, np.arange(r))
    st.protocol.init(st, b)
    return b


def open_mask(st: Static, b: Batch) -> np.ndarray:
    """``[R, I]``: which issues are open in each run's current phase."""
    return st.ag.open[b.phase]  # a run's phase never passes the last (settle stops there)


def open_phase(st: Static, b: Batch, rows: np.ndarray) -> None:
    """Open the current phase of ``rows``: bounds, opening text, fresh drafting steps.

    An issue that comes back from an earlier phase is unlocked and may move further from
    the status quo than where it was locked, never back.
    """
    if rows.size == 0:
        return
    ag, sc = st.ag, st.sc
    ph = b.phase[rows]
    op = ag.open[ph]
    lo, hi = ag.lo[ph].copy(), ag.hi[ph].copy()
    prev = b.x[rows]
    again = op & b.locked[rows]
    sq = sc.status_quo
    lo = np.where(again & (prev > sq), np.maximum(lo, prev), lo)
    hi = np.where(again & (prev < sq), np.minimum(hi, prev), hi)
    hi = np.maximum(hi, lo)
    gi = sc.guarantee_issue
    if gi >= 0:  # the mediators draft no guarantee a guarantor would refuse to carry
        g_lo, g_hi = st.derived.guarantee_bounds
        lo[:, gi] = np.maximum(lo[:, gi], np.minimum(g_lo, hi[:, gi]))
        hi[:, gi] = np.maximum(np.minimum(hi[:, gi], g_hi), lo[:, gi])
    fm = ag.first_mover[ph]
    pos = b.pos[rows] if rows.size < len(b) else b.pos  # rows: every run, in order, or a few
    pidx = st.derived.pidx
    # the mediators open at the midpoint of the principals' positions: they draft for the
    # principals, and their own views enter only through a declared target (the rule)
    mid = pos[:, pidx].sum(axis=1) / float(pidx.size)
    anchor = np.where((fm >= 0)[:, None], pos[np.arange(rows.size), np.maximum(fm, 0)], mid)
    b.x[rows] = np.where(op, np.clip(anchor, lo, hi), prev)
    b.lo[rows], b.hi[rows] = lo, hi
    b.locked[rows] = b.locked[rows] & ~op
    b.step[rows] = np.where(op, st.settings.step0, 0.0)
    b.gsign[rows] = 0.0
    b.fresh[rows] = True
    # a new clock for every actor, less what it carries over from the last phase
    b.clock[rows] = np.floor(sc.clock_carry * b.clock[rows]).astype(np.int64)
    b.quiet[rows] = 0
    b.gap_best[rows] = -np.inf


def renege_scale(st: Static, b: Batch) -> np.ndarray:
    """``[R, A, 2]``: base chance the counterpart reneges, and guarantor credibility.

    Kept in the batch (``b.rs``): it changes only when trust does (a phase implemented,
    a shock), and :func:`update_renege_scale` recomputes those runs' rows then.
    """
    return b.rs


def update_renege_scale(st: Static, b: Batch, rows: np.ndarray | None = None) -> None:
    """Recompute ``b.rs`` from trust and credibility, for ``rows`` (default: every run)."""
    dv, sc = st.derived, st.sc
    if rows is None:
        b.add("rs", renege_scale_runs(b.trust, dv.pidx, dv.counterpart_p, b.renege, sc.guarantor, b.cred))
    else:
        b.rs[rows] = renege_scale_runs(
            b.trust[rows], dv.pidx, dv.counterpart_p, b.renege[rows], sc.guarantor, b.cred[rows]
        )


def evaluate_batch(
    st: Static, b: Batch, op: np.ndarray, x: np.ndarray | None = None, with_grad: bool = True
) -> Evaluation:
    """Evaluate text ``x`` (default: the current text) over the open issues ``op``.

    The evaluation carries ``umax``: each actor's expected utility of its own ideal on the
    open issues, the top of its range this phase (:func:`sim.compiled.evaluate_runs`).
    """
    sc = st.sc
    if x is None:  # the kernel's own arrays: straight to the compiled loops
        (eu, u, m, wp, vsq_open, p, umax), hard, grad = evaluate_runs(
            b.x,
            op,
            b.pos,
            b.weight,
            sc.status_quo,
            b.rs,
            sc.guarantee_issue,
            sc.guarantee_strong_end,
            st.red_lines.arrays,
            sc.utility == "linear",
            with_grad,
        )
        return Evaluation(
            eu=eu, u=u, m=m, wp=wp, vsq_open=vsq_open, p=p, hard=hard, umax=umax, grad=grad if with_grad else None
        )
    return evaluate(
        x,
        op,
        b.pos,
        b.weight,
        sc.status_quo,
        b.rs,
        sc.guarantee_issue,
        sc.guarantee_strong_end,
        st.red_lines,
        sc.utility,
        with_grad,
    )


def target_pull(st: Static, b: Batch, op: np.ndarray) -> np.ndarray | None:
    """``[R, I]``: the mediators' pull toward their declared targets, or None if none has one.

    Each mediator with a ``bias`` adds ``bias`` times the gradient of its salience-weighted
    closeness to its ``target`` over the open issues it names (normalised as utilities
    are): the explicit, tagged tilt of a broker. A neutral broker (bias 0) adds nothing;
    the mediators' own ideal points never enter the drafting.
    """
    dv = st.derived
    if dv.biased.size == 0:
        return None
    sc = st.sc
    return target_pull_runs(b.x, op, b.weight, dv.biased, dv.biased_target, dv.biased_bias, sc.utility == "linear")


def concession(families: tuple, ctx: ConcessionContext) -> np.ndarray:
    """The new ``frac`` of every actor: each strategy family on its own actors, clipped to [0, 1].

    Args:
        families: ``Static.families``.
    """
    if len(families) == 1 and families[0][1].all():
        cls, _, params = families[0]
        new = cls.update(ctx, params)
    else:
        new = ctx.frac
        for cls, mask, params in families:
            new = np.where(mask, cls.update(ctx, params), new)
    return np.minimum(np.maximum(new, 0.0), 1.0)  # = np.clip(new, 0, 1), without its Python wrapper


def concede(st: Static, b: Batch, t: int, live: np.ndarray, proposer: np.ndarray | None = None) -> None:
    """Apply each strategy family to its actors' rows of ``frac`` (live runs only).

    Strategies read each actor's own clock (``b.clock``) against its patience, never the
    protocol's window. When every family reads only the clock, the fractions come from
    the table computed once per configuration (``Derived.frac_table``), with the same
    numbers.

    Args:
        proposer: ``[R, A]`` who proposes this round, for turn-based protocols (which also
            pass the discount factors to the strategies).
    """
    table = st.derived.frac_table
    sc = st.sc
    per_run = "own_clock" in b.names
    if table is not None and not per_run:
        new = table[np.minimum(b.clock, table.shape[0] - 1), st.derived.actor_range]
    else:
        families = st.families
        if per_run:  # a design's per-run patience and strategy parameters
            families = tuple(
                (cls, mask, {k: getattr(b, f"param_{k}", v) for k, v in params.items()})
                for cls, mask, params in families
            )
        new = concession(
            families,
            ConcessionContext(
                t=b.clock,
                horizon=b.patience,
                frac=b.frac,
                frac_prev=b.frac_prev,
                eu=b.eu,
                aspiration=b.asp,
                reservation_value=b.rv,
                principal=sc.principal,
                discount=None if proposer is None else sc.discount,
                proposer=proposer,
            ),
        )
    if new.shape == b.frac.shape and all_true(live):
        b.frac_prev, b.frac = b.frac, new
    else:
        lv = live[:, None]
        b.frac_prev = np.where(lv, b.frac, b.frac_prev)
        b.frac = np.where(lv, new, b.frac)


def tick(b: Batch, live: np.ndarray) -> None:
    """One more round on the clock of every actor of the live runs."""
    if all_true(live):
        b.clock += 1
    else:
        b.clock[live] += 1


def influence(st: Static, b: Batch, live: np.ndarray, t: int) -> None:
    """Friedkin-Johnsen influence on positions, then the declared moves of no-deal values.

    ``x(t+1) = L W x(t) + (I - L) x0``, with ``L`` the actors' susceptibility (one minus
    stubbornness). An actor's value of no deal falls by its cost of delay and by pressure
    from actors with leverage over it, each round of its clock up to its patience, and
    moves by the declared events and drivers of round ``t`` (``outside_option``,
    deadlines); it averages along the channels only if the scenario says so
    (``no_deal_influence``).
    """
    sc, dv = st.sc, st.derived
    ev = dv.events[t] if t < dv.n_events else dv.no_events
    start, col, val = dv.lam_w_sparse
    influence_and_time(
        b.pos,
        b.rv,
        b.rv_own,
        start,
        col,
        val,
        b.pos_anchor,
        dv.one_minus_lam,
        ev,
        b.delay,
        b.press_drop,
        b.clock,
        b.patience,
        sc.no_deal_influence,
        live,
    )


def shocks(st: Static, b: Batch, t: int, live: np.ndarray) -> None:
    """A violation hits trust between the principals; it may end the talks or suspend them.

    The same uniform draw decides both: below ``collapse`` the talks end, below
    ``collapse + suspend`` they stop for ``suspend_rounds`` rounds, during which no clock
    runs and nothing is drafted.
    """
    sc = st.sc
    if sc.shock_rate <= 0 or t >= b.uniforms.shape[1]:
        return
    u = b.uniforms[:, t]
    hit = live & (u[:, 0] < sc.shock_rate)
    if not any_true(hit):
        return
    rows = np.flatnonzero(hit)
    tr = b.trust[rows]
    b.trust[rows] = np.where(st.principal_pairs, tr * (1.0 - sc.shock_trust_drop), tr)
    update_renege_scale(st, b, rows)
    collapse = hit & (u[:, 1] < sc.shock_collapse) & (b.status == RUNNING)
    b.status[collapse] = SHOCK
    if sc.shock_suspend > 0:
        pause = hit & ~collapse & (u[:, 1] < sc.shock_collapse + sc.shock_suspend) & (b.status == RUNNING)
        b.status[pause] = SUSPENDED
        b.resume[pause] = t + 1 + sc.shock_suspend_rounds


def aspiration(rv: np.ndarray, frac: np.ndarray, umax: np.ndarray) -> np.ndarray:
    """An actor's aspiration: its value of no deal plus the share ``frac`` of the way from it to
    the best it could get in the phase (``umax``). ``frac`` starts at 1 and its strategy lowers it."""
    return rv + frac * (umax - rv)


def judge(
    *,
    eu: np.ndarray,
    rv: np.ndarray,
    asp: np.ndarray,
    umax: np.ndarray,
    hard: np.ndarray,
    required: np.ndarray,
    running: np.ndarray,
    override: np.ndarray | None = None,
    proposer: np.ndarray | None = None,
    tol_asp: float = 1e-12,
    tol_rv: float = 0.0,
):
    """The acceptance rule, for every actor of every run (``[R, A]`` arrays; ``running [R]``).

    An actor accepts a text if its expected utility meets its aspiration and its value of
    no deal (each less its tolerance) and no hard red line is crossed. A seated human
    (``override`` 0 or 1) decides instead. With ``proposer`` given, the actor who proposed
    the text stands by it unless it falls below its value of no deal. A running run agrees
    if every ``required`` actor accepts; otherwise the first required actor whose best in
    the phase (``umax``) is below its value of no deal walks out.

    Returns:
        ok ``[R, A]`` bool; agreed ``[R]`` bool; walker ``[R]`` (-1: nobody walks out).
    """
    if override is None:
        override = np.full(eu.shape, -1, np.int8)
    use_proposer = proposer is not None
    return accept(
        eu,
        rv,
        asp,
        umax,
        hard,
        override,
        required,
        running,
        proposer if use_proposer else required,
        use_proposer,
        tol_asp,
        tol_rv,
    )


def record_verdicts(
    b: Batch,
    t: int,
    running: np.ndarray,
    all_running: bool,
    eu: np.ndarray,
    asp: np.ndarray,
    umax: np.ndarray,
    ok: np.ndarray,
    walker: np.ndarray,
) -> bool:
    """Keep a round's evaluations and verdicts for the running runs; a walkout ends its run.

    Args:
        walker: ``[R]`` the actor who walks out of each run, or -1 (from
            :func:`sim.compiled.accept`).

    Returns:
        Whether anyone walked out.
    """
    if all_running:
        b.eu, b.asp, b.umax, b.accept = eu, asp, umax, ok
        b.rounds[:] = t + 1
    else:
        rv = running[:, None]
        b.eu, b.asp = np.where(rv, eu, b.eu), np.where(rv, asp, b.asp)
        b.umax, b.accept = np.where(rv, umax, b.umax), np.where(rv, ok, b.accept)
        b.rounds[running] = t + 1
    walk = walker >= 0
    if not any_true(walk):
        return False
    b.walker = np.where(walk, walker, b.walker)
    b.status[walk] = WALKOUT
    return True


def settle(st: Static, b: Batch, agreed: np.ndarray, t: int) -> None:
    """Lock the agreed phases, raise trust by implementing them, open the next phase."""
    rows = np.flatnonzero(agreed)
    if rows.size == 0:
        return
    op = open_mask(st, b)[rows]
    b.locked[rows] |= op
    b.phases_agreed[rows] += 1
    b.last_phase_round[rows] = t
    implement(st, b, rows, op)
    gain = b.trust_gain[rows][:, None, None]
    tr = b.trust[rows]
    b.trust[rows] = np.where(st.principal_pairs, tr + gain * (1.0 - tr), tr)
    update_renege_scale(st, b, rows)
    last = b.phase[rows] + 1 >= st.ag.n_phases
    done = rows[last]
    b.status[done] = AGREED
    nxt = rows[~last]
    b.phase[nxt] += 1
    open_phase(st, b, nxt)


def implement(st: Static, b: Batch, rows: np.ndarray, op: np.ndarray) -> None:
    """Spent leverage: implementing an issue changes the inputs the scenario names.

    ``on_implement`` effects of every issue in the phase just agreed (``op [len(rows), I]``)
    add to or scale an actor's no-deal value, cost of delay or the pressure on it.
    """
    for issue, actor, what, mode, amount in st.sc.effects:
        hit = rows[op[:, issue]]
        if hit.size == 0:
            continue
        if what == 0:  # reservation_value
            arrays = (b.rv_own, b.rv)
        elif what == 1:  # delay_cost
            arrays = (b.delay,)
        else:  # pressure
            arrays = (b.press_drop,)
        for arr in arrays:
            v = arr[hit, actor] + amount if mode == 0 else arr[hit, actor] * amount
            arr[hit, actor] = np.clip(v, 0.0, 1.0)


def between_rounds(st: Static, b: Batch, t: int) -> None:
    """The clocks tick; influence, time and pressure, shocks: the parts of a round every protocol shares
    (protocols whose strategies concede inside the round, as monotonic concession does)."""
    live = b.status == RUNNING
    tick(b, live)
    influence(st, b, live, t + 1)
    shocks(st, b, t, live)


def evolve(st: Static, b: Batch, t: int) -> None:
    """Between rounds: the clocks tick, concede, influence, time and pressure, shocks (live runs only)."""
    live = b.status == RUNNING
    tick(b, live)
    concede(st, b, t + 1, live)
    influence(st, b, live, t + 1)
    shocks(st, b, t, live)


def required(st: Static, b: Batch) -> np.ndarray:
    """``[R, A]``: whose acceptance each run's text needs in its current phase: the
    principals, and the guarantors while their clause is open (a table per phase)."""
    return st.derived.required_by_phase[b.phase]


def final_text(st: Static, b: Batch) -> np.ndarray:
    """The outcome: locked issues as agreed, everything else back to the status quo."""
    return np.where(b.locked, b.x, st.sc.status_quo)
