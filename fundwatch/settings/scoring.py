"""Settings section ``scoring``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ScoringSettings(BaseModel):
    """Settings for scoring. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")
