"""The lead store on SQLite and PostgreSQL: round trip, one transaction per run, migrations,
concurrent writers, dispositions."""

from __future__ import annotations

import sqlite3
import threading
import uuid

import polars as pl
import pytest
import sqlalchemy as sa

from fundwatch import store as store_mod
from fundwatch.contract import LEADS_SCHEMA
from fundwatch.errors import InputError, StoreBusyError
from fundwatch.settings import Settings, StoreSettings
from fundwatch.store import SCHEMA_VERSION, LeadStore

PG_URLS = ("postgresql+psycopg://postgres@127.0.0.1:5432/test", "postgresql+psycopg://root@127.0.0.1:5432/test")


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


_PG = _pg_url()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request, tmp_path):
    """(url, schema) of an empty store; PostgreSQL gets a unique schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'leads.sqlite'}", None
        return
    if _PG is None:
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432 (users postgres/root, database test)")
    schema = f"fw_test_{uuid.uuid4().hex[:12]}"
    yield _PG, schema
    eng = sa.create_engine(_PG)
    with eng.begin() as c:
        c.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
    eng.dispose()


def make_leads(n=3, amount=100.0, extra_record=False) -> pl.DataFrame:
    rows = []
    for i in range(n):
        recs = [f"D{i}a", f"D{i}b"] + ([f"D{i}c"] if extra_record else [])
        rows.append({
            "lead_id": f"FW-{i:016x}", "rank": i + 1, "score": 0.9 - i / 10, "severity": "high", "domain": "subsidy",
            "entity_type": "person", "entity_id": f"1101051949123100{i:02d}", "rule_codes": ["DECEASED_PAYEE", "X"],
            "title": f"死亡人员仍领取补贴 {i}", "amount_at_risk": amount * (i + 1) + 0.1, "period_start": "2025-01",
            "period_end": "2025-03", "region_code": "110105001001", "record_ids": recs, "explanation": "解释 'quoted'; drop table x",
        })
    return pl.DataFrame(rows, schema=LEADS_SCHEMA)


def make_evidence(leads: pl.DataFrame) -> pl.DataFrame:
    ev = leads.select("lead_id", "record_ids").explode("record_ids").rename({"record_ids": "record_id"})
    return ev.with_columns(
        pl.lit("disbursement").alias("record_type"), pl.date(2025, 1, 5).alias("date"), pl.lit("110105194912310011").alias("person_id"),
        pl.lit("张三").alias("name"), pl.lit("最低生活保障").alias("counterparty"), pl.lit(410.0).alias("amount"),
        pl.lit("所属期 2025-01").alias("description"),
    )


def open_store(backend, **kw) -> LeadStore:
    url, schema = backend
    return LeadStore(url, schema=schema, **kw)


def test_round_trip(backend):
    st = open_store(backend)
    assert st.schema_version() == SCHEMA_VERSION
    leads = make_leads()
    st.write_run({"run_id": "r1", "counts": {"disbursements": 9}, "unmask": True, "settings_hash": "abc",
                  "input_fingerprint": "f" * 64}, leads, make_evidence(leads),
                 pl.DataFrame({"dataset": ["disbursements"], "rows_read": [10], "rows_accepted": [9], "rows_quarantined": [1]}))
    assert st.previous_leads().equals(leads)
    assert st.previous_leads(exclude_run_id="r1").height == 0
    runs = st.runs()
    assert runs["run_id"].to_list() == ["r1"] and runs["n_leads"].item() == 3 and runs["unmask"].item() is True
    assert '"disbursements": 9' in runs["counts_json"].item()
    ev = st.evidence("r1")
    assert ev.height == 6 and ev["date"].to_list()[0] == "2025-01-05"
    assert st.quarantine_summary()["rows_quarantined"].to_list() == [1]
    # a second run becomes the latest; reopening the store keeps everything
    st.write_run({"run_id": "r2"}, leads.head(1), None, None)
    st.close()
    st2 = open_store(backend)
    assert st2.previous_leads().height == 1 and st2.leads("r1").height == 3
    assert st2.runs()["run_id"].to_list() == ["r1", "r2"]
    with pytest.raises(InputError, match="already"):
        st2.write_run({"run_id": "r2"}, leads, None, None)
    st2.close()


def test_failure_mid_write_leaves_no_half_run(backend):
    st = open_store(backend)
    leads = make_leads()
    st.write_run({"run_id": "good"}, leads, None, None)
    ev = make_evidence(leads)
    bad = pl.concat([ev, ev.head(1)])  # duplicate (lead, record): fails after runs + leads were inserted
    with pytest.raises(sa.exc.IntegrityError):
        st.write_run({"run_id": "bad"}, leads, bad, None)
    assert st.runs()["run_id"].to_list() == ["good"]
    assert st.leads("bad").height == 0 and st.evidence("bad").height == 0
    st.close()


def test_dispositions_round_trip(backend):
    st = open_store(backend)
    st.write_run({"run_id": "r1"}, make_leads(), None, None)
    st.write_run({"run_id": "r2"}, make_leads(amount=200.0, extra_record=True), None, None)
    lid = "FW-0000000000000001"
    row = st.set_disposition(lid, "已排除", "核实为正常")
    assert row["status"] == "dismissed" and row["n_records_at_decision"] == 3  # from the latest run
    assert row["amount_at_decision"] == pytest.approx(400.1)
    st.set_disposition(lid, "confirmed", None)  # a new decision replaces the old
    d = st.dispositions()
    assert d.height == 1 and d["status"].item() == "confirmed" and d["note"].item() is None
    st.set_disposition(lid, "open")
    assert st.dispositions().height == 0
    with pytest.raises(InputError, match="unknown lead id"):
        st.set_disposition("FW-nope", "confirmed")
    with pytest.raises(InputError, match="unknown disposition status"):
        st.set_disposition(lid, "maybe")
    st.close()


OLD_DDL = [
    "CREATE TABLE {p}runs (seq {serial} PRIMARY KEY, run_id VARCHAR(100) NOT NULL UNIQUE, started_at VARCHAR(40))",
    "CREATE TABLE {p}leads (run_id VARCHAR(100), lead_id VARCHAR(80), rank INTEGER, title TEXT, PRIMARY KEY (run_id, lead_id))",
    "INSERT INTO {p}runs (run_id, started_at) VALUES ('old', '2024-01-01T00:00:00')",
    "INSERT INTO {p}leads (run_id, lead_id, rank, title) VALUES ('old', 'FW-old', 1, 'old lead')",
]


def _fake_old_store(backend):
    url, schema = backend
    eng = sa.create_engine(url)
    with eng.begin() as c:
        if schema:
            c.execute(sa.schema.CreateSchema(schema))
        for ddl in OLD_DDL:
            c.exec_driver_sql(ddl.format(p=f"{schema}." if schema else "", serial="SERIAL" if schema else "INTEGER"))
    eng.dispose()


def test_migrates_a_pre_versioning_store(backend):
    _fake_old_store(backend)
    st = open_store(backend, migrate=False)
    assert st.schema_version() == 0
    assert st.migrate() == SCHEMA_VERSION
    assert st.schema_version() == SCHEMA_VERSION
    old = st.leads("old")
    assert old["lead_id"].to_list() == ["FW-old"] and old["title"].to_list() == ["old lead"]
    st.write_run({"run_id": "new", "settings_hash": "h"}, make_leads(), None, None)  # new columns usable
    assert st.runs()["run_id"].to_list() == ["old", "new"]
    st.set_disposition("FW-old", "in_review")
    st.close()


def test_migration_chain_runs_each_step_once(backend, monkeypatch):
    st = open_store(backend)
    st.write_run({"run_id": "r1"}, make_leads(), None, None)
    st.close()
    calls = []

    def to_v2(conn, md):
        calls.append(2)

    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(store_mod.MIGRATIONS, SCHEMA_VERSION, to_v2)
    st = open_store(backend)
    assert st.schema_version() == SCHEMA_VERSION + 1 and calls == [2]
    open_store(backend).close()
    assert calls == [2]  # already at the new version: nothing runs again
    assert st.previous_leads().height == 3
    st.close()
    monkeypatch.undo()
    with pytest.raises(InputError, match="newer"):
        open_store(backend)


def test_concurrent_writers_both_complete(backend):
    errors = []

    def scan(i):
        try:
            with open_store(backend) as st:
                st.write_run({"run_id": f"run{i}"}, make_leads(20), make_evidence(make_leads(20)), None)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    open_store(backend).close()  # tables exist before the race
    threads = [threading.Thread(target=scan, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with open_store(backend) as st:
        assert sorted(st.runs()["run_id"].to_list()) == ["run0", "run1", "run2", "run3"]
        for i in range(4):
            assert st.leads(f"run{i}").height == 20 and st.evidence(f"run{i}").height == 40


def test_sqlite_busy_store_fails_fast_and_stays_intact(tmp_path):
    path = tmp_path / "leads.sqlite"
    settings = Settings(store=StoreSettings(busy_timeout_seconds=0.2))
    LeadStore(path, settings).write_run({"run_id": "r1"}, make_leads(), None, None)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another scan is writing
    try:
        st = LeadStore(path, settings)
        with pytest.raises(StoreBusyError, match="busy"):
            st.write_run({"run_id": "r2"}, make_leads(), None, None)
        assert st.runs()["run_id"].to_list() == ["r1"]  # readers are not blocked (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    st.write_run({"run_id": "r2"}, make_leads(), None, None)
    assert st.runs()["run_id"].to_list() == ["r1", "r2"]
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    st.close()


def test_bad_urls_are_input_errors(tmp_path):
    with pytest.raises(InputError):
        LeadStore("notadb://::")
    with pytest.raises(InputError, match="cannot connect"):
        LeadStore("postgresql+psycopg://nobody@127.0.0.1:1/none")
