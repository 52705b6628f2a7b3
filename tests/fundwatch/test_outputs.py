"""leads.parquet (whole ids, byte-identical reruns), leads.csv (BOM, masked, formula-safe)."""

from __future__ import annotations

import polars as pl

from fundwatch.detectors.base import FINDINGS_SCHEMA, conform_findings
from fundwatch.contract import LEADS_SCHEMA
from fundwatch.leads import build_leads
from fundwatch.outputs import CSV_OMITTED, write_findings, write_leads

P1 = "11010519491231002X"
ACCOUNT = "6217000012345678901"


def finding(code, entity_id, entity_type="person", records=("D1",), evidence="证据"):
    return {
        "rule_code": code, "domain": "subsidy", "entity_type": entity_type, "entity_id": entity_id,
        "record_ids": list(records), "record_amounts": [100.0] * len(records), "amount_at_risk": 100.0 * len(records),
        "score": 0.9, "period_start": "2025-01", "period_end": "2025-02",
        "region_code": "110105001001", "evidence_zh": evidence, "evidence_en": evidence, "details": "{}",
    }


def findings() -> pl.DataFrame:
    rows = [
        finding("DECEASED_PAYEE", P1, records=("D1", "D2"), evidence=f"{P1} 于 2024-12 死亡"),
        finding("SHARED_ACCOUNT", ACCOUNT, "account", records=("D3", "D4", "D5")),
        finding("OPERATOR_OUTLIER", "=HYPERLINK(\"http://x\")", "operator", records=("D6",), evidence="-2+3"),
    ] + [finding("DUPLICATE_PAYMENT", f"1101051950010{i:04d}5", records=(f"E{i}",)) for i in range(30)]
    return conform_findings(pl.DataFrame(rows, schema=FINDINGS_SCHEMA))


def test_same_input_gives_byte_identical_files(tmp_path):
    f = findings()
    a = write_leads(tmp_path / "a", build_leads(f))
    b = write_leads(tmp_path / "b", build_leads(f.sample(fraction=1.0, shuffle=True, seed=1)))
    for key in ("leads_parquet", "leads_csv"):
        assert a[key].read_bytes() == b[key].read_bytes()
    fa, fb = write_findings(tmp_path / "a", f), write_findings(tmp_path / "b", f.reverse())
    assert fa.read_bytes() == fb.read_bytes() and fa.name == "findings.parquet"


def test_parquet_keeps_whole_ids_and_the_schema(tmp_path):
    leads = build_leads(findings())
    paths = write_leads(tmp_path, leads)
    back = pl.read_parquet(paths["leads_parquet"])
    assert back.schema == LEADS_SCHEMA and back.equals(leads)
    assert P1 in back["entity_id"].to_list()
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary files left behind


def test_csv_has_bom_masks_people_and_accounts_and_is_formula_safe(tmp_path):
    paths = write_leads(tmp_path, build_leads(findings()))
    raw = paths["leads_csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert P1 not in text and "110105********002X" in text
    assert ACCOUNT not in text and "621700*********8901" in text  # also inside the title
    csv = pl.read_csv(paths["leads_csv"], encoding="utf8", infer_schema=False)
    assert list(csv.columns) == [c for c in LEADS_SCHEMA if c not in CSV_OMITTED]
    assert "D1;D2" in csv["record_ids"].to_list()
    op = csv.filter(pl.col("rule_codes") == "OPERATOR_OUTLIER").row(0, named=True)
    assert op["entity_id"].startswith("'=")
    for col in csv.columns:
        assert not any(v.startswith(("=", "+", "-", "@")) for v in csv[col].drop_nulls().to_list()), col


def test_unmask_shows_whole_ids_in_csv(tmp_path):
    paths = write_leads(tmp_path, build_leads(findings()), unmask=True)
    text = paths["leads_csv"].read_text(encoding="utf-8-sig")
    assert P1 in text and ACCOUNT in text


def _spreadsheet_value(cell: str) -> object:
    """What a spreadsheet makes of a CSV cell: a number where the whole cell is a number
    (a cell led by a tab stays text in Excel and WPS: the exports' usual trick)."""
    if cell != cell.lstrip("\t"):
        return cell
    try:
        return float(cell)
    except ValueError:
        return cell


def test_csv_identifiers_and_codes_stay_text_in_a_spreadsheet(tmp_path):
    import csv as csvmod

    leads = build_leads(findings())
    paths = write_leads(tmp_path, leads, unmask=True)
    with open(paths["leads_csv"], encoding="utf-8-sig", newline="") as f:
        rows = list(csvmod.DictReader(f))
    by_id = {r["lead_id"]: r for r in rows}
    for lead in leads.iter_rows(named=True):
        row = by_id[lead["lead_id"]]
        for col in ("entity_id", "region_code"):
            cell = row[col]
            if not (lead[col] or "").isdigit():
                continue  # other values: formula-safe text (tested above)
            assert cell.lstrip("\t") == lead[col], col  # intact, every digit
            if True:
                assert isinstance(_spreadsheet_value(cell), str), f"{col} {cell!r} would become a number"
    assert P1 in {r["entity_id"].lstrip("\t") for r in rows}
    # formula-safe: a tab only ever leads digits
    assert not any(c.startswith(("=", "+", "-", "@")) for r in rows for c in r.values() if c)
    assert all(c[1:].isdigit() or c[1:-1].isdigit() for r in rows for c in r.values() if c.startswith("\t"))
