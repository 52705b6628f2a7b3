"""Items paid outside their payment scope: the diagnosis or the kind of visit the catalogue
restricts them to (RESTRICTED_INDICATION, VISIT_TYPE_LIMIT).

Both are the billing institution's decisions (the doctor prescribes, the hospital bills), so
the findings are about the ``institution``, listing every claim concerned.
"""

from __future__ import annotations

import polars as pl

from fundwatch.settings import DEFAULT_SETTINGS

from ..base import Datasets, RuleSpec, lazy, lazy_rows, optional_column
from ..policy import MEDICAL_FUND_REGULATION_EN, MEDICAL_FUND_REGULATION_ZH
from ._common import (
    MedicalDetector, claims_to_findings, finish, flagged_items, held_values, json_details, money,
    per_claim_at_risk, ramp_score, with_claims, ymd,
)

_S = DEFAULT_SETTINGS.medical


def _names(col: str, sep: str, more: str) -> pl.Expr:
    return pl.col(col).list.head(3).list.join(sep) + pl.when(pl.col(col).list.len() > 3).then(
        pl.lit(more)).otherwise(pl.lit(""))


def _institution_findings(per_claim: pl.LazyFrame, extra: list[pl.Expr] | tuple = ()) -> pl.LazyFrame:
    return claims_to_findings(
        per_claim, "institution", "institution_id",
        [pl.col("inst_name").first(), pl.col("item_amount").sum(), pl.col("n_lines").sum(),
         pl.col("names").list.explode(keep_nulls=False, empty_as_null=False).unique().sort().alias("item_names"),
         pl.col("visit_date").min().alias("first_visit"), pl.col("visit_date").max().alias("last_visit"),
         *extra],
    ).with_columns(pl.col("inst_name").fill_null(pl.col("institution_id")))


def _codes(expr: pl.Expr) -> pl.Expr:
    """A ``;``-joined code list as a list of upper-case codes without blanks."""
    return (expr.fill_null("").str.replace_all("；", ";").str.split(";")
            .list.eval(pl.element().str.strip_chars().str.to_uppercase().filter(pl.element() != "")))


class RestrictedIndicationRule(MedicalDetector):
    """An item restricted to some diagnoses billed on a claim with none of them (超限定支付范围).

    What it finds
        Claim lines whose catalogue item has an ``indication`` (ICD-10 prefixes, e.g.
        ``E10;E11``) while neither the claim's ``diagnosis_code`` nor any of its
        ``secondary_diagnoses`` starts with one of them. Money at risk: the lines' amount
        times the claim's fund share. One finding per institution.
    Why it matters
        Restricted-payment items (人血白蛋白 only for cirrhosis, shock or burns; insulin
        analogues only for diabetes) are paid by the fund only for those illnesses; billing
        them otherwise is the most frequent finding of the national inspections' 限定支付范围
        rules.
    Look-alike it ignores
        The indication met by a secondary diagnosis (其他诊断), and codes that extend a prefix
        (``E11.9`` meets ``E11``). A claim whose diagnoses are all empty is still checked: an
        uncoded restricted item is not payable either.

    Entity: ``institution``. Score: ``floor + (1-floor) * clip((claims - 1) /
    (scope_full_score_claims - 1))``.
    """

    rules = (
        RuleSpec(
            code="RESTRICTED_INDICATION",
            family="payment_scope",
            weight=0.7,
            entity_type="institution",
            title_zh="超限定支付范围",
            title_en="Restricted item without its indication",
            meaning_zh="限定诊断使用的药品或项目,结算单的主要诊断和其他诊断都不符合限定",
            meaning_en="An item the catalogue restricts to some diagnoses, on a claim whose principal and secondary diagnoses all miss them",
            basis_zh="医保基金监管规则库:限定支付范围类规则(限适应症);" + MEDICAL_FUND_REGULATION_ZH,
            basis_en="The medical-insurance audit rule library: rules on restricted payment scope (indications); the " + MEDICAL_FUND_REGULATION_EN,
            checklist_zh=(
                "调取病历、医嘱和检查检验报告,核对是否有符合限定的诊断依据",
                "核对医保结算清单的诊断填写是否完整",
                "询问开方医师用药理由和医保办审核情况",
            ),
            checklist_en=(
                "Pull the medical record, orders and test results: is there evidence of a qualifying diagnosis",
                "Check whether the settlement list's diagnoses are complete",
                "Ask the prescribing doctor why, and how the hospital's insurance office reviewed it",
            ),
        ),
    )
    partition_by = ("claims", "institution_id")
    kind = "rule"
    requires = ("item_catalog", "claims", "claim_items")
    requires_columns = {"item_catalog": ("indication",)}
    optional = ("institutions",)

    def __init__(self, scope_full_score_claims: int = _S.scope_full_score_claims,
                 score_floor: float = _S.score_floor):
        self.scope_full_score_claims = scope_full_score_claims
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        lines = flagged_items(datasets, _codes(pl.col("indication")).list.len() > 0, ["indication"])
        small = lines.select("claim_id").collect()["claim_id"].unique()
        diags = (
            lazy_rows(datasets, "claims", pl.col("claim_id").is_in(small.implode()))
            .select("claim_id", pl.concat_list(
                _codes(pl.col("diagnosis_code")),
                _codes(optional_column(datasets, "claims", "secondary_diagnoses")),
            ).alias("diags"))
        )
        checked = (
            lines.join(diags, on="claim_id", how="left")
            .with_columns(prefixes=_codes(pl.col("cat_indication")))
            .with_row_index("_line")
        )
        # one row per (line, diagnosis, prefix): only the few restricted lines are exploded
        met = (
            checked.select("_line", "diags", "prefixes").explode("diags").explode("prefixes")
            .group_by("_line")
            .agg(pl.col("diags").str.starts_with(pl.col("prefixes")).fill_null(False).any().alias("met"))
        )
        bad = (
            checked.join(met, on="_line", how="left")
            .filter(~pl.col("met").fill_null(False))
            .with_columns(dx_text=pl.col("diags").list.join("、"))
        )
        per_claim = per_claim_at_risk(
            bad, ["institution_id"], pl.col("amount"),
            [pl.col("item_name").unique().alias("names"),
             pl.col("cat_indication").first().alias("indication"), pl.col("dx_text").first()],
        )
        grouped = _institution_findings(
            per_claim,
            [pl.col("indication").first(), pl.col("dx_text").first()],
        )
        ev_zh = pl.format(
            "{} 在 {} 至 {} 的 {} 张结算单中,限定诊断使用的 {} 共 {} 行,诊断均不符合限定(如限定 {},结算单诊断为 {});"
            "金额 {} 元,其中统筹支付 {} 元",
            pl.col("inst_name"), ymd(pl.col("first_visit")), ymd(pl.col("last_visit")), pl.col("n_claims"),
            _names("item_names", "、", " 等"), pl.col("n_lines"), pl.col("indication"),
            pl.when(pl.col("dx_text") == "").then(pl.lit("空")).otherwise(pl.col("dx_text")),
            money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{}: on {} claims from {} to {}, {} lines of items restricted to some diagnoses ({}) with no "
            "qualifying diagnosis (e.g. restricted to {}, claim coded {}); {} CNY, fund share {} CNY",
            pl.col("inst_name"), pl.col("n_claims"), ymd(pl.col("first_visit")), ymd(pl.col("last_visit")),
            pl.col("n_lines"), _names("item_names", ", ", " etc."), pl.col("indication"),
            pl.when(pl.col("dx_text") == "").then(pl.lit("none")).otherwise(pl.col("dx_text")),
            money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        details = json_details(items=pl.col("item_names"), lines=pl.col("n_lines"),
                               example_indication=pl.col("indication"), example_diagnoses=pl.col("dx_text"))
        score = ramp_score(pl.col("n_claims"), 1, max(s.scope_full_score_claims, 2), s)
        return finish(grouped, "RESTRICTED_INDICATION", score, ev_zh, ev_en, details)


_VISIT_ZH = {"inpatient": "住院", "outpatient": "门诊", "pharmacy": "药店购药"}
_VISIT_EN = {"inpatient": "in-patient", "outpatient": "out-patient", "pharmacy": "pharmacy"}
_LIMIT_ZH = {"inpatient": "限住院", "outpatient": "限门诊"}
_LIMIT_EN = {"inpatient": "in-patient only", "outpatient": "out-patient only"}


class VisitTypeLimitRule(MedicalDetector):
    """An item restricted to one kind of visit billed on another (超限定就医方式).

    What it finds
        Claim lines whose catalogue item has a ``visit_type_limit``: ``inpatient`` (限住院)
        billed on an out-patient or pharmacy claim, or ``outpatient`` (限门诊) billed on an
        in-patient claim. Money at risk: the lines' amount times the claim's fund share. One
        finding per institution.
    Why it matters
        In-patient-only items (人血白蛋白, in-patient nursing and bed fees) billed to
        out-patients take in-patient money for out-patient care or for nothing; the national
        inspections check 限定就医方式 item by item.
    Look-alike it ignores
        The item on its own kind of visit — including an in-patient-only item on the
        in-patient claim of a person who came through the out-patient or emergency hall the
        same day (the claim's kind, not the day, decides); out-patient-only items at a
        pharmacy (out-patient and pharmacy are both out-patient care).

    Entity: ``institution``. Score: ``floor + (1-floor) * clip((claims - 1) /
    (scope_full_score_claims - 1))``.
    """

    rules = (
        RuleSpec(
            code="VISIT_TYPE_LIMIT",
            family="payment_scope",
            weight=0.7,
            entity_type="institution",
            title_zh="超限定就医方式",
            title_en="Item outside its kind of visit",
            meaning_zh="限住院使用的药品或项目用于门诊或药店结算,或限门诊的项目用于住院结算",
            meaning_en="An in-patient-only item billed to an out-patient or pharmacy claim, or an out-patient-only item to an in-patient claim",
            basis_zh="医保基金监管规则库:限定支付范围类规则(限就医方式);" + MEDICAL_FUND_REGULATION_ZH,
            basis_en="The medical-insurance audit rule library: rules on restricted payment scope (kind of visit); the " + MEDICAL_FUND_REGULATION_EN,
            checklist_zh=(
                "调取结算明细、处方或医嘱,核对项目实际在何种就诊中使用",
                "核对是否有住院记录支持限住院项目",
                "询问开方医师和收费人员",
            ),
            checklist_en=(
                "Pull the claim lines and prescriptions or orders: in what kind of visit was the item really given",
                "Check for an in-patient record behind any in-patient-only item",
                "Ask the prescribing doctor and the billing staff",
            ),
        ),
    )
    partition_by = ("claims", "institution_id")
    kind = "rule"
    requires = ("item_catalog", "claims", "claim_items")
    requires_columns = {"item_catalog": ("visit_type_limit",)}
    optional = ("institutions",)

    def __init__(self, scope_full_score_claims: int = _S.scope_full_score_claims,
                 score_floor: float = _S.score_floor):
        self.scope_full_score_claims = scope_full_score_claims
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        cat = (
            lazy(datasets, "item_catalog")
            .filter(pl.col("visit_type_limit").is_in(["inpatient", "outpatient"]))
            .select("item_code", pl.col("item_name").alias("cat_item_name"),
                    pl.col("visit_type_limit").alias("cat_visit_type_limit"))
            .unique("item_code", keep="first").collect()
        )
        # Limited items are common (ward fees on every bed day, the consultation fee on every
        # visit) and almost always on the right kind of claim, so the wrong ones are found by
        # claim id first: in-patient-only lines off the in-patient claims, out-patient-only
        # lines on them. Only those few lines are then joined to anything.
        inpatient = (
            lazy_rows(datasets, "claims", pl.col("visit_type").cast(pl.String) == "inpatient")
            .select("claim_id").collect().to_series()
        )
        held = lambda lim: held_values(  # noqa: E731
            datasets, "claim_items", "item_code",
            cat.filter(pl.col("cat_visit_type_limit") == lim)["item_code"])
        on_inpatient = pl.col("claim_id").is_in(inpatient.implode())
        bad = (
            lazy_rows(datasets, "claim_items",
                      (pl.col("item_code").is_in(held("inpatient").implode()) & ~on_inpatient)
                      | (pl.col("item_code").is_in(held("outpatient").implode()) & on_inpatient))
            .select("claim_id", "line_no", "item_code", "item_name", "quantity", "unit_price", "amount",
                    "service_date")
            .join(cat.lazy(), on="item_code", how="inner")
            .with_columns(item_name=pl.coalesce("cat_item_name", "item_name"))
            .drop("cat_item_name")
            .pipe(lambda lf: with_claims(datasets, lf))
            # the claim's own kind decides (a pharmacy claim is out-patient care)
            .filter(((pl.col("cat_visit_type_limit") == "inpatient") & (pl.col("visit_type") != "inpatient"))
                    | ((pl.col("cat_visit_type_limit") == "outpatient") & (pl.col("visit_type") == "inpatient")))
        )
        per_claim = per_claim_at_risk(
            bad, ["institution_id"], pl.col("amount"),
            [pl.col("item_name").unique().alias("names"), pl.col("cat_visit_type_limit").first().alias("limit"),
             pl.col("visit_type").first()],
        )
        grouped = _institution_findings(
            per_claim, [pl.col("limit").first(), pl.col("visit_type").unique().sort().alias("visit_types")],
        )
        vt_zh = pl.col("visit_types").list.eval(pl.element().replace_strict(_VISIT_ZH, default="?")).list.join("、")
        vt_en = pl.col("visit_types").list.eval(pl.element().replace_strict(_VISIT_EN, default="?")).list.join(", ")
        ev_zh = pl.format(
            "{} 在 {} 至 {} 的 {} 张{}结算单中记{}项目 {} 共 {} 行;金额 {} 元,其中统筹支付 {} 元",
            pl.col("inst_name"), ymd(pl.col("first_visit")), ymd(pl.col("last_visit")), pl.col("n_claims"),
            vt_zh, pl.col("limit").replace_strict(_LIMIT_ZH, default="?"), _names("item_names", "、", " 等"),
            pl.col("n_lines"), money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{}: {} {} claims from {} to {} bill {} items ({}), {} lines; {} CNY, fund share {} CNY",
            pl.col("inst_name"), pl.col("n_claims"), vt_en, ymd(pl.col("first_visit")), ymd(pl.col("last_visit")),
            pl.col("limit").replace_strict(_LIMIT_EN, default="?"), _names("item_names", ", ", " etc."),
            pl.col("n_lines"), money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        details = json_details(items=pl.col("item_names"), visit_type_limit=pl.col("limit"),
                               billed_on=pl.col("visit_types"), lines=pl.col("n_lines"))
        score = ramp_score(pl.col("n_claims"), 1, max(s.scope_full_score_claims, 2), s)
        return finish(grouped, "VISIT_TYPE_LIMIT", score, ev_zh, ev_en, details)
