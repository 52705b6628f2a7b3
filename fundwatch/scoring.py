"""The one lead score: an expected value, documented, explainable, deterministic.

A lead (all findings about one problem, see :mod:`fundwatch.leads`) is ranked by the money it
is expected to recover::

    score = P(real) x (amount_at_risk + nominal_money)

**Money.** ``amount_at_risk`` is the contract's money in doubt (each record counted once;
for a peer model the excess over peers over all the entity's records). ``nominal_money``
(setting, 100 CNY) keeps a lead whose money cannot be measured ranked by its certainty.
Nothing saturates: a 5,000,000 CNY finding outranks a 500,000 CNY one of equal certainty.

**Probability that a hit is real.** Each rule or model code has a prior ``p0``: the
probability that one of its hits is real — the detector's declared ``RuleSpec.weight``, or
``settings.scoring.rule_priors[code]``. Where supervisors have decided earlier leads of the
code (status ``confirmed`` or ``dismissed`` in the lead store), the prior is the mean of the
Beta posterior with ``prior_strength`` pseudo-decisions at ``p0``::

    prior = (prior_strength x p0 + confirmed) / (prior_strength + confirmed + dismissed)

(``learn_from_decisions = False`` keeps ``p0``). A finding's probability is ``prior x its
score`` (the detector's own strength in ``[0, 1]``).

**Corroboration on the same records.** Codes of one rule family say the same thing twice, so
a family counts once, at its strongest code; distinct families citing the *same record* are
independent witnesses and combine as a noisy-OR::

    p(record) = 1 - prod over the families citing the record of (1 - p_family)
    expected money = sum over listed records of p(record) x its money
                   + the largest (p_finding x money the finding did not list)
    P(real)  = expected money / amount_at_risk
    P(real)  = 1 - prod over the lead's families of (1 - p_family)   when there is no money

so a second rule or a model on the same payments raises their probability, while two
unrelated problems of one person each keep their own (their money is added, not their
certainty). P stays below 1 unless some witness is certain.

**Severity** from the same quantities: ``high`` when the score reaches
``high_expected_money``; ``medium`` when it reaches ``medium_expected_money`` or P reaches
``certain_probability``; else ``low``.

**Rank** 1 = review first: score desc, then P desc, then amount desc, then ``lead_id`` asc, so
the order never depends on input order.

Each lead's explanation carries the breakdown, in Chinese without rule codes, e.g.
``评分 1,476.00 = 属实概率 90% × (存疑金额 1,540.00 元 + 基准 100.00 元);属实概率依据:死亡人员仍领取补贴
90%(本规则以往核实率 7/9)``.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from .settings import ScoringSettings
from .textfmt import money as _fmt_money

#: Decision statuses that teach the priors: a confirmed lead is a real problem, a dismissed one is not.
LEARNING_STATUSES = ("confirmed", "dismissed")

#: Columns of :func:`code_priors`.
PRIOR_SCHEMA = pl.Schema(
    {
        "rule_code": pl.String(),
        "p0": pl.Float64(),
        "n_confirmed": pl.Int64(),
        "n_dismissed": pl.Int64(),
        "prior": pl.Float64(),
    }
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


def fmt_percent(expr: pl.Expr) -> pl.Expr:
    """``0.934`` -> ``93%`` (whole percent, vectorised)."""
    return (expr * 100).round(0).cast(pl.Int64).cast(pl.String) + pl.lit("%")


def decision_counts(decisions: pl.DataFrame | None) -> pl.DataFrame:
    """Confirmed and dismissed leads per rule code: ``rule_code, n_confirmed, n_dismissed``.

    ``decisions`` has one row per decided lead: ``status`` and the lead's ``rule_codes``
    (list). A lead confirmed or dismissed counts once for every code that fired on it; other
    statuses (in review, handed over ...) teach nothing yet.
    """
    empty = pl.DataFrame(schema={"rule_code": pl.String(), "n_confirmed": pl.Int64(), "n_dismissed": pl.Int64()})
    if decisions is None or decisions.height == 0:
        return empty
    d = (
        decisions.filter(pl.col("status").is_in(LEARNING_STATUSES))
        .select("status", pl.col("rule_codes").list.unique())
        .explode("rule_codes")
        .drop_nulls("rule_codes")
    )
    if d.height == 0:
        return empty
    return (
        d.group_by(pl.col("rule_codes").alias("rule_code"))
        .agg(
            (pl.col("status") == "confirmed").sum().cast(pl.Int64).alias("n_confirmed"),
            (pl.col("status") == "dismissed").sum().cast(pl.Int64).alias("n_dismissed"),
        )
        .sort("rule_code")
    )


def code_priors(
    codes: Iterable[str],
    declared: dict[str, float],
    settings: ScoringSettings,
    decisions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The prior of every code in ``codes``: :data:`PRIOR_SCHEMA`, one row per code.

    Parameters
    ----------
    codes : the rule/model codes to price (any, including codes no catalogue knows).
    declared : code -> declared ``RuleSpec.weight`` (the catalogue's).
    settings : the scoring section (``rule_priors`` overrides, ``unknown_rule_weight``,
        ``learn_from_decisions``, ``prior_strength``).
    decisions : :func:`decision_counts` input (``status``, ``rule_codes``), or ``None``.
    """
    codes = sorted(set(codes))
    p0 = [
        float(settings.rule_priors.get(c, declared.get(c, settings.unknown_rule_weight))) for c in codes
    ]
    base = pl.DataFrame({"rule_code": codes, "p0": p0}, schema={"rule_code": pl.String(), "p0": pl.Float64()})
    counts = decision_counts(decisions) if settings.learn_from_decisions else decision_counts(None)
    k = float(settings.prior_strength)
    return (
        base.join(counts, on="rule_code", how="left")
        .with_columns(pl.col("n_confirmed").fill_null(0), pl.col("n_dismissed").fill_null(0))
        .with_columns(
            ((k * pl.col("p0") + pl.col("n_confirmed")) / (k + pl.col("n_confirmed") + pl.col("n_dismissed"))).alias("prior")
        )
        .select([pl.col(c).cast(t) for c, t in PRIOR_SCHEMA.items()])
    )


def probability_expr(family_p: pl.Expr) -> pl.Expr:
    """Noisy-OR of a list column of per-family probabilities: ``1 - prod(1 - p)``."""
    p = family_p.list.eval(pl.element().clip(0.0, 1.0))
    return 1.0 - p.list.eval((1.0 - pl.element()).product()).list.first().fill_null(1.0)


def score_expr(probability: pl.Expr, amount: pl.Expr, settings: ScoringSettings) -> pl.Expr:
    """``P x (amount_at_risk + nominal_money)``, rounded to ``score_decimals``."""
    money = amount.fill_null(0.0).clip(lower_bound=0.0) + float(settings.nominal_money)
    return (probability.fill_null(0.0) * money).round(settings.score_decimals)


def severity_expr(score: pl.Expr, probability: pl.Expr, settings: ScoringSettings) -> pl.Expr:
    """``high`` / ``medium`` / ``low`` from the expected money and the certainty."""
    return (
        pl.when(score >= settings.high_expected_money)
        .then(pl.lit("high"))
        .when((score >= settings.medium_expected_money) | (probability >= settings.certain_probability))
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )


#: Precisions the ranking compares at. The same money summed in another order (a partitioned,
#: parallel or Prefect run) differs in its last bits; compared whole, such sums would reorder
#: leads that tie, and the same input would not give the same order.
RANK_MONEY_DECIMALS = 2
RANK_PROBABILITY_DECIMALS = 9


def rank_leads(frame: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """Sort best first (score, probability, amount_at_risk desc; lead_id asc); number ``rank`` from 1.

    Money is compared to the cent and probabilities to :data:`RANK_PROBABILITY_DECIMALS`, so
    ties are broken by ``lead_id`` whatever order the money was summed in.
    """
    return (
        frame.lazy()
        .sort(
            [
                pl.col("score").round(RANK_MONEY_DECIMALS),
                pl.col("probability").round(RANK_PROBABILITY_DECIMALS),
                pl.col("amount_at_risk").round(RANK_MONEY_DECIMALS),
                pl.col("lead_id"),
            ],
            descending=[True, True, True, False],
            nulls_last=True,
        )
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
    )


def explain_score_expr(lang: str, settings: ScoringSettings) -> pl.Expr:
    """The score's breakdown in one sentence.

    Needs ``score``, ``probability``, ``amount_at_risk``, ``prior_texts`` (list of
    "rule title + its probability [+ its decision record]", strongest first) and
    ``_n_corroborating`` (the most rule families citing one of the lead's records).
    """
    nominal = fmt_fixed(pl.lit(float(settings.nominal_money)))
    priors = pl.col("prior_texts").list.join("、" if lang == "zh" else "; ")
    n = pl.col("_n_corroborating").fill_null(1)
    if lang == "zh":
        return (
            pl.lit("评分 ") + _money(pl.col("score")) + pl.lit(" = 属实概率 ") + fmt_percent(pl.col("probability"))
            + pl.lit(" × (存疑金额 ") + _money(pl.col("amount_at_risk")) + pl.lit(" 元 + 基准 ") + nominal
            + pl.lit(" 元);属实概率依据:") + priors
            + pl.when(n > 1).then(pl.lit(";") + n.cast(pl.String) + pl.lit(" 类独立证据指向同一批记录,相互印证")).otherwise(pl.lit(""))
        )
    return (
        pl.lit("score ") + _money(pl.col("score")) + pl.lit(" = P(real) ") + fmt_percent(pl.col("probability"))
        + pl.lit(" x (CNY ") + _money(pl.col("amount_at_risk")) + pl.lit(" at risk + CNY ") + nominal
        + pl.lit(" nominal); P from: ") + priors
        + pl.when(n > 1).then(pl.lit("; ") + n.cast(pl.String) + pl.lit(" independent kinds of evidence cite the same records")).otherwise(pl.lit(""))
    )


def prior_text_expr(lang: str) -> pl.Expr:
    """Per finding code: ``<title> <p>`` and, where decisions exist, its record.

    Needs ``_title`` (the code's title in ``lang``), ``_p`` (prior x score), ``n_confirmed``,
    ``n_dismissed``.
    """
    decided = pl.col("n_confirmed") + pl.col("n_dismissed")
    if lang == "zh":
        record = pl.lit("(本规则以往核实率 ") + pl.col("n_confirmed").cast(pl.String) + pl.lit("/") + decided.cast(pl.String) + pl.lit(")")
    else:
        record = pl.lit(" (confirmed before: ") + pl.col("n_confirmed").cast(pl.String) + pl.lit(" of ") + decided.cast(pl.String) + pl.lit(")")
    return (
        pl.col("_title") + pl.lit(" ") + fmt_percent(pl.col("_p"))
        + pl.when(decided > 0).then(record).otherwise(pl.lit(""))
    )


def _money(expr: pl.Expr) -> pl.Expr:
    return _fmt_money(expr)
