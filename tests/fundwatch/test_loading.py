"""load_input: layout, typed output, quarantine reconciliation, fingerprint, bad inputs."""

from __future__ import annotations

import datetime as dt
import os

import polars as pl
import pytest

from fundwatch.contract import DATASETS, QUARANTINE_SCHEMA
from fundwatch.errors import InputError
from fundwatch.loading import discover, load_input, write_quarantine
from fundwatch.settings import DEFAULT_SETTINGS, LoadSettings

PID = "11010519491231002X"
PID_BAD = "110105194912310021"

CLAIM_HEADER_ZH = "结算单号,参保人身份证号,机构编码,医师编码,就诊类别,就诊日期,出院日期,结算日期,诊断编码,总费用,统筹支付,个人支付"


def claim_row(i, visit="门诊", date="2025/3/7", total='"1,234.50"', pid=PID):
    return f"C{i},{pid},H1,,{visit},{date},,2025年3月8日,J01,{total},￥1000,234.50元"


def write(path, text, encoding="utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def reconcile(result):
    for name, c in result.counts.items():
        assert c.rows_read == c.rows_accepted + c.rows_quarantined
        assert result.datasets[name].height == c.rows_accepted
        q = result.quarantine.filter(pl.col("dataset") == name)
        assert q.select(pl.struct("source_file", "row_number").n_unique()).item() == c.rows_quarantined


def test_csv_folder_mixed_formats_typed_and_reconciled(tmp_path):
    inp = tmp_path / "in"
    write(inp / "claims" / "2025-03.csv", CLAIM_HEADER_ZH + "\n" + "\n".join(claim_row(i) for i in range(3)) + "\n", "gbk")
    bad_rows = [
        claim_row(10, visit="急诊"),  # unknown enum
        claim_row(11, date="2025-02-30", total="abc"),  # two bad cells, one row
        claim_row(12, date=""),  # required date empty
    ]
    write(inp / "claims" / "2025-04.csv", "\ufeff" + CLAIM_HEADER_ZH + "\n" + "\n".join(bad_rows + [claim_row(13, pid="anything")]) + "\n")
    pl.DataFrame(
        {
            "claim_id": ["P1"], "person_id": [PID], "institution_id": ["H1"], "doctor_id": [None],
            "visit_type": ["inpatient"], "visit_date": [dt.date(2025, 5, 1)], "discharge_date": [dt.date(2025, 5, 3)],
            "settle_date": [dt.date(2025, 5, 3)], "diagnosis_code": ["J01"], "total_amount": [10.0],
            "fund_amount": [8.0], "self_amount": [2.0],
        }
    ).write_parquet(inp / "claims" / "2025-05.parquet")
    (inp / "claims" / "notes.txt").write_text("ignored")
    r = load_input(inp)
    claims = r.datasets["claims"]
    assert claims.schema == DATASETS["claims"].base_schema  # v1 input: no v2 columns
    assert claims.height == 5 and r.counts["claims"].rows_read == 8
    assert r.counts["claims"].rows_quarantined == 3
    first = claims.row(0, named=True)
    assert first["visit_type"] == "outpatient" and first["visit_date"] == dt.date(2025, 3, 7)
    assert first["settle_date"] == dt.date(2025, 3, 8) and first["total_amount"] == 1234.5
    assert first["fund_amount"] == 1000.0 and first["self_amount"] == 234.5 and first["doctor_id"] is None
    # a non-GB 11643 person id outside persons is kept (itself a lead)
    assert "ANYTHING" in claims.get_column("person_id").to_list()
    q = r.quarantine
    assert q.schema == QUARANTINE_SCHEMA
    assert q.height == 4  # one row per failing cell
    assert set(q.get_column("source_file")) == {"claims/2025-04.csv"}
    # rows numbered by their line in the file (header = line 1)
    assert q.filter(pl.col("row_number") == 3).get_column("column").sort().to_list() == ["total_amount", "visit_date"]
    assert q.filter(pl.col("row_number") == 4).row(0, named=True)["reason"] == "required value is empty"
    assert q.get_column("record_id").null_count() == 0  # the claim_id of each rejected row
    assert "claims/notes.txt" in r.ignored
    reconcile(r)


def test_persons_invalid_id_quarantined_xlsx(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    inp = tmp_path / "in"
    inp.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["身份证号", "姓名", "性别", "出生日期", "行政区划代码", "户号"])
    ws.append([PID.lower(), "张三", "女", dt.date(1949, 12, 31), 110105001001, "H1"])
    ws.append([PID_BAD, "李四", "2", 18263, "110105001001", "H1"])
    ws.append([PID, "王五", "1", "1949年12月31日", "110105001001", "H2"])
    wb.save(inp / "persons.xlsx")
    r = load_input(inp)
    persons = r.datasets["persons"]
    assert persons.get_column("person_id").to_list() == [PID, PID]
    assert persons.get_column("region_code").to_list() == ["110105001001"] * 2
    assert persons.get_column("birth_date").to_list() == [dt.date(1949, 12, 31)] * 2
    q = r.quarantine.row(0, named=True)
    assert (q["source_file"], q["row_number"], q["column"]) == ("persons.xlsx", 3, "person_id")  # sheet row 3
    assert "check character" in q["reason"]
    reconcile(r)


def test_quantity_defaults_to_one_when_empty_or_absent(tmp_path):
    inp = tmp_path / "in"
    header = "发放流水号,发放批次,补贴项目,受益人身份证号,受益人姓名,行政区划代码,所属期,发放日期,发放金额,账号,持卡人身份证号,经办人"
    row = f"D1,B1,min_living,{PID},张三,110105001001,2025年3月,20250310,500,6222,{PID},op1"
    write(inp / "disbursements" / "a.csv", header + "\n" + row + "\n")
    write(inp / "disbursements" / "b.csv", header + ",计发数量\n" + row.replace("D1", "D2") + ",\n" + row.replace("D1", "D3") + ",2.5\n")
    r = load_input(inp)
    d = r.datasets["disbursements"]
    assert d.get_column("quantity").to_list() == [1.0, 1.0, 2.5]
    assert d.get_column("period").to_list() == ["2025-03"] * 3
    assert d.schema == DATASETS["disbursements"].base_schema


def test_bad_rows_of_every_kind_are_quarantined_never_dropped(tmp_path):
    inp = tmp_path / "in"
    header = "subsidy_type,subsidy_name,region_prefix,valid_from,valid_to,unit,amount,min_age,max_age,excludes_officials,excludes_asset_owners"
    rows = [
        "min_living,低保,*,2025-01,,元/人/月,500,,,是,Y",  # good
        "a,b,*,2025-13,,person_month,500,,,1,0",  # bad period
        "a,b,*,2025-01,,person_month,1e308,,,1,0",  # huge money
        "a,b,*,2025-01,,person_month,NaN,,,1,0",  # NaN
        "a,b,*,2025-01,,person_month,500,12.5,,1,0",  # not an int
        "a,b,*,2025-01,,person_month,500,,,maybe,0",  # not a bool
        "a,b,*,2025-01,,fortnight,500,,,1,0",  # not an enum
        "a,b,*,1800-01,,person_month,500,,,1,0",  # year out of window
        "a,b,*,2025-01",  # ragged
        "a," + "x" * 1_000_000 + ",*,2025-01,,person_month,500,,,1,0",  # huge field
    ]
    write(inp / "subsidy_standards.csv", header + "\n" + "\n".join(rows) + "\n")
    r = load_input(inp)
    s = r.datasets["subsidy_standards"]
    assert s.height == 1 and s.row(0, named=True)["unit"] == "person_month" and s.row(0, named=True)["excludes_officials"]
    c = r.counts["subsidy_standards"]
    assert (c.rows_read, c.rows_accepted, c.rows_quarantined) == (10, 1, 9)
    q = r.quarantine
    assert q.get_column("row_number").to_list() == list(range(3, 12))
    assert q.get_column("column").to_list() == [
        "valid_from", "amount", "amount", "min_age", "excludes_officials", "unit", "valid_from", "*", "subsidy_name"
    ]
    assert q.get_column("raw_value").str.len_chars().max() <= DEFAULT_SETTINGS.load.quarantine_raw_chars
    reconcile(r)


def test_only_restricts_and_absent_is_not_returned(tmp_path):
    inp = tmp_path / "in"
    write(inp / "deaths.csv", f"person_id,death_date,source\n{PID},2025-01-01,公安\n")
    write(inp / "land.csv", "garbage without the right header\n1\n")
    r = load_input(inp, only=["deaths", "claims"])
    assert list(r.datasets) == ["deaths"] and [f["path"] for f in r.files] == ["deaths.csv"]
    with pytest.raises(InputError, match="land.csv"):
        load_input(inp)
    with pytest.raises(InputError, match="unknown dataset"):
        load_input(inp, only=["nope"])


def test_layout_conflicts_and_empty_folder(tmp_path):
    inp = tmp_path / "in"
    write(inp / "deaths.csv", "person_id,death_date,source\n")
    write(inp / "deaths" / "a.csv", "person_id,death_date,source\n")
    with pytest.raises(InputError, match="both as deaths.csv and as folder deaths/"):
        load_input(inp)
    with pytest.raises(InputError):
        discover(inp)
    assert load_input(inp, only=["persons"]).datasets == {}  # not asked for: not an error
    inp2 = tmp_path / "in2"
    write(inp2 / "deaths.csv", "person_id,death_date,source\n")
    write(inp2 / "deaths.xlsx", "x")
    with pytest.raises(InputError, match="several files"):
        load_input(inp2)
    inp3 = tmp_path / "in3"
    (inp3 / "claims").mkdir(parents=True)
    (inp3 / "claims" / "readme.md").write_text("x")
    with pytest.raises(InputError, match="holds no .parquet, .csv or .xlsx"):
        load_input(inp3)
    with pytest.raises(InputError, match="does not exist"):
        load_input(tmp_path / "missing")


def test_discover_and_ignored(tmp_path):
    inp = tmp_path / "in"
    write(inp / "claims" / "2025-02.parquet", "")
    write(inp / "claims" / "2025-01.CSV", "")
    write(inp / "persons.csv", "")
    write(inp / "unknown.csv", "")
    write(inp / "deaths.json", "")
    write(inp / ".DS_Store", "")
    found = discover(inp)
    assert {k: [p.name for p in v] for k, v in found.items()} == {
        "persons": ["persons.csv"],
        "claims": ["2025-01.CSV", "2025-02.parquet"],
    }


def test_header_only_and_empty_parquet_give_typed_empty_frames(tmp_path):
    inp = tmp_path / "in"
    write(inp / "deaths.csv", "person_id,death_date,source\n")
    r = load_input(inp)
    assert r.datasets["deaths"].height == 0 and r.datasets["deaths"].schema == DATASETS["deaths"].base_schema
    reconcile(r)


def test_fingerprint_changes_with_files(tmp_path):
    inp = tmp_path / "in"
    p = write(inp / "deaths.csv", f"person_id,death_date,source\n{PID},2025-01-01,公安\n")
    a = load_input(inp)
    assert load_input(inp).fingerprint == a.fingerprint and len(a.fingerprint) == 64
    assert a.files[0]["path"] == "deaths.csv" and a.files[0]["size"] == p.stat().st_size
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert load_input(inp).fingerprint != a.fingerprint


def test_settings_section_or_whole_settings(tmp_path):
    inp = tmp_path / "in"
    write(inp / "deaths.csv", f"person_id,death_date,source\n{PID},1850-01-01,公安\n")
    assert load_input(inp).counts["deaths"].rows_quarantined == 1
    assert load_input(inp, settings=LoadSettings(min_year=1800)).counts["deaths"].rows_accepted == 1


def test_corrupt_parquet_in_folder(tmp_path):
    inp = tmp_path / "in"
    (inp / "deaths").mkdir(parents=True)
    pl.DataFrame({"person_id": [PID], "death_date": ["2025-01-01"], "source": ["x"]}).write_parquet(inp / "deaths" / "a.parquet")
    data = (inp / "deaths" / "a.parquet").read_bytes()
    (inp / "deaths" / "b.parquet").write_bytes(data[:-20])
    with pytest.raises(InputError, match="deaths/b.parquet"):
        load_input(inp)


def test_write_quarantine_parquet_and_masked_csv(tmp_path):
    q = pl.DataFrame(
        {"dataset": ["persons", "persons"], "source_file": ["persons.csv"] * 2, "row_number": [1, 2],
         "column": ["person_id", "household_id"], "raw_value": [PID_BAD, "=cmd()"], "reason": ["r", "r"],
         "record_id": [PID_BAD, PID_BAD]},
        schema=QUARANTINE_SCHEMA,
    )
    pq = write_quarantine(tmp_path / "out" / "quarantine.parquet", q)
    assert pl.read_parquet(pq).equals(q)
    csv = write_quarantine(tmp_path / "out" / "quarantine.csv", q)
    text = csv.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    assert PID_BAD.encode() not in text and b"110105********0021" in text and b"'=cmd()" in text
