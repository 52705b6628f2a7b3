"""Scales of the peer models' robust z-scores: the floors that keep small or mixed groups honest."""

from __future__ import annotations

import polars as pl
import pytest
from peer_worlds import medical_world

from fundwatch.detectors.peers import InstitutionOutlierModel
from fundwatch.detectors.peers._features import robust_z


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
