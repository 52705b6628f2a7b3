"""The lead store: every run's leads and evidence, each lead's case (status, assignee, amounts),
the append-only decision history (留痕), the workspace's users and its access log.

SQLAlchemy 2.x Core, so the same code runs on

* a SQLite file (the default, ``sqlite:///OUT_DIR/leads.sqlite``; a bare path also works), in
  WAL mode with a busy timeout. Every write transaction starts with ``BEGIN IMMEDIATE``, so
  two scans writing at once are serialised: the second waits up to
  ``settings.store.busy_timeout_seconds`` and then fails fast with
  :class:`fundwatch.errors.StoreBusyError` — the store is never left half-written;
* PostgreSQL (``postgresql+psycopg://user@host:5432/db``), with ``lock_timeout`` for the same
  purpose; an optional ``schema`` keeps several stores in one database.

The schema lives in one place: :func:`metadata` is the current shape of every table, and the
Alembic revisions shipped in :mod:`fundwatch.migrations` bring any older store to it (a test
compares the two). :meth:`LeadStore.migrate` runs them on open, inside the store's write lock;
a store written by a newer fundwatch is refused. Tables::

    runs          (seq PK, run_id UNIQUE, started_at, finished_at, input_fingerprint, counts_json,
                   unmask, settings_hash, n_leads, written_at, run_json)
    leads         (run_id, lead_id PK, rank, score, severity, domain, entity_type, entity_id,
                   rule_codes JSON, title, amount_at_risk, period_start, period_end, region_code,
                   record_ids JSON, explanation, details JSON, amount_involved, region_name,
                   related_lead_ids JSON, record_amounts JSON, + optional columns)
    evidence      (run_id, lead_id, record_id PK, record_type, date, person_id, name, counterparty,
                   amount, description)
    quarantine_summary (run_id, dataset PK, rows_read, rows_accepted, rows_quarantined)
    lead_cases    (lead_id PK, status, assignee, version, confirmed_amount, recovered_amount, note,
                   updated_at, updated_by, amount_at_decision, n_records_at_decision,
                   first_run_id, last_run_id)
    lead_history  (id PK, lead_id, at, actor, source, from_status, to_status, from_assignee,
                   to_assignee, note, confirmed_amount, recovered_amount, amount_at_risk,
                   n_records, run_id, version)                   append-only (database triggers)
    lead_terms    (lead_id, kind, term PK)                       the search index; kind ``subject``:
                                                                 the person/account a lead is about
    users, login_failures, access_log (append-only), app_secrets, schema_version

A run is written in one transaction (:meth:`LeadStore.write_run`): a crash leaves no half run.
A decision (:meth:`LeadStore.decide`) is one transaction too: the case row changes only when
its ``version`` is still the one the reviewer saw (else :class:`StaleCaseError`), and a
history row is appended beside it. Values always go through bound parameters; identifiers in
DDL come only from the table definitions.

Adding a lead column (e.g. ``amount_involved``) is one migration plus its name in
:data:`OPTIONAL_LEAD_COLUMNS`: :meth:`LeadStore.write_run` writes any such column present in the
leads frame and the workspace reads whichever of them the store has.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import secrets
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import event, exc

from .contract import LEADS_SCHEMA
from .errors import FundwatchError, InputError, StoreBusyError
from .settings import DEFAULT_SETTINGS, Settings, StoreSettings

#: Version of the tables this code writes (the number of the newest Alembic revision).
SCHEMA_VERSION = 4

#: Workflow states of a lead (its case), in the order a lead goes through them.
STATUSES = ("new", "assigned", "in_review", "confirmed", "dismissed", "handed_over", "closed", "reopened")
#: Statuses the CLI (``fundwatch review``) and the workbook import may record.
DISPOSITION_STATUSES = ("confirmed", "dismissed", "in_review")
#: Statuses past which only the workspace (a leader) may move a lead.
LOCKED_STATUSES = ("handed_over", "closed")
#: Accepted spellings (Chinese labels and English codes) -> status code. ``open`` (未处置)
#: clears a decision: the lead is re-opened.
STATUS_ALIASES = {
    "confirmed": "confirmed", "已确认": "confirmed", "确认": "confirmed",
    "dismissed": "dismissed", "已排除": "dismissed", "排除": "dismissed",
    "in_review": "in_review", "in review": "in_review", "核查中": "in_review",
    "open": "open", "未处置": "open", "待处理": "open",
    "new": "new", "新线索": "new",
    "assigned": "assigned", "已分派": "assigned",
    "handed_over": "handed_over", "已移交": "handed_over", "移交": "handed_over",
    "closed": "closed", "已办结": "closed", "办结": "closed",
    "reopened": "reopened", "重新提出": "reopened",
}
STATUS_LABELS_ZH = {
    "new": "新线索", "open": "待处理", "assigned": "已分派", "in_review": "核查中", "confirmed": "已确认",
    "dismissed": "已排除", "handed_over": "已移交", "closed": "已办结", "reopened": "重新提出",
}
#: Who recorded a history row when it was not a signed-in user.
SCAN_ACTOR = "fundwatch-scan"
#: Roles of the workspace's users.
ROLES = ("reviewer", "leader", "auditor", "admin")
#: Lead columns beyond the contract's that the store keeps when a run provides them (each
#: added by a migration). ``details``: the findings' peer comparisons, JSON.
OPTIONAL_LEAD_COLUMNS = ("details",)

DISPOSITIONS_SCHEMA = pl.Schema(
    {
        "lead_id": pl.String(),
        "status": pl.String(),
        "note": pl.String(),
        "decided_at": pl.String(),
        "amount_at_decision": pl.Float64(),
        "n_records_at_decision": pl.Int64(),
        "assignee": pl.String(),
        "confirmed_amount": pl.Float64(),
        "recovered_amount": pl.Float64(),
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

_LIST_COLUMNS = ("rule_codes", "record_ids", "related_lead_ids", "record_amounts")
_CHUNK = 500  # ids per IN (...) query: below every backend's bound-parameter limit
TERM_MAX = 200  # longest search term kept (lead_terms.term); longer text is cut


#: (store, connection) shared by every read of one block, see :meth:`LeadStore.reading`.
_READING: contextvars.ContextVar[tuple[Any, sa.Connection] | None] = contextvars.ContextVar("fundwatch_reading", default=None)


class StaleCaseError(FundwatchError):
    """Someone else changed the lead since the page was loaded; nothing was written."""


class WorkflowError(InputError):
    """The transition is not allowed from the lead's current status (or for this user)."""


def normalize_status(value: object) -> str:
    """A status code from a code or a Chinese label; InputError otherwise."""
    key = str(value).strip().lower() if value is not None else ""
    if key in STATUS_ALIASES:
        return STATUS_ALIASES[key]
    raw = str(value).strip() if value is not None else ""
    if raw in STATUS_ALIASES:
        return STATUS_ALIASES[raw]
    raise InputError(
        f"unknown disposition status {value!r}: use confirmed/dismissed/in_review (已确认/已排除/核查中)",
        zh=f"未知的处置状态 {value!r}:请填写 已确认/已排除/核查中",
    )


def regrowth(n_now: pl.Expr, amount_now: pl.Expr, n_at: pl.Expr, amount_at: pl.Expr, tolerance: float) -> pl.Expr:
    """True where a lead's evidence grew since a decision: more records, or more money than
    ``amount_at`` beyond ``tolerance`` (so rounding never re-raises a dismissed lead)."""
    return (n_now > n_at.fill_null(0)) | (amount_now > amount_at.fill_null(0.0) + tolerance)


def default_url(out_dir: str | Path, settings: Settings | StoreSettings = DEFAULT_SETTINGS) -> str:
    """``sqlite:///OUT_DIR/leads.sqlite`` — the default store of a run."""
    s = settings if isinstance(settings, StoreSettings) else settings.store
    return "sqlite:///" + str((Path(out_dir) / s.default_filename).resolve())


def _term_type(length: int) -> sa.types.TypeEngine:
    # byte-order collation on PostgreSQL so that a prefix search is a btree range scan
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def metadata(schema: str | None = None) -> sa.MetaData:
    """Every table of the store as the newest revision leaves it."""
    md = sa.MetaData(schema=schema)
    S, T, F, Int = sa.String, sa.Text, sa.Float(precision=53), sa.Integer
    sa.Table("schema_version", md, sa.Column("version", Int, primary_key=True, autoincrement=False), sa.Column("applied_at", S(40)))
    sa.Table(
        "runs", md,
        sa.Column("seq", Int, primary_key=True, autoincrement=True),
        sa.Column("run_id", S(100), nullable=False, unique=True),
        sa.Column("started_at", S(40)), sa.Column("finished_at", S(40)), sa.Column("input_fingerprint", S(128)),
        sa.Column("counts_json", T), sa.Column("unmask", sa.Boolean), sa.Column("settings_hash", S(128)),
        sa.Column("n_leads", Int), sa.Column("written_at", S(40)), sa.Column("run_json", T),
    )
    sa.Table(
        "leads", md,
        sa.Column("run_id", S(100), primary_key=True), sa.Column("lead_id", S(80), primary_key=True),
        sa.Column("rank", Int), sa.Column("score", F), sa.Column("severity", S(10)), sa.Column("domain", S(20)),
        sa.Column("entity_type", S(20)), sa.Column("entity_id", S(200)), sa.Column("rule_codes", T), sa.Column("title", T),
        sa.Column("amount_at_risk", F), sa.Column("period_start", S(7)), sa.Column("period_end", S(7)),
        sa.Column("region_code", S(20)), sa.Column("record_ids", T), sa.Column("explanation", T),
        sa.Column("details", T),
        # revision 0003 (contract v2): honest money, places, related leads
        sa.Column("amount_involved", F), sa.Column("region_name", T), sa.Column("related_lead_ids", T),
        sa.Column("record_amounts", T),
        sa.Index("ix_leads_lead_id", "lead_id"),
        sa.Index("ix_leads_run_rank", "run_id", "rank"),
        sa.Index("ix_leads_run_amount", "run_id", "amount_at_risk"),
        sa.Index("ix_leads_run_score", "run_id", "score"),
    )
    sa.Table(
        "evidence", md,
        sa.Column("run_id", S(100), primary_key=True), sa.Column("lead_id", S(80), primary_key=True),
        sa.Column("record_id", S(200), primary_key=True), sa.Column("record_type", S(20)), sa.Column("date", S(10)),
        sa.Column("person_id", S(64)), sa.Column("name", S(200)), sa.Column("counterparty", S(400)),
        sa.Column("amount", F), sa.Column("description", T),
    )
    sa.Table(
        "quarantine_summary", md,
        sa.Column("run_id", S(100), primary_key=True), sa.Column("dataset", S(100), primary_key=True),
        sa.Column("rows_read", Int), sa.Column("rows_accepted", Int), sa.Column("rows_quarantined", Int),
    )
    sa.Table(
        "lead_cases", md,
        sa.Column("lead_id", S(80), primary_key=True),
        sa.Column("status", S(20), nullable=False),
        sa.Column("assignee", S(100)),
        sa.Column("version", Int, nullable=False),
        sa.Column("confirmed_amount", F),
        sa.Column("recovered_amount", F),
        sa.Column("note", T),
        sa.Column("updated_at", S(40)),
        sa.Column("updated_by", S(100)),
        sa.Column("amount_at_decision", F),
        sa.Column("n_records_at_decision", Int),
        sa.Column("first_run_id", S(100)),
        sa.Column("last_run_id", S(100)),
        sa.Index("ix_lead_cases_status", "status"),
        sa.Index("ix_lead_cases_assignee", "assignee"),
        sa.Index("ix_lead_cases_first_run", "first_run_id"),
        sa.Index("ix_lead_cases_updated", "updated_at", "lead_id"),
    )
    sa.Table(
        "lead_history", md,
        sa.Column("id", Int, primary_key=True, autoincrement=True),
        sa.Column("lead_id", S(80), nullable=False),
        sa.Column("at", S(40), nullable=False),
        sa.Column("actor", S(100), nullable=False),
        sa.Column("source", S(20), nullable=False),
        sa.Column("from_status", S(20)),
        sa.Column("to_status", S(20), nullable=False),
        sa.Column("from_assignee", S(100)),
        sa.Column("to_assignee", S(100)),
        sa.Column("note", T),
        sa.Column("confirmed_amount", F),
        sa.Column("recovered_amount", F),
        sa.Column("amount_at_risk", F),
        sa.Column("n_records", Int),
        sa.Column("run_id", S(100)),
        sa.Column("version", Int),
        sa.Index("ix_lead_history_lead", "lead_id", "id"),
        sa.Index("ix_lead_history_at", "at"),
    )
    sa.Table(
        "lead_terms", md,
        sa.Column("lead_id", S(80), primary_key=True),
        sa.Column("kind", S(10), primary_key=True),
        sa.Column("term", _term_type(TERM_MAX), primary_key=True),
        sa.Index("ix_lead_terms_term", "term", "kind"),
    )
    sa.Table(
        "users", md,
        sa.Column("id", Int, primary_key=True, autoincrement=True),
        sa.Column("name", S(100), nullable=False, unique=True),
        sa.Column("role", S(20), nullable=False),
        sa.Column("password_hash", S(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("token", S(64), nullable=False),
        sa.Column("created_at", S(40)),
        sa.Column("created_by", S(100)),
        sa.Column("last_login_at", S(40)),
    )
    sa.Table(
        "login_failures", md,
        sa.Column("id", Int, primary_key=True, autoincrement=True),
        sa.Column("key", S(200), nullable=False),
        sa.Column("at", S(40), nullable=False),
        sa.Index("ix_login_failures_key", "key", "at"),
    )
    sa.Table(
        "access_log", md,
        sa.Column("id", Int, primary_key=True, autoincrement=True),
        sa.Column("at", S(40), nullable=False),
        sa.Column("actor", S(100)),
        sa.Column("action", S(30), nullable=False),
        sa.Column("lead_id", S(80)),
        sa.Column("detail", T),
        sa.Column("remote_addr", S(64)),
        sa.Index("ix_access_log_at", "at"),
    )
    sa.Table("app_secrets", md, sa.Column("name", S(50), primary_key=True), sa.Column("value", T, nullable=False))
    return md


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def now_iso() -> str:
    """The current UTC time as stored (ISO 8601, seconds)."""
    return _now()


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
            raise InputError(f"lead store URL {url!r} is not a database URL: use sqlite:///path or postgresql+psycopg://…",
                         zh=f"线索库地址 {url!r} 不是数据库地址:请使用 sqlite:///路径 或 postgresql+psycopg://…") from e
        self.display_url = self.url.render_as_string(hide_password=True)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.schema = None if self.is_sqlite else schema
        self.engine = self._create_engine()
        self.md = metadata(self.schema)
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
                    raise InputError(f"cannot create the folder of the lead store {db}: {e.strerror}; choose a writable --store path",
                             zh=f"无法创建线索库所在文件夹 {db}:{e.strerror};请用 --store 指定可写的路径") from e
            try:
                engine = sa.create_engine(self.url, connect_args={"timeout": s.busy_timeout_seconds})
            except Exception as e:  # missing driver, bad options
                raise InputError(f"cannot open the lead store {self.display_url}: {e}", zh=f"无法打开线索库 {self.display_url}:{e}") from e
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
            raise InputError(f"cannot open the lead store {self.display_url}: {e}", zh=f"无法打开线索库 {self.display_url}:{e}") from e

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

    def _run_write(self, fn: Callable[[sa.Connection], Any], serialise: bool = True) -> Any:
        """Run ``fn(conn)`` in one write transaction. ``serialise``: on PostgreSQL also take the
        store's advisory lock (runs, migrations, imports); decisions on single leads rely on
        their row's version instead, so a long scan write does not hold up the workspace."""
        try:
            with self._write() as conn:
                with conn.begin():
                    if serialise and not self.is_sqlite:
                        # serialise schema changes and disposition upserts between processes
                        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.bindparam("k", _lock_key(self.schema)))))
                    return fn(conn)
        except exc.OperationalError as e:
            if self._is_busy(e):
                raise self._busy(e) from e
            raise self._unreachable(e) from e

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Every read inside the block shares one connection (a web request: one pool checkout
        instead of one per query). On PostgreSQL it runs in autocommit, so each statement sees
        what is committed when it runs, as separate read transactions would; SQLite reads keep
        their own short transactions (in-process, and a long snapshot would hide new writes)."""
        if self.is_sqlite or _READING.get() is not None:
            yield
            return
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        token = _READING.set((self, conn))
        try:
            yield
        finally:
            _READING.reset(token)
            conn.close()

    def _read(self, fn: Callable[[sa.Connection], Any]) -> Any:
        shared = _READING.get()
        if shared is not None and shared[0] is self:
            try:
                return fn(shared[1])
            except exc.OperationalError as e:
                raise self._unreachable(e) from e
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
            return InputError(f"cannot connect to the lead store {self.display_url}: check the server, user and database in the URL",
                             zh=f"无法连接线索库 {self.display_url}:请检查地址中的服务器、用户和数据库")
        return e

    # -- schema ---------------------------------------------------------------------------
    def schema_version(self) -> int | None:
        """The store's version: ``None`` for an empty database, 0 for a pre-versioning store."""
        return self._read(self._version)

    def _version(self, conn: sa.Connection) -> int | None:
        from alembic.runtime.migration import MigrationContext

        insp = sa.inspect(conn)
        if insp.has_table("alembic_version", schema=self.schema):
            ctx = MigrationContext.configure(conn, opts={"version_table_schema": self.schema})
            rev = ctx.get_current_revision()
            return int(rev) if rev and rev.isdigit() else (None if rev is None else 10**6)
        if not insp.has_table("schema_version", schema=self.schema):
            return 0 if insp.has_table("runs", schema=self.schema) else None
        sv = sa.Table("schema_version", sa.MetaData(schema=self.schema), autoload_with=conn)
        v = conn.execute(sa.select(sa.func.max(sv.c.version))).scalar()
        return 0 if v is None else int(v)

    def _name(self, table: str) -> str:
        return f"{self.schema}.{table}" if self.schema else table

    def _tbl(self, table: str) -> sa.Table:
        return self.t[self._name(table)]

    def migrate(self) -> int:
        """Create the tables or upgrade them to :data:`SCHEMA_VERSION` (Alembic, under the
        store's write lock); returns the version.

        Raises InputError when the store is newer than this fundwatch.
        """
        current = self._read(self._version)
        if current == SCHEMA_VERSION:
            return current
        self._check_not_newer(current)

        def upgrade(conn: sa.Connection) -> int:
            from alembic import command
            from alembic.config import Config

            if self.schema:
                conn.execute(sa.schema.CreateSchema(self.schema, if_not_exists=True))
            self._check_not_newer(self._version(conn))  # again, under the write lock
            cfg = Config()
            cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
            cfg.attributes["connection"] = conn
            cfg.attributes["schema"] = self.schema
            cfg.attributes["store_settings"] = self.settings
            command.upgrade(cfg, "head")
            return self._version(conn)

        return self._run_write(upgrade)

    def _check_not_newer(self, v: int | None) -> None:
        if v is not None and v > SCHEMA_VERSION:
            raise InputError(
                f"the lead store {self.display_url} has schema version {v}, newer than this fundwatch "
                f"understands ({SCHEMA_VERSION}): upgrade fundwatch or use another --store",
                zh=f"线索库 {self.display_url} 的结构版本为 {v},高于本程序支持的版本({SCHEMA_VERSION}):"
                "请升级 fundwatch 或用 --store 指定其他线索库",
            )

    # -- writing a run ----------------------------------------------------------------------
    def write_run(
        self,
        run: Mapping[str, Any],
        leads: pl.DataFrame,
        evidence: pl.DataFrame | None = None,
        quarantine_summary: pl.DataFrame | Mapping[str, Any] | None = None,
        findings: pl.DataFrame | None = None,
    ) -> str:
        """Write one run — its row in ``runs``, its leads, evidence and quarantine counts, each
        lead's case and search terms — in ONE transaction, and return its ``run_id``.

        Parameters
        ----------
        run : ``run_id`` (required, unique), ``started_at``, ``finished_at`` (datetime or ISO
            text), ``input_fingerprint``, ``counts`` (JSON-able dict), ``unmask`` (bool),
            ``settings_hash``; the whole mapping is kept as the run's ``run_json`` (run.json
            holds no personal data).
        leads : :data:`fundwatch.contract.LEADS_SCHEMA` rows (plus any of
            :data:`OPTIONAL_LEAD_COLUMNS` the store has).
        evidence : :func:`fundwatch.leads.evidence_table` rows, or None.
        quarantine_summary : a frame ``dataset, rows_read, rows_accepted, rows_quarantined`` or a
            mapping dataset -> object/dict with those fields (e.g. ``LoadResult.counts``).
        findings : the run's findings, or None; their peer comparisons (``details`` with
            ``features``) are kept with the lead they belong to for the workspace's charts.

        A lead id seen for the first time gets a case in status ``new``. A ``dismissed`` lead
        whose evidence grew since the decision (:func:`regrowth`, tolerance
        ``settings.store.regrowth_tolerance_cny``) is re-opened, with a history row by
        :data:`SCAN_ACTOR` saying why.

        Raises
        ------
        StoreBusyError : another run held the store past the busy timeout (nothing written).
        InputError : the run id is already stored.
        """
        run_id = str(run.get("run_id") or "").strip()
        if not run_id:
            raise ValueError("write_run needs run['run_id']")
        if findings is not None and "details" not in leads.columns:
            leads = leads.join(_peer_details(leads, findings), on="lead_id", how="left")
        lead_columns = [c for c in self._tbl("leads").columns.keys() if c != "run_id"]
        lead_rows = _lead_rows(run_id, leads, lead_columns)
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
            "run_json": json.dumps(dict(run), ensure_ascii=False, sort_keys=True, default=str),
        }
        batch = self.settings.insert_batch_rows
        tol = self.settings.regrowth_tolerance_cny

        def write(conn: sa.Connection) -> str:
            runs = self._tbl("runs")
            exists = conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == sa.bindparam("r", run_id))).first()
            if exists:
                raise InputError(f"run {run_id} is already in the lead store {self.display_url}: use a new run id",
                                 zh=f"运行 {run_id} 已在线索库 {self.display_url} 中:请使用新的运行编号")
            conn.execute(sa.insert(runs), [run_row])
            for table, rows in (("leads", lead_rows), ("evidence", ev_rows), ("quarantine_summary", q_rows)):
                for i in range(0, len(rows), batch):
                    conn.execute(sa.insert(self._tbl(table)), rows[i : i + batch])
            _index_run(conn, self.t, self.schema, run_id, lead_rows, ev_rows, batch, tol)
            if not self.is_sqlite:
                # fresh planner statistics for the workspace's queries right after a scan
                # (autovacuum would get to it later); ANALYZE samples, so it stays cheap
                prep = conn.dialect.identifier_preparer
                for name in ("leads", "evidence", "lead_cases", "lead_terms"):
                    conn.exec_driver_sql(f"ANALYZE {prep.format_table(self._tbl(name))}")
            return run_id

        return self._run_write(write)

    @staticmethod
    def rebuild_cases_and_terms(conn: sa.Connection, schema: str | None) -> None:
        """Fill ``lead_cases`` and ``lead_terms`` from every stored run, oldest first (used by
        the migration that introduced them; idempotent)."""
        md = metadata(schema)
        t = md.tables
        name = (lambda x: f"{schema}.{x}") if schema else (lambda x: x)
        runs, leads, ev = t[name("runs")], t[name("leads")], t[name("evidence")]
        cols = [leads.c[c] for c in ("lead_id", "rank", "entity_type", "entity_id", "rule_codes", "record_ids", "amount_at_risk")]
        for (run_id,) in conn.execute(sa.select(runs.c.run_id).order_by(runs.c.seq)).all():
            lead_rows = [dict(r) for r in conn.execute(sa.select(*cols).where(leads.c.run_id == run_id)).mappings()]
            ev_rows = [
                dict(r)
                for r in conn.execute(
                    sa.select(ev.c.lead_id, ev.c.record_id, ev.c.person_id, ev.c.name).where(ev.c.run_id == run_id)
                ).mappings()
            ]
            _index_run(conn, t, schema, run_id, lead_rows, ev_rows, 5000, None)

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
        # leads stored before revision 0003 have null there: read back as empty lists / 0
        return frame.with_columns(
            [pl.col(c).str.json_decode(LEADS_SCHEMA[c]).fill_null(pl.lit([], dtype=LEADS_SCHEMA[c])) for c in _LIST_COLUMNS]
            + [pl.col("region_name").fill_null(""), pl.col("amount_involved").fill_null(pl.col("amount_at_risk"))]
        ).select([pl.col(c).cast(d) for c, d in LEADS_SCHEMA.items()])

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

    def decisions_by_rule(self) -> pl.DataFrame:
        """``lead_id, status, rule_codes`` of every lead whose case is ``confirmed`` or ``dismissed``.

        ``rule_codes`` are those of the lead's latest stored row (what the supervisor saw when
        deciding, or since). :func:`fundwatch.scoring.code_priors` learns each rule's hit rate
        from them.
        """
        c, leads, runs = self._tbl("lead_cases"), self._tbl("leads"), self._tbl("runs")
        latest = (
            sa.select(leads.c.lead_id, sa.func.max(runs.c.seq).label("seq"))
            .join(runs, runs.c.run_id == leads.c.run_id)
            .group_by(leads.c.lead_id)
            .subquery()
        )
        q = (
            sa.select(c.c.lead_id, c.c.status, leads.c.rule_codes)
            .join(latest, latest.c.lead_id == c.c.lead_id)
            .join(runs, runs.c.seq == latest.c.seq)
            .join(leads, (leads.c.run_id == runs.c.run_id) & (leads.c.lead_id == c.c.lead_id))
            .where(c.c.status.in_(["confirmed", "dismissed"]))
            .order_by(c.c.lead_id)
        )
        rows = self._read(lambda conn: conn.execute(q).all())
        frame = pl.DataFrame([tuple(r) for r in rows], schema={"lead_id": pl.String(), "status": pl.String(), "rule_codes": pl.String()}, orient="row")
        return frame.with_columns(pl.col("rule_codes").str.json_decode(pl.List(pl.String)).fill_null(pl.lit([], dtype=pl.List(pl.String))))

    def dispositions(self) -> pl.DataFrame:
        """Every lead with a decision (its case past ``new``), by lead id (:data:`DISPOSITIONS_SCHEMA`)."""
        c = self._tbl("lead_cases")
        q = sa.select(
            c.c.lead_id, c.c.status, c.c.note, c.c.updated_at, c.c.amount_at_decision, c.c.n_records_at_decision,
            c.c.assignee, c.c.confirmed_amount, c.c.recovered_amount,
        ).where(c.c.status != "new").order_by(c.c.lead_id)
        rows = self._read(lambda conn: conn.execute(q).all())
        return pl.DataFrame([tuple(r) for r in rows], schema=DISPOSITIONS_SCHEMA, orient="row")

    # -- cases and the decision history --------------------------------------------------
    def case(self, lead_id: str) -> dict[str, Any] | None:
        """The lead's case row, or None for an unknown lead id."""
        c = self._tbl("lead_cases")
        row = self._read(lambda conn: conn.execute(sa.select(c).where(c.c.lead_id == sa.bindparam("l", lead_id))).mappings().first())
        return dict(row) if row else None

    def history(self, lead_id: str | None = None, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """History rows (of one lead, or all), oldest first."""
        h = self._tbl("lead_history")
        q = sa.select(h).order_by(h.c.id)
        if lead_id is not None:
            q = q.where(h.c.lead_id == sa.bindparam("l", lead_id))
        if limit is not None:
            q = q.limit(limit).offset(offset)
        return [dict(r) for r in self._read(lambda conn: conn.execute(q).mappings().all())]

    def decide(
        self,
        lead_id: str,
        to_status: str,
        *,
        actor: str,
        source: str = "web",
        note: str | None = None,
        expected_version: int | None = None,
        assignee: str | None | type(...) = ...,
        confirmed_amount: float | None = None,
        recovered_amount: float | None = None,
        check: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Move one lead to ``to_status`` and append its history row, in one transaction.

        ``expected_version``: the case version the user saw; when someone changed the lead
        since, :class:`StaleCaseError` and nothing is written. ``check(case)`` may raise
        (e.g. :class:`WorkflowError`) to refuse the transition from the current state.
        ``assignee``: the new assignee (``...`` keeps the current one). Returns the new case.
        """
        items = [dict(lead_id=lead_id, to_status=to_status, note=note, expected_version=expected_version,
                      assignee=assignee, confirmed_amount=confirmed_amount, recovered_amount=recovered_amount, check=check)]
        return self.decide_many(items, actor=actor, source=source, serialise=False)[0]

    def decide_many(
        self, items: Iterable[Mapping[str, Any]], *, actor: str, source: str, serialise: bool = True
    ) -> list[dict[str, Any]]:
        """Several :meth:`decide` calls in one transaction: all recorded, or none."""
        items = [dict(it) for it in items]
        if not items:
            return []
        if not actor or not str(actor).strip():
            raise InputError("a decision needs the name of who made it", zh="处置记录须写明处置人")
        if any(it["to_status"] not in STATUSES for it in items):
            bad = next(it["to_status"] for it in items if it["to_status"] not in STATUSES)
            raise InputError(f"unknown status {bad!r}: use one of {', '.join(STATUSES)}", zh=f"未知的状态 {bad!r}:请使用 {'、'.join(STATUSES)} 之一")

        def write(conn: sa.Connection) -> list[dict[str, Any]]:
            cases, leads, runs, history = (self._tbl(n) for n in ("lead_cases", "leads", "runs", "lead_history"))
            ids = sorted({it["lead_id"] for it in items})
            current: dict[str, dict[str, Any]] = {}
            for i in range(0, len(ids), _CHUNK):
                q = sa.select(cases).where(cases.c.lead_id.in_(sa.bindparam("ids", ids[i : i + _CHUNK], expanding=True)))
                if not self.is_sqlite:
                    q = q.with_for_update()
                for r in conn.execute(q).mappings():
                    current[r["lead_id"]] = dict(r)
            unknown = [i for i in ids if i not in current]
            if unknown:
                shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
                raise InputError(f"unknown lead id(s) {shown} in the lead store {self.display_url}: check the id against leads.csv",
                                 zh=f"线索库 {self.display_url} 中没有线索编号 {shown}:请对照 leads.csv 核对编号")
            latest = _latest_lead_facts(conn, leads, runs, ids)
            now = _now()
            out = []
            for it in items:
                case = current[it["lead_id"]]
                if it.get("expected_version") is not None and int(it["expected_version"]) != case["version"]:
                    raise StaleCaseError(
                        f"lead {it['lead_id']} was changed by {case['updated_by'] or 'someone'} at {case['updated_at']} "
                        f"(version {case['version']}, you saw {it['expected_version']}); nothing was saved: reload and decide again"
                    )
                if it.get("check") is not None:
                    it["check"](case)
                amount, n_records, run_id = latest.get(it["lead_id"], (None, None, None))
                assignee = case["assignee"] if it.get("assignee", ...) is ... else it["assignee"]
                note = it.get("note")
                note = None if note is None or str(note).strip() == "" else str(note)
                values = {
                    "status": it["to_status"], "assignee": assignee, "version": case["version"] + 1, "note": note,
                    "updated_at": now, "updated_by": actor,
                }
                if it["to_status"] in ("confirmed", "dismissed", "in_review"):
                    values.update(amount_at_decision=amount, n_records_at_decision=n_records)
                if it.get("confirmed_amount") is not None:
                    values["confirmed_amount"] = float(it["confirmed_amount"])
                if it.get("recovered_amount") is not None:
                    values["recovered_amount"] = float(it["recovered_amount"])
                done = conn.execute(
                    sa.update(cases)
                    .where(cases.c.lead_id == sa.bindparam("l", it["lead_id"]), cases.c.version == sa.bindparam("v", case["version"]))
                    .values(**values)
                )
                if done.rowcount != 1:  # pragma: no cover - the row lock above makes this a safety net
                    raise StaleCaseError(f"lead {it['lead_id']} was changed at the same moment; nothing was saved: reload and decide again")
                conn.execute(sa.insert(history), [{
                    "lead_id": it["lead_id"], "at": now, "actor": actor, "source": source,
                    "from_status": case["status"], "to_status": it["to_status"],
                    "from_assignee": case["assignee"], "to_assignee": assignee, "note": note,
                    "confirmed_amount": it.get("confirmed_amount"), "recovered_amount": it.get("recovered_amount"),
                    "amount_at_risk": amount, "n_records": n_records, "run_id": run_id, "version": case["version"] + 1,
                }])
                case = {**case, **values}
                current[it["lead_id"]] = case
                out.append(case)
            return out

        return self._run_write(write, serialise=serialise)

    def set_disposition(
        self, lead_id: str, status: str, note: str | None = None, decided_at: str | None = None, *, actor: str = "cli", source: str = "cli"
    ) -> dict[str, Any]:
        """Record a reviewer's decision on ``lead_id`` (the CLI and workbook path) and return it.

        ``status`` is ``confirmed``/``dismissed``/``in_review`` (or 已确认/已排除/核查中); ``open``
        (未处置) re-opens the lead. A history row records ``actor``. A lead already handed over
        or closed cannot be changed this way (:class:`WorkflowError`). Unknown ``lead_id`` ->
        InputError. ``decided_at`` is ignored: the store records when it was recorded.
        """
        return self.set_dispositions([{"lead_id": lead_id, "status": status, "note": note}], actor=actor, source=source)[0]

    def set_dispositions(self, decisions: Iterable[Mapping[str, Any]], *, actor: str = "cli", source: str = "cli") -> list[dict[str, Any]]:
        """Record several decisions in one transaction (all or nothing); see :meth:`set_disposition`."""
        items = []
        for d in decisions:
            lead_id = str(d.get("lead_id") or "").strip()
            if not lead_id:
                raise InputError("a disposition needs a lead id", zh="处置记录须有线索编号")
            status = normalize_status(d.get("status"))
            if status not in DISPOSITION_STATUSES + ("open",):
                raise InputError(
                    f"lead {lead_id}: status {d.get('status')!r} is set in the workspace (fundwatch serve), "
                    "not here: use confirmed/dismissed/in_review (已确认/已排除/核查中)",
                    zh=f"线索 {lead_id}:状态 {d.get('status')!r} 只能在工作台(fundwatch serve)中设置:"
                    "此处请填写 已确认/已排除/核查中",
                )
            items.append({
                "lead_id": lead_id, "to_status": "reopened" if status == "open" else status,
                "note": d.get("note"), "check": _not_locked,
            })
        return self.decide_many(items, actor=actor, source=source)

    # -- users, login failures, access log, secrets -------------------------------------
    def add_user(self, name: str, role: str, password_hash: str, *, created_by: str | None = None) -> dict[str, Any]:
        """Create a user (InputError when the name is taken or the role unknown)."""
        name = str(name).strip()
        if not name or len(name) > 100:
            raise InputError("a user name must have 1 to 100 characters", zh="用户名须为 1 到 100 个字符")
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}: use one of {'/'.join(ROLES)}", zh=f"未知的角色 {role!r}:请使用 {'/'.join(ROLES)} 之一")
        u = self._tbl("users")

        def write(conn):
            if conn.execute(sa.select(u.c.id).where(u.c.name == sa.bindparam("n", name))).first():
                raise InputError(f"user {name!r} already exists in the lead store {self.display_url}: choose another name",
                                 zh=f"线索库 {self.display_url} 中已有用户 {name!r}:请换一个用户名")
            conn.execute(sa.insert(u), [{"name": name, "role": role, "password_hash": password_hash, "active": True,
                                          "token": secrets.token_hex(16), "created_at": _now(), "created_by": created_by}])
            self._log(conn, created_by, "user_add", None, f"{name} ({role})", None)
            return dict(conn.execute(sa.select(u).where(u.c.name == sa.bindparam("n", name))).mappings().first())

        return self._run_write(write)

    def user(self, *, name: str | None = None, user_id: int | None = None) -> dict[str, Any] | None:
        u = self._tbl("users")
        q = sa.select(u).where(u.c.name == sa.bindparam("n", name)) if name is not None else sa.select(u).where(u.c.id == sa.bindparam("i", user_id))
        row = self._read(lambda conn: conn.execute(q).mappings().first())
        return dict(row) if row else None

    def users(self) -> list[dict[str, Any]]:
        u = self._tbl("users")
        return [dict(r) for r in self._read(lambda conn: conn.execute(sa.select(u).order_by(u.c.name)).mappings().all())]

    def update_user(self, user_id: int, *, actor: str, role: str | None = None, active: bool | None = None,
                    password_hash: str | None = None) -> None:
        """Change a user's role, active flag or password; any change ends their sessions
        (a new token) and is written to the access log."""
        if role is not None and role not in ROLES:
            raise InputError(f"unknown role {role!r}: use one of {'/'.join(ROLES)}", zh=f"未知的角色 {role!r}:请使用 {'/'.join(ROLES)} 之一")
        u = self._tbl("users")
        values: dict[str, Any] = {"token": secrets.token_hex(16)}
        what = []
        if role is not None:
            values["role"] = role
            what.append(f"role={role}")
        if active is not None:
            values["active"] = bool(active)
            what.append(f"active={bool(active)}")
        if password_hash is not None:
            values["password_hash"] = password_hash
            what.append("password")

        def write(conn):
            row = conn.execute(sa.select(u.c.name).where(u.c.id == sa.bindparam("i", user_id))).first()
            if row is None:
                raise InputError(f"no user with id {user_id}", zh=f"没有编号为 {user_id} 的用户")
            conn.execute(sa.update(u).where(u.c.id == sa.bindparam("i", user_id)).values(**values))
            self._log(conn, actor, "user_change", None, f"{row[0]}: {', '.join(what)}", None)

        self._run_write(write, serialise=False)

    def touch_login(self, user_id: int) -> None:
        u = self._tbl("users")
        self._run_write(lambda conn: conn.execute(sa.update(u).where(u.c.id == sa.bindparam("i", user_id)).values(last_login_at=_now())), serialise=False)

    def record_login_failure(self, keys: Iterable[str]) -> None:
        lf = self._tbl("login_failures")
        now = _now()
        rows = [{"key": k[:200], "at": now} for k in keys]
        self._run_write(lambda conn: conn.execute(sa.insert(lf), rows), serialise=False)

    def login_failures_since(self, key: str, since: str) -> int:
        lf = self._tbl("login_failures")
        q = sa.select(sa.func.count()).select_from(lf).where(lf.c.key == sa.bindparam("k", key[:200]), lf.c.at >= sa.bindparam("s", since))
        return int(self._read(lambda conn: conn.execute(q).scalar()) or 0)

    def clear_login_failures(self, key: str) -> None:
        lf = self._tbl("login_failures")
        self._run_write(lambda conn: conn.execute(sa.delete(lf).where(lf.c.key == sa.bindparam("k", key[:200]))), serialise=False)

    def log_access(self, actor: str | None, action: str, lead_id: str | None = None, detail: str | None = None,
                   remote_addr: str | None = None) -> None:
        """Append one row to the access log (auditors read it)."""
        self._run_write(lambda conn: self._log(conn, actor, action, lead_id, detail, remote_addr), serialise=False)

    def _log(self, conn, actor, action, lead_id, detail, remote_addr) -> None:
        conn.execute(sa.insert(self._tbl("access_log")), [{
            "at": _now(), "actor": actor, "action": action, "lead_id": lead_id, "detail": detail, "remote_addr": remote_addr,
        }])

    def access_log(self, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
        """Access-log rows, newest first."""
        a = self._tbl("access_log")
        q = sa.select(a).order_by(a.c.id.desc()).limit(limit).offset(offset)
        return [dict(r) for r in self._read(lambda conn: conn.execute(q).mappings().all())]

    def secret(self, name: str, factory: Callable[[], str]) -> str:
        """The stored secret ``name``, created with ``factory()`` on first use (so that every
        server process on the store, and a restarted one, signs sessions alike)."""
        s = self._tbl("app_secrets")
        q = sa.select(s.c.value).where(s.c.name == sa.bindparam("n", name))
        got = self._read(lambda conn: conn.execute(q).scalar())
        if got:
            return got

        def write(conn):
            have = conn.execute(q).scalar()
            if have:
                return have
            value = factory()
            conn.execute(sa.insert(s), [{"name": name, "value": value}])
            return value

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


def _lead_rows(run_id: str, leads: pl.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    missing = [c for c in LEADS_SCHEMA if c not in leads.columns]
    if missing:
        raise ValueError(f"leads lack column(s) {', '.join(missing)}")
    optional = [c for c in (columns or []) if c not in LEADS_SCHEMA and c in leads.columns]
    frame = leads.select([pl.col(c).cast(d) for c, d in LEADS_SCHEMA.items()] + [pl.col(c) for c in optional])
    rows = frame.to_dicts()
    for r in rows:
        r["run_id"] = run_id
        for c in _LIST_COLUMNS:
            r[c] = json.dumps(r[c] or [], ensure_ascii=False)
        for c in optional:  # nested values (lists, structs) are kept as JSON text
            if isinstance(r[c], (list, dict)):
                r[c] = json.dumps(r[c], ensure_ascii=False, default=str)
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


def _index_run(
    conn: sa.Connection,
    tables: Mapping[str, sa.Table],
    schema: str | None,
    run_id: str,
    lead_rows: list[dict[str, Any]],
    ev_rows: list[dict[str, Any]],
    batch: int,
    tolerance: float | None,
) -> None:
    """Cases (new ones, last run seen, dismissed leads re-opened when their evidence grew) and
    search terms of one run's leads. ``tolerance`` None: no re-opening (rebuilding old runs)."""
    name = (lambda x: f"{schema}.{x}") if schema else (lambda x: x)
    cases, terms, history = tables[name("lead_cases")], tables[name("lead_terms")], tables[name("lead_history")]
    ids = [r["lead_id"] for r in lead_rows]
    by_id = {r["lead_id"]: r for r in lead_rows}
    known: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), _CHUNK):
        q = sa.select(cases).where(cases.c.lead_id.in_(sa.bindparam("ids", ids[i : i + _CHUNK], expanding=True)))
        for r in conn.execute(q).mappings():
            known[r["lead_id"]] = dict(r)
    now = _now()
    fresh = [  # updated_at: when the case last changed, here when it appeared (the "latest" sort)
        {"lead_id": lid, "status": "new", "version": 0, "first_run_id": run_id, "last_run_id": run_id, "updated_at": now}
        for lid in ids
        if lid not in known
    ]
    for i in range(0, len(fresh), batch):
        conn.execute(sa.insert(cases), fresh[i : i + batch])
    seen = sorted(known)
    for i in range(0, len(seen), _CHUNK):
        conn.execute(
            sa.update(cases)
            .where(cases.c.lead_id.in_(sa.bindparam("ids", seen[i : i + _CHUNK], expanding=True)))
            .values(last_run_id=run_id)
        )
    if tolerance is not None:
        _reopen_regrown(conn, cases, history, run_id, [known[i] for i in seen if known[i]["status"] == "dismissed"], by_id, tolerance)

    # search terms: insert those the lead does not have yet
    wanted: dict[str, set[tuple[str, str]]] = {}
    for r in lead_rows:
        s = wanted.setdefault(r["lead_id"], set())
        personal = r.get("entity_type") in ("person", "account")
        _add_term(s, "id" if personal else "entity", r.get("entity_id"))
        if personal:  # the person or account the lead is about, not one its evidence mentions
            _add_term(s, "subject", r.get("entity_id"))
        for code in json.loads(r.get("rule_codes") or "[]"):
            _add_term(s, "rule", code)
        for rec in json.loads(r.get("record_ids") or "[]"):
            _add_term(s, "record", rec)
    for e in ev_rows:
        s = wanted.setdefault(e["lead_id"], set())
        _add_term(s, "record", e.get("record_id"))
        _add_term(s, "id", e.get("person_id"))
        _add_term(s, "name", e.get("name"))
    rows = [{"lead_id": lid, "kind": k, "term": term} for lid, s in wanted.items() for k, term in sorted(s)]
    insert = _insert_ignoring_duplicates(conn, terms)  # a lead seen before already has most of its terms
    for i in range(0, len(rows), batch):
        conn.execute(insert, rows[i : i + batch])


def _insert_ignoring_duplicates(conn: sa.Connection, table: sa.Table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


def _add_term(terms: set[tuple[str, str]], kind: str, value: Any) -> None:
    if value is None:
        return
    text = str(value).strip()
    if not text:
        return
    terms.add((kind, search_term(text)))


def search_term(text: str) -> str:
    """How a search string and a stored term are compared: trimmed, upper-case (the X of an
    identity number), at most the stored length."""
    return text.strip().upper()[:TERM_MAX]


def _reopen_regrown(conn, cases, history, run_id, dismissed, by_id, tolerance) -> None:
    if not dismissed:
        return
    frame = pl.DataFrame(
        {
            "lead_id": [c["lead_id"] for c in dismissed],
            "n_now": [len(json.loads(by_id[c["lead_id"]].get("record_ids") or "[]")) for c in dismissed],
            "amount_now": [by_id[c["lead_id"]].get("amount_at_risk") for c in dismissed],
            "n_at": [c["n_records_at_decision"] for c in dismissed],
            "amount_at": [c["amount_at_decision"] for c in dismissed],
        },
        schema={"lead_id": pl.String, "n_now": pl.Int64, "amount_now": pl.Float64, "n_at": pl.Int64, "amount_at": pl.Float64},
    )
    grown = frame.filter(
        regrowth(pl.col("n_now"), pl.col("amount_now").fill_null(0.0), pl.col("n_at"), pl.col("amount_at"), tolerance)
    )
    now = _now()
    before = {c["lead_id"]: c for c in dismissed}
    for r in grown.iter_rows(named=True):
        c = before[r["lead_id"]]
        note = (
            f"证据增加,重新提出:记录 {r['n_at'] if r['n_at'] is not None else '?'}→{r['n_now']} 笔,"
            f"金额 {(r['amount_at'] or 0.0):,.2f}→{(r['amount_now'] or 0.0):,.2f} 元"
        )
        conn.execute(
            sa.update(cases)
            .where(cases.c.lead_id == r["lead_id"])
            .values(status="reopened", version=c["version"] + 1, note=note, updated_at=now, updated_by=SCAN_ACTOR)
        )
        conn.execute(sa.insert(history), [{
            "lead_id": r["lead_id"], "at": now, "actor": SCAN_ACTOR, "source": "scan", "from_status": "dismissed",
            "to_status": "reopened", "from_assignee": c["assignee"], "to_assignee": c["assignee"], "note": note,
            "amount_at_risk": r["amount_now"], "n_records": r["n_now"], "run_id": run_id, "version": c["version"] + 1,
        }])


def _peer_details(leads: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    """``lead_id, details``: the JSON list of the lead's findings' details that carry peer
    comparisons (``features``), matched on entity and rule code."""
    if findings is None or findings.height == 0 or "details" not in findings.columns:
        return pl.DataFrame(schema={"lead_id": pl.String, "details": pl.String})
    f = findings.filter(pl.col("details").str.contains('"features"', literal=True)).select(
        "entity_type", "entity_id", "rule_code", "details"
    )
    m = (
        leads.select("lead_id", "entity_type", "entity_id", pl.col("rule_codes").alias("rule_code"))
        .explode("rule_code")
        .join(f, on=["entity_type", "entity_id", "rule_code"], how="inner")
    )
    return m.group_by("lead_id").agg(
        (pl.lit("[") + pl.col("details").str.join(",") + pl.lit("]")).alias("details")
    )


def _not_locked(case: Mapping[str, Any]) -> None:
    if case["status"] in LOCKED_STATUSES:
        raise WorkflowError(
            f"lead {case['lead_id']} is {case['status']} ({STATUS_LABELS_ZH[case['status']]}): "
            "only a leader can change it now, in the workspace (fundwatch serve)"
        )


def _latest_lead_facts(conn, leads, runs, ids) -> dict[str, tuple[float | None, int, str]]:
    """lead id -> (amount at risk, number of records, run id) in the latest run that has it."""
    latest: dict[str, tuple[int, float | None, str | None, str]] = {}
    for i in range(0, len(ids), _CHUNK):
        q = (
            sa.select(leads.c.lead_id, runs.c.seq, leads.c.amount_at_risk, leads.c.record_ids, runs.c.run_id)
            .join(runs, runs.c.run_id == leads.c.run_id)
            .where(leads.c.lead_id.in_(sa.bindparam("ids", ids[i : i + _CHUNK], expanding=True)))
        )
        for lid, seq, amount, rec, run_id in conn.execute(q):
            if lid not in latest or seq > latest[lid][0]:
                latest[lid] = (seq, amount, rec, run_id)
    return {lid: (a, len(json.loads(rec or "[]")), run_id) for lid, (_, a, rec, run_id) in latest.items()}
