"""Suite ``claims`` (医保结算). Invalid patient identity numbers are kept (warning)."""

from __future__ import annotations

from fundwatch.contract import VISIT_TYPE
from fundwatch.settings.validation import ValidationSettings

from .spec import (
    WARNING,
    Check,
    between,
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
    ]
