"""The Excel workbook: structure, dropdown, formula neutralisation, masking, dispositions round trip."""

from __future__ import annotations

import re

import polars as pl
import pytest
from openpyxl import Workbook, load_workbook
from report_samples import FORMULA, HOSTILE_NAME, make_inputs

from fundwatch import reports
from fundwatch.errors import InputError

ID18 = re.compile(r"(?<![0-9])\d{17}[\dX](?![0-9])")


def _write(tmp_path, d=None, **kw):
    d = d or make_inputs()
    return reports.write_workbook(
        tmp_path, leads=d["leads"], status=d["status"], evidence=d["evidence"], quarantine=d["quarantine"],
        validation_summary=d["validation_summary"], run_info=d["run_info"], **kw,
    )


def _header(ws) -> list[str]:
    return [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]


def _all_strings(wb) -> list[str]:
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def test_sheets_headers_frozen_panes_filter_and_formats(tmp_path):
    path = _write(tmp_path)
    assert path == tmp_path / "leads.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == ["概要", "线索", "证据", "隔离数据", "数据校验"]
    assert load_workbook(_write(tmp_path / "en", lang="en")).sheetnames == ["Summary", "Leads", "Evidence", "Quarantine", "Validation"]
    ws = wb["线索"]
    head = _header(ws)
    assert head[:2] == ["排名", "线索编号"] and "处置状态" in head and "备注" in head
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(head)).column_letter}13"
    assert ws.max_row == 13  # header + 12 leads
    amount = ws.cell(2, head.index("存疑金额(元)") + 1)
    assert isinstance(amount.value, (int, float)) and amount.number_format == "#,##0.00"
    assert ws.column_dimensions["I"].width >= 8  # title column has a width
    for name in ("证据", "隔离数据", "数据校验"):
        assert wb[name].freeze_panes == "A2"
    ev = wb["证据"]
    assert _header(ev)[0] == "线索编号" and ev.max_row == 1 + make_inputs()["evidence"].height
    assert ev.cell(2, 4).number_format == "yyyy-mm-dd"


def test_disposition_dropdown(tmp_path):
    wb = load_workbook(_write(tmp_path))
    ws = wb["线索"]
    col = ws.cell(1, _header(ws).index("处置状态") + 1).column_letter
    dvs = ws.data_validations.dataValidation
    assert len(dvs) == 1
    dv = dvs[0]
    assert dv.type == "list" and dv.formula1 == '"已确认,已排除,核查中"'
    assert str(dv.sqref) == f"{col}2:{col}13"
    # existing decisions are pre-filled, undecided leads left blank
    disp = [ws[f"{col}{r}"].value for r in range(2, 7)]
    assert disp == [None, None, "已确认", "已排除", "核查中"]


def test_english_headers_and_dropdown(tmp_path):
    wb = load_workbook(_write(tmp_path, lang="en"))
    ws = wb["Leads"]
    head = _header(ws)
    assert head[1] == "lead_id" and "disposition" in head and "note" in head
    assert ws.data_validations.dataValidation[0].formula1 == '"confirmed,dismissed,in_review"'
    assert _header(wb["Evidence"])[0] == "lead_id"
    title = ws.cell(2, head.index("title") + 1).value
    # as complete as the Chinese title: the rule, the (masked) person, the records, the money
    assert title.startswith("Payments to a deceased person: person 510302") and title.endswith(", 1 record, CNY 100.00 at risk")


def test_formula_strings_neutralised(tmp_path):
    wb = load_workbook(_write(tmp_path, unmask=True))
    strings = _all_strings(wb)
    assert "'" + FORMULA in strings  # the lead title and the evidence description
    assert not any(s.startswith(("=", "+", "-", "@", "\t", "\r")) for s in strings)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula"


def test_personal_data_masked_unless_unmask(tmp_path):
    d = make_inputs()
    whole = set(d["evidence"]["person_id"].to_list())
    wb = load_workbook(_write(tmp_path / "m", d))
    masked = _all_strings(wb)
    assert not any(ID18.search(s) for s in masked)
    assert not any("张三0" in s for s in masked)  # in titles and explanations too
    names = [r[5] for r in wb["证据"].iter_rows(min_row=2, values_only=True)]
    assert HOSTILE_NAME not in names and "张**" in names
    wb = load_workbook(_write(tmp_path / "u", d, unmask=True))
    opened = _all_strings(wb)
    assert whole <= {m for s in opened for m in ID18.findall(s)}
    assert HOSTILE_NAME in [r[5] for r in wb["证据"].iter_rows(min_row=2, values_only=True)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dispositions_round_trip(tmp_path, lang):
    path = _write(tmp_path, lang=lang)
    wb = load_workbook(path)
    ws = wb["线索" if lang == "zh" else "Leads"]
    head = _header(ws)
    c_id = head.index("线索编号" if lang == "zh" else "lead_id") + 1
    c_d = head.index("处置状态" if lang == "zh" else "disposition") + 1
    c_n = head.index("备注" if lang == "zh" else "note") + 1
    rows = {ws.cell(r, c_id).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(rows["L00000"], c_d).value = "已确认" if lang == "zh" else "confirmed"
    ws.cell(rows["L00000"], c_n).value = "核实属实"
    ws.cell(rows["L00002"], c_d).value = None  # decision withdrawn
    ws.cell(rows["L00005"], c_n).value = "待补充材料"  # a note only
    ws.cell(1, ws.max_column + 1).value = "reviewer's own column"
    wb.save(path)
    got = reports.read_dispositions(path)
    assert got.columns == ["lead_id", "status", "note"]
    by = {r["lead_id"]: (r["status"], r["note"]) for r in got.iter_rows(named=True)}
    assert by["L00000"] == ("confirmed", "核实属实")
    assert "L00002" not in by and "L00001" not in by
    assert by["L00003"] == ("dismissed", None) and by["L00004"] == ("in_review", None)
    assert by["L00005"] == (None, "待补充材料")


def test_read_dispositions_rejects_other_files(tmp_path):
    with pytest.raises(InputError, match="no such"):
        reports.read_dispositions(tmp_path / "missing.xlsx")
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(InputError, match="not an Excel"):
        reports.read_dispositions(junk)
    other = tmp_path / "other.xlsx"
    wb = Workbook()
    wb.active.append(["a", "b"])
    wb.save(other)
    with pytest.raises(InputError, match="线索编号/lead_id"):
        reports.read_dispositions(other)


def test_read_dispositions_rejects_an_unknown_value(tmp_path):
    path = _write(tmp_path)
    wb = load_workbook(path)
    ws = wb["线索"]
    ws.cell(2, _header(ws).index("处置状态") + 1).value = "maybe"
    wb.save(path)
    with pytest.raises(InputError, match="row 2"):
        reports.read_dispositions(path)


def test_read_dispositions_reports_every_bad_row_and_takes_only_listed_labels(tmp_path):
    path = _write(tmp_path)
    wb = load_workbook(path)
    ws = wb["线索"]
    col = _header(ws).index("处置状态") + 1
    ws.cell(2, col).value = "确认"  # not in the list: 已确认 is
    ws.cell(4, col).value = "Confirmed"
    ws.cell(6, col).value = "排除"
    ws.cell(7, col).value = "已排除"  # fine
    wb.save(path)
    with pytest.raises(InputError) as err:
        reports.read_dispositions(path)
    msg = str(err.value)
    assert "\n" not in msg  # one line
    for row, value in ((2, "确认"), (4, "Confirmed"), (6, "排除")):
        assert f"row {row}" in msg and value in msg
    assert "row 7" not in msg and "已确认/已排除/核查中" in msg


def test_print_setup(tmp_path):
    wb = load_workbook(_write(tmp_path))
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows in ("1:1", "$1:$1")


def test_identifiers_and_codes_are_text_cells(tmp_path):
    d = make_inputs()
    wb = load_workbook(_write(tmp_path, d, unmask=True))
    ws = wb["线索"]
    head = _header(ws)
    for name in ("对象编号", "行政区划代码"):
        cells = [ws.cell(r, head.index(name) + 1) for r in range(2, ws.max_row + 1)]
        assert all(c.data_type == "s" and c.number_format == "@" for c in cells), name
    regions = {ws.cell(r, head.index("行政区划代码") + 1).value for r in range(2, ws.max_row + 1)}
    assert regions == set(d["leads"]["region_code"].to_list())  # 12 digits, intact
    ids = {ws.cell(r, head.index("对象编号") + 1).value for r in range(2, ws.max_row + 1)}
    assert set(d["leads"]["entity_id"].to_list()) == ids  # 18-digit numbers whole with --unmask


def test_summary_and_quarantine_sheets(tmp_path):
    wb = load_workbook(_write(tmp_path))
    summary = {r[0]: r[1] for r in wb["概要"].iter_rows(values_only=True) if r and r[0]}
    assert summary["运行编号"] == "run-20250301-0001" and summary["线索数"] == 12
    assert summary["校验未通过项"] == 2
    q = list(wb["隔离数据"].iter_rows(values_only=True))
    assert q[0][0] == "数据集" and len(q) == 3
    raw = [r[4] for r in q[1:]]
    assert not any(ID18.search(str(v)) for v in raw)  # the quarantined identity number is masked
    v = list(wb["数据校验"].iter_rows(values_only=True))
    assert v[0][:2] == ("数据集", "校验规则") and len(v) == 4
    assert {r[3] for r in v[1:]} <= {"通过", "未通过"}  # results in words


def test_empty_inputs(tmp_path):
    from fundwatch.contract import LEADS_SCHEMA

    path = reports.write_workbook(
        tmp_path, leads=pl.DataFrame(schema=LEADS_SCHEMA), status=None, evidence=None, quarantine=None,
        validation_summary=None, run_info=None,
    )
    assert load_workbook(path).sheetnames[1] == "线索"
    assert reports.read_dispositions(path).height == 0


def test_non_finite_amounts_written_as_empty_cells(tmp_path):
    d = make_inputs()
    d["leads"] = d["leads"].with_columns(
        pl.when(pl.col("rank") == 1).then(float("nan")).otherwise(pl.col("amount_at_risk")).alias("amount_at_risk")
    )
    ws = load_workbook(_write(tmp_path, d))["线索"]
    assert ws.cell(2, _header(ws).index("存疑金额(元)") + 1).value is None


def test_leads_sheet_gives_each_leads_basis_checklist_place_and_links(tmp_path):
    from fundwatch.rules_catalog import RULES

    d = make_inputs()
    wb = load_workbook(_write(tmp_path, d))
    ws = wb["线索"]
    head = _header(ws)
    for name in ("依据", "核查要点", "地区名称", "证据记录总金额(元)", "关联线索编号"):
        assert name in head
    first = d["leads"].sort("rank").row(0, named=True)
    code = next(c for c in first["rule_codes"] if c in RULES)
    basis = ws.cell(2, head.index("依据") + 1).value
    checklist = ws.cell(2, head.index("核查要点") + 1).value
    assert RULES[code].basis_zh in basis and RULES[code].title_zh in basis
    assert checklist.startswith("1. ") and RULES[code].checklist_zh[0] in checklist
