"""In-patient abuse: overlapping stays, split admissions, phantom stays
(OVERLAPPING_STAYS, SPLIT_ADMISSION, PHANTOM_INPATIENT).

All three are about the insured ``person`` (one finding per person, or per person and
hospital where the hospital is part of the pattern): it is the person's stays that do not add
up, whichever institution billed them.
"""

from __future__ import annotations

import polars as pl

from fundwatch.settings import DEFAULT_SETTINGS

from ..base import Datasets, RuleSpec, lazy, optional_column
from ..policy import MEDICAL_FUND_REGULATION_EN, MEDICAL_FUND_REGULATION_ZH
from ._common import (
    MedicalDetector, admission_key, claims_to_findings, course_claim_ids, finish, institution_regions,
    json_details, money, ramp_score, ymd,
)

_S = DEFAULT_SETTINGS.medical


def _stays(datasets: Datasets) -> pl.LazyFrame:
    """In-patient claims, one row per claim, with the admission each belongs to.

    ``admit``/``discharge`` are the claim's own first and last day (a part of a stay settled
    in parts covers its part only). A missing discharge date stays missing: the settle date
    is not a discharge date, and settlement lag would make stays overlap that never did.
    ``adm`` names the admission (:func:`admission_key`).
    """
    return (
        lazy(datasets, "claims")
        .filter(pl.col("visit_type") == "inpatient")
        .select(
            "claim_id", "person_id", "institution_id", "diagnosis_code",
            pl.col("visit_date").alias("admit"),
            pl.col("discharge_date").alias("discharge"),
            pl.col("fund_amount").fill_null(0.0).clip(lower_bound=0.0).alias("fund"),
            optional_column(datasets, "claims", "admission_id"),
            optional_column(datasets, "claims", "readmission_planned"),
        )
        .filter(pl.col("admit").is_not_null())
        .with_columns(adm=admission_key())
    )


def _admissions(datasets: Datasets, s, course: pl.LazyFrame) -> pl.LazyFrame:
    """One row per admission: ``person_id, institution_id, adm, admit`` (earliest day),
    ``discharge`` (latest discharge date, else the latest day settled), ``diagnosis_code`` (of
    the first part), ``planned`` (any part marks a planned readmission), ``course`` (any part
    bills a treatment-course item)."""
    return (
        _stays(datasets)
        .join(course.with_columns(_course=pl.lit(True)), on="claim_id", how="left")
        .sort("admit", "claim_id")
        .group_by("person_id", "institution_id", "adm")
        .agg(
            pl.col("admit").min(),
            # no discharge date: the last day known is the admission day of the last part, so
            # the gap to the next stay is never made shorter than the record shows
            pl.coalesce(pl.col("discharge").max(), pl.col("admit").max()).alias("discharge"),
            pl.col("diagnosis_code").drop_nulls().first(),
            pl.col("readmission_planned").fill_null(False).any().alias("planned"),
            pl.col("_course").fill_null(False).any().alias("course"),
        )
    )


class _InpatientRule(MedicalDetector):
    kind = "rule"
    requires = ("claims",)
    optional = ("institutions",)


class OverlappingStaysRule(_InpatientRule):
    """One person in-patient at two institutions on the same days (同时在两家医院住院).

    What it finds
        Pairs of in-patient claims of one person at different institutions whose stays share
        at least ``overlap_min_days`` nights: ``min(discharges) - max(admissions) >= n``.
        A claim without a discharge date is left out (the settle date is not a discharge date:
        settlement lag would invent overlaps). Of each pair, the stay admitted later (ties: the
        larger claim id) is the doubtful one; its ``fund_amount`` is at risk, the other stay
        is listed with 0 unless it is itself doubtful in another pair. One finding per person.
    Why it matters
        Nobody lies in two beds at once: one of the stays is 挂床 or invented, or the card is
        used at a second hospital.
    Look-alike it ignores
        A transfer: discharge from one hospital and admission to another on the same day
        shares no night. Interim settlements (中途结算) of one stay are at one institution and
        never pair; a stay settled days after discharge is compared on its discharge date.

    Entity: ``person``. Score: ``floor + (1-floor) * clip((max shared nights - min) /
    (overlap_full_score_days - min))``.
    """

    rules = (
        RuleSpec(
            code="OVERLAPPING_STAYS",
            family="inpatient_abuse",
            weight=0.9,
            entity_type="person",
            title_zh="同时在两家医院住院",
            title_en="In hospital at two places at once",
            meaning_zh="同一人在两家机构的住院时间重叠{overlap_min_days}晚及以上",
            meaning_en="One person in-patient at two institutions sharing {overlap_min_days} or more nights",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止挂床住院、虚假就医的规定",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid phantom stays and claims for care never given",
            checklist_zh=(
                "调取两家机构的住院病历、护理记录和费用明细",
                "核对重叠期间患者实际在哪家机构",
                "询问两家机构的主管医师和病区护士,必要时回访患者",
            ),
            checklist_en=(
                "Pull both institutions' in-patient records, nursing notes and bills",
                "Establish where the patient really was during the overlap",
                "Ask the doctors and ward nurses of both; if needed, call the patient",
            ),
        ),
    )
    partition_by = ("claims", "person_id")

    def __init__(self, overlap_min_days: int = _S.overlap_min_days,
                 overlap_full_score_days: int = _S.overlap_full_score_days,
                 score_floor: float = _S.score_floor):
        self.overlap_min_days = overlap_min_days
        self.overlap_full_score_days = overlap_full_score_days
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        # parts of one admission are at one institution and never pair; a stay without a
        # discharge date gives no night to compare
        stays = _stays(datasets).filter(pl.col("discharge").is_not_null())
        regions = institution_regions(datasets)
        pairs = (
            stays.join(stays, on="person_id", how="inner", suffix="_b")
            .filter(
                (pl.col("claim_id") < pl.col("claim_id_b"))
                & (pl.col("institution_id") != pl.col("institution_id_b"))
            )
            .with_columns(
                nights=(pl.min_horizontal("discharge", "discharge_b")
                        - pl.max_horizontal("admit", "admit_b")).dt.total_days()
            )
            .filter(pl.col("nights") >= s.overlap_min_days)
            .with_columns(
                b_doubtful=(pl.col("admit_b") > pl.col("admit"))
                | ((pl.col("admit_b") == pl.col("admit")) & (pl.col("claim_id_b") > pl.col("claim_id")))
            )
        )
        side_a = pairs.select(
            "person_id", "claim_id", "institution_id", pl.col("admit").alias("visit_date"),
            pl.when(pl.col("b_doubtful")).then(0.0).otherwise(pl.col("fund")).alias("at_risk"),
            "nights",
        )
        side_b = pairs.select(
            "person_id", pl.col("claim_id_b").alias("claim_id"),
            pl.col("institution_id_b").alias("institution_id"), pl.col("admit_b").alias("visit_date"),
            pl.when(pl.col("b_doubtful")).then(pl.col("fund_b")).otherwise(0.0).alias("at_risk"),
            "nights",
        )
        per_claim = (
            pl.concat([side_a, side_b])
            .group_by("person_id", "claim_id")
            .agg(pl.col("institution_id").first(), pl.col("visit_date").first(),
                 pl.col("at_risk").max(), pl.col("nights").max())
            .join(regions, on="institution_id", how="left")
        )
        # the pair with the most shared nights, for the text
        top = (
            pairs.join(regions.select("institution_id", pl.col("inst_name").alias("name_a")),
                       on="institution_id", how="left")
            .join(regions.select(pl.col("institution_id").alias("institution_id_b"),
                                 pl.col("inst_name").alias("name_b")), on="institution_id_b", how="left")
            .sort(["person_id", "nights", "claim_id", "claim_id_b"], descending=[False, True, False, False])
            .group_by("person_id", maintain_order=True)
            .agg(
                pl.len().alias("n_pairs"),
                pl.col("name_a").fill_null(pl.col("institution_id")).first(),
                pl.col("name_b").fill_null(pl.col("institution_id_b")).first(),
                pl.col("admit").first().alias("a_in"), pl.col("discharge").first().alias("a_out"),
                pl.col("admit_b").first().alias("b_in"), pl.col("discharge_b").first().alias("b_out"),
                pl.col("nights").first().alias("max_nights"),
            )
        )
        grouped = claims_to_findings(
            per_claim, "person", "person_id",
            [pl.col("institution_id").unique().sort().alias("institutions")],
        ).join(top, on="person_id", how="left")
        ev_zh = pl.format(
            "{} 对住院时间重叠:如 {} {} 至 {} 与 {} {} 至 {} 重叠 {} 晚;涉及 {} 张结算单,存疑统筹支付 {} 元",
            pl.col("n_pairs"), pl.col("name_a"), ymd(pl.col("a_in")), ymd(pl.col("a_out")),
            pl.col("name_b"), ymd(pl.col("b_in")), ymd(pl.col("b_out")), pl.col("max_nights"),
            pl.col("n_claims"), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{} pairs of overlapping in-patient stays, e.g. {} {} to {} and {} {} to {} share {} nights; "
            "{} claims, fund paid on the doubtful stays {} CNY",
            pl.col("n_pairs"), pl.col("name_a"), ymd(pl.col("a_in")), ymd(pl.col("a_out")),
            pl.col("name_b"), ymd(pl.col("b_in")), ymd(pl.col("b_out")), pl.col("max_nights"),
            pl.col("n_claims"), money(pl.col("total_at_risk")),
        )
        details = json_details(institutions=pl.col("institutions"), pairs=pl.col("n_pairs"),
                               max_shared_nights=pl.col("max_nights"))
        score = ramp_score(pl.col("max_nights"), s.overlap_min_days,
                           max(s.overlap_full_score_days, s.overlap_min_days + 1), s)
        return finish(grouped, "OVERLAPPING_STAYS", score, ev_zh, ev_en, details)


class SplitAdmissionRule(_InpatientRule):
    """Repeated readmission to the same hospital with the same diagnosis (分解住院).

    What it finds
        For each person, institution and diagnosis (its first ``diagnosis_prefix_chars``
        characters, the ICD-10 category), admissions 1 to ``readmission_days`` days after the
        previous admission's discharge. One admission is one ``admission_id``: the claims of a
        stay settled in parts (中途结算) are one stay, dated from its first to its last day.
        Fires when there are at least ``split_min_readmissions`` such readmissions. The
        readmissions' ``fund_amount`` is at risk (each split-off stay pays a new deductible
        threshold and per-stay quota); the index stays are listed with 0. One finding per
        person and institution.
    Why it matters
        Discharging a patient and admitting them again for the same illness splits one stay
        into several to stay under per-stay payment limits (DRG/quota), billing the fund again.
    Look-alike it ignores
        Interim settlements of one long stay (one ``admission_id``; and a gap of 0 or fewer
        days is never a readmission: nobody is discharged and readmitted the same day in a
        split, that is one stay settled twice); planned readmissions recorded on the
        settlement list (``readmission_planned``, e.g. chemotherapy cycles) when
        ``planned_readmission_excuses``; stays billing a treatment-course item (dialysis,
        radiotherapy, rehabilitation) when ``course_items_excuse``; a readmission after more
        than ``readmission_days`` days, for a different diagnosis, a single quick readmission,
        or an admission to another hospital.

    Entity: ``person``. Score: ``floor + (1-floor) * clip((readmissions - min) /
    (split_full_score_readmissions - min))``.
    """

    rules = (
        RuleSpec(
            code="SPLIT_ADMISSION",
            family="inpatient_abuse",
            weight=0.7,
            entity_type="person",
            title_zh="分解住院",
            title_en="Split admissions",
            meaning_zh="出院后{readmission_days}天内以相同诊断在同一医院再入院,且至少{split_min_readmissions}次",
            meaning_en="Readmitted to the same hospital within {readmission_days} days with the same diagnosis, at least {split_min_readmissions} times",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止分解住院的规定",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid splitting one stay into several",
            checklist_zh=(
                "调取各次住院病历和出入院记录,核对病情是否已治愈或好转",
                "核对出院后是否仍在院或继续治疗",
                "询问主管医师再入院原因",
            ),
            checklist_en=(
                "Pull the records of each stay and the discharge notes: was the patient really well at discharge",
                "Check whether the patient stayed on or kept being treated after discharge",
                "Ask the responsible doctor why the patient was readmitted",
            ),
        ),
    )
    partition_by = ("claims", "person_id")
    optional = ("institutions", "item_catalog", "claim_items")

    def __init__(self, readmission_days: int = _S.readmission_days,
                 split_min_readmissions: int = _S.split_min_readmissions,
                 diagnosis_prefix_chars: int = _S.diagnosis_prefix_chars,
                 split_full_score_readmissions: int = _S.split_full_score_readmissions,
                 planned_readmission_excuses: bool = _S.planned_readmission_excuses,
                 course_items_excuse: bool = _S.course_items_excuse,
                 score_floor: float = _S.score_floor):
        self.planned_readmission_excuses = planned_readmission_excuses
        self.course_items_excuse = course_items_excuse
        self.readmission_days = readmission_days
        self.split_min_readmissions = split_min_readmissions
        self.diagnosis_prefix_chars = diagnosis_prefix_chars
        self.split_full_score_readmissions = split_full_score_readmissions
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        keys = ["person_id", "institution_id", "diag"]
        course = (course_claim_ids(datasets) if s.course_items_excuse
                  else pl.LazyFrame(schema={"claim_id": pl.String}))
        adms = (
            _admissions(datasets, s, course)
            .with_columns(diag=pl.col("diagnosis_code").str.strip_chars().str.to_uppercase()
                          .str.slice(0, s.diagnosis_prefix_chars))
            .filter(pl.col("diag").is_not_null() & (pl.col("diag") != ""))
            .sort(keys + ["admit", "adm"])
            .with_columns(
                gap=(pl.col("admit") - pl.col("discharge").shift(1).over(keys)).dt.total_days(),
                prev_planned=pl.col("planned").shift(1).over(keys).fill_null(False),
            )
            .with_columns(
                excused=(pl.lit(s.planned_readmission_excuses) & (pl.col("planned") | pl.col("prev_planned")))
                | pl.col("course")
            )
            .with_columns(readmit=pl.col("gap").is_not_null() & (pl.col("gap") >= 1)
                          & (pl.col("gap") <= s.readmission_days) & ~pl.col("excused"))
            .with_columns(index_of_next=pl.col("readmit").shift(-1).over(keys).fill_null(False))
            .with_columns(n_readmit=pl.col("readmit").sum().over(keys))
            .filter((pl.col("n_readmit") >= s.split_min_readmissions)
                    & (pl.col("readmit") | pl.col("index_of_next")))
            .select("person_id", "institution_id", "adm", "diag", "gap", "readmit",
                    pl.col("admit").alias("adm_in"))
        )
        # back to the claims of those admissions (every part of a readmission is at risk)
        stays = (
            _stays(datasets)
            .join(adms, on=["person_id", "institution_id", "adm"], how="inner")
            .join(institution_regions(datasets), on="institution_id", how="left")
            .with_columns(
                visit_date=pl.col("admit"),
                at_risk=pl.when(pl.col("readmit")).then(pl.col("fund")).otherwise(0.0),
                # one count per admission, not per settled part
                first_part=pl.col("claim_id") == pl.col("claim_id").min().over("person_id", "institution_id", "adm"),
            )
        )
        grouped = claims_to_findings(
            stays, "person", ["person_id", "institution_id"],
            [(pl.col("readmit") & pl.col("first_part")).sum().alias("n_readmit"),
             pl.col("first_part").sum().alias("n_stays"),
             pl.col("diag").unique().sort().alias("diagnoses"),
             pl.col("gap").filter(pl.col("readmit")).min().alias("min_gap"),
             pl.col("gap").filter(pl.col("readmit")).max().alias("max_gap"),
             pl.col("inst_name").first(),
             pl.col("adm_in").min().alias("first_in"), pl.col("adm_in").max().alias("last_in")],
        ).filter(pl.col("n_readmit") >= s.split_min_readmissions).with_columns(
            pl.col("inst_name").fill_null(pl.col("institution_id")),
            pl.col("diagnoses").list.join("、").alias("diag_zh"),
            pl.col("diagnoses").list.join(", ").alias("diag_en"),
        )
        ev_zh = pl.format(
            "{} 至 {} 在 {} 以相同诊断({})住院 {} 次,其中 {} 次为出院后 {}-{} 天内再入院(≤{} 天);再入院统筹支付 {} 元",
            ymd(pl.col("first_in")), ymd(pl.col("last_in")), pl.col("inst_name"), pl.col("diag_zh"),
            pl.col("n_stays"), pl.col("n_readmit"), pl.col("min_gap"), pl.col("max_gap"),
            pl.lit(s.readmission_days), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{} stays at {} with the same diagnosis ({}) from {} to {}; {} readmissions {}-{} days after "
            "discharge (limit {} days); fund paid on readmissions {} CNY",
            pl.col("n_stays"), pl.col("inst_name"), pl.col("diag_en"), ymd(pl.col("first_in")),
            ymd(pl.col("last_in")), pl.col("n_readmit"), pl.col("min_gap"), pl.col("max_gap"),
            pl.lit(s.readmission_days), money(pl.col("total_at_risk")),
        )
        details = json_details(institution_id=pl.col("institution_id"), diagnoses=pl.col("diagnoses"),
                               readmissions=pl.col("n_readmit"), min_gap_days=pl.col("min_gap"),
                               max_gap_days=pl.col("max_gap"))
        score = ramp_score(pl.col("n_readmit"), s.split_min_readmissions,
                           max(s.split_full_score_readmissions, s.split_min_readmissions + 1), s)
        return finish(grouped, "SPLIT_ADMISSION", score, ev_zh, ev_en, details)


class PhantomInpatientRule(_InpatientRule):
    """Long stays billed almost only for bed and nursing (挂床住院).

    What it finds
        In-patient claims with a length of stay (discharge - admission) of at least
        ``phantom_min_days`` whose item lines in ``phantom_active_categories`` (drug, exam,
        treatment, material) make up at most ``phantom_max_active_share`` of the item amount —
        the patient is registered in a bed but receives no care. The whole ``fund_amount`` of
        such a stay is at risk. One finding per person and institution.
    Why it matters
        挂床住院 bills bed days for patients who are not really in hospital, often to reach
        the in-patient reimbursement rate for what is outpatient care or nothing at all.
    Look-alike it ignores
        A short observation stay (below ``phantom_min_days``), which is mostly bed and
        nursing by nature; long stays with real drug/exam/treatment spending; stays without
        any item lines (no evidence either way).

    Entity: ``person``. Score: ``floor + (1-floor) * clip((max stay - min) /
    (phantom_full_score_days - min))``.
    """

    rules = (
        RuleSpec(
            code="PHANTOM_INPATIENT",
            family="inpatient_abuse",
            weight=0.8,
            entity_type="person",
            title_zh="挂床住院",
            title_en="Phantom in-patient stay",
            meaning_zh="住院{phantom_min_days}天及以上,药品、检查、治疗和材料费用合计不超过{phantom_max_active_share:.0%},几乎只收床位和护理费",
            meaning_en="A stay of {phantom_min_days} days or more billed almost only for bed and nursing (drugs, exams, treatment and materials at most {phantom_max_active_share:.0%})",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止挂床住院的规定",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid phantom in-patient stays",
            checklist_zh=(
                "调取住院病历、医嘱、护理记录和费用明细",
                "现场核查或回访患者,核实住院期间是否在院",
                "询问病区医师和护士",
            ),
            checklist_en=(
                "Pull the in-patient record, orders, nursing notes and bill",
                "Check on the ward or call the patient: were they in hospital during the stay",
                "Ask the ward's doctors and nurses",
            ),
        ),
    )
    partition_by = ("claims", "person_id")
    requires = ("claims", "claim_items")

    def __init__(self, phantom_min_days: int = _S.phantom_min_days,
                 phantom_active_categories: tuple[str, ...] = _S.phantom_active_categories,
                 phantom_max_active_share: float = _S.phantom_max_active_share,
                 phantom_full_score_days: int = _S.phantom_full_score_days,
                 score_floor: float = _S.score_floor):
        self.phantom_min_days = phantom_min_days
        self.phantom_active_categories = phantom_active_categories
        self.phantom_max_active_share = phantom_max_active_share
        self.phantom_full_score_days = phantom_full_score_days
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        active = list(s.phantom_active_categories)
        long_stays = (
            _stays(datasets)
            .with_columns(los=(pl.col("discharge") - pl.col("admit")).dt.total_days())
            .filter(pl.col("los") >= s.phantom_min_days)
        )
        spend = (
            lazy(datasets, "claim_items")
            .select("claim_id", "category", "amount")
            .join(long_stays.select("claim_id"), on="claim_id", how="semi")
            .group_by("claim_id")
            .agg(
                pl.col("amount").sum().alias("item_total"),
                pl.col("amount").filter(pl.col("category").is_in(active)).sum().alias("active_amount"),
            )
            .filter(pl.col("item_total") > 0)
            .with_columns(active_share=pl.col("active_amount") / pl.col("item_total"))
            .filter(pl.col("active_share") <= s.phantom_max_active_share)
        )
        per_claim = (
            long_stays.join(spend, on="claim_id", how="inner")
            .join(institution_regions(datasets), on="institution_id", how="left")
            .with_columns(visit_date=pl.col("admit"), at_risk=pl.col("fund"))
        )
        grouped = claims_to_findings(
            per_claim, "person", ["person_id", "institution_id"],
            [pl.col("los").max().alias("max_los"), pl.col("los").sum().alias("bed_days"),
             pl.col("active_share").max().alias("max_share"), pl.col("inst_name").first(),
             pl.col("item_total").sum(), pl.col("active_amount").sum(),
             pl.col("admit").min().alias("first_in"), pl.col("discharge").max().alias("last_out")],
        ).with_columns(pl.col("inst_name").fill_null(pl.col("institution_id")),
                       (pl.col("max_share") * 100).round(1).alias("pct"))
        ev_zh = pl.format(
            "{} 至 {} 在 {} 住院 {} 次共 {} 天(最长 {} 天),费用 {} 元中药品、检查、治疗、材料仅 {} 元(最高占 {}%),"
            "其余为床位和诊查护理费;统筹支付 {} 元",
            ymd(pl.col("first_in")), ymd(pl.col("last_out")), pl.col("inst_name"), pl.col("n_claims"),
            pl.col("bed_days"), pl.col("max_los"), money(pl.col("item_total")),
            money(pl.col("active_amount")), pl.col("pct"), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{} stays at {} from {} to {}, {} bed days (longest {}); of {} CNY billed only {} CNY "
            "(at most {}%) is drugs, exams, treatment or materials, the rest bed and nursing; fund paid {} CNY",
            pl.col("n_claims"), pl.col("inst_name"), ymd(pl.col("first_in")), ymd(pl.col("last_out")),
            pl.col("bed_days"), pl.col("max_los"), money(pl.col("item_total")),
            money(pl.col("active_amount")), pl.col("pct"), money(pl.col("total_at_risk")),
        )
        details = json_details(institution_id=pl.col("institution_id"), longest_stay_days=pl.col("max_los"),
                               bed_days=pl.col("bed_days"), max_active_share=pl.col("max_share").round(4))
        score = ramp_score(pl.col("max_los"), s.phantom_min_days,
                           max(s.phantom_full_score_days, s.phantom_min_days + 1), s)
        return finish(grouped, "PHANTOM_INPATIENT", score, ev_zh, ev_en, details)
