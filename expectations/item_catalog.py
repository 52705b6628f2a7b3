"""Suite ``item_catalog`` (医保目录及限定)."""

from __future__ import annotations

from fundwatch.contract import CATEGORY
from fundwatch.settings.validation import ValidationSettings

from .spec import Check, between, in_set, pair_ge, schema_checks, unique

DATASET = "item_catalog"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        unique("item_code"),
        in_set("category", list(CATEGORY)),
        in_set("gender_limit", ["M", "F"]),
        between("min_age", 0, s.max_age),
        between("max_age", 0, s.max_age),
        pair_ge("max_age", "min_age"),
        between("max_qty_per_day", 0, strict_min=True),
        between("price_cap", 0),
    ]
