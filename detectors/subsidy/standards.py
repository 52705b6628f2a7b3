"""Checks against the applicable subsidy standard: amount (OVER_STANDARD) and age (INELIGIBLE_AGE).

Both need the standard that applies to a payment — by subsidy type (names resolved to
codes), county (longest ``region_prefix``, ``*`` for all) and period — found by
:func:`detectors.subsidy._common.attach_standard`.
"""

from __future__ import annotations

import polars as pl

from fundwatch.idnumber import birth_date_of, normalize_person_id

from ..base import Datasets, RuleSpec
from ..policy import ONE_CARD_EN, ONE_CARD_ZH
from ._common import (
    DEFAULTS,
    UNIT_ZH,
    BACK_PAY,
    REGULAR,
    TOP_UP,
    SubsidyRule,
    age_on,
    finish,
    group_records,
    json_details,
    linear_score,
    money,
    num,
    optional_frame,
    period_first_day,
    period_range_en,
    period_range_zh,
    plural,
    standardised,
    type_label_zh,
)


class OverStandardRule(SubsidyRule):
    """Payments above the applicable standard amount × quantity.

    Why it matters: paying more than the standard (or inflating it per head) is how money is
    skimmed through legitimate beneficiaries; the excess is what is in doubt.

    The applicable standard is the ``subsidy_standards`` row for the payment's type, the
    longest ``region_prefix`` matching its ``region_code`` (``*`` = all) and a validity window
    containing the period. A regular payment is flagged when
    ``amount > standard amount × quantity + amount_tolerance``. Payments whose type has no
    applicable standard are not judged here. Payment types (v2): a ``back_pay`` of a monthly
    type is judged against the sum of the standards of the months it covers (``quantity``
    months from ``period``; one without a standard for every month is not judged; one whose
    quantity was left empty — it loads as 1 — and whose amount is a whole number of months at
    the standard, 2 to ``back_pay_max_months``, is read as that many months); a
    ``top_up`` is judged with the month's regular payment against the standard that now
    applies (a top-up with no rise to follow is money above the standard); ``returned`` rows
    are never judged.

    Legitimate look-alikes ignored: a county override that raises the standard (a longer
    prefix wins over ``*``), so a county paying its own higher rate is not flagged; a
    back-pay of several months in one row; a top-up after a rise.

    Findings: one per person; records are the over-standard payments, amount at risk the
    excess over the expected amount. Score per payment
    ``over_standard_score_base + (1 - base) × (excess / expected) / over_standard_full_ratio``
    (clipped to 1), the finding's score the largest.

    Parameters
    ----------
    amount_tolerance : CNY allowed above standard × quantity.
    back_pay_max_months : a back-pay with its quantity left empty (1) and an amount of a whole
        number of months at the standard, 2 up to this, is read as that many months.
    over_standard_score_base, over_standard_full_ratio : score shape (see above).
    """

    rules = (
        RuleSpec(
            code="OVER_STANDARD",
            family="over_standard",
            weight=0.7,
            entity_type="person",
            title_zh="超标准发放",
            title_en="Paid above the standard",
            meaning_zh="发放金额高于适用标准乘以计发数量",
            meaning_en="Amount above the applicable standard times the quantity",
            basis_zh="各项补贴的发放标准文件(按地区和期间适用的标准);" + ONE_CARD_ZH,
            basis_en="The standard-setting documents of each subsidy (the rate for the region and period); " + ONE_CARD_EN,
            checklist_zh=(
                "调取该补贴在当地、当期适用的标准文件",
                "调取发放清单和审批表,核对计发数量和金额",
                "询问经办人多发部分的依据,是否有上级批准的提标文件",
            ),
            checklist_en=(
                "Pull the standard that applied to this subsidy in this place and period",
                "Pull the payment list and approval form and check quantity and amount",
                "Ask the operator on what grounds more was paid, and whether a higher local rate was approved",
            ),
        ),
    )
    partition_by = ("disbursements", "person_id")
    requires = ("subsidy_standards", "disbursements")

    def __init__(
        self,
        amount_tolerance: float = DEFAULTS.amount_tolerance,
        over_standard_score_base: float = DEFAULTS.over_standard_score_base,
        over_standard_full_ratio: float = DEFAULTS.over_standard_full_ratio,
        back_pay_max_months: int = DEFAULTS.back_pay_max_months,
    ):
        self.amount_tolerance = amount_tolerance
        self.back_pay_max_months = back_pay_max_months
        self.over_standard_score_base = over_standard_score_base
        self.over_standard_full_ratio = over_standard_full_ratio

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        lf, standards = standardised(
            datasets,
            ["disbursement_id", "person_id", "region_code", "period", "amount", "quantity", "payment_type"],
            per_month=True,
        )
        # a back-pay is judged only when every month it covers has a standard: a month
        # without one would make the expected amount too small
        unjudged = pl.col("std_amount").is_null().any().over("disbursement_id")
        lf = pl.concat([
            lf.filter(pl.col("payment_type") != BACK_PAY),
            lf.filter(pl.col("payment_type") == BACK_PAY).filter(~unjudged),
        ], how="vertical").filter(pl.col("std_amount").is_not_null())
        ptype = pl.col("payment_type")
        per_payment = ["disbursement_id", "person_id", "type_code", "region_code", "payment_type"]
        # regular payments and back-pay (month by month, summed back to the payment): the
        # payment against the standard(s) of the months it covers
        cols = [*per_payment, "period", "amount", "expected", "quantity", "std_amount", "std_unit",
                "std_region_prefix", "_excess"]
        expected = pl.col("std_amount") * pl.col("quantity")
        regular_paid = lf.filter(ptype == REGULAR).with_columns(
            expected.alias("expected"), (pl.col("amount") - expected).alias("_excess")
        ).select(cols)
        back_paid = (
            lf.filter(ptype == BACK_PAY)
            .group_by(per_payment)
            .agg(
                pl.col("period").min(),
                pl.col("amount").sum(),
                expected.sum().alias("expected"),
                pl.col("quantity").sum(),
                pl.col("std_amount").first(),
                pl.col("std_unit").first(),
                pl.col("std_region_prefix").first(),
            )
            .with_columns(
                (pl.col("amount") / pl.col("std_amount")).alias("_months"),
            )
            .with_columns(
                # a quantity left empty (loaded as 1) on a back-pay of a whole number of months
                # at the standard: read as that many months, not one month overpaid
                pl.when(
                    (pl.col("quantity") == 1.0) & (pl.col("std_amount") > 0)
                    & ((pl.col("_months") - pl.col("_months").round(0)).abs() * pl.col("std_amount")
                       <= self.amount_tolerance)
                    & pl.col("_months").round(0).is_between(2, self.back_pay_max_months)
                ).then(pl.col("amount")).otherwise(pl.col("expected")).alias("expected")
            )
            .with_columns((pl.col("amount") - pl.col("expected")).alias("_excess"))
            .select(cols)
        )
        paid = pl.concat([regular_paid, back_paid], how="vertical")
        # top-ups: the month's latest regular payment plus its top-ups against the standard
        # that now applies to the month (the rise the top-up follows); no rise, no room
        month = ["person_id", "type_code", "period"]
        regular = (
            lf.filter(ptype == REGULAR)
            .join(lf.filter(ptype == TOP_UP).select(month).unique(), on=month, how="semi")
            .group_by(month)
            .agg(pl.col("amount").sort_by("disbursement_id").last().alias("_base"))
        )
        tops = (
            lf.filter(ptype == TOP_UP)
            .join(regular, on=month, how="left")
            .with_columns(
                (pl.col("_base").fill_null(0.0) + pl.col("amount").sum().over(month)
                 - pl.col("std_amount") * pl.col("quantity")).alias("_month_excess"),
            )
            .with_columns(
                # the month's excess shared over its top-ups in proportion to their amounts
                (pl.col("_month_excess").clip(0.0, None) * pl.col("amount")
                 / pl.col("amount").sum().over(month)).alias("_excess"),
                (pl.col("std_amount") * pl.col("quantity")).alias("expected"),
                pl.when(pl.col("_month_excess") > self.amount_tolerance).then(pl.col("amount"))
                .otherwise(0.0).alias("_flag"),
            )
            .filter(pl.col("_flag") > 0)
            .select(*per_payment, "period", "amount", "expected", "quantity", "std_amount", "std_unit",
                    "std_region_prefix", "_excess")
        )
        records = (
            pl.concat([
                paid.filter(pl.col("_excess") > self.amount_tolerance).select(tops.collect_schema().names()),
                tops,
            ], how="vertical")
            .with_columns(
                pl.col("_excess").round(2).alias("at_risk"),
                type_label_zh(standards).alias("type_zh"),
            )
            .with_columns(
                linear_score(
                    self.over_standard_score_base,
                    pl.when(pl.col("expected") > 0)
                    .then(pl.col("at_risk") / pl.col("expected"))
                    .otherwise(pl.lit(float("inf"))),
                    self.over_standard_full_ratio,
                ).alias("_score")
            )
        )
        worst = ["period", "disbursement_id"]
        grouped = group_records(
            records,
            "person_id",
            extra=[
                pl.col("_score").max().alias("score"),
                pl.col("amount").sum().alias("paid"),
                pl.col("expected").sum().alias("expected"),
                pl.col("type_zh").unique().sort().str.join("、").alias("types_zh"),
                pl.col("type_code").unique().sort().str.join(", ").alias("types_en"),
                # one example payment for the text: the largest excess (one sort per person)
                pl.struct(
                    pl.col("amount").alias("ex_amount"), pl.col("std_amount").alias("ex_std"),
                    pl.col("quantity").alias("ex_qty"), pl.col("std_unit").alias("ex_unit"),
                    pl.col("std_region_prefix").alias("ex_prefix"),
                ).sort_by(["at_risk", *worst], descending=[True, False, False]).first().alias("_ex"),
            ],
        ).unnest("_ex")
        unit_zh = pl.col("ex_unit").replace(UNIT_ZH).fill_null("")
        zh = (
            pl.col("types_zh") + pl.lit(" 所属期 ") + period_range_zh() + pl.lit(" 发放 ")
            + pl.col("n_records").cast(pl.String) + pl.lit(" 笔超过标准,实发 ") + money(pl.col("paid"))
            + pl.lit(" 元,按标准应发 ") + money(pl.col("expected")) + pl.lit(" 元,超发 ")
            + money(pl.col("amount_at_risk")) + pl.lit(" 元(例:标准 ") + money(pl.col("ex_std"))
            + pl.lit(" 元/") + unit_zh + pl.lit(" × ") + num(pl.col("ex_qty")) + pl.lit(",实发 ")
            + money(pl.col("ex_amount")) + pl.lit(" 元;适用区划 ") + pl.col("ex_prefix") + pl.lit(")")
        )
        en = (
            pl.col("types_en") + pl.lit(" for ") + period_range_en() + pl.lit(": ")
            + plural(pl.col("n_records"), "payment") + pl.lit(" above the standard, paid ")
            + money(pl.col("paid")) + pl.lit(" CNY where the standard gives ") + money(pl.col("expected"))
            + pl.lit(" CNY, excess ") + money(pl.col("amount_at_risk")) + pl.lit(" CNY (e.g. standard ")
            + money(pl.col("ex_std")) + pl.lit(" CNY per ") + pl.col("ex_unit").fill_null("unit")
            + pl.lit(" × ") + num(pl.col("ex_qty")) + pl.lit(", paid ") + money(pl.col("ex_amount"))
            + pl.lit(" CNY; region prefix ") + pl.col("ex_prefix") + pl.lit(")")
        )
        details = json_details(
            paid=pl.col("paid").round(2), expected=pl.col("expected").round(2),
            standard_region_prefix=pl.col("ex_prefix"), subsidy_types=pl.col("types_en"),
        )
        return finish(grouped, "OVER_STANDARD", "person", "person_id", pl.col("score"), zh, en, details)


class IneligibleAgeRule(SubsidyRule):
    """Beneficiaries whose age is outside the applicable standard's age limits.

    Why it matters: age-bound subsidies (elderly allowance from 80, basic pension from 60)
    paid to younger people point to falsified birth dates or invented entitlements.

    Age is counted in whole years on the first day of the period, from ``persons.birth_date``
    when the person is registered, else from the birth date in identity-number digits 7-14.
    A payment is flagged when the applicable standard (see :class:`OverStandardRule`) has a
    ``min_age`` above that age or a ``max_age`` below it.

    Legitimate look-alike ignored: a person exactly at a limit (turning 80 on or before the
    first day of the period; aged exactly ``max_age``) is eligible.

    Findings: one per person; records are the ineligible payments with their whole amount at
    risk. Score ``age_score_base + age_score_per_year × (years outside − 1)``, clipped to 1.

    Parameters
    ----------
    age_score_base, age_score_per_year : score shape (see above).
    """

    rules = (
        RuleSpec(
            code="INELIGIBLE_AGE",
            family="eligibility",
            weight=0.7,
            entity_type="person",
            title_zh="年龄不符合享受条件",
            title_en="Age outside the eligibility limits",
            meaning_zh="所属期首日的年龄超出补贴标准规定的年龄范围",
            meaning_en="Age on the first day of the period outside the standard's limits",
            basis_zh="各项补贴的享受条件(如高龄津贴、城乡居民基础养老金的起领年龄)",
            basis_en="The eligibility conditions of each subsidy (e.g. the starting age of the old-age allowance and of the basic pension)",
            checklist_zh=(
                "调取户籍信息和身份证,核对出生日期",
                "调取申请审批材料,查看年龄是如何认定的",
                "询问经办人和本人:出生日期是否被改动",
            ),
            checklist_en=(
                "Pull the household register entry and identity card and check the birth date",
                "Pull the application and approval file: how the age was established",
                "Ask the operator and the recipient whether the birth date was changed",
            ),
        ),
    )
    partition_by = ("disbursements", "person_id")
    requires = ("subsidy_standards", "disbursements")
    optional = ("persons",)

    def __init__(
        self,
        age_score_base: float = DEFAULTS.age_score_base,
        age_score_per_year: float = DEFAULTS.age_score_per_year,
    ):
        self.age_score_base = age_score_base
        self.age_score_per_year = age_score_per_year

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        lf, standards = standardised(
            datasets, ["disbursement_id", "person_id", "region_code", "period", "amount"], only_flag="age"
        )
        lf = lf.filter(pl.col("std_min_age").is_not_null() | pl.col("std_max_age").is_not_null())
        persons = optional_frame(datasets, "persons")
        from_id = birth_date_of(normalize_person_id(pl.col("person_id")))
        if persons is not None:
            births = persons.select("person_id", pl.col("birth_date").alias("_reg_birth")).unique(
                subset="person_id", keep="first"
            )
            lf = lf.join(births, on="person_id", how="left").with_columns(
                pl.coalesce(pl.col("_reg_birth"), from_id).alias("birth_date")
            )
        else:
            lf = lf.with_columns(from_id.alias("birth_date"))
        age = age_on(pl.col("birth_date"), period_first_day(pl.col("period")))
        below = pl.col("std_min_age") - pl.col("age")
        above = pl.col("age") - pl.col("std_max_age")
        records = (
            lf.with_columns(age.alias("age"))
            .with_columns(
                pl.max_horizontal(below.fill_null(0), above.fill_null(0), pl.lit(0)).alias("years_out")
            )
            .filter(pl.col("age").is_not_null() & (pl.col("years_out") > 0))
            .with_columns(
                pl.col("amount").cast(pl.Float64).alias("at_risk"),
                type_label_zh(standards).alias("type_zh"),
                (pl.lit(self.age_score_base) + self.age_score_per_year * (pl.col("years_out") - 1))
                .clip(0.0, 1.0)
                .alias("_score"),
                pl.when(pl.col("std_min_age").is_not_null() & (pl.col("age") < pl.col("std_min_age")))
                .then(pl.lit("below"))
                .otherwise(pl.lit("above"))
                .alias("side"),
            )
        )
        # the first ineligible payment is the example in the text (one sort per person)
        example = pl.struct(
            pl.col("age").alias("ex_age"), pl.col("period").alias("ex_period"),
            pl.col("std_min_age").alias("ex_min"), pl.col("std_max_age").alias("ex_max"),
            pl.col("side").alias("ex_side"),
        ).sort_by(["period", "disbursement_id"]).first().alias("_ex")
        grouped = group_records(
            records,
            "person_id",
            extra=[
                pl.col("_score").max().alias("score"),
                pl.col("type_zh").unique().sort().str.join("、").alias("types_zh"),
                pl.col("type_code").unique().sort().str.join(", ").alias("types_en"),
                example,
            ],
        ).unnest("_ex")
        limit_zh = (
            pl.when(pl.col("ex_side") == "below")
            .then(pl.lit("低于最低年龄 ") + pl.col("ex_min").cast(pl.String))
            .otherwise(pl.lit("高于最高年龄 ") + pl.col("ex_max").cast(pl.String))
        )
        limit_en = (
            pl.when(pl.col("ex_side") == "below")
            .then(pl.lit("below the minimum age ") + pl.col("ex_min").cast(pl.String))
            .otherwise(pl.lit("above the maximum age ") + pl.col("ex_max").cast(pl.String))
        )
        zh = (
            pl.lit("所属期 ") + pl.col("ex_period") + pl.lit(" 首日年龄 ") + pl.col("ex_age").cast(pl.String)
            + pl.lit(" 周岁,") + limit_zh + pl.lit(" 岁;") + pl.col("types_zh") + pl.lit(" 所属期 ")
            + period_range_zh() + pl.lit(" 发放 ") + pl.col("n_records").cast(pl.String) + pl.lit(" 笔,共 ")
            + money(pl.col("amount_at_risk")) + pl.lit(" 元")
        )
        en = (
            pl.lit("Aged ") + pl.col("ex_age").cast(pl.String) + pl.lit(" on the first day of ")
            + pl.col("ex_period") + pl.lit(", ") + limit_en + pl.lit("; ") + pl.col("types_en")
            + pl.lit(": ") + plural(pl.col("n_records"), "payment") + pl.lit(" for ") + period_range_en()
            + pl.lit(" totalling ") + money(pl.col("amount_at_risk")) + pl.lit(" CNY")
        )
        details = json_details(
            age_first_period=pl.col("ex_age"), min_age=pl.col("ex_min"), max_age=pl.col("ex_max"),
            subsidy_types=pl.col("types_en"),
        )
        return finish(grouped, "INELIGIBLE_AGE", "person", "person_id", pl.col("score"), zh, en, details)
