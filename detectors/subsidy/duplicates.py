"""The same subsidy paid twice for the same month (DUPLICATE_PAYMENT)."""

from __future__ import annotations

import polars as pl

from ..base import Datasets
from ._common import (
    DEFAULTS,
    SubsidyRule,
    disbursements,
    finish,
    group_records,
    json_details,
    money,
    period_range_en,
    period_range_zh,
    plural,
    resolve_type,
    standards_frame,
    type_label_zh,
)

_KEYS = ["person_id", "type_code", "period"]


class DuplicatePaymentRule(SubsidyRule):
    """The same person paid the same subsidy type for the same period more than once.

    Why it matters: a payment entered again in a later batch (or under another serial number)
    pays the subsidy twice; repeated batches are a classic way to siphon money through
    real beneficiaries' cards.

    Types are compared after resolving subsidy names to codes with ``subsidy_standards`` when
    that dataset is present, so ``min_living`` and ``最低生活保障`` for the same month count as
    the same subsidy.

    Legitimate look-alike ignored: two *different* subsidy types for one month (e.g. a
    minimum-living allowance and an elderly allowance) are separate entitlements.

    Findings: one per person; the records are the *extra* payments — within each
    (type, period) the earliest payment (by ``pay_date`` then ``disbursement_id``) is taken as
    the due one and is listed only in ``details.first_payment_ids`` — each with its whole
    amount at risk. Score 1.0.

    Parameters
    ----------
    severity_high_amount, severity_medium_amount, severity_floor :
        Severity bands, see :class:`fundwatch.settings.subsidy.SubsidySettings`.
    """

    codes = ("DUPLICATE_PAYMENT",)
    requires = ("disbursements",)
    optional = ("subsidy_standards",)

    def __init__(
        self,
        severity_high_amount: float = DEFAULTS.severity_high_amount,
        severity_medium_amount: float = DEFAULTS.severity_medium_amount,
        severity_floor: dict[str, str] = DEFAULTS.severity_floor,
    ):
        self.severity_high_amount = severity_high_amount
        self.severity_medium_amount = severity_medium_amount
        self.severity_floor = severity_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        standards = standards_frame(datasets)
        base = resolve_type(
            disbursements(
                datasets,
                ["disbursement_id", "person_id", "subsidy_type", "region_code", "period", "pay_date", "amount"],
            ),
            standards,
        ).drop("subsidy_type")
        # count first (cheap group-by), then rank only the few duplicated keys
        dup_keys = base.group_by(_KEYS).agg(pl.len().alias("_n")).filter(pl.col("_n") > 1).drop("_n")
        ranked = (
            base.join(dup_keys, on=_KEYS, how="semi")
            .sort([*_KEYS, "pay_date", "disbursement_id"], nulls_last=True)
            .with_columns(pl.int_range(pl.len()).over(_KEYS).alias("_rank"))
        )
        firsts = ranked.filter(pl.col("_rank") == 0).select(
            "person_id", pl.col("disbursement_id").alias("_first_id")
        )
        first_ids = firsts.group_by("person_id").agg(pl.col("_first_id").sort().alias("first_payment_ids"))
        records = (
            ranked.filter(pl.col("_rank") > 0)
            .with_columns(
                pl.col("amount").cast(pl.Float64).alias("at_risk"),
                type_label_zh(standards).alias("type_zh"),
            )
        )
        grouped = group_records(
            records,
            "person_id",
            extra=[
                pl.col("type_zh").unique().sort().str.join("、").alias("types_zh"),
                pl.col("type_code").unique().sort().str.join(", ").alias("types_en"),
                pl.struct(_KEYS).n_unique().alias("n_keys"),
            ],
        ).join(first_ids, on="person_id", how="left")
        zh = (
            pl.col("types_zh") + pl.lit(" 在所属期 ") + period_range_zh() + pl.lit(" 内有 ")
            + pl.col("n_keys").cast(pl.String) + pl.lit(" 个月份重复发放;多发 ")
            + pl.col("n_records").cast(pl.String) + pl.lit(" 笔,共 ") + money(pl.col("amount_at_risk"))
            + pl.lit(" 元")
        )
        en = (
            pl.col("types_en") + pl.lit(" paid more than once for ") + plural(pl.col("n_keys"), "month")
            + pl.lit(" in ") + period_range_en() + pl.lit("; ") + plural(pl.col("n_records"), "extra payment")
            + pl.lit(" totalling ") + money(pl.col("amount_at_risk")) + pl.lit(" CNY")
        )
        details = json_details(first_payment_ids=pl.col("first_payment_ids"), subsidy_types=pl.col("types_en"))
        return finish(grouped, "DUPLICATE_PAYMENT", "person", "person_id", pl.lit(1.0), zh, en, details, self)
