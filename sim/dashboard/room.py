"""A room: a seat in a negotiation shared with the class, kept in step across browsers.

*Join a room* (``/?view=join``) asks for the code on the teacher's screen; the room's page
(``/?room=CODE&token=...``) shows the room's status line (who it waits for, the time left),
the seat card (pick an actor, then accept, hold out or counter-offer), the round log, the
text in words, the positions and the utilities. The token in the address keeps the seat
across reloads. Pages poll the room (:func:`use_room_version`) to show moves made in other
browsers. Rooms live in :data:`sim.rooms.REGISTRY`.
"""

# ruff: noqa: N802  (Solara components are named like classes, as in its docs)
from __future__ import annotations

import threading
from html import escape

import solara
import solara.server.kernel_context

from sim.dashboard.panels import Brief, CounterOffer, Log, Positions, Status, TextInWords, Utilities
from sim.rooms import REGISTRY, new_token

POLL_SECONDS = 0.5  # how often a room's page looks for moves made in other browsers


def use_room_version(rooms):
    """Re-render when any of ``rooms`` changes (moves made in other browsers, the time limit).

    A hook: call it at the top level of a component. ``rooms()`` returns the rooms to watch.
    """
    version = solara.use_reactive(0)

    context = solara.server.kernel_context.get_current_context()

    def poll(cancel: threading.Event):
        seen = None
        # stop with the component, or with the session (a closed tab), whichever comes first
        while not cancel.wait(POLL_SECONDS) and not context.closed_event.is_set():
            now = 0
            for room in rooms():
                room.tick()
                now += room.version + (10**6 if room.closed else 0)
            now += 10**9 * len(rooms())
            if now != seen:
                seen = now
                version.value += 1

    solara.use_thread(poll, dependencies=[], intrusive_cancel=False)
    return version.value


@solara.component
def Join():
    """The join card: a box for the room code and a Join button (an unknown code shows an error)."""
    code = solara.use_reactive("")
    error = solara.use_reactive("")
    router = solara.use_router()

    def go():
        try:
            room = REGISTRY.get(code.value)
        except ValueError as e:
            error.value = str(e)
            return
        router.push(f"/?room={room.code}&token={new_token()}")

    with solara.Card("Join a room", classes=["join"]):
        solara.Text("Type the code on the teacher's screen.")
        solara.InputText("Room code", value=code, continuous_update=True)
        solara.Button("Join", color="primary", on_click=go)
        if error.value:
            solara.Error(error.value)


def room_status(room, waiting: list[str]) -> str:
    """The room's part of the status line (HTML): its code, who it waits for, the time left in the round."""
    left = room.seconds_left()
    extra = f" · room <b>{room.code}</b>"
    if waiting:
        extra += f" · waiting for <b>{escape(', '.join(waiting))}</b>"
    if left is not None:
        extra += f" · <b>{left:.0f} s</b> left in this round"
    return extra


def seat_buttons(room, m, token: str, act) -> None:
    """The seat card before a seat is taken: one button per actor, taken seats greyed, principals highlighted.

    Drawn while rendering :func:`RoomPage` (``m``: the room's model); ``act`` wraps a click so its
    error shows on the page.
    """
    solara.Text("Pick the actor you will play. Actors nobody plays follow their strategies.")
    for actor in room.actors:
        taken = actor in room.seats
        role = "principal" if m.static.sc.principal[m.static.sc.actors.index(actor)] else "other"
        solara.Button(
            f"Take {actor}'s seat" + (" (taken)" if taken else ""),
            disabled=taken,
            color="primary" if role == "principal" and not taken else None,
            on_click=act(lambda actor=actor: room.take(token, actor)),
            classes=[f"take-{actor}"],
        )


def seat_moves(room, m, token: str, mine: str, waiting: list[str], act, show_preview, preview) -> None:
    """The seat card once seated: the text's worth to you, your brief, your moves or the outcome, the answer.

    While the talks run: the move already made this round (it can still change), Accept,
    Hold out and the counter-offer sliders with the ``preview`` of a counter-offer (a reactive
    string). Drawn while rendering :func:`RoomPage` (``m``: the room's model).
    """
    u, r = m.own_utility(mine), float(m.batch.rv[0, m.static.sc.actors.index(mine)])
    solara.HTML(
        tag="p",
        classes=["you-are"],
        unsafe_innerHTML=(
            f"<b>You are {escape(mine)}</b>. The text on the table is worth <b>{u:.2f}</b> to you; "
            f"no deal is now worth <b>{r:.2f}</b>."
        ),
    )
    Brief(m, mine)
    if m.running:
        moved = m.moves.get(mine)
        if moved:
            solara.Info(
                f"Your move this round: {moved[0]}. Waiting for "
                f"{', '.join(w for w in waiting if w != mine) or 'the round'}; you can "
                "still change it.",
                classes=["moved"],
            )
        with solara.Row():
            solara.Button("Accept the text", color="success", on_click=act(lambda: room.move(token, "accept")))
            solara.Button("Hold out", on_click=act(lambda: room.move(token, "hold")))
        CounterOffer(m, mine, m.round, show_preview, act(lambda offer: room.move(token, "counter", offer)))
        if preview.value:
            solara.Info(preview.value, classes=["preview"])
    else:
        solara.Success(f"The talks have ended: {m.status} after {m.round} rounds.", classes=["outcome"])
    ans = room.answer(token)
    if ans is not None:
        with solara.Card("What came of your last move", classes=["answer"]):
            solara.Text(ans.summary())
    solara.Button("Leave the seat", text=True, on_click=act(lambda: room.leave(token)))


@solara.component
def RoomPage(code: str, token: str | None):
    """A room's page, found by its join code (:func:`RoomView`); an unknown code shows the error and the join card."""
    try:
        room = REGISTRY.get(code)
    except ValueError as e:
        solara.Error(str(e))
        Join()
        return
    RoomView(room, token)


@solara.component
def RoomView(room, token: str | None):
    """A room: status line, the seat card, round log and text, then positions and utilities.

    A room the teacher closes says so. A browser without a token in its address is given
    one, so a reload keeps its seat.
    """
    router = solara.use_router()
    tok = solara.use_memo(new_token, [])

    def give_token():  # this browser's seat token lives in the address, so a reload keeps the seat
        if not token:
            router.push(f"/?room={room.code}&token={tok}")

    solara.use_effect(give_token, [token])
    version = use_room_version(lambda: [room])
    error = solara.use_reactive("")
    preview = solara.use_reactive("")
    if room.closed:
        solara.Warning(f"Room {room.code} has been closed by the teacher.")
        return
    m = room.model
    mine = room.seat_of(token)

    def act(fn):
        def go(*args):
            try:
                error.value = ""
                fn(*args)
            except ValueError as e:
                # a click that arrives just after the other side's move ended the talks needs no
                # error: the page shows the outcome
                error.value = str(e) if room.model.running else ""
            preview.value = ""

        return go

    def show_preview(offer):
        try:
            preview.value = room.preview(token, offer).summary()
            error.value = ""
        except ValueError as e:
            error.value = str(e)

    waiting = room.waiting_for()
    Status(m, version, room_status(room, waiting))
    with solara.ColumnsResponsive(12, large=[5, 7]):
        with solara.Card(f"Your seat in room {room.code}", classes=["seat", "room-seat"]):
            if mine is None:
                seat_buttons(room, m, token, act)
            else:
                seat_moves(room, m, token, mine, waiting, act, show_preview, preview)
            if error.value:
                solara.Error(error.value)
        with solara.Column():
            Log(m, version)
            TextInWords(m, version)
    with solara.ColumnsResponsive(12, large=[8, 4]):
        Positions(m, version)
        Utilities(m, version)
