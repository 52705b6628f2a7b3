"""Allocated money that never reached beneficiaries (UNPAID_ALLOCATION, 截留/滞留)."""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec, lazy
from ..policy import ONE_CARD_EN, ONE_CARD_ZH
from ._common import (
    DEFAULTS,
    RETURNED,
    SubsidyRule,
    disbursements,
    finish,
    json_details,
    linear_score,
    money,
    resolve_type,
    standards_frame,
    type_label_zh,
)


class UnpaidAllocationRule(SubsidyRule):
    """Money allocated to a batch and region that its payments there do not account for.

    Why it matters: funds allocated (拨付) to a township or county for a payment batch should
    reach beneficiaries' cards; a remainder that stays at the township (滞留) or is kept back
    (截留) is exactly what the rectification campaign traces, and it is invisible in the
    payment list alone.

    For each ``allocations`` row (v2: batch, type, 6- or 9-digit region, amount, date), the
    batch's payments of that type in that region (``region_code`` starting with it) are
    summed net of ``returned`` rows, however late (money that reached the cards late is
    DELAYED_PAYMENT's matter). The remainder above ``allocation_tolerance`` is flagged when the
    data reach at least ``allocation_settle_days`` past the allocation date (the latest
    ``pay_date`` in the disbursements is taken as the day the data end): a younger allocation
    may still be paid.

    Entity: the batch in its region, ``batch_id@region_code`` (``batch``). Records: the
    batch's payments there (evidence, 0.0 at risk) and one record named like the entity
    holding the unpaid remainder, so that the money at risk is the remainder.

    Legitimate look-alike ignored: a batch paid in two instalments within the window (both
    count); an allocation younger than the window.

    Score ``allocation_score_base`` rising linearly to 1.0 when nothing was paid.

    Parameters
    ----------
    allocation_settle_days : days an allocation may wait for its payments.
    allocation_tolerance : CNY that may stay unaccounted for (rounding).
    allocation_score_base : score of a small remainder.
    """

    rules = (
        RuleSpec(
            code="UNPAID_ALLOCATION",
            family="allocation",
            weight=0.8,
            entity_type="batch",
            title_zh="拨付资金未发放到户",
            title_en="Allocated money not paid out",
            meaning_zh="资金拨付{allocation_settle_days}天后,该批次在该地区的发放(扣除退回)仍少于拨付金额",
            meaning_en="{allocation_settle_days} days after an allocation, the batch's payments in the region (net of returns) still fall short of it",
            basis_zh=ONE_CARD_ZH + ":补贴资金应及时足额发放到户,不得滞留、截留、挪用",
            basis_en=ONE_CARD_EN.capitalize() + ": allocated money reaches the cards on time and in full, never held back or diverted",
            checklist_zh=(
                "调取该批次的资金拨付凭证和乡镇(街道)财政所资金账户流水,查明未发放部分的去向",
                "核对该批次的发放清单与拨付金额的差额,是否有应发未发人员",
                "询问乡镇(街道)经办人资金未发放的原因",
            ),
            checklist_en=(
                "Pull the batch's transfer voucher and the township finance office's statement: where the remainder is",
                "Compare the batch's payment list with the allocation: who should have been paid and was not",
                "Ask the township operator why the money was not paid out",
            ),
        ),
    )
    requires = ("disbursements",)
    # allocations is a v2 dataset: an input without it skips this rule (named in run.json)
    # instead of failing the scan
    requires_columns = {"allocations": ("allocated_amount",)}
    optional = ("subsidy_standards",)

    def __init__(
        self,
        allocation_settle_days: int = DEFAULTS.allocation_settle_days,
        allocation_tolerance: float = DEFAULTS.allocation_tolerance,
        allocation_score_base: float = DEFAULTS.allocation_score_base,
    ):
        self.allocation_settle_days = allocation_settle_days
        self.allocation_tolerance = allocation_tolerance
        self.allocation_score_base = allocation_score_base

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        standards = standards_frame(datasets)
        alloc = resolve_type(
            lazy(datasets, "allocations").select(
                pl.col("batch_id").cast(pl.String), "subsidy_type",
                pl.col("region_code").cast(pl.String).str.strip_chars().alias("alloc_region"),
                pl.col("allocated_amount").cast(pl.Float64), "allocated_date",
            ),
            standards,
        ).drop("subsidy_type")
        # several allocations to one batch, type and region (a second tranche) add up
        alloc = alloc.group_by("batch_id", "type_code", "alloc_region").agg(
            pl.col("allocated_amount").sum(), pl.col("allocated_date").max()
        ).with_columns(pl.col("alloc_region").str.len_chars().alias("_len"))
        pay = resolve_type(
            disbursements(datasets, ["disbursement_id", "batch_id", "subsidy_type", "region_code", "period",
                                     "pay_date", "amount", "payment_type"]),
            standards,
        ).drop("subsidy_type")
        as_of = pay.select(pl.col("pay_date").max().alias("_as_of"))
        lengths = alloc.select(pl.col("_len").unique()).collect()["_len"].to_list()
        # only the batches some allocation names (a semi-join keeps the pass small)
        pay = pay.join(alloc.select("batch_id").unique(), on="batch_id", how="semi").with_columns(
            pl.when(pl.col("payment_type") == RETURNED).then(-pl.col("amount")).otherwise(pl.col("amount"))
            .alias("_signed")
        )
        matched = pl.concat(
            [
                pay.with_columns(pl.col("region_code").str.slice(0, n).alias("alloc_region")).join(
                    alloc.filter(pl.col("_len") == n).select("batch_id", "type_code", "alloc_region"),
                    on=["batch_id", "type_code", "alloc_region"], how="inner",
                )
                for n in sorted(lengths)
            ],
            how="vertical",
        ) if lengths else pay.with_columns(pl.lit(None, pl.String).alias("alloc_region")).head(0)
        paid = matched.group_by("batch_id", "type_code", "alloc_region").agg(
            pl.col("_signed").sum().alias("paid"),
            pl.col("disbursement_id").sort_by("period", "disbursement_id").alias("_ids"),
            pl.col("period").min().alias("period_start"),
            pl.col("period").max().alias("period_end"),
            pl.len().alias("n_payments"),
        )
        unpaid = (
            alloc.join(paid, on=["batch_id", "type_code", "alloc_region"], how="left")
            .join(as_of, how="cross")
            .with_columns(
                pl.col("paid").fill_null(0.0),
                pl.col("n_payments").fill_null(0),
                pl.col("_ids").fill_null(pl.lit([], dtype=pl.List(pl.String))),
                (pl.col("_as_of") - pl.col("allocated_date")).dt.total_days().alias("_age"),
            )
            .with_columns((pl.col("allocated_amount") - pl.col("paid")).round(2).alias("amount_at_risk"))
            .filter((pl.col("_age") >= self.allocation_settle_days)
                    & (pl.col("amount_at_risk") > self.allocation_tolerance))
            .with_columns(
                (pl.col("batch_id") + pl.lit("@") + pl.col("alloc_region")).alias("entity"),
                type_label_zh(standards).alias("type_zh"),
                pl.col("allocated_date").dt.strftime("%Y-%m").alias("_alloc_month"),
            )
            .with_columns(
                pl.concat_list(pl.col("_ids"), pl.col("entity")).alias("record_ids"),
                pl.concat_list(
                    pl.lit(0.0).repeat_by(pl.col("n_payments")), pl.col("amount_at_risk")
                ).alias("record_amounts"),
                pl.coalesce("period_start", "_alloc_month").alias("period_start"),
                pl.coalesce("period_end", "_alloc_month").alias("period_end"),
                pl.col("alloc_region").alias("region_code"),
            )
        )
        score = linear_score(
            self.allocation_score_base,
            pl.col("amount_at_risk") / pl.col("allocated_amount"),
            1.0,
        )
        date = pl.col("allocated_date").dt.strftime("%Y-%m-%d")
        as_of_text = pl.col("_as_of").dt.strftime("%Y-%m-%d")
        zh = (
            pl.col("type_zh") + pl.lit(" 批次 ") + pl.col("batch_id") + pl.lit(" 于 ") + date + pl.lit(" 向 ")
            + pl.col("alloc_region") + pl.lit(" 拨付 ") + money(pl.col("allocated_amount")) + pl.lit(" 元;至数据截止日 ")
            + as_of_text + pl.lit("(拨付后 ") + pl.col("_age").cast(pl.String) + pl.lit(" 天)该地区仅发放 ")
            + pl.col("n_payments").cast(pl.String)
            + pl.lit(" 笔共 ") + money(pl.col("paid")) + pl.lit(" 元,未发放到户 ") + money(pl.col("amount_at_risk"))
            + pl.lit(" 元")
        )
        en = (
            pl.col("type_code") + pl.lit(" batch ") + pl.col("batch_id") + pl.lit(": ")
            + money(pl.col("allocated_amount")) + pl.lit(" CNY allocated to ") + pl.col("alloc_region")
            + pl.lit(" on ") + date + pl.lit("; by the end of the data (") + as_of_text + pl.lit(", ")
            + pl.col("_age").cast(pl.String) + pl.lit(" days later) its ")
            + pl.col("n_payments").cast(pl.String) + pl.lit(" payments there total ") + money(pl.col("paid"))
            + pl.lit(" CNY, ") + money(pl.col("amount_at_risk")) + pl.lit(" CNY not paid out")
        )
        details = json_details(
            allocated=pl.col("allocated_amount").round(2), paid=pl.col("paid").round(2),
            allocated_date=date, data_end=as_of_text, days_since=pl.col("_age"), n_payments=pl.col("n_payments"),
        )
        return finish(unpaid, "UNPAID_ALLOCATION", "batch", "entity", score, zh, en, details)
