"""Suite ``claims`` (医保结算). Invalid patient identity numbers are kept (warning).

v2 columns, checked only when given; both checks are **warnings**, never quarantining a claim,
because the claim's money is real whatever its side data says:

* ``secondary_diagnoses`` is a ``;``-joined list of ICD-10 codes (a malformed one can only hide
  a diagnosis from the indication rule, it cannot make a claim's money wrong);
* the claims sharing an ``admission_id`` are one person at one institution, all inpatient. An
  id reused across persons or hospitals may itself be what a supervisor should see (冒名,
  挂床); quarantining those claims would hide them from the rules.
"""

from __future__ import annotations

import polars as pl

from fundwatch.contract import VISIT_TYPE
from fundwatch.settings.validation import ValidationSettings

from .spec import (
    ICD10_CODE,
    WARNING,
    Check,
    Ctx,
    between,
    code_list,
    derived,
    in_set,
    money_sum,
    pair_ge,
    schema_checks,
    unique,
    valid_person_id,
    year_window,
)

DATASET = "claims"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        unique("claim_id"),
        valid_person_id("person_id", WARNING),
        in_set("visit_type", list(VISIT_TYPE)),
        pair_ge("discharge_date", "visit_date"),
        pair_ge("settle_date", "visit_date"),
        year_window("visit_date", event=True),
        year_window("settle_date", event=True),
        between("fund_amount", 0),
        between("self_amount", 0),
        money_sum("total_amount", ("fund_amount", "self_amount")),
        # v2
        code_list("secondary_diagnoses", ICD10_CODE, "ICD-10 codes (I10;E11.9)", "secondary_diagnoses_icd10_codes",
                  WARNING, key=("claim_id",)),
        derived(
            "admission_id_one_inpatient_stay",
            "the claims sharing an admission_id are one person at one institution, all inpatient",
            WARNING,
            ("admission_id",),
            _one_stay,
            example_columns=("claim_id", "admission_id", "person_id", "institution_id", "visit_type"),
        ),
    ]


def _one_stay(f: pl.DataFrame, c: Ctx) -> pl.Expr:
    """Per claim: its admission's claims have one person and one institution, and it is inpatient.

    Over a window on ``admission_id`` (null admission ids form their own window and pass)."""
    adm = pl.col("admission_id")
    one = (pl.col("person_id").n_unique().over(adm) == 1) & (pl.col("institution_id").n_unique().over(adm) == 1)
    return pl.when(adm.is_null()).then(True).otherwise(one & (pl.col("visit_type") == "inpatient"))
