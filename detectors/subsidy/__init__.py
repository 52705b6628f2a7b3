"""One-card (一卡通) subsidy rule detectors, one detector family per module.

Every rule class of this package is exported here (found by
:mod:`fundwatch.detectors.registry`); ``python -m fundwatch.rules_catalog`` lists the codes
with their detector and module. Each rule takes its settings as keyword arguments
(defaults from ``fundwatch.settings.DEFAULT_SETTINGS.subsidy``) and can be run on
DataFrames directly::

    from fundwatch.detectors.subsidy import DeceasedPayeeRule
    findings = DeceasedPayeeRule().fit_detect(datasets)
"""

from __future__ import annotations

from fundwatch.settings import DEFAULT_SETTINGS, Settings

from ..base import Detector
from ..registry import detector_classes, family_exports

globals().update(family_exports("subsidy"))

__all__ = [*family_exports("subsidy"), "build_detectors"]


def build_detectors(settings: Settings = DEFAULT_SETTINGS) -> list[Detector]:
    """Every subsidy rule of this package, configured from ``settings``."""
    return [cls.from_settings(settings) for cls in detector_classes("subsidy")]
