"""Suite ``item_catalog`` (医保目录及限定).

v2 limits (checked only when their columns are given) follow the suite's rule for limits: a
limit that cannot be applied as written is **critical** and quarantines the item's row, because
a rule fed a wrong limit raises false leads on every claim of the item (as ``max_qty_per_day``
≤ 0 does today). So:

* ``indication`` must be a ``;``-joined list of ICD-10 prefixes (:data:`~expectations.spec.ICD10_PREFIX`:
  a letter and up to two digits — ``C``, ``E1``, ``E11`` — or a longer code prefix such as
  ``E11.9``); ``糖尿病`` or ``E11-E14`` fails, naming the item;
* ``visit_type_limit`` is ``inpatient`` or ``outpatient``;
* ``window_days`` and ``max_qty_per_window`` are given together, both > 0.
"""

from __future__ import annotations

import polars as pl

from fundwatch.contract import CATEGORY, VISIT_TYPE_LIMIT
from fundwatch.settings.validation import ValidationSettings

from .spec import CRITICAL, ICD10_PREFIX, Check, Ctx, between, code_list, derived, in_set, pair_ge, schema_checks, unique

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
        # v2
        code_list("indication", ICD10_PREFIX, "ICD-10 prefixes (E11;E13)", "indication_icd10_prefixes",
                  key=("item_code",)),
        in_set("visit_type_limit", list(VISIT_TYPE_LIMIT)),
        derived(
            "window_days_with_max_qty_per_window",
            "window_days and max_qty_per_window are both given or both empty",
            CRITICAL,
            ("item_code",),
            _window_pair,
            example_columns=("item_code", "window_days", "max_qty_per_window"),
        ),
        between("window_days", 0, strict_min=True, show=("item_code",)),
        between("max_qty_per_window", 0, strict_min=True, show=("item_code",)),
    ]


def _window_pair(f: pl.DataFrame, c: Ctx) -> pl.Expr:
    # one of the two columns may be absent from the input: then the other must be empty
    given = [pl.col(n).is_not_null() if n in f.columns else pl.lit(False) for n in ("window_days", "max_qty_per_window")]
    return given[0] == given[1]
