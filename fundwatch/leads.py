"""From findings to ranked leads (问题线索), and the evidence table behind each lead.

All findings about one ``(domain, entity_type, entity_id, problem family)`` — the family is
``rules_catalog.RULES[code].family`` (declared beside each detector) — become one lead:

* ``rule_codes``: every rule/model code that fired (sorted);
* ``record_ids``: every evidence record (sorted, unique);
* ``amount_at_risk``: counted once per record — for each record the largest of the
  ``record_amounts`` the findings give it (two rules citing the same payment do not double
  it); a finding without per-record amounts adds its own ``amount_at_risk`` (the largest such);
* ``period_start`` / ``period_end``: min / max; ``region_code``: the most precise one known
  (longest, then most frequent, then smallest code);
* ``score``, ``severity``, ``rank``: :mod:`fundwatch.scoring`;
* ``lead_id``: :func:`lead_id_expr`, derived only from the four key fields, so the same problem
  keeps its id on every rerun and when later months are added;
* ``title``: one line, e.g. ``死亡人员仍领取补贴:110105********002X 共 4 笔 1,640.00 元``
  (whole ids here; outputs meant for people mask them);
* ``explanation``: the findings' evidence sentences and the score's parts.

Everything is vectorised polars (group_by / explode); there is no Python loop over findings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import polars as pl

from .textfmt import money

from . import scoring
from .contract import LEADS_SCHEMA
from .memory import as_text
from . import rules_catalog
from .settings import DEFAULT_SETTINGS, ScoringSettings, Settings

KEY = ["domain", "entity_type", "entity_id", "family"]

#: Columns of :func:`evidence_table`.
EVIDENCE_SCHEMA = pl.Schema(
    {
        "lead_id": pl.String(),
        "record_id": pl.String(),
        "record_type": pl.String(),  # disbursement | claim
        "date": pl.Date(),
        "person_id": pl.String(),
        "name": pl.String(),
        "counterparty": pl.String(),  # subsidy type / institution
        "amount": pl.Float64(),
        "description": pl.String(),
    }
)

ENTITY_LABELS = {
    "zh": {
        "person": "",
        "account": "账户 ",
        "operator": "经办人 ",
        "village": "村(社区) ",
        "institution": "机构 ",
        "doctor": "医师 ",
        "group": "团伙 ",
    },
    "en": {
        "person": "person ",
        "account": "account ",
        "operator": "operator ",
        "village": "village ",
        "institution": "institution ",
        "doctor": "doctor ",
        "group": "group ",
    },
}

_UNATTRIBUTED = "\x00unattributed"  # pseudo record for findings without per-record amounts


def _scoring_settings(settings: Settings | ScoringSettings) -> ScoringSettings:
    return settings if isinstance(settings, ScoringSettings) else settings.scoring


def empty_leads() -> pl.DataFrame:
    """A leads frame with no rows, in :data:`fundwatch.contract.LEADS_SCHEMA`."""
    return pl.DataFrame(schema=LEADS_SCHEMA)


def lead_id_of(domain: str, entity_type: str, entity_id: str, family: str, settings: ScoringSettings | None = None) -> str:
    """The stable lead id of one problem: prefix + first hex chars of sha256 over the key.

    >>> lead_id_of("subsidy", "person", "11010519491231002X", "deceased")[:3]
    'FW-'
    """
    s = settings or DEFAULT_SETTINGS.scoring
    key = "\x1f".join([domain, entity_type, entity_id, family])
    return s.lead_id_prefix + hashlib.sha256(key.encode("utf-8")).hexdigest()[: s.lead_id_hex_chars]


def _lead_ids(keys: pl.DataFrame, settings: ScoringSettings) -> pl.Series:
    # sha256 is not a polars expression; this runs once per lead (not per finding) on plain strs.
    rows = keys.select(KEY).fill_null("").iter_rows()
    return pl.Series("lead_id", [lead_id_of(*r, settings=settings) for r in rows], dtype=pl.String)


def fmt_money(expr: pl.Expr) -> pl.Expr:
    """``1640.0`` -> ``1,640.00``, vectorised (thousands separators, two decimals)."""
    return money(expr)


def _fold_into_parents(f: pl.DataFrame) -> pl.DataFrame:
    """Move findings whose parent entity is flagged too into the parent's lead.

    Declared per code beside its detector (``RuleSpec.folds_into``): e.g. a DOCTOR_OUTLIER finding of
    a doctor whose institution has an INSTITUTION_OUTLIER finding takes the institution as its
    entity and the institution's family, so the supervisor gets one lead for the clinic, with
    its doctors' evidence and records (each record's money still counted once).
    """
    rules = rules_catalog.RULES
    for code, info in sorted(rules.items()):
        if info.folds_into is None:
            continue
        parent_code, key = info.folds_into
        parent = rules[parent_code]
        parents = f.filter(pl.col("rule_code") == parent_code)
        if parents.height == 0 or f.filter(pl.col("rule_code") == code).height == 0:
            continue
        parent_type = parents["entity_type"][0]
        parent_id = pl.col("details").str.json_path_match(f"$.{key}")
        folds = (pl.col("rule_code") == code) & parent_id.is_in(parents["entity_id"].unique().implode())
        f = f.with_columns(
            pl.when(folds).then(pl.lit(parent_type)).otherwise(pl.col("entity_type")).alias("entity_type"),
            pl.when(folds).then(parent_id).otherwise(pl.col("entity_id")).alias("entity_id"),
            pl.when(folds).then(pl.lit(parent.family)).otherwise(pl.col("family")).alias("family"),
        )
    return f


def build_leads(
    findings: pl.DataFrame | pl.LazyFrame,
    settings: Settings | ScoringSettings = DEFAULT_SETTINGS,
    lang: str = "zh",
    as_of: str | None = None,
) -> pl.DataFrame:
    """Merge findings into ranked leads.

    Parameters
    ----------
    findings : :data:`detectors.base.FINDINGS_SCHEMA` rows (any order).
    settings : :class:`fundwatch.settings.Settings` (or just its ``scoring`` section).
    lang : ``"zh"`` or ``"en"``: language of ``title`` and ``explanation``.
    as_of : the data's latest month ``YYYY-MM`` for the recency part of the score; default
        the latest ``period_end`` among the findings.

    Returns
    -------
    pl.DataFrame
        Exactly :data:`fundwatch.contract.LEADS_SCHEMA`, best first (``rank`` 1..n).
        The same findings always give the same frame, whatever their order.
    """
    s = _scoring_settings(settings)
    lang = "zh" if lang == "zh" else "en"
    f = findings.lazy() if isinstance(findings, pl.DataFrame) else findings
    f = f.filter(pl.col("entity_id").is_not_null())
    rules = rules_catalog.RULES  # family, weight, kind: the same whatever the settings
    codes = sorted(rules)
    f = f.with_columns(
        pl.col("rule_code")
        .replace_strict(codes, [rules[c].family for c in codes], default=pl.col("rule_code"), return_dtype=pl.String)
        .alias("family"),
        pl.col("rule_code")
        .replace_strict(codes, [float(rules[c].weight) for c in codes], default=s.unknown_rule_weight, return_dtype=pl.Float64)
        .alias("_weight"),
        pl.col("rule_code")
        .replace_strict(codes, [rules[c].kind == "model" for c in codes], default=False, return_dtype=pl.Boolean)
        .alias("_is_model"),
        pl.col("score").fill_null(0.0).clip(0.0, 1.0).alias("score"),
        pl.col("evidence_zh" if lang == "zh" else "evidence_en").alias("_evidence"),
    ).with_columns((pl.col("_weight") * pl.col("score")).alias("_strength"))
    f = _fold_into_parents(f.collect()).lazy()  # findings are read by three aggregations below

    # -- per lead: codes, periods, score inputs, evidence text ----------------------------
    per_lead = f.group_by(KEY).agg(
        pl.col("rule_code").unique().sort().alias("rule_codes"),
        pl.col("rule_code").n_unique().alias("n_codes"),
        pl.col("period_start").min(),
        pl.col("period_end").max(),
        pl.col("_strength").max().alias("rule_strength"),
        pl.col("score").filter(pl.col("_is_model")).max().fill_null(0.0).alias("model_score"),
        pl.col("rule_code")
        .sort_by(["_strength", "rule_code"], descending=[True, False])
        .first()
        .alias("primary_code"),
        pl.col("_evidence")
        .sort_by(["rule_code", "_evidence"])
        .drop_nulls()
        .unique(maintain_order=True)
        .alias("_evidence_list"),
    )

    # -- per lead: records, money counted once per record ------------------------------
    valid = (pl.col("record_ids").list.len() == pl.col("record_amounts").list.len()) & (
        pl.col("record_ids").list.len() > 0
    )
    recs = (
        f.select(KEY + ["record_ids", "record_amounts", "amount_at_risk"])
        .with_columns(
            pl.when(valid).then(pl.col("record_amounts")).otherwise(pl.col("record_ids").list.eval(pl.lit(None, pl.Float64))).alias("record_amounts"),
            pl.when(valid).then(pl.lit(None, pl.Float64)).otherwise(pl.col("amount_at_risk")).alias("_unattributed"),
        )
    )
    attributed = (
        recs.select(KEY + ["record_ids", "record_amounts"])
        .explode(["record_ids", "record_amounts"])
        .rename({"record_ids": "record_id", "record_amounts": "amount"})
        .filter(pl.col("record_id").is_not_null())
    )
    unattributed = recs.filter(pl.col("_unattributed").is_not_null()).select(
        KEY + [pl.lit(_UNATTRIBUTED).alias("record_id"), pl.col("_unattributed").alias("amount")]
    )
    per_record = (
        pl.concat([attributed, unattributed], how="vertical_relaxed")
        .group_by(KEY + ["record_id"])
        .agg(pl.col("amount").max().fill_null(0.0))
    )
    money = per_record.group_by(KEY).agg(
        pl.col("record_id").filter(pl.col("record_id") != _UNATTRIBUTED).sort().alias("record_ids"),
        # summed in record order so the float result never depends on input order
        pl.col("amount").sort_by("record_id").sum().round(2).alias("amount_at_risk"),
    )

    # -- per lead: most precise region -----------------------------------------------------
    region = (
        f.filter(pl.col("region_code").is_not_null() & (pl.col("region_code") != ""))
        .group_by(KEY + ["region_code"])
        .agg(pl.len().alias("_n"))
        .with_columns(pl.col("region_code").str.len_chars().alias("_len"))
        .group_by(KEY)
        .agg(
            pl.col("region_code")
            .sort_by(["_len", "_n", "region_code"], descending=[True, True, False])
            .first()
        )
    )

    leads = (
        per_lead.join(money, on=KEY, how="left", nulls_equal=True)
        .join(region, on=KEY, how="left", nulls_equal=True)
        .with_columns(
            pl.col("record_ids").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.col("amount_at_risk").fill_null(0.0),
        )
        .sort(KEY)
        .collect()
    )
    if leads.height == 0:
        return empty_leads()
    leads = leads.with_columns(_lead_ids(leads, s))
    if as_of is None:
        as_of = leads.select(pl.col("period_end").max()).item()

    labels = ENTITY_LABELS[lang]
    entity = pl.col("entity_type").replace_strict(labels, default=pl.lit(""), return_dtype=pl.String) + pl.col("entity_id")
    n_rec = pl.col("record_ids").list.len().cast(pl.String)
    primary_title = pl.col("primary_code").replace_strict(
        codes, [rules[c].title_zh if lang == "zh" else rules[c].title_en for c in codes], default=pl.col("primary_code"), return_dtype=pl.String
    )
    extra = pl.col("n_codes") - 1
    if lang == "zh":
        title = (
            primary_title
            + pl.when(extra > 0).then(pl.lit("等") + pl.col("n_codes").cast(pl.String) + pl.lit("项")).otherwise(pl.lit(""))
            + pl.lit(":")
            + entity
            + pl.when(pl.col("record_ids").list.len() > 0)
            .then(pl.lit(" 共 ") + n_rec + pl.lit(" 笔 "))
            .otherwise(pl.lit(" 涉及 "))
            + fmt_money(pl.col("amount_at_risk"))
            + pl.lit(" 元")
        )
        more = pl.lit(";另有 ") + (pl.col("_evidence_list").list.len() - s.max_evidence_in_explanation).cast(pl.String) + pl.lit(" 条")
        sep = pl.lit(";")
        period = pl.lit("期间 ") + pl.col("period_start") + pl.when(pl.col("period_end") != pl.col("period_start")).then(pl.lit(" 至 ") + pl.col("period_end")).otherwise(pl.lit(""))
        fired = pl.lit("触发规则:") + pl.col("rule_codes").list.join("、")
    else:
        title = (
            primary_title
            + pl.when(extra > 0).then(pl.lit(" (+") + extra.cast(pl.String) + pl.lit(" more)")).otherwise(pl.lit(""))
            + pl.lit(": ")
            + entity
            + pl.when(pl.col("record_ids").list.len() > 0)
            .then(pl.lit(", ") + n_rec + pl.lit(" records, CNY "))
            .otherwise(pl.lit(", CNY "))
            + fmt_money(pl.col("amount_at_risk"))
        )
        more = pl.lit("; and ") + (pl.col("_evidence_list").list.len() - s.max_evidence_in_explanation).cast(pl.String) + pl.lit(" more")
        sep = pl.lit("; ")
        period = pl.lit("period ") + pl.col("period_start") + pl.when(pl.col("period_end") != pl.col("period_start")).then(pl.lit(" to ") + pl.col("period_end")).otherwise(pl.lit(""))
        fired = pl.lit("codes: ") + pl.col("rule_codes").list.join(", ")
    evidence = pl.col("_evidence_list").list.head(s.max_evidence_in_explanation).list.join(sep) + pl.when(
        pl.col("_evidence_list").list.len() > s.max_evidence_in_explanation
    ).then(more).otherwise(pl.lit(""))
    explanation = pl.concat_str(
        [evidence, fired, period.fill_null(pl.lit("")), scoring.explain_score_expr(lang)],
        separator=" | ",
        ignore_nulls=True,
    )

    out = (
        scoring.score_components(leads, s, as_of)
        .with_columns(
            scoring.severity_expr(pl.col("score"), s).alias("severity"),
            title.alias("title"),
        )
        .with_columns(explanation.alias("explanation"))
        .pipe(scoring.rank_leads)
        .select([pl.col(c).cast(t) for c, t in LEADS_SCHEMA.items()])
        .collect()
    )
    return out


def _as_lazy(datasets: Mapping[str, pl.DataFrame | pl.LazyFrame], name: str) -> pl.LazyFrame | None:
    d = datasets.get(name)
    return None if d is None else as_text(d)


def evidence_table(
    leads: pl.DataFrame, datasets: Mapping[str, pl.DataFrame | pl.LazyFrame], lang: str = "zh"
) -> pl.DataFrame:
    """One row per (lead, evidence record): the payment or claim behind the lead.

    Columns :data:`EVIDENCE_SCHEMA`: ``lead_id, record_id, record_type (disbursement|claim),
    date, person_id, name, counterparty, amount, description``. Disbursements give the pay
    date, beneficiary, subsidy name (from ``subsidy_standards`` when present) and amount;
    claims give the visit date, insured person (name from ``persons``), institution name and
    total amount. A record found in neither dataset keeps its id, its type from the lead's
    domain and empty fields. Identifiers are whole: mask before showing to people.
    """
    zh = lang == "zh"
    recs = (
        leads.lazy()
        .select("lead_id", "domain", "record_ids")
        .explode("record_ids")
        .rename({"record_ids": "record_id"})
        .filter(pl.col("record_id").is_not_null())
    )
    persons = _as_lazy(datasets, "persons")
    person_names = (
        persons.select("person_id", pl.col("name").alias("_pname")).unique("person_id", keep="first")
        if persons is not None
        else None
    )
    parts: list[pl.LazyFrame] = []
    # Only the evidence records are looked up: cutting the event datasets down to them first
    # keeps the joins below small (a city has millions of claims, the leads cite thousands).
    wanted = recs.select("record_id").unique()

    disb = _as_lazy(datasets, "disbursements")
    if disb is not None:
        std = _as_lazy(datasets, "subsidy_standards")
        d = disb.select("disbursement_id", "subsidy_type", "person_id", "name", "period", "pay_date", "amount", "batch_id", "quantity")
        d = d.join(wanted, left_on="disbursement_id", right_on="record_id", how="semi")
        d = d.unique("disbursement_id", keep="first")
        if std is not None:
            names = std.select("subsidy_type", "subsidy_name").unique("subsidy_type", keep="first")
            d = d.join(names, on="subsidy_type", how="left").with_columns(
                pl.coalesce("subsidy_name", "subsidy_type").alias("counterparty")
            )
        else:
            d = d.with_columns(pl.col("subsidy_type").alias("counterparty"))
        if person_names is not None:
            d = d.join(person_names, on="person_id", how="left").with_columns(pl.coalesce("name", "_pname").alias("name"))
        desc = (
            pl.lit("所属期 " if zh else "period ")
            + pl.col("period").fill_null("")
            + pl.lit(",批次 " if zh else ", batch ")
            + pl.col("batch_id").fill_null("")
            + pl.lit(",数量 " if zh else ", quantity ")
            + pl.col("quantity").cast(pl.String).fill_null("")
        )
        parts.append(
            recs.join(d, left_on="record_id", right_on="disbursement_id", how="inner").select(
                "lead_id",
                "record_id",
                pl.lit("disbursement").alias("record_type"),
                pl.col("pay_date").alias("date"),
                "person_id",
                "name",
                "counterparty",
                "amount",
                desc.alias("description"),
            )
        )

    claims = _as_lazy(datasets, "claims")
    if claims is not None:
        c = claims.select(
            "claim_id", "person_id", "institution_id", "visit_type", "visit_date", "discharge_date", "diagnosis_code", "total_amount", "fund_amount"
        ).join(wanted, left_on="claim_id", right_on="record_id", how="semi").unique("claim_id", keep="first")
        inst = _as_lazy(datasets, "institutions")
        if inst is not None:
            c = c.join(inst.select("institution_id", pl.col("name").alias("_iname")).unique("institution_id", keep="first"), on="institution_id", how="left")
            c = c.with_columns(pl.coalesce("_iname", "institution_id").alias("counterparty"))
        else:
            c = c.with_columns(pl.col("institution_id").alias("counterparty"))
        if person_names is not None:
            c = c.join(person_names, on="person_id", how="left").with_columns(pl.col("_pname").alias("name"))
        else:
            c = c.with_columns(pl.lit(None, pl.String).alias("name"))
        from .contract import VISIT_TYPE

        visit = (
            pl.col("visit_type").replace_strict(VISIT_TYPE, default=pl.col("visit_type"), return_dtype=pl.String)
            if zh
            else pl.col("visit_type")
        )
        desc = pl.concat_str(
            [
                visit,
                pl.lit("诊断 " if zh else "diagnosis ") + pl.col("diagnosis_code"),
                pl.lit("出院 " if zh else "discharged ") + pl.col("discharge_date").cast(pl.String),
                pl.lit("统筹支付 " if zh else "fund paid ") + fmt_money(pl.col("fund_amount")),
            ],
            separator=",",
            ignore_nulls=True,
        )
        parts.append(
            recs.join(c, left_on="record_id", right_on="claim_id", how="inner").select(
                "lead_id",
                "record_id",
                pl.lit("claim").alias("record_type"),
                pl.col("visit_date").alias("date"),
                "person_id",
                "name",
                "counterparty",
                pl.col("total_amount").alias("amount"),
                desc.alias("description"),
            )
        )

    schema_exprs = [pl.col(col).cast(t) for col, t in EVIDENCE_SCHEMA.items()]
    found = pl.concat([p.select(schema_exprs) for p in parts], how="vertical") if parts else pl.LazyFrame(schema=EVIDENCE_SCHEMA)
    found = found.unique(["lead_id", "record_id"], keep="first")
    missing = recs.join(found.select("lead_id", "record_id"), on=["lead_id", "record_id"], how="anti").select(
        "lead_id",
        "record_id",
        pl.when(pl.col("domain") == "medical").then(pl.lit("claim")).otherwise(pl.lit("disbursement")).alias("record_type"),
    )
    out = pl.concat([found, missing.with_columns([pl.lit(None, t).alias(c) for c, t in EVIDENCE_SCHEMA.items() if c not in ("lead_id", "record_id", "record_type")]).select(schema_exprs)])
    # in rank order, then record id: deterministic and readable
    order = leads.lazy().select("lead_id", "rank")
    return out.join(order, on="lead_id", how="left").sort(["rank", "record_id"]).drop("rank").collect()
