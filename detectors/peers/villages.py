"""VILLAGE_OUTLIER: villages whose subsidy payments are out of line with comparable villages.

Entity: a village / community (12-digit ``region_code`` of the disbursements). Peers: villages
of the same county (first 6 digits) with the same subsidy mix (the types making up at least
``mix_min_share`` of their disbursements); where that group is smaller than
``min_peer_group_size`` the village is compared with its whole county, and where the county
has fewer villages than that (a district of three or four communities) with all the villages
of the city (the first 4 digits of the code): a median of three villages moves with one inflated
roll, and two inflated rolls in one county become the median. Villages with fewer than ``min_residents`` registered
residents are not scored. Features: see :mod:`detectors.peers._subsidy`.
"""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec
from ..policy import ONE_CARD_EN, ONE_CARD_ZH
from . import _subsidy
from ._features import FeatureSpec
from ._model import PeerOutlierModel


class VillageOutlierModel(PeerOutlierModel):
    """Villages far above their county peers in recipients per resident, money, proxies …"""

    rules = (
        RuleSpec(
            code="VILLAGE_OUTLIER",
            family="village_outlier",
            weight=0.6,
            entity_type="village",
            title_zh="村(社区)发放异常",
            title_en="Village out of line with its peers",
            meaning_zh="与同县、补贴结构相近的村(社区)相比,受益人比例、人均金额等明显偏高",
            meaning_en="Recipients per resident, money per resident etc. far above comparable villages of the county",
            basis_zh=ONE_CARD_ZH + ";同类村(社区)横向比对是专项治理中常用的排查方法,本身不是违规认定",
            basis_en=ONE_CARD_EN.capitalize() + "; comparing a village with similar villages is a screening method of the rectification campaigns, not a finding of a breach in itself",
            checklist_zh=(
                "调取该村(社区)受益人名单、新增人员审批材料和公示记录",
                "抽查新增和偏高项目的受益人,入户核实是否符合条件",
                "询问村(社区)干部和乡镇经办人受益人数偏多的原因",
            ),
            checklist_en=(
                "Pull the village's list of recipients, the approval files of new recipients and the public notices",
                "Visit a sample of the new and unusual recipients: are they eligible",
                "Ask the village committee and the township operator why there are so many recipients",
            ),
        ),
    )
    domain = "subsidy"
    entity_label = ("个", "villages")
    requires = ("persons", "disbursements")
    optional = ("officials", "subsidy_standards")
    peer_levels = ("county_mix", "county", "city")
    group_labels = {
        "county_mix": ("同县同补贴结构村(社区)", "same county and subsidy mix"),
        "county": ("同县村(社区)", "same county"),
        "city": ("全市村(社区)", "whole city"),
    }
    median_labels = {"county_mix": ("同县", "county"), "county": ("同县", "county"), "city": ("全市", "city")}

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
            pl.col("entity_id").str.slice(0, 4).alias("peer_2"),
        )
        return frame, _subsidy.feature_specs(types, _subsidy.type_labels(datasets, types))

    def _entity_scale_floors(self) -> dict[str, pl.Expr]:
        # A rate per 100 residents counts people: in a village of a few hundred its chance
        # spread is that of a Poisson count, sqrt(100 x rate / residents) at the peers' median
        # rate, which a dozen peers' spread can understate (a village of 300 with 18 instead of
        # 12 recipients is not out of line)
        return {
            f: (100.0 * pl.col(f"{f}__median") / pl.col("residents").cast(pl.Float64())).sqrt()
            for f in self.feature_names_
            if f.startswith(_subsidy.RATE_PREFIX)
        }

    def _candidate_records(self, datasets: Datasets, flagged: pl.DataFrame) -> pl.DataFrame:
        return _subsidy.candidate_records(_subsidy.disbursements(datasets), "region_code", flagged)
