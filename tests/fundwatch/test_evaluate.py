"""Evaluation on a tiny hand-made labels/leads pair."""

from __future__ import annotations

import math

import polars as pl
import pytest

from fundwatch.contract import LEADS_SCHEMA
from fundwatch.evaluate import LABELS_SCHEMA, evaluate, format_evaluation, match_labels


def lead(rank, entity_id, codes, records, amount=100.0):
    return {"lead_id": f"L{rank}", "rank": rank, "score": 1 - rank / 100, "severity": "high", "domain": "subsidy",
            "entity_type": "person", "entity_id": entity_id, "rule_codes": codes, "title": "", "amount_at_risk": amount,
            "period_start": "2025-01", "period_end": "2025-01", "region_code": "", "record_ids": records, "explanation": ""}


def label(atype, entity_id, records, amount, lookalike=False):
    return {"anomaly_type": atype, "domain": "subsidy", "entity_type": "person", "entity_id": entity_id,
            "record_ids": records, "amount": amount, "lookalike": lookalike, "note": ""}


LEADS = pl.DataFrame([
    lead(1, "P1", ["DECEASED_PAYEE"], ["D1"]),                  # finds label 0 by entity
    lead(2, "ACC9", ["SHARED_ACCOUNT"], ["D7", "D8"]),          # finds label 2 by record overlap
    lead(3, "P5", ["DUPLICATE_PAYMENT"], ["D20"]),              # flags a look-alike
    lead(4, "P6", ["OVER_STANDARD"], ["D30"]),                  # nothing planted: false positive
    lead(5, "P2", ["OVER_STANDARD"], ["D2"]),                   # right person, wrong rule: no match
], schema=LEADS_SCHEMA)
LABELS = pl.DataFrame([
    label("DECEASED_PAYEE", "P1", ["D1", "D1b"], 1000.0),
    label("DECEASED_PAYEE", "P2", ["D2"], 500.0),              # missed
    label("SHARED_ACCOUNT", "P3", ["D8"], 300.0),
    label("DUPLICATE_PAYMENT", "P5", ["D20"], 0.0, lookalike=True),
    label("DUPLICATE_PAYMENT", "P9", ["D99"], 0.0, lookalike=True),
], schema=LABELS_SCHEMA)


def test_matching_by_entity_or_record_overlap_with_the_right_code():
    m = match_labels(LEADS, LABELS)
    assert sorted(zip(m["label_idx"].to_list(), m["lead_id"].to_list())) == [(0, "L1"), (2, "L2"), (3, "L3")]


def test_recall_precision_money_and_lookalikes():
    r = evaluate(LEADS, LABELS, ks=(1, 3, 10), top_fraction=0.01)
    pt = {row["anomaly_type"]: row for row in r["per_type"].iter_rows(named=True)}
    assert pt["DECEASED_PAYEE"]["n_labels"] == 2 and pt["DECEASED_PAYEE"]["recall"] == pytest.approx(0.5)
    assert pt["DECEASED_PAYEE"]["best_rank"] == 1 and pt["SHARED_ACCOUNT"]["best_rank"] == 2
    assert "DUPLICATE_PAYMENT" not in pt  # look-alikes are not counted as planted anomalies
    assert r["recall"] == pytest.approx(2 / 3)
    p = {row["k"]: row for row in r["precision_at_k"].iter_rows(named=True)}
    assert p[1]["precision"] == 1.0 and p[3]["precision"] == pytest.approx(2 / 3)
    assert p[10]["n_leads"] == 5 and p[10]["precision"] == pytest.approx(2 / 5)
    assert r["top_n"] == 1 and r["money_recall_top"] == pytest.approx(1000 / 1800)
    assert r["lookalike_false_alarms"] == 1
    look = r["lookalikes"].row(0, named=True)
    assert (look["anomaly_type"], look["n_lookalikes"], look["n_flagged"]) == ("DUPLICATE_PAYMENT", 2, 1)


def test_no_leads_and_labels_without_lookalike_column():
    labels = LABELS.drop("lookalike").head(1)
    r = evaluate(LEADS.head(0), labels)
    assert r["recall"] == 0.0 and r["top_n"] == 0 and r["money_recall_top"] == 0.0
    assert all(math.isnan(x) for x in r["precision_at_k"]["precision"].to_list())


def test_format_evaluation_is_plain_text():
    text = format_evaluation(evaluate(LEADS, LABELS, ks=(3,)))
    assert "DECEASED_PAYEE" in text and "precision@3: 66.7%" in text and "look-alikes: 1 of 2" in text
