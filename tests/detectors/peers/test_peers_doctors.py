"""DOCTOR_OUTLIER on a small synthetic set of institutions and their doctors."""

from __future__ import annotations

import json

import polars as pl
import pytest
from peer_worlds import medical_world

from fundwatch.detectors.peers import DoctorOutlierModel, build_detectors
from fundwatch.settings import DEFAULT_SETTINGS

PLANTED = "DRH2011"  # in level-2 hospital H201: 2.5x the drugs, twice the patients per day


@pytest.fixture(scope="module")
def world():
    return medical_world(seed=2, inflated_doctor=PLANTED)


def test_planted_doctor_ranks_first_level3_doctors_do_not_stand_out(world):
    model = DoctorOutlierModel().fit(world)
    scored = model.score_entities(world).sort("score", descending=True)
    assert scored["entity_id"][0] == PLANTED
    row = scored.filter(pl.col("entity_id") == PLANTED).row(0, named=True)
    assert row["peer_group"] == "institution|H201"
    assert row["drug_cost_per_visit__z"] >= 3
    f = model.detect(world)
    assert PLANTED in f["entity_id"].to_list()
    assert not f["entity_id"].str.starts_with("DRH3").any()
    r = f.filter(pl.col("entity_id") == PLANTED).row(0, named=True)
    assert json.loads(r["details"])["features"][0]["name"] == "drug_cost_per_visit"
    assert "同机构中位数" in r["evidence_zh"]
    own = world["claims"].filter(pl.col("doctor_id") == PLANTED)["claim_id"].to_list()
    assert r["record_ids"] and set(r["record_ids"]) <= set(own)


def test_institutions_with_few_doctors_fall_back_to_kind_level_peers(world):
    model = DoctorOutlierModel(min_doctors_per_institution=7).fit(world)  # all have 6
    scored = model.score_entities(world)
    assert scored["peer_group"].str.starts_with("kind_level|").all()
    assert scored.sort("score", descending=True)["entity_id"][0] == PLANTED


def test_build_detectors_uses_settings():
    settings = DEFAULT_SETTINGS.model_copy(
        update={"peers": DEFAULT_SETTINGS.peers.model_copy(update={"score_threshold": 0.8})}
    )
    dets = build_detectors(settings)
    assert {d.codes[0] for d in dets} == {
        "VILLAGE_OUTLIER", "OPERATOR_OUTLIER", "INSTITUTION_OUTLIER", "DOCTOR_OUTLIER"
    }
    assert all(d.kind == "model" and d.score_threshold == 0.8 for d in dets)
