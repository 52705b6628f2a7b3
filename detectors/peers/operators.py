"""OPERATOR_OUTLIER: operators (经办人) whose payments are out of line with their county peers.

Entity: ``operator_id`` of the disbursements. The rate of recipients per 100 residents of each
subsidy type is the highest among the villages the operator paid into (an operator inflating
one of its villages would be diluted by the others in a pooled rate); money per resident uses
the residents of all those villages. Peers: operators of the same county (the county most of their
payments go to) with the same subsidy mix, else the whole county (at least
``min_operator_peers``), else all operators of the city; operators with fewer than
``min_entity_disbursements`` disbursements are not scored. Features: see
:mod:`detectors.peers._subsidy`.
"""

from __future__ import annotations

import polars as pl

from ..base import Datasets
from . import _subsidy
from ._features import FeatureSpec
from ._model import PeerOutlierModel


class OperatorOutlierModel(PeerOutlierModel):
    """Operators far above their county peers in enrolments, proxies, cadre relatives …"""

    codes = ("OPERATOR_OUTLIER",)
    code = "OPERATOR_OUTLIER"
    domain = "subsidy"
    entity_type = "operator"
    entity_label = ("名", "operators")
    requires = ("persons", "disbursements")
    optional = ("officials", "subsidy_standards")
    peer_levels = ("county_mix", "county", "city")
    group_labels = {
        "county_mix": ("同县同补贴结构经办人", "same county and subsidy mix"),
        "county": ("同县经办人", "same county"),
        "city": ("全市经办人", "whole city"),
    }
    median_labels = {
        "county_mix": ("同县", "county"), "county": ("同县", "county"), "city": ("全市", "city")
    }

    def _peer_min_sizes(self) -> list[int]:
        return [self.min_peer_group_size, self.min_operator_peers, self.min_peer_group_size]

    def _entity_frame(self, datasets: Datasets) -> tuple[pl.DataFrame, list[FeatureSpec]]:
        d = _subsidy.disbursements(datasets)
        residents = (
            d.select("operator_id", "region_code")
            .unique()
            .join(_subsidy.residents_by_region(datasets), on="region_code", how="left")
            .group_by("operator_id")
            .agg(pl.col("residents").fill_null(0).sum())
            .rename({"operator_id": "entity_id"})
        )
        frame, types = _subsidy.entity_features(
            d, "operator_id", residents, self.growth_min_base, self.mix_min_share,
            region_residents=_subsidy.residents_by_region(datasets),
        )
        frame = frame.filter(
            (pl.col("n_disbursements") >= self.min_entity_disbursements)
            & (pl.col("residents") > 0)
            & pl.col("entity_id").is_not_null()
        ).with_columns(
            # one village: its code; several: their county
            pl.when(pl.col("n_regions") == 1)
            .then(pl.col("first_region"))
            .otherwise(pl.col("county"))
            .alias("region_code"),
            (pl.col("county") + "/" + pl.col("mix")).alias("peer_0"),
            pl.col("county").alias("peer_1"),
            pl.lit("all").alias("peer_2"),
        )
        specs = _subsidy.feature_specs(types, _subsidy.type_labels(datasets, types), True)
        return frame, specs

    def _candidate_records(self, datasets: Datasets, flagged: pl.DataFrame) -> pl.DataFrame:
        return _subsidy.candidate_records(_subsidy.disbursements(datasets), "operator_id", flagged)
