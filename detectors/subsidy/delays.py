"""Payments held back long after their period began (DELAYED_PAYMENT, 滞留/截留)."""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec
from ..policy import ONE_CARD_EN, ONE_CARD_ZH
from ._common import (
    ANNUAL_UNITS,
    DEFAULTS,
    REGULAR,
    attach_standard,
    resolve_type,
    standards_frame,
    SubsidyRule,
    disbursements,
    finish,
    group_records,
    json_details,
    linear_score,
    money,
    period_first_day,
    period_range_en,
    period_range_zh,
    plural,
)

UNKNOWN_OPERATOR = "(unknown)"


class DelayedPaymentRule(SubsidyRule):
    """Regular payments made later after the first day of their period than the subsidy allows.

    The limit is the applicable standard's ``pay_within_days`` (v2) where stated, else
    ``annual_max_delay_days`` for a type paid per year (``person_year``/``mu_year``: its period
    names the year), else ``max_delay_days``. Only ``regular`` payments have a deadline:
    back-pay, top-ups and returns are made after their period by nature.

    Why it matters: subsidy money that sits at the township or village for months before it
    reaches the card (滞留) is often used meanwhile or partly kept (截留); the longer the delay
    the likelier the misuse.

    Entity: the **operator** (``operator_id``, the staff member who entered the payments),
    because the delay is the handling office's doing, not the beneficiary's: a supervisor
    calls in the operator and the batches they released late. One finding per operator lists
    every late payment; ``details`` names the batches. A missing operator is reported as
    ``"(unknown)"``.

    Legitimate look-alikes ignored: a payment a few weeks late (within the limit); annual
    farmland support paid mid-year; a back-pay of months not paid before.

    Findings: records are the late payments, whole amounts at risk (the money held back).
    Score per payment ``delay_score_base + (1 − base) × (delay − limit) /
    (delay_full_score_days − limit)``, clipped to 1; the finding takes the largest.

    Parameters
    ----------
    max_delay_days : days after the period's first day beyond which a payment is late, where
        the standard sets no limit.
    annual_max_delay_days : the same for types paid per year.
    delay_full_score_days, delay_score_base : score shape (see above).
    """

    rules = (
        RuleSpec(
            code="DELAYED_PAYMENT",
            family="delay",
            weight=0.5,
            entity_type="operator",
            title_zh="补贴滞留截留",
            title_en="Payment held back",
            meaning_zh="正常发放的日期晚于所属期开始超过该补贴的发放时限(未规定的按{max_delay_days}天,按年发放的按{annual_max_delay_days}天)",
            meaning_en="A regular payment made more than the subsidy's time limit after the period began "
            "({max_delay_days} days where none is set, {annual_max_delay_days} for subsidies paid per year)",
            basis_zh=ONE_CARD_ZH + ":补贴资金应及时足额发放到户,不得滞留、截留",
            basis_en=ONE_CARD_EN.capitalize() + ": subsidies reach the card on time and in full, never held back",
            checklist_zh=(
                "调取相关批次的资金拨付凭证和银行代发回单,核对资金到达乡镇和到卡的日期",
                "调取乡镇(街道)财政所的资金账户流水,查看滞留期间资金去向",
                "询问经办人推迟发放的原因",
            ),
            checklist_en=(
                "Pull the transfer vouchers and bank receipts of the batches: when the money reached the township and the cards",
                "Pull the township finance office's account statement: where the money was while it was held",
                "Ask the operator why the payments were late",
            ),
        ),
    )
    partition_by = ("disbursements", "operator_id")
    requires = ("disbursements",)
    optional = ("subsidy_standards",)

    def __init__(
        self,
        max_delay_days: int = DEFAULTS.max_delay_days,
        annual_max_delay_days: int = DEFAULTS.annual_max_delay_days,
        delay_full_score_days: int = DEFAULTS.delay_full_score_days,
        delay_score_base: float = DEFAULTS.delay_score_base,
    ):
        self.max_delay_days = max_delay_days
        self.annual_max_delay_days = annual_max_delay_days
        self.delay_full_score_days = delay_full_score_days
        self.delay_score_base = delay_score_base

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        delay = (pl.col("pay_date") - period_first_day(pl.col("period"))).dt.total_days()
        standards = standards_frame(datasets)
        stated = standards["pay_within_days"].drop_nulls().to_list()
        annual = standards.filter(pl.col("unit").is_in(list(ANNUAL_UNITS)))
        # the shortest limit any payment may have: rows within it cannot be late, so only the
        # few beyond it are looked up against their standard
        floor = min([self.max_delay_days, *stated, *([self.annual_max_delay_days] if annual.height else [])])
        candidates = (
            disbursements(
                datasets,
                ["disbursement_id", "batch_id", "subsidy_type", "region_code", "period", "pay_date", "amount",
                 "operator_id", "payment_type"],
            )
            # back-pay, top-ups and returns are late by nature: only regular payments have a deadline
            .filter(pl.col("payment_type") == REGULAR)
            .with_columns(delay.alias("delay_days"))
            .filter(pl.col("delay_days") > floor)
        )
        with_std = attach_standard(resolve_type(candidates, standards), standards)
        limit = pl.coalesce(
            pl.col("std_pay_within_days"),
            pl.when(pl.col("std_unit").is_in(list(ANNUAL_UNITS))).then(pl.lit(self.annual_max_delay_days)),
            pl.lit(self.max_delay_days),
        )
        records = (
            with_std.with_columns(limit.alias("limit_days"))
            .filter(pl.col("delay_days") > pl.col("limit_days"))
            .with_columns(
                pl.col("operator_id").cast(pl.String).fill_null(UNKNOWN_OPERATOR),
                pl.col("amount").cast(pl.Float64).alias("at_risk"),
                linear_score(
                    self.delay_score_base,
                    (pl.col("delay_days") - pl.col("limit_days")).cast(pl.Float64),
                    pl.max_horizontal(pl.lit(self.delay_full_score_days) - pl.col("limit_days"), pl.lit(1)),
                ).alias("_score"),
            )
        )
        grouped = group_records(
            records,
            "operator_id",
            extra=[
                pl.col("_score").max().alias("score"),
                pl.col("delay_days").max().alias("max_delay"),
                pl.col("limit_days").min().alias("limit"),
                pl.col("delay_days").median().round(0).cast(pl.Int64).alias("median_delay"),
                pl.col("batch_id").unique().sort().alias("batches"),
            ],
        )
        n_batches = pl.col("batches").list.len()
        zh = (
            pl.lit("经办 ") + pl.col("n_records").cast(pl.String) + pl.lit(" 笔发放晚于所属期开始 ")
            + pl.col("limit").cast(pl.String) + pl.lit(" 天以上(最长 ") + pl.col("max_delay").cast(pl.String)
            + pl.lit(" 天,中位 ") + pl.col("median_delay").cast(pl.String) + pl.lit(" 天,涉及批次 ")
            + n_batches.cast(pl.String) + pl.lit(" 个);所属期 ") + period_range_zh() + pl.lit(",共 ")
            + money(pl.col("amount_at_risk")) + pl.lit(" 元")
        )
        en = (
            plural(pl.col("n_records"), "payment") + pl.lit(" entered more than ")
            + pl.col("limit").cast(pl.String) + pl.lit(" days after the period began (longest ")
            + pl.col("max_delay").cast(pl.String) + pl.lit(" days, median ") + pl.col("median_delay").cast(pl.String)
            + pl.lit(" days, ") + plural(n_batches, "batch").str.replace("batchs", "batches")
            + pl.lit(") for ") + period_range_en() + pl.lit(", totalling ") + money(pl.col("amount_at_risk"))
            + pl.lit(" CNY")
        )
        details = json_details(batches=pl.col("batches"), max_delay_days=pl.col("max_delay"), limit_days=pl.col("limit"),
                               median_delay_days=pl.col("median_delay"))
        return finish(grouped, "DELAYED_PAYMENT", "operator", "operator_id", pl.col("score"), zh, en, details)
