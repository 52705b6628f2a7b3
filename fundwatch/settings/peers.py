"""Settings section ``peers``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PeerSettings(BaseModel):
    """Settings for peers. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")
