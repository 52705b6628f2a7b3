"""Recipients on other departments' rosters whom the standard excludes.

OFFICIAL_RECIPIENT (officials serving during the period) and ASSET_OWNER_RECIPIENT (owners of
a vehicle or business registered before the period) for standards with
``excludes_officials`` / ``excludes_asset_owners``.
"""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec, lazy
from ..policy import SOCIAL_ASSISTANCE_EN, SOCIAL_ASSISTANCE_ZH
from ._common import (
    ASSET_EN,
    ASSET_ZH,
    DEFAULTS,
    ROLE_EN,
    ROLE_ZH,
    SubsidyRule,
    asset_held,
    counting_assets,
    finish,
    group_records,
    json_details,
    money,
    period_first_day,
    period_last_day,
    period_range_en,
    period_range_zh,
    plural,
    standardised,
    type_label_zh,
)


class OfficialRecipientRule(SubsidyRule):
    """Officials who receive a subsidy whose standard excludes officials.

    Why it matters: civil servants, public-institution staff and village cadres (财政供养人员)
    may not draw means-tested subsidies such as 低保 while serving; cadres enrolling
    themselves is a frequent finding of discipline inspections.

    A payment is flagged when its applicable standard has ``excludes_officials`` and the
    beneficiary has an ``officials`` row (any role) whose service overlaps the period:
    ``start_date <= last day of the period`` and (``end_date`` empty or
    ``end_date >= first day of the period``).

    Legitimate look-alike ignored: a former official whose service ended before the period
    began (or who starts after it ended).

    Findings: one per person; records are the excluded payments, whole amounts at risk;
    score 1.0.

    No parameters: the rule has no threshold to set.
    """

    rules = (
        RuleSpec(
            code="OFFICIAL_RECIPIENT",
            family="eligibility",
            weight=0.9,
            entity_type="person",
            title_zh="财政供养人员违规领取",
            title_en="Official receiving an excluded subsidy",
            meaning_zh="任职期间的公职人员或村(社区)干部领取排除其享受的补贴",
            meaning_en="An official serving during the period receives a subsidy that excludes officials",
            basis_zh="最低生活保障、特困人员救助供养审核确认有关规定;" + SOCIAL_ASSISTANCE_ZH,
            basis_en="The rules on approving minimum-living and extreme-poverty support; the " + SOCIAL_ASSISTANCE_EN,
            checklist_zh=(
                "调取组织人事或编制部门的任职记录,核对任职起止时间",
                "调取低保等补贴的申请、入户调查和公示材料",
                "询问审批人员和村(社区)干部:是否知情、是否违规办理",
            ),
            checklist_en=(
                "Pull the personnel records of the official's post and check the dates of service",
                "Pull the application, home-visit and public-notice file of the subsidy",
                "Ask the approving staff and the village committee whether they knew",
            ),
        ),
    )
    partition_by = ("disbursements", "person_id")
    requires = ("subsidy_standards", "officials", "disbursements")

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        officials = lazy(datasets, "officials").select(
            "person_id", pl.col("role").cast(pl.String), "start_date", "end_date"
        )
        lf, standards = standardised(
            datasets, ["disbursement_id", "person_id", "region_code", "period", "amount"],
            only_flag="excludes_officials",
        )
        overlapping = (
            lf.filter(pl.col("std_excludes_officials").fill_null(False))
            .join(officials, on="person_id", how="inner")
            .filter(
                (pl.col("start_date").is_null() | (pl.col("start_date") <= period_last_day(pl.col("period"))))
                & (pl.col("end_date").is_null() | (pl.col("end_date") >= period_first_day(pl.col("period"))))
            )
        )
        # a person with several overlapping roles: one record per payment, roles listed
        records = overlapping.group_by("disbursement_id").agg(
            pl.col("person_id", "region_code", "period", "amount", "type_code").first(),
            pl.col("role").unique().sort().alias("roles"),
            pl.col("start_date").min().alias("start_date"),
            pl.col("end_date").max().alias("end_date"),
            pl.col("end_date").null_count().gt(0).alias("still_serving"),
        ).with_columns(
            pl.col("amount").cast(pl.Float64).alias("at_risk"),
            type_label_zh(standards).alias("type_zh"),
        )
        grouped = group_records(
            records,
            "person_id",
            extra=[
                pl.col("roles").list.explode(keep_nulls=False, empty_as_null=False).unique().sort().alias("roles"),
                pl.col("start_date").min().dt.strftime("%Y-%m-%d").alias("since"),
                pl.col("still_serving").any().alias("still_serving"),
                pl.col("end_date").max().dt.strftime("%Y-%m-%d").alias("until"),
                pl.col("type_zh").unique().sort().str.join("、").alias("types_zh"),
                pl.col("type_code").unique().sort().str.join(", ").alias("types_en"),
            ],
        )
        roles_zh = pl.col("roles").list.eval(pl.element().replace(ROLE_ZH)).list.join("、")
        roles_en = pl.col("roles").list.eval(pl.element().replace(ROLE_EN)).list.join(", ")
        until_zh = pl.when(pl.col("still_serving")).then(pl.lit("至今")).otherwise(pl.lit("至 ") + pl.col("until"))
        until_en = pl.when(pl.col("still_serving")).then(pl.lit("now")).otherwise(pl.col("until"))
        zh = (
            pl.lit("身份类别 ") + roles_zh + pl.lit(",任职 ") + pl.col("since").fill_null("?")
            + pl.lit(" ") + until_zh.fill_null("?") + pl.lit(";任职期间领取排除财政供养人员的 ")
            + pl.col("types_zh") + pl.lit(",所属期 ") + period_range_zh() + pl.lit(" 共 ")
            + pl.col("n_records").cast(pl.String) + pl.lit(" 笔 ") + money(pl.col("amount_at_risk")) + pl.lit(" 元")
        )
        en = (
            pl.lit("Serving as ") + roles_en + pl.lit(" from ") + pl.col("since").fill_null("?")
            + pl.lit(" to ") + until_en.fill_null("?") + pl.lit("; received ") + pl.col("types_en")
            + pl.lit(", which excludes officials: ") + plural(pl.col("n_records"), "payment")
            + pl.lit(" for ") + period_range_en() + pl.lit(" totalling ") + money(pl.col("amount_at_risk"))
            + pl.lit(" CNY")
        )
        details = json_details(roles=pl.col("roles"), service_start=pl.col("since"),
                               service_end=pl.when(pl.col("still_serving")).then(None).otherwise(pl.col("until")))
        return finish(grouped, "OFFICIAL_RECIPIENT", "person", "person_id", pl.lit(1.0), zh, en, details)


class AssetOwnerRecipientRule(SubsidyRule):
    """Owners of a vehicle or business who receive a subsidy that excludes asset owners.

    Why it matters: means-tested subsidies (低保, 特困) exclude households that own a car or
    run a registered business; a registration on file before the period shows the means
    test was not applied.

    A payment is flagged when its applicable standard has ``excludes_asset_owners`` and the
    beneficiary owns an asset of a type in ``excluding_asset_types`` (default vehicle and
    business) with ``registered_date`` before the first day of the period and not
    ``deregistered_date`` (v2) before it, whose ``subtype`` (v2) is not in
    ``exempt_asset_subtypes`` and whose ``value``, where given, is above ``asset_min_value``.

    Legitimate look-alikes ignored: a registration after the period began (the entitlement
    was lost only then), a vehicle deregistered before the period, an exempt subtype (a farm
    vehicle, a motorcycle, a disability vehicle), an asset worth no more than the local line,
    and property (房产), which the contract does not count.

    Findings: one per person; records are the excluded payments, whole amounts at risk;
    score 1.0.

    Parameters
    ----------
    excluding_asset_types : asset types that exclude their owners.
    exempt_asset_subtypes, asset_min_value : subtypes and values that do not count.
    """

    rules = (
        RuleSpec(
            code="ASSET_OWNER_RECIPIENT",
            family="eligibility",
            weight=0.8,
            entity_type="person",
            title_zh="有车辆或工商登记人员违规领取",
            title_en="Vehicle or business owner receiving an excluded subsidy",
            meaning_zh="所属期开始前已登记车辆或工商的人员领取排除其享受的补贴",
            meaning_en="A vehicle or business owner registered before the period receives a subsidy that excludes them",
            basis_zh="最低生活保障、特困人员救助供养审核确认有关规定(家庭财产状况的认定)",
            basis_en="The rules on approving minimum-living and extreme-poverty support (assessment of household assets)",
            checklist_zh=(
                "向公安交管部门调取车辆登记信息,向市场监管部门调取工商登记信息",
                "调取家庭经济状况核对报告和入户调查记录",
                "询问审批人员:核对时为何未发现",
            ),
            checklist_en=(
                "Pull the vehicle registration from the traffic police and the business registration from market regulation",
                "Pull the household means-test report and the home-visit record",
                "Ask the approving staff why the asset was not found at approval",
            ),
        ),
    )
    partition_by = ("disbursements", "person_id")
    requires = ("subsidy_standards", "assets", "disbursements")

    def __init__(
        self,
        excluding_asset_types: tuple[str, ...] = DEFAULTS.excluding_asset_types,
        exempt_asset_subtypes: tuple[str, ...] = DEFAULTS.exempt_asset_subtypes,
        asset_min_value: float = DEFAULTS.asset_min_value,
    ):
        self.excluding_asset_types = excluding_asset_types
        self.exempt_asset_subtypes = exempt_asset_subtypes
        self.asset_min_value = asset_min_value

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        owners = counting_assets(datasets, self.excluding_asset_types, self.exempt_asset_subtypes,
                                 self.asset_min_value).select(
            "person_id", "asset_type", "registered_date", "deregistered_date"
        )
        lf, standards = standardised(
            datasets, ["disbursement_id", "person_id", "region_code", "period", "amount"],
            only_flag="excludes_asset_owners",
        )
        matched = (
            lf.filter(pl.col("std_excludes_asset_owners").fill_null(False))
            .join(owners, on="person_id", how="inner")
            .filter(asset_held(pl.col("period")))
        )
        records = matched.group_by("disbursement_id").agg(
            pl.col("person_id", "region_code", "period", "amount", "type_code").first(),
        ).with_columns(
            pl.col("amount").cast(pl.Float64).alias("at_risk"),
            type_label_zh(standards).alias("type_zh"),
        )
        assets = (
            matched.group_by("person_id", "asset_type")
            .agg(pl.col("registered_date").first())
            .sort("person_id", "registered_date", "asset_type")
            .group_by("person_id", maintain_order=True)
            .agg(
                pl.col("asset_type").alias("asset_types"),
                pl.col("registered_date").dt.strftime("%Y-%m-%d").alias("registered"),
            )
        )
        grouped = group_records(
            records,
            "person_id",
            extra=[
                pl.col("type_zh").unique().sort().str.join("、").alias("types_zh"),
                pl.col("type_code").unique().sort().str.join(", ").alias("types_en"),
            ],
        ).join(assets, on="person_id", how="left")
        first_zh = pl.col("asset_types").list.first().replace(ASSET_ZH)
        first_en = pl.col("asset_types").list.first().replace(ASSET_EN)
        first_date = pl.col("registered").list.first()
        zh = (
            pl.lit("名下") + first_zh + pl.lit("登记于 ") + first_date
            + pl.when(pl.col("asset_types").list.len() > 1)
            .then(pl.lit("(另有") + pl.col("asset_types").list.slice(1).list.eval(pl.element().replace(ASSET_ZH)).list.join("、") + pl.lit(")"))
            .otherwise(pl.lit(""))
            + pl.lit(",早于所属期;领取排除车辆工商登记人员的 ") + pl.col("types_zh") + pl.lit(",所属期 ")
            + period_range_zh() + pl.lit(" 共 ") + pl.col("n_records").cast(pl.String) + pl.lit(" 笔 ")
            + money(pl.col("amount_at_risk")) + pl.lit(" 元")
        )
        en = (
            pl.lit("Registered owner of a ") + first_en + pl.lit(" since ") + first_date
            + pl.when(pl.col("asset_types").list.len() > 1)
            .then(pl.lit(" (also ") + pl.col("asset_types").list.slice(1).list.eval(pl.element().replace(ASSET_EN)).list.join(", ") + pl.lit(")"))
            .otherwise(pl.lit(""))
            + pl.lit(", before the periods paid; received ") + pl.col("types_en")
            + pl.lit(", which excludes vehicle/business owners: ") + plural(pl.col("n_records"), "payment")
            + pl.lit(" for ") + period_range_en() + pl.lit(" totalling ") + money(pl.col("amount_at_risk"))
            + pl.lit(" CNY")
        )
        details = json_details(asset_types=pl.col("asset_types"), registered_dates=pl.col("registered"))
        return finish(grouped, "ASSET_OWNER_RECIPIENT", "person", "person_id", pl.lit(1.0), zh, en, details)
