"""Custom Great Expectations expectations.

:class:`ExpectColumnValuesToBeValidGb11643` checks resident identity numbers (GB 11643: shape,
a real birth date, the ISO 7064 MOD 11-2 check character). It is a GE ``ColumnMapExpectation``
whose pandas metric hands the column to the vectorised polars checksum of
:mod:`fundwatch.idnumber`, so the rule lives in one place and runs at polars speed.

Importing this module registers the expectation and its metric with GE.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import polars as pl
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation, ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider

from fundwatch.idnumber import is_valid_person_id, normalize_person_id


def gb11643_valid_mask(values: pd.Series) -> np.ndarray:
    """Boolean numpy mask: True where the value is a valid GB 11643 identity number.

    Values are normalised first as the contract says (trimmed, ``x`` -> ``X``); a null is invalid.
    """
    s = pl.from_pandas(values.astype("string")).cast(pl.String).alias("v")
    return s.to_frame().select(is_valid_person_id(normalize_person_id(pl.col("v")))).to_series().to_numpy()


class ColumnValuesValidGb11643(ColumnMapMetricProvider):
    """Metric ``column_values.valid_gb11643``: row-wise validity of identity numbers."""

    condition_metric_name = "column_values.valid_gb11643"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs) -> pd.Series:
        return pd.Series(gb11643_valid_mask(column), index=column.index)


class ExpectColumnValuesToBeValidGb11643(ColumnMapExpectation):
    """Expect column values to be valid resident identity numbers (GB 11643).

    Valid means: 17 digits and a check character ``0-9``/``X``, characters 7-14 a real birth
    date from 1900-01-01 to today, and the check character equal to the ISO 7064 MOD 11-2 check
    of the first 17 digits. ``11010519491231002X`` (the standard's own example) is valid.
    Missing values are ignored (``ExpectColumnValuesToNotBeNull`` reports them).

    Args:
        column: the column of identity numbers.
        mostly: the fraction of non-missing values that must be valid.
    """

    map_metric: ClassVar[str] = "column_values.valid_gb11643"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
    library_metadata: ClassVar[dict] = {
        "maturity": "production",
        "tags": ["fundwatch", "identity number", "GB 11643"],
        "contributors": ["fundwatch"],
    }


# --------------------------------------------------------------------------- polars-backed checks
class CheckRegistry:
    """The checks a running validation evaluates through :class:`ExpectRowsToPassCheck`.

    Great Expectations hands an expectation only JSON-like parameters, so a check's polars
    function and the (polars) frame it judges are registered here under a key that the
    expectation carries; the metric looks them up, evaluates the check **once**, and keeps
    the row mask for the runner (quarantine, examples). One registry per validation run.
    """

    _live: ClassVar[dict[str, "CheckRegistry"]] = {}

    def __init__(self, run_key: str):
        self.run_key = run_key
        self.pending: dict[str, object] = {}  # key -> () -> pl.Series | bool
        self.masks: dict[str, pl.Series] = {}
        self.table: dict[str, bool] = {}

    def __enter__(self) -> "CheckRegistry":
        CheckRegistry._live[self.run_key] = self
        return self

    def __exit__(self, *exc) -> None:
        CheckRegistry._live.pop(self.run_key, None)

    def key(self, dataset: str, check: str) -> str:
        return f"{self.run_key}/{dataset}/{check}"

    def add(self, key: str, evaluate) -> None:
        self.pending[key] = evaluate

    @classmethod
    def evaluate(cls, key: str) -> dict:
        """Run the check registered under ``key``; counts for GE, the mask kept."""
        reg = cls._live[key.split("/", 1)[0]]
        value = reg.pending.pop(key)()
        if isinstance(value, bool):  # a table-level check: decided once from the schema
            reg.table[key] = value
            return {"table": True, "ok": value}
        passed = value.fill_null(True)
        reg.masks[key] = passed
        n = passed.len()
        bad = n - int(passed.sum())
        return {"table": False, "element_count": n, "unexpected_count": bad}


class FundwatchCheckOutcome(TableMetricProvider):
    """Metric ``fundwatch.check_outcome``: evaluates one registered polars check."""

    metric_name = "fundwatch.check_outcome"
    value_keys = ("check_key",)

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, runtime_configuration):
        return CheckRegistry.evaluate(metric_value_kwargs["check_key"])


class ExpectRowsToPassCheck(BatchExpectation):
    """Expect the rows of a dataset to pass one of fundwatch's declared checks.

    For checks Great Expectations has no expectation for — a key unique over the whole
    dataset, money that must add up across columns, agreement with the identity number,
    references into another dataset, a contract type — the check's polars function runs
    inside GE as this expectation's metric, once, over every row. ``description`` says in
    words what is checked (Data Docs show it); ``columns`` are the columns it reads.

    Args:
        check_key: the registry key of the check in the running validation.
        columns: the dataset's columns the check reads.
        mostly: the fraction of rows that must pass.
    """

    check_key: str
    columns: list[str] = []
    mostly: float = 1.0

    metric_dependencies: ClassVar[tuple[str, ...]] = ("fundwatch.check_outcome",)
    success_keys: ClassVar[tuple[str, ...]] = ("check_key", "mostly")
    domain_keys: ClassVar[tuple[str, ...]] = ("row_condition", "condition_parser")
    library_metadata: ClassVar[dict] = {"maturity": "production", "tags": ["fundwatch"], "contributors": ["fundwatch"]}

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine=None) -> dict:
        out = metrics["fundwatch.check_outcome"]
        if out["table"]:
            return {"success": bool(out["ok"]), "result": {"observed_value": "passed" if out["ok"] else "failed"}}
        n, bad = out["element_count"], out["unexpected_count"]
        success = n == 0 or (1 - bad / n) >= self.mostly - 1e-12
        return {
            "success": success,
            "result": {
                "element_count": n,
                "unexpected_count": bad,
                "unexpected_percent": 100.0 * bad / n if n else 0.0,
                "observed_value": f"{bad:,} of {n:,} rows fail",
            },
        }
