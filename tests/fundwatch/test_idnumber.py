"""Resident identity numbers (GB 11643): checksum, shape, birth date, gender, masking."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings as hsettings, strategies as st

from fundwatch.idnumber import (
    CHECK_CHARS,
    WEIGHTS,
    birth_date_of,
    gender_of,
    invalid_person_id_reason,
    is_valid_person_id,
    is_valid_person_id_str,
    mask_id_str,
    mask_ids_in_text,
    mask_name_str,
    normalize_person_id,
)

TODAY = dt.date(2025, 6, 30)


def check_char_py(first17: str) -> str:
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def valid(values):
    df = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return df.select(is_valid_person_id(pl.col("v"), TODAY)).to_series().to_list()


def test_standard_example_is_valid():
    assert valid(["11010519491231002X"]) == [True]
    assert is_valid_person_id_str(" 11010519491231002x ")


def test_weights_follow_iso_7064():
    assert WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def test_invalid_shapes_and_dates():
    bad = ["", "1101051949123100", "11010519491231002Y", "1101051949123100２X", "110105194902300020",
           "110105189901010010", "110105203001010010", None]
    assert valid(bad) == [False] * len(bad)
    reasons = pl.DataFrame({"v": bad}, schema={"v": pl.String}).select(
        invalid_person_id_reason(pl.col("v"), TODAY)
    ).to_series().to_list()
    assert all(r is not None for r in reasons)


def test_full_width_digits_are_not_a_valid_shape():
    fw = "".join(chr(ord(c) + 0xFEE0) for c in "11010519491231002") + "X"
    reason = pl.DataFrame({"v": [fw]}).select(invalid_person_id_reason(pl.col("v"), TODAY)).item()
    assert reason == "identity number must be 17 digits and a digit or X"


def test_birth_date_and_gender():
    df = pl.DataFrame({"v": ["11010519491231002X", "110105199001011234"]})
    out = df.select(birth_date_of(pl.col("v")).alias("b"), gender_of(pl.col("v")).alias("g")).rows()
    assert out == [(dt.date(1949, 12, 31), "F"), (dt.date(1990, 1, 1), "M")]


def test_normalize_trims_and_uppercases():
    df = pl.DataFrame({"v": ["  11010519491231002x\t"]})
    assert df.select(normalize_person_id(pl.col("v"))).item() == "11010519491231002X"


def test_masking():
    assert mask_id_str("510302199001011234") == "510302********1234"
    assert mask_name_str("张三丰") == "张**"
    text = pl.DataFrame({"t": ["paid to 11010519491231002X twice"]}).select(mask_ids_in_text(pl.col("t"))).item()
    assert "19491231" not in text and "110105" in text


ids17 = st.builds(
    lambda region, birth, seq: f"{region}{birth:%Y%m%d}{seq:03d}",
    st.integers(110000, 659999).map(str),
    st.dates(dt.date(1900, 1, 1), TODAY),
    st.integers(0, 999),
)


@hsettings(max_examples=200, deadline=None)
@given(first17=ids17)
def test_any_17_digits_with_computed_check_char_is_valid(first17):
    assert valid([first17 + check_char_py(first17)]) == [True]


@hsettings(max_examples=200, deadline=None)
@given(first17=ids17, pos=st.integers(0, 17), delta=st.integers(1, 9))
def test_changing_one_digit_makes_it_invalid(first17, pos, delta):
    """MOD 11-2 detects every single-character substitution."""
    good = first17 + check_char_py(first17)
    chars = list(good)
    if pos == 17:
        options = "0123456789X"
        chars[17] = options[(options.index(chars[17]) + delta) % 11]
    else:
        chars[pos] = str((int(chars[pos]) + delta) % 10)
    assert valid(["".join(chars)]) == [False]
