"""Over-billing on claim lines: excess quantity, over price, duplicate lines
(EXCESS_QUANTITY, OVER_PRICE, DUPLICATE_BILLING).

All three are billing practices of the institution that issues the bill, so the findings
are about the ``institution`` (one finding per institution, listing every claim concerned);
the people on those claims are usually not the ones who decided the quantity or price.
"""

from __future__ import annotations

import polars as pl

from fundwatch.memory import repeated_values
from fundwatch.settings import DEFAULT_SETTINGS

from ..base import Datasets, RuleSpec, lazy, lazy_held, lazy_rows
from ..policy import MEDICAL_FUND_REGULATION_EN, MEDICAL_FUND_REGULATION_ZH
from ._common import (
    MedicalDetector, claims_to_findings, finish, json_details, money, num, with_claims,
    per_claim_at_risk, ramp_score, ymd,
)

_S = DEFAULT_SETTINGS.medical


def _names(col: str, sep: str, more: str) -> pl.Expr:
    return pl.col(col).list.head(3).list.join(sep) + pl.when(pl.col(col).list.len() > 3).then(
        pl.lit(more)).otherwise(pl.lit(""))


def _institution_findings(per_claim: pl.LazyFrame, extra: list[pl.Expr]) -> pl.LazyFrame:
    return claims_to_findings(
        per_claim, "institution", "institution_id",
        [pl.col("inst_name").first(), pl.col("item_amount").sum(), pl.col("n_lines").sum(),
         pl.col("names").list.explode(keep_nulls=False, empty_as_null=False).unique().sort()
         .alias("item_names"),
         pl.col("visit_date").min().alias("first_visit"), pl.col("visit_date").max().alias("last_visit"),
         *extra],
    ).with_columns(pl.col("inst_name").fill_null(pl.col("institution_id")))


def _institution_levels(datasets: Datasets) -> pl.LazyFrame:
    """``institution_id, level`` (empty without the institutions dataset)."""
    if "institutions" not in datasets:
        return pl.LazyFrame(schema={"institution_id": pl.String, "level": pl.Int64})
    return (lazy(datasets, "institutions").select("institution_id", pl.col("level").cast(pl.Int64))
            .unique("institution_id", keep="first"))


class _RuleBase(MedicalDetector):
    kind = "rule"
    requires = ("item_catalog", "claims", "claim_items")
    optional = ("institutions",)


class ExcessQuantityRule(_RuleBase):
    """Quantity of an item per claim and service date above the catalogue's daily limit (超量).

    What it finds
        For each claim, service date and item, the summed ``quantity`` over the claim's lines
        above ``max_qty_per_day`` (+ ``quantity_tolerance``). Money at risk on a claim: the
        excess quantity times the average unit price, times the claim's fund share.
    Why it matters
        Prescribing or charging beyond the daily maximum is the classic way to bill drugs that
        were never needed (超量开药) — often resold.
    Look-alike it ignores
        A quantity exactly at the limit; the same item on different service dates (each day
        has its own limit).

    Entity: ``institution``. Score: ``floor + (1-floor) * clip((max ratio - 1) /
    (excess_full_score_ratio - 1))`` where ratio = quantity / daily limit.
    """

    rules = (
        RuleSpec(
            code="EXCESS_QUANTITY",
            family="over_billing",
            weight=0.6,
            entity_type="institution",
            title_zh="超量开药/超量收费",
            title_en="Quantity above the daily limit",
            meaning_zh="同一结算单同一服务日的数量超过目录规定的每日限量",
            meaning_en="Quantity per claim and service date above the catalogue's daily limit",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止超量开药、重复开药的规定;医保基金监管规则库:超量类规则",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid prescribing beyond need; the medical-insurance audit rule library: quantity rules",
            checklist_zh=(
                "调取处方、医嘱和结算明细,核对用量",
                "调取药品进销存记录,核对实际出库数量",
                "询问开方医师用量依据,必要时回访患者",
            ),
            checklist_en=(
                "Pull the prescriptions, orders and claim lines and check the quantities",
                "Pull the drug stock records and compare the quantities actually dispensed",
                "Ask the prescribing doctor why; if needed, call the patients",
            ),
        ),
    )
    partition_by = ("claims", "institution_id")

    def __init__(self, quantity_tolerance: float = _S.quantity_tolerance,
                 excess_full_score_ratio: float = _S.excess_full_score_ratio,
                 score_floor: float = _S.score_floor):
        self.quantity_tolerance = quantity_tolerance
        self.excess_full_score_ratio = excess_full_score_ratio
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        cat = (
            lazy(datasets, "item_catalog")
            .filter(pl.col("max_qty_per_day").is_not_null() & (pl.col("max_qty_per_day") > 0))
            .select("item_code", pl.col("max_qty_per_day").alias("limit"))
            .unique("item_code", keep="first")
            .collect()
        )
        # item_code is Categorical when compacted: compare it in its own type, not as text
        codes = cat["item_code"].cast(lazy_held(datasets, "claim_items").collect_schema()["item_code"])
        limit = pl.col("item_code").replace_strict(codes, cat["limit"], default=None, return_dtype=cat.schema["limit"])
        limited = pl.col("item_code").is_in(codes.implode())
        key = pl.struct("claim_id", "service_date", "item_code").hash(seed=0)
        # Nearly every (claim, day, item) has one line, so only lines that can exceed the
        # limit are grouped: those over it on their own, and those whose key repeats. Keys are
        # compared by a 64-bit hash (the exact group-by below corrects any collision), and
        # both passes run on the items as held, so only the candidate lines are turned back
        # into text: on 35M item lines this costs a few hundred MB where grouping the string
        # keys cost gigabytes.
        repeated = repeated_values(
            lazy_held(datasets, "claim_items").select(pl.when(limited).then(key).alias("_key"))
            .drop_nulls().collect().to_series()
        )
        candidates = (
            lazy_rows(datasets, "claim_items",
                      limited & ((pl.col("quantity") > limit + s.quantity_tolerance) | key.is_in(repeated.implode())))
            .join(cat.lazy(), on="item_code", how="inner")
            .select("claim_id", "item_code", "item_name", "quantity", "amount", "service_date", "limit")
        )
        days = (
            candidates
            .group_by("claim_id", "service_date", "item_code")
            .agg(pl.col("quantity").sum(), pl.col("amount").sum(), pl.col("limit").first(),
                 pl.col("item_name").first(), pl.len().alias("lines"))
            .filter(pl.col("quantity") > pl.col("limit") + s.quantity_tolerance)
            .pipe(lambda lf: with_claims(datasets, lf))
            .with_columns(
                excess=pl.col("quantity") - pl.col("limit"),
                ratio=pl.col("quantity") / pl.col("limit"),
            )
        )
        per_claim = per_claim_at_risk(
            days, ["institution_id"],
            pl.col("excess") * pl.col("amount") / pl.col("quantity"),
            [pl.col("ratio").max(), pl.col("item_name").unique().alias("names"),
             pl.col("lines").sum().alias("item_lines")],
        )
        grouped = _institution_findings(per_claim, [pl.col("ratio").max().alias("max_ratio")])
        ev_zh = pl.format(
            "{} 在 {} 至 {} 的 {} 张结算单中,{} 个项目日用量超过目录每日限量(如 {}),最高为限量的 {} 倍;"
            "超量部分金额 {} 元,其中统筹支付 {} 元",
            pl.col("inst_name"), ymd(pl.col("first_visit")), ymd(pl.col("last_visit")),
            pl.col("n_claims"), pl.col("n_lines"), _names("item_names", "、", " 等"),
            num(pl.col("max_ratio")), money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{}: on {} claims from {} to {}, {} item-days exceed the catalogue's daily limit "
            "(e.g. {}), up to {} times the limit; excess worth {} CNY, fund share {} CNY",
            pl.col("inst_name"), pl.col("n_claims"), ymd(pl.col("first_visit")),
            ymd(pl.col("last_visit")), pl.col("n_lines"), _names("item_names", ", ", " etc."),
            num(pl.col("max_ratio")), money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        details = json_details(items=pl.col("item_names"), max_ratio=pl.col("max_ratio").round(3),
                               item_days=pl.col("n_lines"))
        score = ramp_score(pl.col("max_ratio"), 1.0, s.excess_full_score_ratio, s)
        return finish(grouped, "EXCESS_QUANTITY", score, ev_zh, ev_en, details)


class OverPriceRule(_RuleBase):
    """Unit price above its cap: the catalogue's, or the one for the institution's level and the date (超限价收费).

    What it finds
        Claim lines whose ``unit_price`` exceeds their cap by more than ``price_tolerance``.
        The cap is the ``item_prices`` row (v2) for the item, the institution's ``level`` and
        the line's ``service_date`` (the latest begun on or before it where rows overlap);
        the catalogue's ``price_cap`` where no row matches or the dataset is absent. (Level
        and date prices are a detail of this rule, not a code of their own: the problem — a
        price above the one allowed — and what a checker does are the same; the evidence and
        ``details.lines_priced_by_level_and_date`` say which cap was broken.) Money at risk:
        ``(unit_price - cap) * quantity`` per line, summed per claim and scaled by the claim's
        fund share.
    Why it matters
        Charging above the published maximum price takes money the fund (and the patient)
        does not owe.
    Look-alike it ignores
        A price exactly at the cap, or below it; items without a cap; a price above the old
        cap on a service date after a price rise (the row valid on that date decides); a
        level-3 hospital charging the level-3 price that a level-1 clinic may not.

    Entity: ``institution``. Score: ``floor + (1-floor) * clip((max price/cap - 1) /
    (price_full_score_ratio - 1))``.
    """

    rules = (
        RuleSpec(
            code="OVER_PRICE",
            family="over_billing",
            weight=0.6,
            entity_type="institution",
            title_zh="超限价收费",
            title_en="Price above the cap",
            meaning_zh="单价高于目录规定的最高限价",
            meaning_en="Unit price above the catalogue's price cap",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止超标准收费的规定;医疗服务和药品价格管理有关规定",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid charging above the set prices; the rules on medical service and drug prices",
            checklist_zh=(
                "调取当期价格文件或挂网价格,核对最高限价",
                "调取收费明细和物价公示",
                "询问收费人员和物价管理人员",
            ),
            checklist_en=(
                "Pull the price documents or listed prices of the period and check the cap",
                "Pull the billing details and the posted prices",
                "Ask the billing and pricing staff",
            ),
        ),
    )
    partition_by = ("claims", "institution_id")
    optional = ("institutions", "item_prices")

    def __init__(self, price_tolerance: float = _S.price_tolerance,
                 price_full_score_ratio: float = _S.price_full_score_ratio,
                 score_floor: float = _S.score_floor):
        self.price_tolerance = price_tolerance
        self.price_full_score_ratio = price_full_score_ratio
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        cat = (
            lazy(datasets, "item_catalog")
            .filter(pl.col("price_cap").is_not_null())
            .select("item_code", pl.col("price_cap").alias("cat_cap"))
            .unique("item_code", keep="first")
            .collect()
        )
        if "item_prices" in datasets:
            prices = (
                lazy(datasets, "item_prices")
                .filter(pl.col("price_cap").is_not_null())
                .select("item_code", "level", "valid_from", "valid_to", pl.col("price_cap").alias("lvl_cap"))
                .collect()
            )
        else:
            prices = pl.DataFrame(schema={"item_code": pl.String, "level": pl.Int64, "valid_from": pl.Date,
                                          "valid_to": pl.Date, "lvl_cap": pl.Float64})
        # the lowest cap an item can have anywhere: a line priced at or below it is within every
        # cap, so only the few lines above it are joined to their claims and price rows
        floor_caps = (
            pl.concat([cat.select("item_code", cap="cat_cap"), prices.select("item_code", cap="lvl_cap")])
            .group_by("item_code").agg(pl.col("cap").min()).sort("item_code")
        )
        codes = floor_caps["item_code"].cast(lazy_held(datasets, "claim_items").collect_schema()["item_code"])
        lowest = pl.col("item_code").replace_strict(codes, floor_caps["cap"], default=None, return_dtype=pl.Float64)
        cand = (
            lazy_rows(datasets, "claim_items",
                      pl.col("item_code").is_in(codes.implode()) & (pl.col("unit_price") > lowest + s.price_tolerance))
            .select("claim_id", "line_no", "item_code", "item_name", "quantity", "unit_price", "amount",
                    "service_date")
            .pipe(lambda lf: with_claims(datasets, lf))
            .join(_institution_levels(datasets), on="institution_id", how="left")
            .with_row_index("_r")
            .collect()
        )
        # the price row of the line's item, its institution's level and its service date
        # (the latest that began on or before the date, where rows overlap)
        matched = (
            cand.lazy().select("_r", "item_code", "level", "service_date")
            .join(prices.lazy(), on=["item_code", "level"], how="inner")
            .filter((pl.col("valid_from") <= pl.col("service_date"))
                    & (pl.col("valid_to").is_null() | (pl.col("service_date") <= pl.col("valid_to"))))
            .sort("_r", "valid_from", descending=[False, True])
            .unique("_r", keep="first")
            .select("_r", "lvl_cap", "valid_from")
        )
        lines = (
            cand.lazy().join(matched, on="_r", how="left")
            .join(cat.lazy(), on="item_code", how="left")
            .with_columns(cap=pl.coalesce("lvl_cap", "cat_cap"),
                          by_level=pl.col("lvl_cap").is_not_null())
            .filter(pl.col("cap").is_not_null() & (pl.col("unit_price") > pl.col("cap") + s.price_tolerance))
            .with_columns(
                ratio=pl.when(pl.col("cap") > 0).then(pl.col("unit_price") / pl.col("cap"))
                .otherwise(float("inf"))
            )
        )
        per_claim = per_claim_at_risk(
            lines, ["institution_id"],
            (pl.col("unit_price") - pl.col("cap")) * pl.col("quantity"),
            [pl.col("ratio").max(), pl.col("item_name").unique().alias("names"),
             pl.col("by_level").sum().alias("level_lines")],
        )
        grouped = _institution_findings(per_claim, [pl.col("ratio").max().alias("max_ratio"),
                                                    pl.col("level_lines").sum()])
        which_zh = pl.when(pl.col("level_lines") == 0).then(pl.lit("目录最高限价")).when(
            pl.col("level_lines") == pl.col("n_lines")).then(pl.lit("本机构等级当期最高限价")).otherwise(
            pl.lit("目录或本机构等级当期最高限价"))
        which_en = pl.when(pl.col("level_lines") == 0).then(pl.lit("the catalogue's cap")).when(
            pl.col("level_lines") == pl.col("n_lines")).then(pl.lit("the cap for its level and date")).otherwise(
            pl.lit("the catalogue's cap or the cap for its level and date"))
        ev_zh = pl.format(
            "{} 在 {} 至 {} 的 {} 张结算单中有 {} 行单价高于{}(如 {}),最高为限价的 {} 倍;"
            "超收 {} 元,其中统筹支付 {} 元",
            pl.col("inst_name"), ymd(pl.col("first_visit")), ymd(pl.col("last_visit")),
            pl.col("n_claims"), pl.col("n_lines"), which_zh, _names("item_names", "、", " 等"),
            num(pl.col("max_ratio")), money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{}: {} lines on {} claims from {} to {} priced above {} (e.g. {}), "
            "up to {} times the cap; overcharge {} CNY, fund share {} CNY",
            pl.col("inst_name"), pl.col("n_lines"), pl.col("n_claims"), ymd(pl.col("first_visit")),
            ymd(pl.col("last_visit")), which_en, _names("item_names", ", ", " etc."),
            num(pl.col("max_ratio")), money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        details = json_details(items=pl.col("item_names"), max_price_ratio=pl.col("max_ratio").round(3),
                               lines=pl.col("n_lines"), lines_priced_by_level_and_date=pl.col("level_lines"))
        score = ramp_score(pl.col("max_ratio"), 1.0, s.price_full_score_ratio, s)
        return finish(grouped, "OVER_PRICE", score, ev_zh, ev_en, details)


class DuplicateBillingRule(_RuleBase):
    """The same item billed on repeated identical lines of one claim and day (重复收费).

    What it finds
        Sets of two or more lines of one claim with the same ``service_date``, ``item_code``,
        ``quantity`` and ``unit_price`` — the copy-pasted line. When the catalogue gives the item
        a ``max_qty_per_day`` and the set's summed quantity stays within it, the repetition
        is allowed (e.g. an injection given twice a day, billed one line per dose). Money at
        risk: every line of a set beyond the first, times the claim's fund share.
    Why it matters
        Repeating a line bills a service once performed twice; it is the most common
        over-billing in settlement audits.
    Look-alike it ignores
        The same item on different service dates (a daily bed charge over a stay), lines of
        the same item with different quantities or prices (a dose change), and repeats that
        stay within the daily limit.

    Entity: ``institution`` (it issues the bill). Score: ``floor + (1-floor) *
    clip((repeated lines - 1) / (duplicate_full_score_lines - 1))``.
    """

    rules = (
        RuleSpec(
            code="DUPLICATE_BILLING",
            family="over_billing",
            weight=0.7,
            entity_type="institution",
            title_zh="重复收费",
            title_en="Item billed twice",
            meaning_zh="同一结算单同一服务日重复记同一项目",
            meaning_en="The same item on repeated lines of one claim and service date",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止重复收费、分解项目收费的规定",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid billing one service twice or in parts",
            checklist_zh=(
                "调取结算明细、医嘱和治疗记录,核对项目实际执行次数",
                "询问收费人员和执行科室",
            ),
            checklist_en=(
                "Pull the claim lines, orders and treatment records: how often was the item really given",
                "Ask the billing staff and the department that gave it",
            ),
        ),
    )
    partition_by = ("claims", "institution_id")
    optional = ("item_catalog", "institutions")
    requires = ("claims", "claim_items")

    def __init__(self, duplicate_full_score_lines: int = _S.duplicate_full_score_lines,
                 score_floor: float = _S.score_floor):
        self.duplicate_full_score_lines = duplicate_full_score_lines
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        if "item_catalog" in datasets:
            cat = (
                lazy(datasets, "item_catalog")
                .select("item_code", pl.col("max_qty_per_day").alias("limit"))
                .unique("item_code", keep="first")
            )
        else:
            cat = pl.LazyFrame(schema={"item_code": pl.String, "limit": pl.Float64})
        sets = (
            lazy(datasets, "claim_items")
            .select("claim_id", "item_code", "item_name", "quantity", "unit_price", "amount", "service_date")
            # a cheap 64-bit hash of the line's identity finds candidate repeats first; the
            # exact grouping below then runs on those few lines only (collisions only add work)
            .filter(
                pl.len().over(
                    pl.struct("claim_id", "service_date", "item_code", "quantity", "unit_price").hash(seed=0)
                ) >= 2
            )
            .group_by("claim_id", "service_date", "item_code", "quantity", "unit_price")
            .agg(pl.len().alias("copies"), pl.col("amount").max(), pl.col("item_name").first())
            .filter(pl.col("copies") >= 2)
            .join(cat, on="item_code", how="left")
            .filter(
                pl.col("limit").is_null()
                | (pl.col("quantity") * pl.col("copies") > pl.col("limit") + _S.quantity_tolerance)
            )
            .pipe(lambda lf: with_claims(datasets, lf))
        )
        per_claim = per_claim_at_risk(
            sets, ["institution_id"], (pl.col("copies") - 1) * pl.col("amount"),
            [(pl.col("copies") - 1).sum().alias("extra_lines"), pl.col("item_name").unique().alias("names")],
        )
        grouped = _institution_findings(per_claim, [pl.col("extra_lines").sum()])
        ev_zh = pl.format(
            "{} 在 {} 至 {} 的 {} 张结算单中,同一项目同日重复计费 {} 行(如 {});重复部分金额 {} 元,其中统筹支付 {} 元",
            pl.col("inst_name"), ymd(pl.col("first_visit")), ymd(pl.col("last_visit")),
            pl.col("n_claims"), pl.col("extra_lines"), _names("item_names", "、", " 等"),
            money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{}: on {} claims from {} to {}, {} repeated identical lines for the same item and day "
            "(e.g. {}); repeats worth {} CNY, fund share {} CNY",
            pl.col("inst_name"), pl.col("n_claims"), ymd(pl.col("first_visit")),
            ymd(pl.col("last_visit")), pl.col("extra_lines"), _names("item_names", ", ", " etc."),
            money(pl.col("item_amount")), money(pl.col("total_at_risk")),
        )
        details = json_details(items=pl.col("item_names"), repeated_lines=pl.col("extra_lines"))
        score = ramp_score(pl.col("extra_lines"), 1, max(s.duplicate_full_score_lines, 2), s)
        return finish(grouped, "DUPLICATE_BILLING", score, ev_zh, ev_en, details)
