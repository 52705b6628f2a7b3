"""Readers: encodings, headers, Excel and parquet files, and every bad file handled."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from fundwatch.contract import DATASETS
from fundwatch.errors import InputError
from fundwatch.readers import ROW_COL, ROW_ERROR_COL, decode_csv_bytes, map_headers, read_file

DEATHS = DATASETS["deaths"]
EN = "person_id,death_date,source\n"
ZH = "身份证号,死亡日期,数据来源\n"


def write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def read(path):
    raw = read_file(path, path.name, DEATHS)
    return raw, raw.frame.collect()


@pytest.mark.parametrize(
    "data, encoding",
    [
        ((EN + "11010519491231002X,2025-01-02,殡葬\n").encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + (EN + "11010519491231002X,2025-01-02,殡葬\n").encode("utf-8"), "utf-8-sig"),
        ((ZH + "11010519491231002X,2025-01-02,殡葬\n").encode("gbk"), "gb18030"),
        ((ZH + "11010519491231002X,2025-01-02,殡葬\n").encode("gb18030"), "gb18030"),
    ],
)
def test_csv_encodings_detected_without_a_flag(tmp_path, data, encoding):
    raw, df = read(write(tmp_path, "deaths.csv", data))
    assert raw.encoding == encoding
    assert df.select("person_id", "death_date", "source").rows() == [("11010519491231002X", "2025-01-02", "殡葬")]
    assert df.get_column(ROW_COL).to_list() == [2]


def test_neither_utf8_nor_gbk(tmp_path):
    p = write(tmp_path, "deaths.csv", EN.encode() + bytes([0x80, 0xFF, 0xFE, 0x81, 0x30, 0xFF]) * 50)
    with pytest.raises(InputError, match="neither UTF-8 nor GBK: re-export it as UTF-8 CSV"):
        read(p)


def test_binary_garbage_named_csv(tmp_path):
    import random

    rnd = random.Random(0)
    p = write(tmp_path, "deaths.csv", bytes(rnd.randrange(256) for _ in range(4096)))
    with pytest.raises(InputError, match="deaths.csv"):
        read(p)


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n  \n"])
def test_empty_file(tmp_path, data):
    with pytest.raises(InputError, match="deaths.csv is empty"):
        read(write(tmp_path, "deaths.csv", data))


def test_header_only_file_has_zero_rows(tmp_path):
    _, df = read(write(tmp_path, "deaths.csv", EN.encode()))
    assert df.height == 0 and set(df.columns) >= {"person_id", "death_date", "source"}


def test_headers_whitespace_case_and_mixed_languages(tmp_path):
    data = " Person_ID , 死亡日期 ,source ,备注\nA,2025-01-02,公安,x\n".encode()
    _, df = read(write(tmp_path, "deaths.csv", data))
    assert df.columns == ["person_id", "death_date", "source", ROW_COL, ROW_ERROR_COL]  # 备注 dropped


def test_missing_required_column_names_file_column_and_fix(tmp_path):
    p = write(tmp_path, "deaths.csv", "身份证号,数据来源\nA,公安\n".encode())
    with pytest.raises(InputError) as exc:
        read(p)
    msg = str(exc.value)
    assert "deaths.csv" in msg and "death_date" in msg and "死亡日期" in msg and "add" in msg
    assert "\n" not in msg


def test_duplicated_header(tmp_path):
    p = write(tmp_path, "deaths.csv", "person_id,身份证号,death_date,source\nA,A,2025-01-01,x\n".encode())
    with pytest.raises(InputError, match="appears twice"):
        read(p)


def test_map_headers_positions():
    assert map_headers(["x", "source", "death_date", "身份证号"], DEATHS, "f") == {
        1: "source",
        2: "death_date",
        3: "person_id",
    }


def test_ragged_rows_and_blank_lines_are_marked(tmp_path):
    data = (EN + "A,2025-01-01,x\nB,2025-01-01\nC,2025-01-01,x,extra\n\nD,\"2025-01-01\",\"multi\nline\"\n\n\n").encode()
    _, df = read(write(tmp_path, "deaths.csv", data))
    # lines as an editor shows them; the quoted value spans lines 6-7; trailing blank lines are not rows
    assert df.get_column(ROW_COL).to_list() == [2, 3, 4, 5, 6]
    errors = df.get_column(ROW_ERROR_COL).to_list()
    assert errors[0] is None and errors[4] is None
    assert "2 fields" in errors[1] and "4 fields" in errors[2] and errors[3] == "blank row"
    assert df.row(4, named=True)["source"] == "multi\nline"


def test_crlf_nul_and_huge_field(tmp_path):
    huge = "x" * 1_000_000
    data = (EN.replace("\n", "\r\n") + f"A,2025-01-01,{huge}\r\nB\x00,2025-01-01,y\r\n").encode()
    _, df = read(write(tmp_path, "deaths.csv", data))
    assert df.height == 2
    assert df.get_column("source").str.len_bytes().to_list() == [1_000_000, 1]
    assert df.get_column("person_id").to_list() == ["A", "B\x00"]


def test_unbalanced_quote_is_an_input_error_or_consistent(tmp_path):
    data = (EN + 'A,2025-01-01,"unterminated\nB,2025-01-01,x\n').encode()
    try:
        _, df = read(write(tmp_path, "deaths.csv", data))
    except InputError as exc:
        assert "deaths.csv" in str(exc)
    else:  # both splitters agree: the row is there, ragged or not, never dropped silently
        assert df.height >= 1


# ---------------------------------------------------------------- Excel
def test_xlsx_first_sheet_with_date_cells_and_numbers(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["身份证号", "死亡日期", "数据来源"])
    ws.append(["11010519491231002X", dt.date(2025, 3, 7), "殡葬"])
    ws.append(["110105194912310021", 45723, 12])
    ws.append([None, None, None])
    ws.append(["X", "2025/3/7", "公安"])
    wb.create_sheet("other").append(["ignored"])
    p = tmp_path / "deaths.xlsx"
    wb.save(p)
    raw, df = read(p)
    assert raw.format == "xlsx"
    assert df.get_column("death_date").to_list()[:2] == ["2025-03-07 00:00:00", "45723"]
    assert df.get_column("source").to_list()[1] == "12"
    assert df.get_column(ROW_COL).to_list() == [2, 3, 4, 5]  # sheet rows
    assert df.get_column(ROW_ERROR_COL).to_list() == [None, None, "blank row", None]


def test_xlsx_that_is_not_a_workbook(tmp_path):
    p = write(tmp_path, "deaths.xlsx", b"PK\x03\x04 this is not really a zip")
    with pytest.raises(InputError, match="not a readable Excel workbook"):
        read(p)


def test_xlsx_empty_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    p = tmp_path / "deaths.xlsx"
    openpyxl.Workbook().save(p)
    with pytest.raises(InputError, match="empty"):
        read(p)


# ---------------------------------------------------------------- parquet
def test_parquet_keeps_typed_columns_and_chinese_names(tmp_path):
    p = tmp_path / "deaths.parquet"
    pl.DataFrame(
        {"身份证号": ["A", "B"], "death_date": [dt.date(2025, 1, 1), None], "source": ["x", "y"], "extra": [1, 2]}
    ).write_parquet(p)
    raw, df = read(p)
    assert df.schema["death_date"] == pl.Date and "extra" not in df.columns
    assert df.get_column(ROW_COL).to_list() == [2, 3]  # numbered as if a header were line 1


def test_truncated_parquet(tmp_path):
    good = tmp_path / "good.parquet"
    pl.DataFrame({"person_id": ["A"] * 1000, "death_date": ["2025-01-01"] * 1000, "source": ["x"] * 1000}).write_parquet(good)
    data = good.read_bytes()
    for name, payload in [("deaths.parquet", data[: len(data) // 2]), ("deaths2.parquet", b"PAR1garbage")]:
        p = write(tmp_path, name, payload)
        with pytest.raises(InputError, match="not a readable parquet file"):
            read_file(p, p.name, DEATHS)


def test_decode_helper():
    text, utf8, enc = decode_csv_bytes("列\n".encode("gbk"), "f.csv")
    assert text == "列\n" and utf8 == "列\n".encode() and enc == "gb18030"


def test_rows_after_a_multi_line_value_keep_their_editor_line(tmp_path):
    data = (EN + "A,2025-01-01,\"two\nlines\"\nB,2025-01-01,x\nC,2025-01-01,\"three\nmore\nlines\"\nD,2025-01-01,x\n").encode()
    raw, df = read(write(tmp_path, "deaths.csv", data))
    assert df.get_column(ROW_COL).to_list() == [2, 4, 5, 8]
    assert raw.lines is not None and raw.lines.to_list() == [2, 4, 5, 8]
