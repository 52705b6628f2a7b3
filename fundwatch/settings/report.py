"""Settings section ``report``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ReportSettings(BaseModel):
    """Settings for report. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")
