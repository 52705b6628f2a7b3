"""OPERATOR_OUTLIER on small synthetic counties (tests/detectors/peers/conftest.py)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from peer_worlds import subsidy_world

from fundwatch.detectors.peers import OperatorOutlierModel, VillageOutlierModel

OPERATOR = "OP51030202"  # serves villages ...005 and ...006 of county 510302


@pytest.fixture(scope="module")
def world():
    return subsidy_world(seed=5, extra_operator=OPERATOR, extra_rate=0.24)


def test_planted_operator_ranks_first_and_is_flagged(world):
    model = OperatorOutlierModel().fit(world)
    scored = model.score_entities(world).sort("score", descending=True)
    assert scored["entity_id"][0] == OPERATOR
    f = model.detect(world)
    assert OPERATOR in f["entity_id"].to_list()
    r = f.filter(pl.col("entity_id") == OPERATOR).row(0, named=True)
    assert r["entity_type"] == "operator" and r["region_code"] == "510302"
    details = json.loads(r["details"])
    names = [e["name"] for e in details["features"] if e["contribution"] >= 3]
    assert "recipients_per_100:min_living" in names or "shared_account_share" in names
    ops = world["disbursements"].filter(pl.col("operator_id") == OPERATOR)
    assert set(r["record_ids"]) <= set(ops["disbursement_id"].to_list())
    assert r["amount_at_risk"] > 0


def test_villages_of_the_planted_operator_top_the_village_ranking(world):
    scored = VillageOutlierModel().fit(world).score_entities(world).sort("score", descending=True)
    assert set(scored["entity_id"][:2].to_list()) == {"510302101005", "510302101006"}


def test_cadre_relatives_raise_the_cadre_share(world):
    # make the recipients of one operator's villages cadre relatives: same household as the cadre
    w = dict(world)
    cadre = w["officials"].filter(pl.col("region_code") == "510303101001")["person_id"][0]
    hh = w["persons"].filter(pl.col("person_id") == cadre)["household_id"][0]
    recips = (
        w["disbursements"].filter(pl.col("operator_id") == "OP51030300")["person_id"].unique()
    )
    w["persons"] = w["persons"].with_columns(
        pl.when(pl.col("person_id").is_in(recips.implode()))
        .then(pl.lit(hh)).otherwise(pl.col("household_id")).alias("household_id")
    )
    scored = OperatorOutlierModel().fit(w).score_entities(w)
    row = scored.filter(pl.col("entity_id") == "OP51030300").row(0, named=True)
    assert row["cadre_household_share"] > 0.9
    assert row["cadre_household_share__z"] >= 3
