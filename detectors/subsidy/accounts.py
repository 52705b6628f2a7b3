"""Whose card the money goes to: cadre-held cards (CADRE_HELD_CARDS) and shared accounts (SHARED_ACCOUNT)."""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec, lazy
from ..policy import ONE_CARD_EN, ONE_CARD_ZH
from ._common import (
    DEFAULTS,
    ROLE_EN,
    ROLE_ZH,
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


def _households(datasets: Datasets) -> pl.LazyFrame:
    """``person_id -> household_id`` from persons (one row per person)."""
    return (
        lazy(datasets, "persons")
        .select("person_id", pl.col("household_id").cast(pl.String))
        .filter(pl.col("household_id").is_not_null())
        .unique(subset="person_id", keep="first")
    )


class CadreHeldCardsRule(SubsidyRule):
    """Officials who are the account holder of other households' subsidy payments.

    Why it matters: a village cadre keeping villagers' one-card passbooks (代持/代领) controls
    their money — the pattern behind most 一卡通 embezzlement cases. Any official on the
    roster in ``cadre_roles`` (default every role) counts.

    A payment is flagged when its ``account_holder_id`` is an official, differs from the
    beneficiary ``person_id``, and the beneficiary does not live in the official's household
    (``persons.household_id``). When either household is unknown the payment is flagged: the
    same-household exception must be shown by the register.

    Legitimate look-alike ignored: a relative in the same household holding the card (e.g. a
    cadre collecting an elderly parent's allowance in the same 户), and the official's own
    payments.

    Findings: one per official (``entity_type="person"``, ``entity_id`` = the holder), records
    all such payments with their whole amounts. Score
    ``cadre_score_base + cadre_score_per_person × (beneficiaries − 1)``, clipped to 1.

    Parameters
    ----------
    cadre_roles : official roles considered.
    cadre_score_base, cadre_score_per_person : score shape (see above).
    """

    rules = (
        RuleSpec(
            code="CADRE_HELD_CARDS",
            family="held_cards",
            weight=1.0,
            entity_type="person",
            title_zh="干部代持群众补贴卡",
            title_en="Cadre holding villagers' cards",
            meaning_zh="村(社区)干部或公职人员是非本户受益人的收款账户持有人",
            meaning_en="A cadre or official holds the account of beneficiaries outside their household",
            basis_zh=ONE_CARD_ZH + ":补贴资金直接发放到受益人本人账户,严禁代管、代领群众补贴卡(折)",
            basis_en=ONE_CARD_EN.capitalize() + ": money goes to the recipient's own account; nobody may keep or collect recipients' cards",
            checklist_zh=(
                "调取这些账户的开户资料和银行流水,查明取款人和资金去向",
                "逐户走访受益人,核实是否本人持卡、是否足额收到补贴",
                "询问该干部代持银行卡的原因和时间",
            ),
            checklist_en=(
                "Pull the account-opening documents and bank statements: who withdrew the money and where it went",
                "Visit each beneficiary: do they hold their card, did they receive the full amount",
                "Ask the cadre why and since when they hold the cards",
            ),
        ),
    )
    partition_by = ("disbursements", "account_holder_id")
    requires = ("persons", "officials", "disbursements")

    def __init__(
        self,
        cadre_roles: tuple[str, ...] = DEFAULTS.cadre_roles,
        cadre_score_base: float = DEFAULTS.cadre_score_base,
        cadre_score_per_person: float = DEFAULTS.cadre_score_per_person,
    ):
        self.cadre_roles = cadre_roles
        self.cadre_score_base = cadre_score_base
        self.cadre_score_per_person = cadre_score_per_person

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        cadres = (
            lazy(datasets, "officials")
            .select(pl.col("person_id").alias("account_holder_id"), pl.col("role").cast(pl.String))
            .filter(pl.col("role").is_in(list(self.cadre_roles)))
            .group_by("account_holder_id")
            .agg(pl.col("role").unique().sort().alias("roles"))
        )
        hh = _households(datasets)
        records = (
            disbursements(
                datasets,
                ["disbursement_id", "person_id", "region_code", "period", "amount", "account_no", "account_holder_id"],
            )
            .filter(pl.col("account_holder_id").is_not_null() & (pl.col("account_holder_id") != pl.col("person_id")))
            .join(cadres, on="account_holder_id", how="inner")
            .join(hh.rename({"household_id": "_ben_hh"}), on="person_id", how="left")
            .join(
                hh.rename({"person_id": "account_holder_id", "household_id": "_holder_hh"}),
                on="account_holder_id",
                how="left",
            )
            .filter((pl.col("_ben_hh") != pl.col("_holder_hh")).fill_null(True))
            .with_columns(pl.col("amount").cast(pl.Float64).alias("at_risk"))
        )
        grouped = group_records(
            records,
            "account_holder_id",
            extra=[
                pl.col("roles").first(),
                pl.col("person_id").n_unique().alias("n_people"),
                pl.col("_ben_hh").n_unique().alias("n_households"),
                pl.col("account_no").n_unique().alias("n_accounts"),
            ],
        )
        roles_zh = pl.col("roles").list.eval(pl.element().replace(ROLE_ZH)).list.join("、")
        roles_en = pl.col("roles").list.eval(pl.element().replace(ROLE_EN)).list.join(", ")
        zh = (
            roles_zh + pl.lit(" 是 ") + pl.col("n_people").cast(pl.String) + pl.lit(" 名非本户受益人的持卡人(")
            + pl.col("n_accounts").cast(pl.String) + pl.lit(" 个账户);所属期 ") + period_range_zh()
            + pl.lit(" 代收 ") + pl.col("n_records").cast(pl.String) + pl.lit(" 笔,共 ")
            + money(pl.col("amount_at_risk")) + pl.lit(" 元")
        )
        en = (
            pl.lit("A ") + roles_en + pl.lit(" holds the account of ") + plural(pl.col("n_people"), "beneficiary")
            .str.replace("beneficiarys", "beneficiaries")
            + pl.lit(" outside their household (") + plural(pl.col("n_accounts"), "account")
            + pl.lit("); ") + plural(pl.col("n_records"), "payment") + pl.lit(" for ") + period_range_en()
            + pl.lit(" totalling ") + money(pl.col("amount_at_risk")) + pl.lit(" CNY")
        )
        score = (pl.lit(self.cadre_score_base) + self.cadre_score_per_person * (pl.col("n_people") - 1)).clip(0.0, 1.0)
        details = json_details(roles=pl.col("roles"), n_beneficiaries=pl.col("n_people"),
                               n_accounts=pl.col("n_accounts"))
        return finish(grouped, "CADRE_HELD_CARDS", "person", "account_holder_id", score, zh, en, details)


class SharedAccountRule(SubsidyRule):
    """One account receiving subsidies for people of several different households.

    Why it matters: a card collecting for many unrelated households is a cadre's or middle
    man's collecting account, or a ring of invented beneficiaries paid into one card.

    Beneficiaries' households come from ``persons.household_id``; a beneficiary missing from
    the register counts as a household of their own. An ``account_no`` is flagged when its
    payments go to people of at least ``shared_account_min_households`` households.

    Legitimate look-alike ignored: one household sharing one account (spouses, a parent and a
    disabled child), however many members it pays.

    Findings: one per account (``entity_type="account"``, ``entity_id`` = ``account_no``),
    every payment into it as a record with its whole amount. Score
    ``shared_account_score_base + shared_account_score_per_household × (households − minimum)``,
    clipped to 1.

    Parameters
    ----------
    shared_account_min_households : least number of households to flag an account.
    shared_account_score_base, shared_account_score_per_household : score shape.
    """

    rules = (
        RuleSpec(
            code="SHARED_ACCOUNT",
            family="held_cards",
            weight=0.8,
            entity_type="account",
            title_zh="多人共用一个账户",
            title_en="One account for several households",
            meaning_zh="同一收款账户为{shared_account_min_households}户及以上不同家庭的人员领取补贴",
            meaning_en="One account receives subsidies for people of {shared_account_min_households} or more households",
            basis_zh=ONE_CARD_ZH + ":补贴资金发放到受益人本人或本户账户",
            basis_en=ONE_CARD_EN.capitalize() + ": money goes to the recipient's own or household's account",
            checklist_zh=(
                "调取该账户的开户资料和银行流水,查明账户持有人和取款人",
                "走访相关受益人,核实是否同意、是否收到补贴",
                "询问经办人为何将多户补贴发到同一账户",
            ),
            checklist_en=(
                "Pull the account-opening documents and bank statement: who holds the account and who withdraws",
                "Visit the beneficiaries: did they agree, did they receive the money",
                "Ask the operator why several households are paid into one account",
            ),
        ),
    )
    partition_by = ("disbursements", "account_no")
    requires = ("persons", "disbursements")

    def __init__(
        self,
        shared_account_min_households: int = DEFAULTS.shared_account_min_households,
        shared_account_score_base: float = DEFAULTS.shared_account_score_base,
        shared_account_score_per_household: float = DEFAULTS.shared_account_score_per_household,
    ):
        self.shared_account_min_households = shared_account_min_households
        self.shared_account_score_base = shared_account_score_base
        self.shared_account_score_per_household = shared_account_score_per_household

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        disb = disbursements(
            datasets, ["disbursement_id", "person_id", "region_code", "period", "amount", "account_no"]
        ).filter(pl.col("account_no").is_not_null())
        # accounts paying more than one person first: cheap, and most accounts pay one
        multi = (
            disb.group_by("account_no")
            .agg(pl.col("person_id").n_unique().alias("_n"))
            .filter(pl.col("_n") >= self.shared_account_min_households)
            .select("account_no")
        )
        candidates = (
            disb.join(multi, on="account_no", how="semi")
            .join(_households(datasets), on="person_id", how="left")
            .with_columns(
                pl.coalesce(pl.col("household_id"), pl.lit("person:") + pl.col("person_id")).alias("_hh")
            )
        )
        shared = (
            candidates.group_by("account_no")
            .agg(pl.col("_hh").n_unique().alias("n_households"), pl.col("person_id").n_unique().alias("n_people"))
            .filter(pl.col("n_households") >= self.shared_account_min_households)
        )
        records = candidates.join(shared, on="account_no", how="inner").with_columns(
            pl.col("amount").cast(pl.Float64).alias("at_risk")
        )
        grouped = group_records(
            records,
            "account_no",
            extra=[pl.col("n_households").first(), pl.col("n_people").first()],
        )
        zh = (
            pl.lit("同一账户为 ") + pl.col("n_households").cast(pl.String) + pl.lit(" 户 ")
            + pl.col("n_people").cast(pl.String) + pl.lit(" 名受益人收款;所属期 ") + period_range_zh()
            + pl.lit(" 共 ") + pl.col("n_records").cast(pl.String) + pl.lit(" 笔,") + money(pl.col("amount_at_risk"))
            + pl.lit(" 元")
        )
        en = (
            pl.lit("One account receives for ") + plural(pl.col("n_people"), "beneficiary")
            .str.replace("beneficiarys", "beneficiaries")
            + pl.lit(" of ") + plural(pl.col("n_households"), "household") + pl.lit("; ")
            + plural(pl.col("n_records"), "payment") + pl.lit(" for ") + period_range_en()
            + pl.lit(" totalling ") + money(pl.col("amount_at_risk")) + pl.lit(" CNY")
        )
        score = (
            pl.lit(self.shared_account_score_base)
            + self.shared_account_score_per_household
            * (pl.col("n_households") - self.shared_account_min_households)
        ).clip(0.0, 1.0)
        details = json_details(n_households=pl.col("n_households"), n_beneficiaries=pl.col("n_people"))
        return finish(grouped, "SHARED_ACCOUNT", "account", "account_no", score, zh, en, details)
