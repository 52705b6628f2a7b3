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
    back_pay_max_months: int = Field(
        24,
        ge=1,
        description="A back-pay row whose 计发数量 was left empty (it loads as 1) and whose amount is "
        "a whole number of months at the standard, from 2 up to this many, is read as that many "
        "months by OVER_STANDARD instead of one month paid several times over: exports often "
        "leave the quantity of a back-pay empty. Default 24: back-pay beyond two years is itself "
        "unusual and is judged as written.",
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
    annual_max_delay_days: int = Field(
        365,
        ge=0,
        description="DELAYED_PAYMENT's limit for a subsidy paid per year (unit person_year or "
        "mu_year) whose standard states no pay_within_days: an annual subsidy's period names "
        "the year it is for, and it is due within that year, not within a quarter of its first "
        "month. Default 365 days.",
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

    # --- under payment ---------------------------------------------------------------------
    under_payment_tolerance: float = Field(
        1.0,
        ge=0,
        description="CNY a month's regular payment (with its top-ups, net of returns) may fall "
        "short of standard × quantity before UNDER_PAYMENT fires. Default 1 yuan: local offices "
        "round amounts to the yuan; a shortfall beyond that is money kept back (克扣).",
    )
    under_payment_score_base: float = Field(
        0.6, ge=0, le=1,
        description="UNDER_PAYMENT score of a shortfall just past the tolerance; rises linearly "
        "with the shortfall's share of the standard amount.",
    )
    under_payment_full_ratio: float = Field(
        0.2, gt=0,
        description="Shortfall / expected ratio at which an UNDER_PAYMENT score reaches 1.0. "
        "Default 0.2: keeping a fifth of a month's subsidy is no fee or rounding.",
    )

    # --- exclusive benefits ------------------------------------------------------------------
    exclusive_benefits_score: float = Field(
        0.9, ge=0, le=1,
        description="EXCLUSIVE_BENEFITS score: two types of one exclusive group paid for one "
        "month is certain from the data; 0.9 leaves room for a transfer month recorded late.",
    )

    # --- allocations -------------------------------------------------------------------------
    allocation_settle_days: int = Field(
        60,
        ge=0,
        description="Days after an allocation (拨付) by which the batch's payments in its region "
        "must account for it before UNPAID_ALLOCATION fires. Default 60: paying in two "
        "instalments a few weeks apart is ordinary; money still not on the cards two months "
        "later is held back (滞留).",
    )
    allocation_tolerance: float = Field(
        1.0,
        ge=0,
        description="CNY of an allocation that may stay unaccounted for (rounding) before "
        "UNPAID_ALLOCATION fires.",
    )
    allocation_score_base: float = Field(
        0.6, ge=0, le=1,
        description="UNPAID_ALLOCATION score of a small unpaid remainder; rises linearly with "
        "the unpaid share of the allocation to 1.0 when all of it is unpaid.",
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

    exempt_asset_subtypes: tuple[str, ...] = Field(
        ("farm_vehicle", "motorcycle", "disability_vehicle"),
        description="Asset subtypes that do not shut an owner (or, for a means-tested standard, "
        "the owner's household) out: tools of farming or of getting about. Which are exempt is "
        "local policy (the contract names these three as the usual ones).",
    )
    asset_min_value: float = Field(
        0.0,
        ge=0,
        description="Registered value (CNY) above which an excluding asset counts, where a value "
        "is given; 0 counts every one. Many localities exempt a vehicle below a value "
        "(e.g. 50,000); set it to the local line. An asset without a value always counts.",
    )
    means_test_score: float = Field(
        0.8, ge=0, le=1,
        description="HOUSEHOLD_MEANS_TEST score: the disqualifying member is another person of "
        "the household (the register may be out of date about who lives there).",
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
    shared_account_family_households: int = Field(
        1,
        ge=0,
        description="Other households an account may collect for without SHARED_ACCOUNT when "
        "their beneficiaries are the holder's parents (head or spouse of their household, a "
        "generation older) or children (a generation younger): a child collecting for parents "
        "who live apart. Default 1: one parents' household; beyond that it is a collecting ring.",
    )
    generation_gap_years: int = Field(
        18,
        ge=0,
        description="Least age difference between an account holder and a beneficiary in "
        "another household for them to count as parent and child.",
    )
    shared_account_score_base: float = Field(
        0.7, ge=0, le=1,
        description="SHARED_ACCOUNT score at exactly shared_account_min_households households.",
    )
    shared_account_score_per_household: float = Field(
        0.15, ge=0,
        description="SHARED_ACCOUNT score added per further household (capped at 1.0).",
    )
