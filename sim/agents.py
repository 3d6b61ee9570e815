"""The actors as Mesa agents: each is a window onto its own row of the kernel's arrays.

An agent does not hold a private copy of its state: ``position``, ``aspiration`` and the
rest read the model's one-run batch, so what a student inspects, what the dashboard
draws and what the DataCollector records are exactly what the kernel computed. Agents
sit on the cells of a Mesa ``Network`` space built from the scenario's channels.
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import CellAgent


class NegotiatorAgent(CellAgent):
    """One actor of the scenario (a principal, mediator and/or guarantor)."""

    def __init__(self, model, index: int) -> None:
        super().__init__(model)
        self.index = index

    # -- identity ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.model.static.sc.actors[self.index]

    @property
    def label(self) -> str:
        return self.model.static.sc.labels[self.index]

    @property
    def roles(self) -> list[str]:
        sc = self.model.static.sc
        return [r for r, m in (("principal", sc.principal), ("mediator", sc.mediator),
                               ("guarantor", sc.guarantor)) if m[self.index]]

    @property
    def is_principal(self) -> bool:
        return bool(self.model.static.sc.principal[self.index])

    # -- state (views of the batch row) ------------------------------------------------
    @property
    def position(self) -> np.ndarray:
        """Current ideal point on every issue (moves with influence)."""
        return self.model.batch.pos[0, self.index]

    @property
    def initial_position(self) -> np.ndarray:
        return self.model.batch.pos0[0, self.index]

    @property
    def salience(self) -> np.ndarray:
        """Normalised weight on every issue (sums to one)."""
        return self.model.batch.weight[0, self.index]

    @property
    def reservation_value(self) -> float:
        return float(self.model.batch.rv[0, self.index])

    @property
    def aspiration(self) -> float:
        return float(self.model.batch.asp[0, self.index])

    @property
    def expected_utility(self) -> float:
        """Expected utility of the current text over the open issues."""
        return float(self.model.batch.eu[0, self.index])

    @property
    def accepts(self) -> bool:
        return bool(self.model.batch.accept[0, self.index])

    @property
    def trust(self) -> np.ndarray:
        """Trust in every other actor (a copy: trust changes through the kernel's steps)."""
        return self.model.batch.trust[0, self.index].copy()

    def step(self) -> None:
        """Agents act through the kernel (see NegotiationModel.step); nothing per agent."""

    def __repr__(self) -> str:
        return f"NegotiatorAgent({self.name}, roles={self.roles})"
