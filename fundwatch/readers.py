"""Readers for one input file (``.csv``, ``.xlsx``, ``.parquet``) of one contract dataset.

Each reader returns a :class:`RawFile` whose lazy ``frame`` has

* the contract columns present in the file, renamed to their canonical English names
  (headers may be English or Chinese, surrounding white space ignored), in their *source*
  dtype: text for CSV and Excel, whatever the file holds for parquet;
* :data:`ROW_COL` - the row's **line in the file as an editor or spreadsheet shows it**, the
  header being line 1: a CSV record's first physical line (a quoted value spanning lines makes
  later records start further down), a sheet's row number, and for parquet (no header line)
  the record's position + 1, so that the first record is line 2 in every format;
* :data:`ROW_ERROR_COL` - a reason where the row as a whole is broken (a ragged CSV row, a
  blank line), else null.

Extra columns are dropped here. Everything a user can fix (an unreadable file, a missing or
duplicated column, an unknown encoding) raises :class:`~fundwatch.errors.InputError` with one
line naming the file and the fix. Messages name files and columns, never cell values.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .contract import Dataset
from .errors import InputError

SUPPORTED_EXTENSIONS = (".parquet", ".csv", ".xlsx")
ROW_COL = "__row_number"
ROW_ERROR_COL = "__row_error"

_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class RawFile:
    """One input file, read lazily, with canonical column names (see module docstring)."""

    path: Path
    rel: str
    format: str
    frame: pl.LazyFrame
    encoding: str | None = None
    #: ROW_COL of every row when it is not simply position + 2 (a CSV with multi-line values),
    #: else None: the loader then numbers accepted rows without reading the column again.
    lines: pl.Series | None = None


# ---------------------------------------------------------------------------- headers
def _clean_header(h: object) -> str:
    return "" if h is None else str(h).replace("\ufeff", "").strip()


def map_headers(headers: list[object], dataset: Dataset, rel: str) -> dict[int, str]:
    """Position of each contract column in ``headers`` -> its canonical name.

    English names match case-insensitively, Chinese names exactly; surrounding white space is
    ignored. Raises :class:`InputError` for a contract column given twice or a required column
    that is missing.
    """
    lookup = {alias.lower(): name for alias, name in dataset.header_aliases.items()}
    found: dict[str, int] = {}
    positions: dict[int, str] = {}
    for i, raw in enumerate(headers):
        name = lookup.get(_clean_header(raw).lower())
        if name is None:
            continue
        if name in found:
            col = dataset.column(name)
            raise InputError(
                f"{rel}: column {col.name} ({col.zh}) appears twice in the header "
                f"(columns {found[name] + 1} and {i + 1}): keep one and export again",
                zh=f"{rel}:表头中“{col.zh}”({col.name})出现两次(第 {found[name] + 1} 列和第 {i + 1} 列):"
                "保留一列后重新导出",
                path=rel,
                dataset=dataset.name,
            )
        found[name] = i
        positions[i] = name
    missing = [c for c in dataset.columns if c.required and c.name not in found]
    if missing:
        cols = ", ".join(f"{c.name} ({c.zh})" for c in missing)
        what = "column" if len(missing) == 1 else "columns"
        raise InputError(
            f"{rel}: required {what} {cols} missing from the header: add the {what} "
            f"(English or Chinese name) to the first row of the {dataset.name} file and export again",
            zh=f"{rel}:表头缺少必填列 " + "、".join(f"“{c.zh}”({c.name})" for c in missing)
            + f":请在{dataset.zh}文件的第一行加上该列(中文或英文列名均可)后重新导出",
            path=rel,
            dataset=dataset.name,
        )
    return positions


def _select(frame: pl.LazyFrame, source_names: list[str], positions: dict[int, str]) -> pl.LazyFrame:
    return frame.select([pl.col(source_names[i]).alias(name) for i, name in positions.items()])


# ---------------------------------------------------------------------------- CSV
def decode_csv_bytes(data: bytes, rel: str) -> tuple[str, bytes, str]:
    """Detect the encoding (UTF-8 with or without BOM, else GB18030 which covers GBK).

    Returns ``(text, utf8_bytes, encoding)``; ``utf8_bytes`` has no BOM.
    """
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        return data.decode("utf-8"), data, encoding
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise InputError(
            f"{rel} is neither UTF-8 nor GBK: re-export it as UTF-8 CSV", path=rel,
            zh=f"{rel} 既不是 UTF-8 也不是 GBK 编码:请重新导出为 UTF-8 编码的 CSV",
        ) from None
    return text, text.encode("utf-8"), "gb18030"


def _record_lengths(text: str, rel: str) -> tuple[list[int], list[int]]:
    """Number of fields of every CSV record (header first), as Python's csv module splits them,
    and the line each record starts on (header: line 1).

    Used to find ragged rows, which polars would silently pad or truncate, and to number rows
    as an editor shows them (a quoted value with line breaks spans several lines).
    """
    limit = max(csv.field_size_limit(), len(text) + 1)
    csv.field_size_limit(min(limit, sys.maxsize))
    lengths: list[int] = []
    starts: list[int] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        previous_end = 0
        for record in reader:
            lengths.append(len(record))
            starts.append(previous_end + 1)
            previous_end = reader.line_num
        return lengths, starts
    except csv.Error as exc:
        raise InputError(
            f"{rel} is not a well-formed CSV file ({exc}): re-export it as comma-separated CSV",
            zh=f"{rel} 不是格式正确的 CSV 文件({exc}):请重新导出为逗号分隔的 CSV",
            path=rel,
        ) from None


def read_csv(path: Path, rel: str, dataset: Dataset) -> RawFile:
    """Read one CSV file, every column as text."""
    data = path.read_bytes()
    if not data.strip(_UTF8_BOM + b" \t\r\n"):
        raise InputError(
            f"{rel} is empty (no header line): export the {dataset.name} table again with its header row",
            zh=f"{rel} 是空文件(没有表头行):请连同表头行重新导出{dataset.zh}",
            path=rel,
            dataset=dataset.name,
        )
    text, utf8, encoding = decode_csv_bytes(data, rel)
    if "\x00" in text[: text.find("\n") if "\n" in text else len(text)]:
        raise InputError(
            f"{rel} looks like a binary file, not CSV text: re-export it as UTF-8 CSV", path=rel,
            zh=f"{rel} 像是二进制文件而不是 CSV 文本:请重新导出为 UTF-8 编码的 CSV",
        )
    # Trailing blank lines are an artefact of the export, not rows.
    stripped = text.rstrip("\r\n")
    if len(stripped) != len(text):
        text = stripped + "\n"
        utf8 = text.encode("utf-8")
    lengths, starts = _record_lengths(text, rel)
    header = next(csv.reader(io.StringIO(text, newline="")))
    positions = map_headers(header, dataset, rel)
    n_fields = len(header)
    try:
        frame = pl.read_csv(
            utf8,
            has_header=False,
            skip_rows=1,
            schema={f"c{i}": pl.String for i in range(n_fields)},
            truncate_ragged_lines=True,
            missing_columns="insert",
            empty_string_is_null=False,
            quote_char='"',
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(
            f"{rel} could not be read as CSV ({type(exc).__name__}): re-export it as comma-separated UTF-8 CSV",
            zh=f"{rel} 无法按 CSV 读取({type(exc).__name__}):请重新导出为逗号分隔、UTF-8 编码的 CSV",
            path=rel,
        ) from None
    data_lengths = lengths[1:]
    if frame.height != len(data_lengths):
        raise InputError(
            f"{rel}: its rows could not be split consistently (an unbalanced quote?): "
            "re-export it as standard comma-separated CSV",
            zh=f"{rel}:各行无法一致地分列(引号不成对?):请重新导出为标准的逗号分隔 CSV",
            path=rel,
        )
    n = pl.col("n")
    row_error = (
        pl.DataFrame({"n": data_lengths}, schema={"n": pl.Int64})
        .select(
            pl.when(n == 0)
            .then(pl.lit("blank row"))
            .when(n != n_fields)
            .then(pl.lit("row has ") + n.cast(pl.String) + pl.lit(f" fields but the header has {n_fields}"))
            .otherwise(None)
            .cast(pl.String)
            .alias(ROW_ERROR_COL)
        )
        .to_series()
    )
    names = [f"c{i}" for i in range(n_fields)]
    lf = (
        frame.with_columns(pl.Series(ROW_COL, starts[1:], dtype=pl.Int64), row_error)
        .lazy()
        .select(
            [pl.col(names[i]).alias(name) for i, name in positions.items()]
            + [pl.col(ROW_COL), pl.col(ROW_ERROR_COL)]
        )
    )
    data_starts = starts[1:]
    simple = not data_starts or (data_starts[0] == 2 and data_starts[-1] == len(data_starts) + 1)
    lines = None if simple else pl.Series(ROW_COL, data_starts, dtype=pl.Int64)
    return RawFile(path, rel, "csv", lf, encoding, lines)


# ---------------------------------------------------------------------------- Excel
def read_xlsx(path: Path, rel: str, dataset: Dataset) -> RawFile:
    """Read the first sheet of an ``.xlsx`` workbook, every cell as text.

    Date cells come out as ``2025-03-07 00:00:00`` and whole numbers without ``.0``; the
    normalisers accept both, and plain numbers in date columns as Excel serial days.
    """
    import fastexcel

    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string")
        table = sheet.to_polars()
    except Exception as exc:  # calamine raises its own error types for broken zips/XML
        raise InputError(
            f"{rel} is not a readable Excel workbook ({type(exc).__name__}): "
            "open it in Excel and save it as .xlsx, or export the sheet as UTF-8 CSV",
            zh=f"{rel} 不是可读取的 Excel 工作簿({type(exc).__name__}):请用 Excel/WPS 打开后另存为 .xlsx,"
            "或把该表导出为 UTF-8 编码的 CSV",
            path=rel,
        ) from None
    if table.height == 0:
        raise InputError(
            f"{rel}: the first sheet is empty (no header row): put the {dataset.name} table "
            "with its header row on the first sheet",
            zh=f"{rel}:第一个工作表是空的(没有表头行):请把{dataset.zh}连同表头行放在第一个工作表",
            path=rel,
            dataset=dataset.name,
        )
    header = table.row(0)
    positions = map_headers(list(header), dataset, rel)
    body = table.slice(1)
    names = table.columns
    blank = pl.all_horizontal(
        [pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in names]
    )
    lf = (
        body.lazy()
        .with_columns(
            # the sheet's row number: the header is row 1
            pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias(ROW_COL),
            pl.when(blank).then(pl.lit("blank row")).otherwise(None).alias(ROW_ERROR_COL),
        )
        .select(
            [pl.col(names[i]).alias(name) for i, name in positions.items()]
            + [pl.col(ROW_COL), pl.col(ROW_ERROR_COL)]
        )
    )
    return RawFile(path, rel, "xlsx", lf)


# ---------------------------------------------------------------------------- parquet
def scan_parquet(path: Path, rel: str, dataset: Dataset) -> RawFile:
    """Scan one parquet file lazily; typed columns keep their dtype (fast path downstream)."""
    try:
        schema = pl.read_parquet_schema(path)
    except Exception as exc:  # polars raises ComputeError/OSError for truncated footers
        raise InputError(
            f"{rel} is not a readable parquet file ({type(exc).__name__}: truncated or corrupt): "
            "copy or export it again",
            zh=f"{rel} 不是可读取的 parquet 文件({type(exc).__name__}:文件不完整或已损坏):请重新复制或导出",
            path=rel,
        ) from None
    names = list(schema)
    positions = map_headers(names, dataset, rel)
    lf = (
        pl.scan_parquet(path)
        .pipe(_select, names, positions)
        # no header line in parquet: the first record is numbered 2, as in CSV and Excel
        .with_row_index(ROW_COL, offset=2)
        .with_columns(
            pl.col(ROW_COL).cast(pl.Int64),
            pl.lit(None, pl.String).alias(ROW_ERROR_COL),
        )
    )
    return RawFile(path, rel, "parquet", lf)


_READERS = {".csv": read_csv, ".xlsx": read_xlsx, ".parquet": scan_parquet}


def read_file(path: Path, rel: str, dataset: Dataset) -> RawFile:
    """Dispatch on the (case-insensitive) extension."""
    ext = path.suffix.lower()
    if ext not in _READERS:
        raise InputError(f"{rel}: unsupported file type {ext!r}: use .parquet, .csv or .xlsx", path=rel,
                         zh=f"{rel}:不支持的文件类型 {ext!r}:请使用 .parquet、.csv 或 .xlsx")
    return _READERS[ext](path, rel, dataset)
