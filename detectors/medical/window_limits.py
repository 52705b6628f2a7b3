"""Quantities over time: a person above an item's limit in any window, and days of supply of a
drug piled up across institutions (FREQUENCY_LIMIT, OVERSUPPLY).

Both judge one insured ``person`` across all claims and institutions, over sliding windows
computed with polars ``rolling`` per person and item: the item lines are never joined to
themselves.
"""

from __future__ import annotations

import polars as pl

from fundwatch.settings import DEFAULT_SETTINGS

from ..base import Datasets, RuleSpec, lazy, lazy_held, lazy_rows
from ..policy import MEDICAL_FUND_REGULATION_EN, MEDICAL_FUND_REGULATION_ZH
from ._common import (
    MedicalDetector, claims_to_findings, finish, json_details, money, num, per_claim_at_risk, ramp_score,
    with_claims, ymd,
)

_S = DEFAULT_SETTINGS.medical

_KEYS = ["person_id", "item_code"]


def _in_flagged_window(lines: pl.LazyFrame, flagged_ends: pl.LazyFrame, window: pl.Expr) -> pl.LazyFrame:
    """``lines`` (``person_id, item_code, service_date``) whose day lies in a flagged window:
    the first flagged window end on or after the day is less than ``window`` days later."""
    ends = flagged_ends.select(*_KEYS, pl.col("service_date").alias("_end")).sort("_end")
    return (
        lines.sort("service_date")
        .join_asof(ends, left_on="service_date", right_on="_end", by=_KEYS, strategy="forward",
                   check_sortedness=False)
        .filter(pl.col("_end").is_not_null() & ((pl.col("_end") - pl.col("service_date")).dt.total_days() < window))
        .drop("_end")
    )


def _excess_once(days: pl.LazyFrame, flagged: pl.LazyFrame, tolerance: float) -> pl.DataFrame:
    """Quantity above the limit per (person, item, day), counted once.

    ``days``: ``person_id, item_code, service_date, day_qty, limit, window_days``;
    ``flagged``: the window ends above the limit with ``win_qty`` and ``excess`` (the window's
    excess, at most the day's own quantity). Windows overlap, so summing each window's excess
    would count one extra session in every window it falls in. Instead the days of each
    flagged person and item are cut into consecutive windows from the first day, and what a
    window holds above the limit is at risk (its last days) — a lower bound of what must go
    for every window to keep the limit. Where the fullest window straddles a cut (the cut
    windows hold nothing above), its own excess is put on its last day.
    """
    tiles = (
        days.join(flagged.select(_KEYS).unique(), on=_KEYS, how="semi")
        .sort(*_KEYS, "service_date")
        .with_columns(tile=((pl.col("service_date") - pl.col("service_date").min().over(_KEYS)).dt.total_days()
                            // pl.col("window_days")))
        .with_columns(cum=pl.col("day_qty").cum_sum().over(*_KEYS, "tile"))
        .with_columns(tile_excess=pl.min_horizontal(
            (pl.col("cum") - pl.col("limit") - tolerance).clip(0.0, None), pl.col("day_qty")).cast(pl.Float64))
        .with_columns(tile_total=pl.col("tile_excess").sum().over(_KEYS))
    )
    fullest = (
        flagged.sort(*_KEYS, "win_qty", "service_date", descending=[False, False, True, False])
        .group_by(_KEYS, maintain_order=True).agg(pl.col("service_date").first().alias("_top_day"),
                                                  pl.col("excess").first().alias("_top_excess"))
    )
    return (
        tiles.join(fullest, on=_KEYS, how="left")
        .with_columns(excess=pl.when(pl.col("tile_total") > 0).then(pl.col("tile_excess"))
                      .when(pl.col("service_date") == pl.col("_top_day")).then(pl.col("_top_excess").cast(pl.Float64))
                      .otherwise(0.0))
        .select(*_KEYS, "service_date", "excess", "day_qty")
        .collect()
    )


def _trailing_sum(frame: pl.DataFrame, keys: list[str], value: str, window: int) -> pl.DataFrame:
    """``frame`` with ``_win``: the sum of ``value`` over the rows of the same ``keys`` dated in
    the ``window`` days ending on the row's ``service_date`` (rows of one date: one value per
    row of ``frame``, which must hold one row per keys and date).

    A cumulative sum per key and one backward as-of join (the cumulative sum on the last date
    at least ``window`` days earlier): sort-merge work only, where a rolling window over
    hundreds of thousands of small groups is slow.
    """
    f = (
        frame.sort(*keys, "service_date")
        .with_columns(_c=pl.col(value).cum_sum().over(keys))
    )
    back = f.select(*keys, (pl.col("service_date") + pl.duration(days=window)).alias("_t"), pl.col("_c").alias("_b"))
    return (
        f.sort("service_date")
        .join_asof(back.sort("_t"), left_on="service_date", right_on="_t", by=keys, strategy="backward",
                   check_sortedness=False)
        .with_columns(_win=pl.col("_c") - pl.col("_b").fill_null(0))
        .drop("_c", "_b", "_t")
    )


def _person_findings(per_claim: pl.LazyFrame, extra: list[pl.Expr]) -> pl.LazyFrame:
    return claims_to_findings(
        per_claim, "person", "person_id",
        [pl.col("institution_id").n_unique().alias("n_inst"), pl.col("item_amount").sum(),
         pl.col("visit_date").min().alias("first_visit"), pl.col("visit_date").max().alias("last_visit"),
         *extra],
    )


class FrequencyLimitRule(MedicalDetector):
    """One person above an item's limit per window, across claims and institutions (超频次).

    What it finds
        For catalogue items with ``window_days`` and ``max_qty_per_window`` (血液透析 3 per
        7 days, 康复理疗 20 per 30 days …), a person whose quantity of the item in some
        ``window_days`` consecutive days (ending on a service day) is above the limit by more
        than ``window_quantity_tolerance``, summed over all their claims and institutions.
        Money at risk, a lower bound counted once although windows overlap: the person's
        days of the item are cut into consecutive windows from the first, and what a window
        holds above the limit (its last sessions) is at risk; where the fullest window
        straddles a cut, its own excess, on its last day. At the lines' unit price, times the
        claim's fund share. The evidence lists
        every claim with the item in a window above the limit. One finding per person.
    Why it matters
        Sessions beyond what a course can hold are billed and never given, or one course is
        billed at two places; the national inspections' frequency rules (超频次) test exactly
        this, per person across institutions.
    Look-alike it ignores
        A regular course at the limit (dialysis Monday, Wednesday, Friday: 3 in every 7 days),
        and the same sessions spread over more days than the window.

    Entity: ``person``. Score: ``floor + (1-floor) * clip((most in one window / limit - 1) /
    (frequency_full_score_ratio - 1))``.
    """

    rules = (
        RuleSpec(
            code="FREQUENCY_LIMIT",
            family="over_time_limits",
            weight=0.7,
            entity_type="person",
            title_zh="超频次收费",
            title_en="Above the limit per period",
            meaning_zh="同一参保人在目录规定的周期内(如7天)某项目的数量合计超过周期限量,跨结算单和机构合计",
            meaning_en="One person's quantity of an item within the catalogue's period (e.g. 7 days), over all claims and institutions, above the period limit",
            basis_zh="医保基金监管规则库:超频次类规则;" + MEDICAL_FUND_REGULATION_ZH + "关于禁止虚记、多记医疗服务的规定",
            basis_en="The medical-insurance audit rule library: frequency rules; the " + MEDICAL_FUND_REGULATION_EN + ", which forbid billing services not given or more than given",
            checklist_zh=(
                "调取各机构的治疗记录、排班和设备使用记录(如透析机上机记录),核对实际治疗次数",
                "核对是否在两家机构同时接受同一疗程",
                "回访患者,询问实际治疗次数",
            ),
            checklist_en=(
                "Pull each institution's treatment records, rosters and machine logs (e.g. dialysis sessions): how many sessions were really given",
                "Check whether one course was billed at two places",
                "Call the patient and ask how many sessions they had",
            ),
        ),
    )
    partition_by = ("claims", "person_id")
    kind = "rule"
    requires = ("item_catalog", "claims", "claim_items")
    requires_columns = {"item_catalog": ("window_days", "max_qty_per_window")}
    optional = ("institutions",)

    def __init__(self, window_quantity_tolerance: float = _S.window_quantity_tolerance,
                 frequency_full_score_ratio: float = _S.frequency_full_score_ratio,
                 score_floor: float = _S.score_floor):
        self.window_quantity_tolerance = window_quantity_tolerance
        self.frequency_full_score_ratio = frequency_full_score_ratio
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        cat = (
            lazy(datasets, "item_catalog")
            .filter((pl.col("window_days") > 0) & (pl.col("max_qty_per_window") > 0))
            .select("item_code", pl.col("item_name").alias("cat_name"), pl.col("window_days").cast(pl.Int64),
                    pl.col("max_qty_per_window").alias("limit"))
            .unique("item_code", keep="first").collect()
        )
        lines = (
            lazy_rows(datasets, "claim_items", pl.col("item_code").cast(pl.String).is_in(cat["item_code"].implode()))
            .select("claim_id", "line_no", "item_code", "quantity", "unit_price", "amount", "service_date")
            .filter(pl.col("service_date").is_not_null() & (pl.col("quantity") > 0))
            .join(lazy(datasets, "claims").select("claim_id", "person_id"), on="claim_id", how="inner")
            .join(cat.lazy(), on="item_code", how="inner")
            .collect()
        )
        days = (
            lines.lazy().group_by(*_KEYS, "service_date")
            .agg(pl.col("quantity").sum().alias("day_qty"), pl.col("window_days").first(), pl.col("limit").first())
            # who can fire at all: more than the limit over the whole record
            .filter(pl.col("day_qty").sum().over(_KEYS) > pl.col("limit") + s.window_quantity_tolerance)
            .collect()
        )
        windows = []
        # one rolling pass per distinct window length in the catalogue (a handful of values)
        for w in sorted(days["window_days"].unique().to_list()):
            windows.append(
                days.lazy().filter(pl.col("window_days") == w).sort(*_KEYS, "service_date")
                .rolling(index_column="service_date", period=f"{int(w)}d", group_by=_KEYS)
                .agg(pl.col("day_qty").sum().alias("win_qty"), pl.col("day_qty").last(),
                     pl.col("limit").last(), pl.col("window_days").last())
            )
        empty = pl.LazyFrame(schema={**dict.fromkeys(_KEYS, pl.String), "service_date": pl.Date,
                                     "win_qty": pl.Float64, "day_qty": pl.Float64, "limit": pl.Float64,
                                     "window_days": pl.Int64})
        flagged = (
            (pl.concat(windows) if windows else empty)
            .filter(pl.col("win_qty") > pl.col("limit") + s.window_quantity_tolerance)
            .with_columns(excess=pl.min_horizontal(pl.col("day_qty"), pl.col("win_qty") - pl.col("limit")))
            .collect()
        )
        day_excess = _excess_once(days.lazy(), flagged.lazy(), s.window_quantity_tolerance)
        ev_lines = (
            _in_flagged_window(lines.lazy(), flagged.lazy(), pl.col("window_days"))
            .join(day_excess.lazy(), on=[*_KEYS, "service_date"], how="left")
            .with_columns(line_excess=(pl.col("quantity") * pl.col("excess") / pl.col("day_qty")).fill_null(0.0))
            .drop("person_id")
            .pipe(lambda lf: with_claims(datasets, lf))
        )
        best = (
            flagged.lazy().with_columns(ratio=pl.col("win_qty") / pl.col("limit"))
            .sort("ratio", "service_date", descending=[True, False])
            .group_by("person_id", maintain_order=True)
            .agg(pl.col("item_code").first().alias("top_item"), pl.col("win_qty").first().alias("top_qty"),
                 pl.col("limit").first().alias("top_limit"), pl.col("window_days").first().alias("top_window"),
                 pl.col("service_date").first().alias("top_end"), pl.col("ratio").first().alias("max_ratio"))
            # rounded: a float sum follows the order rows arrive in
            .join(day_excess.lazy().group_by("person_id").agg(pl.col("excess").sum().round(6).alias("excess_qty")),
                  on="person_id", how="left")
            .join(cat.lazy().select(pl.col("item_code").alias("top_item"), "cat_name"), on="top_item", how="left")
        )
        per_claim = per_claim_at_risk(
            ev_lines, ["person_id"], pl.col("line_excess") * pl.col("unit_price"),
            [pl.col("institution_id").first()],
        )
        grouped = _person_findings(per_claim, []).join(best, on="person_id", how="inner")
        ev_zh = pl.format(
            "{} 限每 {} 天 {} 次,截至 {} 的 {} 天内在 {} 家机构共记 {} 次,为限量的 {} 倍;{} 至 {} 共 {} 张结算单,"
            "超出限量 {} 次,其中统筹支付 {} 元",
            pl.col("cat_name"), pl.col("top_window"), num(pl.col("top_limit")), ymd(pl.col("top_end")),
            pl.col("top_window"), pl.col("n_inst"), num(pl.col("top_qty")), num(pl.col("max_ratio")),
            ymd(pl.col("first_visit")), ymd(pl.col("last_visit")), pl.col("n_claims"), num(pl.col("excess_qty")),
            money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{} is limited to {} per {} days; {} billed in the {} days up to {} at {} institution(s), {} times "
            "the limit; {} claims from {} to {}, {} above the limit, fund share {} CNY",
            pl.col("cat_name"), num(pl.col("top_limit")), pl.col("top_window"), num(pl.col("top_qty")),
            pl.col("top_window"), ymd(pl.col("top_end")), pl.col("n_inst"), num(pl.col("max_ratio")),
            pl.col("n_claims"), ymd(pl.col("first_visit")), ymd(pl.col("last_visit")), num(pl.col("excess_qty")),
            money(pl.col("total_at_risk")),
        )
        details = json_details(item=pl.col("top_item"), window_days=pl.col("top_window"),
                               limit=pl.col("top_limit"), most_in_window=pl.col("top_qty"),
                               window_end=ymd(pl.col("top_end")), above_limit=pl.col("excess_qty"),
                               institutions=pl.col("n_inst"))
        score = ramp_score(pl.col("max_ratio"), 1.0, s.frequency_full_score_ratio, s)
        return finish(grouped, "FREQUENCY_LIMIT", score, ev_zh, ev_en, details)


class OversupplyRule(MedicalDetector):
    """Days of supply of one drug piled up across institutions (超量开药、重复开药).

    What it finds
        For each person and drug, the ``days_supply`` dispensed at visits of
        ``oversupply_visit_types`` within any ``oversupply_window_days`` consecutive days
        (ending on a dispensing day), summed over claims and institutions. Fires where that
        sum is above ``oversupply_max_days`` and at least ``oversupply_min_institutions``
        institutions dispensed the drug within the window. Money at risk: the days of use above
        the line, counted once although windows overlap (as for FREQUENCY_LIMIT: consecutive
        windows from the first dispensing), as a share of the lines' amount, times the claim's
        fund share. One finding per person.
    Why it matters
        Collecting the same drug at several pharmacies and clinics, far beyond what can be
        taken, is how drugs are stocked for resale (倒卖药品) or cards lent out; every single
        prescription looks normal, only the person's total shows it.
    Look-alike it ignores
        A long prescription (长处方, up to 12 weeks for a stable chronic illness) at one
        institution; an early refill or two overlapping monthly prescriptions (at most
        twice the window); a ward's daily dispensing to in-patients.

    Entity: ``person``. Score: ``floor + (1-floor) * clip((most days in one window / window -
    max/window) / (oversupply_full_score_ratio - max/window))``.
    """

    rules = (
        RuleSpec(
            code="OVERSUPPLY",
            family="over_time_limits",
            weight=0.6,
            entity_type="person",
            title_zh="跨机构超量开药",
            title_en="Drug supply piled up across institutions",
            meaning_zh="同一参保人同一药品在任意{oversupply_window_days}天内的用药天数合计超过{oversupply_max_days}天,且来自{oversupply_min_institutions}家及以上机构",
            meaning_en="One person's days of supply of one drug within any {oversupply_window_days} days above {oversupply_max_days}, dispensed by {oversupply_min_institutions} or more institutions",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止超量开药、重复开药和倒卖药品的规定;医保基金监管规则库:超量开药类规则",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid prescribing beyond need, repeat prescribing and reselling drugs; the medical-insurance audit rule library: over-prescribing rules",
            checklist_zh=(
                "调取该参保人在各机构的处方和购药记录,核对用药天数",
                "核对药品追溯码,查看是否流向其他药店或个人",
                "询问本人用药情况,核实是否出借医保卡或倒卖药品",
            ),
            checklist_en=(
                "Pull the person's prescriptions and purchases at every institution and add up the days of use",
                "Check the packages' traceability codes: did they reach other pharmacies or people",
                "Ask the person how they take the drug; check whether the card was lent or drugs resold",
            ),
        ),
    )
    partition_by = ("claims", "person_id")
    kind = "rule"
    requires = ("claims", "claim_items")
    requires_columns = {"claim_items": ("days_supply",)}
    optional = ("institutions",)

    def __init__(self, oversupply_window_days: int = _S.oversupply_window_days,
                 oversupply_max_days: int = _S.oversupply_max_days,
                 oversupply_min_institutions: int = _S.oversupply_min_institutions,
                 oversupply_visit_types: tuple[str, ...] = _S.oversupply_visit_types,
                 oversupply_full_score_ratio: float = _S.oversupply_full_score_ratio,
                 score_floor: float = _S.score_floor):
        self.oversupply_window_days = oversupply_window_days
        self.oversupply_max_days = oversupply_max_days
        self.oversupply_min_institutions = oversupply_min_institutions
        self.oversupply_visit_types = oversupply_visit_types
        self.oversupply_full_score_ratio = oversupply_full_score_ratio
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        w, cap = int(s.oversupply_window_days), int(s.oversupply_max_days)
        # lean lines first (no text but the keys), persons and drugs that can fire at all —
        # more than the line over the whole record, from enough institutions — then the lines'
        # other columns for those only
        supplied = pl.col("days_supply").is_not_null() & (pl.col("days_supply") > 0) & pl.col("service_date").is_not_null()
        # The screen runs on the data as held and on 64-bit hashes of the ids: joining every drug
        # line of the year to its claim by the text ids held gigabytes at city scale. A hash
        # collision can only merge two keys' sums, so it adds candidates and never loses one;
        # everything after the screen is exact.
        hashed_lines = (
            lazy_held(datasets, "claim_items").filter(supplied)
            .select(pl.col("claim_id").hash(seed=0).alias("_c"), pl.col("item_code").cast(pl.String).hash(seed=0).alias("_i"),
                    "days_supply")
            .join(lazy_held(datasets, "claims")
                  .filter(pl.col("visit_type").cast(pl.String).is_in(list(s.oversupply_visit_types)))
                  .select(pl.col("claim_id").hash(seed=0).alias("_c"), pl.col("person_id").hash(seed=0).alias("_p"),
                          pl.col("institution_id").cast(pl.String).hash(seed=0).alias("_inst")),
                  on="_c", how="inner")
        )
        screened_claims = (
            hashed_lines.join(
                hashed_lines.group_by("_p", "_i")
                .agg(pl.col("days_supply").sum().alias("_all"), pl.col("_inst").n_unique().alias("_n"))
                .filter((pl.col("_all") > cap) & (pl.col("_n") >= s.oversupply_min_institutions))
                .select("_p", "_i"),
                on=["_p", "_i"], how="semi")
            .select("_c").unique().collect()["_c"]
        )
        in_screen = pl.col("claim_id").hash(seed=0).is_in(screened_claims.implode())
        lean = (
            lazy_rows(datasets, "claim_items", supplied & in_screen)
            .select("claim_id", "line_no", "item_code", "service_date", "days_supply")
            .join(lazy_rows(datasets, "claims",
                            in_screen & pl.col("visit_type").cast(pl.String).is_in(list(s.oversupply_visit_types)))
                  .select("claim_id", "person_id", "institution_id"), on="claim_id", how="inner")
        )
        can = (
            lean.group_by(_KEYS)
            .agg(pl.col("days_supply").sum().alias("_all"), pl.col("institution_id").n_unique().alias("_n"))
            .filter((pl.col("_all") > cap) & (pl.col("_n") >= s.oversupply_min_institutions))
            .select(_KEYS)
        )
        cand = lean.join(can, on=_KEYS, how="semi").collect()
        details = (
            lazy_rows(datasets, "claim_items", pl.col("claim_id").is_in(cand["claim_id"].unique().implode()))
            .select("claim_id", "line_no", "item_name", "amount")
        )
        supply = cand.lazy().join(details, on=["claim_id", "line_no"], how="left")
        win = f"{w}d"
        per_day = (
            cand.group_by(*_KEYS, "service_date", "institution_id")
            .agg(pl.col("days_supply").sum().alias("inst_supply"))
        )
        days = _trailing_sum(per_day.group_by(*_KEYS, "service_date").agg(pl.col("inst_supply").sum()),
                             _KEYS, "inst_supply", w).filter(pl.col("_win") > cap)
        same = _trailing_sum(per_day, [*_KEYS, "institution_id"], "inst_supply", w)
        hot = (
            same.join(days.select(*_KEYS, "service_date", pl.col("_win").alias("_all")),
                      on=[*_KEYS, "service_date"], how="inner")
            .filter(pl.col("_all") > pl.col("_win"))
            .select(_KEYS).unique()
        )
        per_day = per_day.join(hot, on=_KEYS, how="semi")
        # exact windows (institutions counted) for those few persons and drugs only
        rolled = (
            per_day.lazy().sort(*_KEYS, "service_date")
            .rolling(index_column="service_date", period=win, group_by=_KEYS)
            .agg(pl.col("inst_supply").sum().alias("win_supply"),
                 pl.col("institution_id").n_unique().alias("n_inst_win"))
            .unique([*_KEYS, "service_date"], keep="first")
            .join(per_day.lazy().group_by(*_KEYS, "service_date").agg(pl.col("inst_supply").sum().alias("day_supply")),
                  on=[*_KEYS, "service_date"], how="inner")
        )
        flagged = (
            rolled.filter((pl.col("win_supply") > cap) & (pl.col("n_inst_win") >= s.oversupply_min_institutions))
            .with_columns(excess=pl.min_horizontal(pl.col("day_supply"), pl.col("win_supply") - cap).cast(pl.Float64),
                          window_days=pl.lit(w))
            .collect()
        )
        day_excess = _excess_once(
            per_day.lazy().group_by(*_KEYS, "service_date").agg(pl.col("inst_supply").sum().alias("day_qty"))
            .with_columns(limit=pl.lit(float(cap)), window_days=pl.lit(w)),
            flagged.lazy().rename({"win_supply": "win_qty"}), 0.0,
        )
        ev_lines = (
            _in_flagged_window(supply.join(flagged.lazy().select(_KEYS).unique(), on=_KEYS, how="semi"),
                               flagged.lazy(), pl.lit(w))
            .join(day_excess.lazy(), on=[*_KEYS, "service_date"], how="left")
            .with_columns(line_share=(pl.col("excess") / pl.col("day_qty")).fill_null(0.0))
            .drop("person_id", "institution_id")
            .pipe(lambda lf: with_claims(datasets, lf))
        )
        best = (
            flagged.lazy().sort("win_supply", "service_date", descending=[True, False])
            .group_by("person_id", maintain_order=True)
            .agg(pl.col("item_code").first().alias("top_item"), pl.col("win_supply").first().alias("top_days"),
                 pl.col("n_inst_win").first().alias("top_inst"), pl.col("service_date").first().alias("top_end"))
            .join(day_excess.lazy().group_by("person_id").agg(pl.col("excess").sum().alias("excess_days")),
                  on="person_id", how="left")
        )
        per_claim = per_claim_at_risk(
            ev_lines, ["person_id"], pl.col("line_share") * pl.col("amount"),
            [pl.col("institution_id").first(), pl.col("item_name").first()],
        )
        names = ev_lines.select("item_code", "item_name").unique("item_code", keep="first")
        grouped = (
            _person_findings(per_claim, [])
            .join(best, on="person_id", how="inner")
            .join(names.rename({"item_code": "top_item", "item_name": "top_name"}), on="top_item", how="left")
        )
        ev_zh = pl.format(
            "{} 截至 {} 的 {} 天内在 {} 家机构共开 {} 天用量(上限 {} 天);{} 至 {} 在 {} 家机构 {} 张结算单,"
            "超出 {} 天用量,其中统筹支付 {} 元",
            pl.col("top_name"), ymd(pl.col("top_end")), pl.lit(w), pl.col("top_inst"), pl.col("top_days"),
            pl.lit(cap), ymd(pl.col("first_visit")), ymd(pl.col("last_visit")), pl.col("n_inst"),
            pl.col("n_claims"), num(pl.col("excess_days")), money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{}: {} days of use dispensed by {} institutions in the {} days up to {} (line {} days); {} claims "
            "at {} institutions from {} to {}, {} days of use above the line, fund share {} CNY",
            pl.col("top_name"), pl.col("top_days"), pl.col("top_inst"), pl.lit(w), ymd(pl.col("top_end")),
            pl.lit(cap), pl.col("n_claims"), pl.col("n_inst"), ymd(pl.col("first_visit")),
            ymd(pl.col("last_visit")), num(pl.col("excess_days")), money(pl.col("total_at_risk")),
        )
        details = json_details(item=pl.col("top_item"), most_days_in_window=pl.col("top_days"),
                               window_days=pl.lit(w), window_end=ymd(pl.col("top_end")),
                               institutions_in_window=pl.col("top_inst"), days_above=pl.col("excess_days"))
        # (ramp_score guards a full-score ratio at or below the line: the score is then 1)
        score = ramp_score(pl.col("top_days") / w, cap / w, max(s.oversupply_full_score_ratio, cap / w), s)
        return finish(grouped, "OVERSUPPLY", score, ev_zh, ev_en, details)
