"""Implausibly frequent outpatient or pharmacy visits (FREQUENT_VISITS)."""

from __future__ import annotations

import polars as pl

from fundwatch.settings import DEFAULT_SETTINGS

from ..base import Datasets, RuleSpec, lazy
from ..policy import MEDICAL_FUND_REGULATION_EN, MEDICAL_FUND_REGULATION_ZH
from ._common import (
    MedicalDetector, claims_to_findings, course_claim_ids, finish, institution_regions, json_details, money,
    ramp_score, ymd,
)

_S = DEFAULT_SETTINGS.medical


class FrequentVisitsRule(MedicalDetector):
    """A person's outpatient/pharmacy visits far beyond plausible need (频繁就诊购药).

    What it finds
        Persons with at least ``frequent_min_visit_days`` distinct visit days (visit types
        ``frequent_visit_types``, any institution) within some ``frequent_window_days``-day
        window. The evidence is every such claim whose visit date lies in a window that meets
        the threshold. Money at risk: only the visits above the threshold — the claims of a day
        that is at least the ``frequent_min_visit_days``-th visit day in the
        ``frequent_window_days`` days ending on it (the earlier visits of the window are
        listed with 0: a person may see a doctor that often). One finding per person.
    Why it matters
        Near-daily card swiping (刷卡) at pharmacies and clinics is how cards are used to buy
        goods, cash out or stock drugs for resale (倒卖药品).
    Look-alike it ignores
        A chronic patient refilling monthly or weekly: a handful of visit days per window;
        several claims on one day count as one visit day; visits billing a treatment-course
        item (dialysis, radiotherapy, rehabilitation: catalogue items with a window limit) when
        ``course_items_excuse`` — a course is frequent by design, FREQUENCY_LIMIT judges it.

    Entity: ``person``. Score: ``floor + (1-floor) * clip((most visit days in a window - min) /
    (window - min))``: every day of the window scores 1.
    """

    rules = (
        RuleSpec(
            code="FREQUENT_VISITS",
            family="frequent_visits",
            weight=0.6,
            entity_type="person",
            title_zh="频繁就诊购药",
            title_en="Implausibly frequent visits",
            meaning_zh="任意{frequent_window_days}天内门诊或药店就诊{frequent_min_visit_days}天及以上,远超合理需要",
            meaning_en="Outpatient or pharmacy visits on {frequent_min_visit_days} or more days within {frequent_window_days} days, far beyond any plausible need",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止利用医保待遇转卖药品、冒名就医的规定;医保基金监管规则库:频繁就诊类规则",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid reselling drugs bought on insurance and using another person's card; the medical-insurance audit rule library: frequent-visit rules",
            checklist_zh=(
                "调取该参保人的购药和就诊明细、处方",
                "核对所购药品用量是否远超病情需要",
                "询问本人和相关药店、诊所人员,核实是否冒用医保卡或倒卖药品",
            ),
            checklist_en=(
                "Pull the person's visits, purchases and prescriptions",
                "Check whether the drugs bought far exceed what the illness needs",
                "Ask the person and the pharmacy or clinic staff whether the card was lent or the drugs resold",
            ),
        ),
    )
    partition_by = ("claims", "person_id")
    kind = "rule"
    requires = ("claims",)
    optional = ("institutions", "item_catalog", "claim_items")

    def __init__(self, frequent_visit_types: tuple[str, ...] = _S.frequent_visit_types,
                 frequent_window_days: int = _S.frequent_window_days,
                 frequent_min_visit_days: int = _S.frequent_min_visit_days,
                 course_items_excuse: bool = _S.course_items_excuse,
                 score_floor: float = _S.score_floor):
        self.course_items_excuse = course_items_excuse
        self.frequent_visit_types = frequent_visit_types
        self.frequent_window_days = frequent_window_days
        self.frequent_min_visit_days = frequent_min_visit_days
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        w = int(s.frequent_window_days)
        claims = (
            lazy(datasets, "claims")
            .filter(pl.col("visit_type").is_in(list(s.frequent_visit_types)))
            .select("claim_id", "person_id", "institution_id", "visit_date",
                    pl.col("fund_amount").fill_null(0.0).clip(lower_bound=0.0).alias("at_risk"))
            .filter(pl.col("visit_date").is_not_null() & pl.col("person_id").is_not_null())
        )
        if s.course_items_excuse:
            claims = claims.join(course_claim_ids(datasets), on="claim_id", how="anti")
        m = int(s.frequent_min_visit_days)
        days = claims.select("person_id", "visit_date").unique()
        # who can fire at all: m distinct days within w days means the day m-1 visits earlier is
        # less than w days back; a sort and a shift, no per-person window over the whole city
        hot = (
            days.sort("person_id", "visit_date")
            .filter(
                (pl.col("person_id").shift(m - 1) == pl.col("person_id"))
                & ((pl.col("visit_date") - pl.col("visit_date").shift(m - 1)).dt.total_days() < w)
            )
            .select("person_id").unique()
        )
        # exact window counts for those few people only: window ending on each visit day (d - w, d]
        ends = (
            days.join(hot, on="person_id", how="semi")
            .sort("person_id", "visit_date")
            .rolling(index_column="visit_date", period=f"{w}d", group_by="person_id")
            .agg(pl.len().alias("n_days"))
            .filter(pl.col("n_days") >= m)
        ).collect().lazy()
        best = ends.group_by("person_id").agg(
            pl.col("n_days").max().alias("max_days"),
            pl.col("visit_date").sort_by("n_days", "visit_date", descending=[True, False]).first()
            .alias("best_end"),
        )
        # a claim is evidence when a flagged window [e - w + 1, e] contains its day:
        # the first flagged end on or after the day must be < day + w
        flagged = ends.select("person_id", pl.col("visit_date").alias("end")).sort("end")
        cand = claims.join(best.select("person_id"), on="person_id", how="semi").sort("visit_date")
        per_claim = (
            cand.join_asof(flagged, left_on="visit_date", right_on="end", by="person_id",
                           strategy="forward", check_sortedness=False)
            .filter(pl.col("end").is_not_null()
                    & ((pl.col("end") - pl.col("visit_date")).dt.total_days() < w))
            .join(institution_regions(datasets), on="institution_id", how="left")
            # above the threshold: the day is itself the m-th or later visit day of its window
            .join(ends.select("person_id", "visit_date", _above=pl.lit(True)),
                  on=["person_id", "visit_date"], how="left")
            .with_columns(at_risk=pl.when(pl.col("_above").fill_null(False)).then(pl.col("at_risk")).otherwise(0.0))
        )
        grouped = claims_to_findings(
            per_claim, "person", "person_id",
            [pl.col("visit_date").n_unique().alias("visit_days"),
             pl.col("institution_id").n_unique().alias("n_inst"),
             pl.col("visit_date").min().alias("first_visit"),
             pl.col("visit_date").max().alias("last_visit")],
        ).join(best, on="person_id", how="inner")
        ev_zh = pl.format(
            "{} 至 {} 门诊或药店就诊 {} 天,在 {} 家机构结算 {} 次;截至 {} 的 {} 天内就诊 {} 天(阈值 {} 天);超出阈值的就诊统筹支付 {} 元",
            ymd(pl.col("first_visit")), ymd(pl.col("last_visit")), pl.col("visit_days"),
            pl.col("n_inst"), pl.col("n_claims"), ymd(pl.col("best_end")), pl.lit(w),
            pl.col("max_days"), pl.lit(s.frequent_min_visit_days), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "Outpatient or pharmacy visits on {} days from {} to {}, {} claims at {} institutions; "
            "{} visit days in the {} days up to {} (threshold {}); fund paid on the visits above the threshold {} CNY",
            pl.col("visit_days"), ymd(pl.col("first_visit")), ymd(pl.col("last_visit")),
            pl.col("n_claims"), pl.col("n_inst"), pl.col("max_days"), pl.lit(w), ymd(pl.col("best_end")),
            pl.lit(s.frequent_min_visit_days), money(pl.col("total_at_risk")),
        )
        details = json_details(max_visit_days_in_window=pl.col("max_days"), window_days=pl.lit(w),
                               window_end=ymd(pl.col("best_end")), visit_days=pl.col("visit_days"),
                               institutions=pl.col("n_inst"))
        score = ramp_score(pl.col("max_days"), s.frequent_min_visit_days,
                           max(w, s.frequent_min_visit_days + 1), s)
        return finish(grouped, "FREQUENT_VISITS", score, ev_zh, ev_en, details)
