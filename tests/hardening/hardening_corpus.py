"""The bad-input corpus: one small valid city plus exactly one defect per case.

Each case is a row of :data:`CASES` — case id, dataset, mutation function, expected outcome,
expected message fragment — and the mutation is applied to a fresh copy of the base city's
input directory (one Parquet file per dataset). Outcomes:

* ``error``: exit 2, exactly one stderr line naming the file/dataset (``fragment``), no traceback;
* ``quarantine``: exit 0, the bad rows in quarantine.parquet (a reason containing ``fragment``),
  rows read = accepted + quarantined per dataset;
* ``accept``: exit 0 and nothing of that dataset quarantined (valid variants, ignored extras).
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

#: Strings an attacker (or a careless export) may put in any text field.
HOSTILE = (
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x","y")',
    "'; DROP TABLE leads; --",
    "😀🔥 emoji 名字",
    "长" * 500,
    '<img src=x onerror="window.__pwned=1">',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
)

MEDICAL = ("institutions", "item_catalog", "claims", "claim_items")


def domain_of(dataset: str) -> str:
    return "medical" if dataset in MEDICAL else "subsidy"


# ------------------------------------------------------------------------------ helpers
def read(inp: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(inp / f"{name}.parquet")


def put_parquet(inp: Path, name: str, frame: pl.DataFrame) -> None:
    frame.write_parquet(inp / f"{name}.parquet")


def to_csv_text(frame: pl.DataFrame) -> str:
    """The frame as CSV text, dates ISO, booleans true/false (as a real export would)."""
    buf = io.StringIO()
    frame.write_csv(buf)
    return buf.getvalue()


def put_csv(inp: Path, name: str, data: str | bytes) -> Path:
    """Replace ``name``'s Parquet file by ``name.csv`` holding ``data``."""
    (inp / f"{name}.parquet").unlink(missing_ok=True)
    path = inp / f"{name}.csv"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def csv_lines(inp: Path, name: str) -> list[str]:
    return to_csv_text(read(inp, name)).splitlines()


def set_cell(frame: pl.DataFrame, row: int, col: str, value) -> pl.DataFrame:
    """``frame`` with one cell replaced (the column cast to String if the value is text)."""
    if isinstance(value, str) and frame.schema[col] != pl.String:
        frame = frame.with_columns(pl.col(col).cast(pl.String))
    values = frame.get_column(col).to_list()
    values[row] = value
    return frame.with_columns(pl.Series(col, values, dtype=frame.schema[col]))


def text_frame(inp: Path, name: str) -> pl.DataFrame:
    """The dataset with every column as text (dates ISO), ready to be mutated as a CSV would be."""
    return read(inp, name).with_columns(pl.all().cast(pl.String))


# ---------------------------------------------------------------------------- mutations
def empty_file(inp):
    put_csv(inp, "persons", b"")


def header_only(inp):
    put_csv(inp, "deaths", csv_lines(inp, "deaths")[0] + "\n")


def missing_required_column(inp):
    put_csv(inp, "disbursements", to_csv_text(read(inp, "disbursements").drop("amount")))


def duplicated_header(inp):
    lines = csv_lines(inp, "officials")
    lines = [f"{line},{line.split(',')[2]}" for line in lines]  # organization twice
    lines[0] = lines[0].rsplit(",", 1)[0] + ",organization"
    put_csv(inp, "officials", "\n".join(lines) + "\n")


def ragged_rows(inp):
    lines = csv_lines(inp, "assets")
    lines[3] = lines[3] + ",extra,cells"
    lines[5] = ",".join(lines[5].split(",")[:2])
    put_csv(inp, "assets", "\n".join(lines) + "\n")


def binary_garbage(inp):
    put_csv(inp, "land", bytes(range(256)) * 64)


def truncated_parquet(inp):
    path = inp / "officials.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def xlsx_wrong_content(inp):
    import openpyxl

    (inp / "deaths.parquet").unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["季度", "销售额", "备注"])
    for i in range(5):
        ws.append([f"Q{i}", i * 100, "与死亡信息无关"])
    wb.save(inp / "deaths.xlsx")


def text_named_xlsx(inp):
    text = to_csv_text(read(inp, "assets"))
    (inp / "assets.parquet").unlink()
    (inp / "assets.xlsx").write_text(text, encoding="utf-8")


def latin1_bytes(inp):
    # a Latin-1 export: every byte outside ASCII is neither UTF-8 nor meant as GBK
    f = text_frame(inp, "deaths").with_columns(pl.lit("civil").alias("source"))
    f = set_cell(f, 0, "source", "Café Müller état-civil")
    put_csv(inp, "deaths", to_csv_text(f).encode("latin-1"))


def nul_in_field(inp):
    f = text_frame(inp, "persons")
    f = set_cell(f, 2, "name", "张\x00三")
    put_csv(inp, "persons", to_csv_text(f))


def megabyte_field(inp):
    f = text_frame(inp, "officials")
    f = set_cell(f, 1, "organization", "单" * (1024 * 1024 // 3 + 10))
    put_csv(inp, "officials", to_csv_text(f))


def mixed_date_formats(inp):
    f = text_frame(inp, "disbursements")
    dates = read(inp, "disbursements").get_column("pay_date").to_list()
    fmts = (
        lambda d: d.isoformat(),
        lambda d: d.strftime("%Y%m%d"),
        lambda d: f"{d.year}/{d.month}/{d.day}",
        lambda d: f"{d.year}年{d.month}月{d.day}日",
    )
    f = f.with_columns(pl.Series("pay_date", [fmts[i % 4](d) for i, d in enumerate(dates)]))
    put_csv(inp, "disbursements", to_csv_text(f))


def year_1800(inp):
    put_parquet(inp, "deaths", set_cell(read(inp, "deaths"), 0, "death_date", dt.date(1800, 1, 1)))


def year_2099(inp):
    f = text_frame(inp, "disbursements")
    put_csv(inp, "disbursements", to_csv_text(set_cell(f, 4, "pay_date", "2099-03-07")))


def negative_amount(inp):
    put_parquet(inp, "disbursements", set_cell(read(inp, "disbursements"), 7, "amount", -600.0))


def huge_amount(inp):
    f = text_frame(inp, "claims")
    put_csv(inp, "claims", to_csv_text(set_cell(f, 3, "total_amount", "1e308")))


def duplicate_primary_key(inp):
    f = read(inp, "disbursements")
    put_parquet(inp, "disbursements", pl.concat([f, f.slice(10, 3)]))


def items_of_unknown_claims(inp):
    items = read(inp, "claim_items")
    ghost = items.head(4).with_columns(pl.lit("JS-NO-SUCH-CLAIM").alias("claim_id"), pl.int_range(1, 5).cast(pl.Int64).alias("line_no"))
    put_parquet(inp, "claim_items", pl.concat([items, ghost]))


def lowercase_x_and_spaces(inp):
    f = read(inp, "persons")
    ids = f.get_column("person_id").to_list()
    i = next(k for k, v in enumerate(ids) if v.endswith("X"))
    ids[i] = "  " + ids[i][:-1] + "x "
    j = next(k for k, v in enumerate(ids) if not v.endswith("X"))
    ids[j] = " " + ids[j] + "  "
    put_parquet(inp, "persons", f.with_columns(pl.Series("person_id", ids)))


def dead_twice(inp):
    d = read(inp, "deaths")
    row = d.head(1)
    other = row.with_columns((pl.col("death_date") + pl.duration(days=40)).alias("death_date"), pl.lit("公安").alias("source"))
    put_parquet(inp, "deaths", pl.concat([d, other]))


def empty_dataset_folder(inp):
    (inp / "land.parquet").unlink()
    (inp / "land").mkdir()


def unknown_extra_columns(inp):
    f = read(inp, "persons").with_columns(
        pl.lit("whatever").alias("备注"), pl.lit(1).alias("extra_number"), pl.lit("=1+1").alias("zz_formula")
    )
    put_csv(inp, "persons", to_csv_text(f))


def hostile_text(inp):
    """Hostile strings in every free-text field of every dataset (ids kept joinable)."""
    def hostile(col: str, frame: pl.DataFrame) -> pl.Series:
        return pl.Series(col, [HOSTILE[i % len(HOSTILE)] for i in range(frame.height)])

    for name, cols in {
        "persons": ("name",),
        "disbursements": ("name",),
        "officials": ("organization",),
        "deaths": ("source",),
        "institutions": ("name",),
        "item_catalog": ("item_name",),
        "claim_items": ("item_name",),
        "claims": ("diagnosis_code",),
    }.items():
        f = read(inp, name)
        f = f.with_columns([hostile(c, f) for c in cols])
        put_parquet(inp, name, f)
    # identifiers that become lead entity ids / record ids: hostile but still unique
    d = read(inp, "disbursements")
    short = [h for h in HOSTILE if len(h) < 60]
    d = d.with_columns(
        (pl.Series([short[i % len(short)] for i in range(d.height)]) + pl.col("disbursement_id")).alias("disbursement_id"),
        (pl.lit(short[1]) + pl.col("operator_id")).alias("operator_id"),
        (pl.lit(short[0]) + pl.col("batch_id")).alias("batch_id"),
    )
    put_parquet(inp, "disbursements", d)


def invalid_identity_number(inp):
    f = read(inp, "persons")
    put_parquet(inp, "persons", set_cell(f, 4, "person_id", f["person_id"][4][:-1] + ("0" if f["person_id"][4][-1] != "0" else "1")))


def unparseable_money(inp):
    f = text_frame(inp, "claim_items")
    put_csv(inp, "claim_items", to_csv_text(set_cell(f, 2, "unit_price", "十二块")))


def blank_line_inside(inp):
    lines = csv_lines(inp, "officials")
    lines.insert(3, "")
    put_csv(inp, "officials", "\n".join(lines) + "\n")


def gbk_chinese_headers(inp):
    from fundwatch.contract import DATASETS

    f = text_frame(inp, "officials")
    zh = {c.name: c.zh for c in DATASETS["officials"].columns}
    f = f.rename({c: zh[c] for c in f.columns}).with_columns(pl.col("身份类别").replace({"civil_servant": "公务员", "village_cadre": "村(社区)干部", "public_institution": "事业单位"}))
    put_csv(inp, "officials", to_csv_text(f).encode("gbk"))


def file_and_folder(inp):
    (inp / "deaths").mkdir()
    shutil.copy(inp / "deaths.parquet", inp / "deaths" / "2025-01.parquet")


def needed_dataset_absent(inp):
    (inp / "deaths.parquet").unlink()


def bad_enumeration(inp):
    f = read(inp, "claims")
    put_parquet(inp, "claims", set_cell(f, 5, "visit_type", "teleportation"))


# ------------------------------------------------------------------------------- table
@dataclass(frozen=True)
class Case:
    id: str
    dataset: str
    mutate: Callable[[Path], None]
    outcome: str  # error | quarantine | accept
    fragment: str  # error: in the stderr line; quarantine: in a quarantine reason (case-insensitive)
    command: str = "validate"  # validate (load + GE) or scan (the whole run)
    min_quarantined: int = 1
    extra: dict = field(default_factory=dict)


CASES: tuple[Case, ...] = (
    Case("empty_file", "persons", empty_file, "error", "persons.csv"),
    Case("header_only_csv", "deaths", header_only, "accept", ""),
    Case("missing_required_column", "disbursements", missing_required_column, "error", "amount"),
    Case("duplicated_header", "officials", duplicated_header, "error", "organization"),
    Case("ragged_rows", "assets", ragged_rows, "quarantine", "fields but the header has", min_quarantined=2),
    Case("binary_garbage_csv", "land", binary_garbage, "error", "land.csv"),
    Case("truncated_parquet", "officials", truncated_parquet, "error", "officials.parquet"),
    Case("xlsx_wrong_content", "deaths", xlsx_wrong_content, "error", "deaths.xlsx"),
    Case("text_named_xlsx", "assets", text_named_xlsx, "error", "assets.xlsx"),
    Case("latin1_bytes", "deaths", latin1_bytes, "error", "deaths.csv"),
    Case("nul_in_field", "persons", nul_in_field, "quarantine", "NUL"),
    Case("megabyte_field", "officials", megabyte_field, "quarantine", "4000 bytes"),
    Case("mixed_date_formats", "disbursements", mixed_date_formats, "accept", ""),
    Case("year_1800", "deaths", year_1800, "quarantine", "1800"),
    Case("year_2099", "disbursements", year_2099, "quarantine", "2099"),
    Case("negative_amount", "disbursements", negative_amount, "quarantine", "amount"),
    Case("amount_1e308", "claims", huge_amount, "quarantine", "1e+10"),
    Case("duplicate_primary_key", "disbursements", duplicate_primary_key, "quarantine", "", min_quarantined=3),
    Case("items_of_unknown_claims", "claim_items", items_of_unknown_claims, "quarantine", "claim", min_quarantined=4),
    Case("lowercase_x_and_spaces", "persons", lowercase_x_and_spaces, "accept", ""),
    Case("dead_twice_different_dates", "deaths", dead_twice, "accept", ""),
    Case("empty_dataset_folder", "land", empty_dataset_folder, "error", "land/"),
    Case("unknown_extra_columns", "persons", unknown_extra_columns, "accept", ""),
    Case("hostile_strings", "disbursements", hostile_text, "accept", "", command="scan"),
    Case("invalid_identity_number", "persons", invalid_identity_number, "quarantine", "GB 11643"),
    Case("unparseable_money", "claim_items", unparseable_money, "quarantine", "not an amount"),
    Case("blank_line_inside_csv", "officials", blank_line_inside, "quarantine", "blank"),
    Case("gbk_chinese_headers", "officials", gbk_chinese_headers, "accept", ""),
    Case("file_and_folder", "deaths", file_and_folder, "error", "deaths"),
    Case("needed_dataset_absent", "deaths", needed_dataset_absent, "error", "deaths", command="scan"),
    Case("bad_enumeration", "claims", bad_enumeration, "quarantine", "visit_type"),
    Case("empty_file_via_scan", "persons", empty_file, "error", "persons.csv", command="scan"),
)


def materialise(case: Case, base_input: Path, dest: Path) -> Path:
    """Copy the base city's input to ``dest/input`` and apply ``case``'s one defect."""
    inp = dest / "input"
    shutil.copytree(base_input, inp)
    case.mutate(inp)
    return inp
