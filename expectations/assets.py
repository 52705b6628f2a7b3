"""Suite ``assets`` (车辆、工商、房产登记).

v2 columns, checked only when given. ``subtype`` outside the contract's list is critical (an
enumeration). A subtype of another asset type (a ``farm_vehicle`` business) and a
``deregistered_date`` before ``registered_date`` are **warnings**: quarantining the row would
drop the registration itself and let its owner pass the asset exclusion unseen, the same
reasoning as for a negative ``value``; the asset rules treat such a row as a plain asset.
"""

from __future__ import annotations

import polars as pl

from fundwatch.contract import ASSET_SUBTYPE, ASSET_SUBTYPES_BY_TYPE, ASSET_TYPE
from fundwatch.settings.validation import ValidationSettings

from .spec import WARNING, Check, between, derived, in_set, pair_ge, schema_checks, valid_person_id, year_window

DATASET = "assets"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        valid_person_id("person_id", WARNING),
        in_set("asset_type", list(ASSET_TYPE)),
        # a negative value is odd but the registration itself (what the rules use) still holds
        between("value", 0, severity=WARNING),
        year_window("registered_date"),
        # v2
        in_set("subtype", list(ASSET_SUBTYPE)),
        derived(
            "subtype_fits_asset_type",
            "subtype is one of the asset type's subtypes (vehicle: car, truck, …; business: sole_trader, company; "
            "property: residential, commercial)",
            WARNING,
            ("asset_type", "subtype"),
            lambda f, c: _subtype_fits(),
        ),
        pair_ge("deregistered_date", "registered_date", severity=WARNING),
        year_window("deregistered_date"),
    ]


def _subtype_fits() -> pl.Expr:
    pairs = [f"{t}/{s}" for t, subs in ASSET_SUBTYPES_BY_TYPE.items() for s in subs]
    return (pl.col("asset_type") + "/" + pl.col("subtype")).is_in(pairs).fill_null(True)
