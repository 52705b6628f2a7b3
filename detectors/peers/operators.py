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

from ..base import Datasets, RuleSpec
from ..policy import ONE_CARD_EN, ONE_CARD_ZH
from . import _subsidy
from ._features import FeatureSpec
from ._model import PeerOutlierModel


class OperatorOutlierModel(PeerOutlierModel):
    """Operators far above their county peers in enrolments, proxies, cadre relatives …"""

    rules = (
        RuleSpec(
            code="OPERATOR_OUTLIER",
            family="operator_outlier",
            weight=0.6,
            entity_type="operator",
            title_zh="经办人发放异常",
            title_en="Operator out of line with peers",
            meaning_zh="与同县经办人相比,新增受益人、代领比例等明显偏高",
            meaning_en="Enrolments, payments into others' accounts etc. far above comparable operators",
            basis_zh=ONE_CARD_ZH + ";经办人员横向比对是专项治理中常用的排查方法,本身不是违规认定",
            basis_en=ONE_CARD_EN.capitalize() + "; comparing an operator with the county's other operators is a screening method, not a finding of a breach in itself",
            checklist_zh=(
                "调取该经办人录入的新增人员和代领账户清单",
                "抽查其中的受益人,核实是否本人申请、本人收款",
                "询问经办人和其上级审核人员",
            ),
            checklist_en=(
                "Pull the operator's enrolments and the payments into other people's accounts",
                "Check a sample of those recipients: did they apply and receive the money themselves",
                "Ask the operator and the person who approved their entries",
            ),
        ),
    )
    domain = "subsidy"
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
