"""The same subsidy paid twice for the same month (DUPLICATE_PAYMENT)."""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec
from ..policy import ONE_CARD_EN, ONE_CARD_ZH
from ._common import (
    ANNUAL_UNITS,
    RETURNED,
    TOP_UP,
    SubsidyRule,
    expand_back_pay,
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


def annual_types(standards: pl.DataFrame) -> list[str]:
    """Type codes paid per year (every standard row of the type has an annual unit)."""
    units = standards.group_by("subsidy_type").agg(pl.col("unit").is_in(list(ANNUAL_UNITS)).all().alias("_a"))
    return sorted(units.filter(pl.col("_a"))["subsidy_type"].to_list())


def payments(datasets: Datasets, standards: pl.DataFrame) -> pl.LazyFrame:
    """Regular, back-pay and returned payments with ``type_code`` (top-ups are never a second
    payment: they are the difference of a rise for a month already paid)."""
    return resolve_type(
        disbursements(
            datasets,
            ["disbursement_id", "person_id", "subsidy_type", "region_code", "period", "pay_date", "amount",
             "quantity", "payment_type"],
        ),
        standards,
    ).drop("subsidy_type").filter(pl.col("payment_type") != TOP_UP)


def ranked_duplicates(base: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """The payments of every key paid more than once, net of returns, with ``at_risk``.

    A ``returned`` row cancels one payment of its key and amount (the earliest: a bounced
    payment is the one repaid later), so bounced-then-repaid is one payment. Of the payments
    left, the earliest (``pay_date``, ``disbursement_id``) is due (``_rank`` 0, nothing at
    risk), every later one at risk whole. One row per payment and key.
    """
    # Grouping millions of rows on three strings is the expensive part: group on a 64-bit
    # hash of the key first to find the few candidate rows, then confirm on the real key
    # (a hash collision can only add candidates, never lose a duplicate).
    key_hash = pl.lit(0, pl.UInt64)
    for i, k in enumerate(keys):
        key_hash = key_hash ^ pl.col(k).hash(i + 1)
    base = base.with_columns(key_hash.alias("_h"))
    hot = base.group_by("_h").agg(pl.len().alias("_n")).filter(pl.col("_n") > 1).select("_h")
    candidates = base.join(hot, on="_h", how="semi").drop("_h")
    is_ret = pl.col("payment_type") == RETURNED
    cents = (pl.col("amount") * 100).round(0).cast(pl.Int64).alias("_cents")
    returns = (
        candidates.filter(is_ret).with_columns(cents).group_by([*keys, "_cents"]).agg(pl.len().alias("_n_ret"))
    )
    paid = (
        candidates.filter(~is_ret)
        .with_columns(cents)
        .join(returns, on=[*keys, "_cents"], how="left")
        .sort([*keys, "pay_date", "disbursement_id"], nulls_last=True)
        .with_columns(pl.int_range(pl.len()).over([*keys, "_cents"]).alias("_r_amt"))
        .filter(pl.col("_r_amt") >= pl.col("_n_ret").fill_null(0))
        .drop("_cents", "_n_ret", "_r_amt")
    )
    dup_keys = paid.group_by(keys).agg(pl.len().alias("_n")).filter(pl.col("_n") > 1).drop("_n")
    return (
        paid.join(dup_keys, on=keys, how="semi")
        .sort([*keys, "pay_date", "disbursement_id"], nulls_last=True)
        .with_columns(pl.int_range(pl.len()).over(keys).alias("_rank"))
        .with_columns(
            pl.when(pl.col("_rank") == 0).then(0.0).otherwise(pl.col("amount").cast(pl.Float64)).alias("at_risk"),
        )
    )


def per_payment(records: pl.LazyFrame, standards: pl.DataFrame, keys: list[str]) -> pl.LazyFrame:
    """One row per payment (a back-pay over several months is one record), ``n_keys`` counted
    before: ``_key`` names the duplicated key of each row."""
    return records.with_columns(pl.concat_str(keys, separator="|").alias("_key")).group_by(
        "person_id", "disbursement_id"
    ).agg(
        pl.col("period").min(),
        pl.col("region_code").first(),
        pl.col("type_code").first(),
        pl.col("at_risk").sum(),
        pl.col("_rank").min(),
        pl.col("_key"),
    ).with_columns(type_label_zh(standards).alias("type_zh"))



def duplicate_findings(records: pl.LazyFrame, standards: pl.DataFrame, keys: list[str], code: str) -> pl.LazyFrame:
    """One finding per person from :func:`ranked_duplicates` rows (months or years of ``keys``)."""
    annual = code == "ANNUAL_DUPLICATE"
    rows = per_payment(records, standards, keys)
    grouped = group_records(
        rows,
        "person_id",
        extra=[
            pl.col("type_zh").unique().sort().str.join("、").alias("types_zh"),
            pl.col("type_code").unique().sort().str.join(", ").alias("types_en"),
            pl.col("_key").list.explode(keep_nulls=False, empty_as_null=False).n_unique().alias("n_keys"),
            (pl.col("at_risk") > 0).sum().alias("n_extra"),
            pl.col("disbursement_id").filter(pl.col("at_risk") == 0).sort().alias("first_payment_ids"),
        ],
    )
    unit_zh, unit_en = ("年度", "year") if annual else ("月份", "month")
    zh = (
        pl.col("types_zh") + pl.lit(" 在所属期 ") + period_range_zh() + pl.lit(" 内有 ")
        + pl.col("n_keys").cast(pl.String) + pl.lit(f" 个{unit_zh}重复发放;共 ")
        + pl.col("n_records").cast(pl.String) + pl.lit(" 笔,多发 ") + pl.col("n_extra").cast(pl.String)
        + pl.lit(" 笔,共 ") + money(pl.col("amount_at_risk")) + pl.lit(" 元")
    )
    en = (
        pl.col("types_en") + pl.lit(" paid more than once for ") + plural(pl.col("n_keys"), unit_en)
        + pl.lit(" in ") + period_range_en() + pl.lit("; ") + plural(pl.col("n_records"), "payment")
        + pl.lit(" of which ") + pl.col("n_extra").cast(pl.String) + pl.lit(" extra")
        + pl.lit(" totalling ") + money(pl.col("amount_at_risk")) + pl.lit(" CNY")
    )
    details = json_details(first_payment_ids=pl.col("first_payment_ids"), subsidy_types=pl.col("types_en"))
    return finish(grouped, code, "person", "person_id", pl.lit(1.0), zh, en, details)


class DuplicatePaymentRule(SubsidyRule):
    """The same person paid the same subsidy type for the same period more than once.

    Why it matters: a payment entered again in a later batch (or under another serial number)
    pays the subsidy twice; repeated batches are a classic way to siphon money through
    real beneficiaries' cards.

    Types are compared after resolving subsidy names to codes with ``subsidy_standards`` when
    that dataset is present, so ``min_living`` and ``最低生活保障`` for the same month count as
    the same subsidy. Payment types (v2 ``payment_type``; empty or absent = regular): a
    ``back_pay`` counts as a payment of each month it covers (``period`` = first month,
    ``quantity`` = months), so a back-pay over a month already paid is a duplicate and one
    over months never paid is not; a ``top_up`` (the difference of a rise, for a month already
    paid) is never a second payment; a ``returned`` row cancels one payment of its month and
    amount, so a bounced payment paid again is one payment. Types paid per year (all their
    standards in ``person_year``/``mu_year``) are left to ANNUAL_DUPLICATE.

    Legitimate look-alikes ignored: two *different* subsidy types for one month (e.g. a
    minimum-living allowance and an elderly allowance) are separate entitlements; a top-up
    after a rise; a back-pay of months not paid before; a bounced payment repaid.

    Findings: one per person; the records are every remaining payment of each duplicated
    (type, period). Within each, the earliest payment (by ``pay_date`` then
    ``disbursement_id``) is taken as the due one: it is evidence with 0.0 at risk (also named
    in ``details.first_payment_ids``); every later one has its whole amount at risk (a
    back-pay: the share of the doubled months), so the finding's amount is exactly the money
    paid twice. Score 1.0.

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
        annual = annual_types(standards)
        base = payments(datasets, standards).filter(~pl.col("type_code").is_in(annual))
        # a back-pay stands for each month it covers: a month it covers that was paid already
        # is paid twice; months not paid before are what back-pay is for
        base = expand_back_pay(base).drop("month_no")
        records = ranked_duplicates(base, _KEYS)
        return duplicate_findings(records, standards, _KEYS, "DUPLICATE_PAYMENT")


class AnnualDuplicateRule(SubsidyRule):
    """An annual subsidy (unit ``person_year`` or ``mu_year``) paid twice to one person in one year.

    Why it matters: an annual subsidy such as 耕地地力保护补贴 is due once a year; paid again
    under another period of the same year (March and June) it escapes the month-by-month
    duplicate check, and the second payment is money paid twice.

    Payments of types whose standards all have an annual unit are keyed by
    ``(person, type, year of period)``; back-pay counts as a payment of its year, top-ups
    never do, and a ``returned`` row cancels one payment of its amount (a bounced payment
    repaid is one payment).

    Legitimate look-alike ignored: a top-up after the rate rose, and a bounced payment paid
    again.

    Findings: one per person; records every remaining payment of each duplicated year, the
    earliest with 0.0 at risk (``details.first_payment_ids``), later ones whole. Score 1.0.

    No parameters: the rule has no threshold to set.
    """

    rules = (
        RuleSpec(
            code="ANNUAL_DUPLICATE",
            family="duplicate",
            weight=0.9,
            entity_type="person",
            title_zh="年度补贴重复发放",
            title_en="Annual subsidy paid twice in a year",
            meaning_zh="按年计发的补贴在同一年度内向同一人发放多次",
            meaning_en="A subsidy paid per year paid to one person more than once in one year",
            basis_zh=ONE_CARD_ZH + ":按年度核定发放的补贴每年只能发放一次",
            basis_en=ONE_CARD_EN.capitalize() + ": a subsidy set per year is paid once a year",
            checklist_zh=(
                "调取两次发放所在批次的审批表和发放清单,核对是否重复申报面积或人员",
                "调取银行代发记录,核实两笔款项是否都已到账",
                "询问乡镇(街道)经办人重复发放的原因,多发资金是否已追回",
            ),
            checklist_en=(
                "Pull the approval forms and lists of both batches: was the land or person declared twice",
                "Pull the bank's payment records: did both payments reach the card",
                "Ask the township operator why it was paid twice and whether the overpayment has been recovered",
            ),
        ),
    )
    partition_by = ("disbursements", "person_id")
    requires = ("subsidy_standards", "disbursements")

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        standards = standards_frame(datasets)
        annual = annual_types(standards)
        base = (
            payments(datasets, standards)
            .filter(pl.col("type_code").is_in(annual))
            .with_columns(pl.col("period").str.slice(0, 4).alias("year"))
        )
        keys = ["person_id", "type_code", "year"]
        return duplicate_findings(ranked_duplicates(base, keys), standards, keys, "ANNUAL_DUPLICATE")
