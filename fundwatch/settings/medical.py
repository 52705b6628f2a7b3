"""Settings section ``medical``: thresholds of the medical-insurance (医保) rules and the
collusive-group model (:mod:`detectors.medical`).

Scores
------
Every medical rule scores a finding as ``score_floor + (1 - score_floor) * ramp`` where
``ramp = clip((x - x_fire) / (x_full - x_fire), 0, 1)``: ``x`` is the rule's measure of how
far beyond the line the evidence goes (days after death, times the daily limit …),
``x_fire`` the value at which the rule just fires and ``x_full`` (the ``*_full_score_*``
fields below) the value from which the score is 1.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MedicalSettings(BaseModel):
    """Settings for the medical detectors. Every field documents its default and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- common ---------------------------------------------------------------------------
    score_floor: float = Field(
        0.5, ge=0, le=1,
        description="Score of a finding that just crosses its rule's line (default 0.5): a rule "
        "hit is always at least a medium lead; how far beyond the line raises it to 1.",
    )

    # -- CLAIM_AFTER_DEATH ------------------------------------------------------------------
    death_grace_days: int = Field(
        0, ge=0,
        description="A visit must be more than this many days after the (earliest) death date "
        "to fire (default 0: any visit date after the death date). A stay that began on or "
        "before the death date and was settled later never fires: only visit_date counts.",
    )
    death_full_score_days: int = Field(
        30, ge=1, description="Days after death of the latest claim at which the score is 1 (default 30)."
    )

    # -- GENDER_LIMIT / AGE_LIMIT -------------------------------------------------------------
    catalog_full_score_claims: int = Field(
        3, ge=1,
        description="GENDER_LIMIT: offending claims (per person and institution) at which the "
        "score is 1 (default 3).",
    )
    age_full_score_years: int = Field(
        10, ge=1,
        description="AGE_LIMIT: whole years outside the catalogue limit at which the score is 1 "
        "(default 10). Exactly at min_age/max_age never fires.",
    )

    # -- EXCESS_QUANTITY / OVER_PRICE / DUPLICATE_BILLING -------------------------------------
    quantity_tolerance: float = Field(
        1e-6, ge=0,
        description="EXCESS_QUANTITY: absolute quantity tolerance above max_qty_per_day, for "
        "float rounding (default 1e-6). Exactly at the limit never fires.",
    )
    excess_full_score_ratio: float = Field(
        3.0, gt=1,
        description="EXCESS_QUANTITY: quantity / daily limit at which the score is 1 (default 3).",
    )
    price_tolerance: float = Field(
        0.005, ge=0,
        description="OVER_PRICE: CNY tolerance above price_cap, for rounding to cents "
        "(default 0.005). Exactly at the cap never fires.",
    )
    price_full_score_ratio: float = Field(
        2.0, gt=1, description="OVER_PRICE: unit price / cap at which the score is 1 (default 2)."
    )
    duplicate_full_score_lines: int = Field(
        5, ge=1,
        description="DUPLICATE_BILLING: repeated lines (beyond the first of each set, per "
        "institution) at which the score is 1 (default 5).",
    )

    # -- OVERLAPPING_STAYS ------------------------------------------------------------------
    overlap_min_days: int = Field(
        1, ge=1,
        description="Nights two stays at different institutions must share to fire (default 1). "
        "Discharge from one and admission to another on the same day (a transfer) shares 0 "
        "nights and never fires.",
    )
    overlap_full_score_days: int = Field(
        7, ge=1, description="Shared nights at which the score is 1 (default 7)."
    )

    # -- SPLIT_ADMISSION --------------------------------------------------------------------
    readmission_days: int = Field(
        15, ge=0,
        description="A readmission is an admission to the same institution at most this many "
        "days after the previous discharge (default 15, the usual 分解住院 window).",
    )
    split_min_readmissions: int = Field(
        2, ge=1,
        description="Readmissions with the same diagnosis at one institution needed to fire "
        "(default 2: one quick readmission happens; repeated ones are a pattern).",
    )
    diagnosis_prefix_chars: int = Field(
        3, ge=1,
        description="Diagnoses are 'the same' when their first this many characters agree "
        "(default 3 = the ICD-10 category, e.g. J18.0 and J18.9), so that a changed "
        "sub-code does not hide a split; a different category is a different illness.",
    )
    split_full_score_readmissions: int = Field(
        4, ge=1, description="Readmissions at which the score is 1 (default 4)."
    )

    # -- PHANTOM_INPATIENT ------------------------------------------------------------------
    phantom_min_days: int = Field(
        7, ge=1,
        description="Length of stay (discharge - admission, days) from which a stay is checked "
        "(default 7); shorter observation stays are mostly bed and nursing by nature.",
    )
    phantom_active_categories: tuple[str, ...] = Field(
        ("drug", "exam", "treatment", "material"),
        description="Item categories that show care actually given (default drug, exam, "
        "treatment, material); bed and service (诊查/护理) are the passive ones.",
    )
    phantom_max_active_share: float = Field(
        0.05, ge=0, le=1,
        description="A long stay fires when its active categories are at most this share of the "
        "item amount (default 0.05: next to no drug, exam or treatment).",
    )
    phantom_full_score_days: int = Field(
        21, ge=1, description="Length of stay at which the score is 1 (default 21)."
    )

    # -- FREQUENT_VISITS --------------------------------------------------------------------
    frequent_visit_types: tuple[str, ...] = Field(
        ("outpatient", "pharmacy"),
        description="Visit types counted (default outpatient and pharmacy; in-patient days are "
        "not visits).",
    )
    frequent_window_days: int = Field(
        30, ge=1, description="Length of the sliding window in days (default 30)."
    )
    frequent_min_visit_days: int = Field(
        15, ge=2,
        description="Distinct visit days within one window needed to fire (default 15: every "
        "other day for a month; a chronic patient refilling monthly or weekly stays far below).",
    )

    # -- legitimate care the rules leave alone (issue 16) ---------------------------------------
    planned_readmission_excuses: bool = Field(
        True,
        description="SPLIT_ADMISSION: a readmission after a stay whose settlement list marks a "
        "planned readmission (readmission_planned, e.g. chemotherapy cycles), or itself so "
        "marked, is not counted (default True: the settlement list is the hospital's own "
        "declaration and a checker reads it first).",
    )
    course_items_excuse: bool = Field(
        True,
        description="SPLIT_ADMISSION and FREQUENT_VISITS: stays and visits that bill a "
        "treatment-course item (an item the catalogue limits per window: window_days with "
        "max_qty_per_window, e.g. 血液透析, 放疗, 康复理疗) are not counted (default True: a "
        "course is frequent by design; FREQUENCY_LIMIT judges its quantity).",
    )
    newborn_days: int = Field(
        28, ge=0,
        description="AGE_LIMIT: items for the very young (no minimum age above 0) billed on a "
        "card whose holder had a birth-related claim are not flagged from the birth claim's "
        "admission until this many days after its discharge (default 28: the neonatal period, "
        "during which a newborn without its own card is billed on the mother's).",
    )
    birth_diagnosis_prefixes: tuple[str, ...] = Field(
        ("O6", "O7", "O80", "O81", "O82", "O83", "O84", "Z37", "Z38", "Z39"),
        description="ICD-10 prefixes of a birth-related claim (default: labour and delivery "
        "O60-O84, outcome of delivery Z37, liveborn Z38, postpartum care Z39), principal or "
        "secondary diagnosis.",
    )

    # -- RESTRICTED_INDICATION / VISIT_TYPE_LIMIT ------------------------------------------------
    scope_full_score_claims: int = Field(
        5, ge=1,
        description="RESTRICTED_INDICATION and VISIT_TYPE_LIMIT: offending claims per institution "
        "at which the score is 1 (default 5: a one-off coding slip is a medium lead, a habit is "
        "a strong one).",
    )

    # -- FREQUENCY_LIMIT ------------------------------------------------------------------------
    window_quantity_tolerance: float = Field(
        1e-6, ge=0,
        description="FREQUENCY_LIMIT: quantity tolerance above max_qty_per_window, for float "
        "rounding (default 1e-6). A course exactly at the limit never fires.",
    )
    frequency_full_score_ratio: float = Field(
        2.0, gt=1,
        description="FREQUENCY_LIMIT: most quantity in one window / the window limit at which "
        "the score is 1 (default 2: twice the allowed sessions).",
    )

    # -- TRACE_CODE_REUSE -----------------------------------------------------------------------
    trace_package_tolerance: float = Field(
        0.01, ge=0,
        description="TRACE_CODE_REUSE: packages a code's lines may sum to above 1 at one "
        "institution before firing (default 0.01: split-pack 拆零 fractions such as 1/3 written "
        "to two decimals sum to 0.99-1.01).",
    )
    trace_full_score_lines: int = Field(
        3, ge=1,
        description="TRACE_CODE_REUSE: resold packages (codes) per institution at which the score "
        "is 1 (default 3).",
    )

    # -- OVERSUPPLY ------------------------------------------------------------------------------
    oversupply_window_days: int = Field(
        30, ge=1, description="OVERSUPPLY: length of the sliding window in days (default 30)."
    )
    oversupply_max_days: int = Field(
        60, ge=1,
        description="OVERSUPPLY: days of use of one drug dispensed to one person within one window "
        "above which it fires (default 60: twice what the window can use; an early refill or two "
        "overlapping 30-day prescriptions stay at or below it).",
    )
    oversupply_min_institutions: int = Field(
        2, ge=1,
        description="OVERSUPPLY: institutions that dispensed the drug within the window needed to "
        "fire (default 2: a long prescription 长处方 of up to 12 weeks for a chronic illness at "
        "one place is allowed; piling up across pharmacies is the pattern).",
    )
    oversupply_visit_types: tuple[str, ...] = Field(
        ("outpatient", "pharmacy"),
        description="OVERSUPPLY: visit types whose drugs are taken home and counted (default "
        "out-patient and pharmacy; a ward's daily dispensing is used in the ward).",
    )
    oversupply_full_score_ratio: float = Field(
        3.0, gt=1,
        description="OVERSUPPLY: days of use in the window / the window length at which the score "
        "is 1 (default 3).",
    )

    # -- GROUP_ADMISSION --------------------------------------------------------------------------
    group_gap_days: int = Field(
        3, ge=0,
        description="GROUP_ADMISSION: admissions of one village to one hospital at most this many "
        "days apart form one episode (default 3: a bus of villagers arrives within a few days).",
    )
    group_min_households: int = Field(
        3, ge=2,
        description="GROUP_ADMISSION: distinct households an episode needs (default 3; members of "
        "one household count once, so a family admitted together is never an episode).",
    )
    group_min_episodes: int = Field(
        2, ge=1,
        description="GROUP_ADMISSION: episodes at one hospital from one village needed to fire "
        "(default 2: the 病友团 pattern repeats).",
    )
    group_max_pvalue: float = Field(
        1e-2, gt=0, le=1,
        description="GROUP_ADMISSION: an episode counts only if so many admissions in so few days "
        "are this unlikely under the village's usual admission rate to that hospital: the "
        "Poisson tail of the episode's count over its span, times the number of such spans in "
        "the period (a Bonferroni bound on finding one by chance anywhere in the year; default "
        "0.01). A big hospital that admits from the village every week is not a group.",
    )
    group_full_score_episodes: int = Field(
        4, ge=1, description="GROUP_ADMISSION: episodes at which the score is 1 (default 4)."
    )

    # -- CLAIM_DURING_STAY ------------------------------------------------------------------------
    during_stay_visit_types: tuple[str, ...] = Field(
        ("outpatient", "pharmacy"),
        description="CLAIM_DURING_STAY: visit types that cannot happen elsewhere while the person "
        "lies in a bed (default outpatient and pharmacy).",
    )
    during_stay_full_score_claims: int = Field(
        3, ge=1, description="CLAIM_DURING_STAY: claims inside stays at which the score is 1 (default 3)."
    )
    during_stay_min_pharmacy_days: int = Field(
        2, ge=1,
        description="CLAIM_DURING_STAY: days of pharmacy purchases inside one stay that count as the card "
        "holder's own activity (default 2). One day is most often a relative fetching the patient's "
        "regular drugs; any doctor's visit elsewhere counts at once.",
    )

    # -- COLLUSIVE_GROUP --------------------------------------------------------------------
    collusion_institution_kinds: tuple[str, ...] = Field(
        ("pharmacy", "clinic"),
        description="Institution kinds where co-visits are counted (default pharmacy and clinic; "
        "hospitals' outpatient halls put strangers side by side every day). Without the "
        "institutions dataset, visit types pharmacy and outpatient are used instead.",
    )
    collusion_min_shared_days: int = Field(
        4, ge=2,
        description="Days two people must visit the same institution together to be linked "
        "(default 4).",
    )
    collusion_max_pvalue: float = Field(
        1e-5, gt=0, le=1,
        description="A pair is linked only if so many shared days are this unlikely by chance: "
        "hypergeometric tail P(X >= shared) with the institution's open days and each person's "
        "visit days there (default 1e-5; strict because a city has millions of candidate pairs).",
    )
    collusion_min_lift: float = Field(
        5.0, ge=1,
        description="Shared days must also be at least this many times the count expected by "
        "chance (default 5); keeps two daily regulars of a busy pharmacy apart.",
    )
    collusion_max_bucket: int = Field(
        200, ge=2,
        description="Institution-days with more candidate visitors than this are skipped in the "
        "pair self-join (default 200): a packed day says nothing about who came together and "
        "would cost n^2 pairs. Candidates are people with at least collusion_min_shared_days "
        "visit days at that institution.",
    )
    collusion_min_degree: int = Field(
        2, ge=1,
        description="Groups are the connected components of the k-core of the linked-pair graph "
        "with this k (default 2: each member linked to at least two others), which drops "
        "isolated chance pairs.",
    )
    collusion_min_group_size: int = Field(
        3, ge=2, description="Members a group needs to be reported (default 3)."
    )
    collusion_full_score_size: int = Field(
        8, ge=2, description="Group size at which the score is 1 (default 8)."
    )
