"""INSTITUTION_OUTLIER on a small synthetic set of hospitals, clinics and pharmacies."""

from __future__ import annotations

import json

import polars as pl
import pytest
from peer_worlds import KINDS, medical_world

from fundwatch.detectors.base import FINDINGS_KEY, FINDINGS_SCHEMA, empty_findings
from fundwatch.detectors.peers import InstitutionOutlierModel

PLANTED = "C105"  # a level-1 clinic billing 2.5x the cost, more items, more drugs


@pytest.fixture(scope="module")
def world():
    return medical_world(seed=0, inflated_institution=PLANTED)


@pytest.fixture(scope="module")
def fitted(world):
    return InstitutionOutlierModel().fit(world)


def test_inflated_clinic_ranks_first_big_hospitals_do_not(world, fitted):
    scored = fitted.score_entities(world).sort("score", descending=True)
    assert scored["entity_id"][0] == PLANTED
    f = fitted.detect(world)
    assert f["entity_id"].to_list() == [PLANTED] or PLANTED in f["entity_id"].to_list()
    # level-3 hospitals cost ~10x a clinic per visit but are compared only with each other
    assert not f["entity_id"].str.starts_with("H3").any()
    h3 = scored.filter(pl.col("entity_id").str.starts_with("H3"))
    # four level-3 hospitals: too few for a median one inflated hospital cannot move, and no
    # other institution shares their level, so they are compared with each other as a last resort
    assert h3["peer_group"].unique().to_list() == ["kind_level_small|hospital-3"]
    assert (h3["max_z"] < 3).all()


def test_finding_content(world, fitted):
    f = fitted.detect(world)
    assert f.schema == FINDINGS_SCHEMA
    r = f.filter(pl.col("entity_id") == PLANTED).row(0, named=True)
    assert r["domain"] == "medical" and r["entity_type"] == "institution"
    details = json.loads(r["details"])
    assert details["peer_group"] == "kind_level|clinic-1"
    strong = {e["name"] for e in details["features"] if e["contribution"] >= 3}
    assert strong & {"cost_per_visit", "items_per_visit"}
    assert "同类同级中位数" in r["evidence_zh"] and "peer median" in r["evidence_en"]
    own = world["claims"].filter(pl.col("institution_id") == PLANTED)
    assert set(r["record_ids"]) <= set(own["claim_id"].to_list())
    assert 0 < r["amount_at_risk"] <= own["fund_amount"].sum()
    assert r["period_start"] == "2025-01" and r["period_end"] <= "2025-03"


def test_rule_findings_add_a_feature(world):
    # a rule cited most claims of one pharmacy: its rule-hit share stands out among pharmacies
    claims = world["claims"].filter(pl.col("institution_id") == "P003")["claim_id"]
    rule = empty_findings().vstack(
        pl.DataFrame(
            {"rule_code": ["OVER_PRICE"], "domain": ["medical"], "entity_type": ["institution"],
             "entity_id": ["P003"], "record_ids": [claims.to_list()[: int(claims.len() * 0.8)]],
             "record_amounts": [[1.0] * int(claims.len() * 0.8)], "amount_at_risk": [1.0],
             "score": [1.0], "period_start": ["2025-01"],
             "period_end": ["2025-03"], "region_code": [""], "evidence_zh": [""],
             "evidence_en": [""], "details": ["{}"]},
            schema=empty_findings().schema,
        )
    )
    with_rules = {**world, FINDINGS_KEY: rule}
    model = InstitutionOutlierModel().fit(with_rules)
    assert "rule_hit_share" in model.feature_names_
    scored = model.score_entities(with_rules)
    row = scored.filter(pl.col("entity_id") == "P003").row(0, named=True)
    assert row["rule_hit_share"] == pytest.approx(0.8, abs=0.01)
    assert row["rule_hit_share__z"] >= 3
    # the money of the rule share is the rules' money on those claims (1.0 each), never the
    # claims' whole fund amount
    found = model.detect(with_rules).filter(pl.col("entity_id") == "P003")
    if found.height and json.loads(found["details"][0])["features"][0]["name"] == "rule_hit_share":
        assert found["amount_at_risk"][0] <= int(claims.len() * 0.8) * 1.0 + 1e-6
    from fundwatch.detectors.peers import _medical

    facts = _medical.claim_facts(with_rules).filter(pl.col("institution_id") == "P003").collect()
    assert facts.filter(pl.col("rule_hit"))["rule_money"].to_list() == [1.0] * int(claims.len() * 0.8)
    assert (facts.filter(~pl.col("rule_hit"))["rule_money"] == 0.0).all()
    # without findings the feature is absent and nothing breaks
    assert "rule_hit_share" not in InstitutionOutlierModel().fit(world).feature_names_


def test_small_kind_level_groups_are_not_scored(world):
    model = InstitutionOutlierModel(min_institution_peers=5).fit(world)
    scored = model.score_entities(world)
    assert not scored["entity_id"].str.starts_with("H3").any()  # only 4 level-3 hospitals
    assert model.n_unscored_ == 4


# a small city: three township health centres (level-1 clinics), three level-1 hospitals
SMALL_CITY = [
    ("hospital", 1, 3, 200, 120.0, 0.05, 0.50, 4),
    ("clinic", 1, 3, 200, 120.0, 0.0, 0.55, 4),
    ("hospital", 2, 6, 300, 700.0, 0.15, 0.40, 9),
    KINDS[-1],  # pharmacies
]


def test_two_inflated_of_three_clinics_are_compared_with_every_level_1_institution():
    # with three clinics of a kind and level, two inflated ones would be the median of their
    # own group; every level-1 institution that treats patients is the group instead
    inflated = ("C100", "C101")
    world = medical_world(seed=1, inflated_institution=inflated, inflation=1.6, kinds=SMALL_CITY)
    model = InstitutionOutlierModel().fit(world)
    scored = model.score_entities(world)
    level1 = scored.filter(pl.col("entity_id").str.slice(1, 1) == "1")
    assert level1["peer_group"].unique().to_list() == ["care_level|level-1"]
    assert level1["n_peers"].unique().to_list() == [6]
    # pharmacies' purchases never join the patients' institutions
    pharmacies = scored.filter(pl.col("entity_id").str.starts_with("P"))
    assert pharmacies["peer_group"].unique().to_list() == ["kind_level|pharmacy-0"]
    found = set(model.detect(world)["entity_id"].to_list())
    assert set(inflated) <= found
    assert not found & {"C102", "H100", "H101", "H102"}

