"""Every rate and magnitude of the synthetic city, in one frozen object.

Rates of planted anomalies are *cases per 10,000 persons*; each type also has a floor
(``min_cases``) so that a small test city still holds a few of every kind. Magnitudes are
ranges from which each case draws its own value, so that no detector can key on one number.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _default_case_rates() -> dict[str, float]:
    # cases per 10k persons; one "case" is one person/account/village/institution/group
    return {
        # subsidy rules
        "DECEASED_PAYEE": 2.0,
        "DUPLICATE_PAYMENT": 2.0,
        "OVER_STANDARD": 2.0,
        "INELIGIBLE_AGE": 2.0,
        "OFFICIAL_RECIPIENT": 1.5,
        "ASSET_OWNER_RECIPIENT": 1.5,
        "GHOST_BENEFICIARY": 1.5,
        "AREA_INFLATION": 2.0,
        "DELAYED_PAYMENT": 2.0,
        "CADRE_HELD_CARDS": 0.8,
        "SHARED_ACCOUNT": 0.8,
        "VILLAGE_OUTLIER": 0.5,
        # medical rules
        "CLAIM_AFTER_DEATH": 2.0,
        "GENDER_LIMIT": 2.0,
        "AGE_LIMIT": 2.0,
        "EXCESS_QUANTITY": 2.0,
        "OVER_PRICE": 2.0,
        "DUPLICATE_BILLING": 2.0,
        "OVERLAPPING_STAYS": 1.5,
        "SPLIT_ADMISSION": 1.5,
        "PHANTOM_INPATIENT": 1.5,
        "FREQUENT_VISITS": 1.5,
        # medical models
        "INSTITUTION_OUTLIER": 0.3,
        "DOCTOR_OUTLIER": 0.5,
        "COLLUSIVE_GROUP": 0.8,
    }


def _default_min_cases() -> dict[str, int]:
    return {
        "VILLAGE_OUTLIER": 2,
        "INSTITUTION_OUTLIER": 2,
        "DOCTOR_OUTLIER": 2,
        "COLLUSIVE_GROUP": 3,
    }


@dataclass(frozen=True)
class SynthConfig:
    """Rates and magnitudes of the synthetic city (all documented; none hidden in code)."""

    year: int = 2025
    #: province+prefecture part of every county code (counties are ``<this><2 digits>``)
    prefecture_code: str = "5103"
    #: persons per county when deciding how many counties (at least ``min_counties``)
    persons_per_county: int = 150_000
    min_counties: int = 3
    #: village sizes are drawn uniformly from this range (then scaled to the total)
    village_size: tuple[int, int] = (300, 600)
    villages_per_township: int = 5
    #: household sizes 1..6 with these weights
    household_size_weights: tuple[float, ...] = (0.16, 0.26, 0.24, 0.18, 0.11, 0.05)
    #: share of surnames inherited from the household head
    household_surname_share: float = 0.75

    # --- deaths, officials, assets --------------------------------------------------------
    #: annual deaths per person among the over-60s / under-60s
    death_rate_old: float = 0.025
    death_rate_young: float = 0.0015
    #: share of a death that is reported by two sources with the same date
    death_two_sources: float = 0.35
    civil_servant_rate: float = 0.015  # of adults 22-60
    public_institution_rate: float = 0.025
    cadres_per_village: tuple[int, int] = (3, 5)
    #: share of officials whose service ended before the year
    official_ended_share: float = 0.12
    vehicle_rate: float = 0.14  # of adults 20-70
    business_rate: float = 0.05
    property_rate: float = 0.30
    land_household_share: float = 0.75
    land_area_mu: tuple[float, float] = (0.8, 12.0)

    # --- subsidies -----------------------------------------------------------------------
    #: village-level household take-up of min_living, drawn per village from this range
    min_living_village_rate: tuple[float, float] = (0.015, 0.05)
    #: share of the elderly living alone who are extreme-poverty recipients
    extreme_poverty_alone_share: float = 0.15
    elderly_takeup: float = 0.95
    pension_takeup: float = 0.92
    disability_rate: float = 0.015
    #: share of min_living recipients who enrol later in the year / leave early
    late_enrol_share: float = 0.12
    early_exit_share: float = 0.05
    #: normal payment delay after the period starts (days)
    normal_delay_days: tuple[int, int] = (3, 28)
    #: a guardian of the same household holds the card of a child/elderly/disabled recipient
    guardian_share: float = 0.25
    #: share of min_living households paid into the head's account
    household_account_share: float = 0.2
    operators_per_villages: int = 4  # one operator per this many villages (at least 3 per county)
    farmland_period_month: int = 5

    # --- medical -------------------------------------------------------------------------
    outpatient_rate: tuple[float, float] = (3.0, 0.055)  # base + per year of age
    pharmacy_rate: tuple[float, float] = (3.0, 0.035)
    inpatient_rate: tuple[float, float] = (0.03, 0.0028)
    chronic_share_50plus: float = 0.18
    stay_days: tuple[int, int] = (2, 14)
    #: minimum gap between two normal stays of one person (days)
    normal_stay_gap_days: int = 31
    village_clinic_share: float = 0.6  # villages that have a 村卫生室
    pharmacies_per_township: tuple[int, int] = (2, 4)
    busy_pharmacies_per_county: int = 2
    fund_rate: dict = field(
        default_factory=lambda: {"outpatient": 0.5, "pharmacy": 0.2, "inpatient": 0.7}
    )

    # --- planted anomalies ---------------------------------------------------------------
    case_rates: dict = field(default_factory=_default_case_rates)
    min_cases: dict = field(default_factory=_default_min_cases)
    default_min_cases: int = 3
    #: cases per 10k persons of a type not in ``case_rates``
    default_case_rate: float = 2.0
    #: look-alike cases per 10k persons (each kind), with a floor
    lookalike_rate: float = 1.5
    lookalike_min: int = 2
    over_standard_factor: tuple[float, float] = (1.08, 2.5)
    area_inflation_factor: tuple[float, float] = (1.15, 2.5)
    delay_days_bad: tuple[int, int] = (95, 260)
    delay_days_lookalike: tuple[int, int] = (35, 80)
    excess_qty_factor: tuple[int, int] = (2, 6)
    over_price_factor: tuple[float, float] = (1.12, 2.8)
    after_death_days: tuple[int, int] = (3, 150)
    frequent_visit_days: tuple[int, int] = (110, 300)
    group_size: tuple[int, int] = (5, 12)
    group_days: tuple[int, int] = (8, 20)
    village_outlier_extra_share: tuple[float, float] = (0.12, 0.25)
    cards_per_holder: tuple[int, int] = (3, 8)
    split_chain: tuple[int, int] = (3, 5)
    phantom_days: tuple[int, int] = (7, 21)
    #: share of an outlier institution's / doctor's visits that are inflated
    outlier_inflated_share: float = 0.8

    # --- dirty output --------------------------------------------------------------------
    dirty_bad_rows_per_dataset: int = 3

    def cases(self, anomaly_type: str, n_persons: int) -> int:
        """Number of cases of ``anomaly_type`` for a city of ``n_persons`` (``default_case_rate``
        per 10k persons for a type without a rate of its own)."""
        rate = self.case_rates.get(anomaly_type, self.default_case_rate)
        floor = self.min_cases.get(anomaly_type, self.default_min_cases)
        return max(floor, int(round(rate * n_persons / 10_000)))

    def lookalikes(self, n_persons: int) -> int:
        return max(self.lookalike_min, int(round(self.lookalike_rate * n_persons / 10_000)))
