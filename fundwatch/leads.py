"""From findings to ranked leads (问题线索), and the evidence table behind each lead.

**One lead per problem.** All findings about one ``(domain, entity_type, entity_id)`` become
one lead, whatever their rule family, so that a rule finding and a model finding on one
institution meet and corroborate each other. Then leads about *different* entities whose
listed evidence records mostly coincide — at least ``scoring.merge_min_overlap`` of each
one's records, e.g. a card's holder (CADRE_HELD_CARDS) and the card (SHARED_ACCOUNT), or a
village and the operator who enrolled its recipients — become one lead too (connected
components, computed by label propagation), about the member with the strongest finding. A
finding whose parent entity is flagged too joins the parent's lead first
(``RuleSpec.folds_into``: the doctors of an inflated clinic), and so do several findings of one
code sharing an unflagged parent (``scoring.fold_min_siblings``: three doctors of one clinic). Leads that share fewer records
list each other in ``related_lead_ids``.

**Codes.** ``rule_codes`` lists every rule and model that fired, the lead's main finding
first (the likeliest, the one its title names), then the others by code; groupings by rule
(:data:`MONEY_GROUPS`, the workspace's trends) use that first code.

**Money**, per lead:

* ``record_ids`` / ``record_amounts``: every listed evidence record (sorted, unique) and its
  money in doubt — the largest any finding gives it, so two rules citing one payment do not
  double it;
* ``amount_at_risk`` = the sum of ``record_amounts`` + the largest *unlisted* money of a
  finding (``amount_at_risk - sum(record_amounts)``: a peer model's excess carried by the
  records it did not list, or a finding without per-record amounts). Two models of one
  problem (the village and its operator) estimate the same excess: the larger is kept;
* ``amount_involved``: the money of all the evidence records — each listed record's own
  amount (a payment's ``amount``, a claim's ``total_amount``, when ``datasets`` are given),
  or a model's whole evidence (``details.amount_involved``) where larger; never below
  ``amount_at_risk``;
* the title counts the real records: the listed ones, or a model's whole evidence
  (``details.n_records``) where larger.

:func:`total_at_risk` sums money over any set of leads counting each record once.

**Score** ``= P(real) x (amount_at_risk + nominal_money)``, severity and rank: see
:mod:`fundwatch.scoring`; each lead's explanation ends with its breakdown.

**Ids.** ``lead_id`` = :func:`lead_id_of` the lead's ``(domain, entity_type, entity_id)``,
so the same problem keeps its id on every rerun and when later months are added.

**Places.** ``region_code`` is the most precise one known (longest, then most frequent, then
smallest); ``region_name`` its name from ``regions`` (:func:`region_names`); a place in the
title shows as ``name(code)``.

Everything is vectorised polars (group_by / explode / joins); there is no Python loop over
findings or records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import polars as pl

from .textfmt import money

from . import scoring
from .contract import LEADS_SCHEMA
from .idnumber import mask_id
from .memory import as_text
from .privacy import PERSONAL_ENTITY_TYPES
from . import rules_catalog
from .detectors.base import region_names
from .settings import DEFAULT_SETTINGS, ScoringSettings, Settings

KEY = ["domain", "entity_type", "entity_id"]

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
        "batch": "发放批次 ",
    },
    "en": {
        "person": "person ",
        "account": "account ",
        "operator": "operator ",
        "village": "village ",
        "institution": "institution ",
        "doctor": "doctor ",
        "group": "group ",
        "batch": "batch ",
    },
}


def _scoring_settings(settings: Settings | ScoringSettings) -> ScoringSettings:
    return settings if isinstance(settings, ScoringSettings) else settings.scoring


def empty_leads() -> pl.DataFrame:
    """A leads frame with no rows, in :data:`fundwatch.contract.LEADS_SCHEMA`."""
    return pl.DataFrame(schema=LEADS_SCHEMA)


def lead_id_of(domain: str, entity_type: str, entity_id: str, settings: ScoringSettings | None = None) -> str:
    """The stable lead id of one problem: prefix + first hex chars of sha256 over the key.

    >>> lead_id_of("subsidy", "person", "11010519491231002X")[:3]
    'FW-'
    """
    s = settings or DEFAULT_SETTINGS.scoring
    key = "\x1f".join([domain, entity_type, entity_id])
    return s.lead_id_prefix + hashlib.sha256(key.encode("utf-8")).hexdigest()[: s.lead_id_hex_chars]


def _lead_ids(keys: pl.DataFrame, settings: ScoringSettings) -> pl.Series:
    # sha256 is not a polars expression; this runs once per lead (not per finding) on plain strs.
    rows = keys.select(KEY).fill_null("").iter_rows()
    return pl.Series("lead_id", [lead_id_of(*r, settings=settings) for r in rows], dtype=pl.String)


def fmt_money(expr: pl.Expr) -> pl.Expr:
    """``1640.0`` -> ``1,640.00``, vectorised (thousands separators, two decimals)."""
    return money(expr)


# ------------------------------------------------------------------------------ places
def name_of_place(code: pl.Expr, names: pl.DataFrame) -> pl.Expr:
    """The name of a region code (null where unknown), vectorised.

    A code padded with zeros names the area of its non-zero prefix (``511321000000`` is the
    county ``511321``): the code itself is tried first, then its prefix without trailing
    ``000`` / ``000000``.
    """
    if names.height == 0:
        return pl.lit(None, pl.String)
    keys, vals = names["region_code"].to_list(), names["region_name"].to_list()

    def look(e: pl.Expr) -> pl.Expr:
        return e.replace_strict(keys, vals, default=None, return_dtype=pl.String)

    c = code.cast(pl.String)
    nine = pl.when(c.str.len_chars() == 12).then(c.str.strip_suffix("000")).otherwise(None)
    six = pl.when((c.str.len_chars() >= 9) & c.str.slice(6).str.contains(r"^0+$")).then(c.str.slice(0, 6)).otherwise(None)
    return pl.coalesce(look(c), pl.when(nine.str.len_chars() == 9).then(look(nine)), look(six))


def place_label(code: pl.Expr, name: pl.Expr) -> pl.Expr:
    """``name(code)`` where the name is known, else the code."""
    return pl.when(name.is_not_null() & (name != "")).then(name + pl.lit("(") + code + pl.lit(")")).otherwise(code)


def entity_label(entity_id: pl.Expr, names: pl.DataFrame) -> pl.Expr:
    """An entity id with its place named: a region code (a village) as ``name(code)``, and the
    region part of ``batch_id@region_code`` (an allocation batch in one region) likewise."""
    at = entity_id.str.contains("@", literal=True)
    region = entity_id.str.split("@").list.last()
    batch = entity_id.str.split("@").list.first()
    return (
        pl.when(at)
        .then(batch + pl.lit("@") + place_label(region, name_of_place(region, names)))
        .otherwise(place_label(entity_id, name_of_place(entity_id, names)))
    )


# ------------------------------------------------------------------------------ money
def total_at_risk(leads: pl.DataFrame) -> float:
    """Money in doubt over ``leads``, each record's money counted once however many cite it.

    Per record the largest ``record_amounts`` any lead gives it, plus every lead's unlisted
    money (``amount_at_risk - sum(record_amounts)``, a model's records not listed).
    """
    if leads.height == 0:
        return 0.0
    if "record_amounts" not in leads.columns:
        return round(float(leads["amount_at_risk"].fill_null(0.0).sum()), 2)
    return round(float(money_once(leads).select(pl.col("amount").sum()).item() or 0.0), 2)


#: How money in doubt is grouped for trends (run.json ``leads.money_by``, the workspace):
#: group name -> the lead column expression naming each lead's group.
MONEY_GROUPS: dict[str, pl.Expr] = {
    "month": pl.col("period_end"),
    "type": pl.col("domain"),
    "place": pl.col("region_code").str.slice(0, 6),
    "rule": pl.col("rule_codes").list.first(),
}


def money_by_month(leads: pl.DataFrame, evidence: pl.DataFrame | None) -> pl.DataFrame:
    """``month, n, m``: money in doubt per calendar month (``YYYY-MM``) and the number of leads
    holding some of it, each record's money counted once.

    A listed record's money falls in the month of its date in ``evidence`` (the pay date of a
    payment, the visit date of a claim; the lead's first month where the record has no date).
    A lead's *unlisted* money — a peer model's excess carried by all of the entity's records,
    not only the listed ones — is spread evenly over the months of the lead's period: a
    village's excess over a year is not a December event. Without ``evidence`` (or per-record
    money) each lead's money falls in its last month, as before the record dates were known.
    Adds up to :func:`total_at_risk` over leads with a period.
    """
    empty = pl.DataFrame(schema={"month": pl.String(), "n": pl.UInt32(), "m": pl.Float64()})
    if leads.height == 0:
        return empty
    if evidence is None or "record_amounts" not in leads.columns:
        keyed = leads.with_columns(pl.col("period_end").cast(pl.String).alias("month")).filter(pl.col("month").is_not_null())
        pieces = (
            money_once(keyed, by="month") if "record_amounts" in keyed.columns
            else keyed.select("month", pl.col("amount_at_risk").fill_null(0.0).alias("amount"))
        )
        n = keyed.group_by("month").agg(pl.len().cast(pl.UInt32).alias("n"))
        m = pieces.group_by("month").agg(pl.col("amount").sum().round(2).alias("m"))
        return n.join(m, on="month", how="left").with_columns(pl.col("m").fill_null(0.0)).select(empty.columns).sort("month")

    def first_day(col: str) -> pl.Expr:
        return (pl.col(col).cast(pl.String).str.slice(0, 7) + pl.lit("-01")).str.to_date("%Y-%m-%d", strict=False)

    start = pl.coalesce(first_day("period_start"), first_day("period_end"))
    end = pl.coalesce(first_day("period_end"), first_day("period_start"))
    spans = leads.select(
        "lead_id",
        pl.date_ranges(start, pl.max_horizontal(start, end), interval="1mo").list.eval(pl.element().dt.strftime("%Y-%m")).alias("months"),
    )
    # each record's month, one per record whatever the number of leads citing it
    dated = (
        evidence.select("record_id", pl.col("date").dt.strftime("%Y-%m").alias("record_month"))
        .drop_nulls()
        .group_by("record_id")
        .agg(pl.col("record_month").min())
    )
    pieces = money_once(leads, by="lead_id").join(spans, on="lead_id", how="left")
    listed = (
        pieces.filter(pl.col("record_id").is_not_null())
        .join(dated, on="record_id", how="left")
        .select("lead_id", pl.coalesce("record_month", pl.col("months").list.first()).alias("month"), "amount")
    )
    unlisted = (
        pieces.filter(pl.col("record_id").is_null() & (pl.col("months").list.len() > 0))
        .with_columns((pl.col("amount") / pl.col("months").list.len()).alias("amount"))
        .explode("months")
        .select("lead_id", pl.col("months").alias("month"), "amount")
    )
    return (
        pl.concat([listed, unlisted])
        .filter(pl.col("month").is_not_null())
        .group_by("month")
        .agg(pl.col("lead_id").n_unique().cast(pl.UInt32).alias("n"), pl.col("amount").sum().round(2).alias("m"))
        .sort("month")
    )


def money_by(leads: pl.DataFrame, months: pl.DataFrame | None = None) -> dict[str, dict[str, float]]:
    """Money in doubt per group of :data:`MONEY_GROUPS`, each record's money counted once.

    A record cited by leads of two groups counts in the group of the best-ranked of them, so
    each grouping adds up to :func:`total_at_risk`. Leads without a group value are left out.
    ``months``: :func:`money_by_month` of these leads, whose months are the records' own; without
    it a lead's money falls in the month its period ends.
    """
    out: dict[str, dict[str, float]] = {}
    for name, expr in MONEY_GROUPS.items():
        if leads.height == 0:
            out[name] = {}
            continue
        if name == "month" and months is not None:
            out[name] = {k: float(m) for k, _, m in months.iter_rows()}
            continue
        keyed = leads.with_columns(expr.cast(pl.String).alias("_group")).filter(pl.col("_group").is_not_null())
        if "record_amounts" in keyed.columns:
            pieces = money_once(keyed, by="_group")
        else:
            pieces = keyed.select("_group", pl.col("amount_at_risk").fill_null(0.0).alias("amount"))
        sums = pieces.group_by("_group").agg(pl.col("amount").sum()).sort("_group")
        out[name] = {k: round(float(v), 2) for k, v in sums.iter_rows()}
    return out


def place_names(leads: pl.DataFrame, names: pl.DataFrame) -> dict[str, str]:
    """Name of each place of :data:`MONEY_GROUPS` (``region_code[:6]``, a county) the leads
    have; places without a name are left out.

    ``names`` is ``region_code, region_name`` as :func:`region_names` reads them from
    ``regions`` (v2).
    """
    if leads.height == 0 or names.height == 0:
        return {}
    places = leads.select(MONEY_GROUPS["place"].cast(pl.String).alias("code")).drop_nulls().unique().sort("code")
    named = places.with_columns(name_of_place(pl.col("code"), names).alias("name")).drop_nulls("name")
    return {c: n for c, n in named.iter_rows() if n.strip()}


def money_once(leads: pl.DataFrame, by: str | None = None) -> pl.DataFrame:
    """Pieces of money, each counted once: ``[by,] record_id, amount``.

    One row per listed record (its largest amount over the leads citing it, attributed to the
    best-ranked of them) and one per lead with unlisted money (``record_id`` null). Summing
    ``amount`` (grouped by ``by``, a lead column such as ``period_end`` or ``domain``) gives
    totals where no record counts twice.
    """
    cols = ["lead_id", "rank", "record_ids", "record_amounts", "amount_at_risk"] + ([by] if by else [])
    L = leads.select(list(dict.fromkeys(cols)))
    valid = pl.col("record_ids").list.len() == pl.col("record_amounts").list.len()
    L = L.with_columns(
        pl.when(valid).then(pl.col("record_amounts")).otherwise(pl.col("record_ids").list.eval(pl.lit(0.0))).alias("record_amounts")
    )
    listed = (
        L.select(["rank", "record_ids", "record_amounts"] + ([by] if by else []))
        .explode(["record_ids", "record_amounts"])
        .drop_nulls("record_ids")
        .rename({"record_ids": "record_id", "record_amounts": "amount"})
        .sort(["record_id", "rank"])
        .group_by("record_id", maintain_order=True)
        .agg(pl.col("amount").fill_null(0.0).max(), *([pl.col(by).first()] if by else []))
    )
    unlisted = L.select(
        *([by] if by else []),
        pl.lit(None, pl.String).alias("record_id"),
        (pl.col("amount_at_risk").fill_null(0.0) - pl.col("record_amounts").list.sum().fill_null(0.0)).clip(lower_bound=0.0).alias("amount"),
    ).filter(pl.col("amount") > 0.005)
    out_cols = ([by] if by else []) + ["record_id", "amount"]
    return pl.concat([listed.select(out_cols), unlisted.select(out_cols)], how="vertical_relaxed")


def record_money(datasets: Mapping[str, pl.DataFrame | pl.LazyFrame] | None) -> pl.LazyFrame | None:
    """``record_id, record_money``: each payment's ``amount`` and each claim's ``total_amount``."""
    if not datasets:
        return None
    parts = []
    d = _as_lazy(datasets, "disbursements")
    if d is not None:
        parts.append(d.select(pl.col("disbursement_id").alias("record_id"), pl.col("amount").cast(pl.Float64).alias("record_money")))
    c = _as_lazy(datasets, "claims")
    if c is not None:
        parts.append(c.select(pl.col("claim_id").alias("record_id"), pl.col("total_amount").cast(pl.Float64).alias("record_money")))
    if not parts:
        return None
    return pl.concat(parts).unique("record_id", keep="first")


# ------------------------------------------------------------------------------ merging
def _fold_into_parents(f: pl.DataFrame, min_siblings: int) -> pl.DataFrame:
    """Move findings whose parent entity is flagged too into the parent's lead.

    Declared per code beside its detector (``RuleSpec.folds_into``): e.g. a DOCTOR_OUTLIER finding of
    a doctor whose institution has an INSTITUTION_OUTLIER finding takes the institution as its
    entity, so the supervisor gets one lead for the clinic, with its doctors' evidence and
    records (each record's money still counted once). Findings of one code that share a parent
    fold into it even when the parent is not flagged, once there are at least
    ``min_siblings`` of them (``scoring.fold_min_siblings``): several doctors of one clinic out
    of line are the clinic's problem.
    """
    rules = rules_catalog.RULES
    for code, info in sorted(rules.items()):
        if info.folds_into is None:
            continue
        parent_code, key = info.folds_into
        own = f.filter(pl.col("rule_code") == code)
        if own.height == 0 or parent_code not in rules:
            continue
        parent_type = rules[parent_code].entity_type
        parent_id = pl.col("details").str.json_path_match(f"$.{key}")
        flagged = f.filter(pl.col("rule_code") == parent_code)["entity_id"].unique()
        crowded = (
            own.select(parent_id.alias("_parent"), "entity_id").drop_nulls("_parent").unique()
            .group_by("_parent").agg(pl.len().alias("n")).filter(pl.col("n") >= min_siblings)["_parent"]
        )
        parents = pl.concat([flagged, crowded.rename(flagged.name)]).unique()
        folds = (pl.col("rule_code") == code) & parent_id.is_in(parents.implode())
        f = f.with_columns(
            pl.when(folds).then(pl.lit(parent_type)).otherwise(pl.col("entity_type")).alias("entity_type"),
            pl.when(folds).then(parent_id).otherwise(pl.col("entity_id")).alias("entity_id"),
        )
    return f


def _merge_overlapping(f: pl.DataFrame, s: ScoringSettings) -> pl.DataFrame:
    """Give findings of leads whose evidence mostly coincides one key: the strongest member's.

    ``f`` has :data:`KEY` and ``_p``; returns it with KEY replaced for merged members and the
    original entity kept in ``_member_type`` / ``_member_id``.
    """
    f = f.with_columns(pl.col("entity_type").alias("_member_type"), pl.col("entity_id").alias("_member_id"))
    listed = f.select(KEY + ["record_ids"]).explode("record_ids").drop_nulls("record_ids").unique()
    base = (
        f.group_by(KEY)
        .agg(pl.col("_p").max().alias("_pmax"))
        .join(listed.group_by(KEY).agg(pl.len().alias("_n")), on=KEY, how="left")
        .with_columns(pl.col("_n").fill_null(0))
        .sort(["_pmax", "_n"] + KEY, descending=[True, True, False, False, False])
        .with_row_index("_ord")
    )
    rec = listed.join(base.select(KEY + ["_ord", "_n"]), on=KEY).select("_ord", "_n", pl.col("record_ids").alias("record_id"))
    pairs = (
        rec.join(rec, on="record_id", suffix="_b")
        .filter(pl.col("_ord") < pl.col("_ord_b"))
        .group_by("_ord", "_ord_b")
        .agg(pl.len().alias("_shared"), pl.col("_n").first(), pl.col("_n_b").first())
        .filter(
            (pl.col("_shared") >= s.merge_min_overlap * pl.col("_n"))
            & (pl.col("_shared") >= s.merge_min_overlap * pl.col("_n_b"))
        )
        .select("_ord", "_ord_b")
    )
    if pairs.height == 0:
        return f
    # connected components: every member takes the smallest _ord (the strongest) it reaches;
    # each pass is one vectorised join, the loop runs at most the component's diameter times
    edges = pl.concat([pairs, pairs.select(pl.col("_ord_b").alias("_ord"), pl.col("_ord").alias("_ord_b"))])
    label = base.select("_ord", pl.col("_ord").alias("_label"))
    while True:
        nxt = (
            edges.join(label, left_on="_ord_b", right_on="_ord")
            .group_by("_ord")
            .agg(pl.col("_label").min().alias("_nb"))
        )
        new = label.join(nxt, on="_ord", how="left").select(
            "_ord", pl.min_horizontal("_label", pl.col("_nb").fill_null(pl.col("_label"))).alias("_label")
        )
        if new.sort("_ord").equals(label.sort("_ord")):
            break
        label = new
    rep = base.select(KEY + ["_ord"]).join(label, on="_ord").join(
        base.select(pl.col("_ord").alias("_label"), *[pl.col(k).alias(f"_rep_{k}") for k in KEY]), on="_label"
    )
    f = f.join(rep.select(KEY + [f"_rep_{k}" for k in KEY]), on=KEY, how="left")
    return f.with_columns([pl.coalesce(f"_rep_{k}", k).alias(k) for k in KEY]).drop([f"_rep_{k}" for k in KEY])


def _related(leads: pl.DataFrame) -> pl.DataFrame:
    """``lead_id, related_lead_ids``: the other leads sharing at least one evidence record."""
    rec = leads.select("lead_id", "record_ids").explode("record_ids").drop_nulls("record_ids")
    pairs = (
        rec.join(rec, on="record_ids", suffix="_b")
        .filter(pl.col("lead_id") != pl.col("lead_id_b"))
        .group_by("lead_id")
        .agg(pl.col("lead_id_b").unique().sort().alias("related_lead_ids"))
    )
    return leads.select("lead_id").join(pairs, on="lead_id", how="left").with_columns(
        pl.col("related_lead_ids").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )


def _details_number(key: str) -> pl.Expr:
    return pl.col("details").str.json_path_match(f"$.{key}").cast(pl.Float64, strict=False)


# ------------------------------------------------------------------------------ leads
def build_leads(
    findings: pl.DataFrame | pl.LazyFrame,
    settings: Settings | ScoringSettings = DEFAULT_SETTINGS,
    lang: str = "zh",
    as_of: str | None = None,
    datasets: Mapping[str, pl.DataFrame | pl.LazyFrame] | None = None,
    decisions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Merge findings into ranked leads.

    Parameters
    ----------
    findings : :data:`detectors.base.FINDINGS_SCHEMA` rows (any order).
    settings : :class:`fundwatch.settings.Settings` (or just its ``scoring`` section).
    lang : ``"zh"`` or ``"en"``: language of ``title`` and ``explanation``.
    as_of : kept for callers; the expected-value score does not depend on the data's latest month.
    datasets : the validated datasets, optional: ``regions`` names the places,
        ``disbursements`` / ``claims`` give ``amount_involved`` its records' money.
    decisions : earlier supervisors' decisions, optional: one row per decided lead with
        ``status`` and ``rule_codes`` (:meth:`fundwatch.store.LeadStore.decisions_by_rule`);
        they update each code's prior (:func:`fundwatch.scoring.code_priors`).

    Returns
    -------
    pl.DataFrame
        Exactly :data:`fundwatch.contract.LEADS_SCHEMA`, best first (``rank`` 1..n).
        The same findings always give the same frame, whatever their order.
    """
    del as_of  # the score is an expected value; recency no longer enters it
    s = _scoring_settings(settings)
    lang = "zh" if lang == "zh" else "en"
    f0 = (findings.lazy() if isinstance(findings, pl.DataFrame) else findings).filter(pl.col("entity_id").is_not_null()).collect()
    if f0.height == 0:
        return empty_leads()
    rules = rules_catalog.RULES  # family, weight, kind: the same whatever the settings
    codes = sorted(rules)
    present = sorted(set(f0["rule_code"].drop_nulls().to_list()))
    priors = scoring.code_priors(present, {c: float(rules[c].weight) for c in codes}, s, decisions)
    title_of = {c: (rules[c].title_zh if lang == "zh" else rules[c].title_en) for c in codes}
    f = (
        f0.with_columns(
            pl.col("rule_code")
            .replace_strict(codes, [rules[c].family for c in codes], default=pl.col("rule_code"), return_dtype=pl.String)
            .alias("family"),
            pl.col("rule_code").replace_strict(title_of, default=pl.col("rule_code"), return_dtype=pl.String).alias("_title"),
            pl.col("score").fill_null(0.0).clip(0.0, 1.0).alias("score"),
            pl.col("evidence_zh" if lang == "zh" else "evidence_en").alias("_evidence"),
            _details_number("n_records").alias("_n_all"),
            _details_number("amount_involved").alias("_involved_all"),
        )
        .join(priors, on="rule_code", how="left")
        .with_columns((pl.col("prior").fill_null(s.unknown_rule_weight) * pl.col("score")).alias("_p"))
    )
    f = _fold_into_parents(f, s.fold_min_siblings)
    f = _merge_overlapping(f, s).lazy().with_columns(pl.col("_p").max().over(KEY + ["rule_code"]).alias("_code_p"))

    # -- per lead: codes, periods, evidence text, merged entities -------------------------
    primary = pl.col("rule_code").sort_by(["_p", "rule_code"], descending=[True, False]).first()
    codes = pl.col("rule_code").unique(maintain_order=True)
    per_lead = f.group_by(KEY).agg(
        # the lead's main finding first (the one its title names), then the others by code
        codes.sort_by([codes != primary, codes]).alias("rule_codes"),
        pl.col("rule_code").n_unique().alias("n_codes"),
        pl.col("period_start").min(),
        pl.col("period_end").max(),
        primary.alias("primary_code"),
        # the main finding's evidence first, as a supervisor reads the first sentence as the
        # reason: codes by their strongest finding's probability, then by code
        pl.col("_evidence").sort_by(["_code_p", "rule_code", "_evidence"], descending=[True, False, False])
        .drop_nulls().unique(maintain_order=True).alias("_evidence_list"),
        pl.col("_n_all").max().fill_null(0).alias("_n_all"),
        pl.col("_involved_all").max().fill_null(0.0).alias("_involved_all"),
        pl.struct("_member_type", "_member_id")
        .filter((pl.col("_member_type") != pl.col("entity_type")) | (pl.col("_member_id") != pl.col("entity_id")))
        .unique()
        .sort()
        .alias("_members"),
    )
    # -- per lead: probability from the codes' priors, by family (noisy-OR) ----------------
    per_code = f.group_by(KEY + ["rule_code"]).agg(
        pl.col("_p").max(), pl.col("family").first(), pl.col("_title").first(),
        pl.col("n_confirmed").first().fill_null(0), pl.col("n_dismissed").first().fill_null(0),
    ).with_columns(scoring.prior_text_expr(lang).alias("_prior_text"))
    # the lead as a whole (for a lead without money): every family on the entity
    per_family = per_code.group_by(KEY + ["family"]).agg(pl.col("_p").max())
    prob = per_family.group_by(KEY).agg(pl.col("_p").sort().alias("_family_p")).with_columns(
        scoring.probability_expr(pl.col("_family_p")).alias("_p_entity")
    ).drop("_family_p")
    texts = per_code.group_by(KEY).agg(
        pl.col("_prior_text").sort_by(["_p", "rule_code"], descending=[True, False]).alias("prior_texts")
    )

    # -- per lead: records, money counted once per record ---------------------------------
    valid = (pl.col("record_ids").list.len() == pl.col("record_amounts").list.len()) & (pl.col("record_ids").list.len() > 0)
    recs = f.select(KEY + ["record_ids", "record_amounts", "amount_at_risk", "family", "_p"]).with_columns(
        pl.when(valid).then(pl.col("record_amounts")).otherwise(pl.col("record_ids").list.eval(pl.lit(0.0))).alias("record_amounts"),
        pl.when(valid)
        .then((pl.col("amount_at_risk").fill_null(0.0) - pl.col("record_amounts").list.sum()).clip(lower_bound=0.0))
        .otherwise(pl.col("amount_at_risk").fill_null(0.0))
        .alias("_unlisted"),
    )
    # each record: its money (the largest any finding gives it) and the probability that it is
    # in doubt, from the families citing *it* (noisy-OR): corroboration on the same records
    per_record = (
        recs.select(KEY + ["record_ids", "record_amounts", "family", "_p"])
        .explode(["record_ids", "record_amounts"])
        .rename({"record_ids": "record_id", "record_amounts": "amount"})
        .filter(pl.col("record_id").is_not_null())
        .group_by(KEY + ["record_id", "family"])
        .agg(pl.col("amount").fill_null(0.0).max(), pl.col("_p").max())
        .group_by(KEY + ["record_id"])
        .agg(
            pl.col("amount").max(),
            (1.0 - (1.0 - pl.col("_p").clip(0.0, 1.0)).product()).alias("_p_rec"),
            pl.len().alias("_n_fam"),
        )
    )
    rm = record_money(datasets)
    if rm is not None:
        per_record = per_record.join(rm, on="record_id", how="left")
    else:
        per_record = per_record.with_columns(pl.lit(None, pl.Float64).alias("record_money"))
    per_record = per_record.with_columns(pl.max_horizontal("amount", pl.col("record_money").fill_null(pl.col("amount"))).alias("record_money"))
    money_frame = per_record.group_by(KEY).agg(
        pl.col("record_id").sort().alias("record_ids"),
        pl.col("amount").sort_by("record_id").round(2).alias("record_amounts"),
        # summed in record order so the float result never depends on input order
        pl.col("amount").sort_by("record_id").sum().alias("_listed"),
        pl.col("record_money").sort_by("record_id").sum().alias("_listed_money"),
        (pl.col("amount") * pl.col("_p_rec")).sort_by("record_id").sum().alias("_ev_listed"),
        pl.col("_n_fam").max().alias("_n_corroborating"),
    )
    # money of records a finding did not list: at that finding's own probability
    unlisted = recs.group_by(KEY).agg(pl.col("_unlisted").max(), (pl.col("_unlisted") * pl.col("_p")).max().alias("_ev_unlisted"))

    # -- per lead: the region of its own entity's findings, then the most precise -----------
    # (a village merged with its operator is in the village, wherever the operator's other
    # villages are)
    own = (pl.col("_member_type") == pl.col("entity_type")) & (pl.col("_member_id") == pl.col("entity_id"))
    region = (
        f.filter(pl.col("region_code").is_not_null() & (pl.col("region_code") != ""))
        .group_by(KEY + ["region_code"])
        .agg(pl.len().alias("_n"), own.any().alias("_own"))
        .with_columns(pl.col("region_code").str.len_chars().alias("_len"))
        .group_by(KEY)
        .agg(
            pl.col("region_code")
            .sort_by(["_own", "_len", "_n", "region_code"], descending=[True, True, True, False])
            .first()
        )
    )

    leads = (
        per_lead.join(prob, on=KEY, how="left", nulls_equal=True)
        .join(texts, on=KEY, how="left", nulls_equal=True)
        .join(money_frame, on=KEY, how="left", nulls_equal=True)
        .join(unlisted, on=KEY, how="left", nulls_equal=True)
        .join(region, on=KEY, how="left", nulls_equal=True)
        .with_columns(
            pl.col("record_ids").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.col("record_amounts").fill_null(pl.lit([], dtype=pl.List(pl.Float64))),
            pl.col("_listed").fill_null(0.0),
            pl.col("_listed_money").fill_null(0.0),
            pl.col("_unlisted").fill_null(0.0),
            pl.col("_ev_listed").fill_null(0.0),
            pl.col("_ev_unlisted").fill_null(0.0),
            pl.col("_n_corroborating").fill_null(1),
        )
        .with_columns((pl.col("_listed") + pl.col("_unlisted")).round(2).alias("amount_at_risk"))
        .with_columns(
            # P(real) of the lead's money: the expected money in doubt over the money
            pl.when(pl.col("_listed") + pl.col("_unlisted") > 0)
            .then(((pl.col("_ev_listed") + pl.col("_ev_unlisted")) / (pl.col("_listed") + pl.col("_unlisted"))).clip(0.0, 1.0))
            .otherwise(pl.col("_p_entity"))
            .alias("probability")
        )
        .with_columns(
            pl.max_horizontal("_listed_money", "_involved_all", "amount_at_risk").round(2).alias("amount_involved"),
            pl.max_horizontal(pl.col("record_ids").list.len().cast(pl.Int64), pl.col("_n_all").cast(pl.Int64)).alias("_n_records"),
        )
        .sort(KEY)
        .collect()
    )
    leads = leads.with_columns(_lead_ids(leads, s))
    leads = leads.join(_related(leads), on="lead_id", how="left")

    names = region_names(None if datasets is None else datasets.get("regions"))
    labels = ENTITY_LABELS[lang]
    institutions = institution_names(datasets)
    institution = pl.col("entity_id").replace_strict(
        institutions["institution_id"].to_list(), institutions["institution_name"].to_list(), default=None, return_dtype=pl.String
    )
    entity = pl.col("entity_type").replace_strict(labels, default=pl.lit(""), return_dtype=pl.String) + pl.when(
        pl.col("entity_type") == "institution"
    ).then(place_label(pl.col("entity_id"), institution)).otherwise(entity_label(pl.col("entity_id"), names))
    n_rec = pl.col("_n_records").cast(pl.String)
    primary_title = pl.col("primary_code").replace_strict(title_of, default=pl.col("primary_code"), return_dtype=pl.String)
    extra = pl.col("n_codes") - 1
    # a merged member's identifier is named in free text: masked when it is personal, since
    # output masking only knows the lead's own entity_id (the member's records stay whole)
    mtype, mid = pl.element().struct.field("_member_type"), pl.element().struct.field("_member_id")
    member = mtype.replace_strict(labels, default=pl.lit(""), return_dtype=pl.String) + pl.when(
        mtype.is_in(list(PERSONAL_ENTITY_TYPES))
    ).then(mask_id(mid)).otherwise(mid)
    members = pl.col("_members").list.eval(member).list.join("、" if lang == "zh" else ", ")
    code_titles = pl.col("rule_codes").list.eval(pl.element().replace_strict(title_of, default=pl.element(), return_dtype=pl.String))
    if lang == "zh":
        title = (
            primary_title
            + pl.when(extra > 0).then(pl.lit("等") + pl.col("n_codes").cast(pl.String) + pl.lit("项")).otherwise(pl.lit(""))
            + pl.lit(":") + entity
            # the money is the money in doubt, not the records' total (a model's excess): say so
            + pl.when(pl.col("_n_records") > 0).then(pl.lit(" 共 ") + n_rec + pl.lit(" 笔,存疑金额 ")).otherwise(pl.lit(" 存疑金额 "))
            + fmt_money(pl.col("amount_at_risk")) + pl.lit(" 元")
        )
        more = pl.lit(";另有 ") + (pl.col("_evidence_list").list.len() - s.max_evidence_in_explanation).cast(pl.String) + pl.lit(" 条")
        sep = pl.lit(";")
        period = pl.lit("期间 ") + pl.col("period_start") + pl.when(pl.col("period_end") != pl.col("period_start")).then(pl.lit(" 至 ") + pl.col("period_end")).otherwise(pl.lit(""))
        fired = pl.lit("发现问题:") + code_titles.list.join("、")
        merged = pl.when(pl.col("_members").list.len() > 0).then(pl.lit("同一问题合并:") + members)
    else:
        title = (
            primary_title
            + pl.when(extra > 0).then(pl.lit(" (+") + extra.cast(pl.String) + pl.lit(" more)")).otherwise(pl.lit(""))
            + pl.lit(": ") + entity
            + pl.when(pl.col("_n_records") > 1).then(pl.lit(", ") + n_rec + pl.lit(" records, CNY "))
            .when(pl.col("_n_records") == 1).then(pl.lit(", 1 record, CNY ")).otherwise(pl.lit(", CNY "))
            + fmt_money(pl.col("amount_at_risk")) + pl.lit(" at risk")
        )
        more = pl.lit("; and ") + (pl.col("_evidence_list").list.len() - s.max_evidence_in_explanation).cast(pl.String) + pl.lit(" more")
        sep = pl.lit("; ")
        period = pl.lit("period ") + pl.col("period_start") + pl.when(pl.col("period_end") != pl.col("period_start")).then(pl.lit(" to ") + pl.col("period_end")).otherwise(pl.lit(""))
        fired = pl.lit("codes: ") + pl.col("rule_codes").list.join(", ")
        merged = pl.when(pl.col("_members").list.len() > 0).then(pl.lit("merged with: ") + members)
    evidence = pl.col("_evidence_list").list.head(s.max_evidence_in_explanation).list.join(sep) + pl.when(
        pl.col("_evidence_list").list.len() > s.max_evidence_in_explanation
    ).then(more).otherwise(pl.lit(""))
    explanation = pl.concat_str(
        [evidence, fired, merged, period.fill_null(pl.lit("")), scoring.explain_score_expr(lang, s)],
        separator=" | ",
        ignore_nulls=True,
    )
    out = (
        leads.lazy()
        .with_columns(
            name_of_place(pl.col("region_code"), names).fill_null("").alias("region_name"),
            scoring.score_expr(pl.col("probability"), pl.col("amount_at_risk"), s).alias("score"),
        )
        .with_columns(scoring.severity_expr(pl.col("score"), pl.col("probability"), s).alias("severity"), title.alias("title"))
        .with_columns(explanation.alias("explanation"))
        .pipe(scoring.rank_leads)
        .select([pl.col(c).cast(t) for c, t in LEADS_SCHEMA.items()])
        .collect()
    )
    return out


def institution_names(datasets: Mapping[str, pl.DataFrame | pl.LazyFrame] | None) -> pl.DataFrame:
    """``institution_id, institution_name`` from ``institutions`` (empty when absent): a lead
    about an institution is titled ``name(code)``, as supervisors know clinics by name. Ids
    without a name are left out, one name per id."""
    schema = {"institution_id": pl.String(), "institution_name": pl.String()}
    inst = None if not datasets else _as_lazy(datasets, "institutions")
    if inst is None:
        return pl.DataFrame(schema=schema)
    return (
        inst.select(pl.col("institution_id").cast(pl.String), pl.col("name").cast(pl.String).str.strip_chars().alias("institution_name"))
        .filter(pl.col("institution_id").is_not_null() & (pl.col("institution_name") != ""))
        .group_by("institution_id")
        .agg(pl.col("institution_name").min())
        .sort("institution_id")
        .collect()
    )


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
