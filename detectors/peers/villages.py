"""VILLAGE_OUTLIER: villages whose subsidy payments are out of line with comparable villages.

Entity: a village / community (12-digit ``region_code`` of the disbursements). Peers: villages
of the same county (first 6 digits) with the same subsidy mix (the types making up at least
``mix_min_share`` of their disbursements); where that group is smaller than
``min_peer_group_size`` the village is compared with its whole county, and with no county
group of that size it is not scored. Villages with fewer than ``min_residents`` registered
residents are not scored. Features: see :mod:`detectors.peers._subsidy`.
"""

from __future__ import annotations

import polars as pl

from ..base import Datasets
from . import _subsidy
from ._features import FeatureSpec
from ._model import PeerOutlierModel


class VillageOutlierModel(PeerOutlierModel):
    """Villages far above their county peers in recipients per resident, money, proxies …"""

    codes = ("VILLAGE_OUTLIER",)
    code = "VILLAGE_OUTLIER"
    domain = "subsidy"
    entity_type = "village"
    entity_label = ("个", "villages")
    requires = ("persons", "disbursements")
    optional = ("officials", "subsidy_standards")
    peer_levels = ("county_mix", "county")
    group_labels = {
        "county_mix": ("同县同补贴结构村(社区)", "same county and subsidy mix"),
        "county": ("同县村(社区)", "same county"),
    }
    median_labels = {"county_mix": ("同县", "county"), "county": ("同县", "county")}

    def _entity_frame(self, datasets: Datasets) -> tuple[pl.DataFrame, list[FeatureSpec]]:
        d = _subsidy.disbursements(datasets)
        residents = _subsidy.residents_by_region(datasets).rename({"region_code": "entity_id"})
        frame, types = _subsidy.entity_features(
            d, "region_code", residents, self.growth_min_base, self.mix_min_share
        )
        frame = frame.filter(pl.col("residents") >= self.min_residents).with_columns(
            pl.col("entity_id").alias("region_code"),
            (pl.col("county") + "/" + pl.col("mix")).alias("peer_0"),
            pl.col("entity_id").str.slice(0, 6).alias("peer_1"),
        )
        return frame, _subsidy.feature_specs(types, _subsidy.type_labels(datasets, types))

    def _candidate_records(self, datasets: Datasets, flagged: pl.DataFrame) -> pl.DataFrame:
        return _subsidy.candidate_records(_subsidy.disbursements(datasets), "region_code", flagged)
