"""Compacting repetitive text columns changes memory, never results."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from fundwatch import pipeline
from fundwatch.memory import LOW_CARDINALITY, as_text, compact, repeated_values
from fundwatch.leads import evidence_table


def test_compact_holds_declared_columns_as_categorical_and_as_text_restores_them(small_city):
    data = small_city.datasets
    packed = compact(data)
    for name, columns in LOW_CARDINALITY.items():
        for col in columns:
            assert packed[name].schema[col] == pl.Categorical, (name, col)
        assert_frame_equal(as_text(packed[name]).collect(), data[name])
    # datasets not declared are passed through untouched (same object, no copy)
    assert packed["persons"] is data["persons"]
    # the input is not modified
    assert data["claim_items"].schema["item_code"] == pl.String


def test_compact_is_smaller(small_city):
    items = small_city.datasets["claim_items"]
    assert compact({"claim_items": items})["claim_items"].estimated_size() < items.estimated_size()


def test_detectors_and_evidence_give_identical_results_on_compacted_data(small_city):
    data = small_city.datasets
    plain = pipeline.detect_step(data)
    packed_data = compact(data)
    packed = pipeline.detect_step(packed_data)
    assert plain.findings.height > 50
    assert_frame_equal(packed.findings, plain.findings)
    assert packed.skipped == plain.skipped

    leads = pipeline.rank_step(plain.findings, as_of="2025-12")
    assert_frame_equal(evidence_table(leads, packed_data), evidence_table(leads, data))


def test_partitioned_rules_give_the_same_findings_on_compacted_data(small_city):
    packed = compact(small_city.datasets)
    for name in ("ExcessQuantityRule", "SharedAccountRule"):
        whole = pipeline.run_detector(small_city.datasets, name).findings
        parts = pipeline.merge_findings(pipeline.run_detector(packed, name, part=(i, 3)) for i in range(3)).findings
        assert_frame_equal(parts, whole)


def test_repeated_values_are_the_values_seen_more_than_once():
    values = pl.Series([5, 3, 5, 9, 3, 3, 1], dtype=pl.UInt64)
    assert sorted(repeated_values(values).to_list()) == [3, 5]
    assert repeated_values(pl.Series([1, 2, 3], dtype=pl.UInt64)).len() == 0
    assert repeated_values(pl.Series([], dtype=pl.UInt64)).len() == 0
