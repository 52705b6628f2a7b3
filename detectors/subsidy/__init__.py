"""subsidy detectors. See :mod:`detectors.base` for the interface."""

from __future__ import annotations

from fundwatch.settings import Settings

from ..base import Detector


def build_detectors(settings: Settings) -> list[Detector]:
    """Every subsidy detector, configured from ``settings``."""
    return []
