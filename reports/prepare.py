"""Shared preparation of the report inputs: empty defaults, masking, language.

Both the HTML report and the workbook show the same masked, localised view of the leads;
it is built here once, vectorised, so that the two cannot disagree about what is masked.
"""

from __future__ import annotations

import polars as pl

from fundwatch.contract import LEADS_SCHEMA, QUARANTINE_SCHEMA
from fundwatch.idnumber import mask_id, mask_ids_in_text, mask_name
from fundwatch.privacy import PERSONAL_ENTITY_TYPES, mask_frame
from fundwatch import rules_catalog

STATUS_SCHEMA = pl.Schema(
    {"lead_id": pl.String(), "status": pl.String(), "note": pl.String(), "is_new": pl.Boolean()}
)
EVIDENCE_SCHEMA = pl.Schema(
    {
        "lead_id": pl.String(),
        "record_id": pl.String(),
        "record_type": pl.String(),
        "date": pl.Date(),
        "person_id": pl.String(),
        "name": pl.String(),
        "counterparty": pl.String(),
        "amount": pl.Float64(),
        "description": pl.String(),
    }
)
VALIDATION_SCHEMA = pl.Schema(
    {
        "dataset": pl.String(),
        "expectation": pl.String(),
        "severity": pl.String(),
        "success": pl.Boolean(),
        "unexpected_count": pl.Int64(),
        "unexpected_percent": pl.Float64(),
    }
)

#: Free-text columns in which identity numbers and known names are masked.
TEXT_COLUMNS = ("title", "explanation", "evidence_zh", "evidence_en", "description", "note", "details", "examples")

#: Names shorter than this are not searched for inside free text (a one-character "name"
#: would mask ordinary words).
_MIN_NAME_LEN = 2
#: Identifiers shorter than this are not searched for inside free text (short codes collide
#: with ordinary numbers).
_MIN_ID_LEN = 8


def conform(frame: pl.DataFrame | None, schema: pl.Schema) -> pl.DataFrame:
    """``frame`` with at least ``schema``'s columns (missing ones null, cast); empty if None."""
    if frame is None:
        return pl.DataFrame(schema=schema)
    exprs = []
    for col, dtype in schema.items():
        if col in frame.columns:
            exprs.append(pl.col(col).cast(dtype, strict=False))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(col))
    extra = [c for c in frame.columns if c not in schema]
    return frame.select(exprs + extra)


#: Columns of contract v2 kept when the leads carry them (older leads lack them).
OPTIONAL_LEAD_COLUMNS = ("region_name",)


def leads_frame(leads: pl.DataFrame) -> pl.DataFrame:
    """The leads in contract order, best first; ``region_name`` always present (empty when
    the leads do not name their places: the reports then show the code)."""
    frame = conform(leads, LEADS_SCHEMA)
    extra = [c for c in OPTIONAL_LEAD_COLUMNS if c in frame.columns and c not in LEADS_SCHEMA]
    frame = frame.select(LEADS_SCHEMA.names() + extra)
    if "region_name" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("region_name"))
    return _finite(frame.with_columns(pl.col("region_name").cast(pl.String))).sort("rank", nulls_last=True)


def _finite(frame: pl.DataFrame) -> pl.DataFrame:
    """NaN and infinities in float columns as null: they mean "unknown" to a reader."""
    return frame.with_columns(
        pl.when(pl.col(c).is_finite()).then(pl.col(c)).alias(c) for c, dt_ in frame.schema.items() if dt_.is_float()
    )


def status_frame(status: pl.DataFrame | None) -> pl.DataFrame:
    """The store's status frame, or an empty one."""
    return conform(status, STATUS_SCHEMA).select(STATUS_SCHEMA.names()).unique("lead_id", keep="last")


def evidence_frame(evidence: pl.DataFrame | None) -> pl.DataFrame:
    return _finite(conform(evidence, EVIDENCE_SCHEMA).select(EVIDENCE_SCHEMA.names()))


def quarantine_frame(quarantine: pl.DataFrame | None) -> pl.DataFrame:
    return conform(quarantine, QUARANTINE_SCHEMA).select(QUARANTINE_SCHEMA.names())


def validation_frame(summary: pl.DataFrame | None) -> pl.DataFrame:
    return conform(summary, VALIDATION_SCHEMA)


def known_names(evidence: pl.DataFrame, leads: pl.DataFrame | None = None) -> tuple[list[str], list[str]]:
    """Personal tokens to hunt for inside free text (longest first) and their masked forms.

    Names and identity numbers from the evidence, and the ``entity_id`` of personal leads
    (persons and accounts: an account number in a title is as personal as the id column).
    """
    parts = []
    if not evidence.is_empty():
        parts.append(
            evidence.select(pl.col("name").cast(pl.String).alias("tok"))
            .drop_nulls()
            .filter(pl.col("tok").str.len_chars() >= _MIN_NAME_LEN)
            .with_columns(mask_name(pl.col("tok")).alias("masked"))
        )
        parts.append(
            evidence.select(pl.col("person_id").cast(pl.String).alias("tok"))
            .drop_nulls()
            .filter(pl.col("tok").str.len_chars() >= _MIN_ID_LEN)
            .with_columns(mask_id(pl.col("tok")).alias("masked"))
        )
    if leads is not None and not leads.is_empty():
        parts.append(
            leads.filter(pl.col("entity_type").is_in(list(PERSONAL_ENTITY_TYPES)))
            .select(pl.col("entity_id").alias("tok"))
            .drop_nulls()
            .filter(pl.col("tok").str.len_chars() >= _MIN_ID_LEN)
            .with_columns(mask_id(pl.col("tok")).alias("masked"))
        )
    if not parts:
        return [], []
    toks = (
        pl.concat(parts)
        .unique("tok")
        .with_columns(pl.col("tok").str.len_chars().alias("n"))
        .sort(["n", "tok"], descending=[True, False])
    )
    return toks["tok"].to_list(), toks["masked"].to_list()


def mask_text(expr: pl.Expr, names: list[str], masked: list[str]) -> pl.Expr:
    """Mask identity numbers and known personal names inside free text."""
    out = mask_ids_in_text(expr)
    if names:
        out = out.str.replace_many(names, masked)
    return out


def mask_all(frame: pl.DataFrame, names: list[str], masked: list[str], unmask: bool) -> pl.DataFrame:
    """:func:`fundwatch.privacy.mask_frame`, then names and ids inside every free-text column."""
    if unmask:
        return frame
    frame = mask_frame(frame)
    exprs = [
        mask_text(pl.col(c), names, masked).alias(c)
        for c, dtype in frame.schema.items()
        if c in TEXT_COLUMNS and dtype == pl.String
    ]
    return frame.with_columns(exprs) if exprs else frame


def mask_quarantine(frame: pl.DataFrame, unmask: bool) -> pl.DataFrame:
    """Quarantined raw values of personal columns masked; ids inside any raw value masked."""
    if unmask:
        return frame
    from fundwatch.privacy import ID_COLUMNS, NAME_COLUMNS

    from fundwatch.loading import personal_key_datasets

    if "record_id" in frame.columns:
        frame = frame.with_columns(
            pl.when(pl.col("dataset").is_in(personal_key_datasets()))
            .then(mask_id(pl.col("record_id")))
            .otherwise(pl.col("record_id"))
            .alias("record_id")
        )
    return frame.with_columns(
        pl.when(pl.col("column").is_in(list(ID_COLUMNS)))
        .then(mask_id(pl.col("raw_value")))
        .when(pl.col("column").is_in(list(NAME_COLUMNS)))
        .then(mask_name(pl.col("raw_value")))
        .otherwise(mask_ids_in_text(pl.col("raw_value")))
        .alias("raw_value")
    )


def match_findings(leads: pl.DataFrame, findings: pl.DataFrame | None) -> pl.DataFrame:
    """The findings behind each lead: ``lead_id, rule_code, evidence_zh, evidence_en, details, amount_at_risk``.

    A finding belongs to a lead when its rule is among the lead's ``rule_codes`` and either
    it is about the lead's entity — and (where both list records) they share a record; when no
    finding of a rule shares a record, every finding of that rule about the entity is kept — or
    it is about another entity merged into the lead (a card's holder and the card, a village
    and its operator: :mod:`fundwatch.leads`) and shares a record with it.
    """
    out_schema = {
        "lead_id": pl.String(),
        "rule_code": pl.String(),
        "evidence_zh": pl.String(),
        "evidence_en": pl.String(),
        "details": pl.String(),
        "f_amount": pl.Float64(),
    }
    if findings is None or findings.is_empty() or leads.is_empty():
        return pl.DataFrame(schema=out_schema)
    f = findings.with_row_index("_fi").select(
        pl.col("_fi"),
        pl.col("rule_code"),
        pl.col("entity_type"),
        pl.col("entity_id"),
        pl.col("record_ids").alias("f_records"),
        pl.col("evidence_zh"),
        pl.col("evidence_en"),
        pl.col("details"),
        pl.col("amount_at_risk").alias("f_amount"),
    )
    cand = (
        leads.select("lead_id", "entity_type", "entity_id", "record_ids", pl.col("rule_codes").alias("rule_code"))
        .explode("rule_code")
        .join(f, on=["entity_type", "entity_id", "rule_code"], how="inner")
        .with_columns(
            (
                pl.col("record_ids").list.set_intersection(pl.col("f_records")).list.len() > 0
            ).alias("overlap"),
            (
                pl.col("f_records").list.len().fill_null(0) == 0
            ).alias("no_records"),
        )
        .with_columns(pl.col("overlap").any().over(["lead_id", "rule_code"]).alias("any_overlap"))
        .filter(pl.col("overlap") | pl.col("no_records") | ~pl.col("any_overlap"))
    )
    # findings about other entities merged into the lead: joined on a shared record
    lead_recs = (
        leads.select("lead_id", "entity_type", "entity_id", "rule_codes", "record_ids")
        .explode("record_ids")
        .drop_nulls("record_ids")
    )
    f_recs = f.select("_fi", "rule_code", pl.col("entity_type").alias("_ft"), pl.col("entity_id").alias("_fe"), "f_records").explode("f_records").drop_nulls("f_records")
    merged = (
        lead_recs.join(f_recs, left_on="record_ids", right_on="f_records", how="inner")
        .filter(((pl.col("_ft") != pl.col("entity_type")) | (pl.col("_fe") != pl.col("entity_id"))) & pl.col("rule_codes").list.contains(pl.col("rule_code")))
        .select("lead_id", "_fi")
        .unique()
        .join(f, on="_fi", how="inner")
    )
    cand = pl.concat([cand.select(merged.columns), merged], how="vertical").unique(["lead_id", "_fi"], keep="first")
    order = {code: i for i, code in enumerate(rules_catalog.RULES)}
    return (
        cand.with_columns(pl.col("rule_code").replace_strict(order, default=len(order)).alias("_o"))
        .sort(["lead_id", "_o", "f_amount"], descending=[False, False, True])
        .select(list(out_schema))
    )


def localise_leads(leads: pl.DataFrame, matched: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Leads with ``title`` and ``explanation`` in ``lang``.

    Chinese keeps the lead's own title and explanation. English titles the lead with the
    English titles of its rules and explains it with the findings' ``evidence_en`` (the lead's
    own text where no finding matched).
    """
    if leads.is_empty():
        return leads
    RULES = rules_catalog.RULES
    if lang == "zh":
        # no English codes inside Chinese text: "触发规则:COLLUSIVE_GROUP" names the rule's title
        codes = sorted(RULES, key=len, reverse=True)  # longest first: AGE_LIMIT inside INELIGIBLE_AGE
        return leads.with_columns(
            pl.col(c).str.replace_many(codes, [RULES[k].title_zh for k in codes]).str.replace_all(r" \| ", ";")
            for c in ("title", "explanation")
        )
    titles = {code: info.title_en for code, info in RULES.items()}
    en = (
        matched.filter(pl.col("evidence_en").is_not_null() & (pl.col("evidence_en") != ""))
        .group_by("lead_id", maintain_order=True)
        .agg(pl.col("evidence_en").unique(maintain_order=True).str.join(" ").alias("_expl_en"))
    )
    from fundwatch.leads import ENTITY_LABELS
    from fundwatch.textfmt import money

    from fundwatch.leads import place_label

    # a place as its name with the code beside it (a village lead's entity is its region code)
    name = pl.when(pl.col("entity_id") == pl.col("region_code")).then(pl.col("region_name"))
    entity = pl.col("entity_type").replace_strict(ENTITY_LABELS["en"], default=pl.lit(""), return_dtype=pl.String) + place_label(pl.col("entity_id"), name)
    # the real records: a model lists some of its evidence and counts all of it in details
    n_all = (
        matched.select("lead_id", pl.col("details").str.json_path_match("$.n_records").cast(pl.Int64, strict=False).alias("_n_all"))
        .group_by("lead_id")
        .agg(pl.col("_n_all").max())
    )
    n_rec = pl.max_horizontal(pl.col("record_ids").list.len().fill_null(0), pl.col("_n_all").fill_null(0))
    if "region_name" not in leads.columns:
        leads = leads.with_columns(pl.lit(None, pl.String).alias("region_name"))
    return (
        leads.join(en, on="lead_id", how="left")
        .join(n_all, on="lead_id", how="left")
        .with_columns(
            pl.col("rule_codes")
            .list.eval(pl.element().replace(titles))
            .list.join("; ")
            .alias("_title_en"),
        )
        .with_columns(
            # as complete as the Chinese title: what, about whom, how many records, how much
            pl.when(pl.col("_title_en").is_not_null() & (pl.col("_title_en") != ""))
            .then(
                pl.col("_title_en") + pl.lit(": ") + entity
                + pl.when(n_rec > 1).then(pl.lit(", ") + n_rec.cast(pl.String) + pl.lit(" records"))
                .when(n_rec == 1).then(pl.lit(", 1 record")).otherwise(pl.lit(""))
                + pl.lit(", CNY ") + money(pl.col("amount_at_risk").fill_null(0.0)) + pl.lit(" at risk")
            )
            .otherwise(pl.col("title"))
            .alias("title"),
            pl.coalesce(pl.col("_expl_en"), pl.col("explanation")).alias("explanation"),
        )
        .drop("_title_en", "_expl_en", "_n_all")
    )


def validation_failures(run_info: dict, validation: pl.DataFrame) -> int:
    """Failed expectations: ``run_info["validation_failures"]`` or
    ``run_info["validation"]["failed_expectations"]``, else counted in the summary."""
    n = run_info.get("validation_failures")
    if n is None and isinstance(run_info.get("validation"), dict):
        n = run_info["validation"].get("failed_expectations")
    if n is None:
        n = validation.filter(pl.col("success").not_().fill_null(True)).height
    return int(n)


def unusable_datasets(run_info: dict) -> dict[str, str]:
    """Datasets the validation found unusable (dataset -> why), from ``run_info``."""
    v = run_info.get("validation")
    u = v.get("unusable") if isinstance(v, dict) else run_info.get("unusable")
    return {str(k): str(w) for k, w in (u or {}).items()}


def examples_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """The validation summary's ``examples`` (a list or any scalar) as one ``;``-joined string."""
    if "examples" not in frame.columns:
        return frame
    dtype = frame.schema["examples"]
    if isinstance(dtype, pl.List):
        expr = pl.col("examples").list.eval(pl.element().cast(pl.String, strict=False)).list.join("; ")
    elif dtype == pl.String:
        return frame
    else:
        expr = pl.col("examples").cast(pl.String, strict=False)
    return frame.with_columns(expr.alias("examples"))
