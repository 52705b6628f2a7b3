"""Settings section ``validation``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ValidationSettings(BaseModel):
    """Settings for validation. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")
