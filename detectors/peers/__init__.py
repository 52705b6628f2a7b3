"""Peer-group outlier models: villages, operators, institutions, doctors.

Each is a :class:`fundwatch.detectors.base.Detector` (``kind="model"``) built on
:class:`fundwatch.detectors.peers._model.PeerOutlierModel`: features per entity, robust
z-scores within the entity's peer group, the
:class:`fundwatch.detectors.ensemble.EntityOutlierEnsemble` over them, and findings
explained by the top features against the peer medians. Every model class of this package
is exported here (found by :mod:`fundwatch.detectors.registry`).
"""

from __future__ import annotations

from fundwatch.settings import DEFAULT_SETTINGS, Settings

from ..base import Detector
from ..registry import detector_classes, family_exports

globals().update(family_exports("peers"))

__all__ = [*family_exports("peers"), "build_detectors"]


def build_detectors(settings: Settings = DEFAULT_SETTINGS) -> list[Detector]:
    """Every model of this package, configured from ``settings``."""
    return [cls.from_settings(settings) for cls in detector_classes("peers")]
