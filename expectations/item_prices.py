"""Suite ``item_prices`` (医疗服务价格, contract v2): price caps by item, hospital level and date.

Critical, like ``item_catalog.price_cap``: a cap that cannot be applied as written would make
the over-price rule flag or clear lines wrongly, so the row is quarantined (the catalogue's cap
then applies, as the contract says for a line no row matches):

* ``price_cap`` ≥ 0; ``level`` within 0..``max_level``; ``valid_to`` on or after ``valid_from``;
* (``item_code``, ``level``, ``valid_from``) unique.

Warnings, reported only: the item is in ``item_catalog`` (a price for an unlisted item does no
harm); two rows of one item and level whose validity overlaps (the cap of a date in both is
ambiguous; the over-price rule should take the later ``valid_from``).
"""

from __future__ import annotations

import polars as pl

from fundwatch.settings.validation import ValidationSettings

from .spec import WARNING, Check, Ctx, between, derived, pair_ge, schema_checks, unique, year_window

DATASET = "item_prices"


def checks(s: ValidationSettings) -> list[Check]:
    return [
        *schema_checks(DATASET),
        unique("item_code", "level", "valid_from"),
        between("level", 0, s.max_level, show=("item_code",)),
        between("price_cap", 0, show=("item_code", "level", "valid_from")),
        pair_ge("valid_to", "valid_from"),
        year_window("valid_from"),
        derived(
            "validity_does_not_overlap",
            "the validity of a price does not overlap the next one of the same item and level",
            WARNING,
            ("item_code", "level", "valid_from", "valid_to"),
            _no_overlap,
        ),
    ]


def _no_overlap(f: pl.DataFrame, c: Ctx) -> pl.Series:
    """A row fails when the next start of its item and level (the next later ``valid_from``)
    comes before its ``valid_to`` (an open end overlaps any later start). Rows with the same
    start are the uniqueness check's business, not counted here."""
    key = ["item_code", "level"]
    starts = (
        f.select(*key, "valid_from")
        .unique()
        .sort([*key, "valid_from"])
        .with_columns(pl.col("valid_from").shift(-1).over(key).alias("__next"))
    )
    nxt = f.select(*key, "valid_from", "valid_to").join(
        starts, on=[*key, "valid_from"], how="left", nulls_equal=True, maintain_order="left"
    )
    ok = pl.col("__next").is_null() | (pl.col("valid_to").is_not_null() & (pl.col("valid_to") < pl.col("__next")))
    return nxt.select(ok.alias("ok")).get_column("ok")
