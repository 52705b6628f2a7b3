"""Means-tested subsidies paid to a household a member's job or assets disqualify (HOUSEHOLD_MEANS_TEST)."""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec, lazy, optional_column
from ..policy import SOCIAL_ASSISTANCE_EN, SOCIAL_ASSISTANCE_ZH
from ._common import (
    ASSET_EN,
    ASSET_ZH,
    DEFAULTS,
    ROLE_EN,
    ROLE_ZH,
    SubsidyRule,
    counting_assets,
    finish,
    group_records,
    json_details,
    masked_id,
    money,
    period_first_day,
    period_range_en,
    period_range_zh,
    plural,
    serving,
    standardised,
    type_label_zh,
)

RELATION_ZH = {"head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母", "grandchild": "孙子女",
               "other": "其他成员"}


class HouseholdMeansTestRule(SubsidyRule):
    """Means-tested subsidies paid while another member of the household is disqualifying.

    Why it matters: 低保 and 特困 are granted to a *household* after a means test (按户核定);
    a serving official or a registered car or business anywhere in the household shuts it out.
    Enrolling a cadre's spouse or parent while the cadre serves (优亲厚友), or a family with a
    company in a son's name, is what the campaign looks for; checking the beneficiary alone
    misses it.

    A payment is flagged when its applicable standard has ``means_test`` (v2) and another
    member of the beneficiary's household (``persons.household_id``) during the period

    * is an official serving then (``officials``; the standard has ``excludes_officials``), or
    * holds a counting asset (the standard has ``excludes_asset_owners``): a type in
      ``excluding_asset_types``, subtype not in ``exempt_asset_subtypes``, value above
      ``asset_min_value`` where given, registered before the period and not deregistered
      before it.

    The beneficiary's own job or assets are OFFICIAL_RECIPIENT's and ASSET_OWNER_RECIPIENT's.

    Legitimate look-alikes ignored: standards without ``means_test`` (an elderly allowance
    goes to the old person whatever the son does); a member whose service ended, or whose
    vehicle was deregistered, before the period; an exempt subtype (a farm vehicle); a member
    of another household.

    Findings: one per beneficiary; records the flagged payments, whole amounts at risk;
    evidence names the member (relation, masked identity number) and the record (role and
    post, or asset type and registration date). Score ``means_test_score``.

    Parameters
    ----------
    excluding_asset_types, exempt_asset_subtypes, asset_min_value : which assets count.
    means_test_score : the score.
    """

    rules = (
        RuleSpec(
            code="HOUSEHOLD_MEANS_TEST",
            family="eligibility",
            weight=0.8,
            entity_type="person",
            title_zh="家庭成员不符合按户核定条件",
            title_en="Household disqualified by a member",
            meaning_zh="按户核定的补贴发放期间,同户其他成员为在职公职人员或登记有车辆、工商等财产",
            meaning_en="A means-tested subsidy paid while another member of the household was a serving official or owned a vehicle or business",
            basis_zh="最低生活保障、特困人员救助供养审核确认有关规定(以家庭为单位核定收入和财产);" + SOCIAL_ASSISTANCE_ZH,
            basis_en="The rules on approving minimum-living and extreme-poverty support (income and assets assessed per household); the "
            + SOCIAL_ASSISTANCE_EN,
            checklist_zh=(
                "调取户籍资料,核实该成员是否与受益人共同生活、是否应计入家庭成员",
                "调取该成员的任职记录或车辆、工商登记信息,核对起止时间",
                "调取家庭经济状况核对报告和入户调查记录,询问审批人员是否知情",
            ),
            checklist_en=(
                "Pull the household register: does the member live with the beneficiary and count as family",
                "Pull the member's personnel record or vehicle/business registration and check the dates",
                "Pull the means-test report and home-visit record; ask the approving staff whether they knew",
            ),
        ),
    )
    requires = ("persons", "subsidy_standards", "disbursements")
    requires_columns = {"subsidy_standards": ("means_test",)}
    optional = ("officials", "assets")

    def __init__(
        self,
        excluding_asset_types: tuple[str, ...] = DEFAULTS.excluding_asset_types,
        exempt_asset_subtypes: tuple[str, ...] = DEFAULTS.exempt_asset_subtypes,
        asset_min_value: float = DEFAULTS.asset_min_value,
        means_test_score: float = DEFAULTS.means_test_score,
    ):
        self.excluding_asset_types = excluding_asset_types
        self.exempt_asset_subtypes = exempt_asset_subtypes
        self.asset_min_value = asset_min_value
        self.means_test_score = means_test_score

    def _member_facts(self, datasets: Datasets) -> pl.LazyFrame:
        """Every disqualifying fact: ``member_id, kind, what, start, end, flag`` (one per record)."""
        date = pl.Date()
        parts = []
        if "officials" in datasets:
            parts.append(
                lazy(datasets, "officials").select(
                    pl.col("person_id").alias("member_id"),
                    pl.lit("official").alias("kind"),
                    pl.col("role").cast(pl.String).alias("what"),
                    pl.col("organization").cast(pl.String).alias("where"),
                    pl.col("start_date").cast(date).alias("start_date"),
                    pl.col("end_date").cast(date).alias("end_date"),
                )
            )
        if "assets" in datasets:
            parts.append(
                counting_assets(datasets, self.excluding_asset_types, self.exempt_asset_subtypes,
                                self.asset_min_value).select(
                    pl.col("person_id").alias("member_id"),
                    pl.lit("asset").alias("kind"),
                    pl.col("asset_type").alias("what"),
                    pl.col("subtype").alias("where"),
                    pl.col("registered_date").cast(date).alias("start_date"),
                    pl.col("deregistered_date").cast(date).alias("end_date"),
                )
            )
        if not parts:
            return pl.LazyFrame(schema={"member_id": pl.String, "kind": pl.String, "what": pl.String,
                                        "where": pl.String, "start_date": date, "end_date": date})
        return pl.concat(parts, how="vertical")

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        lf, standards = standardised(
            datasets, ["disbursement_id", "person_id", "region_code", "period", "amount"],
            only_flag=pl.col("means_test").fill_null(False)
            & (pl.col("excludes_officials") | pl.col("excludes_asset_owners")),
        )
        people = lazy(datasets, "persons").select(
            "person_id", pl.col("household_id").cast(pl.String),
            optional_column(datasets, "persons", "relation").cast(pl.String),
        ).filter(pl.col("household_id").is_not_null()).unique(subset="person_id", keep="first")
        # the (few) households with a disqualifying member, then their means-tested payments
        facts = self._member_facts(datasets).join(
            people.rename({"person_id": "member_id", "relation": "member_relation"}), on="member_id", how="inner"
        )
        first = period_first_day(pl.col("period"))
        ended = pl.col("end_date").is_null() | (pl.col("end_date") >= first)
        # an official serving at any time in the period; an asset held when it began
        held = pl.when(pl.col("kind") == "official").then(serving(pl.col("period"))).otherwise(
            (pl.col("start_date") < first) & ended
        )
        applies = (
            pl.when(pl.col("kind") == "official").then(pl.col("std_excludes_officials"))
            .otherwise(pl.col("std_excludes_asset_owners"))
        )
        matched = (
            lf.filter(pl.col("std_means_test").fill_null(False))
            .join(people.select("person_id", "household_id"), on="person_id", how="inner")
            .join(facts, on="household_id", how="inner")
            .filter(pl.col("member_id") != pl.col("person_id"))
            .filter(applies.fill_null(False) & held)
            .rename({"start_date": "registered_date"})
        )
        # one record per payment; its example fact: the earliest record of the first member
        order = ["member_id", "kind", "registered_date", "what"]
        example = pl.struct(
            pl.col("member_id").alias("ex_member"), pl.col("member_relation").alias("ex_relation"),
            pl.col("kind").alias("ex_kind"), pl.col("what").alias("ex_what"),
            pl.col("registered_date").dt.strftime("%Y-%m-%d").alias("ex_since"),
        ).sort_by(order).first()
        records = matched.group_by("disbursement_id").agg(
            pl.col("person_id", "region_code", "period", "amount", "type_code").first(),
            pl.col("member_id").n_unique().alias("_members"),
            example.alias("_ex"),
        ).with_columns(
            pl.col("amount").cast(pl.Float64).alias("at_risk"),
            type_label_zh(standards).alias("type_zh"),
        )
        grouped = group_records(
            records,
            "person_id",
            extra=[
                pl.col("type_zh").unique().sort().str.join("、").alias("types_zh"),
                pl.col("type_code").unique().sort().str.join(", ").alias("types_en"),
                pl.col("_members").max().alias("n_members"),
                pl.col("_ex").sort_by("period", "disbursement_id").first(),
            ],
        ).unnest("_ex")
        rel_zh = pl.col("ex_relation").replace(RELATION_ZH).fill_null("成员")
        rel_en = pl.col("ex_relation").fill_null("member")
        member = masked_id(pl.col("ex_member"))
        what_zh = (
            pl.when(pl.col("ex_kind") == "official")
            .then(pl.lit("为在职") + pl.col("ex_what").replace(ROLE_ZH) + pl.lit("(任职自 ") + pl.col("ex_since")
                  + pl.lit(")"))
            .otherwise(pl.lit("名下有") + pl.col("ex_what").replace(ASSET_ZH) + pl.lit("(登记日期 ")
                       + pl.col("ex_since") + pl.lit(")"))
        )
        what_en = (
            pl.when(pl.col("ex_kind") == "official")
            .then(pl.lit("a serving ") + pl.col("ex_what").replace(ROLE_EN) + pl.lit(" (since ") + pl.col("ex_since")
                  + pl.lit(")"))
            .otherwise(pl.lit("the owner of a registered ") + pl.col("ex_what").replace(ASSET_EN)
                       + pl.lit(" (registered ") + pl.col("ex_since") + pl.lit(")"))
        )
        zh = (
            pl.lit("同户") + rel_zh + pl.lit(" ") + member + pl.lit(" ") + what_zh + pl.lit(";按户核定的 ")
            + pl.col("types_zh") + pl.lit(" 所属期 ") + period_range_zh() + pl.lit(" 仍发放 ")
            + pl.col("n_records").cast(pl.String) + pl.lit(" 笔,共 ") + money(pl.col("amount_at_risk")) + pl.lit(" 元")
        )
        en = (
            pl.lit("Household member (") + rel_en + pl.lit(") ") + member + pl.lit(" is ") + what_en
            + pl.lit("; means-tested ") + pl.col("types_en") + pl.lit(" still paid: ")
            + plural(pl.col("n_records"), "payment") + pl.lit(" for ") + period_range_en()
            + pl.lit(" totalling ") + money(pl.col("amount_at_risk")) + pl.lit(" CNY")
        )
        details = json_details(
            member=member, member_relation=pl.col("ex_relation"), kind=pl.col("ex_kind"),
            record=pl.col("ex_what"), since=pl.col("ex_since"), n_members=pl.col("n_members"),
            subsidy_types=pl.col("types_en"),
        )
        return finish(grouped, "HOUSEHOLD_MEANS_TEST", "person", "person_id", pl.lit(self.means_test_score),
                      zh, en, details)
