"""Suite ``persons`` (人员基础信息): the roster every other dataset is matched against.

The only dataset where an invalid identity number quarantines the row (contract).

v2 ``relation`` (checked only when the column is given): a code outside the contract's list is
critical, as for every enumeration (the loader already maps labels to codes, so only frames
handed in directly can fail it).
"""

from __future__ import annotations

import polars as pl

from fundwatch.contract import RELATION
from fundwatch.idnumber import birth_date_of, gender_of
from fundwatch.settings.validation import ValidationSettings

from .spec import CRITICAL, Check, derived, in_set, region_code, schema_checks, unique, valid_person_id, year_window

DATASET = "persons"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        unique("person_id"),
        valid_person_id("person_id", CRITICAL),
        in_set("gender", ["M", "F"]),
        derived(
            "gender_agrees_with_person_id",
            "gender agrees with the sequence digit of person_id (odd = M, even = F)",
            CRITICAL,
            ("person_id", "gender"),
            lambda f, c: (gender_of(pl.col("person_id")) == pl.col("gender")).fill_null(True),
        ),
        derived(
            "birth_date_agrees_with_person_id",
            "birth_date equals characters 7-14 of person_id",
            CRITICAL,
            ("person_id", "birth_date"),
            lambda f, c: (birth_date_of(pl.col("person_id")) == pl.col("birth_date")).fill_null(True),
        ),
        region_code(),
        year_window("birth_date"),
        # v2
        in_set("relation", list(RELATION)),
    ]
