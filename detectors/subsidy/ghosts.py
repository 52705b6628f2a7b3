"""Payments to beneficiaries who do not exist (GHOST_BENEFICIARY)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from fundwatch.idnumber import invalid_person_id_reason, normalize_person_id

from ..base import Datasets, RuleSpec, lazy
from ..policy import ONE_CARD_EN, ONE_CARD_ZH
from ._common import (
    DEFAULTS,
    SubsidyRule,
    disbursements,
    finish,
    group_records,
    json_details,
    money,
    period_range_en,
    period_range_zh,
    plural,
)

_REASON_ZH = {
    "identity number is empty": "身份证号为空",
    "identity number must be 17 digits and a digit or X": "身份证号格式错误(应为17位数字加1位数字或X)",
    "identity number has no real birth date in characters 7-14": "身份证号第7-14位不是真实出生日期",
    "identity number check character is wrong (GB 11643)": "身份证号校验位错误(GB 11643)",
}
_NOT_REGISTERED = "not in the person register"


class GhostBeneficiaryRule(SubsidyRule):
    """Beneficiaries missing from the person register or with an invalid identity number.

    Why it matters: invented beneficiaries (虚报冒领) are paid into cards controlled by whoever
    made them up; a number that fails the GB 11643 check or is unknown to the household
    register cannot belong to a real resident.

    A beneficiary ``person_id`` is flagged when it fails
    :func:`fundwatch.idnumber.is_valid_person_id` (after trimming and upper-casing ``x``) or
    is absent from ``persons``. The check runs on distinct beneficiaries, not on every payment.

    Legitimate look-alike ignored: a registered person whose number is written with a
    lower-case ``x`` or surrounding spaces.

    Findings: one per beneficiary number (``entity_type="person"``), every payment to it as a
    record with its whole amount at risk. Score 1.0 for an invalid number (certain),
    ``ghost_unregistered_score`` for a valid number missing from the register (the register
    may lag behind enrolment).

    Parameters
    ----------
    ghost_unregistered_score : score of a valid number missing from ``persons``.
    """

    rules = (
        RuleSpec(
            code="GHOST_BENEFICIARY",
            family="ghost",
            weight=0.9,
            entity_type="person",
            title_zh="虚假受益人",
            title_en="Ghost beneficiary",
            meaning_zh="受益人不在人员库中,或身份证号不符合国家标准",
            meaning_en="Beneficiary not in the person register, or an invalid identity number",
            basis_zh=ONE_CARD_ZH + ":补贴对象须真实、身份信息须准确",
            basis_en=ONE_CARD_EN.capitalize() + ": every recipient must be a real person with correct identity details",
            checklist_zh=(
                "向公安户籍部门核查该身份证号是否存在、是否本人",
                "调取开户资料和发放清单,查明银行卡由谁开立、由谁持有",
                "询问经办人该人员是如何纳入发放名单的",
            ),
            checklist_en=(
                "Check the identity number with the household register: does the person exist",
                "Pull the account-opening documents and payment list: who opened and who holds the card",
                "Ask the operator how the person got onto the payment list",
            ),
        ),
    )
    partition_by = ("disbursements", "person_id")
    requires = ("persons", "disbursements")

    def __init__(
        self,
        ghost_unregistered_score: float = DEFAULTS.ghost_unregistered_score,
    ):
        self.ghost_unregistered_score = ghost_unregistered_score

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        disb = disbursements(
            datasets, ["disbursement_id", "person_id", "region_code", "period", "amount"]
        ).with_columns(pl.col("person_id").cast(pl.String).fill_null(""))
        registered = (
            lazy(datasets, "persons")
            .select(normalize_person_id(pl.col("person_id")).alias("_norm"))
            .unique()
            .with_columns(pl.lit(True).alias("_registered"))
        )
        today = dt.date.today()
        ghosts = (
            disb.select("person_id")
            .unique()
            .with_columns(normalize_person_id(pl.col("person_id")).alias("_norm"))
            .with_columns(invalid_person_id_reason(pl.col("_norm"), today).alias("reason"))
            .join(registered, on="_norm", how="left")
            .filter(pl.col("reason").is_not_null() | pl.col("_registered").is_null())
            .select(
                "person_id",
                pl.col("reason").is_not_null().alias("invalid"),
                pl.col("_registered").is_null().alias("unregistered"),
                pl.col("reason").fill_null(_NOT_REGISTERED),
            )
        )
        records = disb.join(ghosts, on="person_id", how="inner").with_columns(
            pl.col("amount").cast(pl.Float64).alias("at_risk")
        )
        grouped = group_records(
            records,
            "person_id",
            extra=[pl.col("invalid", "unregistered", "reason").first()],
        )
        why_zh = (
            pl.when(pl.col("invalid"))
            .then(pl.col("reason").replace(_REASON_ZH))
            .otherwise(pl.lit(""))
        )
        reg_zh = pl.when(pl.col("unregistered")).then(pl.lit("人员基础信息库中无此人")).otherwise(pl.lit("人员库中有此号码"))
        reg_en = pl.when(pl.col("unregistered")).then(pl.lit("not in the person register")).otherwise(pl.lit("present in the register"))
        zh = (
            pl.when(pl.col("invalid")).then(why_zh + pl.lit(";")).otherwise(pl.lit("")) + reg_zh
            + pl.lit(";所属期 ") + period_range_zh() + pl.lit(" 向其发放 ") + pl.col("n_records").cast(pl.String)
            + pl.lit(" 笔,共 ") + money(pl.col("amount_at_risk")) + pl.lit(" 元")
        )
        en = (
            pl.lit("Beneficiary ")
            + pl.when(pl.col("invalid")).then(pl.lit("has an invalid identity number (") + pl.col("reason") + pl.lit(") and is "))
            .otherwise(pl.lit("is "))
            + reg_en + pl.lit("; ") + plural(pl.col("n_records"), "payment") + pl.lit(" for ") + period_range_en()
            + pl.lit(" totalling ") + money(pl.col("amount_at_risk")) + pl.lit(" CNY")
        )
        score = pl.when(pl.col("invalid")).then(pl.lit(1.0)).otherwise(pl.lit(self.ghost_unregistered_score))
        details = json_details(invalid_id=pl.col("invalid"), unregistered=pl.col("unregistered"),
                               reason=pl.col("reason"))
        return finish(grouped, "GHOST_BENEFICIARY", "person", "person_id", score, zh, en, details)
