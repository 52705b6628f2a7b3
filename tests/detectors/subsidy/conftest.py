"""Small hand-built subsidy datasets for the subsidy rule tests.

``make_id(region, birth, seq)`` builds valid GB 11643 numbers so every person in these
frames is real unless a test deliberately breaks one; ``frames(...)`` fills a full set of
contract datasets from a few rows, with every column typed as the contract says.
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import polars as pl
import pytest

from fundwatch.contract import DATASETS
from fundwatch.idnumber import CHECK_CHARS, WEIGHTS

_DISB_DEFAULTS = {
    "batch_id": "B1",
    "name": "张三",
    "region_code": "510302001001",
    "pay_date": None,
    "quantity": 1.0,
    "account_no": None,
    "account_holder_id": None,
    "operator_id": "OP1",
}


def make_id(region: str = "510302", birth: str = "19500101", seq: int = 1) -> str:
    """A valid 18-character identity number."""
    body = f"{region}{birth}{seq:03d}"
    total = sum(int(c) * w for c, w in zip(body, WEIGHTS))
    return body + CHECK_CHARS[total % 11]


def table(name: str, rows: list[dict]) -> pl.DataFrame:
    """Rows typed exactly as the contract's dataset ``name``."""
    schema = DATASETS[name].schema
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def pay(did: str, pid: str, period: str, amount: float, subsidy_type: str = "min_living", **kw) -> dict:
    """One disbursement row; pay_date defaults to the 10th of the period's month."""
    row = {**_DISB_DEFAULTS, **kw}
    row.update(disbursement_id=did, person_id=pid, period=period, amount=amount, subsidy_type=subsidy_type)
    if row["pay_date"] is None:
        y, m = map(int, period.split("-"))
        row["pay_date"] = dt.date(y, m, 10)
    row["account_no"] = row["account_no"] or f"ACC-{pid}"
    row["account_holder_id"] = row["account_holder_id"] or pid
    return {c: row.get(c) for c in DATASETS["disbursements"].column_names}


def person(pid: str, household: str, region: str = "510302001001", birth: dt.date | None = None) -> dict:
    birth = birth or dt.datetime.strptime(pid[6:14], "%Y%m%d").date()
    return {"person_id": pid, "name": "李四", "gender": "M" if int(pid[16]) % 2 else "F",
            "birth_date": birth, "region_code": region, "household_id": household}


def standard(subsidy_type: str, name: str, amount: float, *, prefix: str = "*", valid_from: str = "2020-01",
             valid_to: str | None = None, unit: str = "person_month", min_age: int | None = None,
             max_age: int | None = None, excludes_officials: bool = False,
             excludes_asset_owners: bool = False) -> dict:
    return {"subsidy_type": subsidy_type, "subsidy_name": name, "region_prefix": prefix,
            "valid_from": valid_from, "valid_to": valid_to, "unit": unit, "amount": amount,
            "min_age": min_age, "max_age": max_age, "excludes_officials": excludes_officials,
            "excludes_asset_owners": excludes_asset_owners}


DEFAULT_STANDARDS = [
    standard("min_living", "最低生活保障", 410.0, excludes_officials=True, excludes_asset_owners=True),
    standard("elderly_allowance", "高龄津贴", 100.0, min_age=80),
    standard("farmland", "耕地地力保护补贴", 120.0, unit="mu_year"),
]


def frames(**tables: list[dict]) -> dict[str, pl.DataFrame]:
    """Every subsidy dataset, empty unless given; standards default to DEFAULT_STANDARDS."""
    names = ("persons", "deaths", "officials", "assets", "subsidy_standards", "land", "disbursements", "allocations")
    tables.setdefault("subsidy_standards", DEFAULT_STANDARDS)
    return {n: table(n, tables.get(n, [])) for n in names}


def by_entity(findings: pl.DataFrame) -> dict[str, dict]:
    """Findings keyed by entity_id (one finding per entity in these rules)."""
    assert findings["entity_id"].n_unique() == findings.height
    return {r["entity_id"]: r for r in findings.iter_rows(named=True)}


def check_findings(findings: pl.DataFrame) -> None:
    """Invariants every subsidy finding must satisfy."""
    from fundwatch.detectors.base import FINDINGS_SCHEMA

    assert findings.schema == FINDINGS_SCHEMA
    for r in findings.iter_rows(named=True):
        assert r["domain"] == "subsidy"
        assert len(r["record_ids"]) == len(r["record_amounts"]) > 0
        assert len(set(r["record_ids"])) == len(r["record_ids"])
        assert abs(sum(r["record_amounts"]) - r["amount_at_risk"]) < 0.011
        assert 0.0 <= r["score"] <= 1.0
        assert r["period_start"] <= r["period_end"]
        assert r["evidence_zh"] and r["evidence_en"]
        # never a whole identity number or a name in evidence text
        for text in (r["evidence_zh"], r["evidence_en"], r["details"]):
            assert not re.search(r"\d{17}[\dX]", text), text
            assert "张三" not in text and "李四" not in text


@pytest.fixture
def kit():
    """The helpers above, for tests (importing conftest directly is fragile)."""
    return SimpleNamespace(
        make_id=make_id, table=table, pay=pay, person=person, standard=standard, frames=frames,
        by_entity=by_entity, check=check_findings, DEFAULT_STANDARDS=DEFAULT_STANDARDS,
    )


@pytest.fixture
def ids():
    """A few valid identity numbers: old people, young people."""
    return {
        "old1": make_id(birth="19400315", seq=11),
        "old2": make_id(birth="19420101", seq=12),
        "old3": make_id(birth="19450601", seq=13),
        "mid1": make_id(birth="19700101", seq=21),
        "mid2": make_id(birth="19750505", seq=22),
        "mid3": make_id(birth="19800808", seq=23),
    }
