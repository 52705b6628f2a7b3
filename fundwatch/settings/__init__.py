"""The one typed settings object.

Every threshold, tolerance, weight and default lives in a section of :class:`Settings`;
code reads ``settings.<section>.<field>`` instead of scattering constants. Each section is
declared in its own module beside this one (``load``, ``validation``, ``subsidy``,
``medical``, ``peers``, ``scoring``, ``store``, ``report``, ``runtime``, ``workspace``) so that each can be
read and reviewed with the code that uses it.

Settings are frozen pydantic models: load them from a TOML/JSON file with
:meth:`Settings.from_file` or override fields in code with ``model_copy(update=...)``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from .load import LoadSettings
from .medical import MedicalSettings
from .peers import PeerSettings
from .report import ReportSettings
from .runtime import RuntimeSettings
from .scoring import ScoringSettings
from .store import StoreSettings
from .subsidy import SubsidySettings
from .validation import ValidationSettings
from .workspace import WorkspaceSettings

__all__ = [
    "Settings",
    "DEFAULT_SETTINGS",
    "LoadSettings",
    "ValidationSettings",
    "SubsidySettings",
    "MedicalSettings",
    "PeerSettings",
    "ScoringSettings",
    "StoreSettings",
    "ReportSettings",
    "RuntimeSettings",
    "WorkspaceSettings",
]


class Settings(BaseModel):
    """All of fundwatch's settings, by section."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    load: LoadSettings = Field(default_factory=LoadSettings)
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
    subsidy: SubsidySettings = Field(default_factory=SubsidySettings)
    medical: MedicalSettings = Field(default_factory=MedicalSettings)
    peers: PeerSettings = Field(default_factory=PeerSettings)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    workspace: WorkspaceSettings = Field(default_factory=WorkspaceSettings)

    @classmethod
    def from_file(cls, path: str | Path) -> "Settings":
        """Read settings from a ``.toml`` or ``.json`` file; missing fields keep their defaults."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        return cls.model_validate(data)


DEFAULT_SETTINGS = Settings()
