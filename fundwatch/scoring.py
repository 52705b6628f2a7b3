"""The one lead score: documented, explainable, deterministic.

A lead (all findings about one entity and one problem family, see :mod:`fundwatch.leads`)
gets the score ::

    score = w_rule          * rule          rule = max over its findings of
                                                   (catalogue weight x finding score)
          + w_money         * money         money = min(1, log1p(amount_at_risk)
                                                            / log1p(money_reference))
          + w_corroboration * corroboration corroboration = min(1, (distinct codes - 1)
                                                                   / corroboration_cap)
          + w_model         * model         model = max score of its model findings, 0 if none
          + w_recency       * recency       recency = max(0, 1 - months from period_end to the
                                                       data's latest month / recency_window_months)

Every part lies in ``[0, 1]`` and the weights (:class:`fundwatch.settings.ScoringSettings`)
sum to 1, so the score lies in ``[0, 1]``; it is monotonic (non-decreasing) in every part.
Severity is ``high`` at ``score >= high_threshold``, ``medium`` at ``>= medium_threshold``,
else ``low``. Rank 1 = review first; ties are broken by amount at risk (desc) and then
``lead_id`` (asc), so the order never depends on input order.

The explanation names each non-zero part and the one that drove the score most, e.g.
``评分 0.70 = 规则严重度 0.40 + 金额 0.20 + 时效 0.10(主要因素:规则严重度)``.
"""

from __future__ import annotations

import polars as pl

from .settings import ScoringSettings

#: The parts of the score, in the order the explanation lists them.
PARTS: tuple[str, ...] = ("rule", "money", "corroboration", "model", "recency")

PART_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "rule": "规则严重度",
        "money": "金额",
        "corroboration": "多规则印证",
        "model": "模型异常度",
        "recency": "时效",
    },
    "en": {
        "rule": "rule severity",
        "money": "money",
        "corroboration": "corroboration",
        "model": "model outlier",
        "recency": "recency",
    },
}

#: Columns :func:`score_components` reads.
INPUT_COLUMNS = ("rule_strength", "amount_at_risk", "n_codes", "model_score", "period_end")


def _weight(settings: ScoringSettings, part: str) -> float:
    return float(getattr(settings, f"w_{part}"))


def month_index(expr: pl.Expr) -> pl.Expr:
    """``YYYY-MM`` -> year * 12 + month (null where not a period)."""
    return expr.str.slice(0, 4).cast(pl.Int64, strict=False) * 12 + expr.str.slice(5, 2).cast(
        pl.Int64, strict=False
    )


def fmt_fixed(expr: pl.Expr, decimals: int = 2) -> pl.Expr:
    """Format a non-negative float with exactly ``decimals`` decimals, vectorised (``0.4`` -> ``0.40``)."""
    scale = 10**decimals
    scaled = (expr * scale).round(0).cast(pl.Int64)
    whole = (scaled // scale).cast(pl.String)
    if decimals == 0:
        return whole
    frac = (scaled % scale).cast(pl.String).str.zfill(decimals)
    return whole + pl.lit(".") + frac


def part_columns() -> list[str]:
    """Names of the per-part contribution columns (weight already applied)."""
    return [f"part_{p}" for p in PARTS]


def score_components(
    frame: pl.LazyFrame | pl.DataFrame, settings: ScoringSettings, as_of: str | None
) -> pl.LazyFrame:
    """Add the weighted parts ``part_<name>`` and the total ``score``.

    Parameters
    ----------
    frame : one row per lead with :data:`INPUT_COLUMNS`: ``rule_strength`` (max catalogue
        weight x finding score), ``amount_at_risk``, ``n_codes`` (distinct rule/model codes),
        ``model_score`` (max model-finding score, 0 when none), ``period_end`` (``YYYY-MM``).
    settings : the scoring section.
    as_of : the data's latest month ``YYYY-MM`` (recency is measured back from it);
        ``None`` gives every lead full recency.
    """
    s = settings
    money = (
        pl.col("amount_at_risk").fill_null(0.0).clip(lower_bound=0.0).log1p()
        / float(pl.select(pl.lit(s.money_reference).log1p()).item())
    ).clip(upper_bound=1.0)
    corroboration = (
        (pl.col("n_codes").cast(pl.Float64) - 1.0).clip(lower_bound=0.0) / float(s.corroboration_cap)
    ).clip(upper_bound=1.0)
    if as_of is None:
        recency = pl.lit(1.0)
    else:
        ago = (pl.lit(as_of).pipe(month_index) - month_index(pl.col("period_end"))).clip(lower_bound=0)
        recency = (1.0 - ago.cast(pl.Float64) / float(s.recency_window_months)).clip(0.0, 1.0).fill_null(0.0)
    raw = {
        "rule": pl.col("rule_strength").fill_null(0.0).clip(0.0, 1.0),
        "money": money,
        "corroboration": corroboration,
        "model": pl.col("model_score").fill_null(0.0).clip(0.0, 1.0),
        "recency": recency,
    }
    parts = [(raw[p] * _weight(s, p)).alias(f"part_{p}") for p in PARTS]
    return (
        frame.lazy()
        .with_columns(parts)
        .with_columns(pl.sum_horizontal(part_columns()).round(s.score_decimals).alias("score"))
    )


def severity_expr(score: pl.Expr, settings: ScoringSettings) -> pl.Expr:
    """``high`` / ``medium`` / ``low`` from the score thresholds in ``settings``."""
    return (
        pl.when(score >= settings.high_threshold)
        .then(pl.lit("high"))
        .when(score >= settings.medium_threshold)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )


def rank_leads(frame: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """Sort best first (score desc, amount_at_risk desc, lead_id asc) and number ``rank`` from 1."""
    return (
        frame.lazy()
        .sort(["score", "amount_at_risk", "lead_id"], descending=[True, True, False], nulls_last=True)
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
    )


def explain_score_expr(lang: str = "zh") -> pl.Expr:
    """One line naming the score, each non-zero weighted part, and the part that drove it most.

    Needs ``score`` and the ``part_<name>`` columns of :func:`score_components`.
    """
    labels = PART_LABELS["zh" if lang == "zh" else "en"]
    pieces = [
        pl.when(pl.col(f"part_{p}") >= 0.005)
        .then(pl.lit(labels[p] + " ") + fmt_fixed(pl.col(f"part_{p}")))
        .otherwise(None)
        for p in PARTS
    ]
    top = pl.max_horizontal(part_columns())
    driver = pl.when(pl.lit(False)).then(pl.lit(""))
    for p in PARTS:  # first part (in PARTS order) that reaches the maximum
        driver = driver.when(pl.col(f"part_{p}") == top).then(pl.lit(labels[p]))
    driver = driver.otherwise(pl.lit(""))
    body = pl.concat_list(pieces).list.drop_nulls().list.join(" + ")
    if lang == "zh":
        return pl.lit("评分 ") + fmt_fixed(pl.col("score")) + pl.lit(" = ") + body + pl.lit("(主要因素:") + driver + pl.lit(")")
    return pl.lit("score ") + fmt_fixed(pl.col("score")) + pl.lit(" = ") + body + pl.lit(" (mainly ") + driver + pl.lit(")")
