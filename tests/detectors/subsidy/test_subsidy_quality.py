"""Quality on the synthetic city: every planted subsidy case found, no look-alike flagged.

The generator (``fundwatch.synth``) plants each rule's anomaly and its legitimate look-alike
and records their disbursement ids. Nothing here depends on the generator's rates or
amounts: only on "planted records are among the rule's records" and "look-alike records are
not". Entities are compared too, except for DELAYED_PAYMENT, whose findings are about the
operator while the generator labels the beneficiary.
"""

import polars as pl
import pytest

from fundwatch.detectors.registry import detector_classes
from fundwatch.detectors.subsidy import build_detectors
from fundwatch.settings import DEFAULT_SETTINGS

synth = pytest.importorskip("fundwatch.synth", reason="the synthetic city generator is not available")

RULE_CODES = sorted(c for cls in detector_classes("subsidy") for c in cls.codes)


@pytest.fixture(scope="module")
def city_findings():
    city = synth.generate_city(5000, seed=7)
    findings = pl.concat([d.fit_detect(city.datasets) for d in build_detectors(DEFAULT_SETTINGS)])
    labels = city.labels.filter(pl.col("domain") == "subsidy")
    return labels, findings


@pytest.mark.parametrize("code", RULE_CODES)
def test_recall_and_lookalikes(city_findings, code):
    labels, findings = city_findings
    mine = findings.filter(pl.col("rule_code") == code)
    records = set(mine["record_ids"].explode().drop_nulls().to_list())
    entities = set(mine["entity_id"].to_list())
    planted = labels.filter((pl.col("anomaly_type") == code) & ~pl.col("lookalike"))
    lookalikes = labels.filter((pl.col("anomaly_type") == code) & pl.col("lookalike"))
    if planted.height == 0:
        pytest.skip(f"the generator planted no {code}")
    check_entity = code != "DELAYED_PAYMENT"
    for r in planted.iter_rows(named=True):
        missing = set(r["record_ids"] or []) - records
        assert not missing, f"{code}: planted records not found for {r['note']}: {sorted(missing)[:5]}"
        if check_entity:
            assert r["entity_id"] in entities, f"{code}: planted entity not flagged ({r['note']})"
    for r in lookalikes.iter_rows(named=True):
        wrong = set(r["record_ids"] or []) & records
        assert not wrong, f"{code}: look-alike flagged ({r['note']}): {sorted(wrong)[:5]}"
        if check_entity:
            assert r["entity_id"] not in entities, f"{code}: look-alike entity flagged ({r['note']})"


def test_deterministic_whatever_the_row_order(city_findings):
    _, findings = city_findings
    city = synth.generate_city(5000, seed=7)
    shuffled = {k: v.sample(fraction=1.0, shuffle=True, seed=99) for k, v in city.datasets.items()}
    again = pl.concat([d.fit_detect(shuffled) for d in build_detectors(DEFAULT_SETTINGS)])
    assert again.equals(findings)
