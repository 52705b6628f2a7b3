"""Drug packages sold twice: one traceability code settled again (TRACE_CODE_REUSE)."""

from __future__ import annotations

import polars as pl

from fundwatch.memory import repeated_values
from fundwatch.settings import DEFAULT_SETTINGS

from ..base import Datasets, RuleSpec, lazy_held, lazy_rows
from ..policy import MEDICAL_FUND_REGULATION_EN, MEDICAL_FUND_REGULATION_ZH
from ._common import (
    MedicalDetector, claims_to_findings, finish, json_details, money, per_claim_at_risk, ramp_score,
    with_claims, ymd,
)

_S = DEFAULT_SETTINGS.medical


class TraceCodeReuseRule(MedicalDetector):
    """One drug package's traceability code settled twice (追溯码重复结算, 倒卖回流药).

    What it finds
        Claim lines carrying a ``trace_code`` that other lines carry too, where the code was
        settled at a second institution, or where its lines' quantities (packages, a fraction
        for a split-pack sale) sum above one package plus ``trace_package_tolerance``. In
        the order of sale (service date, claim, line) the first package's worth at the first
        institution is the genuine sale; every later line at another institution, and every
        line at the first past one package, is doubtful: its amount times the claim's fund
        share is at risk. One finding per institution that settled doubtful lines.
    Why it matters
        A code identifies one physical package. Settled twice it means the package was sold
        on insurance, bought back (回收) and sold again — the 倒卖回流药 chain the 2024-2025
        inspections uncovered through traceability codes — or a code copied onto phantom
        sales.
    Look-alike it ignores
        A split-pack sale (拆零): one package sold in fractions at one pharmacy, summing to one
        package; a single line with a quantity above one (one code scanned for a box of
        several is a scanning habit, not a second sale); lines without a code.

    Entity: ``institution`` (the one that settled the package again). Score: ``floor +
    (1-floor) * clip((codes - 1) / (trace_full_score_lines - 1))``.
    """

    rules = (
        RuleSpec(
            code="TRACE_CODE_REUSE",
            family="trace_codes",
            weight=0.85,
            entity_type="institution",
            title_zh="药品追溯码重复结算",
            title_en="Drug package settled twice",
            meaning_zh="同一药品追溯码在两家机构结算,或在同一机构结算的数量合计超过一盒",
            meaning_en="One drug traceability code settled at two institutions, or for more than one package in all",
            basis_zh=MEDICAL_FUND_REGULATION_ZH + "关于禁止倒卖药品、虚构医药服务的规定;医保药品追溯码监管有关规定",
            basis_en="The " + MEDICAL_FUND_REGULATION_EN + ", which forbid reselling drugs and billing sales that never happened; the rules on drug traceability codes in medical-insurance settlement",
            checklist_zh=(
                "调取两次结算的销售记录、进货票据和药品进销存台账",
                "核对该盒药品的来源,是否从参保人处回收",
                "询问药店负责人和收银人员,必要时回访两次购药的参保人",
            ),
            checklist_en=(
                "Pull the sales records, purchase invoices and stock ledger of both sales",
                "Trace where the package came from: was it bought back from an insured person",
                "Ask the pharmacy's manager and cashier; if needed, call both buyers",
            ),
        ),
    )
    partition_by = None  # one code's sales span institutions and persons
    kind = "rule"
    requires = ("claims", "claim_items")
    requires_columns = {"claim_items": ("trace_code",)}
    optional = ("institutions",)

    def __init__(self, trace_package_tolerance: float = _S.trace_package_tolerance,
                 trace_full_score_lines: int = _S.trace_full_score_lines,
                 score_floor: float = _S.score_floor):
        self.trace_package_tolerance = trace_package_tolerance
        self.trace_full_score_lines = trace_full_score_lines
        self.score_floor = score_floor

    def _detect(self, datasets: Datasets) -> pl.LazyFrame:
        s = self._settings()
        code = pl.col("trace_code").cast(pl.String).str.strip_chars()
        key = code.hash(seed=0)
        # codes on more than one line, found by sorting 64-bit hashes of the coded lines (a
        # collision only adds a candidate; the exact group-by below drops it)
        repeated = repeated_values(
            lazy_held(datasets, "claim_items")
            .filter(pl.col("trace_code").is_not_null() & (code != ""))
            .select(key.alias("_k")).collect().to_series()
        )
        lines = (
            lazy_rows(datasets, "claim_items",
                      pl.col("trace_code").is_not_null() & key.is_in(repeated.implode()))
            .select("claim_id", "line_no", "item_name", "quantity", "amount", "service_date",
                    code.alias("code"))
            .filter(pl.len().over("code") >= 2)
            .pipe(lambda lf: with_claims(datasets, lf))
            .sort("code", "service_date", "claim_id", "line_no")
            .with_columns(
                first_inst=pl.col("institution_id").first().over("code"),
                # packages sold at the first institution up to this line
                cum_first=pl.col("quantity").cum_sum().over("code", "institution_id"),
                n_inst_code=pl.col("institution_id").n_unique().over("code"),
            )
            .with_columns(
                doubtful=(pl.col("institution_id") != pl.col("first_inst"))
                | (pl.col("cum_first") > 1.0 + s.trace_package_tolerance)
            )
            .filter(pl.col("doubtful").any().over("code"))
        )
        bad = lines.filter(pl.col("doubtful"))
        # where each doubtful code was first sold, for the text
        origin = (
            lines.filter(pl.col("institution_id") == pl.col("first_inst"))
            .group_by("code").agg(pl.col("inst_name").first().alias("first_name"),
                                  pl.col("first_inst").first(), pl.col("service_date").min().alias("first_sold"))
        )
        per_claim = per_claim_at_risk(
            bad, ["institution_id"], pl.col("amount"),
            [pl.col("code").unique().alias("codes"), pl.col("item_name").unique().alias("names"),
             pl.col("n_inst_code").max()],
        )
        grouped = (
            claims_to_findings(
                per_claim, "institution", "institution_id",
                [pl.col("inst_name").first(), pl.col("item_amount").sum(), pl.col("n_lines").sum(),
                 pl.col("codes").list.explode(keep_nulls=False, empty_as_null=False).unique().sort().alias("code_list"),
                 pl.col("names").list.explode(keep_nulls=False, empty_as_null=False).unique().sort().alias("item_names"),
                 pl.col("visit_date").min().alias("first_visit"), pl.col("visit_date").max().alias("last_visit"),
                 pl.col("n_inst_code").max().alias("max_inst")],
            )
            .with_columns(pl.col("inst_name").fill_null(pl.col("institution_id")),
                          n_codes=pl.col("code_list").list.len(), example=pl.col("code_list").list.first())
            .join(origin.rename({"code": "example"}), on="example", how="left")
            .with_columns(pl.col("first_name").fill_null(pl.col("first_inst")))
        )
        ev_zh = pl.format(
            "{} 在 {} 至 {} 的 {} 张结算单中再次结算已售出的药品追溯码 {} 个({} 行,如 {} 的追溯码 {},{} 已在 {} 售出);"
            "金额 {} 元,其中统筹支付 {} 元",
            pl.col("inst_name"), ymd(pl.col("first_visit")), ymd(pl.col("last_visit")), pl.col("n_claims"),
            pl.col("n_codes"), pl.col("n_lines"), pl.col("item_names").list.first(), pl.col("example"),
            ymd(pl.col("first_sold")), pl.col("first_name"), money(pl.col("item_amount")),
            money(pl.col("total_at_risk")),
        )
        ev_en = pl.format(
            "{}: {} traceability codes of packages already sold settled again on {} claims from {} to {} "
            "({} lines; e.g. {} code {}, first sold {} at {}); {} CNY, fund share {} CNY",
            pl.col("inst_name"), pl.col("n_codes"), pl.col("n_claims"), ymd(pl.col("first_visit")),
            ymd(pl.col("last_visit")), pl.col("n_lines"), pl.col("item_names").list.first(), pl.col("example"),
            ymd(pl.col("first_sold")), pl.col("first_name"), money(pl.col("item_amount")),
            money(pl.col("total_at_risk")),
        )
        details = json_details(codes=pl.col("code_list"), items=pl.col("item_names"), lines=pl.col("n_lines"),
                               first_sold_at=pl.col("first_inst"), most_institutions_per_code=pl.col("max_inst"))
        score = ramp_score(pl.col("n_codes"), 1, max(s.trace_full_score_lines, 2), s)
        return finish(grouped, "TRACE_CODE_REUSE", score, ev_zh, ev_en, details)
