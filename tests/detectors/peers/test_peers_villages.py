"""VILLAGE_OUTLIER on small synthetic counties (tests/detectors/peers/conftest.py)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from peer_worlds import subsidy_world
from sklearn.base import clone

from fundwatch.detectors.base import FINDINGS_SCHEMA
from fundwatch.detectors.peers import VillageOutlierModel

PLANTED = "510302101004"
BIG = "510303101003"  # 8x the residents, normal rates, other county and subsidy mix


@pytest.fixture(scope="module")
def world():
    return subsidy_world(seed=0, extra_village=PLANTED, big_village=BIG)


@pytest.fixture(scope="module")
def fitted(world):
    return VillageOutlierModel().fit(world)


def test_planted_village_ranks_first_and_big_village_does_not_stand_out(world, fitted):
    scored = fitted.score_entities(world).sort("score", descending=True)
    assert scored["entity_id"][0] == PLANTED
    findings = fitted.detect(world)
    assert PLANTED in findings["entity_id"].to_list()
    assert BIG not in findings["entity_id"].to_list()
    # peers are county-local: the planted village is compared within its own county
    row = scored.filter(pl.col("entity_id") == PLANTED)
    assert row["peer_group"][0].split("|")[1].startswith("510302")


def test_finding_shape_evidence_and_records(world, fitted):
    f = fitted.detect(world).filter(pl.col("entity_id") == PLANTED)
    assert f.schema == FINDINGS_SCHEMA
    r = f.row(0, named=True)
    assert r["rule_code"] == "VILLAGE_OUTLIER" and r["entity_type"] == "village"
    assert r["domain"] == "subsidy" and r["region_code"] == PLANTED
    assert 0.0 <= r["score"] <= 1.0
    details = json.loads(r["details"])
    top = details["features"][0]
    assert top["name"] == "recipients_per_100:min_living"
    assert set(top) == {"name", "label_zh", "label_en", "value", "peer_median", "peers_left_out",
                        "peer_values", "contribution"}
    assert top["value"] > top["peer_median"] and top["contribution"] >= 3
    assert 0 < len(top["peer_values"]) <= fitted.max_peer_values
    assert "最低生活保障受益人每百名居民" in r["evidence_zh"] and "同县中位数" in r["evidence_zh"]
    assert "recipients of min_living per 100 residents" in r["evidence_en"]
    # evidence: the village's min_living disbursements; amount = the excess share of their money
    d = world["disbursements"].filter(
        (pl.col("region_code") == PLANTED) & (pl.col("subsidy_type") == "min_living")
    )
    assert set(r["record_ids"]) <= set(d["disbursement_id"].to_list())
    assert len(r["record_ids"]) == min(d.height, fitted.max_record_ids)
    excess = (top["value"] - top["peer_median"]) / top["value"] * d["amount"].sum()
    assert r["amount_at_risk"] == pytest.approx(excess, rel=1e-6)
    # the listed records carry their own share only; the estimate is over all of them
    share = (top["value"] - top["peer_median"]) / top["value"]
    listed = d.filter(pl.col("disbursement_id").is_in(r["record_ids"]))
    assert sum(r["record_amounts"]) == pytest.approx(share * listed["amount"].sum(), rel=1e-6)
    assert details["n_records"] == d.height
    assert details["amount_involved"] == pytest.approx(d["amount"].sum(), abs=0.01)


def test_money_is_not_capped_by_the_listed_records(world, fitted):
    """Listing fewer records changes the list, never the money or the record count."""
    from sklearn.base import clone

    full = fitted.detect(world).filter(pl.col("entity_id") == PLANTED).row(0, named=True)
    few = clone(fitted).set_params(max_record_ids=5).fit(world).detect(world)
    r = few.filter(pl.col("entity_id") == PLANTED).row(0, named=True)
    assert len(r["record_ids"]) == 5 < len(full["record_ids"])
    assert r["amount_at_risk"] == pytest.approx(full["amount_at_risk"], rel=1e-9)
    assert sum(r["record_amounts"]) < r["amount_at_risk"]
    assert json.loads(r["details"])["n_records"] == json.loads(full["details"])["n_records"] > 5


def test_no_personal_ids_in_text(world, fitted):
    f = fitted.detect(world)
    text = " ".join(f["evidence_zh"].to_list() + f["evidence_en"].to_list() + f["details"].to_list())
    ids = set(world["persons"]["person_id"].to_list())
    assert not any(pid in text for pid in ids)


def test_detect_is_deterministic_and_does_not_mutate(world, fitted):
    stats = fitted.peer_stats_.clone()
    first = fitted.detect(world)
    assert fitted.detect(world).equals(first)
    assert fitted.peer_stats_.equals(stats)
    again = clone(fitted).fit(world).detect(world)
    assert again.equals(first)


def test_subsidy_names_are_mapped_to_codes(world):
    named = dict(world)
    named["disbursements"] = world["disbursements"].with_columns(
        pl.col("subsidy_type").replace({"min_living": "最低生活保障"})
    )
    scored = VillageOutlierModel().fit(named).score_entities(named)
    assert "recipients_per_100:min_living" in scored.columns
    assert scored.sort("score", descending=True)["entity_id"][0] == PLANTED


def test_clean_world_gives_few_findings():
    clean = subsidy_world(seed=3)
    f = VillageOutlierModel().fit_detect(clean)
    assert f.height <= 2  # 24 ordinary villages: at most the odd chance excess


def test_county_statistics_cover_every_village_of_the_county(world, fitted):
    # fallback groups are described by all their members, not only the villages that fell back
    stats = fitted.peer_stats_.filter(pl.col("peer_group") == "county|510302")
    n_county = world["persons"].filter(pl.col("region_code").str.starts_with("510302"))[
        "region_code"
    ].n_unique()
    assert stats["n_peers"].to_list() == [n_county]


def test_villages_of_small_counties_are_compared_with_the_whole_city():
    # four districts of three communities each: no county has enough villages for a median
    small = subsidy_world(seed=1, counties=("510302", "510303", "510304", "510305"), villages_per_county=3,
                          extra_village="510304101002")
    model = VillageOutlierModel().fit(small)
    scored = model.score_entities(small)
    assert scored.height == 12 and set(scored["peer_group"]) <= {"city|5103"}
    assert model.detect(small)["entity_id"].to_list() == ["510304101002"]
    # without the city level the same villages are not scored at all
    assert VillageOutlierModel(min_peer_group_size=13).fit(small).score_entities(small).height == 0


def test_a_decisive_excess_is_a_finding_whatever_the_ensemble_says(world, fitted):
    """Several inflated villages in one small population mask each other in the ensemble's
    relative calibration; a large robust excess on one feature is a lead by itself."""
    row = fitted.score_entities(world).filter(pl.col("entity_id") == PLANTED).row(0, named=True)
    z = row["max_z"]
    assert z > 5
    mute = dict(score_threshold=1.01)  # the ensemble flags nobody
    at = clone(fitted).set_params(decisive_feature_z=z, **mute).fit(world).detect(world)
    above = clone(fitted).set_params(decisive_feature_z=z + 1e-6, **mute).fit(world).detect(world)
    assert PLANTED in at["entity_id"].to_list() and PLANTED not in above["entity_id"].to_list()
    # its strength stays what the ensemble gave it: the finding ranks by that probability
    assert at.filter(pl.col("entity_id") == PLANTED)["score"][0] == pytest.approx(row["score"])
