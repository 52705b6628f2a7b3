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
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from fundwatch.idnumber import is_valid_person_id, normalize_person_id


def gb11643_valid_mask(values: pd.Series) -> np.ndarray:
    """Boolean numpy mask: True where the value is a valid GB 11643 identity number.

    Values are normalised first as the contract says (trimmed, ``x`` -> ``X``); a null is invalid.
    """
    s = pl.Series("v", values.astype(object).where(values.notna(), None).tolist(), dtype=pl.String)
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
