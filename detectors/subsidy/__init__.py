"""One-card (一卡通) subsidy rule detectors, one detector family per module.

=========================  =======================================  ===========================
code                       detector                                 module
=========================  =======================================  ===========================
DECEASED_PAYEE             :class:`DeceasedPayeeRule`               ``deceased``
DUPLICATE_PAYMENT          :class:`DuplicatePaymentRule`            ``duplicates``
OVER_STANDARD              :class:`OverStandardRule`                ``standards``
INELIGIBLE_AGE             :class:`IneligibleAgeRule`               ``standards``
OFFICIAL_RECIPIENT         :class:`OfficialRecipientRule`           ``rosters``
ASSET_OWNER_RECIPIENT      :class:`AssetOwnerRecipientRule`         ``rosters``
GHOST_BENEFICIARY          :class:`GhostBeneficiaryRule`            ``ghosts``
AREA_INFLATION             :class:`AreaInflationRule`               ``farmland``
DELAYED_PAYMENT            :class:`DelayedPaymentRule`              ``delays``
CADRE_HELD_CARDS           :class:`CadreHeldCardsRule`              ``accounts``
SHARED_ACCOUNT             :class:`SharedAccountRule`               ``accounts``
=========================  =======================================  ===========================

Each rule takes its settings as keyword arguments (defaults from
``fundwatch.settings.DEFAULT_SETTINGS.subsidy``) and can be run on DataFrames directly::

    from fundwatch.detectors.subsidy import DeceasedPayeeRule
    findings = DeceasedPayeeRule().fit_detect(datasets)
"""

from __future__ import annotations

from fundwatch.settings import Settings

from ..base import Detector
from ._common import SubsidyRule
from .accounts import CadreHeldCardsRule, SharedAccountRule
from .deceased import DeceasedPayeeRule
from .delays import DelayedPaymentRule
from .duplicates import DuplicatePaymentRule
from .farmland import AreaInflationRule
from .ghosts import GhostBeneficiaryRule
from .rosters import AssetOwnerRecipientRule, OfficialRecipientRule
from .standards import IneligibleAgeRule, OverStandardRule

#: Every subsidy rule class, in catalogue order.
RULE_CLASSES: tuple[type[SubsidyRule], ...] = (
    DeceasedPayeeRule,
    DuplicatePaymentRule,
    OverStandardRule,
    IneligibleAgeRule,
    OfficialRecipientRule,
    AssetOwnerRecipientRule,
    GhostBeneficiaryRule,
    AreaInflationRule,
    DelayedPaymentRule,
    CadreHeldCardsRule,
    SharedAccountRule,
)

__all__ = [c.__name__ for c in RULE_CLASSES] + ["RULE_CLASSES", "build_detectors"]


def build_detectors(settings: Settings) -> list[Detector]:
    """Every subsidy detector, configured from ``settings``."""
    return [cls.from_settings(settings.subsidy) for cls in RULE_CLASSES]
