"""Medical-insurance (医保) detectors. See :mod:`detectors.base` for the interface.

=====================  ==================================  ===========  =====================
code                   detector                            entity       module
=====================  ==================================  ===========  =====================
CLAIM_AFTER_DEATH      :class:`ClaimAfterDeathRule`        person       ``deceased``
GENDER_LIMIT           :class:`GenderLimitRule`            person       ``catalog_limits``
AGE_LIMIT              :class:`AgeLimitRule`               person       ``catalog_limits``
EXCESS_QUANTITY        :class:`ExcessQuantityRule`         institution  ``over_billing``
OVER_PRICE             :class:`OverPriceRule`              institution  ``over_billing``
DUPLICATE_BILLING      :class:`DuplicateBillingRule`       institution  ``over_billing``
OVERLAPPING_STAYS      :class:`OverlappingStaysRule`       person       ``inpatient``
SPLIT_ADMISSION        :class:`SplitAdmissionRule`         person       ``inpatient``
PHANTOM_INPATIENT      :class:`PhantomInpatientRule`       person       ``inpatient``
FREQUENT_VISITS        :class:`FrequentVisitsRule`         person       ``frequent_visits``
COLLUSIVE_GROUP        :class:`CollusiveGroupModel`        group        ``collusion``
=====================  ==================================  ===========  =====================

Settings: :class:`fundwatch.settings.medical.MedicalSettings`.
"""

from __future__ import annotations

from fundwatch.settings import Settings

from ..base import Detector
from .catalog_limits import AgeLimitRule, GenderLimitRule
from .collusion import CollusiveGroupModel
from .deceased import ClaimAfterDeathRule
from .frequent_visits import FrequentVisitsRule
from .inpatient import OverlappingStaysRule, PhantomInpatientRule, SplitAdmissionRule
from .over_billing import DuplicateBillingRule, ExcessQuantityRule, OverPriceRule

DETECTOR_CLASSES: tuple[type[Detector], ...] = (
    ClaimAfterDeathRule,
    GenderLimitRule,
    AgeLimitRule,
    ExcessQuantityRule,
    OverPriceRule,
    DuplicateBillingRule,
    OverlappingStaysRule,
    SplitAdmissionRule,
    PhantomInpatientRule,
    FrequentVisitsRule,
    CollusiveGroupModel,
)

__all__ = [c.__name__ for c in DETECTOR_CLASSES] + ["DETECTOR_CLASSES", "build_detectors"]


def build_detectors(settings: Settings) -> list[Detector]:
    """Every medical detector, configured from ``settings.medical``."""
    med = settings.medical.model_dump()
    out: list[Detector] = []
    for cls in DETECTOR_CLASSES:
        names = cls._get_param_names()
        out.append(cls(**{n: med[n] for n in names if n in med}))
    return out
