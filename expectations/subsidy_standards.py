"""Suite ``subsidy_standards`` (补贴标准).

v2 ``pay_within_days`` (checked only when given): a negative deadline is **critical**, like a
negative amount: a standard with an impossible rule would make every payment of its type late,
so the row is quarantined and reported with its type, region and start. ``means_test`` and
``exclusive_group`` need no check beyond the loader's (a boolean; free text).
"""

from __future__ import annotations

from fundwatch.contract import UNIT
from fundwatch.settings.validation import ValidationSettings

from .spec import WARNING, Check, between, in_set, matches, pair_ge, period, schema_checks, unique, year_window

DATASET = "subsidy_standards"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        # not a contract rule, so only reported: the longest-prefix lookup stays well defined
        unique("subsidy_type", "region_prefix", "valid_from", severity=WARNING),
        matches("region_prefix", r"^(?:[0-9]{6}|\*)$", "is a 6-digit county code or *", "region_prefix_format"),
        period("valid_from"),
        period("valid_to"),
        pair_ge("valid_to", "valid_from"),
        year_window("valid_from"),
        in_set("unit", list(UNIT)),
        between("amount", 0),
        between("min_age", 0, s.max_age),
        between("max_age", 0, s.max_age),
        pair_ge("max_age", "min_age"),
        # v2
        between("pay_within_days", 0, show=("subsidy_type", "region_prefix", "valid_from")),
    ]
