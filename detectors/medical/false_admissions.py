"""False admissions: villagers admitted together again and again, and care bought elsewhere
while lying in a bed (GROUP_ADMISSION, CLAIM_DURING_STAY).

A stay is one admission (:func:`admission_key`: the parts of a stay settled in parts are one),
dated from its earliest admission day to its latest discharge day.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.stats import poisson

from fundwatch.settings import DEFAULT_SETTINGS

from ..base import Datasets, RuleSpec, lazy, optional_column, region_names
from ..policy import MEDICAL_FUND_REGULATION_EN, MEDICAL_FUND_REGULATION_ZH
from ._common import (
    MedicalDetector, admission_key, claims_to_findings, finish, institution_regions, json_details, money,
    ramp_score, ymd,
)

_S = DEFAULT_SETTINGS.medical


def _admissions(datasets: Datasets) -> pl.LazyFrame:
    """One row per admission: ``person_id, institution_id, adm, admit, discharge`` (null when no
    part records one), ``fund`` (summed over its parts) and ``claim_ids``."""
    return (
        lazy(datasets, "claims")
        .filter((pl.col("visit_type") == "inpatient") & pl.col("visit_date").is_not_null())
        .select("claim_id", "person_id", "institution_id", "visit_date", "discharge_date",
                pl.col("fund_amount").fill_null(0.0).clip(lower_bound=0.0).alias("fund"),
                optional_column(datasets, "claims", "admission_id"))
        .with_columns(adm=admission_key())
        .group_by("person_id", "institution_id", "adm")
        .agg(pl.col("visit_date").min().alias("admit"), pl.col("discharge_date").max().alias("discharge"),
             pl.col("fund").sum(), pl.col("claim_id").sort().alias("claim_ids"))
    )


class GroupAdmissionRule(MedicalDetector):
    """Villagers of different households admitted to one hospital together, repeatedly (病友团).

    What it finds
        Admissions of persons living in one village (``persons.region_code``) to one
        hospital, chained into an *episode* while each follows the previous within
        ``group_gap_days`` days. An episode counts when it brings at least
        ``group_min_households`` distinct households (``household_id``) and that many in so
        few days is improbable under the village's usual admission rate to that hospital:
        Poisson tail P(N >= households | rate x span) times the number of such spans in the
        period at most ``group_max_pvalue``. Fires for a hospital and village with at least
        ``group_min_episodes`` counted episodes; the fund paid for every stay of those
        episodes is at risk. One finding per hospital and village (entity: the hospital).
    Why it matters
        Recruiting villagers — often elderly, with free transport, meals or gifts — for
        stays they do not need (诱导住院, 虚假住院) is a pattern the national flying inspections
        single out in private hospitals; the stays look ordinary one by one, only the
        arrivals together and again give it away.
    Look-alike it ignores
        Family members admitted together (one household counts once); a large hospital's
        ordinary intake from a big village (the usual rate makes a few admissions in a few
        days expected); one outbreak (a single episode).

    Entity: ``institution``. Score: ``floor + (1-floor) * clip((episodes - min) /
    (group_full_score_episodes - min))``.
    """

    rules = (
        RuleSpec(
            code="GROUP_ADMISSION",
            family="false_admission",
            weight=0.6,
            entity_type="institution",
            title_zh="同村多户集中住院",
            title_en="Villagers admitted together, repeatedly",
            meaning_zh="同一村{group_min_households}户及以上村民在{group_gap_days}天内相继入住同一医院,远超该村平常的住院频率,且至少发生{group_min_episodes}批",
            meaning_en="{group_min_households} or more households of one village admitted to one hospital within {group_gap_days} days of each other, far above the village's usual rate, in at least {group_min_episodes} batches",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止诱导、协助他人冒名或者虚假就医的规定",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid inducing or helping others to seek care falsely or in another's name",
            checklist_zh=(
                "调取各批住院病历、入院评估和护理记录,核对是否符合住院指征",
                "核查医院是否有接送车辆、减免费用或赠送礼品",
                "入村走访住院村民,询问如何到该院住院",
            ),
            checklist_en=(
                "Pull the records, admission assessments and nursing notes of each batch: did the patients need admission",
                "Check whether the hospital provided transport, waived fees or gave gifts",
                "Visit the village and ask the patients how they came to be admitted",
            ),
        ),
    )
    partition_by = None  # an episode spans persons
    kind = "rule"
    requires = ("persons", "claims")
    optional = ("institutions", "regions")

    def __init__(self, group_gap_days: int = _S.group_gap_days,
                 group_min_households: int = _S.group_min_households,
                 group_min_episodes: int = _S.group_min_episodes,
                 group_max_pvalue: float = _S.group_max_pvalue,
                 group_full_score_episodes: int = _S.group_full_score_episodes,
                 score_floor: float = _S.score_floor):
        self.group_gap_days = group_gap_days
        self.group_min_households = group_min_households
        self.group_min_episodes = group_min_episodes
        self.group_max_pvalue = group_max_pvalue
        self.group_full_score_episodes = group_full_score_episodes
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        vk = ["institution_id", "village"]
        people = (
            lazy(datasets, "persons")
            .select("person_id", pl.col("region_code").alias("village"),
                    pl.coalesce(pl.col("household_id"), pl.col("person_id")).alias("household"))
            .unique("person_id", keep="first")
        )
        adm = (
            _admissions(datasets).join(people, on="person_id", how="inner")
            .filter(pl.col("village").is_not_null())
        )
        span = adm.select(((pl.col("admit").max() - pl.col("admit").min()).dt.total_days() + 1).alias("T")).collect()
        period = max(int(span["T"][0] or 1), 1)
        chained = (
            adm.sort(*vk, "admit", "person_id")
            .with_columns(n_usual=pl.len().over(vk))
            .with_columns(gap=(pl.col("admit") - pl.col("admit").shift(1).over(vk)).dt.total_days())
            .with_columns(ep=(pl.col("gap").is_null() | (pl.col("gap") > s.group_gap_days)).cum_sum().over(vk))
        )
        episodes = (
            chained.group_by(*vk, "ep")
            .agg(pl.col("household").n_unique().alias("n_hh"), pl.len().alias("n_adm"),
                 pl.col("admit").min().alias("ep_from"), pl.col("admit").max().alias("ep_to"),
                 pl.col("n_usual").first())
            .filter(pl.col("n_hh") >= s.group_min_households)
            .with_columns(days=(pl.col("ep_to") - pl.col("ep_from")).dt.total_days() + 1)
            .collect()
        )
        # how unlikely: households count (a family's members are not independent arrivals)
        mu = episodes["n_usual"].to_numpy() / period * episodes["days"].to_numpy()
        tail = poisson.sf(episodes["n_hh"].to_numpy() - 1, mu) * np.maximum(period / episodes["days"].to_numpy(), 1.0)
        counted = (
            episodes.with_columns(pvalue=pl.Series(tail, dtype=pl.Float64))
            .filter(pl.col("pvalue") <= s.group_max_pvalue)
            .with_columns(n_ep=pl.len().over(vk))
            .filter(pl.col("n_ep") >= s.group_min_episodes)
        )
        stays = (
            chained.join(counted.lazy().select(*vk, "ep", "pvalue"), on=[*vk, "ep"], how="inner")
            .explode("claim_ids")
            .with_columns(claim_id=pl.col("claim_ids"))
            .join(lazy(datasets, "claims").select("claim_id", pl.col("fund_amount").fill_null(0.0)
                                                  .clip(lower_bound=0.0).alias("at_risk")), on="claim_id", how="left")
            .join(institution_regions(datasets), on="institution_id", how="left")
            .with_columns(visit_date=pl.col("admit"))
        )
        eps = (
            counted.lazy().sort(*vk, "ep_from")
            .group_by(vk, maintain_order=True)
            .agg(pl.len().alias("n_episodes"), pl.col("n_hh").max().alias("max_hh"),
                 pl.format("{} 至 {} {} 户", ymd(pl.col("ep_from")), ymd(pl.col("ep_to")), pl.col("n_hh"))
                 .alias("eps_zh"),
                 pl.format("{} to {}: {} households", ymd(pl.col("ep_from")), ymd(pl.col("ep_to")), pl.col("n_hh"))
                 .alias("eps_en"),
                 pl.col("pvalue").max().alias("max_p"))
        )
        grouped = (
            claims_to_findings(
                stays, "institution", vk,
                [pl.col("person_id").n_unique().alias("n_persons"), pl.col("household").n_unique().alias("n_households"),
                 pl.col("inst_name").first()],
            )
            .join(eps, on=vk, how="inner")
            .join(region_names(datasets.get("regions")).lazy()
                  .rename({"region_code": "village", "region_name": "village_name"}), on="village", how="left")
            .with_columns(
                pl.col("inst_name").fill_null(pl.col("institution_id")),
                # the village as supervisors know it: its name with the code beside it
                pl.when(pl.col("village_name").is_not_null())
                .then(pl.format("{}({})", pl.col("village_name"), pl.col("village")))
                .otherwise(pl.format("区划 {}", pl.col("village"))).alias("village_zh"),
                pl.when(pl.col("village_name").is_not_null())
                .then(pl.format("{} ({})", pl.col("village_name"), pl.col("village")))
                .otherwise(pl.col("village")).alias("village_en"),
            )
        )
        ev_zh = pl.format(
            "{}的 {} 户 {} 名村民分 {} 批集中入住 {}({});每批人数远超该村平常住院频率;"
            "涉及 {} 张住院结算单,统筹支付 {} 元",
            pl.col("village_zh"), pl.col("n_households"), pl.col("n_persons"), pl.col("n_episodes"),
            pl.col("inst_name"), pl.col("eps_zh").list.join(";"), pl.col("n_claims"), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{} persons of {} households from village {} admitted to {} in {} batches ({}), each far above the "
            "village's usual rate; {} in-patient claims, fund paid {} CNY",
            pl.col("n_persons"), pl.col("n_households"), pl.col("village_en"), pl.col("inst_name"),
            pl.col("n_episodes"), pl.col("eps_en").list.join("; "), pl.col("n_claims"),
            money(pl.col("total_at_risk")),
        )
        details = json_details(village=pl.col("village"), episodes=pl.col("n_episodes"),
                               persons=pl.col("n_persons"), households=pl.col("n_households"),
                               largest_episode_households=pl.col("max_hh"), max_pvalue=pl.col("max_p"))
        score = ramp_score(pl.col("n_episodes"), s.group_min_episodes,
                           max(s.group_full_score_episodes, s.group_min_episodes + 1), s)
        return finish(grouped, "GROUP_ADMISSION", score, ev_zh, ev_en, details)


_VT_ZH = {"outpatient": "门诊", "pharmacy": "药店购药"}


class ClaimDuringStayRule(MedicalDetector):
    """Out-patient or pharmacy claims elsewhere while the person lies in hospital (住院期间门诊购药).

    What it finds
        Claims of ``during_stay_visit_types`` at an institution other than the hospital,
        dated strictly after the admission day and strictly before the discharge day of one
        of the person's stays (one stay per admission: the parts of a stay settled in parts
        count as one, from its first to its last day). The fund paid on those claims is at
        risk; the stays are listed with 0. One finding per person.
    Why it matters
        A patient in a ward does not queue at a pharmacy across town: either the stay is
        挂床 (the patient is at home) or someone else is using the card (冒名); the national
        inspections cross out-patient and in-patient records for exactly this.
        A stay counts when, inside it, the card saw a doctor elsewhere (any visit type but
        ``pharmacy``) or bought at pharmacies on at least ``during_stay_min_pharmacy_days``
        different days.
    Look-alike it ignores
        A visit on the admission or discharge day (the patient came from or went to the
        clinic or pharmacy that day); claims at the hospital of the stay itself; a stay
        without a discharge date (no end to compare with); a single day of pharmacy purchases
        during a stay — most often a relative fetching the patient's regular drugs, which
        families commonly do and which is not the card holder's activity.

    Entity: ``person``. Score: ``floor + (1-floor) * clip((claims - 1) /
    (during_stay_full_score_claims - 1))``.
    """

    rules = (
        RuleSpec(
            code="CLAIM_DURING_STAY",
            family="inpatient_abuse",
            weight=0.75,
            entity_type="person",
            title_zh="住院期间在他处门诊购药",
            title_en="Out-patient claims elsewhere during a stay",
            meaning_zh="住院期间(入院当日和出院当日除外)在其他机构发生门诊或药店结算",
            meaning_en="Out-patient or pharmacy claims at another institution strictly inside an in-patient stay",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止挂床住院、冒名就医的规定",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid phantom stays and using another person's card",
            checklist_zh=(
                "调取住院病历、护理记录和请假记录,核对患者当日是否在院",
                "调取门诊或药店的结算记录、处方和监控,核对就诊或购药的是谁",
                "询问病区护士和药店人员,必要时回访患者",
            ),
            checklist_en=(
                "Pull the in-patient record, nursing notes and leave records: was the patient on the ward that day",
                "Pull the out-patient or pharmacy records, prescription and video: who was there",
                "Ask the ward nurses and pharmacy staff; if needed, call the patient",
            ),
        ),
    )
    partition_by = ("claims", "person_id")
    kind = "rule"
    requires = ("claims",)
    optional = ("institutions",)

    def __init__(self, during_stay_visit_types: tuple[str, ...] = _S.during_stay_visit_types,
                 during_stay_full_score_claims: int = _S.during_stay_full_score_claims,
                 during_stay_min_pharmacy_days: int = _S.during_stay_min_pharmacy_days,
                 score_floor: float = _S.score_floor):
        self.during_stay_visit_types = during_stay_visit_types
        self.during_stay_full_score_claims = during_stay_full_score_claims
        self.during_stay_min_pharmacy_days = during_stay_min_pharmacy_days
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        stays = (
            _admissions(datasets).filter(pl.col("discharge").is_not_null()
                                         & ((pl.col("discharge") - pl.col("admit")).dt.total_days() >= 2))
            .select("person_id", pl.col("institution_id").alias("stay_inst"), "admit", "discharge",
                    "claim_ids", pl.col("adm"))
            .collect()
        )
        others = (
            lazy(datasets, "claims")
            .filter(pl.col("visit_type").is_in(list(s.during_stay_visit_types)) & pl.col("visit_date").is_not_null())
            .join(stays.lazy().select("person_id").unique(), on="person_id", how="semi")
            .select("claim_id", "person_id", "institution_id", "visit_date", "visit_type",
                    pl.col("fund_amount").fill_null(0.0).clip(lower_bound=0.0).alias("at_risk"))
        )
        # the latest admission strictly before the visit; inside it when before its discharge
        inside = (
            others.sort("visit_date")
            .join_asof(stays.lazy().sort("admit"), left_on="visit_date", right_on="admit", by="person_id",
                       strategy="backward", allow_exact_matches=False, check_sortedness=False)
            .filter(pl.col("admit").is_not_null() & (pl.col("visit_date") < pl.col("discharge"))
                    & (pl.col("institution_id") != pl.col("stay_inst")))
        )
        # the card holder's own activity: a doctor's visit elsewhere, or pharmacy purchases on
        # several days (one day of purchases is most often a relative fetching drugs)
        pharmacy = pl.col("visit_type") == "pharmacy"
        active_stays = (
            inside.group_by("person_id", "adm")
            .agg((~pharmacy).sum().alias("_doctor_visits"),
                 pl.col("visit_date").filter(pharmacy).n_unique().alias("_pharmacy_days"))
            .filter((pl.col("_doctor_visits") > 0) | (pl.col("_pharmacy_days") >= s.during_stay_min_pharmacy_days))
            .select("person_id", "adm")
        )
        inside = inside.join(active_stays, on=["person_id", "adm"], how="semi").collect()
        # the stays themselves, listed with 0
        stay_rows = (
            stays.lazy().join(inside.lazy().select("person_id", "adm").unique(), on=["person_id", "adm"], how="semi")
            .explode("claim_ids")
            .select("person_id", pl.col("claim_ids").alias("claim_id"), pl.col("stay_inst").alias("institution_id"),
                    pl.col("admit").alias("visit_date"), pl.lit(0.0).alias("at_risk"),
                    pl.lit(None, pl.String).alias("visit_type"))
        )
        per_claim = (
            pl.concat([inside.lazy().select("person_id", "claim_id", "institution_id", "visit_date", "at_risk",
                                            "visit_type"), stay_rows])
            .join(institution_regions(datasets), on="institution_id", how="left")
        )
        top = (
            inside.lazy().join(institution_regions(datasets).select(pl.col("institution_id").alias("stay_inst"),
                                                                    pl.col("inst_name").alias("stay_name")),
                               on="stay_inst", how="left")
            .join(institution_regions(datasets).select("institution_id", pl.col("inst_name").alias("other_name")),
                  on="institution_id", how="left")
            .sort("person_id", "visit_date", "claim_id")
            .group_by("person_id", maintain_order=True)
            .agg(pl.len().alias("n_inside"), pl.col("stay_name").fill_null(pl.col("stay_inst")).first(),
                 pl.col("admit").first().alias("s_in"), pl.col("discharge").first().alias("s_out"),
                 pl.col("other_name").fill_null(pl.col("institution_id")).first(),
                 pl.col("visit_date").first().alias("o_day"),
                 pl.col("visit_type").first().replace_strict(_VT_ZH, default="门诊").alias("o_kind"),
                 pl.col("adm").n_unique().alias("n_stays"))
        )
        grouped = claims_to_findings(per_claim, "person", "person_id").join(top, on="person_id", how="inner")
        ev_zh = pl.format(
            "{} 次住院期间在其他机构结算门诊或药店 {} 次:如 {} 至 {} 在 {} 住院,{} 在 {} {};住院期间结算统筹支付 {} 元",
            pl.col("n_stays"), pl.col("n_inside"), ymd(pl.col("s_in")), ymd(pl.col("s_out")), pl.col("stay_name"),
            ymd(pl.col("o_day")), pl.col("other_name"), pl.col("o_kind"), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{} out-patient or pharmacy claims at other institutions during {} in-patient stay(s): e.g. in {} "
            "from {} to {}, a claim at {} on {}; fund paid on them {} CNY",
            pl.col("n_inside"), pl.col("n_stays"), pl.col("stay_name"), ymd(pl.col("s_in")), ymd(pl.col("s_out")),
            pl.col("other_name"), ymd(pl.col("o_day")), money(pl.col("total_at_risk")),
        )
        details = json_details(claims_during_stays=pl.col("n_inside"), stays=pl.col("n_stays"),
                               example_stay=pl.format("{} {}~{}", pl.col("stay_name"), ymd(pl.col("s_in")),
                                                      ymd(pl.col("s_out"))))
        score = ramp_score(pl.col("n_inside"), 1, max(s.during_stay_full_score_claims, 2), s)
        return finish(grouped, "CLAIM_DURING_STAY", score, ev_zh, ev_en, details)
