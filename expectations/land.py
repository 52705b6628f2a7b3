"""Suite ``land`` (承包地确权面积)."""

from __future__ import annotations

from fundwatch.settings.validation import ValidationSettings

from .spec import WARNING, Check, between, schema_checks, unique, valid_person_id

DATASET = "land"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        # one head of household per household; not a contract rule, so reported only
        unique("household_id", severity=WARNING),
        valid_person_id("person_id", WARNING),
        between("contracted_area_mu", 0),
    ]
