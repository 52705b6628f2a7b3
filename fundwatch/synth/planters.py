"""The table of planters: every planted anomaly type and look-alike of the synthetic city.

One line per planter: its name (which names its random stream, see
:func:`fundwatch.synth.planting.planter_rng`) and its function. The order is the order of
precedence for persons (a person goes to the first planter that wants it), so **append new
planters at the end**: then every case planted before stays exactly as it was.
"""

from __future__ import annotations

from fundwatch.synth import anomalies_medical as med
from fundwatch.synth import anomalies_subsidy as sub
from fundwatch.synth.planting import Planter

PLANTERS: tuple[Planter, ...] = (
    # --- subsidy: who is paid (enrolments) --------------------------------------------------
    Planter("deceased_payee", sub.deceased_payee),
    Planter("deceased_payee_lookalike", sub.deceased_payee_lookalike),
    Planter("ineligible_age", sub.ineligible_age),
    Planter("ineligible_age_lookalike", sub.ineligible_age_lookalike),
    Planter("official_recipient", sub.official_recipient),
    Planter("official_recipient_lookalike", sub.official_recipient_lookalike),
    Planter("asset_owner_recipient", sub.asset_owner_recipient),
    Planter("asset_owner_lookalike_registered_later", sub.asset_owner_lookalike_registered_later),
    Planter("asset_owner_lookalike_property", sub.asset_owner_lookalike_property),
    Planter("village_outlier", sub.village_outlier),
    Planter("cadre_held_cards", sub.cadre_held_cards),
    Planter("shared_account", sub.shared_account),
    Planter("cadre_held_cards_lookalike_own_household", sub.cadre_held_cards_lookalike_own_household),
    Planter("shared_account_lookalike_household", sub.shared_account_lookalike_household),
    Planter("shared_account_lookalike_guardian", sub.shared_account_lookalike_guardian),
    # --- subsidy: how a payment was made ------------------------------------------------------
    Planter("duplicate_payment", sub.duplicate_payment),
    Planter("duplicate_payment_lookalike", sub.duplicate_payment_lookalike),
    Planter("over_standard", sub.over_standard),
    Planter("over_standard_lookalike", sub.over_standard_lookalike),
    Planter("delayed_payment", sub.delayed_payment),
    Planter("delayed_payment_lookalike", sub.delayed_payment_lookalike),
    Planter("area_inflation", sub.area_inflation),
    Planter("area_inflation_lookalike", sub.area_inflation_lookalike),
    Planter("ghost_beneficiary", sub.ghost_beneficiary),
    # --- subsidy, contract v2 (issue 17): appended after the subsidy planters above ----------
    Planter("household_means_test", sub.household_means_test),
    Planter("household_means_test_lookalike_not_means_tested", sub.household_means_test_lookalike_not_means_tested),
    Planter("under_payment", sub.under_payment),
    Planter("under_payment_lookalike_pro_rata", sub.under_payment_lookalike_pro_rata),
    Planter("exclusive_benefits", sub.exclusive_benefits),
    Planter("exclusive_benefits_lookalike_transfer", sub.exclusive_benefits_lookalike_transfer),
    Planter("unpaid_allocation", sub.unpaid_allocation),
    Planter("unpaid_allocation_lookalike_instalments", sub.unpaid_allocation_lookalike_instalments),
    Planter("annual_duplicate", sub.annual_duplicate),
    Planter("back_pay_lookalike", sub.back_pay_lookalike),
    Planter("top_up_lookalike", sub.top_up_lookalike),
    Planter("bounced_repaid_lookalike", sub.bounced_repaid_lookalike),
    Planter("farmland_mid_year_lookalike", sub.farmland_mid_year_lookalike),
    Planter("shared_account_lookalike_parent_apart", sub.shared_account_lookalike_parent_apart),
    Planter("cadre_held_cards_lookalike_registered_proxy", sub.cadre_held_cards_lookalike_registered_proxy),
    # --- medical: planted claims --------------------------------------------------------------
    Planter("claim_after_death", med.claim_after_death),
    Planter("claim_after_death_lookalike", med.claim_after_death_lookalike),
    Planter("overlapping_stays", med.overlapping_stays),
    Planter("overlapping_stays_lookalike_transfer", med.overlapping_stays_lookalike_transfer),
    Planter("split_admission", med.split_admission),
    Planter("split_admission_lookalike_late", med.split_admission_lookalike_late),
    Planter("split_admission_lookalike_other_diagnosis", med.split_admission_lookalike_other_diagnosis),
    Planter("phantom_inpatient", med.phantom_inpatient),
    Planter("phantom_inpatient_lookalike_observation", med.phantom_inpatient_lookalike_observation),
    Planter("frequent_visits", med.frequent_visits),
    Planter("frequent_visits_lookalike_monthly_refill", med.frequent_visits_lookalike_monthly_refill),
    Planter("collusive_group", med.collusive_group),
    Planter("collusive_group_lookalike_household", med.collusive_group_lookalike_household),
    Planter("institution_outlier_lookalike_hospital", med.institution_outlier_lookalike_hospital),
    Planter("institution_outlier_lookalike_busy_pharmacy", med.institution_outlier_lookalike_busy_pharmacy),
    Planter("institution_outlier", med.institution_outlier),
    Planter("doctor_outlier", med.doctor_outlier),
    # --- medical: item lines of normal claims -------------------------------------------------
    Planter("gender_limit", med.gender_limit),
    Planter("age_limit", med.age_limit),
    Planter("excess_quantity", med.excess_quantity),
    Planter("excess_quantity_lookalike", med.excess_quantity_lookalike),
    Planter("over_price", med.over_price),
    Planter("over_price_lookalike", med.over_price_lookalike),
    Planter("duplicate_billing", med.duplicate_billing),
    # --- medical: contract v2 types and the legitimate care around them (issue 16) ------------
    Planter("restricted_indication", med.restricted_indication),
    Planter("restricted_indication_lookalike_secondary", med.restricted_indication_lookalike_secondary),
    Planter("visit_type_limit", med.visit_type_limit),
    Planter("visit_type_limit_lookalike_emergency", med.visit_type_limit_lookalike_emergency),
    Planter("frequency_limit", med.frequency_limit),
    Planter("frequency_limit_lookalike_course", med.frequency_limit_lookalike_course),
    Planter("oversupply", med.oversupply),
    Planter("oversupply_lookalike_at_the_line", med.oversupply_lookalike_at_the_line),
    Planter("trace_code_reuse", med.trace_code_reuse),
    Planter("trace_code_reuse_lookalike_split_pack", med.trace_code_reuse_lookalike_split_pack),
    Planter("group_admission", med.group_admission),
    Planter("group_admission_lookalike_family", med.group_admission_lookalike_family),
    Planter("group_admission_lookalike_county_hospital", med.group_admission_lookalike_county_hospital),
    Planter("claim_during_stay", med.claim_during_stay),
    Planter("claim_during_stay_lookalike_edges", med.claim_during_stay_lookalike_edges),
    Planter("over_price_level", med.over_price_level),
    Planter("over_price_lookalike_price_rise", med.over_price_lookalike_price_rise),
    Planter("split_admission_lookalike_interim", med.split_admission_lookalike_interim),
    Planter("split_admission_lookalike_planned", med.split_admission_lookalike_planned),
    Planter("age_limit_lookalike_newborn", med.age_limit_lookalike_newborn),
    # --- new planters: append here (see the module docstring) ---------------------------------
    Planter("claim_during_stay_lookalike_relative", med.claim_during_stay_lookalike_relative),
)
