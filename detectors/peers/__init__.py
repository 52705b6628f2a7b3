"""Peer-group outlier models: villages, operators, institutions, doctors.

Each is a :class:`detectors.base.Detector` (``kind="model"``) built on
:class:`detectors.peers._model.PeerOutlierModel`: features per entity, robust z-scores within
the entity's peer group, the :class:`detectors.ensemble.EntityOutlierEnsemble` over them, and
findings explained by the top features against the peer medians.
"""

from __future__ import annotations

from fundwatch.settings import Settings

from ..base import Detector
from .doctors import DoctorOutlierModel
from .institutions import InstitutionOutlierModel
from .operators import OperatorOutlierModel
from .villages import VillageOutlierModel

__all__ = [
    "VillageOutlierModel",
    "OperatorOutlierModel",
    "InstitutionOutlierModel",
    "DoctorOutlierModel",
    "build_detectors",
]


def build_detectors(settings: Settings) -> list[Detector]:
    """Every peers detector, configured from ``settings``."""
    return [
        cls.from_settings(settings)
        for cls in (VillageOutlierModel, OperatorOutlierModel, InstitutionOutlierModel,
                    DoctorOutlierModel)
    ]
