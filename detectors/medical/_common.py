"""Helpers shared by the medical detectors: lazy inputs, money text, scores, the findings shape.

Everything here returns polars expressions or LazyFrames so that the detectors stay lazy and
vectorised; nothing loops over claims in Python.
"""

from __future__ import annotations

import polars as pl

from fundwatch.textfmt import age_on, money, num, tidy_en, tidy_zh  # noqa: F401 - shared with subsidy and leads

from fundwatch.idnumber import birth_date_of, gender_of
from fundwatch.settings.medical import MedicalSettings

from fundwatch.settings import DEFAULT_SETTINGS

from ..base import Datasets, Detector, lazy, lazy_rows

DOMAIN = "medical"


# -- inputs -----------------------------------------------------------------------------------
def institution_regions(datasets: Datasets) -> pl.LazyFrame:
    """``institution_id, inst_region, inst_name, inst_kind`` (empty when institutions are absent)."""
    if "institutions" not in datasets:
        return pl.LazyFrame(
            schema={"institution_id": pl.String, "inst_region": pl.String,
                    "inst_name": pl.String, "inst_kind": pl.String}
        )
    return (
        lazy(datasets, "institutions")
        .select(
            "institution_id",
            pl.col("region_code").alias("inst_region"),
            pl.col("name").alias("inst_name"),
            pl.col("kind").alias("inst_kind"),
        )
        .unique("institution_id", keep="first")
    )


def person_profile(datasets: Datasets, person_ids: pl.LazyFrame) -> pl.LazyFrame:
    """``person_id, p_gender, p_birth`` for ``person_ids``: from persons, else from the number.

    The identity number's 17th digit (odd = male) and digits 7-14 stand in where the person
    is not in the roster or the roster leaves the field empty.
    """
    base = person_ids.select("person_id").unique()
    if "persons" in datasets:
        roster = (
            lazy(datasets, "persons")
            .select("person_id", pl.col("gender").alias("r_gender"), pl.col("birth_date").alias("r_birth"))
            .unique("person_id", keep="first")
        )
        base = base.join(roster, on="person_id", how="left")
    else:
        base = base.with_columns(r_gender=pl.lit(None, pl.String), r_birth=pl.lit(None, pl.Date))
    return base.select(
        "person_id",
        pl.coalesce(pl.col("r_gender"), gender_of(pl.col("person_id"))).alias("p_gender"),
        pl.coalesce(pl.col("r_birth"), birth_date_of(pl.col("person_id"))).alias("p_birth"),
    )


def fund_share() -> pl.Expr:
    """Share of a claim's total paid by the fund (0..1; 1 where the total is 0)."""
    return (
        pl.when(pl.col("total_amount") > 0)
        .then(pl.col("fund_amount") / pl.col("total_amount"))
        .otherwise(1.0)
        .clip(0.0, 1.0)
    )




# -- text -------------------------------------------------------------------------------------




def ymd(expr: pl.Expr) -> pl.Expr:
    return expr.dt.strftime("%Y-%m-%d")


def ym(expr: pl.Expr) -> pl.Expr:
    return expr.dt.strftime("%Y-%m")


# -- scores -----------------------------------------------------------------------------------
def ramp_score(x: pl.Expr, fire: float, full: float, s: MedicalSettings) -> pl.Expr:
    """``floor + (1 - floor) * clip((x - fire) / (full - fire), 0, 1)`` (see settings docs)."""
    span = max(float(full) - float(fire), 1e-9)
    ramp = ((x.cast(pl.Float64) - fire) / span).clip(0.0, 1.0)
    return (s.score_floor + (1.0 - s.score_floor) * ramp).clip(0.0, 1.0)


# -- per-claim evidence -> findings ------------------------------------------------------------
def claims_to_findings(
    per_claim: pl.LazyFrame,
    entity_type: str,
    entity: str | list[str],
    extra_aggs: list[pl.Expr] | tuple = (),
) -> pl.LazyFrame:
    """Group per-claim rows into one row per finding.

    ``per_claim`` has one row per (finding key, claim) with ``claim_id``, ``at_risk`` (fund
    money at risk on that claim for this finding, already summed over the claim's lines so
    nothing is counted twice), ``visit_date`` and ``inst_region``. ``entity`` names the key
    column(s); the first is the entity id. Returns the key columns, ``entity_type``,
    ``entity_id``, ``record_ids``, ``record_amounts``, ``period_start``, ``period_end``,
    ``region_code``, ``n_claims``, ``total_at_risk`` and ``extra_aggs``.
    """
    keys = [entity] if isinstance(entity, str) else list(entity)
    return (
        per_claim.sort(keys + ["claim_id"])
        .group_by(keys, maintain_order=True)
        .agg(
            pl.col("claim_id").alias("record_ids"),
            pl.col("at_risk").round(2).alias("record_amounts"),
            ym(pl.col("visit_date").min()).alias("period_start"),
            ym(pl.col("visit_date").max()).alias("period_end"),
            # the region of the institution with the most evidence claims (ties: lowest code)
            pl.col("inst_region").drop_nulls().mode().sort().first().alias("region_code"),
            pl.len().alias("n_claims"),
            pl.col("at_risk").sum().alias("total_at_risk"),
            *extra_aggs,
        )
        .with_columns(
            pl.lit(entity_type).alias("entity_type"),
            pl.col(keys[0]).cast(pl.String).alias("entity_id"),
        )
    )


def finish(frame: pl.LazyFrame, rule_code: str, score: pl.Expr,
           evidence_zh: pl.Expr, evidence_en: pl.Expr, details: pl.Expr) -> pl.LazyFrame:
    """Add code, domain, score, evidence and details to grouped findings."""
    return frame.with_columns(score.alias("score")).with_columns(
        pl.lit(rule_code).alias("rule_code"),
        pl.lit(DOMAIN).alias("domain"),
        # one place tidies every rule's sentences (spaces, one-day ranges, "1.0")
        tidy_zh(evidence_zh).alias("evidence_zh"),
        tidy_en(evidence_en).alias("evidence_en"),
        details.alias("details"),
    )


def json_details(**fields: pl.Expr) -> pl.Expr:
    """A JSON object text from named expressions (values of any polars type)."""
    return pl.struct(**fields).struct.json_encode()


class MedicalDetector(Detector):
    """Base of the medical detectors: domain ``medical`` and settings rebuilt from params."""

    domain = "medical"
    settings_sections = ("medical",)

    def _settings(self) -> MedicalSettings:
        """This detector's parameters laid over the default medical settings."""
        return DEFAULT_SETTINGS.medical.model_copy(update=self.get_params())


def claim_header(datasets: Datasets, only: pl.Series | None = None) -> pl.LazyFrame:
    """The claim columns item-level rules need, with the institution's region and name.

    ``only``: restrict to these claim ids first (a hash-set filter on the claims), so that
    the few flagged lines never make polars join the region onto every claim of the city.
    """
    if only is None:
        claims = lazy(datasets, "claims")
    else:
        claims = lazy_rows(datasets, "claims", pl.col("claim_id").is_in(only.unique().implode()))
    return (
        claims.select("claim_id", "person_id", "institution_id", "visit_type", "visit_date",
                      "total_amount", "fund_amount")
        .join(institution_regions(datasets), on="institution_id", how="left")
    )


def with_claims(datasets: Datasets, lines: pl.LazyFrame) -> pl.LazyFrame:
    """Collect the (few) flagged ``lines`` and join their claim headers."""
    small = lines.collect()
    return small.lazy().join(claim_header(datasets, small["claim_id"]), on="claim_id", how="inner")


def flagged_items(datasets: Datasets, catalog_filter: pl.Expr, catalog_cols: list[str]) -> pl.LazyFrame:
    """Claim lines whose item is in the catalogue rows selected by ``catalog_filter``.

    The catalogue is small, so it is filtered first and the 30M-line item table is only
    semi-joined against the few limited items before anything else is joined.
    Returns the item columns, ``catalog_cols`` (prefixed ``cat_``) and the claim header.
    """
    cat = (
        lazy(datasets, "item_catalog")
        .filter(catalog_filter)
        .select("item_code", pl.col("item_name").alias("cat_item_name"),
                *[pl.col(c).alias(f"cat_{c}") for c in catalog_cols])
        .unique("item_code", keep="first")
    )
    items = (
        lazy(datasets, "claim_items")
        .select("claim_id", "line_no", "item_code", "item_name", "category", "quantity",
                "unit_price", "amount", "service_date")
        .join(cat, on="item_code", how="inner")
        # the catalogue's name is the official one; the line's name stands in where it is empty
        .with_columns(item_name=pl.coalesce("cat_item_name", "item_name"))
        .drop("cat_item_name")
    )
    return with_claims(datasets, items)


def per_claim_at_risk(lines: pl.LazyFrame, keys: list[str], line_risk: pl.Expr,
                      extra: list[pl.Expr] | tuple = ()) -> pl.LazyFrame:
    """Sum line-level money at risk per (finding key, claim), scaled to the fund's share.

    ``line_risk`` is the item money in doubt on a line; the claim's fund money at risk is its
    sum times ``fund_amount / total_amount``, never more than ``fund_amount``.
    """
    return (
        lines.with_columns(_line_risk=line_risk, _share=fund_share())
        .group_by(keys + ["claim_id"])
        .agg(
            (pl.col("_line_risk").sum() * pl.col("_share").first())
            .clip(upper_bound=pl.col("fund_amount").first().clip(lower_bound=0.0))
            .alias("at_risk"),
            pl.col("_line_risk").sum().alias("item_amount"),
            pl.col("visit_date").first(),
            pl.col("inst_region").first(),
            pl.col("inst_name").first(),
            pl.col("fund_amount").first(),
            pl.len().alias("n_lines"),
            *extra,
        )
    )


# -- treatment courses and admissions (shared by the in-patient and frequency rules) ----------
def course_item_codes(datasets: Datasets) -> pl.Series:
    """Item codes the catalogue limits per window (``window_days`` with ``max_qty_per_window``):
    treatment-course items such as 血液透析 or 康复理疗. Empty without those (v2) columns."""
    from ..base import has_column

    if not (has_column(datasets, "item_catalog", "window_days")
            and has_column(datasets, "item_catalog", "max_qty_per_window")):
        return pl.Series("item_code", [], dtype=pl.String)
    return (
        lazy(datasets, "item_catalog")
        .filter(pl.col("window_days").is_not_null() & pl.col("max_qty_per_window").is_not_null())
        .select("item_code").unique().collect().to_series().sort()
    )


def held_values(datasets: Datasets, dataset: str, column: str, values: pl.Series) -> pl.Series:
    """``values`` in the dtype ``column`` is held in (it may be ``Categorical`` after
    compaction), so that a filter on the whole dataset compares without casting every row."""
    from ..base import lazy_held

    return values.cast(lazy_held(datasets, dataset).collect_schema()[column])


def course_claim_ids(datasets: Datasets) -> pl.LazyFrame:
    """``claim_id`` of the claims that bill a treatment-course item (empty frame when the
    catalogue declares none or the item lines are absent)."""
    codes = course_item_codes(datasets)
    if codes.is_empty() or "claim_items" not in datasets:
        return pl.LazyFrame(schema={"claim_id": pl.String})
    # the predicate runs on the items as held (item_code may be Categorical)
    held = held_values(datasets, "claim_items", "item_code", codes)
    return (
        lazy_rows(datasets, "claim_items", pl.col("item_code").is_in(held.implode()))
        .select("claim_id").unique()
    )


def admission_key() -> pl.Expr:
    """One in-patient stay: the claims sharing an ``admission_id`` (interim settlements 中途结算)
    are one admission; a claim without one is its own. Prefixed so the two never collide."""
    return pl.when(pl.col("admission_id").is_not_null() & (pl.col("admission_id").str.strip_chars() != "")) \
        .then(pl.lit("A:") + pl.col("admission_id")).otherwise(pl.lit("C:") + pl.col("claim_id"))
