"""INSTITUTION_OUTLIER: medical institutions out of line with others of the same kind and level.

Entity: ``institution_id``. Peers: institutions of the same kind and level while that group
has ``min_peer_group_size`` members; else every institution of the same level that treats
patients (a city's three township health centres are compared with its level-1 hospitals too:
with three, two inflated centres would be the median); else, as a last resort, the kind-level
group when it has ``min_institution_peers`` members (three level-3 hospitals). A level-3
hospital is never compared with a lower level, nor a clinic with pharmacies. An institution
without such a group is not scored, nor is one with fewer than ``min_entity_claims`` claims. Features (over the data window):

cost per outpatient/pharmacy visit and per in-patient stay (mean total, apart: case mix),
items per outpatient/pharmacy visit (claim_items lines), drug share (drug money / itemised
money), in-patient rate, average length of stay (in-patient claims, days),
fund share (fund / total money), and — when rule findings are passed under ``FINDINGS_KEY`` at
fit time — the share of claims cited by a medical rule. Evidence records: the institution's
claims behind the top feature (in-patient claims for in-patient cost, rate and stay,
outpatient/pharmacy claims for their cost and items, claims with
drugs for drug share, rule-cited claims for the rule share, else all), money = fund amount
(for the rule share: the money the rules put in doubt on those claims).
"""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec
from ..policy import MEDICAL_FUND_REGULATION_EN, MEDICAL_FUND_REGULATION_ZH
from . import _medical
from ._features import FeatureSpec
from ._model import PeerOutlierModel

SPECS = [
    FeatureSpec("cost_per_visit", "门诊(购药)次均费用", "cost per outpatient/pharmacy visit", "money"),
    FeatureSpec("cost_per_stay", "住院次均费用", "cost per in-patient stay", "money"),
    FeatureSpec("items_per_visit", "门诊(购药)次均明细项目数", "items per outpatient/pharmacy visit",
                "number", "项"),
    FeatureSpec("drug_share", "药占比", "drug share of cost", "share"),
    FeatureSpec("inpatient_rate", "住院率", "in-patient share of visits", "share"),
    FeatureSpec("avg_length_of_stay", "平均住院日", "average length of stay", "days"),
    FeatureSpec("fund_share", "统筹支付占比", "fund share of cost", "share"),
]
RULE_SPEC = FeatureSpec("rule_hit_share", "规则命中结算占比", "share of claims hit by rules", "share")

FILTERS = {
    "cost_per_visit": ~pl.col("inpatient"),
    "items_per_visit": ~pl.col("inpatient"),
    "cost_per_stay": pl.col("inpatient"),
    "inpatient_rate": pl.col("inpatient"),
    "avg_length_of_stay": pl.col("inpatient"),
    "drug_share": pl.col("drug_amount") > 0,
    "rule_hit_share": pl.col("rule_hit"),
}
#: Money of a feature's evidence claims where it is not their fund amount: for the rule share,
#: what the rules put in doubt on each claim (their record amounts), not the whole claim.
AMOUNTS = {"rule_hit_share": pl.col("rule_money")}


def medical_aggregates() -> list[pl.Expr]:
    """Per-entity aggregates of claim facts.

    Per-visit money and items are taken over visits of one type (outpatient and pharmacy visits
    apart from in-patient stays): an in-patient stay costs tens of times a visit, so a few more
    stays would otherwise swamp the comparison (case mix, not excess).
    """
    out = ~pl.col("inpatient")
    return [
        pl.len().alias("n_claims"),
        # money in integer cents (see _features.cents): exact sums, deterministic features
        (pl.col("total_cents").filter(out).mean() / 100).alias("cost_per_visit"),
        (pl.col("total_cents").filter(pl.col("inpatient")).mean() / 100).alias("cost_per_stay"),
        pl.col("n_items").filter(out).mean().alias("items_per_visit"),
        (pl.col("drug_cents").sum() / pl.col("items_cents").sum()).alias("drug_share"),
        pl.col("inpatient").mean().cast(pl.Float64()).alias("inpatient_rate"),
        pl.col("los_days").mean().alias("avg_length_of_stay"),
        (pl.col("fund_cents").sum() / pl.col("total_cents").sum()).alias("fund_share"),
        pl.col("rule_hit").mean().cast(pl.Float64()).alias("rule_hit_share"),
        (pl.col("drug_cents").filter(out).mean() / 100).alias("drug_cost_per_visit"),
        (pl.len() / pl.col("visit_date").n_unique()).cast(pl.Float64()).alias("patients_per_day"),
        pl.col("visit_date").min().dt.strftime("%Y-%m").alias("period_start"),
        pl.col("visit_date").max().dt.strftime("%Y-%m").alias("period_end"),
    ]


class InstitutionOutlierModel(PeerOutlierModel):
    """Institutions far above institutions of the same kind and level in cost, drugs, stays …"""

    rules = (
        RuleSpec(
            code="INSTITUTION_OUTLIER",
            family="institution_outlier",
            weight=0.6,
            entity_type="institution",
            title_zh="医药机构费用异常",
            title_en="Institution out of line with its peers",
            meaning_zh="与同类别、同等级机构相比,次均费用、药占比等明显偏高",
            meaning_en="Cost per visit, drug share etc. far above institutions of the same kind and level",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + ";同类机构费用指标比对是医保智能监控中常用的排查方法,本身不是违规认定",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + "; comparing an institution with similar ones is a screening method of insurance monitoring, not a finding of a breach in itself",
            checklist_zh=(
                "调取该机构偏高指标涉及的结算明细、处方和病历,抽查核实",
                "调取药品、耗材进销存记录,核对与结算数量是否一致",
                "询问机构负责人和医保办人员费用偏高的原因",
            ),
            checklist_en=(
                "Pull the claims, prescriptions and records behind the high figures and check a sample",
                "Pull the drug and material stock records and compare them with what was billed",
                "Ask the head of the institution and its insurance office why its costs are high",
            ),
        ),
    )
    domain = "medical"
    entity_label = ("家", "institutions")
    requires = ("institutions", "claim_items", "claims")
    optional = ("findings",)
    peer_levels = ("kind_level", "care_level", "kind_level_small")
    group_labels = {
        "kind_level": ("同类同级机构", "same kind and level"),
        "care_level": ("同级医疗机构", "same level"),
        "kind_level_small": ("同类同级机构", "same kind and level"),
    }
    median_labels = {"kind_level": ("同类同级", "peer"), "care_level": ("同级", "same-level"),
                     "kind_level_small": ("同类同级", "peer")}

    def _peer_min_sizes(self) -> list[int]:
        # kind and level while that group is big enough for one inflated institution not to
        # move its median; else every institution of the level that treats patients; else
        # the small kind-and-level group as a last resort (three level-3 hospitals)
        return [self.min_peer_group_size, self.min_peer_group_size, self.min_institution_peers]

    def _specs(self, datasets: Datasets) -> list[FeatureSpec]:
        if hasattr(self, "feature_specs_"):  # detect: the features learned at fit
            return self.feature_specs_
        return SPECS + ([RULE_SPEC] if _medical.has_rule_findings(datasets) else [])

    def _entity_frame(self, datasets: Datasets) -> tuple[pl.DataFrame, list[FeatureSpec]]:
        specs = self._specs(datasets)
        names = [s.name for s in specs]
        frame = (
            _medical.claim_facts(datasets)
            .group_by("institution_id")
            .agg(medical_aggregates())
            .filter(pl.col("n_claims") >= self.min_entity_claims)
            .join(_medical.institution_peers(datasets), on="institution_id", how="inner")
            .select(
                pl.col("institution_id").alias("entity_id"),
                pl.col("inst_region").alias("region_code"),
                "period_start", "period_end",
                pl.col("kind_level").alias("peer_0"),
                pl.col("care_level").alias("peer_1"),
                pl.col("kind_level").alias("peer_2"),
                *[pl.col(n).cast(pl.Float64()).fill_null(0.0).fill_nan(0.0) for n in names],
            )
            .collect()
        )
        return frame, specs

    def _candidate_records(self, datasets: Datasets, flagged: pl.DataFrame) -> pl.DataFrame:
        return _medical.candidate_records(
            _medical.claim_facts(datasets), "institution_id", flagged, FILTERS, AMOUNTS
        )
