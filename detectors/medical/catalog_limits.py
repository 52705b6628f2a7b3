"""Items billed against the catalogue's gender and age limits (GENDER_LIMIT, AGE_LIMIT)."""

from __future__ import annotations

import re

import polars as pl

from fundwatch.settings import DEFAULT_SETTINGS

from ..base import Datasets, RuleSpec, lazy, optional_column
from ..policy import MEDICAL_FUND_REGULATION_EN, MEDICAL_FUND_REGULATION_ZH
from ._common import (
    MedicalDetector, age_on, claims_to_findings, finish, flagged_items, json_details, money,
    per_claim_at_risk, person_profile, ramp_score, ymd,
)

_S = DEFAULT_SETTINGS.medical

_GENDER_ZH = {"M": "男", "F": "女"}
_GENDER_EN = {"M": "male", "F": "female"}


def _items_text(col: str = "item_names") -> pl.Expr:
    return pl.col(col).list.head(3).list.join("、") + pl.when(pl.col(col).list.len() > 3).then(
        pl.lit(" 等")).otherwise(pl.lit(""))


def _items_text_en(col: str = "item_names") -> pl.Expr:
    return pl.col(col).list.head(3).list.join(", ") + pl.when(pl.col(col).list.len() > 3).then(
        pl.lit(" etc.")).otherwise(pl.lit(""))


class GenderLimitRule(MedicalDetector):
    """Items limited to one sex billed to a person of the other sex (限性别项目违规).

    What it finds
        Claim lines whose catalogue item has a ``gender_limit`` while the insured person is of
        the other sex. The person's sex comes from ``persons.gender``, or, where the person is
        not in the roster, from the identity number's 17th digit (odd = male). One finding
        per person and institution; each claim's money at risk is the offending lines' amount
        times the claim's fund share.
    Why it matters
        A prostate drug for a woman or an obstetric exam for a man means the card was used for
        someone else (冒名/借卡) or the item was invented.
    Look-alike it ignores
        Items without a gender limit, and limited items billed to the right sex.

    Entity: ``person`` (the card holder whose profile is contradicted; the institution is in
    ``details`` and sets ``region_code``), because the same card misused at several places is
    one story. Score: ``floor + (1-floor) * clip((claims - 1) / (catalog_full_score_claims - 1))``.
    """

    rules = (
        RuleSpec(
            code="GENDER_LIMIT",
            family="catalog_limits",
            weight=0.8,
            entity_type="person",
            title_zh="限性别项目违规",
            title_en="Gender-restricted item billed to the wrong sex",
            meaning_zh="限定性别使用的药品或项目用于另一性别的参保人",
            meaning_en="An item limited to one sex billed to a person of the other",
            basis_zh="医保基金监管规则库:限定支付范围类规则(限性别);" + MEDICAL_FUND_REGULATION_ZH,
            basis_en="The medical-insurance audit rule library: rules on restricted payment scope (sex); the " + MEDICAL_FUND_REGULATION_EN,
            checklist_zh=(
                "调取结算明细、处方和病历,核对患者性别和所用项目",
                "核实是否冒用他人医保卡或虚记项目",
                "询问开方医师和收费人员",
            ),
            checklist_en=(
                "Pull the claim lines, prescription and medical record; check the patient's sex and the item",
                "Check whether someone else's card was used or the item was invented",
                "Ask the prescribing doctor and the billing staff",
            ),
        ),
    )
    partition_by = ("claims", "person_id")
    kind = "rule"
    requires = ("item_catalog", "claims", "claim_items")
    optional = ("persons", "institutions")

    def __init__(self, catalog_full_score_claims: int = _S.catalog_full_score_claims,
                 score_floor: float = _S.score_floor):
        self.catalog_full_score_claims = catalog_full_score_claims
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        lines = flagged_items(datasets, pl.col("gender_limit").is_not_null(), ["gender_limit"])
        prof = person_profile(datasets, lines.select("person_id"))
        lines = lines.join(prof, on="person_id", how="left").filter(
            pl.col("p_gender").is_not_null() & (pl.col("p_gender") != pl.col("cat_gender_limit"))
        )
        keys = ["person_id", "institution_id"]
        per_claim = per_claim_at_risk(
            lines, keys, pl.col("amount"),
            [pl.col("p_gender").first(), pl.col("cat_gender_limit").first(),
             pl.col("item_name").unique().alias("names")],
        )
        grouped = claims_to_findings(
            per_claim, "person", keys,
            [pl.col("p_gender").first(), pl.col("cat_gender_limit").first().alias("limit"),
             pl.col("names").list.explode(keep_nulls=False, empty_as_null=False).unique().sort().alias("item_names"),
             pl.col("inst_name").first(), pl.col("item_amount").sum(),
             pl.col("n_lines").sum(),
             pl.col("visit_date").min().alias("first_visit"),
             pl.col("visit_date").max().alias("last_visit")],
        )
        g_zh = pl.col("p_gender").replace_strict(_GENDER_ZH, default="?")
        l_zh = pl.col("limit").replace_strict(_GENDER_ZH, default="?")
        g_en = pl.col("p_gender").replace_strict(_GENDER_EN, default="?")
        l_en = pl.col("limit").replace_strict(_GENDER_EN, default="?")
        ev_zh = pl.format(
            "参保人性别为{};{} 至 {} 在 {} 的 {} 张结算单含限{}性项目 {}({} 行,金额 {} 元),统筹支付 {} 元",
            g_zh, ymd(pl.col("first_visit")), ymd(pl.col("last_visit")),
            pl.col("inst_name").fill_null(pl.col("institution_id")), pl.col("n_claims"), l_zh,
            _items_text(), pl.col("n_lines"), money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "Insured person is {}; {} claims at {} from {} to {} include items limited to {} patients: "
            "{} ({} lines, {} CNY), fund share {} CNY",
            g_en, pl.col("n_claims"), pl.col("inst_name").fill_null(pl.col("institution_id")),
            ymd(pl.col("first_visit")), ymd(pl.col("last_visit")), l_en,
            _items_text_en(), pl.col("n_lines"), money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        details = json_details(
            institution_id=pl.col("institution_id"), person_gender=pl.col("p_gender"),
            gender_limit=pl.col("limit"), items=pl.col("item_names"),
        )
        score = ramp_score(pl.col("n_claims"), 1, max(s.catalog_full_score_claims, 2), s)
        return finish(grouped, "GENDER_LIMIT", score, ev_zh, ev_en, details)


class AgeLimitRule(MedicalDetector):
    """Items billed outside the catalogue's age limits (限年龄项目违规).

    What it finds
        Claim lines whose item has ``min_age`` and/or ``max_age`` while the person's age in
        whole years on the ``service_date`` is below ``min_age`` or above ``max_age``. Birth
        date from ``persons``, else from the identity number (digits 7-14). One finding per
        person and institution; money at risk as for GENDER_LIMIT.
    Why it matters
        A paediatric-only drug for an adult, or an item for the elderly billed to a child,
        points at a borrowed card or invented items.
    Look-alike it ignores
        A person exactly at the limit (age == min_age or age == max_age) is within it; the
        age is counted on the service date with the birthday counting on the day itself.
        A newborn billed on the mother's card: items for the very young (no minimum age
        above 0) on the card of a person with a birth-related claim (a diagnosis starting
        with one of ``birth_diagnosis_prefixes``) dated from that claim's admission until
        ``newborn_days`` days after its discharge.

    Entity: ``person``. Score: ``floor + (1-floor) * clip(max years outside / age_full_score_years)``.
    """

    rules = (
        RuleSpec(
            code="AGE_LIMIT",
            family="catalog_limits",
            weight=0.7,
            entity_type="person",
            title_zh="限年龄项目违规",
            title_en="Age-restricted item outside its limits",
            meaning_zh="服务日的年龄超出目录限定的年龄范围",
            meaning_en="Item billed outside the catalogue's age limits",
            basis_zh="医保基金监管规则库:限定支付范围类规则(限年龄);" + MEDICAL_FUND_REGULATION_ZH,
            basis_en="The medical-insurance audit rule library: rules on restricted payment scope (age); the " + MEDICAL_FUND_REGULATION_EN,
            checklist_zh=(
                "调取结算明细、处方和病历,核对患者年龄和所用项目",
                "核实是否冒用他人医保卡或虚记项目",
                "询问开方医师和收费人员",
            ),
            checklist_en=(
                "Pull the claim lines, prescription and medical record; check the patient's age and the item",
                "Check whether someone else's card was used or the item was invented",
                "Ask the prescribing doctor and the billing staff",
            ),
        ),
    )
    partition_by = ("claims", "person_id")
    kind = "rule"
    requires = ("item_catalog", "claims", "claim_items")
    optional = ("persons", "institutions")

    def __init__(self, age_full_score_years: int = _S.age_full_score_years,
                 newborn_days: int = _S.newborn_days,
                 birth_diagnosis_prefixes: tuple[str, ...] = _S.birth_diagnosis_prefixes,
                 score_floor: float = _S.score_floor):
        self.age_full_score_years = age_full_score_years
        self.newborn_days = newborn_days
        self.birth_diagnosis_prefixes = birth_diagnosis_prefixes
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        lines = flagged_items(
            datasets, pl.col("min_age").is_not_null() | pl.col("max_age").is_not_null(),
            ["min_age", "max_age"],
        )
        prof = person_profile(datasets, lines.select("person_id"))
        lines = (
            lines.join(prof, on="person_id", how="left")
            .with_columns(age=age_on(pl.col("p_birth"), pl.col("service_date")))
            .with_columns(
                outside=pl.max_horizontal(
                    (pl.col("cat_min_age") - pl.col("age")).fill_null(0),
                    (pl.col("age") - pl.col("cat_max_age")).fill_null(0),
                    pl.lit(0),
                )
            )
            .filter(pl.col("age").is_not_null() & (pl.col("outside") > 0))
        ).collect().lazy()
        lines = lines.join(self._newborn_lines(datasets, lines, s), on=["claim_id", "line_no"], how="anti")
        keys = ["person_id", "institution_id"]
        per_claim = per_claim_at_risk(
            lines, keys, pl.col("amount"),
            [pl.col("age").min().alias("age_min"), pl.col("age").max().alias("age_max"),
             pl.col("outside").max(), pl.col("item_name").unique().alias("names"),
             pl.col("cat_min_age").min().alias("lim_min"), pl.col("cat_max_age").max().alias("lim_max")],
        )
        grouped = claims_to_findings(
            per_claim, "person", keys,
            [pl.col("age_min").min(), pl.col("age_max").max(), pl.col("outside").max(),
             pl.col("lim_min").min(), pl.col("lim_max").max(),
             pl.col("names").list.explode(keep_nulls=False, empty_as_null=False).unique().sort().alias("item_names"),
             pl.col("inst_name").first(), pl.col("item_amount").sum(), pl.col("n_lines").sum(),
             pl.col("visit_date").min().alias("first_visit"),
             pl.col("visit_date").max().alias("last_visit")],
        )
        age_txt = pl.when(pl.col("age_min") == pl.col("age_max")).then(
            pl.col("age_min").cast(pl.String)).otherwise(
            pl.format("{}-{}", pl.col("age_min"), pl.col("age_max")))
        lim_zh = pl.concat_str(
            [pl.when(pl.col("lim_min").is_not_null()).then(pl.format("不低于 {} 岁", pl.col("lim_min"))),
             pl.when(pl.col("lim_max").is_not_null()).then(pl.format("不高于 {} 岁", pl.col("lim_max")))],
            separator="、", ignore_nulls=True)
        lim_en = pl.concat_str(
            [pl.when(pl.col("lim_min").is_not_null()).then(pl.format("at least {}", pl.col("lim_min"))),
             pl.when(pl.col("lim_max").is_not_null()).then(pl.format("at most {}", pl.col("lim_max")))],
            separator=" and ", ignore_nulls=True)
        ev_zh = pl.format(
            "服务日年龄 {} 岁,项目 {} 限定年龄{};{} 至 {} 在 {} 结算 {} 张({} 行,金额 {} 元),统筹支付 {} 元",
            age_txt, _items_text(), lim_zh, ymd(pl.col("first_visit")), ymd(pl.col("last_visit")),
            pl.col("inst_name").fill_null(pl.col("institution_id")), pl.col("n_claims"),
            pl.col("n_lines"), money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "Aged {} on the service date; items {} are limited to ages {}; {} claims at {} from {} to {} "
            "({} lines, {} CNY), fund share {} CNY",
            age_txt, _items_text_en(), lim_en, pl.col("n_claims"),
            pl.col("inst_name").fill_null(pl.col("institution_id")),
            ymd(pl.col("first_visit")), ymd(pl.col("last_visit")),
            pl.col("n_lines"), money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        details = json_details(
            institution_id=pl.col("institution_id"), age_min=pl.col("age_min"),
            age_max=pl.col("age_max"), limit_min_age=pl.col("lim_min"),
            limit_max_age=pl.col("lim_max"), items=pl.col("item_names"),
        )
        score = ramp_score(pl.col("outside"), 0, s.age_full_score_years, s)
        return finish(grouped, "AGE_LIMIT", score, ev_zh, ev_en, details)

    @staticmethod
    def _newborn_lines(datasets: Datasets, lines: pl.LazyFrame, s) -> pl.LazyFrame:
        """``claim_id, line_no`` of the flagged lines that are a newborn's care on the card of
        a person who gave birth (see the class docstring)."""
        young = lines.filter(
            (pl.col("age") > pl.col("cat_max_age")) & pl.col("cat_min_age").fill_null(0).le(0)
        ).select("claim_id", "line_no", "person_id", "service_date")
        prefixes = [p.strip().upper() for p in s.birth_diagnosis_prefixes if p.strip()]
        if not prefixes:
            return young.select("claim_id", "line_no")
        # one regular expression over "principal;secondary" text: no per-claim lists
        pattern = r"(^|;)\s*(" + "|".join(re.escape(p) for p in prefixes) + ")"
        birth = pl.concat_str(
            [pl.col("diagnosis_code").fill_null(""),
             optional_column(datasets, "claims", "secondary_diagnoses").fill_null("")],
            separator=";",
        ).str.to_uppercase().str.contains(pattern)
        births = (
            lazy(datasets, "claims")
            .join(young.select("person_id").unique(), on="person_id", how="semi")
            .filter(birth)
            .select("person_id", pl.col("visit_date").alias("b_from"),
                    (pl.coalesce("discharge_date", "visit_date") + pl.duration(days=s.newborn_days)).alias("b_to"))
        )
        return (
            young.join(births, on="person_id", how="inner")
            .filter((pl.col("service_date") >= pl.col("b_from")) & (pl.col("service_date") <= pl.col("b_to")))
            .select("claim_id", "line_no").unique()
        )
