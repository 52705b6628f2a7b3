"""Suite ``claim_items`` (费用明细).

v2 columns, checked only when given:

* ``days_supply`` below 1 is **critical**, like a quantity ≤ 0: an impossible number of days
  would feed the over-supply rule nonsense;
* a line with a ``trace_code`` and a quantity above 1 is a **warning**: the contract counts
  packages on such a line and one package is sold once, so the line is either mis-keyed or
  exactly the resale of a package (倒卖回流药) that the trace-code rule must see, never hidden
  in quarantine.
"""

from __future__ import annotations

from fundwatch.contract import CATEGORY
from fundwatch.settings.validation import ValidationSettings

import polars as pl

from .spec import WARNING, Check, between, derived, in_set, money_product, schema_checks, unique, year_window

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
        # v2
        between("days_supply", 1, show=("claim_id", "line_no")),
        derived(
            "trace_code_quantity_le_1",
            "a line with a trace_code sells at most one package (quantity ≤ 1)",
            WARNING,
            ("trace_code",),
            lambda f, c: (pl.col("trace_code").is_null() | (pl.col("quantity") <= 1)).fill_null(True),
            example_columns=("claim_id", "line_no", "trace_code", "quantity"),
        ),
    ]
