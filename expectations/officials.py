"""Suite ``officials`` (财政供养人员及村(社区)干部)."""

from __future__ import annotations

from fundwatch.contract import ROLE
from fundwatch.settings.validation import ValidationSettings

from .spec import WARNING, Check, in_set, pair_ge, region_code, schema_checks, valid_person_id, year_window

DATASET = "officials"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        valid_person_id("person_id", WARNING),
        in_set("role", list(ROLE)),
        region_code(),
        pair_ge("end_date", "start_date", severity=WARNING),
        year_window("start_date"),
        year_window("end_date"),
    ]
