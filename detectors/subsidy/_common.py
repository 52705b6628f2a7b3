"""Shared helpers of the one-card subsidy rules: standards lookup, periods, evidence text.

Everything here returns polars expressions or LazyFrames so that the rules stay lazy and
vectorised. The standards table is small (tens to hundreds of rows) and is collected
eagerly; the disbursements (millions of rows) never are.

Standard lookup
---------------
A disbursement's *applicable standard* is the ``subsidy_standards`` row with

* ``subsidy_type`` equal to the disbursement's type code — a disbursement may carry the
  ``subsidy_name`` instead of the code; names are resolved to codes first (a value that is a
  code stays a code);
* ``region_prefix`` a prefix of the disbursement's ``region_code`` (``*`` matches every
  region), the longest such prefix winning;
* ``valid_from <= period <= valid_to`` (an empty ``valid_to`` is open-ended); if two rows of
  the same prefix are both valid the later ``valid_from`` wins.

It is found with equi-joins only: the standards valid in each distinct period are reduced to
the best row per ``(type, prefix, period)``; the disbursements are then left-joined once per
prefix length occurring in the table (longest first, ``region_code[:length]`` as key) and the
longest hit wins. No join ever multiplies disbursement rows.
"""

from __future__ import annotations

import polars as pl

from fundwatch.textfmt import age_on, money, num, tidy_en, tidy_zh  # noqa: F401 - shared with medical and leads

from fundwatch.settings import DEFAULT_SETTINGS
from fundwatch.settings.subsidy import SubsidySettings

from ..base import Datasets, Detector, lazy, optional_column

#: Defaults of every subsidy rule's keyword arguments.
DEFAULTS: SubsidySettings = DEFAULT_SETTINGS.subsidy

#: Columns of the resolved applicable standard added by :func:`attach_standard`.
STANDARD_COLUMNS = {
    "std_amount": pl.Float64(),
    "std_unit": pl.String(),
    "std_min_age": pl.Int64(),
    "std_max_age": pl.Int64(),
    "std_excludes_officials": pl.Boolean(),
    "std_excludes_asset_owners": pl.Boolean(),
    "std_region_prefix": pl.String(),
    "std_valid_from": pl.String(),
    "std_means_test": pl.Boolean(),
    "std_exclusive_group": pl.String(),
    "std_pay_within_days": pl.Int64(),
}

#: The contract's payment types (v2 ``payment_type``; empty or absent = ``regular``).
REGULAR, BACK_PAY, TOP_UP, RETURNED = "regular", "back_pay", "top_up", "returned"
#: Units paid once a year: their payments are keyed by year, not by month.
ANNUAL_UNITS = ("person_year", "mu_year")

UNIT_ZH = {"person_month": "人月", "person_year": "人年", "mu_year": "亩年"}
ROLE_ZH = {"civil_servant": "公务员", "public_institution": "事业单位", "village_cadre": "村(社区)干部"}
ROLE_EN = {"civil_servant": "civil servant", "public_institution": "public-institution staff",
           "village_cadre": "village cadre"}
ASSET_ZH = {"vehicle": "车辆", "business": "工商登记", "property": "房产"}
ASSET_EN = {"vehicle": "vehicle", "business": "business", "property": "property"}


class SubsidyRule(Detector):
    """Base of the one-card subsidy rules: domain ``subsidy``, kind ``rule``.

    Subclasses declare their settings as keyword arguments of ``__init__`` named exactly as
    the fields of :class:`fundwatch.settings.subsidy.SubsidySettings`, so that
    :meth:`~fundwatch.detectors.base.Detector.from_settings` can configure them.
    """

    domain = "subsidy"
    kind = "rule"
    settings_sections = ("subsidy",)

    def _fit(self, datasets: Datasets) -> None:
        # Rules learn nothing from the data beyond the record count set by Detector.fit;
        # standards are resolved at detect time against the datasets being examined.
        return None


# -- datasets ------------------------------------------------------------------------------
def disbursements(datasets: Datasets, columns: list[str]) -> pl.LazyFrame:
    """The disbursements restricted to ``columns``; ``quantity`` defaults to 1 when empty or
    absent, ``payment_type`` to ``regular`` (the contract: empty = regular; a v1 input has
    only regular payments) and ``proxy_id`` to null when absent."""
    lf = lazy(datasets, "disbursements")
    names = lf.collect_schema().names()
    exprs = []
    for c in columns:
        if c == "quantity":
            q = pl.col("quantity").cast(pl.Float64) if "quantity" in names else pl.lit(None, pl.Float64)
            exprs.append(q.fill_null(1.0).alias("quantity"))
        elif c == "payment_type":
            t = pl.col("payment_type").cast(pl.String) if "payment_type" in names else pl.lit(None, pl.String)
            exprs.append(t.fill_null(REGULAR).alias("payment_type"))
        elif c == "proxy_id" and "proxy_id" not in names:
            exprs.append(pl.lit(None, pl.String).alias("proxy_id"))
        else:
            exprs.append(pl.col(c))
    return lf.select(exprs)


def optional_frame(datasets: Datasets, name: str) -> pl.LazyFrame | None:
    """Dataset ``name`` as a LazyFrame, or None when absent."""
    return lazy(datasets, name) if name in datasets else None


def standards_frame(datasets: Datasets) -> pl.DataFrame:
    """The standards table, collected, with the column types the lookup relies on."""
    if "subsidy_standards" not in datasets:
        return pl.DataFrame(
            schema={
                "subsidy_type": pl.String(), "subsidy_name": pl.String(), "region_prefix": pl.String(),
                "valid_from": pl.String(), "valid_to": pl.String(), "unit": pl.String(),
                "amount": pl.Float64(), "min_age": pl.Int64(), "max_age": pl.Int64(),
                "excludes_officials": pl.Boolean(), "excludes_asset_owners": pl.Boolean(),
                "means_test": pl.Boolean(), "exclusive_group": pl.String(), "pay_within_days": pl.Int64(),
            }
        )
    lf = lazy(datasets, "subsidy_standards")
    names = lf.collect_schema().names()

    def v2(col: str, dtype: pl.DataType) -> pl.Expr:
        # a v2 column absent from the input reads as "not stated" (null) for every standard
        return (pl.col(col).cast(dtype) if col in names else pl.lit(None, dtype)).alias(col)

    return lf.select(
        pl.col("subsidy_type").cast(pl.String).str.strip_chars(),
        pl.col("subsidy_name").cast(pl.String).str.strip_chars(),
        pl.col("region_prefix").cast(pl.String).str.strip_chars(),
        pl.col("valid_from").cast(pl.String),
        pl.col("valid_to").cast(pl.String),
        pl.col("unit").cast(pl.String),
        pl.col("amount").cast(pl.Float64),
        pl.col("min_age").cast(pl.Int64, strict=False),
        pl.col("max_age").cast(pl.Int64, strict=False),
        pl.col("excludes_officials").cast(pl.Boolean).fill_null(False),
        pl.col("excludes_asset_owners").cast(pl.Boolean).fill_null(False),
        v2("means_test", pl.Boolean()),
        pl.when(v2("exclusive_group", pl.String()).str.strip_chars() != "")
        .then(v2("exclusive_group", pl.String()).str.strip_chars())
        .alias("exclusive_group"),
        v2("pay_within_days", pl.Int64()),
    ).collect()


def name_to_code(standards: pl.DataFrame) -> dict[str, str]:
    """``subsidy_name -> subsidy_type`` for names that are not themselves codes."""
    codes = set(standards["subsidy_type"].drop_nulls().to_list())
    pairs = (
        standards.select("subsidy_name", "subsidy_type")
        .drop_nulls()
        .unique()
        .sort("subsidy_name", "subsidy_type")
        .unique(subset="subsidy_name", keep="first", maintain_order=True)
    )
    return {n: c for n, c in pairs.iter_rows() if n not in codes}


def code_to_name(standards: pl.DataFrame) -> dict[str, str]:
    """``subsidy_type -> subsidy_name`` (the first name in sorted order when several)."""
    pairs = (
        standards.select("subsidy_type", "subsidy_name")
        .drop_nulls()
        .unique()
        .sort("subsidy_type", "subsidy_name")
        .unique(subset="subsidy_type", keep="first", maintain_order=True)
    )
    return dict(pairs.iter_rows())


def resolve_type(lf: pl.LazyFrame, standards: pl.DataFrame) -> pl.LazyFrame:
    """Add ``type_code``: the disbursement's ``subsidy_type`` with names resolved to codes."""
    mapping = name_to_code(standards)
    t = pl.col("subsidy_type").cast(pl.String).str.strip_chars()
    expr = t.replace(mapping) if mapping else t
    return lf.with_columns(expr.alias("type_code"))


def type_label_zh(standards: pl.DataFrame, col: str = "type_code") -> pl.Expr:
    """The Chinese name of a type code (the code itself when the table does not name it)."""
    mapping = code_to_name(standards)
    return pl.col(col).replace(mapping) if mapping else pl.col(col)


def attach_standard(lf: pl.LazyFrame, standards: pl.DataFrame) -> pl.LazyFrame:
    """Add the applicable standard's columns (:data:`STANDARD_COLUMNS`) to ``lf``.

    ``lf`` needs ``type_code``, ``region_code`` and ``period``. Rows without an applicable
    standard get nulls. See the module docstring for the lookup rule.

    For speed on millions of rows the lookup is a cascade of equi-joins, one per prefix length
    occurring in the (small) standards table, each adding only a row number of the winning
    standard; the standard's columns are then joined once on that integer.
    """
    if standards.height == 0:
        return lf.with_columns([pl.lit(None, dtype).alias(c) for c, dtype in STANDARD_COLUMNS.items()])
    std = standards.with_row_index("_std_row").with_columns(
        pl.when(pl.col("region_prefix").is_in(["*", ""]) | pl.col("region_prefix").is_null())
        .then(pl.lit(""))
        .otherwise(pl.col("region_prefix"))
        .alias("_prefix")
    ).with_columns(pl.col("_prefix").str.len_chars().alias("_plen"))
    periods = lf.select(pl.col("period").unique()).collect()
    valid = (
        std.join(periods, how="cross")  # both sides small: standards x distinct periods
        .filter(
            (pl.col("valid_from") <= pl.col("period"))
            & (pl.col("valid_to").is_null() | (pl.col("period") <= pl.col("valid_to")))
        )
        .sort(["valid_from", "_std_row"], descending=[True, False])
        .group_by(["subsidy_type", "_prefix", "period"], maintain_order=True)
        .agg(pl.col("_std_row").first(), pl.col("_plen").first())
    )
    lengths = sorted(set(valid["_plen"].to_list()), reverse=True)
    region = pl.col("region_code").cast(pl.String)
    hits: list[str] = []
    for n in lengths:
        table = valid.filter(pl.col("_plen") == n).select(
            pl.col("subsidy_type").alias("type_code"),
            pl.col("_prefix").alias(f"_p{n}"),
            "period",
            pl.col("_std_row").alias(f"_hit{n}"),
        )
        if n == 0:
            lf = lf.join(table.drop(f"_p{n}").lazy(), on=["type_code", "period"], how="left")
        else:
            lf = (
                lf.with_columns(region.str.slice(0, n).alias(f"_p{n}"))
                .join(table.lazy(), on=["type_code", f"_p{n}", "period"], how="left")
                .drop(f"_p{n}")
            )
        hits.append(f"_hit{n}")
    columns = std.select(
        pl.col("_std_row"),
        pl.col("amount").alias("std_amount"),
        pl.col("unit").alias("std_unit"),
        pl.col("min_age").alias("std_min_age"),
        pl.col("max_age").alias("std_max_age"),
        pl.col("excludes_officials").alias("std_excludes_officials"),
        pl.col("excludes_asset_owners").alias("std_excludes_asset_owners"),
        pl.col("region_prefix").alias("std_region_prefix"),
        pl.col("valid_from").alias("std_valid_from"),
        pl.col("means_test").alias("std_means_test"),
        pl.col("exclusive_group").alias("std_exclusive_group"),
        pl.col("pay_within_days").alias("std_pay_within_days"),
    )
    if not hits:
        return lf.with_columns([pl.lit(None, dtype).alias(c) for c, dtype in STANDARD_COLUMNS.items()])
    return (
        lf.with_columns(pl.coalesce(hits).alias("_std_row"))
        .drop(hits)
        .join(columns.lazy(), on="_std_row", how="left")
        .drop("_std_row")
    )


def standardised(
    datasets: Datasets,
    columns: list[str],
    only_flag: str | pl.Expr | None = None,
    extra_types: tuple[str, ...] = (),
    per_month: bool = False,
) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Disbursements (``columns`` plus ``type_code`` and the applicable standard) and the standards.

    With ``only_flag`` (a boolean standards column such as ``"excludes_officials"``, or
    ``"age"`` for rows with an age limit), only payments of types that have at least one
    such standard row are kept before the lookup: the rule could not fire on the others.
    ``only_flag`` may also be a boolean expression over the standards' columns; type codes in
    ``extra_types`` are kept as well.

    With ``per_month`` (``columns`` must include ``payment_type``, ``quantity`` and
    ``amount``), a back-pay of a monthly type becomes one row per month it covers
    (:func:`expand_back_pay`), each with that month's standard: a back-pay over a standard
    rise is judged month by month.
    """
    standards = standards_frame(datasets)
    needed = list(dict.fromkeys([*columns, "subsidy_type", "region_code", "period"]))
    lf = resolve_type(disbursements(datasets, needed), standards)
    if only_flag is not None:
        if isinstance(only_flag, pl.Expr):
            mask = only_flag
        elif only_flag == "age":
            mask = pl.col("min_age").is_not_null() | pl.col("max_age").is_not_null()
        else:
            mask = pl.col(only_flag)
        types = sorted(set(standards.filter(mask)["subsidy_type"].to_list()) | set(extra_types))
        lf = lf.filter(pl.col("type_code").is_in(types))
    if per_month:
        monthly = sorted(set(standards.filter(pl.col("unit") == "person_month")["subsidy_type"].to_list()))
        is_monthly_back = (pl.col("payment_type") == BACK_PAY) & pl.col("type_code").is_in(monthly)
        names = lf.collect_schema().names()
        expanded = expand_back_pay(lf.filter(is_monthly_back))
        lf = pl.concat(
            [lf.filter(~is_monthly_back).with_columns(pl.lit(0, pl.Int64).alias("month_no")),
             expanded.select([*names, "month_no"])],
            how="vertical",
        )
    return attach_standard(lf, standards), standards


# -- periods and dates ----------------------------------------------------------------------
def period_first_day(expr: pl.Expr) -> pl.Expr:
    """First day of a ``YYYY-MM`` period as a date (null when malformed)."""
    return (expr.cast(pl.String) + pl.lit("-01")).str.to_date("%Y-%m-%d", strict=False)


def period_last_day(expr: pl.Expr) -> pl.Expr:
    """Last day of a ``YYYY-MM`` period as a date."""
    return period_first_day(expr).dt.month_end()


def period_plus(expr: pl.Expr, months: pl.Expr) -> pl.Expr:
    """The ``YYYY-MM`` period ``months`` after ``expr``."""
    return period_first_day(expr).dt.offset_by(months.cast(pl.String) + "mo").dt.strftime("%Y-%m")


def months_covered(quantity: pl.Expr) -> pl.Expr:
    """Whole months a back-pay of ``quantity`` person-months covers (a fraction counts as a
    month: a pro-rata part of a month is still that month), at least one."""
    return quantity.ceil().cast(pl.Int64).clip(1, None)


def expand_back_pay(lf: pl.LazyFrame) -> pl.LazyFrame:
    """One row per month a ``back_pay`` row covers, other rows unchanged.

    ``lf`` needs ``period``, ``quantity``, ``amount`` and ``payment_type``. A back-pay's
    ``period`` is the first month covered and ``quantity`` the months (the contract); each
    month row gets ``period`` = that month, ``quantity`` its share (1, the last one the
    fraction left) and ``amount`` pro rata. ``month_no`` numbers the months (0 for other rows).
    Back-pay rows are few, so the explode costs nothing on ordinary payments.
    """
    is_back = pl.col("payment_type") == BACK_PAY
    back = (
        lf.filter(is_back)
        .with_columns(pl.int_ranges(0, months_covered(pl.col("quantity"))).alias("month_no"))
        .explode("month_no")
        .with_columns(
            (pl.col("quantity") - pl.col("month_no")).clip(0.0, 1.0).alias("_share"),
        )
        .with_columns(
            period_plus(pl.col("period"), pl.col("month_no")).alias("period"),
            (pl.col("amount") * pl.col("_share") / pl.col("quantity")).alias("amount"),
            pl.col("_share").alias("quantity"),
        )
        .drop("_share")
    )
    other = lf.filter(~is_back).with_columns(pl.lit(0, pl.Int64).alias("month_no"))
    return pl.concat([other, back.select(other.collect_schema().names())], how="vertical")




# -- evidence text -------------------------------------------------------------------------------




def period_range_zh(start: str = "period_start", end: str = "period_end") -> pl.Expr:
    """``2025-03`` or ``2025-03 至 2025-06``."""
    return (
        pl.when(pl.col(start) == pl.col(end))
        .then(pl.col(start))
        .otherwise(pl.col(start) + pl.lit(" 至 ") + pl.col(end))
    )


def period_range_en(start: str = "period_start", end: str = "period_end") -> pl.Expr:
    """``2025-03`` or ``2025-03 to 2025-06``."""
    return (
        pl.when(pl.col(start) == pl.col(end))
        .then(pl.col(start))
        .otherwise(pl.col(start) + pl.lit(" to ") + pl.col(end))
    )


def plural(n: pl.Expr, word: str) -> pl.Expr:
    """``1 payment`` / ``3 payments``."""
    return n.cast(pl.String) + pl.when(n == 1).then(pl.lit(f" {word}")).otherwise(pl.lit(f" {word}s"))


def common_region(col: str = "region_code") -> pl.Expr:
    """Aggregation: the region code shared by all rows, else their common township or county."""
    c = pl.col(col).cast(pl.String)
    return (
        pl.when(c.n_unique() == 1)
        .then(c.first())
        .when(c.str.slice(0, 9).n_unique() == 1)
        .then(c.first().str.slice(0, 9))
        .when(c.str.slice(0, 6).n_unique() == 1)
        .then(c.first().str.slice(0, 6))
        .otherwise(pl.lit(""))
    )


def linear_score(base: float, x: pl.Expr, full: float) -> pl.Expr:
    """``base`` at ``x = 0`` rising linearly to 1.0 at ``x = full``, clipped to ``[0, 1]``."""
    return (pl.lit(base) + (1.0 - base) * x / full).clip(0.0, 1.0)


def group_records(
    records: pl.LazyFrame,
    entity: str,
    at_risk: str = "at_risk",
    extra: list[pl.Expr] | None = None,
) -> pl.LazyFrame:
    """One row per entity: its records (sorted by period, id), parallel amounts and spans.

    ``records`` needs ``entity``, ``disbursement_id``, ``period``, ``region_code`` and ``at_risk``.
    Adds ``record_ids``, ``record_amounts``, ``amount_at_risk``, ``n_records``, ``period_start``,
    ``period_end``, ``region_code`` and the ``extra`` aggregations.
    """
    order = [pl.col("period"), pl.col("disbursement_id")]
    return records.group_by(entity).agg(
        pl.col("disbursement_id").sort_by(order).alias("record_ids"),
        pl.col(at_risk).sort_by(order).alias("record_amounts"),
        pl.col(at_risk).sum().alias("amount_at_risk"),
        pl.len().alias("n_records"),
        pl.col("period").min().alias("period_start"),
        pl.col("period").max().alias("period_end"),
        common_region("region_code").alias("region_code"),
        *(extra or []),
    )


def finish(
    grouped: pl.LazyFrame,
    rule_code: str,
    entity_type: str,
    entity: str,
    score: pl.Expr,
    evidence_zh: pl.Expr,
    evidence_en: pl.Expr,
    details: pl.Expr | None,
) -> pl.LazyFrame:
    """The grouped findings in the findings columns (``conform_findings`` casts and sorts them)."""
    return grouped.select(
        pl.lit(rule_code).alias("rule_code"),
        pl.lit("subsidy").alias("domain"),
        pl.lit(entity_type).alias("entity_type"),
        pl.col(entity).cast(pl.String).alias("entity_id"),
        "record_ids",
        "record_amounts",
        pl.col("amount_at_risk").round(2),
        score.cast(pl.Float64).clip(0.0, 1.0).alias("score"),
        "period_start",
        "period_end",
        pl.col("region_code").fill_null(""),
        # one place tidies every rule's sentences (spaces, one-day ranges, "1.0")
        tidy_zh(evidence_zh).alias("evidence_zh"),
        tidy_en(evidence_en).alias("evidence_en"),
        (details if details is not None else pl.lit("{}")).alias("details"),
    )


def json_details(**fields: pl.Expr) -> pl.Expr:
    """A JSON object text of the given expressions."""
    return pl.struct(**fields).struct.json_encode()


# -- rosters: assets and officials --------------------------------------------------------------
def counting_assets(
    datasets: Datasets,
    excluding_asset_types: tuple[str, ...],
    exempt_asset_subtypes: tuple[str, ...],
    asset_min_value: float,
) -> pl.LazyFrame:
    """Registrations that shut their owner out: ``person_id, asset_type, subtype,
    registered_date, deregistered_date, value``.

    An asset counts when its type is in ``excluding_asset_types``, its ``subtype`` (v2) is not
    in ``exempt_asset_subtypes`` (an empty subtype counts: nothing shows it exempt), and its
    ``value`` is above ``asset_min_value`` where a value is given. Whether it was held during a
    period (registered before it, not deregistered before it) is for the caller to test with
    :func:`asset_held`.
    """
    value = pl.col("value").cast(pl.Float64)
    return (
        lazy(datasets, "assets")
        .select(
            "person_id", pl.col("asset_type").cast(pl.String),
            optional_column(datasets, "assets", "subtype").cast(pl.String),
            "registered_date",
            optional_column(datasets, "assets", "deregistered_date"),
            value.alias("value"),
        )
        .filter(
            pl.col("asset_type").is_in(list(excluding_asset_types))
            & pl.col("registered_date").is_not_null()
            & (pl.col("subtype").is_null() | ~pl.col("subtype").is_in(list(exempt_asset_subtypes)))
            & (pl.col("value").is_null() | (pl.col("value") > asset_min_value))
        )
    )


def asset_held(period: pl.Expr) -> pl.Expr:
    """The asset was registered before the period and not deregistered before it began."""
    first = period_first_day(period)
    return (pl.col("registered_date") < first) & (
        pl.col("deregistered_date").is_null() | (pl.col("deregistered_date") >= first)
    )


def serving(period: pl.Expr) -> pl.Expr:
    """An ``officials`` row's service overlaps the period."""
    return (pl.col("start_date").is_null() | (pl.col("start_date") <= period_last_day(period))) & (
        pl.col("end_date").is_null() | (pl.col("end_date") >= period_first_day(period))
    )


def masked_id(expr: pl.Expr) -> pl.Expr:
    """An identity number as evidence may show it: region digits and the last four."""
    return expr.str.slice(0, 6) + pl.lit("********") + expr.str.slice(14, 4)
