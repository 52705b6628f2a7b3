"""Great Expectations plumbing: one ephemeral context per validation run.

Builds one :class:`great_expectations.ExpectationSuite` per dataset from its declared checks,
validates pandas chunks against it, merges the chunk results into one result per dataset
(counts summed, success re-decided with ``mostly``, example values masked) and stores that in
the context so the Data Docs show one validation per dataset however many chunks it took.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.validator.validation_statistics import calc_validation_statistics

import polars as pl

from fundwatch.idnumber import mask_name
from fundwatch.privacy import ID_COLUMNS
from fundwatch.settings.validation import ValidationSettings

from . import custom  # noqa: F401  (registers the custom expectation with GE)
from .spec import Check

SITE_NAME = "fundwatch_local_site"
#: datasets whose ``name`` column is a person's name (institutions' names are not personal).
PERSONAL_NAME_DATASETS = ("persons", "disbursements")

logging.getLogger("great_expectations").setLevel(logging.ERROR)


def mostly_of(dataset: str, check: Check, s: ValidationSettings) -> float:
    if check.level == "table":
        return 1.0
    return s.mostly_overrides.get(f"{dataset}.{check.name}", s.mostly)


def mask_id_safe(expr: pl.Expr) -> pl.Expr:
    """:func:`fundwatch.idnumber.mask_id`'s format (first 6 + stars + last 4; short values first
    and last character), computed without a negative ``repeat_by`` count.

    ``mask_id`` builds its long-value mask for every row, and a value of 10 characters or fewer
    (``"123"``: a garbage identity number, exactly what validation reports) gives a negative
    count that makes polars panic; until that is fixed there, this is used for examples.
    """
    s = expr.cast(pl.String)
    n = s.str.len_chars()
    stars = pl.lit("*" * 256)
    stars_long = stars.str.slice(0, (n - 10).clip(lower_bound=0))
    stars_short = stars.str.slice(0, (n - 2).clip(lower_bound=1))
    return (
        pl.when(s.is_null()).then(None)
        .when(n > 10).then(s.str.slice(0, 6) + stars_long + s.str.slice(-4, 4))
        .when(n > 2).then(s.str.slice(0, 1) + stars_short + s.str.slice(-1, 1))
        .otherwise(pl.lit("**"))
    )


def mask_values(dataset: str, column: str | None, values: list[Any]) -> list[Any]:
    """Mask ``values`` when ``column`` holds personal data; other values pass unchanged.

    Masks through a frame column: the scalar helpers of ``fundwatch.idnumber`` evaluate the
    masking expression on a literal, which aborts on values of 10 characters or fewer.
    """
    if column is None or not values:
        return values
    if column in ID_COLUMNS:
        fn = mask_id_safe
    elif column == "name" and dataset in PERSONAL_NAME_DATASETS:
        fn = mask_name
    else:
        return values
    s = pl.Series("v", [None if v is None else str(v) for v in values], dtype=pl.String)
    return s.to_frame().select(fn(pl.col("v"))).to_series().to_list()


class GxSession:
    """An ephemeral GE context with (optionally) a local Data Docs site at ``site_dir``."""

    def __init__(self, site_dir: Path | None, settings: ValidationSettings):
        self.settings = settings
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.site_dir = site_dir
        if site_dir is not None:
            self.context.add_data_docs_site(
                SITE_NAME,
                {
                    "class_name": "SiteBuilder",
                    "show_how_to_buttons": False,
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        self.source = self.context.data_sources.add_pandas("fundwatch")
        self.run_id = RunIdentifier(run_name="fundwatch-validation", run_time=dt.datetime.now(dt.timezone.utc))
        self._batch_defs: dict[str, Any] = {}

    # -- suites ------------------------------------------------------------------------------
    def build_suite(self, dataset: str, checks: list[Check]) -> gx.ExpectationSuite:
        """The GE suite of ``dataset``: one expectation per check, severity and check name in meta."""
        expectations = []
        for ch in checks:
            common = {
                "severity": ch.severity,
                "meta": {"fw_check": ch.name, "dataset": dataset, "severity": ch.severity, "level": ch.level},
                "notes": f"[{ch.severity}, {ch.level}-level] {ch.text}",
            }
            m = mostly_of(dataset, ch, self.settings)
            if ch.expect is not None:
                exp = ch.expect(common, m)
            else:
                exp = gx.expectations.ExpectColumnValuesToBeInSet(
                    column=ch.derived_column, value_set=[True], mostly=m, description=ch.text, **common
                )
            expectations.append(exp)
        return self.context.suites.add(gx.ExpectationSuite(name=dataset, expectations=expectations))

    # -- validation --------------------------------------------------------------------------
    def validate_chunk(self, dataset: str, frame: pd.DataFrame, suite: gx.ExpectationSuite) -> ExpectationSuiteValidationResult:
        if dataset not in self._batch_defs:
            asset = self.source.add_dataframe_asset(dataset)
            self._batch_defs[dataset] = asset.add_batch_definition_whole_dataframe(f"{dataset}_chunk")
        batch = self._batch_defs[dataset].get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(
            suite,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": self.settings.examples},
        )

    def merge(
        self, dataset: str, suite: gx.ExpectationSuite, checks: list[Check], chunks: list[ExpectationSuiteValidationResult],
        extra_meta: dict,
    ) -> ExpectationSuiteValidationResult:
        """One result for the whole dataset from its chunk results (examples masked)."""
        by_check: dict[str, list[ExpectationValidationResult]] = defaultdict(list)
        for res in chunks:
            for er in res.results:
                by_check[er.expectation_config.meta["fw_check"]].append(er)
        merged: list[ExpectationValidationResult] = []
        for ch in checks:
            ers = by_check.get(ch.name, [])
            if not ers:
                continue
            merged.append(self._merge_one(dataset, ch, ers))
        stats = calc_validation_statistics(merged)
        meta = dict(chunks[0].meta) if chunks else {}
        meta.pop("batch_parameters", None)
        meta["batch_spec"] = {"data_asset_name": dataset, "batch_data": "<polars frame, validated in chunks>"}
        meta["run_id"] = self.run_id
        meta["validation_time"] = self.run_id.run_time
        meta["fundwatch"] = extra_meta
        return ExpectationSuiteValidationResult(
            success=stats.success,
            results=merged,
            suite_name=suite.name,
            statistics={
                "evaluated_expectations": stats.evaluated_expectations,
                "successful_expectations": stats.successful_expectations,
                "unsuccessful_expectations": stats.unsuccessful_expectations,
                "success_percent": stats.success_percent,
            },
            meta=meta,
            batch_id=dataset,
        )

    def _merge_one(self, dataset: str, ch: Check, ers: list[ExpectationValidationResult]) -> ExpectationValidationResult:
        first = ers[0]
        config = first.expectation_config
        failed = [e for e in ers if e.exception_info and e.exception_info.get("raised_exception")]
        if failed:
            return ExpectationValidationResult(
                success=False, expectation_config=config, result={}, meta=first.meta,
                exception_info=failed[0].exception_info,
            )
        if "unexpected_count" not in (first.result or {}):
            return ExpectationValidationResult(
                success=all(e.success for e in ers), expectation_config=config, result=first.result, meta=first.meta,
                exception_info=first.exception_info,
            )
        element = sum(e.result.get("element_count", 0) for e in ers)
        missing = sum(e.result.get("missing_count", 0) or 0 for e in ers)
        unexpected = sum(e.result.get("unexpected_count", 0) or 0 for e in ers)
        nonmissing = element - missing
        pct = 100.0 * unexpected / nonmissing if nonmissing else 0.0
        mostly = mostly_of(dataset, ch, self.settings)
        success = nonmissing == 0 or (1 - unexpected / nonmissing) >= mostly - 1e-12
        column = config.kwargs.get("column")
        k = self.settings.examples
        partial = [v for e in ers for v in e.result.get("partial_unexpected_list", [])][:k]
        counts: dict[Any, int] = defaultdict(int)
        for e in ers:
            for item in e.result.get("partial_unexpected_counts", []) or []:
                counts[_hashable(item["value"])] += item["count"]
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:k]
        result = {
            "element_count": element,
            "missing_count": missing,
            "missing_percent": 100.0 * missing / element if element else None,
            "unexpected_count": unexpected,
            "unexpected_percent": pct,
            "unexpected_percent_total": 100.0 * unexpected / element if element else None,
            "unexpected_percent_nonmissing": pct,
            "partial_unexpected_list": mask_values(dataset, column, partial),
            "partial_unexpected_counts": [
                {"value": v, "count": n[1]}
                for v, n in zip(mask_values(dataset, column, [t[0] for t in top]), top)
            ],
        }
        return ExpectationValidationResult(
            success=success, expectation_config=config, result=result, meta=first.meta, exception_info=first.exception_info
        )

    # -- Data Docs ---------------------------------------------------------------------------
    def store(self, dataset: str, result: ExpectationSuiteValidationResult) -> None:
        suite_id = ExpectationSuiteIdentifier(name=result.suite_name)
        key = ValidationResultIdentifier(expectation_suite_identifier=suite_id, run_id=self.run_id, batch_identifier=dataset)
        self.context.validation_results_store.store_validation_results(result, key, suite_id)

    def build_docs(self) -> Path | None:
        if self.site_dir is None:
            return None
        self.context.build_data_docs(site_names=[SITE_NAME])
        index = self.site_dir / "index.html"
        return index if index.exists() else None


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(v)
    return v
