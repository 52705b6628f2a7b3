"""Scales of the peer models' robust z-scores: the floors that keep small or mixed groups honest."""

from __future__ import annotations

import json

import polars as pl
import pytest
from peer_worlds import medical_world, subsidy_world

from fundwatch.detectors.peers import InstitutionOutlierModel, VillageOutlierModel
from fundwatch.detectors.peers._features import mark_gross_outliers, peer_statistics, robust_z


def test_the_global_scale_floor_is_the_spread_within_groups():
    # kinds and levels differ tenfold in cost per visit; the floor of a group's scale must
    # reflect how far an institution strays from its own group, not those differences
    world = medical_world(seed=0)
    model = InstitutionOutlierModel().fit(world)
    scored = model.score_entities(world)
    spread_all = scored["cost_per_visit"].quantile(0.75) - scored["cost_per_visit"].quantile(0.25)
    assert model.global_scale_["cost_per_visit"] < 0.2 * spread_all
    within = scored.with_columns(
        (pl.col("cost_per_visit") - pl.col("cost_per_visit").median().over("peer_group")).abs().alias("dev")
    )["dev"].median() * 1.4826
    assert model.global_scale_["cost_per_visit"] == pytest.approx(within, rel=1e-6)


def test_an_entity_floor_raises_the_scale_of_that_entity_only():
    # villages of 300 and of 30,000 residents, both 50 % above a peer median of 4 per 100
    frame = pl.DataFrame({"entity_id": ["small", "large"], "peer_group": ["g", "g"],
                          "rate": [6.0, 6.0], "residents": [300, 30_000]})
    stats = pl.DataFrame({"peer_group": ["g"], "rate__median": [4.0], "rate__scale": [0.5]})
    poisson = {"rate": (100.0 * pl.col("rate__median") / pl.col("residents")).sqrt()}
    z = robust_z(frame, stats, ["rate"], one_sided=True, max_z=50.0, entity_floors=poisson)
    # 18 recipients where 12 are expected is chance in a village of 300 (sd ~ 1.15 per 100);
    # 1,800 where 1,200 are expected is not (the group's 0.5 stands)
    assert z["rate__z"].to_list() == pytest.approx([2.0 / (400 / 300) ** 0.5, 4.0])
    assert z["entity_id"].to_list() == ["small", "large"]


# eleven villages' minimum-living recipients per 100 residents: nine ordinary ones spread from
# 0 to 4.3 (overdispersed, as real villages are), two inflated rolls at 11.4 and 16.2
ORDINARY = [0.0, 0.18, 0.56, 0.87, 1.68, 2.21, 2.42, 2.70, 4.28]
INFLATED = [11.43, 16.24]


def _village_group() -> pl.DataFrame:
    values = ORDINARY + INFLATED
    return pl.DataFrame({"entity_id": [f"v{i:02d}" for i in range(len(values))],
                         "peer_group": ["g"] * len(values), "rate": values})


def _stats(frame: pl.DataFrame) -> pl.DataFrame:
    return peer_statistics(frame, ["rate"], {"rate": 1.0}, floor_relative=0.1, floor_global=0.0,
                           max_peer_values=40)


def _z(frame: pl.DataFrame, stats: pl.DataFrame) -> dict[str, float]:
    z = robust_z(frame, stats, ["rate"], one_sided=True, max_z=50.0)
    return dict(zip(z["entity_id"], z["rate__z"]))


def test_reweighting_unmasks_the_second_inflated_village():
    frame = _village_group()
    first = _stats(frame)
    # the 16.2 widens the MAD by a rank: the 11.4 is 3.8 units out, short of decisive (5)
    assert _z(frame, first)["v09"] == pytest.approx(3.76, abs=0.01)
    marked = mark_gross_outliers(frame, first, ["rate"], cutoff=5.0, max_z=50.0)
    assert marked.filter(pl.col("rate__out"))["entity_id"].to_list() == ["v10"]
    second = _stats(marked)
    z = _z(frame, second)
    assert z["v09"] >= 5.0 and z["v10"] > z["v09"]
    # the ordinary villages stay ordinary against the narrower scale
    assert max(z[f"v{i:02d}"] for i in range(len(ORDINARY))) < 2.0
    # the group is still all eleven villages: its size and the chart's values
    assert second["n_peers"].item() == 11
    assert second["rate__values"].item().to_list() == sorted(ORDINARY + INFLATED)


def test_reweighting_leaves_a_group_without_gross_outliers_as_it_was():
    frame = pl.DataFrame({"entity_id": [f"v{i}" for i in range(9)], "peer_group": ["g"] * 9,
                          "rate": ORDINARY})
    first = _stats(frame)
    marked = mark_gross_outliers(frame, first, ["rate"], cutoff=5.0, max_z=50.0)
    assert not marked["rate__out"].any()
    assert _stats(marked).equals(first)


def test_village_model_finds_both_inflated_villages_of_a_small_county_only_when_reweighting():
    world = subsidy_world(seed=0, counties=("510302",), villages_per_county=11,
                          more_extra_villages={"510302101002": 0.30, "510302101007": 0.10})
    found = {}
    for reweight in (5.0, None):
        model = VillageOutlierModel(reweight_z=reweight).fit(world)
        found[reweight] = set(model.detect(world)["entity_id"])
        z = model.score_entities(world).select("entity_id", "recipients_per_100:min_living__z")
        ordinary = z.filter(~pl.col("entity_id").is_in(["510302101002", "510302101007"]))
        assert ordinary["recipients_per_100:min_living__z"].max() < 3.0
    assert found[None] == {"510302101002"}
    assert found[5.0] == {"510302101002", "510302101007"}


def test_a_median_that_leaves_out_far_out_peers_says_so():
    world = subsidy_world(seed=0, counties=("510302",), villages_per_county=11,
                          more_extra_villages={"510302101002": 0.30, "510302101007": 0.10})
    findings = VillageOutlierModel().fit(world).detect(world)
    second = findings.filter(pl.col("entity_id") == "510302101007").row(0, named=True)
    # the first inflated village is left out of the median the second is measured against
    assert "(不计1个明显偏离者)" in second["evidence_zh"]
    assert "(far-out peers left out: 1)" in second["evidence_en"]
    top = json.loads(second["details"])["features"][0]
    assert top["name"] == "recipients_per_100:min_living" and top["peers_left_out"] == 1
    # without reweighting nothing is left out, and the sentence says nothing of it
    plain = VillageOutlierModel(reweight_z=None).fit(world).detect(world)
    assert not plain["evidence_zh"].str.contains("不计").any()
