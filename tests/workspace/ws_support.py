"""Helpers of the workspace tests (a module of its own, not conftest: two test folders
have a conftest.py, and ``from conftest import`` would find whichever was imported first)."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager

import polars as pl
import sqlalchemy as sa

from fundwatch.contract import LEADS_SCHEMA
from fundwatch.store import LeadStore
from fundwatch.workspace.auth import add_user


PG_URLS = ("postgresql+psycopg://postgres@127.0.0.1:5432/test", "postgresql+psycopg://root@127.0.0.1:5432/test")
PASSWORD = "correct horse 42"
ROLES = ("reviewer", "leader", "auditor", "admin")
#: Hostile text: markup, quotes, a formula, SQL.
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FORMULA = '=cmd|" /C calc"!A0'
SQLI = "x' OR '1'='1'; DROP TABLE lead_history; --"
PERSON = "110105194912310011"
HOSTILE_NAME = '张"<b>三</b>'


def _pg_url() -> str | None:
    for url in PG_URLS:
        try:
            eng = sa.create_engine(url, connect_args={"connect_timeout": 3})
            with eng.connect() as c:
                c.execute(sa.text("select 1"))
            eng.dispose()
            return url
        except Exception:
            continue
    return None


PG = _pg_url()


def make_leads(n: int = 6) -> pl.DataFrame:
    rows = []
    for i in range(n):
        pid = PERSON[:-2] + f"{i:02d}"
        rows.append({
            "lead_id": f"FW-{i:016x}", "rank": i + 1, "score": 0.9 - i / 20, "severity": ("high", "medium", "low")[i % 3],
            "domain": "subsidy" if i % 2 == 0 else "medical", "entity_type": "person", "entity_id": pid,
            "rule_codes": ["DECEASED_PAYEE"] if i % 2 == 0 else ["CLAIM_AFTER_DEATH"],
            "title": (f"死亡人员仍领取补贴:{pid} {XSS}" if i == 0 else f"死亡人员仍领取补贴:{pid} 共 2 笔"),
            "amount_at_risk": 1000.0 * (n - i), "period_start": "2025-01", "period_end": "2025-03",
            "region_code": "110105001001" if i < 3 else "110106002001",
            "record_ids": [f"D{i}a", f"D{i}b"],
            "explanation": f"{HOSTILE_NAME if i == 0 else '李四'}({pid})已于 2024-12 死亡,仍领取 2 笔。{FORMULA}",
        })
    return pl.DataFrame(rows, schema=LEADS_SCHEMA)


def make_evidence(leads: pl.DataFrame) -> pl.DataFrame:
    ev = leads.select("lead_id", "entity_id", "record_ids").explode("record_ids").rename({"record_ids": "record_id", "entity_id": "person_id"})
    return ev.with_columns(
        pl.lit("disbursement").alias("record_type"), pl.date(2025, 1, 5).alias("date"),
        pl.when(pl.col("lead_id") == "FW-0000000000000000").then(pl.lit(HOSTILE_NAME)).otherwise(pl.lit("李四")).alias("name"),
        pl.lit(FORMULA).alias("counterparty"), pl.lit(500.0).alias("amount"), pl.lit(f"所属期 2025-01 {XSS}").alias("description"),
    )


def peer_findings(leads: pl.DataFrame) -> pl.DataFrame:
    details = json.dumps({"peer_group": "care_level|level-1", "features": [
        {"name": "amount", "label_zh": "月均发放金额", "label_en": "monthly amount", "value": 900.0, "peer_median": 300.0,
         "peer_values": [250.0, 280.0, 300.0, 320.0, 310.0], "contribution": 0.8}]}, ensure_ascii=False)
    first = leads.head(1)
    return pl.DataFrame({
        "entity_type": first["entity_type"], "entity_id": first["entity_id"], "rule_code": ["DECEASED_PAYEE"], "details": [details],
    })


def seed(backend, n: int = 6) -> LeadStore:
    url, schema = backend
    st = LeadStore(url, schema=schema)
    prev = make_leads(n - 1)
    st.write_run({"run_id": "run-1", "started_at": "2025-03-01T00:00:00", "validation": {"failed_expectations": 1}},
                 prev, make_evidence(prev), pl.DataFrame({"dataset": ["disbursements"], "rows_read": [100], "rows_accepted": [98], "rows_quarantined": [2]}))
    leads = make_leads(n)
    st.write_run({"run_id": "run-2", "started_at": "2025-04-01T00:00:00"}, leads, make_evidence(leads),
                 pl.DataFrame({"dataset": ["disbursements"], "rows_read": [120], "rows_accepted": [120], "rows_quarantined": [0]}),
                 findings=peer_findings(leads))
    for role in ROLES:
        add_user(st, role, role, PASSWORD, created_by="test")
    add_user(st, "reviewer2", "reviewer", PASSWORD, created_by="test")
    return st


@contextmanager
def sql_statements(engine: sa.Engine):
    """The SQL statements ``engine`` sends to the database inside the block (a list)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has no CSRF token"
    return m.group(1)


class Client:
    """A Flask test client signed in as one user, posting with the page's CSRF token."""

    def __init__(self, app, name: str | None):
        self.c = app.test_client()
        self.name = name
        if name:
            r = self.c.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": self.token("/login")})
            assert r.status_code == 302, r.text

    def token(self, path: str = "/login") -> str:
        return csrf_of(self.c.get(path).text)

    def get(self, path, **kw):
        return self.c.get(path, **kw)

    def post(self, path, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.token("/queue" if self.name else "/login")
        return self.c.post(path, data=data, **kw)
