"""Claim-level facts for the institution and doctor models (polars, lazy group-bys).

One row per claim: ``claim_id, person_id, institution_id, doctor_id, visit_date, inpatient,
los_days, total_amount, fund_amount, n_items, drug_amount, items_amount, rule_hit, rule_money``
where ``rule_hit`` says whether a medical *rule* finding (under ``FINDINGS_KEY``) cites the
claim and ``rule_money`` is the money those rules put in doubt on it (the largest of their
``record_amounts``), 0 when none: a claim cited for a 30-yuan overcharge is not 300 yuan in
doubt, so the rule-share feature's money is the rules' money, never the claims' whole fund
amount.
"""

from __future__ import annotations

import polars as pl

from ..base import FINDINGS_KEY, Datasets, lazy
from ..registry import detector_classes
from ._features import cents


def has_rule_findings(datasets: Datasets) -> bool:
    return FINDINGS_KEY in datasets


def claim_facts(datasets: Datasets) -> pl.LazyFrame:
    claims = lazy(datasets, "claims").select(
        "claim_id", "person_id", "institution_id", "doctor_id", "visit_type", "visit_date",
        "discharge_date", "total_amount", "fund_amount",
    )
    if "claim_items" in datasets:
        items = (
            lazy(datasets, "claim_items")
            .group_by("claim_id")
            .agg(
                pl.len().alias("n_items"),
                cents("amount").filter(pl.col("category") == "drug").sum().alias("drug_cents"),
                cents("amount").sum().alias("items_cents"),
            )
        )
        claims = claims.join(items, on="claim_id", how="left")
    else:
        claims = claims.with_columns(
            pl.lit(None, pl.UInt32()).alias("n_items"),
            pl.lit(None, pl.Int64()).alias("drug_cents"),
            pl.lit(None, pl.Int64()).alias("items_cents"),
        )
    inpatient = pl.col("visit_type") == "inpatient"
    claims = claims.with_columns(
        inpatient.alias("inpatient"),
        pl.when(inpatient)
        .then((pl.col("discharge_date") - pl.col("visit_date")).dt.total_days())
        .cast(pl.Float64())
        .alias("los_days"),
        pl.col("n_items").fill_null(0).cast(pl.Float64()),
        pl.col("drug_cents").fill_null(0),
        pl.col("items_cents").fill_null(0),
        (pl.col("drug_cents").fill_null(0) / 100).alias("drug_amount"),
        cents("total_amount").alias("total_cents"),
        cents("fund_amount").alias("fund_cents"),
    )
    if has_rule_findings(datasets):
        rule_codes = [c for cls in detector_classes() if cls.kind == "rule" and cls.domain == "medical"
                      for c in cls.codes]
        cited = lazy(datasets, FINDINGS_KEY).filter(pl.col("rule_code").is_in(rule_codes))
        parallel = pl.col("record_ids").list.len() == pl.col("record_amounts").list.len()
        hit = (
            cited.select(
                "record_ids",
                pl.when(parallel).then(pl.col("record_amounts"))
                .otherwise(pl.col("record_ids").list.eval(pl.lit(0.0))).alias("record_amounts"),
            )
            .explode(["record_ids", "record_amounts"])
            .drop_nulls("record_ids")
            .group_by(pl.col("record_ids").alias("claim_id"))
            .agg(pl.col("record_amounts").fill_null(0.0).max().alias("rule_money"))
            .with_columns(pl.lit(True).alias("rule_hit"))
        )
        claims = claims.join(hit, on="claim_id", how="left")
    else:
        claims = claims.with_columns(pl.lit(None, pl.Boolean()).alias("rule_hit"), pl.lit(None, pl.Float64()).alias("rule_money"))
    return claims.with_columns(pl.col("rule_hit").fill_null(False), pl.col("rule_money").fill_null(0.0))


def institution_peers(datasets: Datasets) -> pl.LazyFrame:
    """``institution_id, inst_region, kind_level`` (e.g. ``hospital-3``) and ``care_level``.

    ``care_level`` is the level alone for the institutions that treat patients (hospitals and
    clinics: a township health centre is a level-1 institution like a level-1 hospital), null
    for pharmacies, whose "visits" are purchases.
    """
    level = pl.col("level").cast(pl.String())
    return lazy(datasets, "institutions").select(
        "institution_id",
        pl.col("region_code").alias("inst_region"),
        (pl.col("kind") + "-" + level).alias("kind_level"),
        pl.when(pl.col("kind") != "pharmacy").then("level-" + level).alias("care_level"),
    )


def candidate_records(
    facts: pl.LazyFrame, entity: str, flagged: pl.DataFrame, feature_filters: dict[str, pl.Expr],
    feature_amounts: dict[str, pl.Expr] | None = None,
) -> pl.DataFrame:
    """Claims that evidence each flagged entity's top feature, with their money: the fund
    amount, or ``feature_amounts[feature]`` where given (the rules' money for the rule share)."""
    f = flagged.select("entity_id", "top_feature").lazy()
    top = pl.col("top_feature")
    cond = pl.lit(True)
    chain = None
    for name, expr in feature_filters.items():
        chain = (pl.when(top == name).then(expr) if chain is None
                 else chain.when(top == name).then(expr))
    if chain is not None:
        cond = chain.otherwise(pl.lit(True))
    amount = pl.col("fund_amount")
    for name, expr in (feature_amounts or {}).items():
        amount = pl.when(top == name).then(expr).otherwise(amount)
    return (
        facts.with_columns(pl.col(entity).alias("entity_id"))
        .join(f, on="entity_id")
        .filter(cond.fill_null(False))
        .select("entity_id", pl.col("claim_id").alias("record_id"), amount.alias("amount"))
        .collect()
    )
