"""Settings section ``load``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LoadSettings(BaseModel):
    """Settings for load. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")
