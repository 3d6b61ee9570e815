"""Reasons in words: why an actor refuses a text, and the pieces those sentences are made of.

One place for the words the round log (:mod:`sim.model`), the agents
(:meth:`sim.agents.NegotiatorAgent.would_accept`) and the classroom use, so that a
reason reads the same wherever a student meets it. Directions are given in the
scenario's own anchor words; numbers carry as many digits as it takes to tell them apart.
"""

from __future__ import annotations

import numpy as np

from sim.kernel import Static


def compare(*values: float) -> tuple[str, ...]:
    """The values with the fewest digits (2 to 6) that keep unequal ones apart ("0.84 below 0.84" never appears)."""
    for d in range(2, 7):
        out = tuple(f"{v:.{d}f}" for v in values)
        if all(out[i] != out[j] for i in range(len(values)) for j in range(i) if values[i] != values[j]):
            return out
    return out


def red_lines_crossed(st: Static, a: int, op: np.ndarray, text: np.ndarray) -> list[tuple[int, bool]]:
    """Every red line of actor ``a`` the text crosses on an open issue, in order: ``(row, hard)``."""
    rl = st.red_lines
    out = []
    for k in np.flatnonzero(rl.actor == a):
        i = rl.issue[k]
        if not op[i]:
            continue
        beyond = rl.sign[k] * (rl.bound[k] - text[i]) > 1e-9
        lifted = rl.cond_issue[k] >= 0 and rl.cond_sign[k] * (text[rl.cond_issue[k]] - rl.cond_bound[k]) >= 0
        if beyond and not lifted:
            out.append((int(k), bool(rl.hard[k])))
    return out


def red_line_crossed(st: Static, a: int, op: np.ndarray, text: np.ndarray) -> tuple[int, bool] | None:
    """The first red line of actor ``a`` the text crosses on an open issue: ``(row, hard)``, or None."""
    found = red_lines_crossed(st, a, op, text)
    return found[0] if found else None


def direction_words(sc, i: int, text: float, want: float) -> str:
    """ "wants <issue> moved toward '<anchor>'" (the anchor nearest where it wants the issue), with numbers."""
    iss = sc.issues[i]
    d, t = compare(want, text)
    if not sc.anchors[i]:
        return f"wants {'a higher' if want > text else 'a lower'} {iss} (its position {d}, the text {t})"
    target = sc.anchor_label(i, want)
    if target == sc.anchor_label(i, text):  # the same anchor: name the end it pulls toward
        ends = sorted(sc.anchors[i])
        target = (ends[-1] if want > text else ends[0])[1]
    return f"wants {iss} moved toward '{target}' (its position {d}, the text {t})"


def red_line_words(sc, st: Static, k: int, text: np.ndarray) -> str:
    """A crossed red line in words: which side of which value the actor needs, and where the text is."""
    rl = st.red_lines
    i = int(rl.issue[k])
    bound, t = compare(float(rl.bound[k]), float(text[i]))
    side = "at least" if rl.sign[k] > 0 else "at most"
    label = f" '{sc.anchor_label(i, float(rl.bound[k]))}'" if sc.anchors[i] else ""
    kind = "hard red line" if rl.hard[k] else "red line"
    return f"the text crosses its {kind} on {sc.issues[i]} (it needs {side} {bound}{label}, the text has {t})"


def refusal(
    st: Static,
    a: int,
    *,
    text: np.ndarray,
    op: np.ndarray,
    eu: float,
    asp: float,
    rv: float | None,
    pos: np.ndarray,
    weight: np.ndarray,
) -> str:
    """Why actor ``a`` refuses ``text`` (``[I]``, open issues ``op``): a hard red line if one is
    crossed; else what it wants moved (the open issue on which it loses most, by its
    ``weight`` and position ``pos``), any soft red line crossed, and which test fails: its
    value of no deal ``rv`` (when given) or its aspiration ``asp``."""
    sc = st.sc
    crossed = red_line_crossed(st, a, op, text)
    if crossed is not None and crossed[1]:
        return red_line_words(sc, st, crossed[0], text)  # a hard line: no utility makes up for it
    i = int(np.where(op, weight * np.abs(text - pos), -1.0).argmax())
    wants = direction_words(sc, i, float(text[i]), float(pos[i]))
    soft = f", and {red_line_words(sc, st, crossed[0], text)}" if crossed is not None else ""
    if rv is not None and eu < rv:
        e, v = compare(eu, rv)
        return f"{wants}{soft}: expected utility {e} below its no-deal value {v}"
    e, v = compare(eu, asp)
    return f"{wants}{soft}: expected utility {e} below its aspiration {v}"
