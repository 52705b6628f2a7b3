"""Great Expectations plumbing: one ephemeral context per validation run.

Builds one :class:`great_expectations.ExpectationSuite` per dataset from its declared checks
and validates **one batch per dataset, over every row**:

* checks GE has an expectation for (between, pair A ≥ B, regex, in set, not null) run on the
  real columns, and only those columns are handed to pandas (pandas 3 holds text in Arrow
  string arrays, numbers and dates as numpy: the copy is cheap and GE's vectorised paths
  apply);
* every other check (whole-dataset keys, money adding up, agreement with the identity
  number, references into other datasets, contract types) runs as
  :class:`expectations.custom.ExpectRowsToPassCheck`, whose metric is the check's polars
  function, evaluated once inside GE's validation;
* checks the loader already applied to every row it read (a value that must not be empty, a
  code from a list, a date, a region code …) are not run again: their results are recorded
  from the loader's quarantine (see :mod:`expectations.runner`).

Critical expectations GE evaluates return every failing row (``COMPLETE``), the rest a few
(``SUMMARY``); examples and stored results are masked before anything is written.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import great_expectations as gx
import great_expectations.execution_engine.pandas_execution_engine as _pandas_engine
import pandas as pd
import polars as pl
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

from fundwatch.idnumber import mask_name
from fundwatch.privacy import ID_COLUMNS
from fundwatch.settings.validation import ValidationSettings

from . import custom  # noqa: F401  (registers the custom expectations with GE)
from .custom import ExpectRowsToPassCheck
from .spec import CRITICAL, Check

SITE_NAME = "fundwatch_local_site"
#: datasets whose ``name`` column is a person's name (institutions' names are not personal).
PERSONAL_NAME_DATASETS = ("persons", "disbursements")

logging.getLogger("great_expectations").setLevel(logging.ERROR)
# GE fingerprints every pandas batch under 1 GB with an md5 over a hash of every cell: at
# city scale that costs more than the checks themselves, and the run fingerprints its input
# files already. Batches are not fingerprinted.
_pandas_engine.HASH_THRESHOLD = 0


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
    """Mask ``values`` when ``column`` holds personal data; other values pass unchanged."""
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


def description(check: Check) -> str:
    """What Data Docs show for a check: the Chinese sentence, then the English one."""
    zh = check.label_zh
    text = f"{zh} — {check.text}" if zh != check.text else check.text
    return text.replace("$", "＄")  # "$" starts a template parameter in GE's renderer


def native_columns(exp: Any) -> list[str]:
    """The columns a GE expectation reads (its pandas batch needs only these)."""
    cols = []
    for key in ("column", "column_A", "column_B"):
        v = getattr(exp, key, None)
        if isinstance(v, str):
            cols.append(v)
    for v in getattr(exp, "column_list", None) or []:
        cols.append(v)
    return cols


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
        self.run_id = RunIdentifier(run_name="fundwatch-validation", run_time=dt.datetime.now(dt.UTC))

    # -- suites ------------------------------------------------------------------------------
    def expectation(self, dataset: str, check: Check, check_key: str, native: bool, source: str) -> Any:
        """The GE expectation of one check: GE's own where ``native``, else the polars-backed
        :class:`ExpectRowsToPassCheck`; ``source`` (``ge`` or ``load``) is kept in ``meta``."""
        common = {
            "severity": check.severity,
            "meta": {"fw_check": check.name, "dataset": dataset, "severity": check.severity, "level": check.level,
                     "source": source, "text_zh": check.label_zh},
            "notes": f"[{check.severity}, {check.level}-level] {check.text}",
            "description": description(check),
        }
        m = mostly_of(dataset, check, self.settings)
        if native and check.expect is not None:
            return check.expect(common, m)
        return ExpectRowsToPassCheck(check_key=check_key, columns=list(check.columns), mostly=m, **common)

    def add_suite(self, dataset: str, expectations: list[Any]) -> gx.ExpectationSuite:
        """The suite shown in Data Docs: every check of the dataset, however it is evaluated."""
        return self.context.suites.add(gx.ExpectationSuite(name=dataset, expectations=expectations))

    # -- validation --------------------------------------------------------------------------
    def validate(self, dataset: str, frame: pd.DataFrame, critical: list[Any], others: list[Any]) -> list[ExpectationValidationResult]:
        """Validate one batch (the whole dataset) against the expectations GE evaluates.

        Critical ones report every failing row (they decide the quarantine), the others a
        sample; each expectation is evaluated exactly once.
        """
        asset = self.source.add_dataframe_asset(dataset)
        batch = asset.add_batch_definition_whole_dataframe(f"{dataset}_all_rows").get_batch(
            batch_parameters={"dataframe": frame}
        )
        results: list[ExpectationValidationResult] = []
        k = self.settings.examples
        for exps, fmt in ((critical, {"result_format": "COMPLETE"}),
                          (others, {"result_format": "SUMMARY", "partial_unexpected_count": k})):
            if exps:
                suite = gx.ExpectationSuite(name=f"{dataset}__{fmt['result_format'].lower()}", expectations=exps)
                results.extend(batch.validate(suite, result_format=fmt).results)
        return results

    def assemble(self, dataset: str, suite: gx.ExpectationSuite, results: list[ExpectationValidationResult],
                 extra_meta: dict) -> ExpectationSuiteValidationResult:
        """One stored result per dataset, in the suite's order."""
        stats = calc_validation_statistics(results)
        meta = {
            "batch_spec": {"data_asset_name": dataset, "batch_data": "every row of the dataset"},
            "active_batch_definition": {"datasource_name": "fundwatch", "data_asset_name": dataset},
            "run_id": self.run_id,
            "validation_time": self.run_id.run_time,
            "fundwatch": extra_meta,
        }
        return ExpectationSuiteValidationResult(
            success=stats.success,
            results=results,
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


def is_critical(exp: Any) -> bool:
    return (getattr(exp, "meta", None) or {}).get("severity") == CRITICAL
