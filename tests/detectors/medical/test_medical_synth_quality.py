"""Quality on the synthetic city: recall 1.0 per planted medical rule type, nothing on look-alikes.

Matching is by evidence, not by numbers of the generator: a planted case counts as found when a
finding of its code shares a record id with it (for collusive groups: a group holding at least
80% of the planted members and no one outside them); a look-alike must share no record id with
any finding of its code. Skipped while the generator plants no medical cases.
"""

import json

import polars as pl
import pytest

import fundwatch.detectors.medical as medical
from fundwatch.detectors.registry import detector_classes
from fundwatch.settings import DEFAULT_SETTINGS

synth = pytest.importorskip("fundwatch.synth")

CODES = sorted({c for cls in detector_classes("medical") for c in cls.codes})


@pytest.fixture(scope="module")
def city():
    c = synth.generate_city(5000, seed=7)
    labels = c.labels.filter((pl.col("domain") == "medical") & pl.col("anomaly_type").is_in(CODES))
    if labels.height == 0:
        pytest.skip("the synthetic city plants no medical cases yet")
    findings = pl.concat([d.fit_detect(c.datasets) for d in medical.build_detectors(DEFAULT_SETTINGS)])
    return labels, findings


def _records(findings: pl.DataFrame, code: str) -> set[str]:
    return set(findings.filter(pl.col("rule_code") == code)["record_ids"].explode().drop_nulls().to_list())


@pytest.mark.parametrize("code", CODES)
def test_recall_on_planted_cases(city, code):
    labels, findings = city
    planted = labels.filter((pl.col("anomaly_type") == code) & ~pl.col("lookalike"))
    if planted.height == 0:
        pytest.skip(f"no planted {code}")
    missed = []
    if code == "COLLUSIVE_GROUP":
        groups = [set(json.loads(d)["members"]) for d in findings.filter(pl.col("rule_code") == code)["details"]]
        for row in planted.iter_rows(named=True):
            truth = set(row["member_ids"] or [])
            if not any(len(g & truth) >= 0.8 * len(truth) and g <= truth for g in groups):
                missed.append(row["entity_id"])
    else:
        flagged = _records(findings, code)
        for row in planted.iter_rows(named=True):
            if not set(row["record_ids"]) & flagged:
                missed.append((row["entity_id"], row["note"]))
    assert not missed, f"{code}: missed {len(missed)} of {planted.height}: {missed[:5]}"


@pytest.mark.parametrize("code", CODES)
def test_no_finding_on_lookalikes(city, code):
    labels, findings = city
    alikes = labels.filter((pl.col("anomaly_type") == code) & pl.col("lookalike"))
    if alikes.height == 0:
        pytest.skip(f"no {code} look-alikes")
    flagged = _records(findings, code)
    hit = [(r["entity_id"], r["note"]) for r in alikes.iter_rows(named=True) if set(r["record_ids"]) & flagged]
    if code == "COLLUSIVE_GROUP":
        members = set()
        for d in findings.filter(pl.col("rule_code") == code)["details"]:
            members |= set(json.loads(d)["members"])
        hit += [(r["entity_id"], r["note"]) for r in alikes.iter_rows(named=True)
                if set(r["member_ids"] or []) & members]
    assert not hit, f"{code}: fired on {len(hit)} look-alikes: {hit[:5]}"
