"""Whose card the money goes to: cadre-held cards (CADRE_HELD_CARDS) and shared accounts (SHARED_ACCOUNT)."""

from __future__ import annotations

import polars as pl

from ..base import Datasets, RuleSpec, lazy, optional_column
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
    (``persons.household_id``). Both households must be known: a person missing from the
    register is no evidence of a stranger's card (GHOST_BENEFICIARY covers unregistered
    beneficiaries). A payment whose ``proxy_id`` (v2) names the holder is a registered proxy
    (委托代领 or guardianship on file) and is not flagged.

    Legitimate look-alikes ignored: a relative in the same household holding the card (e.g. a
    cadre collecting an elderly parent's allowance in the same 户), a registered proxy, and the
    official's own payments.

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
                ["disbursement_id", "person_id", "region_code", "period", "amount", "account_no", "account_holder_id",
                 "proxy_id"],
            )
            .filter(pl.col("account_holder_id").is_not_null() & (pl.col("account_holder_id") != pl.col("person_id")))
            # a registered proxy (委托代领, guardian) holding the card is on file: legitimate
            .filter((pl.col("proxy_id") != pl.col("account_holder_id")).fill_null(True))
            .join(cadres, on="account_holder_id", how="inner")
            .join(hh.rename({"household_id": "_ben_hh"}), on="person_id", how="left")
            .join(
                hh.rename({"person_id": "account_holder_id", "household_id": "_holder_hh"}),
                on="account_holder_id",
                how="left",
            )
            # both households known and different: an unknown household is no evidence of a
            # stranger's card (the register may simply lack the person)
            .filter((pl.col("_ben_hh") != pl.col("_holder_hh")).fill_null(False))
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

    Payments whose ``proxy_id`` (v2) names the account holder are registered collecting
    (委托代领, guardian) and are left out. The account's holder is the ``account_holder_id``
    named most often on its payments; their household's payments are evidence with nothing at
    risk, every other household's payments are at risk whole.

    Legitimate look-alikes ignored: one household sharing one account (spouses, a parent and a
    disabled child), however many members it pays; a registered proxy; a child collecting for
    parents who live apart (up to ``shared_account_family_households`` other households whose
    beneficiaries are all heads or spouses of their household — ``relation``, v2 — and at
    least ``generation_gap_years`` older or younger than the holder).

    Findings: one per account (``entity_type="account"``, ``entity_id`` = ``account_no``),
    every payment into it as a record, other households' with their whole amount. Score
    ``shared_account_score_base + shared_account_score_per_household × (counted households − minimum)``,
    clipped to 1.

    Parameters
    ----------
    shared_account_min_households : least number of households to flag an account (accepted
        family households not counted).
    shared_account_family_households, generation_gap_years : parents' or children's
        households accepted (see above).
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
        shared_account_family_households: int = DEFAULTS.shared_account_family_households,
        generation_gap_years: int = DEFAULTS.generation_gap_years,
        shared_account_score_base: float = DEFAULTS.shared_account_score_base,
        shared_account_score_per_household: float = DEFAULTS.shared_account_score_per_household,
    ):
        self.shared_account_min_households = shared_account_min_households
        self.shared_account_family_households = shared_account_family_households
        self.generation_gap_years = generation_gap_years
        self.shared_account_score_base = shared_account_score_base
        self.shared_account_score_per_household = shared_account_score_per_household

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        disb = disbursements(
            datasets,
            ["disbursement_id", "person_id", "region_code", "period", "amount", "account_no", "account_holder_id",
             "proxy_id"],
        ).filter(pl.col("account_no").is_not_null())
        # a registered proxy's collecting is on file (委托代领, guardian): not a shared card
        disb = disb.filter((pl.col("proxy_id") != pl.col("account_holder_id")).fill_null(True))
        # accounts paying more than one person first: cheap, and most accounts pay one
        multi = (
            disb.group_by("account_no")
            .agg(pl.col("person_id").n_unique().alias("_n"))
            .filter(pl.col("_n") >= self.shared_account_min_households)
            .select("account_no")
        )
        people = lazy(datasets, "persons").select(
            "person_id", pl.col("household_id").cast(pl.String), "birth_date",
            optional_column(datasets, "persons", "relation").cast(pl.String),
        ).filter(pl.col("household_id").is_not_null()).unique(subset="person_id", keep="first")
        candidates = (
            disb.join(multi, on="account_no", how="semi")
            .join(people, on="person_id", how="left")
            .with_columns(
                pl.coalesce(pl.col("household_id"), pl.lit("person:") + pl.col("person_id")).alias("_hh")
            )
        )
        # the account's holder: the holder named most often on its payments (ties: the
        # smallest id), and the holder's household and birth date from the register
        holder = (
            candidates.filter(pl.col("account_holder_id").is_not_null())
            .group_by("account_no", "account_holder_id").agg(pl.len().alias("_k"))
            .sort(["account_no", "_k", "account_holder_id"], descending=[False, True, False])
            .group_by("account_no", maintain_order=True).agg(pl.col("account_holder_id").first().alias("_holder"))
            .join(people.select(pl.col("person_id").alias("_holder"), pl.col("household_id").alias("_holder_hh"),
                                pl.col("birth_date").alias("_holder_birth")), on="_holder", how="left")
        )
        gap = 365.25 * self.generation_gap_years
        age_gap = (pl.col("birth_date") - pl.col("_holder_birth")).dt.total_days().abs()
        # a parent or child living apart: heads (or spouses of heads) of their own household,
        # a generation older or younger than the holder
        kin_like = pl.col("relation").is_in(["head", "spouse"]) & (age_gap >= gap)
        households = (
            candidates.join(holder, on="account_no", how="left")
            .group_by("account_no", "_hh")
            .agg(
                (pl.col("_hh").first() == pl.col("_holder_hh").first()).fill_null(False).alias("_own"),
                kin_like.fill_null(False).all().alias("_kin"),
            )
            .sort("account_no", "_hh")
            .with_columns(
                # the first family_households kin households of each account are accepted
                (pl.col("_kin") & ~pl.col("_own")).cast(pl.Int64).cum_sum().over("account_no").alias("_kin_no")
            )
            .with_columns(
                (pl.col("_kin") & ~pl.col("_own") & (pl.col("_kin_no") <= self.shared_account_family_households))
                .alias("_accepted")
            )
        )
        shared = (
            households.group_by("account_no")
            .agg(
                pl.len().alias("n_households"),
                (~pl.col("_accepted")).sum().alias("_n_counted"),
                pl.col("_accepted").sum().alias("n_family"),
            )
            .filter(pl.col("_n_counted") >= self.shared_account_min_households)
        )
        records = (
            candidates.join(shared, on="account_no", how="inner")
            .join(households.select("account_no", "_hh", "_own", "_accepted"), on=["account_no", "_hh"], how="left")
            .with_columns(
                # the holder's own household and accepted parents' or children's households
                # are evidence; what other households were paid is the money in doubt
                pl.when(pl.col("_own") | pl.col("_accepted")).then(0.0)
                .otherwise(pl.col("amount").cast(pl.Float64)).alias("at_risk")
            )
        )
        grouped = group_records(
            records,
            "account_no",
            extra=[pl.col("n_households").first(), pl.col("person_id").n_unique().alias("n_people"),
                   pl.col("_n_counted").first(), pl.col("n_family").first()],
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
            * (pl.col("_n_counted") - self.shared_account_min_households)
        ).clip(0.0, 1.0)
        details = json_details(n_households=pl.col("n_households"), n_beneficiaries=pl.col("n_people"),
                               n_family_households_accepted=pl.col("n_family"))
        return finish(grouped, "SHARED_ACCOUNT", "account", "account_no", score, zh, en, details)
