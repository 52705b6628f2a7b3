"""Normalisers: every accepted format per value kind, the windows, and round-trip properties."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from fundwatch import contract
from fundwatch.normalize import as_text, clean, normalize, normalize_date, normalize_money, normalize_period
from fundwatch.settings import LoadSettings

S = LoadSettings()


def run(column: contract.Column, values, dtype=None, strict=False):
    """(value, empty, error) per input value."""
    series = pl.Series("x", values, dtype=dtype) if dtype is not None else pl.Series("x", values, dtype=pl.String)
    n = normalize(pl.col("x"), column, S, dtype=series.dtype, strict_person=strict)
    out = pl.DataFrame([series]).select(
        clean(n).alias("v"), n.empty.alias("e"), n.error.alias("err"), n.bad.alias("bad")
    )
    for v, e, err, bad in out.rows():
        assert (err is not None) == bad  # the cheap flag and the reason agree
        yield v, e, err


def col(kind, **kw):
    return contract.Column("x", "某", kind, **kw)


def one(column, value, dtype=None, strict=False):
    return next(run(column, [value], dtype, strict))


D = dt.date(2025, 3, 7)


@pytest.mark.parametrize(
    "raw",
    ["2025-03-07", "20250307", "2025/3/7", "2025/03/07", "2025年3月7日", " 2025-3-7 ", "2025-03-07 00:00:00",
     "2025-03-07T00:00:00", "45723", "45723.0"],
)
def test_date_formats(raw):
    assert one(col("date"), raw) == (D, False, None)


@pytest.mark.parametrize(
    "raw, reason",
    [("2025-02-30", "not a date"), ("abc", "not a date"), ("2025-13-01", "not a date"),
     ("1800-01-01", "year 1800"), ("2099-01-01", "year 2099"), ("18000101", "year 1800")],
)
def test_bad_dates(raw, reason):
    v, e, err = one(col("date"), raw)
    assert v is None and not e and reason in err


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000"])
def test_empty_is_not_an_error(raw):
    for kind in ("date", "money", "str", "int", "period", "gender", "bool"):
        v, e, err = one(col(kind), raw)
        assert v is None and e and err is None


@pytest.mark.parametrize("raw", ["2025-03", "202503", "2025/03", "2025/3", "2025年3月", "2025年03月", "2025-03-01 00:00:00"])
def test_period_formats(raw):
    assert one(col("period"), raw) == ("2025-03", False, None)


@pytest.mark.parametrize("raw", ["2025-13", "2025-00", "2025-03-07", "March", "1800-01", "20251"])
def test_bad_periods(raw):
    assert one(col("period"), raw)[2] is not None


@pytest.mark.parametrize(
    "raw, expected",
    [("1234.50", 1234.5), ("1,234.50", 1234.5), ("¥1234.5", 1234.5), ("￥1234.5", 1234.5),
     ("1234.50元", 1234.5), ("-12", -12.0), ("0", 0.0), (".5", 0.5), ("1,234,567.8元", 1234567.8)],
)
def test_money_formats(raw, expected):
    assert one(col("money"), raw) == (expected, False, None)


@pytest.mark.parametrize("raw", ["1e308", "-1e308", "nan", "NaN", "inf", "-inf", "abc", "1.2.3", "12元5", "$5"])
def test_bad_money(raw):
    v, e, err = one(col("money"), raw)
    assert v is None and err is not None


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e308])
def test_typed_money_nan_inf_huge_quarantined(value):
    v, e, err = one(col("money"), value, dtype=pl.Float64)
    assert v is None and err is not None


@pytest.mark.parametrize("raw, expected", [("M", "M"), ("F", "F"), ("m", "M"), ("男", "M"), ("女", "F"), ("1", "M"), ("2", "F")])
def test_gender(raw, expected):
    assert one(col("gender"), raw) == (expected, False, None)


@pytest.mark.parametrize("raw", ["3", "X", "男性?", "0"])
def test_bad_gender(raw):
    assert one(col("gender"), raw)[2] is not None


@pytest.mark.parametrize(
    "raw, expected",
    [("true", True), ("false", False), ("TRUE", True), ("1", True), ("0", False), ("是", True), ("否", False),
     ("Y", True), ("N", False), ("y", True), ("n", False)],
)
def test_bool(raw, expected):
    assert one(col("bool"), raw) == (expected, False, None)


def test_bad_bool():
    assert one(col("bool"), "maybe")[2] is not None


VISIT = contract.DATASETS["claims"].column("visit_type")
KIND = contract.DATASETS["institutions"].column("kind")


@pytest.mark.parametrize(
    "column, raw, expected",
    [(VISIT, "outpatient", "outpatient"), (VISIT, "门诊", "outpatient"), (VISIT, "住院", "inpatient"),
     (VISIT, "药店购药", "pharmacy"), (VISIT, "Inpatient", "inpatient"), (KIND, "诊所", "clinic"),
     (KIND, "卫生院", "clinic"), (KIND, "诊所/卫生院", "clinic")],
)
def test_enum_code_label_synonym(column, raw, expected):
    assert one(column, raw) == (expected, False, None)


def test_every_contract_enum_label_maps_to_its_code():
    for ds in contract.DATASETS.values():
        for c in ds.columns:
            for code, label in c.enum.items():
                assert one(c, label)[0] == code and one(c, code)[0] == code


def test_bad_enum_names_the_codes():
    err = one(VISIT, "急诊")[2]
    assert "outpatient" in err and "门诊" in err


@pytest.mark.parametrize("raw, expected", [("12", 12), ("+12", 12), ("-3", -3), ("12.0", 12), ("1,200", 1200)])
def test_int(raw, expected):
    assert one(col("int"), raw) == (expected, False, None)


@pytest.mark.parametrize("raw", ["12.5", "x", "99999999999999999999", "1e3"])
def test_bad_int(raw):
    assert one(col("int"), raw)[2] is not None


@pytest.mark.parametrize("raw, expected", [("1.5", 1.5), ("1,234.5", 1234.5), ("1e3", 1000.0), ("-2", -2.0)])
def test_float(raw, expected):
    assert one(col("float"), raw) == (expected, False, None)


def test_region_and_str():
    assert one(col("region"), " 110105001001 ") == ("110105001001", False, None)
    assert one(col("region"), "11010500100")[2] is not None
    assert one(col("str"), "  张三 ") == ("张三", False, None)
    assert "bytes" in one(col("str"), "x" * (S.max_field_bytes + 1))[2]
    assert "NUL" in one(col("str"), "a\x00b")[2]


def test_person_strict_only_when_asked():
    assert one(col("person"), " 11010519491231002x ", strict=True) == ("11010519491231002X", False, None)
    assert one(col("person"), "110105194912310021", strict=True)[2] is not None
    assert one(col("person"), "110105194912310021", strict=False) == ("110105194912310021", False, None)
    assert one(col("person"), "not-an-id", strict=False) == ("NOT-AN-ID", False, None)


def test_typed_fast_paths():
    assert one(col("date"), dt.date(2025, 3, 7), dtype=pl.Date) == (D, False, None)
    assert one(col("date"), dt.datetime(2025, 3, 7, 13, 0), dtype=pl.Datetime) == (D, False, None)
    assert one(col("date"), dt.date(1800, 1, 1), dtype=pl.Date)[2].startswith("year 1800")
    assert one(col("date"), 45723.0, dtype=pl.Float64) == (D, False, None)
    assert one(col("period"), dt.date(2025, 3, 1), dtype=pl.Date) == ("2025-03", False, None)
    assert one(col("int"), 3, dtype=pl.Int32) == (3, False, None)
    assert one(col("money"), 12, dtype=pl.Int64) == (12.0, False, None)
    assert one(col("bool"), True, dtype=pl.Boolean) == (True, False, None)
    # codes stored as numbers (Excel): whole floats lose their ".0"
    assert one(col("region"), 110105001001.0, dtype=pl.Float64) == ("110105001001", False, None)
    assert one(col("str"), 7, dtype=pl.Int64) == ("7", False, None)
    assert one(col("date"), None, dtype=pl.Date) == (None, True, None)


def test_as_text_of_typed_cells():
    df = pl.DataFrame({"f": [3.0, 2.5], "d": [dt.datetime(2025, 1, 2), None]})
    assert df.select(as_text(pl.col("f"), pl.Float64)).to_series().to_list() == ["3", "2.5"]
    assert df.select(as_text(pl.col("d"), pl.Datetime("us"))).to_series().to_list() == ["2025-01-02 00:00:00", None]


def test_windows_are_settings():
    wide = LoadSettings(min_year=1700, max_year=2200, max_money=1e309 if False else 1e300)
    n = normalize_date(pl.col("x"), wide)
    out = pl.DataFrame({"x": ["1800-01-01", "2099-01-01"]}).select(clean(n)).to_series().to_list()
    assert out == [dt.date(1800, 1, 1), dt.date(2099, 1, 1)]
    m = normalize_money(pl.col("x"), wide)
    assert pl.DataFrame({"x": ["1e200"]}).select(clean(m)).item() == 1e200
    with pytest.raises(ValueError):
        LoadSettings(min_year=2000, max_year=1999)


# ---------------------------------------------------------------- properties
DATE_FORMATS = [
    lambda d: d.isoformat(),
    lambda d: d.strftime("%Y%m%d"),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.isoformat()} 00:00:00",
    lambda d: str((d - dt.date(1899, 12, 30)).days),
]


@hsettings(max_examples=60, deadline=None)
@given(
    dates=st.lists(st.dates(dt.date(S.min_year, 3, 1), dt.date(S.max_year, 12, 31)), min_size=1, max_size=20),
    fmt=st.sampled_from(range(len(DATE_FORMATS))),
)
def test_any_valid_date_in_any_format_round_trips(dates, fmt):
    raw = [DATE_FORMATS[fmt](d) for d in dates]
    n = normalize_date(pl.col("x"), S)
    out = pl.DataFrame({"x": raw}).select(clean(n)).to_series().to_list()
    assert out == dates


@hsettings(max_examples=60, deadline=None)
@given(
    year=st.integers(S.min_year, S.max_year),
    month=st.integers(1, 12),
    fmt=st.sampled_from(["{y}-{m:02d}", "{y}{m:02d}", "{y}/{m:02d}", "{y}/{m}", "{y}年{m}月"]),
)
def test_any_period_round_trips(year, month, fmt):
    n = normalize_period(pl.col("x"), S)
    out = pl.DataFrame({"x": [fmt.format(y=year, m=month)]}).select(clean(n)).item()
    assert out == f"{year:04d}-{month:02d}"


MONEY_FORMATS = [
    lambda c: f"{c / 100:.2f}",
    lambda c: f"{c / 100:,.2f}",
    lambda c: f"¥{c / 100:.2f}",
    lambda c: f"￥{c / 100:,.2f}",
    lambda c: f"{c / 100:.2f}元",
    lambda c: f"{c / 100:,.1f}元" if c % 10 == 0 else f"{c / 100:.2f}",
]


@hsettings(max_examples=80, deadline=None)
@given(cents=st.integers(-10**12, 10**12), fmt=st.sampled_from(range(len(MONEY_FORMATS))))
def test_money_formatting_round_trips(cents, fmt):
    n = normalize_money(pl.col("x"), S)
    out = pl.DataFrame({"x": [MONEY_FORMATS[fmt](cents)]}).select(clean(n)).item()
    assert out is not None and math.isclose(out, cents / 100, rel_tol=0, abs_tol=0.005)


@hsettings(max_examples=80, deadline=None)
@given(text=st.text(max_size=30))
def test_normalisers_never_raise_and_flag_consistently(text):
    """Arbitrary text: no exception, and a value is returned exactly where no error is."""
    for kind in ("date", "period", "money", "gender", "bool", "int", "float", "region"):
        v, e, err = one(col(kind), text)
        assert (v is None) == (e or err is not None)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("E11;E13", "E11;E13"),
        ("e11；e13", "E11;E13"),  # full-width separator, lower case
        (" E11 , E13 、I10.x00x002 ", "E11;E13;I10.X00X002"),
        ("Ｅ１１．９", "E11.9"),  # full-width letters, digits and dot (NFKC)
        (";；,", None),  # only separators: empty, not an error
        ("糖尿病", "糖尿病"),  # never rejected here: the validation suite names the item
    ],
)
def test_codes_normalise_separators_and_case(raw, expected):
    assert one(col("codes"), raw) == (expected, False, None)


def test_codes_keep_the_shared_limits():
    value, empty, reason = one(col("codes"), "E11\x00")
    assert value is None and not empty and "NUL" in reason
    from fundwatch.normalize import split_codes

    got = pl.DataFrame({"c": ["E11;E13", None]}).select(split_codes(pl.col("c"))).to_series().to_list()
    assert got == [["E11", "E13"], None]
