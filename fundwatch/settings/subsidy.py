"""Settings section ``subsidy``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SubsidySettings(BaseModel):
    """Settings for subsidy. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")
