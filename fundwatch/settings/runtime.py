"""Settings section ``runtime``: how a run behaves (not what it finds)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class RuntimeSettings(BaseModel):
    """Run-time behaviour.

    Attributes
    ----------
    fail_at_step : fault injection for crash-safety tests: the pipeline raises
        ``InjectedFault`` when it reaches this step (``load``, ``validate``, ``detect``,
        ``rank``, ``store``, ``report``). ``None`` in production.
    random_state : seed for every randomised model, so runs are deterministic.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fail_at_step: Literal["load", "validate", "detect", "rank", "store", "report"] | None = None
    random_state: int = 0
