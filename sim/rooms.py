"""Rooms: one negotiation shared by a class, with seats for students and a board for the teacher.

A teacher opens a :class:`Room` for a scenario and agenda and gets a short join code.
Students join with the code and take seats; any set of actors can be played by students,
the rest follow their strategies. A round is played when every seated student has made
a move (accept, hold out or counter-offer), or, if the teacher set a time limit, when the
limit has passed (a seat that made no move holds out). A seat belongs to a token (the
browser keeps it in the page's address), so a reload gets the same seat back, and two
tokens can never hold one seat.

Rooms live in a server-side :class:`Registry` (one per process, :data:`REGISTRY`),
separate from any browser session: every session that shows a room reads the same
model. Each room has a lock; every change bumps ``room.version``, which the pages poll.

The class board (:meth:`Registry.board`) has one row per room: rounds, outcome, the final
text in words, and each principal's utility against its no-deal value;
:func:`frontier` gives the principals' Pareto frontier and Nash point to draw the rooms'
outcomes against, and :meth:`Registry.csv` the board as CSV.
"""

from __future__ import annotations

import io
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from sim.classroom import Answer, ClassroomModel, Preview

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed without mistakes
CODE_LENGTH = 5
MAX_ROOMS = 200  # a bound on what one server keeps (a class needs 15)


def new_token() -> str:
    """A seat token for one browser (kept in the page's address)."""
    return secrets.token_urlsafe(9)


@dataclass
class Room:
    """One shared negotiation (see the module docstring)."""

    code: str
    scenario: str
    agenda: str
    seed: int = 0
    time_limit: float | None = None  # seconds per round; None: the round waits for every seated student
    label: str = ""
    model: ClassroomModel = field(init=False)
    seats: dict[str, str] = field(default_factory=dict)  # actor -> token
    version: int = 0
    closed: bool = False
    round_started: float = field(default_factory=time.monotonic)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        if self.time_limit is not None and not self.time_limit > 0:
            raise ValueError(f"room time limit must be a positive number of seconds or None, got {self.time_limit!r}")
        self.model = ClassroomModel(scenario=self.scenario, agenda=self.agenda, rng=int(self.seed))

    # -- seats ---------------------------------------------------------------------------
    @property
    def actors(self) -> tuple[str, ...]:
        """The scenario's actors, in its order (the seats a student can take)."""
        return tuple(self.model.static.sc.actors)

    def seat_of(self, token: str | None) -> str | None:
        """The actor this token sits in, or None."""
        with self.lock:
            return next((a for a, t in self.seats.items() if t == token), None) if token else None

    def take(self, token: str, actor: str) -> None:
        """The browser with ``token`` takes ``actor``'s seat (leaving any seat it held here).

        Raises:
            ValueError: no such actor, the room is closed, or another browser holds the seat.
        """
        if not token:
            raise ValueError("a seat needs a browser token")
        with self.lock:
            if self.closed:
                raise ValueError(f"room {self.code} is closed")
            if actor not in self.actors:
                raise ValueError(f"no actor {actor!r} in room {self.code}; expected one of {', '.join(self.actors)}")
            holder = self.seats.get(actor)
            if holder is not None and holder != token:
                raise ValueError(f"{actor}'s seat in room {self.code} is taken by another student")
            old = self.seat_of(token)
            if old == actor:
                return
            if old is not None:
                self._free(old)
            self.seats[actor] = token
            self.model.sit(actor)
            self._changed()

    def leave(self, token: str) -> None:
        """The browser's seat (if any) goes back to following its strategy."""
        with self.lock:
            actor = self.seat_of(token)
            if actor is not None:
                self._free(actor)
                self._changed()

    def _free(self, actor: str) -> None:
        self.seats.pop(actor, None)
        self.model.stand(actor)

    def waiting_for(self) -> list[str]:
        """The seated actors that have not moved this round."""
        with self.lock:
            return [a for a in self.model.humans if not self.model.has_moved(a)] if self.model.running else []

    def seconds_left(self, now: float | None = None) -> float | None:
        """Seconds left in this round under the time limit (never below 0); None without a limit or once ended."""
        if self.time_limit is None or not self.model.running:
            return None
        return max(0.0, self.time_limit - ((now if now is not None else time.monotonic()) - self.round_started))

    # -- moves ---------------------------------------------------------------------------
    def _actor(self, token: str) -> str:
        actor = self.seat_of(token)
        if actor is None:
            raise ValueError(f"you hold no seat in room {self.code}: take one first")
        if self.closed:
            raise ValueError(f"room {self.code} is closed")
        return actor

    def preview(self, token: str, offer: Mapping[str, float]) -> Preview:
        """A counter-offer judged before it is sent (nothing changes)."""
        with self.lock:
            return self.model.preview(offer, self._actor(token))

    def move(self, token: str, move: str, offer: Mapping[str, float] | None = None) -> bool:
        """The seat's move this round; the round is played once every seat has moved.

        Returns whether a round was played.
        """
        with self.lock:
            actor = self._actor(token)
            m = self.model
            if move == "accept":
                m.accept(actor)
            elif move == "hold":
                m.hold(actor)
            elif move == "counter":
                m.counter(offer or {}, actor)
            else:
                raise ValueError(f"move must be one of accept, hold, counter, got {move!r}")
            played = not self.waiting_for()
            if played:
                self._play()
            self._changed()
            return played

    def play_round(self) -> None:
        """Play the round now (the teacher's button; seats that made no move hold out)."""
        with self.lock:
            if self.model.running and not self.closed:
                self._play()
                self._changed()

    def tick(self, now: float | None = None) -> bool:
        """Play the round if its time limit has passed; returns whether it did."""
        with self.lock:
            left = self.seconds_left(now)
            if left is None or left > 0 or self.closed or not self.model.running:
                return False
            self._play()
            self._changed()
            return True

    def _play(self) -> None:
        self.model.step()
        self.round_started = time.monotonic()

    def _changed(self) -> None:
        self.version += 1

    def answer(self, token: str) -> Answer | None:
        """What came of the last move of the seat this token holds; None without a seat or a move."""
        with self.lock:
            actor = self.seat_of(token)
            return self.model.answer_of(actor) if actor else None

    def reset(self) -> None:
        """Start the negotiation again with the same seats (the teacher's button)."""
        with self.lock:
            self.model = ClassroomModel(scenario=self.scenario, agenda=self.agenda, rng=int(self.seed))
            for actor in self.seats:
                self.model.sit(actor)
            self.round_started = time.monotonic()
            self._changed()

    # -- the board -----------------------------------------------------------------------
    def row(self) -> dict:
        """The room on the class board: rounds, outcome, text in words, principals' utilities."""
        with self.lock:
            m = self.model
            sc = m.static.sc
            out = {
                "room": self.code,
                "label": self.label,
                "scenario": self.scenario,
                "agenda": self.agenda,
                "seed": self.seed,
                "seats": ", ".join(f"{a}" for a in self.seats) or "none",
                "round": m.round,
                "status": m.status,
                "closed": self.closed,
            }
            finished = not m.running
            res = m.result() if finished else None
            out["outcome"] = res["outcome"] if res else "running"
            if res:
                out["text"] = (
                    "; ".join(f"{i}: {t['label'] or round(t['value'], 2)}" for i, t in res["terms"].items())
                    or "no agreement"
                )
            else:
                out["text"] = "; ".join(
                    f"{i}: {sc.anchor_label(k, float(m.text[k])) or round(float(m.text[k]), 2)}"
                    for k, i in enumerate(sc.issues)
                    if k in _open(m)
                )
            for a in np.flatnonzero(sc.principal):
                name = sc.actors[a]
                u = res["utilities"][name] if res else m.own_utility(name)
                out[f"utility_{name}"] = round(float(u), 4)
                out[f"no_deal_{name}"] = round(float(m.batch.rv0[0, a]), 4)
            return out


def _open(m: ClassroomModel) -> set[int]:
    sc = m.static.sc
    return {sc.issues.index(i) for i in m.open_issues}


class Registry:
    """The server's rooms, by join code, behind one lock (rooms have their own locks too)."""

    def __init__(self, max_rooms: int = MAX_ROOMS, rng: secrets.SystemRandom | None = None) -> None:
        self.rooms: dict[str, Room] = {}
        self.lock = threading.Lock()
        self.max_rooms = max_rooms
        self._rng = rng or secrets.SystemRandom()

    def _code(self) -> str:
        while True:
            code = "".join(self._rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self.rooms:
                return code

    def open(self, scenario: str, agenda: str, seed: int = 0, time_limit: float | None = None, label: str = "") -> Room:
        """Open a room; raises ValueError if the server already keeps ``max_rooms`` rooms."""
        with self.lock:
            if len(self.rooms) >= self.max_rooms:
                raise ValueError(f"this server keeps at most {self.max_rooms} rooms: close some first")
            code = self._code()
            room = Room(code=code, scenario=scenario, agenda=agenda, seed=int(seed), time_limit=time_limit, label=label)
            self.rooms[code] = room
            return room

    def get(self, code: str) -> Room:
        """The room with this join code (any case, spaces ignored); ValueError if there is none."""
        key = "".join(str(code).split()).upper()
        with self.lock:
            room = self.rooms.get(key)
        if room is None:
            raise ValueError(f"no room with code {key!r}: check the code on the teacher's screen")
        return room

    def close(self, code: str) -> None:
        """Close a room and forget it (its row leaves the board)."""
        with self.lock:
            room = self.rooms.pop(code, None)
        if room is not None:
            with room.lock:
                room.closed = True
                room._changed()

    def close_all(self) -> None:
        """Close every room (their pages say so)."""
        for code in list(self.rooms):
            self.close(code)

    def list(self) -> list[Room]:
        """The rooms open now, oldest first."""
        with self.lock:
            return list(self.rooms.values())

    def board(self) -> pd.DataFrame:
        """One row per room (see :meth:`Room.row`)."""
        return pd.DataFrame([r.row() for r in self.list()])

    def csv(self) -> str:
        """The class board (:meth:`board`) as CSV text, for the teacher's download."""
        buf = io.StringIO()
        self.board().to_csv(buf, index=False)
        return buf.getvalue()


REGISTRY = Registry()


@lru_cache(maxsize=16)
def frontier(scenario: str, agenda: str = "comprehensive", n: int = 20_000) -> dict:
    """The two first principals' utilities over many texts: their Pareto frontier and Nash point.

    Texts are drawn uniformly over every issue (seed 0), plus every combination of the two
    principals' ideal points; utilities are the scenario's judged positions and saliences
    (no per-run noise), red-line penalties included, as the outcome is scored. The Nash
    point maximises the product of the two surpluses over their judged no-deal values
    among those texts (an approximation on ``n`` texts, close enough for a chart).

    Returns ``{"actors": (a, b), "frontier": [N, 2] array sorted by a's utility,
    "nash": (ua, ub), "no_deal": (ra, rb)}``.
    """
    from itertools import product

    from sim.classroom import COMPOSE_LOCK
    from sim.model import _static
    from sim.utility import plain_utility

    with COMPOSE_LOCK:
        st = _static(scenario, agenda, "mediated", ())
    sc = st.sc
    who = np.flatnonzero(sc.principal)[:2]
    if who.size < 2:
        raise ValueError(f"scenario {scenario} has fewer than two principals: no frontier to draw")
    rng = np.random.default_rng(0)
    x = rng.random((n, sc.n_issues))
    ends = np.array(list(product(*[(sc.position[who[0], i], sc.position[who[1], i]) for i in range(sc.n_issues)])))
    x = np.vstack([x, ends])
    w = sc.salience / np.maximum(sc.salience.sum(axis=1, keepdims=True), 1e-12)
    u = plain_utility(x, sc.position, w, sc.utility, st.red_lines)[:, who]
    order = np.lexsort((-u[:, 1], -u[:, 0]))
    best, keep = -np.inf, []
    for k in order:  # by a's utility, descending: a point is on the frontier if b's beats every point before
        if u[k, 1] > best + 1e-12:
            keep.append(k)
            best = u[k, 1]
    front = u[keep][::-1]
    rv = sc.reservation_value[who]
    surplus = np.clip(u - rv, 0.0, None).prod(axis=1)
    k = int(surplus.argmax())
    return {
        "actors": (sc.actors[who[0]], sc.actors[who[1]]),
        "frontier": front,
        "nash": (float(u[k, 0]), float(u[k, 1])),
        "no_deal": (float(rv[0]), float(rv[1])),
    }
