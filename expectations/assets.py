"""Suite ``assets`` (车辆、工商、房产登记)."""

from __future__ import annotations

from fundwatch.contract import ASSET_TYPE
from fundwatch.settings.validation import ValidationSettings

from .spec import WARNING, Check, between, in_set, schema_checks, valid_person_id, year_window

DATASET = "assets"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        valid_person_id("person_id", WARNING),
        in_set("asset_type", list(ASSET_TYPE)),
        # a negative value is odd but the registration itself (what the rules use) still holds
        between("value", 0, severity=WARNING),
        year_window("registered_date"),
    ]
