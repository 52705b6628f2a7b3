"""Settings section ``subsidy``: thresholds, tolerances and scores of the one-card subsidy rules.

Every rule in :mod:`detectors.subsidy` takes the fields it uses as constructor keyword
arguments whose defaults are the values below, so an analyst can override one rule
(``OverStandardRule(amount_tolerance=1.0)``) or all of them (``Settings(subsidy=...)``).

Scores (``0..1``, higher = more anomalous) follow one pattern: a rule hit that is certain
from the data scores ``1.0``; where the data leave room for a marginal case (a small excess
over the standard, a payment just past the delay threshold) the score starts at a ``*_score_base``
and rises linearly to 1.0 at a ``*_full_score_*`` point. A lead's severity is decided later,
from its score (:mod:`fundwatch.scoring`), not per finding.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SubsidySettings(BaseModel):
    """Settings for the one-card subsidy rules. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- money and quantities ----------------------------------------------------------
    amount_tolerance: float = Field(
        0.01,
        ge=0,
        description="CNY an amount may exceed standard × quantity before OVER_STANDARD fires. "
        "Default 0.01: one fen absorbs rounding of amount × quantity, nothing more.",
    )
    area_tolerance_mu: float = Field(
        0.01,
        ge=0,
        description="Mu a farmland quantity may exceed the contracted area before AREA_INFLATION "
        "fires. Default 0.01 mu: contracted areas are recorded to two decimals.",
    )
    farmland_types: tuple[str, ...] = Field(
        ("farmland",),
        description="Subsidy type codes paid per mu of contracted land, checked by AREA_INFLATION "
        "in addition to every type whose standard has unit mu_year. Default: the contract's "
        "耕地地力保护补贴 code.",
    )

    # --- delays ---------------------------------------------------------------------------
    max_delay_days: int = Field(
        90,
        ge=0,
        description="DELAYED_PAYMENT fires when pay_date is more than this many days after the "
        "first day of the period (滞留/截留). Default 90: the usual rule that subsidies reach "
        "the card within one quarter.",
    )
    delay_full_score_days: int = Field(
        365,
        gt=0,
        description="Delay in days at which a DELAYED_PAYMENT score reaches 1.0 (a year held back).",
    )
    delay_score_base: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Score of a payment just past max_delay_days; rises linearly to 1.0 at "
        "delay_full_score_days.",
    )

    # --- over standard ----------------------------------------------------------------------
    over_standard_score_base: float = Field(
        0.5, ge=0, le=1,
        description="Score of an amount just above the standard; rises linearly with the excess ratio.",
    )
    over_standard_full_ratio: float = Field(
        0.5,
        gt=0,
        description="Excess / expected ratio at which OVER_STANDARD and AREA_INFLATION scores reach "
        "1.0. Default 0.5: paying half as much again as the standard is beyond clerical error.",
    )

    # --- age -------------------------------------------------------------------------------
    age_score_base: float = Field(
        0.7, ge=0, le=1,
        description="INELIGIBLE_AGE score of a person one year outside the limits.",
    )
    age_score_per_year: float = Field(
        0.1, ge=0,
        description="INELIGIBLE_AGE score added per further year outside the limits (capped at 1.0).",
    )

    # --- assets ----------------------------------------------------------------------------
    excluding_asset_types: tuple[str, ...] = Field(
        ("vehicle", "business"),
        description="Asset types whose owners a standard with excludes_asset_owners shuts out. "
        "Default vehicle and business registration, as the contract says: property does not count.",
    )

    # --- ghosts ------------------------------------------------------------------------------
    ghost_unregistered_score: float = Field(
        0.8, ge=0, le=1,
        description="GHOST_BENEFICIARY score for a valid identity number missing from persons "
        "(the register may lag); an invalid number scores 1.0.",
    )

    # --- held cards and shared accounts ---------------------------------------------------------
    cadre_roles: tuple[str, ...] = Field(
        ("village_cadre", "civil_servant", "public_institution"),
        description="Official roles whose holding of other households' cards CADRE_HELD_CARDS "
        "reports. Default: every role (a village cadre or any official).",
    )
    cadre_score_base: float = Field(
        0.8, ge=0, le=1,
        description="CADRE_HELD_CARDS score when the cadre holds the card of one beneficiary "
        "outside the household (it may be a relative living apart).",
    )
    cadre_score_per_person: float = Field(
        0.1, ge=0,
        description="CADRE_HELD_CARDS score added per further beneficiary held (capped at 1.0).",
    )
    shared_account_min_households: int = Field(
        2,
        ge=2,
        description="SHARED_ACCOUNT fires when one account_no receives for people of at least this "
        "many different households. Default 2: a household sharing one card is normal; a card "
        "collecting for two households is already outside that pattern (raise to 3 to report "
        "only larger rings).",
    )
    shared_account_score_base: float = Field(
        0.7, ge=0, le=1,
        description="SHARED_ACCOUNT score at exactly shared_account_min_households households.",
    )
    shared_account_score_per_household: float = Field(
        0.15, ge=0,
        description="SHARED_ACCOUNT score added per further household (capped at 1.0).",
    )
