"""Medical-insurance (医保) detectors. See :mod:`fundwatch.detectors.base` for the interface.

Every detector class of this package is exported here (found by
:mod:`fundwatch.detectors.registry`); ``python -m fundwatch.rules_catalog`` lists the codes
with their detector and module. Settings: :class:`fundwatch.settings.medical.MedicalSettings`.
"""

from __future__ import annotations

from fundwatch.settings import DEFAULT_SETTINGS, Settings

from ..base import Detector
from ..registry import detector_classes, family_exports

globals().update(family_exports("medical"))

__all__ = [*family_exports("medical"), "build_detectors"]


def build_detectors(settings: Settings = DEFAULT_SETTINGS) -> list[Detector]:
    """Every detector of this package, configured from ``settings``."""
    return [cls.from_settings(settings) for cls in detector_classes("medical")]
