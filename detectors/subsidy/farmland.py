"""Farmland subsidy paid on more land than the household has contracted (AREA_INFLATION)."""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec, lazy
from ._common import (
    DEFAULTS,
    SubsidyRule,
    finish,
    group_records,
    json_details,
    linear_score,
    money,
    num,
    optional_frame,
    period_range_en,
    period_range_zh,
    plural,
    standardised,
    type_label_zh,
)


class AreaInflationRule(SubsidyRule):
    """Per-mu subsidy quantities above the household's contracted (确权) area.

    Why it matters: 耕地地力保护补贴 is paid per mu; reporting more mu than the land register
    confirms (虚报面积) inflates the payment without any other trace.

    Payments of a per-mu type — the applicable standard's unit is ``mu_year`` or the type code
    is in ``farmland_types`` — are compared with the contracted area of the beneficiary as
    head of household in ``land`` (all their land rows summed). When the beneficiary is not a
    head in ``land`` but ``persons`` is given, the area of their household (``household_id``)
    is used. A payment is flagged when ``quantity > area + area_tolerance_mu``. Payments to
    people with no land record at all are not judged here (no area to compare with).

    Legitimate look-alike ignored: a quantity equal to the contracted area (or within the
    tolerance of it).

    Findings: one per person; records are the inflated payments; amount at risk
    ``(quantity − area) × standard amount`` when a standard applies, else the proportional
    share ``amount × (quantity − area) / quantity``. Score
    ``over_standard_score_base + (1 − base) × (excess / area) / over_standard_full_ratio``,
    clipped to 1.

    Parameters
    ----------
    area_tolerance_mu : mu allowed above the contracted area.
    farmland_types : type codes treated as per-mu besides ``mu_year`` standards.
    over_standard_score_base, over_standard_full_ratio : score shape (see above).
    """

    rules = (
        RuleSpec(
            code="AREA_INFLATION",
            family="farmland",
            weight=0.8,
            entity_type="person",
            title_zh="虚报耕地面积",
            title_en="Farmland area inflated",
            meaning_zh="耕地地力保护补贴的计发面积超过确权承包面积",
            meaning_en="Farmland subsidy paid for more land than the household's contracted area",
            basis_zh="耕地地力保护补贴政策有关规定:按确权承包面积核定补贴面积",
            basis_en="The farmland protection subsidy rules: the subsidised area is the contracted area in the land register",
            checklist_zh=(
                "调取土地承包经营权确权登记资料,核对承包面积",
                "调取补贴面积申报表和村级公示材料",
                "询问村组干部和农户:多报的面积从何而来",
            ),
            checklist_en=(
                "Pull the land contract register and check the contracted area",
                "Pull the declared subsidy area and the village public notice",
                "Ask the village cadres and the household where the extra area came from",
            ),
        ),
    )
    partition_by = ("disbursements", "person_id")
    requires = ("land", "disbursements")
    optional = ("subsidy_standards", "persons")

    def __init__(
        self,
        area_tolerance_mu: float = DEFAULTS.area_tolerance_mu,
        farmland_types: tuple[str, ...] = DEFAULTS.farmland_types,
        over_standard_score_base: float = DEFAULTS.over_standard_score_base,
        over_standard_full_ratio: float = DEFAULTS.over_standard_full_ratio,
    ):
        self.area_tolerance_mu = area_tolerance_mu
        self.farmland_types = farmland_types
        self.over_standard_score_base = over_standard_score_base
        self.over_standard_full_ratio = over_standard_full_ratio

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        lf, standards = standardised(
            datasets,
            ["disbursement_id", "person_id", "region_code", "period", "amount", "quantity"],
            only_flag=pl.col("unit") == "mu_year",
            extra_types=tuple(self.farmland_types),
        )
        lf = lf.filter(
            (pl.col("std_unit") == "mu_year").fill_null(False)
            | pl.col("type_code").is_in(list(self.farmland_types))
        )
        land = lazy(datasets, "land").select(
            "household_id", "person_id", pl.col("contracted_area_mu").cast(pl.Float64)
        )
        by_head = land.group_by("person_id").agg(pl.col("contracted_area_mu").sum().alias("_area_head"))
        lf = lf.join(by_head, on="person_id", how="left")
        persons = optional_frame(datasets, "persons")
        if persons is not None:
            by_household = land.group_by("household_id").agg(
                pl.col("contracted_area_mu").sum().alias("_area_hh")
            )
            hh = persons.select("person_id", "household_id").unique(subset="person_id", keep="first")
            lf = (
                lf.join(hh, on="person_id", how="left")
                .join(by_household, on="household_id", how="left")
                .with_columns(pl.coalesce("_area_head", "_area_hh").alias("area"))
            )
        else:
            lf = lf.with_columns(pl.col("_area_head").alias("area"))
        excess = pl.col("quantity") - pl.col("area")
        at_risk = (
            pl.when(pl.col("std_amount").is_not_null())
            .then(excess * pl.col("std_amount"))
            .otherwise(pl.col("amount") * excess / pl.col("quantity"))
        )
        records = (
            lf.filter(pl.col("area").is_not_null() & (pl.col("quantity") > pl.col("area") + self.area_tolerance_mu))
            .with_columns(
                excess.alias("excess_mu"),
                at_risk.clip(upper_bound=pl.col("amount")).round(2).alias("at_risk"),
                type_label_zh(standards).alias("type_zh"),
            )
            .with_columns(
                linear_score(
                    self.over_standard_score_base,
                    pl.when(pl.col("area") > 0)
                    .then(pl.col("excess_mu") / pl.col("area"))
                    .otherwise(pl.lit(float("inf"))),
                    self.over_standard_full_ratio,
                ).alias("_score")
            )
        )
        worst = pl.col("excess_mu")
        grouped = group_records(
            records,
            "person_id",
            extra=[
                pl.col("_score").max().alias("score"),
                pl.col("area").first().alias("area"),
                pl.col("quantity").sort_by([worst, "period"], descending=[True, False]).first().alias("max_qty"),
                pl.col("type_zh").unique().sort().str.join("、").alias("types_zh"),
                pl.col("type_code").unique().sort().str.join(", ").alias("types_en"),
            ],
        )
        zh = (
            pl.lit("确权面积 ") + num(pl.col("area")) + pl.lit(" 亩,") + pl.col("types_zh")
            + pl.lit(" 计发面积 ") + num(pl.col("max_qty")) + pl.lit(" 亩;所属期 ") + period_range_zh()
            + pl.lit(" 共 ") + pl.col("n_records").cast(pl.String) + pl.lit(" 笔超面积发放,多发 ")
            + money(pl.col("amount_at_risk")) + pl.lit(" 元")
        )
        en = (
            pl.lit("Contracted area ") + num(pl.col("area")) + pl.lit(" mu but ") + pl.col("types_en")
            + pl.lit(" paid on ") + num(pl.col("max_qty")) + pl.lit(" mu; ") + plural(pl.col("n_records"), "payment")
            + pl.lit(" for ") + period_range_en() + pl.lit(" above the area, excess ")
            + money(pl.col("amount_at_risk")) + pl.lit(" CNY")
        )
        details = json_details(contracted_area_mu=pl.col("area"), max_quantity_mu=pl.col("max_qty"))
        return finish(grouped, "AREA_INFLATION", "person", "person_id", pl.col("score"), zh, en, details)
