"""Subsidy features of villages and operators (polars, lazy group-bys).

Per entity (a village's 12-digit ``region_code`` or an ``operator_id``):

``recipients_per_100:<type>``
    distinct recipients of the subsidy type over the data window per 100 registered residents
    (residents counted from ``persons`` by ``region_code``; for an operator, of the villages it
    paid into). Recipients missing from ``persons`` still count: ghosts inflate the rate.
``money_per_resident``
    money paid per registered resident.
``shared_account_share``
    share of disbursements paid into an account held by someone else
    (``account_holder_id != person_id``).
``cadre_household_share``
    share of distinct recipients living in the household of a serving or former village cadre
    (``officials`` role ``village_cadre`` -> ``persons.household_id``); 0 without officials.
``recipient_growth``
    the largest month-on-month increase of distinct recipients, divided by
    ``max(previous month, growth_min_base)``; its peak month is kept for the evidence.
"""

from __future__ import annotations

import polars as pl

from ..base import Datasets, lazy
from ._features import FeatureSpec, cents

RATE_PREFIX = "recipients_per_100:"


def disbursements(datasets: Datasets) -> pl.LazyFrame:
    """Disbursements with subsidy names mapped to codes and per-row flags."""
    d = lazy(datasets, "disbursements").select(
        "disbursement_id", "subsidy_type", "person_id", "region_code", "period", "amount",
        "account_holder_id", "operator_id",
    )
    if "subsidy_standards" in datasets:
        names = (
            lazy(datasets, "subsidy_standards")
            .select("subsidy_name", pl.col("subsidy_type").alias("_code"))
            .unique(subset="subsidy_name", keep="first")
        )
        d = (
            d.join(names, left_on="subsidy_type", right_on="subsidy_name", how="left")
            .with_columns(pl.coalesce("_code", "subsidy_type").alias("subsidy_type"))
            .drop("_code")
        )
    d = d.with_columns(
        (pl.col("account_holder_id").is_not_null()
         & (pl.col("account_holder_id") != pl.col("person_id"))).alias("shared"),
    )
    if "officials" in datasets and "persons" in datasets:
        persons = lazy(datasets, "persons").select("person_id", "household_id")
        cadre_hh = (
            lazy(datasets, "officials")
            .filter(pl.col("role") == "village_cadre")
            .select("person_id")
            .join(persons, on="person_id")
            .select("household_id")
            .unique()
        )
        in_cadre_hh = (
            persons.join(cadre_hh, on="household_id", how="semi")
            .select("person_id", pl.lit(True).alias("cadre_hh"))
            .unique()
        )
        d = d.join(in_cadre_hh, on="person_id", how="left").with_columns(
            pl.col("cadre_hh").fill_null(False)
        )
    else:
        d = d.with_columns(pl.lit(False).alias("cadre_hh"))
    return d


def type_labels(datasets: Datasets, types: list[str]) -> dict[str, str]:
    """Chinese name of each subsidy type (from the standards), else the code."""
    labels = {t: t for t in types}
    if "subsidy_standards" in datasets:
        rows = (
            lazy(datasets, "subsidy_standards")
            .select("subsidy_type", "subsidy_name")
            .unique(subset="subsidy_type", keep="first")
            .collect()
        )
        for t, n in rows.iter_rows():
            if t in labels and n:
                labels[t] = n
    return labels


def residents_by_region(datasets: Datasets) -> pl.LazyFrame:
    return lazy(datasets, "persons").group_by("region_code").agg(pl.len().alias("residents"))


def entity_features(
    d: pl.LazyFrame,
    entity: str,
    residents: pl.LazyFrame,
    growth_min_base: int,
    mix_min_share: float,
    region_residents: pl.LazyFrame | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Feature frame of ``entity`` (``region_code`` or ``operator_id``) and the subsidy types.

    ``residents`` has ``entity_id, residents``. With ``region_residents`` (``region_code,
    residents``) the rate of each type is the *highest* among the villages the entity pays
    into (an operator inflating one of its villages is not diluted by the others). Returns columns ``entity_id, residents,
    n_disbursements, money, period_start, period_end, mix, county, n_regions, first_region,
    growth_peak_period`` and the features.
    """
    d = d.with_columns(pl.col(entity).alias("entity_id"))
    totals = d.group_by("entity_id").agg(
        pl.len().alias("n_disbursements"),
        (cents("amount").sum() / 100).alias("money"),  # exact, order-free (see _features.cents)
        pl.col("period").min().alias("period_start"),
        pl.col("period").max().alias("period_end"),
        pl.col("shared").mean().cast(pl.Float64()).alias("shared_account_share"),
        (
            pl.col("person_id").filter(pl.col("cadre_hh")).n_unique()
            / pl.col("person_id").n_unique()
        ).cast(pl.Float64()).alias("cadre_household_share"),
        pl.col("region_code").n_unique().alias("n_regions"),
        pl.col("region_code").min().alias("first_region"),
        # the county the entity mostly pays into (ties: the smallest code)
        pl.col("region_code").str.slice(0, 6).mode().min().alias("county"),
    )
    by_type = (
        d.group_by("entity_id", "subsidy_type")
        .agg(pl.col("person_id").n_unique().alias("recipients"), pl.len().alias("n"))
        .collect()
    )
    types = sorted(by_type["subsidy_type"].unique().to_list())
    mix = (
        by_type.with_columns((pl.col("n") / pl.col("n").sum().over("entity_id")).alias("share"))
        .filter(pl.col("share") >= mix_min_share)
        .group_by("entity_id")
        .agg(pl.col("subsidy_type").sort().str.join("+").alias("mix"))
    )
    rates = by_type.with_columns(pl.col("recipients").cast(pl.Float64()))
    if region_residents is not None:
        rates = (
            d.group_by("entity_id", "region_code", "subsidy_type")
            .agg(pl.col("person_id").n_unique().alias("n"))
            .join(region_residents, on="region_code", how="inner")
            .filter(pl.col("residents") > 0)
            .group_by("entity_id", "subsidy_type")
            .agg((pl.col("n") * 100.0 / pl.col("residents")).max().alias("recipients"))
            .collect()
        )
    wide = rates.pivot(
        on="subsidy_type", index="entity_id", values="recipients", on_columns=types
    ) if types else pl.DataFrame({"entity_id": []}, schema={"entity_id": pl.String()})
    monthly = (
        d.group_by("entity_id", "period")
        .agg(pl.col("person_id").n_unique().cast(pl.Float64()).alias("m"))  # no u32 wrap below
        .sort("entity_id", "period")
        .with_columns(pl.col("m").shift(1).over("entity_id").alias("prev"))
        .with_columns(
            ((pl.col("m") - pl.col("prev"))
             / pl.max_horizontal(pl.col("prev"), pl.lit(growth_min_base))).alias("g")
        )
        .filter(pl.col("g").is_not_null())
        .group_by("entity_id")
        .agg(
            pl.col("g").max().alias("recipient_growth"),
            pl.col("period").sort_by(["g", "period"], descending=[True, False]).first()
            .alias("growth_peak_period"),
        )
    )
    frame = (
        totals.join(residents, on="entity_id", how="left")
        .join(monthly, on="entity_id", how="left")
        .collect()
        .join(mix, on="entity_id", how="left")
        .join(wide, on="entity_id", how="left")
        .with_columns(
            pl.col("residents").fill_null(0),
            pl.col("recipient_growth").fill_null(0.0).clip(0.0, None),
            pl.col("mix").fill_null(""),
        )
    )
    res = pl.col("residents").cast(pl.Float64())
    per_100 = 1.0 if region_residents is not None else 100.0 / res
    frame = frame.with_columns(
        [(pl.col(t).fill_null(0) * per_100).alias(RATE_PREFIX + t) for t in types]
        + [(pl.col("money") / res).alias("money_per_resident")]
    ).drop(types)
    return frame, types


def feature_specs(
    types: list[str], labels: dict[str, str], highest_village: bool = False
) -> list[FeatureSpec]:
    zh, en = ("所经办村中最高的", "highest among its villages: ") if highest_village else ("", "")
    specs = [
        FeatureSpec(RATE_PREFIX + t, f"{zh}{labels[t]}受益人每百名居民",
                    f"{en}recipients of {t} per 100 residents", "rate", "人")
        for t in types
    ]
    specs += [
        FeatureSpec("money_per_resident", "人均发放金额", "money paid per resident", "money"),
        FeatureSpec("shared_account_share", "代领(发放至他人账户)比例",
                    "share paid into someone else's account", "share"),
        FeatureSpec("cadre_household_share", "村干部家庭成员受益人占比",
                    "share of recipients in village cadres' households", "share"),
        FeatureSpec("recipient_growth", "受益人数月环比最大增幅",
                    "largest month-on-month growth of recipients", "share"),
    ]
    return specs


def candidate_records(d: pl.LazyFrame, entity: str, flagged: pl.DataFrame) -> pl.DataFrame:
    """Disbursements that evidence each flagged entity's top feature.

    rate of type T -> the entity's disbursements of T; money per resident -> all of them;
    shared-account share -> those paid into someone else's account; cadre share -> those to
    cadre-household recipients; growth -> those of recipients first paid by the entity in or
    after the peak month.
    """
    f = flagged.select(
        "entity_id", "top_feature", pl.col("growth_peak_period").alias("_peak")
    ).lazy()
    top = pl.col("top_feature")
    cond = (
        pl.when(top.str.starts_with(RATE_PREFIX))
        .then(pl.col("subsidy_type") == top.str.slice(len(RATE_PREFIX)))
        .when(top == "shared_account_share").then(pl.col("shared"))
        .when(top == "cadre_household_share").then(pl.col("cadre_hh"))
        .when(top == "recipient_growth").then(pl.col("_first") >= pl.col("_peak"))
        .otherwise(pl.lit(True))
    )
    return (
        d.with_columns(pl.col(entity).alias("entity_id"))
        .join(f, on="entity_id", how="semi")
        .with_columns(pl.col("period").min().over("entity_id", "person_id").alias("_first"))
        .join(f, on="entity_id")
        .filter(cond.fill_null(False))
        .select("entity_id", pl.col("disbursement_id").alias("record_id"), "amount")
        .collect()
    )
