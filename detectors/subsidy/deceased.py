"""Payments to people who had already died (DECEASED_PAYEE)."""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec, lazy
from ..policy import ONE_CARD_EN, ONE_CARD_ZH, SOCIAL_ASSISTANCE_EN, SOCIAL_ASSISTANCE_ZH
from ._common import (
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


#: English names of the usual death sources (others are shown as they come).
SOURCE_EN = {"殡葬": "cremation", "火化": "cremation", "公安": "public security", "户籍": "household register",
             "卫健": "health commission", "医院": "hospital", "民政": "civil affairs"}


class DeceasedPayeeRule(SubsidyRule):
    """Subsidy payments for periods that start after the beneficiary's month of death.

    Why it matters: payments to the dead are the commonest one-card fraud — the card is
    kept and the money withdrawn by relatives or by whoever holds it.

    A person may appear in several death sources (殡葬 cremation, 公安 public security,
    卫健 health) with different dates; the earliest date counts, so the most cautious
    source closes the entitlement.

    Legitimate look-alike ignored: the payment for the month in which the person died
    (and any earlier month) is due; only periods from the month after death are flagged.

    Findings: one per person (``entity_type="person"``), every such payment as a record,
    its whole amount at risk, score 1.0 (a death record is a certain hit).

    No parameters: the rule has no threshold to set.

    Examples
    --------
    >>> DeceasedPayeeRule().fit_detect({"deaths": deaths, "disbursements": disb})  # doctest: +SKIP
    """

    rules = (
        RuleSpec(
            code="DECEASED_PAYEE",
            family="deceased",
            weight=1.0,
            entity_type="person",
            title_zh="死亡人员仍领取补贴",
            title_en="Payments to a deceased person",
            meaning_zh="所属期晚于死亡月份的发放(以各死亡数据来源中最早的日期为准)",
            meaning_en="Payments for periods starting after the month of death (the earliest date of any death source counts)",
            basis_zh=ONE_CARD_ZH + ";" + SOCIAL_ASSISTANCE_ZH + "关于救助对象动态管理的规定;各项补贴的享受条件:享受人员死亡后应及时停发",
            basis_en=ONE_CARD_EN.capitalize() + "; the " + SOCIAL_ASSISTANCE_EN + " on keeping the list of recipients up to date; the conditions of each subsidy: payments stop when the recipient dies",
            checklist_zh=(
                "调取火化记录、死亡证明或户籍注销信息,核对死亡日期",
                "调取死亡后各月发放明细和银行卡流水,查明款项被谁取走",
                "询问村(社区)经办人、代领人和家属:为何未及时申报、停发",
            ),
            checklist_en=(
                "Pull the cremation record, death certificate or household-register cancellation and check the date of death",
                "Pull the payments for the months after death and the card's bank statement: who withdrew the money",
                "Ask the village operator, the person who collected the money and the family why the death was not reported and the payments not stopped",
            ),
        ),
    )
    partition_by = ("disbursements", "person_id")
    requires = ("deaths", "disbursements")

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        deaths = (
            lazy(datasets, "deaths")
            .select("person_id", "death_date", pl.col("source").cast(pl.String).fill_null(""))
            .filter(pl.col("person_id").is_not_null() & pl.col("death_date").is_not_null())
            .group_by("person_id")
            .agg(
                pl.col("death_date").min(),
                # the source of the earliest date (alphabetically first on ties: deterministic)
                pl.col("source").sort_by(["death_date", "source"]).first().alias("death_source"),
                pl.col("source").n_unique().alias("n_sources"),
            )
            .with_columns(pl.col("death_date").dt.strftime("%Y-%m").alias("death_month"))
        )
        records = (
            disbursements(datasets, ["disbursement_id", "person_id", "region_code", "period", "amount"])
            .join(deaths, on="person_id", how="inner")
            .filter(pl.col("period") > pl.col("death_month"))
            .with_columns(pl.col("amount").cast(pl.Float64).alias("at_risk"))
        )
        grouped = group_records(
            records,
            "person_id",
            extra=[
                pl.col("death_date").first(),
                pl.col("death_source").first(),
                pl.col("n_sources").first(),
            ],
        )
        death = pl.col("death_date").dt.strftime("%Y-%m-%d")
        zh = (
            pl.lit("死亡日期 ") + death + pl.lit("(") + pl.col("death_source") + pl.lit(");此后所属期 ")
            + period_range_zh() + pl.lit(" 仍发放 ") + pl.col("n_records").cast(pl.String)
            + pl.lit(" 笔,共 ") + money(pl.col("amount_at_risk")) + pl.lit(" 元")
        )
        en = (
            pl.lit("Died ") + death + pl.lit(" (") + pl.col("death_source").replace(SOURCE_EN) + pl.lit(" record); ")
            + plural(pl.col("n_records"), "payment") + pl.lit(" for periods ") + period_range_en()
            + pl.lit(" totalling ") + money(pl.col("amount_at_risk")) + pl.lit(" CNY")
        )
        details = json_details(
            death_date=death, death_source=pl.col("death_source"), n_death_sources=pl.col("n_sources")
        )
        return finish(grouped, "DECEASED_PAYEE", "person", "person_id", pl.lit(1.0), zh, en, details)
