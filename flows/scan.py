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
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.task_runners import ThreadPoolTaskRunner

from fundwatch import pipeline
from fundwatch.errors import InputError
from fundwatch.settings import Settings

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
    except Exception:  # any other I/O failure may be transient
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


# --------------------------------------------------------------------------- tasks
def _io_task(step, name: str, run_name: str, **options):
    """An I/O step as a task: retried, except on bad input (it would fail the same way again)."""
    return task(
        step, name=name, task_run_name=run_name, retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAY_SECONDS,
        retry_condition_fn=_retry_unless_input_error,
        # no cache unless the step says how to key one (load: on file paths, sizes, mtimes)
        **(options if "cache_key_fn" in options else {"cache_policy": NONE, **options}),
    )


def _transform_task(step, name: str, run_name: str):
    """A transform as a task: never retried (the same input fails the same way), not cached
    (hashing DataFrames to key a cache would cost more than the work)."""
    return task(step, name=name, task_run_name=run_name, cache_policy=NONE)


#: Every pipeline step as a Prefect task. :func:`fundwatch.pipeline.run_scan` decides the order;
#: :func:`prefect_submit` only looks the step's task up here.
TASKS = {
    pipeline.materialize_sources_step: _io_task(pipeline.materialize_sources_step, "sources", "read SQL sources"),
    pipeline.load_step: _io_task(
        pipeline.load_step, "load", "load {input_dir}",
        cache_key_fn=_load_cache_key, cache_expiration=dt.timedelta(hours=12),
    ),
    pipeline.validate_step: _transform_task(pipeline.validate_step, "validate", "validate"),
    pipeline.restrict_periods: _transform_task(
        pipeline.restrict_periods, "restrict-periods", "restrict to {period_start}..{period_end}"
    ),
    pipeline.compact_step: _transform_task(pipeline.compact_step, "compact", "compact repetitive text columns"),
    pipeline.run_detector: _transform_task(pipeline.run_detector, "detect", "detect {name} part {part[0]}/{part[1]}"),
    pipeline.rank_step: _transform_task(pipeline.rank_step, "rank", "rank"),
    pipeline.disposition_step: _io_task(pipeline.disposition_step, "read-dispositions", "read dispositions"),
    pipeline.evidence_step: _transform_task(pipeline.evidence_step, "evidence", "collect evidence"),
    pipeline.write_outputs_step: _io_task(
        pipeline.write_outputs_step, "write-outputs", "write leads, findings, quarantine"
    ),
    pipeline.report_step: _io_task(pipeline.report_step, "report", "report ({report.lang})"),
    pipeline.store_step: _io_task(pipeline.store_step, "store", "store run"),
}


def prefect_submit(step, *args):
    """:data:`fundwatch.pipeline.Submit` for Prefect: the step's task, submitted to the flow's task runner."""
    return TASKS[step].submit(*args)


@task(name="publish-artifacts", task_run_name="publish summary", cache_policy=NONE)
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
    # detectors running at once are bounded by settings.runtime.detect_workers in the pipeline,
    # read per run (a deployment's settings file may change it)
    task_runner=ThreadPoolTaskRunner(),
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
    request = pipeline.ScanRequest.from_options(
        input_dir, out_dir, domain=domain, settings_file=settings_file, partitions=partitions, store_url=store_url,
        period_start=period_start, period_end=period_end, unmask=unmask, lang=lang, sources_file=sources_file,
    )
    result = pipeline.run_scan(request, submit=prefect_submit, orchestrator=_orchestrator())
    run = result.record.as_dict()
    artifacts_task(run, result.leads)
    get_run_logger().info("%d lead(s) written to %s", result.leads.height, run["out_dir"])
    return run


def _orchestrator() -> str:
    """``dask`` when the flow's tasks run on a Dask cluster, else ``prefect``."""
    from prefect.context import get_run_context

    runner = type(get_run_context().task_runner).__name__
    return "dask" if "Dask" in runner else "prefect"


def run_flow(options: dict, dask_address: str | None = None) -> dict:
    """Run the :func:`scan` flow with ``fundwatch scan``'s options, on Dask when an address is given."""
    flow_fn = scan
    if dask_address:
        from fundwatch.flows.dask import with_dask

        flow_fn = with_dask(scan, dask_address)
    return flow_fn(**options)
