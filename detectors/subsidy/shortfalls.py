"""Payments that did not reach the standard (UNDER_PAYMENT, 克扣) and two benefits of one
exclusive group paid together (EXCLUSIVE_BENEFITS, 重复享受)."""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec
from ..policy import ONE_CARD_EN, ONE_CARD_ZH, SOCIAL_ASSISTANCE_EN, SOCIAL_ASSISTANCE_ZH
from ._common import (
    DEFAULTS,
    REGULAR,
    RETURNED,
    TOP_UP,
    SubsidyRule,
    finish,
    group_records,
    json_details,
    linear_score,
    money,
    period_range_en,
    period_range_zh,
    plural,
    standardised,
    type_label_zh,
)

UNKNOWN_OPERATOR = "(unknown)"
_MONTH = ["person_id", "type_code", "period"]


class UnderPaymentRule(SubsidyRule):
    """Regular payments that fall short of the standard × quantity (克扣).

    Why it matters: deducting a "fee" or keeping part of each beneficiary's subsidy (克扣) is
    one of the campaign's targets; it shows as payments below the standard, clustered at the
    office that entered them.

    For every month a person was paid a type regularly, the month's regular payments plus its
    top-ups, less what was returned, are compared with the applicable standard × the regular
    payment's ``quantity``; a shortfall above ``under_payment_tolerance`` is flagged. Only
    months with a regular payment below the standard are looked at (few), so the check costs
    one filter on ordinary data.

    Entity: the **operator** who entered the payments (as DELAYED_PAYMENT): a shortfall is the
    paying office's doing; ``details`` names the batches so a supervisor sees where they
    cluster.

    Legitimate look-alikes ignored: a pro-rata first or last month (a fractional ``quantity``,
    paid standard × quantity); a regular payment at the old rate made up by a top-up after a
    rise; a bounced payment repaid; back-pay (judged by OVER_STANDARD per month).

    Findings: one per operator; records one payment per short month (the regular one), money at
    risk the shortfall. Score per month ``under_payment_score_base + (1 − base) × (shortfall /
    expected) / under_payment_full_ratio``, clipped to 1; the finding takes the largest.

    Parameters
    ----------
    under_payment_tolerance : CNY a month may fall short (rounding).
    under_payment_score_base, under_payment_full_ratio : score shape.
    """

    rules = (
        RuleSpec(
            code="UNDER_PAYMENT",
            family="under_payment",
            weight=0.7,
            entity_type="operator",
            title_zh="补贴未足额发放",
            title_en="Paid below the standard",
            meaning_zh="正常发放金额(含补差、扣除退回)低于适用标准乘以计发数量超过{under_payment_tolerance}元",
            meaning_en="A month's regular payment (with top-ups, net of returns) more than {under_payment_tolerance} CNY below the standard times the quantity",
            basis_zh=ONE_CARD_ZH + ":补贴资金应足额发放到户,不得克扣、截留",
            basis_en=ONE_CARD_EN.capitalize() + ": subsidies reach the card in full, nothing deducted or kept back",
            checklist_zh=(
                "调取相关批次的审批表和发放清单,核对核定金额与实发金额",
                "抽查受益人的银行卡流水,核实实际到账金额",
                "询问经办人少发部分的去向,是否以手续费、工本费等名义扣减",
            ),
            checklist_en=(
                "Pull the approval forms and payment lists of the batches: approved against paid amounts",
                "Check some beneficiaries' card statements: what actually arrived",
                "Ask the operator where the difference went, and whether fees were deducted",
            ),
        ),
    )
    # a month is judged on all its rows (a top-up may be entered by another operator), and a
    # finding gathers an operator's months over all persons: no key splits the work
    partition_by = None
    requires = ("subsidy_standards", "disbursements")

    def __init__(
        self,
        under_payment_tolerance: float = DEFAULTS.under_payment_tolerance,
        under_payment_score_base: float = DEFAULTS.under_payment_score_base,
        under_payment_full_ratio: float = DEFAULTS.under_payment_full_ratio,
    ):
        self.under_payment_tolerance = under_payment_tolerance
        self.under_payment_score_base = under_payment_score_base
        self.under_payment_full_ratio = under_payment_full_ratio

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        lf, standards = standardised(
            datasets,
            ["disbursement_id", "batch_id", "person_id", "region_code", "period", "amount", "quantity",
             "payment_type", "operator_id"],
        )
        lf = lf.filter(pl.col("std_amount").is_not_null())
        ptype = pl.col("payment_type")
        short = (ptype == REGULAR) & (
            pl.col("amount") < pl.col("std_amount") * pl.col("quantity") - self.under_payment_tolerance
        )
        months = lf.filter(short).select(_MONTH).unique()
        rows = lf.join(months, on=_MONTH, how="semi").filter(ptype.is_in([REGULAR, TOP_UP, RETURNED]))
        signed = pl.when(ptype == RETURNED).then(-pl.col("amount")).otherwise(pl.col("amount"))
        first_regular = ["disbursement_id", "batch_id", "region_code", "operator_id", "quantity", "std_amount"]
        per_month = (
            rows.with_columns(signed.alias("_signed"))
            .sort("disbursement_id")  # the first regular payment of a month is its record
            .group_by(_MONTH, maintain_order=True)
            .agg(
                pl.col("_signed").sum().alias("net"),
                pl.col("amount").filter(ptype == REGULAR).sum().alias("regular"),
                (pl.col("amount").filter(ptype == REGULAR).len()).alias("_n_regular"),
                *[pl.col(c).filter(ptype == REGULAR).first() for c in first_regular],
            )
            .with_columns((pl.col("std_amount") * pl.col("quantity")).alias("expected"))
            .with_columns((pl.col("expected") - pl.col("net")).round(2).alias("at_risk"))
            .filter(pl.col("at_risk") > self.under_payment_tolerance)
            .with_columns(
                pl.col("operator_id").cast(pl.String).fill_null(UNKNOWN_OPERATOR),
                type_label_zh(standards).alias("type_zh"),
                linear_score(
                    self.under_payment_score_base,
                    pl.when(pl.col("expected") > 0).then(pl.col("at_risk") / pl.col("expected")).otherwise(1.0),
                    self.under_payment_full_ratio,
                ).alias("_score"),
            )
        )
        grouped = group_records(
            per_month,
            "operator_id",
            extra=[
                pl.col("_score").max().alias("score"),
                pl.col("person_id").n_unique().alias("n_people"),
                pl.col("expected").sum().alias("expected"),
                pl.col("net").sum().alias("paid"),
                pl.col("type_zh").unique().sort().str.join("、").alias("types_zh"),
                pl.col("type_code").unique().sort().str.join(", ").alias("types_en"),
                pl.col("batch_id").unique().sort().alias("batches"),
            ],
        )
        n_batches = pl.col("batches").list.len()
        zh = (
            pl.lit("经办的") + pl.col("types_zh") + pl.lit(" ") + pl.col("n_records").cast(pl.String)
            + pl.lit(" 笔(") + pl.col("n_people").cast(pl.String) + pl.lit(" 人,") + n_batches.cast(pl.String)
            + pl.lit(" 个批次)低于标准发放;所属期 ") + period_range_zh() + pl.lit(" 按标准应发 ")
            + money(pl.col("expected")) + pl.lit(" 元,实发 ") + money(pl.col("paid")) + pl.lit(" 元,少发 ")
            + money(pl.col("amount_at_risk")) + pl.lit(" 元")
        )
        en = (
            plural(pl.col("n_records"), "payment") + pl.lit(" of ") + pl.col("types_en") + pl.lit(" to ")
            + plural(pl.col("n_people"), "person") + pl.lit(" (") + plural(n_batches, "batch").str.replace("batchs", "batches")
            + pl.lit(") below the standard for ") + period_range_en() + pl.lit(": due ") + money(pl.col("expected"))
            + pl.lit(" CNY, paid ") + money(pl.col("paid")) + pl.lit(" CNY, short ") + money(pl.col("amount_at_risk"))
            + pl.lit(" CNY")
        )
        details = json_details(batches=pl.col("batches"), expected=pl.col("expected").round(2),
                               paid=pl.col("paid").round(2), n_beneficiaries=pl.col("n_people"))
        return finish(grouped, "UNDER_PAYMENT", "operator", "operator_id", pl.col("score"), zh, en, details)


class ExclusiveBenefitsRule(SubsidyRule):
    """Two subsidies of one exclusive group paid to one person for the same month (重复享受).

    Why it matters: some benefits replace each other — 低保 and 特困 供养 are both basic
    living support, and a person supported as 特困 may not also draw 低保 for the same month.
    Paying both is double enjoyment (重复享受), a campaign target; the smaller benefit is the
    money in doubt.

    Types share a group when their standards name the same ``exclusive_group`` (v2). For each
    person, group and month, the types paid (regular and back-pay month by month, net of
    returns; top-ups never start a benefit) are counted; two or more are flagged.

    Legitimate look-alikes ignored: a transfer from one benefit to the other in different
    months (低保 to June, 特困 from July); a payment of one type returned; types of different
    groups or of no group (an elderly allowance beside 低保).

    Findings: one per person; records the payments of each doubled month, the largest
    benefit's with 0.0 at risk, the others whole. Score ``exclusive_benefits_score``.

    Parameters
    ----------
    exclusive_benefits_score : the score.
    """

    rules = (
        RuleSpec(
            code="EXCLUSIVE_BENEFITS",
            family="duplicate",
            weight=0.8,
            entity_type="person",
            title_zh="互斥救助重复享受",
            title_en="Mutually exclusive benefits paid together",
            meaning_zh="同一人同一月份领取了同一互斥组中的两项及以上补贴",
            meaning_en="One person paid two or more subsidies of one exclusive group for the same month",
            basis_zh="最低生活保障、特困人员救助供养审核确认有关规定(不得重复享受基本生活救助);" + SOCIAL_ASSISTANCE_ZH,
            basis_en="The rules on approving minimum-living and extreme-poverty support (basic living support is not paid twice); the "
            + SOCIAL_ASSISTANCE_EN,
            checklist_zh=(
                "调取两项补贴的审批材料,核实该人员的救助类别和认定时间",
                "核实是否由一种救助转为另一种而未及时停发原待遇",
                "询问经办人重复发放的原因,多发资金是否已追回",
            ),
            checklist_en=(
                "Pull the approval files of both benefits: which category was the person approved for and when",
                "Check whether the person moved from one benefit to the other and the old one was not stopped",
                "Ask the operator why both were paid and whether the overpayment has been recovered",
            ),
        ),
    )
    partition_by = ("disbursements", "person_id")
    requires = ("subsidy_standards", "disbursements")
    requires_columns = {"subsidy_standards": ("exclusive_group",)}

    def __init__(self, exclusive_benefits_score: float = DEFAULTS.exclusive_benefits_score):
        self.exclusive_benefits_score = exclusive_benefits_score

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        lf, standards = standardised(
            datasets,
            ["disbursement_id", "person_id", "region_code", "period", "amount", "quantity", "payment_type"],
            only_flag=pl.col("exclusive_group").is_not_null(),
            per_month=True,
        )
        ptype = pl.col("payment_type")
        signed = pl.when(ptype == RETURNED).then(-pl.col("amount")).otherwise(pl.col("amount"))
        key = ["person_id", "std_exclusive_group", "period"]
        rows = lf.filter(pl.col("std_exclusive_group").is_not_null() & (ptype != TOP_UP)).with_columns(
            signed.alias("_signed")
        )
        # the types a person was paid (net) each month, then the months with two or more
        per_type = (
            rows.group_by([*key, "type_code"])
            .agg(pl.col("_signed").sum().alias("_net"))
            .filter(pl.col("_net") > 0.005)
        )
        doubled = (
            per_type.sort([*key, "_net", "type_code"], descending=[False, False, False, True, False])
            .group_by(key, maintain_order=True)
            .agg(pl.col("type_code").first().alias("_kept"), pl.len().alias("_n_types"))
            .filter(pl.col("_n_types") > 1)
        )
        records = (
            rows.filter(ptype != RETURNED)
            .join(doubled, on=key, how="inner")
            .join(per_type.select(*key, "type_code"), on=[*key, "type_code"], how="semi")
            # a back-pay covering several months is one record: at risk where it is not the kept type
            .with_columns(
                pl.when(pl.col("type_code") == pl.col("_kept")).then(0.0).otherwise(pl.col("amount")).alias("_r")
            )
            .group_by("person_id", "disbursement_id")
            .agg(
                pl.col("period").min(), pl.col("region_code").first(), pl.col("type_code").first(),
                pl.col("_r").sum().round(2).alias("at_risk"), pl.col("std_exclusive_group").first(),
                pl.col("period").alias("_months"),
            )
            .with_columns(type_label_zh(standards).alias("type_zh"))
        )
        grouped = group_records(
            records,
            "person_id",
            extra=[
                pl.col("type_zh").unique().sort().str.join("、").alias("types_zh"),
                pl.col("type_code").unique().sort().str.join(", ").alias("types_en"),
                pl.col("std_exclusive_group").unique().sort().str.join("、").alias("groups"),
                pl.col("_months").list.explode(keep_nulls=False, empty_as_null=False).n_unique().alias("n_months"),
            ],
        )
        zh = (
            pl.col("types_zh") + pl.lit(" 同属互斥组「") + pl.col("groups") + pl.lit("」,在所属期 ")
            + period_range_zh() + pl.lit(" 内有 ") + pl.col("n_months").cast(pl.String)
            + pl.lit(" 个月份同时发放;共 ") + pl.col("n_records").cast(pl.String) + pl.lit(" 笔,重复享受 ")
            + money(pl.col("amount_at_risk")) + pl.lit(" 元")
        )
        en = (
            pl.col("types_en") + pl.lit(" (one exclusive group: ") + pl.col("groups") + pl.lit(") both paid for ")
            + plural(pl.col("n_months"), "month") + pl.lit(" in ") + period_range_en() + pl.lit("; ")
            + plural(pl.col("n_records"), "payment") + pl.lit(", paid twice ") + money(pl.col("amount_at_risk"))
            + pl.lit(" CNY")
        )
        details = json_details(exclusive_groups=pl.col("groups"), subsidy_types=pl.col("types_en"),
                               n_months=pl.col("n_months"))
        return finish(grouped, "EXCLUSIVE_BENEFITS", "person", "person_id", pl.lit(self.exclusive_benefits_score),
                      zh, en, details)
