"""How good are the leads? Evaluation against planted truth (the synthetic city's labels).

A label (``anomaly_type, domain, entity_type, entity_id, record_ids, amount, lookalike, note``)
is **found** by a lead when the lead's ``rule_codes`` include the label's ``anomaly_type`` and
either the lead's ``entity_id`` equals the label's or their ``record_ids`` overlap.

Reported:

* recall per anomaly type (non-look-alike labels), and the best rank at which a type is found;
* precision@k: share of the top k leads that find at least one non-look-alike label;
* money-weighted recall at the top 1 % of leads: the labelled money found there / all labelled money;
* false alarms on look-alikes: look-alike labels (legitimate cases that resemble a type)
  that some lead matches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from .synth.labels import LABEL_SCHEMA

#: The columns evaluation reads: the synthetic city's label schema (one definition, in
#: ``fundwatch.synth.labels``), without the group members it adds for the detectors' tests.
LABELS_SCHEMA = pl.Schema({c: t for c, t in LABEL_SCHEMA.items() if c != "member_ids"})


def _labels(labels: pl.DataFrame) -> pl.DataFrame:
    exprs = []
    for c, t in LABELS_SCHEMA.items():
        if c in labels.columns:
            exprs.append(pl.col(c).cast(t))
        elif c == "lookalike":
            exprs.append(pl.lit(False).alias(c))
        elif c == "record_ids":
            exprs.append(pl.lit([], dtype=t).alias(c))
        else:
            exprs.append(pl.lit(None, t).alias(c))
    return labels.select(exprs).with_columns(
        pl.col("lookalike").fill_null(False), pl.col("amount").fill_null(0.0)
    ).with_row_index("label_idx")


def match_labels(leads: pl.DataFrame, labels: pl.DataFrame) -> pl.DataFrame:
    """Every (label, lead) pair where the lead finds the label: ``label_idx, lead_id, rank``.

    ``label_idx`` is the label's row number in ``labels``.
    """
    lab = _labels(labels)
    codes = leads.select("lead_id", "rank", "entity_id", "rule_codes").explode("rule_codes").rename({"rule_codes": "code"})
    by_entity = lab.select("label_idx", "anomaly_type", "entity_id").join(
        codes, left_on=["anomaly_type", "entity_id"], right_on=["code", "entity_id"], how="inner"
    )
    lab_recs = lab.select("label_idx", "anomaly_type", "record_ids").explode("record_ids").drop_nulls("record_ids")
    lead_recs = (
        leads.select("lead_id", "rank", "rule_codes", "record_ids")
        .explode("rule_codes")
        .explode("record_ids")
        .drop_nulls(["rule_codes", "record_ids"])
    )
    by_record = lab_recs.join(
        lead_recs, left_on=["anomaly_type", "record_ids"], right_on=["rule_codes", "record_ids"], how="inner"
    )
    return (
        pl.concat([by_entity.select("label_idx", "lead_id", "rank"), by_record.select("label_idx", "lead_id", "rank")])
        .unique()
        .sort(["label_idx", "rank", "lead_id"])
    )


def evaluate(
    leads: pl.DataFrame, labels: pl.DataFrame, ks: Sequence[int] = (50, 100, 500), top_fraction: float = 0.01
) -> dict[str, Any]:
    """Score ``leads`` against ``labels``.

    Returns
    -------
    dict
        ``per_type`` (frame: anomaly_type, n_labels, n_found, recall, best_rank, amount,
        amount_found), ``recall`` (overall, non-look-alike labels), ``precision_at_k`` (frame:
        k, n_leads, true_positives, precision), ``money_recall_top`` (float) and
        ``top_n`` (leads in the top ``top_fraction``), ``lookalikes`` (frame: anomaly_type,
        n_lookalikes, n_flagged), ``lookalike_false_alarms`` (int), ``n_leads``, ``n_labels``.
    """
    lab = _labels(labels)
    m = match_labels(leads, labels)
    n_leads = leads.height
    real = lab.filter(~pl.col("lookalike"))
    best = m.group_by("label_idx").agg(pl.col("rank").min().alias("best_rank"))
    real_m = real.join(best, on="label_idx", how="left")
    per_type = (
        real_m.group_by("anomaly_type")
        .agg(
            pl.len().alias("n_labels"),
            pl.col("best_rank").is_not_null().sum().alias("n_found"),
            pl.col("best_rank").min().alias("best_rank"),
            pl.col("amount").sum().alias("amount"),
            pl.col("amount").filter(pl.col("best_rank").is_not_null()).sum().alias("amount_found"),
        )
        .with_columns((pl.col("n_found") / pl.col("n_labels")).alias("recall"))
        .select("anomaly_type", "n_labels", "n_found", "recall", "best_rank", "amount", "amount_found")
        .sort("anomaly_type")
    )
    recall = float(real_m["best_rank"].is_not_null().mean()) if real_m.height else float("nan")

    tp_leads = m.join(real.select("label_idx"), on="label_idx", how="semi").select("lead_id").unique()
    ranked = leads.select("lead_id", "rank").join(tp_leads.with_columns(pl.lit(True).alias("tp")), on="lead_id", how="left")
    ranked = ranked.with_columns(pl.col("tp").fill_null(False)).sort("rank")
    prec_rows = []
    for k in ks:  # a handful of cut-offs, not data
        top = ranked.head(k)
        n = top.height
        tp = int(top["tp"].sum())
        prec_rows.append({"k": int(k), "n_leads": n, "true_positives": tp, "precision": tp / n if n else float("nan")})
    precision = pl.DataFrame(prec_rows, schema={"k": pl.Int64, "n_leads": pl.Int64, "true_positives": pl.Int64, "precision": pl.Float64})

    top_n = max(1, math.ceil(top_fraction * n_leads)) if n_leads else 0
    total_money = float(real["amount"].sum())
    found_top = real_m.filter(pl.col("best_rank") <= top_n)
    money_recall_top = float(found_top["amount"].sum()) / total_money if total_money > 0 else float("nan")

    look = lab.filter(pl.col("lookalike")).join(best, on="label_idx", how="left")
    lookalikes = (
        look.group_by("anomaly_type")
        .agg(pl.len().alias("n_lookalikes"), pl.col("best_rank").is_not_null().sum().alias("n_flagged"))
        .sort("anomaly_type")
    )
    return {
        "n_leads": n_leads,
        "n_labels": real.height,
        "recall": recall,
        "per_type": per_type,
        "precision_at_k": precision,
        "top_fraction": top_fraction,
        "top_n": top_n,
        "money_recall_top": money_recall_top,
        "lookalikes": lookalikes,
        "lookalike_false_alarms": int(look["best_rank"].is_not_null().sum()),
        "matches": m,
    }


def _pct(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def format_evaluation(result: dict[str, Any]) -> str:
    """A plain-text summary of :func:`evaluate` for the CLI (no personal data)."""
    lines = [
        f"leads: {result['n_leads']}   planted anomalies: {result['n_labels']}   recall: {_pct(result['recall'])}",
        "",
        f"{'anomaly type':<24}{'found':>12}{'recall':>9}{'best rank':>11}",
    ]
    for r in result["per_type"].iter_rows(named=True):
        best = "-" if r["best_rank"] is None else str(r["best_rank"])
        lines.append(f"{r['anomaly_type']:<24}{r['n_found']:>5} / {r['n_labels']:<4}{_pct(r['recall']):>9}{best:>11}")
    lines.append("")
    for r in result["precision_at_k"].iter_rows(named=True):
        lines.append(f"precision@{r['k']}: {_pct(r['precision'])} ({r['true_positives']}/{r['n_leads']})")
    lines.append(
        f"money-weighted recall in the top {result['top_fraction']:.0%} ({result['top_n']} leads): {_pct(result['money_recall_top'])}"
    )
    look = result["lookalikes"]
    n_look = int(look["n_lookalikes"].sum()) if look.height else 0
    lines.append(f"false alarms on look-alikes: {result['lookalike_false_alarms']} of {n_look}")
    for r in look.filter(pl.col("n_flagged") > 0).iter_rows(named=True):
        lines.append(f"  {r['anomaly_type']:<22}{r['n_flagged']} of {r['n_lookalikes']}")
    return "\n".join(lines)
