"""The GB 11643 custom expectation, run through Great Expectations itself."""

from __future__ import annotations

import great_expectations as gx
import pandas as pd
import pytest

from fundwatch.expectations.custom import ExpectColumnValuesToBeValidGb11643, gb11643_valid_mask

VALID = ["11010519491231002X", "11010519491231002x", " 11010519491231002X "]
INVALID = ["110105194912310021", "11010519491331002X", "1101051949123100", "ABCDEFGHIJKLMNOPQR", "123"]


@pytest.fixture(scope="module")
def batch_of():
    context = gx.get_context(mode="ephemeral")
    bd = context.data_sources.add_pandas("t").add_dataframe_asset("ids").add_batch_definition_whole_dataframe("all")
    return lambda df: bd.get_batch(batch_parameters={"dataframe": df})


def test_mask_known_numbers():
    mask = gb11643_valid_mask(pd.Series(VALID + INVALID + [None], dtype=object))
    assert mask.tolist() == [True] * len(VALID) + [False] * len(INVALID) + [False]


@pytest.mark.parametrize("value", VALID)
def test_expectation_passes_valid(batch_of, value):
    res = batch_of(pd.DataFrame({"pid": [value, None]})).validate(ExpectColumnValuesToBeValidGb11643(column="pid"))
    assert res.success and res.result["unexpected_count"] == 0 and res.result["missing_count"] == 1


@pytest.mark.parametrize("value", INVALID)
def test_expectation_fails_invalid(batch_of, value):
    df = pd.DataFrame({"pid": ["11010519491231002X", value]})
    res = batch_of(df).validate(ExpectColumnValuesToBeValidGb11643(column="pid"))
    assert not res.success
    assert res.result["unexpected_count"] == 1 and res.result["partial_unexpected_list"] == [value]


def test_mostly_is_honoured(batch_of):
    df = pd.DataFrame({"pid": ["11010519491231002X"] * 9 + ["123"]})
    assert batch_of(df).validate(ExpectColumnValuesToBeValidGb11643(column="pid", mostly=0.9)).success
    assert not batch_of(df).validate(ExpectColumnValuesToBeValidGb11643(column="pid", mostly=0.95)).success
