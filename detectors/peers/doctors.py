"""DOCTOR_OUTLIER: doctors out of line with their colleagues.

Entity: ``doctor_id`` (claims without a doctor, e.g. at pharmacies, are ignored). Peers: the
doctors of the same institution when it has at least ``min_doctors_per_institution`` scored
doctors, else all doctors of institutions of the same kind and level (at least
``min_peer_group_size``); doctors with fewer than ``min_entity_claims`` claims are not scored.
A doctor working in several institutions is placed in the one with most of their claims.
Features: drug cost and items per outpatient visit (in-patient stays are few per doctor and
cost tens of times a visit: a doctor with two more stays is not an outlier), patients per
working day (claims per distinct visit date; compared with colleagues of the same institution
only, since it follows the institution's patient stream). Evidence records: the doctor's outpatient claims
(with drugs, for drug cost) or all claims (patients per day); money = fund amount.
"""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec
from ..policy import MEDICAL_FUND_REGULATION_EN, MEDICAL_FUND_REGULATION_ZH
from . import _medical
from ._features import FeatureSpec
from ._model import PeerOutlierModel
from .institutions import medical_aggregates

SPECS = [
    FeatureSpec("drug_cost_per_visit", "门诊次均药品费用", "drug cost per outpatient visit", "money"),
    FeatureSpec("items_per_visit", "门诊次均明细项目数", "items per outpatient visit", "number", "项"),
    FeatureSpec("patients_per_day", "日均接诊人次", "patients per working day", "number", "人次"),
]
FILTERS = {
    "drug_cost_per_visit": ~pl.col("inpatient") & (pl.col("drug_amount") > 0),
    "items_per_visit": ~pl.col("inpatient"),
}


class DoctorOutlierModel(PeerOutlierModel):
    """Doctors far above colleagues in drug cost per visit, items per visit, patients per day."""

    rules = (
        RuleSpec(
            code="DOCTOR_OUTLIER",
            family="doctor_outlier",
            weight=0.6,
            entity_type="doctor",
            title_zh="医师诊疗异常",
            title_en="Doctor out of line with peers",
            meaning_zh="与同机构医师相比,次均药费、日接诊量等明显偏高",
            meaning_en="Drug cost per visit, patients per day etc. far above colleagues",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止过度诊疗、超量开药的规定;同机构医师比对是常用的排查方法,本身不是违规认定",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid excessive treatment and prescribing; comparing a doctor with colleagues is a screening method, not a finding of a breach in itself",
            checklist_zh=(
                "调取该医师的处方和病历,抽查用药是否合理",
                "核对接诊时间和接诊量是否可能",
                "询问该医师和科室负责人",
            ),
            checklist_en=(
                "Pull the doctor's prescriptions and records and check a sample for sound prescribing",
                "Check whether the number and times of consultations are possible",
                "Ask the doctor and the head of department",
            ),
            folds_into=("INSTITUTION_OUTLIER", "institution_id"),
        ),
    )
    domain = "medical"
    entity_label = ("名", "doctors")
    requires = ("institutions", "claim_items", "claims")
    peer_levels = ("institution", "kind_level")
    group_labels = {
        "institution": ("同机构医师", "same institution"),
        "kind_level": ("同类同级机构医师", "same kind and level of institution"),
    }
    median_labels = {"institution": ("同机构", "colleague"), "kind_level": ("同类同级", "peer")}
    # Colleagues share one patient stream, so patients per day is compared among them only:
    # the lone doctor of a busy village clinic sees more patients than doctors of a quiet one.
    level_features = {"kind_level": ("drug_cost_per_visit", "items_per_visit")}
    parent = ("institution_id", "institution")

    def _peer_min_sizes(self) -> list[int]:
        return [self.min_doctors_per_institution, self.min_peer_group_size]

    def _entity_frame(self, datasets: Datasets) -> tuple[pl.DataFrame, list[FeatureSpec]]:
        names = [s.name for s in SPECS]
        facts = _medical.claim_facts(datasets).filter(
            pl.col("doctor_id").is_not_null() & (pl.col("doctor_id") != "")
        )
        home = (
            facts.group_by("doctor_id", "institution_id")
            .agg(pl.len().alias("n"))
            .sort(["doctor_id", "n", "institution_id"], descending=[False, True, False])
            .group_by("doctor_id", maintain_order=True)
            .first()
            .select("doctor_id", "institution_id")
        )
        frame = (
            facts.group_by("doctor_id")
            .agg(medical_aggregates())
            .filter(pl.col("n_claims") >= self.min_entity_claims)
            .join(home, on="doctor_id")
            .join(_medical.institution_peers(datasets), on="institution_id", how="inner")
            .select(
                pl.col("doctor_id").alias("entity_id"),
                pl.col("inst_region").alias("region_code"),
                "period_start", "period_end",
                pl.col("institution_id").alias("peer_0"),
                pl.col("kind_level").alias("peer_1"),
                *[pl.col(n).cast(pl.Float64()).fill_null(0.0).fill_nan(0.0) for n in names],
            )
            .collect()
        )
        return frame, SPECS

    def _candidate_records(self, datasets: Datasets, flagged: pl.DataFrame) -> pl.DataFrame:
        return _medical.candidate_records(
            _medical.claim_facts(datasets), "doctor_id", flagged, FILTERS
        )
