"""Settings section ``store``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StoreSettings(BaseModel):
    """Settings for store. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")
