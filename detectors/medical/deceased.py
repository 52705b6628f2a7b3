"""Claims settled for visits after the insured person's death (CLAIM_AFTER_DEATH)."""

from __future__ import annotations

import polars as pl

from fundwatch.settings import DEFAULT_SETTINGS

from ..base import Datasets, RuleSpec, lazy
from ..policy import MEDICAL_FUND_REGULATION_EN, MEDICAL_FUND_REGULATION_ZH
from ._common import (
    MedicalDetector, claims_to_findings, finish, institution_regions, json_details, money, ramp_score, ymd,
)

_S = DEFAULT_SETTINGS.medical


class ClaimAfterDeathRule(MedicalDetector):
    """Claims whose visit date is after the person's death (死亡后仍发生医保结算).

    What it finds
        Every claim whose ``visit_date`` is more than ``death_grace_days`` after the
        person's death date. A person reported by several sources (殡葬, 公安, 卫健 …) is taken
        to have died on the **earliest** reported date. One finding per person; the
        record amounts are each claim's ``fund_amount``.
    Why it matters
        A dead person cannot visit a doctor or buy drugs: the card is being used by someone
        else (冒名就医/盗刷), or the claims are fabricated.
    Look-alike it ignores
        A stay that began on or before the death date and was settled (or discharged) after
        it: only the visit (admission) date is compared, never ``settle_date``.

    Score: ``floor + (1-floor) * clip(max days after death / death_full_score_days, 0, 1)``.
    Entity: ``person``.
    """

    rules = (
        RuleSpec(
            code="CLAIM_AFTER_DEATH",
            family="deceased",
            weight=1.0,
            entity_type="person",
            title_zh="死亡后仍发生医保结算",
            title_en="Claims after death",
            meaning_zh="就诊日期晚于参保人死亡日期",
            meaning_en="Visit date after the person's death",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止冒名就医、虚假就医的规定",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid using another person's card and claims for care never given",
            checklist_zh=(
                "调取火化记录或死亡证明,核对死亡日期",
                "调取相关结算单、处方、病历和刷卡记录,查明实际就诊人",
                "询问定点医药机构经办人员和家属:医保卡由谁使用",
            ),
            checklist_en=(
                "Pull the cremation record or death certificate and check the date of death",
                "Pull the claims, prescriptions, medical records and card-swipe records: who was actually treated",
                "Ask the institution's staff and the family who used the card",
            ),
        ),
    )
    partition_by = ("claims", "person_id")
    kind = "rule"
    requires = ("deaths", "claims")
    optional = ("institutions",)

    def __init__(self, death_grace_days: int = _S.death_grace_days,
                 death_full_score_days: int = _S.death_full_score_days,
                 score_floor: float = _S.score_floor):
        self.death_grace_days = death_grace_days
        self.death_full_score_days = death_full_score_days
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        deaths = (
            lazy(datasets, "deaths")
            .filter(pl.col("death_date").is_not_null())
            .group_by("person_id")
            .agg(pl.col("death_date").min(), pl.col("source").drop_nulls().unique().sort().alias("sources"))
        )
        per_claim = (
            lazy(datasets, "claims")
            .select("claim_id", "person_id", "institution_id", "visit_date", "fund_amount")
            .join(deaths, on="person_id", how="inner")
            .with_columns(days_after=(pl.col("visit_date") - pl.col("death_date")).dt.total_days())
            .filter(pl.col("days_after") > s.death_grace_days)
            .join(institution_regions(datasets), on="institution_id", how="left")
            .with_columns(at_risk=pl.col("fund_amount").fill_null(0.0).clip(lower_bound=0.0))
        )
        grouped = claims_to_findings(
            per_claim, "person", "person_id",
            [
                pl.col("death_date").first(),
                pl.col("sources").first(),
                pl.col("visit_date").min().alias("first_visit"),
                pl.col("visit_date").max().alias("last_visit"),
                pl.col("institution_id").n_unique().alias("n_inst"),
                pl.col("institution_id").unique().sort().alias("institutions"),
                pl.col("days_after").max().alias("max_days_after"),
            ],
        )
        ev_zh = pl.format(
            "死亡日期 {};此后 {} 至 {} 在 {} 家机构结算 {} 次,统筹支付 {} 元",
            ymd(pl.col("death_date")), ymd(pl.col("first_visit")), ymd(pl.col("last_visit")),
            pl.col("n_inst"), pl.col("n_claims"), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "Died {}; {} claims at {} institutions from {} to {}, fund paid {} CNY",
            ymd(pl.col("death_date")), pl.col("n_claims"), pl.col("n_inst"),
            ymd(pl.col("first_visit")), ymd(pl.col("last_visit")), money(pl.col("total_at_risk")),
        )
        details = json_details(
            death_date=ymd(pl.col("death_date")), death_sources=pl.col("sources"),
            institutions=pl.col("institutions"), max_days_after_death=pl.col("max_days_after"),
        )
        score = ramp_score(pl.col("max_days_after"), 0, s.death_full_score_days, s)
        return finish(grouped, "CLAIM_AFTER_DEATH", score, ev_zh, ev_en, details)
