"""Dataset access helpers of ``detectors.base``: detectors see the contract's types."""

from __future__ import annotations

import polars as pl

from fundwatch.detectors.base import lazy, lazy_held, lazy_rows
from fundwatch.memory import compact


def _items() -> dict[str, pl.DataFrame]:
    return {"claim_items": pl.DataFrame({
        "claim_id": ["C1", "C1", "C2"], "item_code": ["D1", "D2", "D1"], "item_name": ["a", "b", "a"],
        "category": ["drug", "drug", "drug"], "quantity": [1.0, 9.0, 3.0],
    })}


def test_lazy_gives_text_for_compacted_columns_and_lazy_held_does_not():
    packed = compact(_items())
    assert lazy(packed, "claim_items").collect_schema()["item_code"] == pl.String
    assert lazy_held(packed, "claim_items").collect_schema()["item_code"] == pl.Categorical


def test_lazy_rows_filters_before_restoring_text_and_agrees_with_plain_frames():
    pred = (pl.col("item_code").cast(pl.String) == "D1") & (pl.col("quantity") > 2)
    plain = lazy_rows(_items(), "claim_items", pred).collect()
    packed = lazy_rows(compact(_items()), "claim_items", pred).collect()
    assert plain.rows() == packed.rows() == [("C2", "D1", "a", "drug", 3.0)]
    assert packed.schema == plain.schema
