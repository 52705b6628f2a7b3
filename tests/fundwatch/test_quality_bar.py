"""The leads' quality bar on the project's own synthetic city (fixed seed): the first page
is right, every planted anomaly type shows up near the top, look-alikes do not, and a rerun
gives the same ids in the same order. The generator's numbers are not known to the detectors;
bench/quality.py checks other seeds, sizes and a city with different rates and magnitudes."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from fundwatch import pipeline
from fundwatch.evaluate import evaluate, match_labels

TOP = 200


@pytest.fixture(scope="module")
def leads(small_city):
    return _rank(small_city)


def _rank(city):
    findings = pipeline.detect_step(city.datasets).findings
    return pipeline.rank_step(findings, as_of=pipeline.period_range(city.datasets)[1])


def test_precision_at_50(leads, small_city):
    result = evaluate(leads, small_city.labels, ks=(50,))
    at50 = result["precision_at_k"].filter(pl.col("k") == 50).row(0, named=True)
    assert at50["n_leads"] == 50
    assert at50["precision"] >= 0.95


def test_every_planted_type_in_the_top_200(leads, small_city):
    planted = small_city.labels.filter(~pl.col("lookalike"))
    matches = match_labels(leads.head(TOP), planted)
    found_types = set(planted[matches["label_idx"].unique().to_list()]["anomaly_type"])
    assert found_types == set(planted["anomaly_type"].unique())


def test_no_lookalike_in_the_top_200(leads, small_city):
    result = evaluate(leads.head(TOP), small_city.labels)
    assert result["lookalike_false_alarms"] == 0


def test_rerun_same_ids_same_order(leads, small_city):
    assert_frame_equal(leads, _rank(small_city))
