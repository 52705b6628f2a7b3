"""Small hand-made medical datasets for the medical detector tests (contract schemas)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from fundwatch.contract import DATASETS
from fundwatch.idnumber import CHECK_CHARS, WEIGHTS

D = dt.date


def pid(birth: str, seq: int, region: str = "510302") -> str:
    """A valid GB 11643 number; ``seq`` odd = male, even = female."""
    body = f"{region}{birth}{seq:03d}"
    total = sum(int(c) * w for c, w in zip(body, WEIGHTS))
    return body + CHECK_CHARS[total % 11]


def frame(name: str, rows: list[dict]) -> pl.DataFrame:
    schema = DATASETS[name].schema
    return pl.DataFrame([{c: r.get(c) for c in schema.names()} for r in rows], schema=schema, orient="row") \
        if rows else pl.DataFrame(schema=schema)


def person(person_id: str, gender: str | None = None, household: str | None = None,
           birth: dt.date | None = None) -> dict:
    b = birth or dt.datetime.strptime(person_id[6:14], "%Y%m%d").date()
    g = gender or ("M" if int(person_id[16]) % 2 else "F")
    return {"person_id": person_id, "name": "张三", "gender": g, "birth_date": b,
            "region_code": "510302001001", "household_id": household or f"H{person_id[-6:]}"}


def claim(claim_id: str, person_id: str, inst: str, visit: dt.date, *, visit_type: str = "outpatient",
          discharge: dt.date | None = None, settle: dt.date | None = None, diagnosis: str | None = "J06.9",
          total: float = 100.0, fund: float = 70.0) -> dict:
    return {"claim_id": claim_id, "person_id": person_id, "institution_id": inst,
            "doctor_id": "DR1", "visit_type": visit_type, "visit_date": visit,
            "discharge_date": discharge, "settle_date": settle or discharge or visit,
            "diagnosis_code": diagnosis, "total_amount": total, "fund_amount": fund,
            "self_amount": round(total - fund, 2)}


def item(claim_id: str, line_no: int, code: str, qty: float, price: float, day: dt.date,
         category: str = "drug", name: str | None = None) -> dict:
    return {"claim_id": claim_id, "line_no": line_no, "item_code": code, "item_name": name or f"项目{code}",
            "category": category, "quantity": qty, "unit_price": price, "amount": round(qty * price, 2),
            "service_date": day}


def catalog_row(code: str, category: str = "drug", *, gender_limit=None, min_age=None, max_age=None,
                max_qty=None, price_cap=None, name: str | None = None) -> dict:
    return {"item_code": code, "item_name": name or f"项目{code}", "category": category,
            "gender_limit": gender_limit, "min_age": min_age, "max_age": max_age,
            "max_qty_per_day": max_qty, "price_cap": price_cap}


INSTITUTIONS = [
    {"institution_id": "H1", "name": "第一人民医院", "kind": "hospital", "level": 3,
     "region_code": "510302000000", "beds": 800},
    {"institution_id": "H2", "name": "第二人民医院", "kind": "hospital", "level": 2,
     "region_code": "510303000000", "beds": 300},
    {"institution_id": "C1", "name": "城东诊所", "kind": "clinic", "level": 0,
     "region_code": "510302001000", "beds": 0},
    {"institution_id": "P1", "name": "惠民大药房", "kind": "pharmacy", "level": 0,
     "region_code": "510302002000", "beds": 0},
    {"institution_id": "P2", "name": "城西药店", "kind": "pharmacy", "level": 0,
     "region_code": "510302003000", "beds": 0},
]


def datasets(*, persons=(), deaths=(), catalog=(), claims=(), items=()) -> dict[str, pl.DataFrame]:
    return {
        "persons": frame("persons", list(persons)),
        "deaths": frame("deaths", list(deaths)),
        "institutions": frame("institutions", INSTITUTIONS),
        "item_catalog": frame("item_catalog", list(catalog)),
        "claims": frame("claims", list(claims)),
        "claim_items": frame("claim_items", list(items)),
    }


def by_entity(findings: pl.DataFrame) -> dict[str, dict]:
    return {r["entity_id"]: r for r in findings.iter_rows(named=True)}
