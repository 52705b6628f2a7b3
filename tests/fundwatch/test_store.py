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
            "amount_involved": amount * (i + 2), "region_name": "东城村", "related_lead_ids": [f"FW-{(i + 1) % n:016x}"],
            "record_amounts": [amount * (i + 1), 0.1] + ([0.0] if extra_record else []),
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
    row = st.set_disposition(lid, "已排除", "核实为正常", actor="cli:tester")
    assert row["status"] == "dismissed" and row["n_records_at_decision"] == 3  # from the latest run
    assert row["amount_at_decision"] == pytest.approx(400.1)
    st.set_disposition(lid, "confirmed", None)  # a new decision: a new history row, the case follows
    d = st.dispositions()
    assert d.height == 1 and d["status"].item() == "confirmed" and d["note"].item() is None
    st.set_disposition(lid, "open")  # clearing re-opens the lead
    assert st.dispositions()["status"].to_list() == ["reopened"]
    hist = st.history(lid)
    assert [(h["from_status"], h["to_status"]) for h in hist] == [("new", "dismissed"), ("dismissed", "confirmed"), ("confirmed", "reopened")]
    assert hist[0]["actor"] == "cli:tester" and hist[0]["note"] == "核实为正常" and hist[0]["run_id"] == "r2"
    assert [h["version"] for h in hist] == [1, 2, 3]
    with pytest.raises(InputError, match="unknown lead id"):
        st.set_disposition("FW-nope", "confirmed")
    with pytest.raises(InputError, match="unknown disposition status"):
        st.set_disposition(lid, "maybe")
    assert len(st.history(lid)) == 3  # refused decisions leave no trace
    st.close()


def test_every_lead_gets_a_case_and_a_dismissed_lead_whose_money_grows_is_reopened(backend):
    st = open_store(backend)
    st.write_run({"run_id": "r1"}, make_leads(2), None, None)
    a, b = "FW-0000000000000000", "FW-0000000000000001"
    assert st.case(a)["status"] == "new" and st.case(a)["first_run_id"] == "r1"
    st.set_disposition(a, "dismissed", "正常")
    st.set_disposition(b, "dismissed", "正常")
    # a second run: a's money grows by a rounding error only, b's by 100 yuan
    leads = make_leads(2).with_columns(
        pl.when(pl.col("lead_id") == a).then(pl.col("amount_at_risk") + 0.004).otherwise(pl.col("amount_at_risk") + 100).alias("amount_at_risk")
    )
    st.write_run({"run_id": "r2"}, leads, None, None)
    assert st.case(a)["status"] == "dismissed" and st.case(a)["last_run_id"] == "r2"
    cb = st.case(b)
    assert cb["status"] == "reopened" and "证据增加" in cb["note"]
    last = st.history(b)[-1]
    assert last["actor"] == "fundwatch-scan" and last["from_status"] == "dismissed" and last["run_id"] == "r2"
    st.close()


def test_history_and_access_log_are_append_only_in_the_database(backend):
    st = open_store(backend)
    st.write_run({"run_id": "r1"}, make_leads(1), None, None)
    st.set_disposition("FW-0000000000000000", "confirmed", "属实")
    st.log_access("boss", "reveal", "FW-0000000000000000")
    h, a = st._tbl("lead_history"), st._tbl("access_log")
    for stmt in (sa.update(h).values(note="changed"), sa.delete(h), sa.update(a).values(actor="x"), sa.delete(a)):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with st.engine.begin() as c:
                c.execute(stmt)
    if not st.is_sqlite:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with st.engine.begin() as c:
                c.exec_driver_sql(f"TRUNCATE {backend[1]}.lead_history")
    assert st.history()[0]["note"] == "属实" and len(st.access_log()) == 1
    st.close()


def test_two_reviewers_deciding_one_lead_at_once_the_second_is_told(backend):
    from fundwatch.store import StaleCaseError

    st = open_store(backend)
    st.write_run({"run_id": "r1"}, make_leads(1), None, None)
    lid = "FW-0000000000000000"
    seen = st.case(lid)["version"]
    results, barrier = [], threading.Barrier(2)

    def decide(who, status):
        with open_store(backend) as s:
            barrier.wait()
            try:
                s.decide(lid, status, actor=who, note=f"{who} decides", expected_version=seen)
                results.append((who, "ok"))
            except StaleCaseError as e:
                results.append((who, str(e)))

    threads = [threading.Thread(target=decide, args=(w, s)) for w, s in (("alice", "confirmed"), ("bob", "dismissed"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    oks = [w for w, r in results if r == "ok"]
    assert len(oks) == 1 and len(results) == 2
    loser_msg = next(r for w, r in results if r != "ok")
    assert "changed by " + oks[0] in loser_msg and "nothing was saved" in loser_msg
    hist = st.history(lid)
    assert len(hist) == 1 and hist[0]["actor"] == oks[0]  # nothing lost, nothing doubled
    st.close()


def test_schema_is_defined_once_migrations_match_the_metadata(backend):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    st = open_store(backend)
    with st.engine.connect() as c:
        ctx = MigrationContext.configure(c, opts={"include_schemas": bool(st.schema), "version_table_schema": st.schema,
                                                  "include_name": lambda name, type_, parent: type_ != "schema" or name == st.schema})
        diff = [d for d in compare_metadata(ctx, st.md) if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")]
    assert diff == []
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


V1_DDL = [
    "CREATE TABLE {p}schema_version (version INTEGER PRIMARY KEY, applied_at VARCHAR(40))",
    "INSERT INTO {p}schema_version VALUES (1, '2025-01-01T00:00:00')",
    "CREATE TABLE {p}dispositions (lead_id VARCHAR(80) PRIMARY KEY, status VARCHAR(20) NOT NULL, note TEXT, "
    "decided_at VARCHAR(40), amount_at_decision FLOAT, n_records_at_decision INTEGER)",
    "INSERT INTO {p}dispositions VALUES ('FW-0000000000000001', 'dismissed', '监护人代领', '2025-02-03T04:05:06', 200.1, 2)",
    "INSERT INTO {p}dispositions VALUES ('FW-0000000000000002', 'confirmed', NULL, '2025-02-04T00:00:00', 300.1, 2)",
]


def test_a_version_1_store_upgrades_in_place_keeping_runs_leads_and_dispositions(backend, monkeypatch):
    # a store as fundwatch 0.1 wrote it: v1 tables, a run, evidence, two dispositions
    url, schema = backend
    monkeypatch.setattr(store_mod.LeadStore, "migrate", lambda self: None)
    st = open_store(backend)
    md = sa.MetaData(schema=schema)
    from importlib import import_module

    import_module("fundwatch.migrations.versions.0001_base")._v1(md)
    md.tables[f"{schema}.dispositions" if schema else "dispositions"].drop(st.engine, checkfirst=True)
    with st.engine.begin() as c:
        if schema:
            c.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        md.create_all(c, tables=[t for n, t in md.tables.items() if not n.endswith(("dispositions", "schema_version"))])
        for ddl in V1_DDL:
            c.exec_driver_sql(ddl.format(p=f"{schema}." if schema else ""))
        leads = make_leads()
        c.execute(sa.insert(md.tables[f"{schema}.runs" if schema else "runs"]), [{"run_id": "v1run", "started_at": "2025-01-01"}])
        rows = store_mod._lead_rows("v1run", leads)
        c.execute(sa.insert(md.tables[f"{schema}.leads" if schema else "leads"]), rows)
        c.execute(sa.insert(md.tables[f"{schema}.evidence" if schema else "evidence"]), store_mod._evidence_rows("v1run", make_evidence(leads)))
    st.close()
    monkeypatch.undo()
    st = open_store(backend, migrate=False)
    assert st.schema_version() == 1
    assert st.migrate() == SCHEMA_VERSION
    assert st.runs()["run_id"].to_list() == ["v1run"]
    back = st.leads("v1run")
    v3 = ("amount_involved", "region_name", "related_lead_ids", "record_amounts")  # revision 0003
    old_cols = [c for c in LEADS_SCHEMA if c not in v3]
    assert back.select(old_cols).equals(leads.select(old_cols))
    # leads stored before revision 0003: no place name, no links, involved = at risk
    assert back["region_name"].to_list() == [""] * 3 and back["related_lead_ids"].to_list() == [[]] * 3
    assert back["record_amounts"].to_list() == [[]] * 3
    assert back["amount_involved"].to_list() == back["amount_at_risk"].to_list()
    assert st.evidence("v1run").height == 6
    d = st.dispositions()
    assert dict(zip(d["lead_id"], d["status"])) == {"FW-0000000000000001": "dismissed", "FW-0000000000000002": "confirmed"}
    h = st.history("FW-0000000000000001")
    assert len(h) == 1 and h[0]["note"] == "监护人代领" and h[0]["at"] == "2025-02-03T04:05:06" and h[0]["amount_at_risk"] == 200.1
    assert st.case("FW-0000000000000000")["status"] == "new"  # every stored lead got its case
    with st.engine.connect() as c:
        assert not sa.inspect(c).has_table("dispositions", schema=schema)
    # searchable at once: the evidence's identity number and name are terms of the leads
    with st.engine.connect() as c:
        t = st._tbl("lead_terms")
        assert c.execute(sa.select(sa.func.count()).select_from(t).where(t.c.term == "张三")).scalar() == 3
        # revision 0004: each lead about a person has that person as its subject
        subjects = c.execute(sa.select(t.c.lead_id, t.c.term).where(t.c.kind == "subject").order_by(t.c.lead_id)).all()
        assert [tuple(r) for r in subjects] == list(zip(leads["lead_id"], leads["entity_id"]))
    st.close()
    open_store(backend).close()  # at the newest version: opening again migrates nothing


def test_a_store_from_a_newer_fundwatch_is_refused(backend):
    st = open_store(backend)
    with st.engine.begin() as c:
        t = sa.Table("alembic_version", sa.MetaData(schema=st.schema), autoload_with=c)
        c.execute(sa.update(t).values(version_num="0099"))
    st.close()
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


def test_decisions_by_rule_feed_the_rule_priors(backend):
    """Confirmed and dismissed cases come back with the rule codes of their latest stored row."""
    from fundwatch.scoring import decision_counts

    st = open_store(backend)
    first = make_leads(3)
    st.write_run({"run_id": "r1"}, first, None, None)
    later = first.with_columns(pl.when(pl.col("rank") == 1).then(pl.lit(["DECEASED_PAYEE"])).otherwise(pl.col("rule_codes")).alias("rule_codes"))
    st.write_run({"run_id": "r2"}, later, None, None)
    st.decide("FW-0000000000000000", "confirmed", actor="a", source="cli")
    st.decide("FW-0000000000000001", "dismissed", actor="a", source="cli")
    st.decide("FW-0000000000000002", "in_review", actor="a", source="cli")
    d = st.decisions_by_rule()
    assert d["lead_id"].to_list() == ["FW-0000000000000000", "FW-0000000000000001"]
    assert d["rule_codes"].to_list() == [["DECEASED_PAYEE"], ["DECEASED_PAYEE", "X"]]  # the latest run's codes
    counts = {r["rule_code"]: (r["n_confirmed"], r["n_dismissed"]) for r in decision_counts(d).iter_rows(named=True)}
    assert counts == {"DECEASED_PAYEE": (1, 1), "X": (0, 1)}
    st.close()
