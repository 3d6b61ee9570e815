"""Baselines: what simpler forecasts than the model say, beside every result.

In the forecasting literature the naive baseline is hard to beat: the weighted mean of
the actors' positions on each issue, each actor weighted by its capability times its
salience on the issue, and its robust sibling, the weighted median (the position that
half the total weight lies on either side of, the position no majority of weight can
beat in one-dimensional voting). A model's agreed terms mean more when they differ from
these for reasons the model can name. Capability is a tagged actor input (default 1:
all actors equal).
"""

from __future__ import annotations

import numpy as np


def weights(capability: np.ndarray, salience: np.ndarray) -> np.ndarray:
    """``[..., A, I]``: capability times salience (each actor's saliences as given, not normalised)."""
    return capability[..., :, None] * salience


def weighted_mean(position: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``[..., I]``: the weighted mean of positions ``[..., A, I]`` per issue (NaN where no weight)."""
    w = np.broadcast_to(w, position.shape)
    tot = w.sum(axis=-2)
    return np.where(tot > 0, (w * position).sum(axis=-2) / np.where(tot > 0, tot, 1.0), np.nan)


def weighted_median(position: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``[..., I]``: the weighted median per issue: the smallest position at which the weight at
    or below it reaches half the total (the lower median when the halves tie)."""
    w = np.broadcast_to(w, position.shape)
    order = np.argsort(position, axis=-2, kind="stable")
    p = np.take_along_axis(position, order, axis=-2)
    cw = np.cumsum(np.take_along_axis(w, order, axis=-2), axis=-2)
    half = cw[..., -1:, :] / 2.0
    k = (cw < half - 1e-12).sum(axis=-2, keepdims=True)
    out = np.take_along_axis(p, np.minimum(k, p.shape[-2] - 1), axis=-2)[..., 0, :]
    return np.where(cw[..., -1, :] > 0, out, np.nan)


def of_scenario(sc) -> dict[str, dict[str, float]]:
    """Both baselines for each issue of a compiled scenario, at its stated positions and saliences
    (the run table's ``baseline_*`` columns use each run's own draws of both)."""
    w = weights(sc.capability, sc.salience)
    mean, med = weighted_mean(sc.position, w), weighted_median(sc.position, w)
    return {iss: {"weighted_mean": float(mean[i]), "weighted_median": float(med[i])} for i, iss in enumerate(sc.issues)}
