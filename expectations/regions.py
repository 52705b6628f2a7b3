"""Suite ``regions`` (行政区划, contract v2): the names every place is shown with.

* ``region_code`` of 6, 9 or 12 digits (county, township, village) and unique: **critical**. A
  malformed code names nothing, and two names for one code would make reports disagree with
  each other; the duplicate (all but the first, by default) is quarantined.
* ``parent_code`` exists in the dataset where given: a **warning**; the area is still named,
  only the hierarchy above it is incomplete (a county's parent, the prefecture, is often not
  exported).
"""

from __future__ import annotations

import polars as pl

from fundwatch.settings.validation import ValidationSettings

from .spec import WARNING, Check, Ctx, derived, matches, schema_checks, unique

DATASET = "regions"

#: 6 digits (county), 9 (township) or 12 (village/community).
AREA_CODE_RE = r"^(?:[0-9]{6}|[0-9]{9}|[0-9]{12})$"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        matches("region_code", AREA_CODE_RE, "is a 6-, 9- or 12-digit area code", "region_code_6_9_12_digits",
                show=("name",)),
        unique("region_code"),
        derived(
            "parent_code_in_regions",
            "parent_code, where given, is a region_code of the dataset",
            WARNING,
            ("parent_code",),
            _parent_exists,
            example_columns=("region_code", "name", "parent_code"),
        ),
    ]


def _parent_exists(f: pl.DataFrame, c: Ctx) -> pl.Expr:
    return pl.col("parent_code").is_in(f.get_column("region_code").implode()).fill_null(True)
