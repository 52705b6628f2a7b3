"""Suite ``claim_items`` (费用明细)."""

from __future__ import annotations

from fundwatch.contract import CATEGORY
from fundwatch.settings.validation import ValidationSettings

from .spec import Check, between, in_set, money_product, schema_checks, unique, year_window

DATASET = "claim_items"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        unique("claim_id", "line_no"),
        in_set("category", list(CATEGORY)),
        between("quantity", 0, strict_min=True),
        between("unit_price", 0),
        money_product("amount", "quantity", "unit_price"),
        year_window("service_date", event=True),
    ]
