"""The scan as a Prefect 3 flow: thin tasks around :mod:`fundwatch.pipeline`.

Each task is one I/O step or one transform. Only I/O tasks retry, and never on bad input
(an :class:`~fundwatch.errors.InputError` will not go away by trying again). DataFrames pass
between tasks in memory with caching off (``cache_policy=NONE``): hashing a 10M-row frame to
build a cache key would cost more than the work. The load task alone is cached, keyed on the
input fingerprint (paths, sizes, mtimes), the domains and the settings — never on a DataFrame.

Nothing personal is logged or published: artifacts carry counts and masked top leads.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.task_runners import ThreadPoolTaskRunner

from fundwatch import pipeline
from fundwatch.errors import InputError
from fundwatch.settings import DEFAULT_SETTINGS, Settings

#: Fixed artifact keys, so the Prefect UI shows each run's artifacts under the same names.
SUMMARY_ARTIFACT_KEY = "fundwatch-scan-summary"
TOP_LEADS_ARTIFACT_KEY = "fundwatch-top-leads"
TOP_LEADS_IN_ARTIFACT = 20
IO_RETRIES = 2
IO_RETRY_DELAY_SECONDS = 3


def _retry_unless_input_error(task_obj, task_run, state) -> bool:
    """Retry I/O failures, but not bad input (it would fail the same way again)."""
    try:
        state.result()
    except InputError:
        return False
    except Exception:  # noqa: BLE001 - any other I/O failure may be transient
        return True
    return False


def input_files(input_dir: str | Path) -> list[tuple[str, int, int]]:
    """(relative path, size, mtime_ns) of every file under ``input_dir``, sorted."""
    root = Path(input_dir)
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            st = p.stat()
            out.append((str(p.relative_to(root)), st.st_size, st.st_mtime_ns))
    return out


def _load_cache_key(context: Any, parameters: dict[str, Any]) -> str | None:
    """Cache key of the load task: the input files' paths, sizes and mtimes, the domains and
    the settings; ``None`` (no caching) for inputs above ``runtime.cache_max_input_mb``."""
    import hashlib

    settings: Settings = parameters["settings"]
    files = input_files(parameters["input_dir"])
    if sum(size for _, size, _ in files) > settings.runtime.cache_max_input_mb * 1e6:
        return None
    h = hashlib.sha256(repr(files).encode())
    h.update(".".join(parameters["domains"]).encode())
    h.update(pipeline.settings_hash(settings).encode())
    return "load-" + h.hexdigest()[:40]


def _step_started(task_obj, task_run, state) -> None:
    from fundwatch import progress

    progress.current().started(task_run.name)


def _step_finished(task_obj, task_run, state) -> None:
    from fundwatch import progress

    progress.current().finished(task_run.name, ok=state.is_completed())


#: Every task tells the terminal progress display (if any) when it starts and ends.
PROGRESS_HOOKS = {"on_running": [_step_started], "on_completion": [_step_finished], "on_failure": [_step_finished]}


# --------------------------------------------------------------------------- tasks
@task(
    **PROGRESS_HOOKS,
    name="load",
    task_run_name="load {input_dir}",
    retries=IO_RETRIES,
    retry_delay_seconds=IO_RETRY_DELAY_SECONDS,
    retry_condition_fn=_retry_unless_input_error,
    cache_key_fn=_load_cache_key,
    cache_expiration=dt.timedelta(hours=12),
)
def load_task(input_dir: str, domains: tuple[str, ...], settings: Settings):
    return pipeline.load_step(input_dir, domains, settings)


@task(**PROGRESS_HOOKS, name="validate", task_run_name="validate", cache_policy=NONE)
def validate_task(datasets: dict, out_dir: str, settings: Settings):
    return pipeline.validate_step(datasets, out_dir, settings)


@task(**PROGRESS_HOOKS, name="restrict-periods", task_run_name="restrict to {period_start}..{period_end}", cache_policy=NONE)
def restrict_task(datasets: dict, period_start: str | None, period_end: str | None) -> dict:
    return pipeline.restrict_periods(datasets, period_start, period_end)


@task(**PROGRESS_HOOKS, name="compact", task_run_name="compact repetitive text columns", cache_policy=NONE)
def compact_task(datasets: dict) -> dict:
    return pipeline.compact_step(datasets)


@task(**PROGRESS_HOOKS, name="detect", task_run_name="detect {name} part {part[0]}/{part[1]}", cache_policy=NONE)
def detect_task(datasets: dict, name: str, settings: Settings, part: tuple[int, int]):
    return pipeline.run_detector(datasets, name, settings, part)


@task(**PROGRESS_HOOKS, name="rank", task_run_name="rank", cache_policy=NONE)
def rank_task(findings: pl.DataFrame, settings: Settings, lang: str, as_of: str | None) -> pl.DataFrame:
    return pipeline.rank_step(findings, settings, lang, as_of)


@task(
    **PROGRESS_HOOKS,
    name="read-dispositions",
    task_run_name="read dispositions",
    cache_policy=NONE,
    retries=IO_RETRIES,
    retry_delay_seconds=IO_RETRY_DELAY_SECONDS,
    retry_condition_fn=_retry_unless_input_error,
)
def dispositions_task(leads: pl.DataFrame, store_url: str, settings: Settings):
    return pipeline.disposition_step(leads, store_url, settings)


@task(**PROGRESS_HOOKS, name="evidence", task_run_name="collect evidence", cache_policy=NONE)
def evidence_task(leads: pl.DataFrame, datasets: dict) -> pl.DataFrame:
    from fundwatch.leads import evidence_table

    return evidence_table(leads, datasets)


@task(
    **PROGRESS_HOOKS,
    name="write-outputs",
    task_run_name="write leads, findings, quarantine",
    cache_policy=NONE,
    retries=IO_RETRIES,
    retry_delay_seconds=IO_RETRY_DELAY_SECONDS,
)
def write_outputs_task(out_dir: str, leads: pl.DataFrame, findings: pl.DataFrame, quarantine: pl.DataFrame, unmask: bool) -> dict:
    from fundwatch.loading import write_quarantine
    from fundwatch.outputs import write_findings, write_leads

    paths = write_leads(out_dir, leads, unmask=unmask)
    paths["findings"] = write_findings(out_dir, findings)
    write_quarantine(Path(out_dir) / "quarantine.parquet", quarantine)
    paths["quarantine"] = Path(out_dir) / "quarantine.parquet"
    return {k: str(v) for k, v in paths.items()}


@task(
    **PROGRESS_HOOKS,
    name="store",
    task_run_name="store run",
    cache_policy=NONE,
    retries=IO_RETRIES,
    retry_delay_seconds=IO_RETRY_DELAY_SECONDS,
    retry_condition_fn=_retry_unless_input_error,
)
def store_task(store_url: str, run_record: dict, leads: pl.DataFrame, evidence: pl.DataFrame, counts: pl.DataFrame, settings: Settings) -> str:
    return pipeline.store_step(store_url, run_record, leads, evidence, counts, settings)


@task(**PROGRESS_HOOKS, name="report", task_run_name="report ({lang})", cache_policy=NONE, retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAY_SECONDS)
def report_task(out_dir: str, leads, status, findings, evidence, quarantine, run_info: dict, validation, lang: str, unmask: bool, settings: Settings) -> dict:
    from fundwatch import reports

    pipeline.checkpoint("report", settings)
    summary = validation.summary if validation is not None else None
    docs_link = None
    if validation is not None and validation.docs_index is not None:
        try:
            docs_link = str(Path(validation.docs_index).resolve().relative_to(Path(out_dir).resolve()))
        except ValueError:
            docs_link = str(validation.docs_index)
    html = reports.write_report(
        out_dir, leads=leads, status=status, findings=findings, evidence=evidence,
        run_info=run_info, validation_summary=summary, docs_link=docs_link, lang=lang, unmask=unmask,
        quarantine=quarantine, settings=settings,
    )
    xlsx = reports.write_workbook(
        out_dir, leads=leads, status=status, evidence=evidence, quarantine=quarantine,
        validation_summary=summary, run_info=run_info, lang=lang, unmask=unmask,
        findings=findings, settings=settings,
    )
    return {"report": str(html), "workbook": str(xlsx)}


@task(**PROGRESS_HOOKS, name="publish-artifacts", task_run_name="publish summary", cache_policy=NONE)
def artifacts_task(run: dict, leads: pl.DataFrame) -> None:
    """Markdown summary and a masked table of the top leads, under fixed keys."""
    from fundwatch.privacy import mask_frame

    create_markdown_artifact(key=SUMMARY_ARTIFACT_KEY, markdown=summary_markdown(run, leads), description="fundwatch scan summary")
    top = mask_frame(leads.head(TOP_LEADS_IN_ARTIFACT), unmask=False).select(
        "rank", "severity", "domain", "entity_type", "entity_id",
        pl.col("rule_codes").list.join(";"), pl.col("amount_at_risk").round(2), "region_code",
    )
    create_table_artifact(key=TOP_LEADS_ARTIFACT_KEY, table=top.to_dicts(), description="Top leads (identifiers masked)")


def summary_markdown(run: dict, leads: pl.DataFrame) -> str:
    """The run summary in markdown: rows, quarantine, validation, leads by type and money."""
    lines = [f"# fundwatch scan {run['run_id']}", "", f"Input fingerprint `{run['input_fingerprint'][:16]}`, "
             f"period {run.get('period_start')}..{run.get('period_end')}, domains {', '.join(run['domains'])}.", "",
             "| dataset | rows read | accepted | quarantined |", "|---|---:|---:|---:|"]
    for name, c in sorted(run["datasets"].items()):
        lines.append(f"| {name} | {c['rows_read']} | {c['rows_accepted']} | {c['rows_quarantined']} |")
    lines += ["", f"Validation: {run['validation']['failed_expectations']} failed expectation(s); "
              f"unusable datasets: {', '.join(run['validation']['unusable']) or 'none'}.", ""]
    if leads.height:
        by = (
            leads.explode("rule_codes")
            .group_by("rule_codes")
            .agg(pl.len().alias("leads"), pl.col("amount_at_risk").sum().round(2).alias("money"))
            .sort(["leads", "rule_codes"], descending=[True, False])
        )
        lines += ["| rule | leads | money at risk (CNY) |", "|---|---:|---:|"]
        lines += [f"| {r['rule_codes']} | {r['leads']} | {r['money']:,.2f} |" for r in by.to_dicts()]
    lines += ["", f"**{leads.height} leads**, {run['leads']['by_severity']}, money at risk "
              f"{run['leads']['amount_at_risk']:,.2f} CNY."]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- flow
def _run_name() -> str:
    from prefect.runtime import flow_run

    p = flow_run.parameters
    return f"scan-{p.get('domain', 'all')}-{Path(str(p.get('input_dir', 'input'))).name}"


@flow(
    name="fundwatch-scan",
    flow_run_name=_run_name,
    log_prints=False,
    validate_parameters=True,
    task_runner=ThreadPoolTaskRunner(max_workers=DEFAULT_SETTINGS.runtime.detect_workers),
)
def scan(
    input_dir: str,
    out_dir: str,
    store_url: str | None = None,
    domain: str = "all",
    period_start: str | None = None,
    period_end: str | None = None,
    unmask: bool = False,
    lang: str = "zh",
    settings_file: str | None = None,
    sources_file: str | None = None,
    partitions: int | None = None,
) -> dict:
    """Scan one input directory and write ranked leads, reports and the store.

    (Google-style sections here, unlike the numpydoc elsewhere: Prefect reads this one to
    describe each parameter in its UI, and its parser only knows Google style.)

    Args:
        input_dir: Folder holding the contract's datasets, one file or folder per dataset.
        out_dir: Where run.json, leads.parquet/csv, report.html, leads.xlsx and the validation results go.
        store_url: SQLAlchemy URL of the lead store that keeps runs and dispositions; default SQLite out_dir/leads.sqlite.
        domain: Which detectors run: subsidy, medical or all.
        period_start: First event month scanned, YYYY-MM; empty for all.
        period_end: Last event month scanned, YYYY-MM; empty for all.
        unmask: Show identity numbers and names whole in readable outputs (recorded in run.json).
        lang: Report language, zh or en.
        settings_file: Optional TOML/JSON file overriding default thresholds and weights.
        sources_file: Optional TOML file naming SQL tables to read datasets from.
        partitions: Run partitionable rules in this many independent parts (e.g. on Dask); same leads either way.
    """
    logger = get_run_logger()
    settings = Settings.from_file(settings_file) if settings_file else DEFAULT_SETTINGS
    if partitions:
        settings = settings.model_copy(update={"runtime": settings.runtime.model_copy(update={"partitions": partitions})})
    domains = pipeline.parse_domains(domain)
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    store_url = store_url or pipeline.default_store_url(out)
    timer = pipeline.StepTimer()
    started_at = pipeline.now_iso()
    run_id = f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%fZ}"

    t = time.perf_counter()
    if sources_file:
        from fundwatch.sources import materialize_sources

        input_dir = str(materialize_sources(sources_file, input_dir, out / "sources"))
    loaded = load_task(input_dir, domains, settings)
    timer.add("load", t)
    logger.info("loaded %d dataset(s); %d row(s) quarantined on load", len(loaded.datasets), loaded.quarantine.height)

    t = time.perf_counter()
    validation = validate_task(loaded.datasets, str(out), settings)
    timer.add("validate", t)
    logger.info("validation: %d row(s) quarantined; unusable: %s", validation.quarantine.height, sorted(validation.unusable) or "none")

    # The accepted rows are all the later steps need; drop the loaded frames (Prefect keeps
    # task results referenced) so peak memory holds one copy of the data, not two.
    loaded.datasets.clear()
    restricted = restrict_task(validation.datasets, period_start, period_end)
    data = compact_task(restricted)
    # the same again: from here on only the compacted frames are referenced
    restricted.clear()
    validation.datasets.clear()
    t = time.perf_counter()
    detected = detect_all(data, domains, settings, validation.unusable)
    timer.add("detect", t)
    logger.info("detectors produced %d finding(s); skipped: %s", detected.findings.height, sorted(detected.skipped) or "none")

    period = pipeline.period_range(data)
    t = time.perf_counter()
    leads = rank_task(detected.findings, settings, lang, period[1])
    leads, status = dispositions_task(leads, store_url, settings)
    evidence = evidence_task(leads, data)
    timer.add("rank", t)

    quarantine = pipeline.all_quarantine(loaded.quarantine, validation.quarantine)
    counts = pipeline.counts_frame(loaded.counts, validation.quarantine)
    run = build_run_record(
        run_id=run_id, started_at=started_at, input_dir=input_dir, out_dir=str(out), store_url=store_url,
        domains=domains, loaded=loaded, validation=validation, counts=counts, detected=detected,
        leads=leads, status=status, period=period, unmask=unmask, lang=lang, settings=settings,
        restricted=(period_start, period_end),
    )

    t = time.perf_counter()
    run["outputs"] = write_outputs_task(str(out), leads, detected.findings, quarantine, unmask)
    timer.add("write", t)
    t = time.perf_counter()
    run["outputs"].update(
        report_task(str(out), leads, status, detected.findings, evidence, quarantine, run, validation, lang, unmask, settings)
    )
    timer.add("report", t)
    t = time.perf_counter()
    run["timings"] = timer.as_dict()
    run["finished_at"] = pipeline.now_iso()
    store_task(store_url, run, leads, evidence, counts, settings)
    timer.add("store", t)
    run["timings"] = timer.as_dict()
    pipeline.write_run_json(out, run)
    artifacts_task(run, leads)
    logger.info("%d lead(s) written to %s", leads.height, out)
    return run


def detect_all(data: dict, domains: tuple[str, ...], settings: Settings, unusable: dict) -> pipeline.DetectResult:
    """Every rule (part by part where it partitions) concurrently, then the models of each
    domain with that domain's rule findings. Runs on whatever task runner the flow has:
    threads locally, workers on a Dask cluster."""
    pipeline.checkpoint("detect", settings)  # fault injection, as in pipeline.detect_step
    rules, models, skipped = pipeline.detection_plan(data, domains, settings, unusable)
    rule_futures = [detect_task.submit(data, name, settings, (i, n)) for name, n in rules for i in range(n)]
    rule_results = [f.result() for f in rule_futures]
    rule_findings = pipeline.merge_findings(rule_results).findings
    model_futures = []
    for name in models:
        domain = pipeline.detector_by_name(name, settings).domain
        with_rules = pipeline.with_findings(data, rule_findings.filter(pl.col("domain") == domain))
        model_futures.append(detect_task.submit(with_rules, name, settings, (0, 1)))
    detected = pipeline.merge_findings(rule_results + [f.result() for f in model_futures])
    detected.skipped.update(skipped)
    return detected


def build_run_record(*, run_id, started_at, input_dir, out_dir, store_url, domains, loaded, validation,
                     counts, detected, leads, status, period, unmask, lang, settings, restricted) -> dict:
    """Everything run.json says about a run; no personal data."""
    from sqlalchemy.engine import make_url

    datasets = {r["dataset"]: r for r in counts.to_dicts()}
    for name, c in loaded.counts.items():
        datasets[name]["files"] = [str(f) for f in c.files]
        datasets[name]["load_seconds"] = round(c.seconds, 3)
        rps = getattr(validation, "rows_per_second", {}) or {}
        if name in rps:
            datasets[name]["validation_rows_per_second"] = round(float(rps[name]), 1)
        assert datasets[name]["rows_read"] == datasets[name]["rows_accepted"] + datasets[name]["rows_quarantined"]
    sev = leads.group_by("severity").len().sort("severity").to_dicts() if leads.height else []
    failed = 0
    if validation.summary is not None and validation.summary.height:
        failed = int(validation.summary.filter(~pl.col("success")).height)
    return {
        "run_id": run_id,
        "started_at": started_at,
        "input_dir": str(input_dir),
        "out_dir": out_dir,
        "store": make_url(store_url).render_as_string(hide_password=True),
        "input_fingerprint": loaded.fingerprint,
        "domains": list(domains),
        "period_start": period[0],
        "period_end": period[1],
        "period_filter": {"start": restricted[0], "end": restricted[1]},
        "unmask": bool(unmask),
        "lang": lang,
        "datasets": datasets,
        "rows": {
            "read": int(counts["rows_read"].sum()),
            "accepted": int(counts["rows_accepted"].sum()),
            "quarantined": int(counts["rows_quarantined"].sum()),
        },
        "ignored_files": [str(x) for x in getattr(loaded, "ignored", [])],
        "validation": {
            "failed_expectations": failed,
            "unusable": dict(validation.unusable),
            "docs_index": str(validation.docs_index) if validation.docs_index else None,
        },
        "detectors": {"seconds": detected.seconds, "skipped": detected.skipped},
        "findings": int(detected.findings.height),
        "leads": {
            "count": int(leads.height),
            "by_severity": {r["severity"]: int(r["len"]) for r in sev},
            "amount_at_risk": round(float(leads["amount_at_risk"].sum()) if leads.height else 0.0, 2),
            "new": int(status["is_new"].sum()) if status is not None and "is_new" in status.columns else None,
        },
        "settings_hash": pipeline.settings_hash(settings),
        "versions": pipeline.versions(),
    }
