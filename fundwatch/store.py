"""The lead store: every run's leads, their evidence, and the reviewers' dispositions.

SQLAlchemy 2.x Core, so the same code runs on

* a SQLite file (the default, ``sqlite:///OUT_DIR/leads.sqlite``; a bare path also works), in
  WAL mode with a busy timeout. Every write transaction starts with ``BEGIN IMMEDIATE``, so
  two scans writing at once are serialised: the second waits up to
  ``settings.store.busy_timeout_seconds`` and then fails fast with
  :class:`fundwatch.errors.StoreBusyError` — the store is never left half-written;
* PostgreSQL (``postgresql+psycopg://user@host:5432/db``), with ``lock_timeout`` for the same
  purpose; an optional ``schema`` keeps several stores in one database.

Tables (version :data:`SCHEMA_VERSION`)::

    schema_version     (version PK, applied_at)
    runs               (seq PK autoincrement, run_id UNIQUE, started_at, finished_at,
                        input_fingerprint, counts_json, unmask, settings_hash, n_leads, written_at)
    leads              (run_id, lead_id, rank, score, severity, domain, entity_type, entity_id,
                        rule_codes JSON, title, amount_at_risk, period_start, period_end,
                        region_code, record_ids JSON, explanation)       PK (run_id, lead_id)
    evidence           (run_id, lead_id, record_id, record_type, date, person_id, name,
                        counterparty, amount, description)               PK (run_id, lead_id, record_id)
    dispositions       (lead_id PK, status confirmed|dismissed|in_review, note, decided_at,
                        amount_at_decision, n_records_at_decision)
    quarantine_summary (run_id, dataset, rows_read, rows_accepted, rows_quarantined)
                                                                         PK (run_id, dataset)

A run is written in one transaction (:meth:`LeadStore.write_run`): a crash leaves no half run.
:meth:`LeadStore.migrate` upgrades older stores step by step (:data:`MIGRATIONS`); a store
written by a newer fundwatch is refused. Values always go through bound parameters;
identifiers in DDL come only from the table definitions below.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import event, exc

from .contract import LEADS_SCHEMA
from .errors import InputError, StoreBusyError
from .settings import DEFAULT_SETTINGS, Settings, StoreSettings

#: Version of the tables this code writes.
SCHEMA_VERSION = 1

#: Disposition statuses a reviewer can record.
DISPOSITION_STATUSES = ("confirmed", "dismissed", "in_review")
#: Accepted spellings (Chinese workbook labels and English codes) -> status code.
STATUS_ALIASES = {
    "confirmed": "confirmed",
    "已确认": "confirmed",
    "确认": "confirmed",
    "dismissed": "dismissed",
    "已排除": "dismissed",
    "排除": "dismissed",
    "in_review": "in_review",
    "in review": "in_review",
    "核查中": "in_review",
    "open": "open",
    "未处置": "open",
}
STATUS_LABELS_ZH = {"confirmed": "已确认", "dismissed": "已排除", "in_review": "核查中", "open": "未处置", "new": "新线索"}

DISPOSITIONS_SCHEMA = pl.Schema(
    {
        "lead_id": pl.String(),
        "status": pl.String(),
        "note": pl.String(),
        "decided_at": pl.String(),
        "amount_at_decision": pl.Float64(),
        "n_records_at_decision": pl.Int64(),
    }
)
RUNS_SCHEMA = pl.Schema(
    {
        "seq": pl.Int64(),
        "run_id": pl.String(),
        "started_at": pl.String(),
        "finished_at": pl.String(),
        "input_fingerprint": pl.String(),
        "counts_json": pl.String(),
        "unmask": pl.Boolean(),
        "settings_hash": pl.String(),
        "n_leads": pl.Int64(),
        "written_at": pl.String(),
    }
)
QUARANTINE_SUMMARY_SCHEMA = pl.Schema(
    {
        "run_id": pl.String(),
        "dataset": pl.String(),
        "rows_read": pl.Int64(),
        "rows_accepted": pl.Int64(),
        "rows_quarantined": pl.Int64(),
    }
)
STORE_EVIDENCE_SCHEMA = pl.Schema(
    {
        "run_id": pl.String(),
        "lead_id": pl.String(),
        "record_id": pl.String(),
        "record_type": pl.String(),
        "date": pl.String(),
        "person_id": pl.String(),
        "name": pl.String(),
        "counterparty": pl.String(),
        "amount": pl.Float64(),
        "description": pl.String(),
    }
)

_LIST_COLUMNS = ("rule_codes", "record_ids")
_CHUNK = 500  # ids per IN (...) query: below every backend's bound-parameter limit


def normalize_status(value: object) -> str:
    """A disposition status code from a code or a Chinese label; InputError otherwise."""
    key = str(value).strip().lower() if value is not None else ""
    if key in STATUS_ALIASES:
        return STATUS_ALIASES[key]
    raw = str(value).strip() if value is not None else ""
    if raw in STATUS_ALIASES:
        return STATUS_ALIASES[raw]
    raise InputError(
        f"unknown disposition status {value!r}: use confirmed/dismissed/in_review (已确认/已排除/核查中)"
    )


def default_url(out_dir: str | Path, settings: Settings | StoreSettings = DEFAULT_SETTINGS) -> str:
    """``sqlite:///OUT_DIR/leads.sqlite`` — the default store of a run."""
    s = settings if isinstance(settings, StoreSettings) else settings.store
    return "sqlite:///" + str((Path(out_dir) / s.default_filename).resolve())


def _metadata(schema: str | None) -> sa.MetaData:
    md = sa.MetaData(schema=schema)
    S, T, F, I = sa.String, sa.Text, sa.Float(precision=53), sa.Integer
    sa.Table("schema_version", md, sa.Column("version", I, primary_key=True, autoincrement=False), sa.Column("applied_at", S(40)))
    sa.Table(
        "runs",
        md,
        sa.Column("seq", I, primary_key=True, autoincrement=True),
        sa.Column("run_id", S(100), nullable=False, unique=True),
        sa.Column("started_at", S(40)),
        sa.Column("finished_at", S(40)),
        sa.Column("input_fingerprint", S(128)),
        sa.Column("counts_json", T),
        sa.Column("unmask", sa.Boolean),
        sa.Column("settings_hash", S(128)),
        sa.Column("n_leads", I),
        sa.Column("written_at", S(40)),
    )
    sa.Table(
        "leads",
        md,
        sa.Column("run_id", S(100), primary_key=True),
        sa.Column("lead_id", S(80), primary_key=True),
        sa.Column("rank", I),
        sa.Column("score", F),
        sa.Column("severity", S(10)),
        sa.Column("domain", S(20)),
        sa.Column("entity_type", S(20)),
        sa.Column("entity_id", S(200)),
        sa.Column("rule_codes", T),
        sa.Column("title", T),
        sa.Column("amount_at_risk", F),
        sa.Column("period_start", S(7)),
        sa.Column("period_end", S(7)),
        sa.Column("region_code", S(20)),
        sa.Column("record_ids", T),
        sa.Column("explanation", T),
        sa.Index("ix_leads_lead_id", "lead_id"),
    )
    sa.Table(
        "evidence",
        md,
        sa.Column("run_id", S(100), primary_key=True),
        sa.Column("lead_id", S(80), primary_key=True),
        sa.Column("record_id", S(200), primary_key=True),
        sa.Column("record_type", S(20)),
        sa.Column("date", S(10)),
        sa.Column("person_id", S(64)),
        sa.Column("name", S(200)),
        sa.Column("counterparty", S(400)),
        sa.Column("amount", F),
        sa.Column("description", T),
    )
    sa.Table(
        "dispositions",
        md,
        sa.Column("lead_id", S(80), primary_key=True),
        sa.Column("status", S(20), nullable=False),
        sa.Column("note", T),
        sa.Column("decided_at", S(40)),
        sa.Column("amount_at_decision", F),
        sa.Column("n_records_at_decision", I),
    )
    sa.Table(
        "quarantine_summary",
        md,
        sa.Column("run_id", S(100), primary_key=True),
        sa.Column("dataset", S(100), primary_key=True),
        sa.Column("rows_read", I),
        sa.Column("rows_accepted", I),
        sa.Column("rows_quarantined", I),
    )
    return md


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def _migrate_0_to_1(conn: sa.Connection, md: sa.MetaData) -> None:
    """Version 0 = a store from before versioning: tables may be missing or lack columns.

    Creates missing tables and adds missing (nullable) columns; existing rows are kept.
    """
    md.create_all(conn, checkfirst=True)
    insp = sa.inspect(conn)
    prep = conn.dialect.identifier_preparer
    for table in md.sorted_tables:
        have = {c["name"] for c in insp.get_columns(table.name, schema=table.schema)}
        for col in table.columns:
            if col.name in have:
                continue
            # identifiers come from our own table definitions, never from input
            conn.exec_driver_sql(
                f"ALTER TABLE {prep.format_table(table)} ADD COLUMN {prep.format_column(col)} "
                f"{col.type.compile(dialect=conn.dialect)}"
            )


#: ``MIGRATIONS[v]`` upgrades a store from version ``v`` to ``v + 1``.
MIGRATIONS: dict[int, Callable[[sa.Connection, sa.MetaData], None]] = {0: _migrate_0_to_1}


class LeadStore:
    """The lead store at ``url`` (SQLite file or PostgreSQL).

    Parameters
    ----------
    url : a SQLAlchemy URL (``sqlite:///path/leads.sqlite``, ``postgresql+psycopg://…``)
        or a plain file path (a SQLite file).
    settings : :class:`fundwatch.settings.Settings` or its ``store`` section.
    schema : PostgreSQL schema to keep the tables in (created if missing); ignored by SQLite.
    migrate : create or upgrade the tables on open (default True).

    Raises
    ------
    InputError : the URL is malformed, the server does not answer, or the store was
        written by a newer fundwatch.
    StoreBusyError : another run holds the store longer than the busy timeout.
    """

    def __init__(
        self,
        url: str | Path,
        settings: Settings | StoreSettings = DEFAULT_SETTINGS,
        *,
        schema: str | None = None,
        migrate: bool = True,
    ):
        self.settings = settings if isinstance(settings, StoreSettings) else settings.store
        url = str(url)
        if "://" not in url:
            url = "sqlite:///" + str(Path(url).resolve())
        try:
            self.url = sa.engine.make_url(url)
        except (exc.ArgumentError, ValueError) as e:
            raise InputError(f"lead store URL {url!r} is not a database URL: use sqlite:///path or postgresql+psycopg://…") from e
        self.display_url = self.url.render_as_string(hide_password=True)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.schema = None if self.is_sqlite else schema
        self.engine = self._create_engine()
        self.md = _metadata(self.schema)
        self.t = self.md.tables
        if migrate:
            self.migrate()

    # -- engine ---------------------------------------------------------------------------
    def _create_engine(self) -> sa.Engine:
        s = self.settings
        if self.is_sqlite:
            db = self.url.database
            if db and db != ":memory:" and not db.startswith("file:"):
                try:
                    Path(db).parent.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise InputError(f"cannot create the folder of the lead store {db}: {e.strerror}; choose a writable --store path") from e
            try:
                engine = sa.create_engine(self.url, connect_args={"timeout": s.busy_timeout_seconds})
            except Exception as e:  # missing driver, bad options
                raise InputError(f"cannot open the lead store {self.display_url}: {e}") from e
            busy_ms = int(s.busy_timeout_seconds * 1000)

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
                dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
                cur = dbapi_conn.cursor()
                cur.execute(f"PRAGMA busy_timeout = {busy_ms:d}")
                cur.execute("PRAGMA journal_mode = WAL")
                cur.execute("PRAGMA synchronous = NORMAL")
                cur.close()

            @event.listens_for(engine, "begin")
            def _on_begin(conn):  # pragma: no cover - exercised by every test
                # writers take the write lock up front: a second scan waits, then fails fast,
                # instead of failing half-way through its run
                immediate = conn.get_execution_options().get("fundwatch_write", False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

            return engine
        lock_ms = int(s.lock_timeout_seconds * 1000)
        try:
            return sa.create_engine(
                self.url,
                pool_pre_ping=True,
                connect_args={"options": f"-c lock_timeout={lock_ms:d}"},
            )
        except Exception as e:
            raise InputError(f"cannot open the lead store {self.display_url}: {e}") from e

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def __enter__(self) -> "LeadStore":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _busy(self, e: Exception) -> StoreBusyError:
        return StoreBusyError(
            f"the lead store {self.display_url} is busy: another fundwatch run is writing to it; "
            f"wait for that run to finish and run again (waited {self.settings.busy_timeout_seconds:g} s)"
        )

    @staticmethod
    def _is_busy(e: Exception) -> bool:
        text = str(getattr(e, "orig", e)).lower()
        return "database is locked" in text or "database is busy" in text or "lock timeout" in text or "locknotavailable" in type(getattr(e, "orig", e)).__name__.lower()

    def _write(self):
        """A connection whose transactions take the write lock at BEGIN."""
        return self.engine.connect().execution_options(fundwatch_write=True)

    def _run_write(self, fn: Callable[[sa.Connection], Any]) -> Any:
        try:
            with self._write() as conn:
                with conn.begin():
                    if not self.is_sqlite:
                        # serialise schema changes and disposition upserts between processes
                        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.bindparam("k", _lock_key(self.schema)))))
                    return fn(conn)
        except exc.OperationalError as e:
            if self._is_busy(e):
                raise self._busy(e) from e
            raise self._unreachable(e) from e

    def _read(self, fn: Callable[[sa.Connection], Any]) -> Any:
        try:
            with self.engine.connect() as conn:
                with conn.begin():
                    return fn(conn)
        except exc.OperationalError as e:
            if self._is_busy(e):
                raise self._busy(e) from e
            raise self._unreachable(e) from e

    def _unreachable(self, e: Exception) -> Exception:
        if isinstance(e, exc.OperationalError) and not self.is_sqlite and "connect" in str(e).lower():
            return InputError(f"cannot connect to the lead store {self.display_url}: check the server, user and database in the URL")
        return e

    # -- schema ---------------------------------------------------------------------------
    def schema_version(self) -> int | None:
        """The store's version: ``None`` for an empty database, 0 for a pre-versioning store."""
        return self._read(self._version)

    def _version(self, conn: sa.Connection) -> int | None:
        insp = sa.inspect(conn)
        if not insp.has_table("schema_version", schema=self.schema):
            return 0 if insp.has_table("runs", schema=self.schema) else None
        v = conn.execute(sa.select(sa.func.max(self.t[self._name("schema_version")].c.version))).scalar()
        return 0 if v is None else int(v)

    def _name(self, table: str) -> str:
        return f"{self.schema}.{table}" if self.schema else table

    def _tbl(self, table: str) -> sa.Table:
        return self.t[self._name(table)]

    def migrate(self) -> int:
        """Create the tables or upgrade them to :data:`SCHEMA_VERSION`; returns the version.

        Raises InputError when the store is newer than this fundwatch.
        """
        current = self._read(self._version)
        if current == SCHEMA_VERSION:
            return current
        self._check_not_newer(current)

        def upgrade(conn: sa.Connection) -> int:
            if self.schema:
                conn.execute(sa.schema.CreateSchema(self.schema, if_not_exists=True))
            v = self._version(conn)  # again, under the write lock
            self._check_not_newer(v)
            if v is None:
                self.md.create_all(conn, checkfirst=True)
                conn.execute(sa.insert(self._tbl("schema_version")), [{"version": SCHEMA_VERSION, "applied_at": _now()}])
                return SCHEMA_VERSION
            while v < SCHEMA_VERSION:
                MIGRATIONS[v](conn, self.md)
                v += 1
                conn.execute(sa.insert(self._tbl("schema_version")), [{"version": v, "applied_at": _now()}])
            return v

        return self._run_write(upgrade)

    def _check_not_newer(self, v: int | None) -> None:
        if v is not None and v > SCHEMA_VERSION:
            raise InputError(
                f"the lead store {self.display_url} has schema version {v}, newer than this fundwatch "
                f"understands ({SCHEMA_VERSION}): upgrade fundwatch or use another --store"
            )

    # -- writing a run ----------------------------------------------------------------------
    def write_run(
        self,
        run: Mapping[str, Any],
        leads: pl.DataFrame,
        evidence: pl.DataFrame | None = None,
        quarantine_summary: pl.DataFrame | Mapping[str, Any] | None = None,
    ) -> str:
        """Write one run — its row in ``runs``, its leads, evidence and quarantine counts — in ONE
        transaction, and return its ``run_id``.

        Parameters
        ----------
        run : ``run_id`` (required, unique), ``started_at``, ``finished_at`` (datetime or ISO
            text), ``input_fingerprint``, ``counts`` (JSON-able dict), ``unmask`` (bool),
            ``settings_hash``.
        leads : :data:`fundwatch.contract.LEADS_SCHEMA` rows.
        evidence : :func:`fundwatch.leads.evidence_table` rows, or None.
        quarantine_summary : a frame ``dataset, rows_read, rows_accepted, rows_quarantined`` or a
            mapping dataset -> object/dict with those fields (e.g. ``LoadResult.counts``).

        Raises
        ------
        StoreBusyError : another run held the store past the busy timeout (nothing written).
        InputError : the run id is already stored.
        """
        run_id = str(run.get("run_id") or "").strip()
        if not run_id:
            raise ValueError("write_run needs run['run_id']")
        lead_rows = _lead_rows(run_id, leads)
        ev_rows = _evidence_rows(run_id, evidence)
        q_rows = _quarantine_rows(run_id, quarantine_summary)
        run_row = {
            "run_id": run_id,
            "started_at": _iso(run.get("started_at")),
            "finished_at": _iso(run.get("finished_at")),
            "input_fingerprint": run.get("input_fingerprint"),
            "counts_json": json.dumps(run.get("counts") or {}, ensure_ascii=False, sort_keys=True, default=str),
            "unmask": bool(run.get("unmask", False)),
            "settings_hash": run.get("settings_hash"),
            "n_leads": len(lead_rows),
            "written_at": _now(),
        }
        batch = self.settings.insert_batch_rows

        def write(conn: sa.Connection) -> str:
            runs = self._tbl("runs")
            exists = conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == sa.bindparam("r", run_id))).first()
            if exists:
                raise InputError(f"run {run_id} is already in the lead store {self.display_url}: use a new run id")
            conn.execute(sa.insert(runs), [run_row])
            for table, rows in (("leads", lead_rows), ("evidence", ev_rows), ("quarantine_summary", q_rows)):
                for i in range(0, len(rows), batch):
                    conn.execute(sa.insert(self._tbl(table)), rows[i : i + batch])
            return run_id

        return self._run_write(write)

    # -- reading ----------------------------------------------------------------------------
    def runs(self) -> pl.DataFrame:
        """Every stored run, oldest first (:data:`RUNS_SCHEMA`)."""
        t = self._tbl("runs")
        rows = self._read(lambda c: c.execute(sa.select(*[t.c[n] for n in RUNS_SCHEMA]).order_by(t.c.seq)).all())
        return pl.DataFrame([tuple(r) for r in rows], schema=RUNS_SCHEMA, orient="row")

    def latest_run_id(self, exclude_run_id: str | None = None) -> str | None:
        """The run written last (optionally ignoring ``exclude_run_id``), or None."""
        t = self._tbl("runs")
        q = sa.select(t.c.run_id).order_by(t.c.seq.desc()).limit(1)
        if exclude_run_id is not None:
            q = q.where(t.c.run_id != sa.bindparam("x", exclude_run_id))
        return self._read(lambda c: c.execute(q).scalar())

    def leads(self, run_id: str | None = None) -> pl.DataFrame:
        """The leads of ``run_id`` (default the latest run), in rank order, LEADS_SCHEMA."""
        run_id = run_id or self.latest_run_id()
        if run_id is None:
            return pl.DataFrame(schema=LEADS_SCHEMA)
        t = self._tbl("leads")
        cols = list(LEADS_SCHEMA)
        rows = self._read(
            lambda c: c.execute(sa.select(*[t.c[n] for n in cols]).where(t.c.run_id == sa.bindparam("r", run_id)).order_by(t.c.rank)).all()
        )
        raw_schema = {c: (pl.String() if c in _LIST_COLUMNS else d) for c, d in LEADS_SCHEMA.items()}
        frame = pl.DataFrame([tuple(r) for r in rows], schema=raw_schema, orient="row")
        return frame.with_columns([pl.col(c).str.json_decode(pl.List(pl.String)) for c in _LIST_COLUMNS]).select(
            [pl.col(c).cast(d) for c, d in LEADS_SCHEMA.items()]
        )

    def previous_leads(self, exclude_run_id: str | None = None) -> pl.DataFrame:
        """The leads of the latest stored run (ignoring ``exclude_run_id``); empty when none."""
        run_id = self.latest_run_id(exclude_run_id)
        return self.leads(run_id) if run_id else pl.DataFrame(schema=LEADS_SCHEMA)

    def evidence(self, run_id: str | None = None, lead_id: str | None = None) -> pl.DataFrame:
        """Evidence rows of a run (default the latest), optionally of one lead."""
        run_id = run_id or self.latest_run_id()
        t = self._tbl("evidence")
        q = sa.select(*[t.c[n] for n in STORE_EVIDENCE_SCHEMA]).where(t.c.run_id == sa.bindparam("r", run_id))
        if lead_id is not None:
            q = q.where(t.c.lead_id == sa.bindparam("l", lead_id))
        rows = self._read(lambda c: c.execute(q.order_by(t.c.lead_id, t.c.record_id)).all()) if run_id else []
        return pl.DataFrame([tuple(r) for r in rows], schema=STORE_EVIDENCE_SCHEMA, orient="row")

    def quarantine_summary(self, run_id: str | None = None) -> pl.DataFrame:
        """Per-dataset row counts of a run (default the latest)."""
        run_id = run_id or self.latest_run_id()
        t = self._tbl("quarantine_summary")
        q = sa.select(*[t.c[n] for n in QUARANTINE_SUMMARY_SCHEMA]).where(t.c.run_id == sa.bindparam("r", run_id)).order_by(t.c.dataset)
        rows = self._read(lambda c: c.execute(q).all()) if run_id else []
        return pl.DataFrame([tuple(r) for r in rows], schema=QUARANTINE_SUMMARY_SCHEMA, orient="row")

    def dispositions(self) -> pl.DataFrame:
        """Every recorded decision (:data:`DISPOSITIONS_SCHEMA`), by lead id."""
        t = self._tbl("dispositions")
        rows = self._read(lambda c: c.execute(sa.select(*[t.c[n] for n in DISPOSITIONS_SCHEMA]).order_by(t.c.lead_id)).all())
        return pl.DataFrame([tuple(r) for r in rows], schema=DISPOSITIONS_SCHEMA, orient="row")

    # -- dispositions ---------------------------------------------------------------------
    def set_disposition(
        self, lead_id: str, status: str, note: str | None = None, decided_at: str | None = None
    ) -> dict[str, Any]:
        """Record a reviewer's decision on ``lead_id`` and return the stored row.

        ``status`` is ``confirmed``/``dismissed``/``in_review`` (or 已确认/已排除/核查中); ``open``
        (未处置) removes the decision. The lead's amount and number of records in the latest run
        that has it are kept with the decision, so a dismissed lead comes back when its
        evidence grows. Unknown ``lead_id`` -> InputError. Clearing returns ``status="open"``.
        """
        stored = self.set_dispositions([{"lead_id": lead_id, "status": status, "note": note, "decided_at": decided_at}])
        return stored[0] if stored else {"lead_id": lead_id, "status": "open"}

    def set_dispositions(self, decisions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Record several decisions in one transaction (all or nothing); see :meth:`set_disposition`."""
        items = []
        for d in decisions:
            lead_id = str(d.get("lead_id") or "").strip()
            if not lead_id:
                raise InputError("a disposition needs a lead id")
            note = d.get("note")
            items.append(
                {
                    "lead_id": lead_id,
                    "status": normalize_status(d.get("status")),
                    "note": None if note is None or str(note).strip() == "" else str(note),
                    "decided_at": _iso(d.get("decided_at")) or _now(),
                }
            )
        if not items:
            return []
        # the last decision on a lead wins, as if applied one after another
        by_id = {it["lead_id"]: it for it in items}
        ids = sorted(by_id)

        def write(conn: sa.Connection) -> list[dict[str, Any]]:
            leads, runs = self._tbl("leads"), self._tbl("runs")
            latest: dict[str, tuple[int, float, str]] = {}
            for i in range(0, len(ids), _CHUNK):
                q = (
                    sa.select(leads.c.lead_id, runs.c.seq, leads.c.amount_at_risk, leads.c.record_ids)
                    .join(runs, runs.c.run_id == leads.c.run_id)
                    .where(leads.c.lead_id.in_(sa.bindparam("ids", ids[i : i + _CHUNK], expanding=True)))
                )
                for lid, seq, amount, rec in conn.execute(q):
                    if lid not in latest or seq > latest[lid][0]:
                        latest[lid] = (seq, amount, rec)
            unknown = [i for i in ids if i not in latest]
            if unknown:
                shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
                raise InputError(f"unknown lead id(s) {shown} in the lead store {self.display_url}: check the id against leads.csv")
            disp = self._tbl("dispositions")
            stored = []
            for i in range(0, len(ids), _CHUNK):
                chunk = ids[i : i + _CHUNK]
                conn.execute(sa.delete(disp).where(disp.c.lead_id.in_(sa.bindparam("ids", chunk, expanding=True))))
                rows = []
                for lid in chunk:
                    it = by_id[lid]
                    if it["status"] == "open":
                        continue
                    _, amount, rec = latest[lid]
                    rows.append({**it, "amount_at_decision": amount, "n_records_at_decision": len(json.loads(rec or "[]"))})
                if rows:
                    conn.execute(sa.insert(disp), rows)
                stored.extend(rows)
            return stored

        return self._run_write(write)


def _lock_key(schema: str | None) -> int:
    # one advisory lock per store (schema) in a PostgreSQL database; crc32 is stable across runs
    return zlib.crc32(("fundwatch-store:" + (schema or "public")).encode()) & 0x7FFFFFFF


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def _lead_rows(run_id: str, leads: pl.DataFrame) -> list[dict[str, Any]]:
    missing = [c for c in LEADS_SCHEMA if c not in leads.columns]
    if missing:
        raise ValueError(f"leads lack column(s) {', '.join(missing)}")
    frame = leads.select([pl.col(c).cast(d) for c, d in LEADS_SCHEMA.items()])
    rows = frame.to_dicts()
    for r in rows:
        r["run_id"] = run_id
        for c in _LIST_COLUMNS:
            r[c] = json.dumps(r[c] or [], ensure_ascii=False)
    return rows


def _evidence_rows(run_id: str, evidence: pl.DataFrame | None) -> list[dict[str, Any]]:
    if evidence is None or evidence.height == 0:
        return []
    cols = [c for c in STORE_EVIDENCE_SCHEMA if c != "run_id"]
    frame = evidence.select(
        [
            (pl.col(c).cast(pl.String) if c in evidence.columns else pl.lit(None, pl.String)).alias(c)
            if c != "amount"
            else (pl.col(c).cast(pl.Float64) if c in evidence.columns else pl.lit(None, pl.Float64)).alias(c)
            for c in cols
        ]
    )
    return frame.with_columns(pl.lit(run_id).alias("run_id")).to_dicts()


def _quarantine_rows(run_id: str, summary: pl.DataFrame | Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if summary is None:
        return []
    fields = ("rows_read", "rows_accepted", "rows_quarantined")
    if isinstance(summary, pl.DataFrame):
        rows = summary.select("dataset", *fields).to_dicts()
    else:
        rows = []
        for name, c in summary.items():
            get = c.get if isinstance(c, Mapping) else lambda k, c=c: getattr(c, k, None)
            rows.append({"dataset": name, **{f: get(f) for f in fields}})
    return [{"run_id": run_id, **{k: (int(v) if k in fields and v is not None else v) for k, v in r.items()}} for r in rows]
