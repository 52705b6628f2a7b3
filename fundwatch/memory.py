"""How the accepted data is held in memory between validation and detection.

Claim items and claims repeat a handful of codes tens of millions of times (35M item lines
at the L tier carry 36 item codes, 36 item names and 6 categories). Held as polars
``String`` each value is a 16-byte view; held as ``Categorical`` it is a 4-byte index into one
shared dictionary. :func:`compact` converts the columns of :data:`LOW_CARDINALITY` after
validation (about 2 GB less at the L tier). The contract types stay ``String``: every reader
of the datasets goes through :func:`as_text`, which casts them back lazily, so only the rows
a query keeps are materialised as text, and joins and string operations see the contract's
types.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
import polars.selectors as cs

#: dataset -> text columns with few distinct values and many rows (compacted after validation).
#: ``period`` is not here: it is compared and sorted as text before compaction matters.
LOW_CARDINALITY: dict[str, tuple[str, ...]] = {
    "claim_items": ("item_code", "item_name", "category"),
    "claims": ("institution_id", "doctor_id", "visit_type", "diagnosis_code"),
    "disbursements": ("batch_id", "subsidy_type", "region_code", "operator_id"),
}


def compact(datasets: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The datasets with the :data:`LOW_CARDINALITY` text columns held as ``Categorical``.

    Values are unchanged (:func:`as_text` gives back the same strings). Drop the caller's
    references to the input frames afterwards, or both copies stay in memory.
    """
    out = dict(datasets)
    for name, columns in LOW_CARDINALITY.items():
        frame = out.get(name)
        if not isinstance(frame, pl.DataFrame):
            continue
        text = [c for c in columns if frame.schema.get(c) == pl.String]
        if text:
            out[name] = frame.with_columns(pl.col(text).cast(pl.Categorical))
    return out


def as_text(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """``frame`` as a LazyFrame with every ``Categorical`` column cast back to ``String``."""
    lf = frame.lazy()
    if any(isinstance(t, pl.Categorical) for t in lf.collect_schema().dtypes()):
        lf = lf.with_columns(cs.categorical().cast(pl.String))
    return lf


def repeated_values(values: pl.Series) -> pl.Series:
    """The distinct values that occur more than once in ``values``, found by sorting.

    Meant for 64-bit key hashes over tens of millions of rows: a sorted copy costs 8 bytes a
    row, where ``is_duplicated`` or a group-by builds a hash table of every key (on 35M claim
    items 0.2 GB and 1 s instead of 2.2 GB and 6 s).
    """
    ordered = values.sort()
    return ordered.filter(ordered == ordered.shift(1)).unique()
