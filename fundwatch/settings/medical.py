"""Settings section ``medical``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class MedicalSettings(BaseModel):
    """Settings for medical. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")
