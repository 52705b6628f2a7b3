"""The same subsidy paid twice for the same month (DUPLICATE_PAYMENT)."""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec
from ..policy import ONE_CARD_EN, ONE_CARD_ZH
from ._common import (
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

    Findings: one per person; the records are every payment of each duplicated
    (type, period). Within each, the earliest payment (by ``pay_date`` then
    ``disbursement_id``) is taken as the due one: it is evidence with 0.0 at risk (also named
    in ``details.first_payment_ids``); every later one has its whole amount at risk, so the
    finding's amount is exactly the money paid twice. Score 1.0.

    No parameters: the rule has no threshold to set.
    """

    rules = (
        RuleSpec(
            code="DUPLICATE_PAYMENT",
            family="duplicate",
            weight=0.9,
            entity_type="person",
            title_zh="同一补贴重复发放",
            title_en="Same subsidy paid twice",
            meaning_zh="同一人、同一补贴项目、同一所属期发放多次",
            meaning_en="Same person, subsidy type and period paid more than once",
            basis_zh=ONE_CARD_ZH + ":同一补贴项目同一所属期只能发放一次",
            basis_en=ONE_CARD_EN.capitalize() + ": one subsidy is paid once per period",
            checklist_zh=(
                "调取相关发放批次的审批表和发放清单,核对是否重复报送",
                "调取银行代发记录,核实两笔款项是否都已到账",
                "询问乡镇(街道)经办人重复发放的原因,多发资金是否已追回",
            ),
            checklist_en=(
                "Pull the approval forms and payment lists of the batches involved: was the person submitted twice",
                "Pull the bank's payment records: did both payments reach the card",
                "Ask the township operator why it was paid twice and whether the overpayment has been recovered",
            ),
        ),
    )
    partition_by = ("disbursements", "person_id")
    requires = ("disbursements",)
    optional = ("subsidy_standards",)

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        standards = standards_frame(datasets)
        base = resolve_type(
            disbursements(
                datasets,
                ["disbursement_id", "person_id", "subsidy_type", "region_code", "period", "pay_date", "amount"],
            ),
            standards,
        ).drop("subsidy_type")
        # Grouping millions of rows on three strings is the expensive part: group on a 64-bit
        # hash of the key first to find the few candidate rows, then confirm on the real key
        # (a hash collision can only add candidates, never lose a duplicate).
        key_hash = pl.col("person_id").hash(1) ^ pl.col("type_code").hash(2) ^ pl.col("period").hash(3)
        base = base.with_columns(key_hash.alias("_h"))
        hot = base.group_by("_h").agg(pl.len().alias("_n")).filter(pl.col("_n") > 1).select("_h")
        candidates = base.join(hot, on="_h", how="semi").drop("_h")
        dup_keys = candidates.group_by(_KEYS).agg(pl.len().alias("_n")).filter(pl.col("_n") > 1).drop("_n")
        ranked = (
            candidates.join(dup_keys, on=_KEYS, how="semi")
            .sort([*_KEYS, "pay_date", "disbursement_id"], nulls_last=True)
            .with_columns(pl.int_range(pl.len()).over(_KEYS).alias("_rank"))
        )
        records = ranked.with_columns(
            # the first payment of each (type, period) is due: evidence, nothing at risk
            pl.when(pl.col("_rank") == 0).then(0.0).otherwise(pl.col("amount").cast(pl.Float64)).alias("at_risk"),
            type_label_zh(standards).alias("type_zh"),
        )
        grouped = group_records(
            records,
            "person_id",
            extra=[
                pl.col("type_zh").unique().sort().str.join("、").alias("types_zh"),
                pl.col("type_code").unique().sort().str.join(", ").alias("types_en"),
                pl.struct(_KEYS).n_unique().alias("n_keys"),
                (pl.col("_rank") > 0).sum().alias("n_extra"),
                pl.col("disbursement_id").filter(pl.col("_rank") == 0).sort().alias("first_payment_ids"),
            ],
        )
        zh = (
            pl.col("types_zh") + pl.lit(" 在所属期 ") + period_range_zh() + pl.lit(" 内有 ")
            + pl.col("n_keys").cast(pl.String) + pl.lit(" 个月份重复发放;共 ")
            + pl.col("n_records").cast(pl.String) + pl.lit(" 笔,多发 ") + pl.col("n_extra").cast(pl.String) + pl.lit(" 笔,共 ") + money(pl.col("amount_at_risk"))
            + pl.lit(" 元")
        )
        en = (
            pl.col("types_en") + pl.lit(" paid more than once for ") + plural(pl.col("n_keys"), "month")
            + pl.lit(" in ") + period_range_en() + pl.lit("; ") + plural(pl.col("n_records"), "payment")
            + pl.lit(" of which ") + pl.col("n_extra").cast(pl.String) + pl.lit(" extra")
            + pl.lit(" totalling ") + money(pl.col("amount_at_risk")) + pl.lit(" CNY")
        )
        details = json_details(first_payment_ids=pl.col("first_payment_ids"), subsidy_types=pl.col("types_en"))
        return finish(grouped, "DUPLICATE_PAYMENT", "person", "person_id", pl.lit(1.0), zh, en, details)
