"""Suite ``deaths`` (死亡人员信息). Invalid identity numbers are kept (warning only)."""

from __future__ import annotations

from fundwatch.settings.validation import ValidationSettings

from .spec import WARNING, Check, schema_checks, valid_person_id, year_window

DATASET = "deaths"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        valid_person_id("person_id", WARNING),
        year_window("death_date"),
    ]
