"""The scan: its steps, and the one place that runs them in order (:func:`run_scan`).

Each ``*_step`` function is one I/O step or one transform and knows nothing about Prefect.
:func:`run_scan` owns the order of a scan, its timings and its :class:`~fundwatch.run_record.RunRecord`
(``run.json``). It runs every step through a pluggable ``submit``: :func:`inline_submit` (the
default: call the step now, in this process — ``fundwatch scan`` on a laptop needs no Prefect)
or a Prefect task's ``submit`` (:mod:`fundwatch.flows.scan`: the same steps as Prefect tasks, on
threads or a Dask cluster). Nothing else restates the order: the flow, the CLI, the benchmarks
and analysts call :func:`run_scan` or :func:`detect_step`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from . import __version__, progress
from .contract import DATASETS, QUARANTINE_SCHEMA, conform_findings, empty_findings
from .errors import InjectedFault, InputError
from .run_record import Orchestrator, RunRecord
from .settings import DEFAULT_SETTINGS, Settings

#: Steps where ``settings.runtime.fail_at_step`` injects a fault (crash-safety tests).
STEPS = ("load", "validate", "detect", "rank", "store", "report")
DOMAIN_CHOICES = ("subsidy", "medical")
#: Datasets loaded whenever present, whatever detectors run: place names for leads and reports.
ALWAYS_LOADED = ("regions",)


def parse_domains(domain: str | Iterable[str]) -> tuple[str, ...]:
    """``"all"`` -> both domains; ``"subsidy"`` -> ``("subsidy",)``; lists pass through, checked."""
    if isinstance(domain, str):
        items = DOMAIN_CHOICES if domain == "all" else tuple(x.strip() for x in domain.split(","))
    else:
        items = tuple(domain)
    bad = [d for d in items if d not in DOMAIN_CHOICES]
    if bad or not items:
        raise InputError(f"unknown domain {', '.join(bad) or '(none)'}: use subsidy, medical or all",
                         zh=f"未知的领域 {', '.join(bad) or '(空)'}:请用 subsidy(惠民补贴)、medical(医保基金)或 all(全部)")
    return tuple(sorted(set(items), key=DOMAIN_CHOICES.index))


def checkpoint(step: str, settings: Settings) -> None:
    """Fault injection for crash-safety tests (``settings.runtime.fail_at_step``)."""
    if settings.runtime.fail_at_step == step:
        raise InjectedFault(f"fault injected at step {step!r} (settings.runtime.fail_at_step)")


def required_datasets(domains: Iterable[str], settings: Settings = DEFAULT_SETTINGS) -> dict[str, list[str]]:
    """Dataset -> names of the detectors (of ``domains``) that cannot run without it."""
    from fundwatch import detectors

    needed: dict[str, list[str]] = {}
    for det in detectors.all_detectors(settings, domains):
        for name in det.requires:
            needed.setdefault(name, []).append(det.name())
    return needed


def datasets_for(domains: Iterable[str], settings: Settings = DEFAULT_SETTINGS) -> list[str]:
    """Every dataset the detectors of ``domains`` use (required or optional)."""
    from fundwatch import detectors

    names: set[str] = set(ALWAYS_LOADED)
    for det in detectors.all_detectors(settings, domains):
        names.update(det.requires)
        names.update(det.requires_columns)
        names.update(n for n in det.optional if n in DATASETS)
    return sorted(names)


# --------------------------------------------------------------------------- load
def load_step(input_dir: str | Path, domains: tuple[str, ...], settings: Settings = DEFAULT_SETTINGS):
    """Read, normalise and quarantine the datasets the chosen domains need.

    Raises :class:`InputError` when the directory is missing or a dataset some detector
    needs is absent (naming the dataset and those detectors).
    """
    from .loading import discover, load_input

    checkpoint("load", settings)
    input_dir = Path(input_dir)
    present = set(discover(input_dir))  # the loader says when the folder is missing or not a folder
    needed = required_datasets(domains, settings)
    missing = {d: dets for d, dets in needed.items() if d not in present}
    if missing:
        # The contract: a dataset needed by the detectors being run and absent is an error
        # naming the dataset and the detectors that need it.
        first, dets = sorted(missing.items())[0]
        more = f" (and {len(missing) - 1} more: {', '.join(sorted(missing)[1:])})" if len(missing) > 1 else ""
        raise InputError(
            f"{input_dir}: dataset '{first}' ({DATASETS[first].zh}) is missing{more}; needed by "
            f"{', '.join(sorted(set(dets)))}: add {first}.csv/.parquet/.xlsx or a {first}/ folder, "
            f"or run with --domain for the data you have",
            zh=f"{input_dir}:缺少数据集“{DATASETS[first].zh}”({first})"
            + (f"(另缺 {len(missing) - 1} 个:{'、'.join(DATASETS[d].zh for d in sorted(missing)[1:])})" if len(missing) > 1 else "")
            + f",“{'、'.join(sorted({detector_by_name(d, settings).rules[0].title_zh for d in dets}))}”检查需要它:请放入 {first}.csv/.parquet/.xlsx 或文件夹 {first}/,"
            "或用 --domain 只检查已有数据的领域",
        )
    wanted = datasets_for(domains, settings)
    check_memory(input_dir, {d: f for d, f in discover(input_dir).items() if d in wanted}, settings)
    return load_input(input_dir, only=wanted, settings=settings)


def estimate_memory_bytes(files: Mapping[str, list[Path]], settings: Settings = DEFAULT_SETTINGS) -> float:
    """Memory a scan of these files is estimated to need (see ``runtime.memory_per_input_byte``)."""
    factors = settings.runtime.memory_per_input_byte
    return sum(
        p.stat().st_size * factors.get(p.suffix.lstrip(".").lower(), max(factors.values()))
        for paths in files.values()
        for p in paths
    )


def check_memory(input_dir: Path, files: Mapping[str, list[Path]], settings: Settings = DEFAULT_SETTINGS) -> None:
    """Stop with a clear message when the input will not fit in memory, before loading it."""
    import psutil

    need = estimate_memory_bytes(files, settings)
    limit_gb = settings.runtime.memory_limit_gb
    have = limit_gb * 1e9 if limit_gb else psutil.virtual_memory().available
    if need > have:
        raise InputError(
            f"{input_dir}: a scan of this input needs about {need / 1e9:.1f} GB of memory but "
            f"{have / 1e9:.1f} GB is available: scan fewer months at a time (--period-start/"
            f"--period-end on a smaller input folder), run on a larger machine, or split the "
            f"work on a Dask cluster (--dask-address)",
            zh=f"{input_dir}:扫描这些数据约需 {need / 1e9:.1f} GB 内存,当前可用 {have / 1e9:.1f} GB:"
            "请分段扫描(用 --period-start/--period-end 和较小的输入目录),换用内存更大的机器,"
            "或在 Dask 集群上分布执行(--dask-address)",
        )


# ------------------------------------------------------------------------- validate
def validate_step(datasets: Mapping[str, pl.DataFrame], out_dir: str | Path, settings: Settings = DEFAULT_SETTINGS,
                  load=None):
    """Run the Great Expectations suites; returns accepted rows and quarantined ones.

    ``load``: the step's ``LoadResult``, so that the loader's rejections are recorded as failed
    checks with their rows and validation numbers rows by file and line like the loader."""
    from fundwatch import expectations

    checkpoint("validate", settings)
    return expectations.validate(dict(datasets), Path(out_dir).resolve(), settings, load=load)


def restrict_periods(
    datasets: Mapping[str, pl.DataFrame], period_start: str | None, period_end: str | None
) -> dict[str, pl.DataFrame]:
    """Keep event rows whose month lies in ``[period_start, period_end]`` (``YYYY-MM``, inclusive)."""
    if not period_start and not period_end:
        return dict(datasets)
    lo = period_start or "0000-00"
    hi = period_end or "9999-99"
    out = dict(datasets)
    if "disbursements" in out:
        out["disbursements"] = out["disbursements"].filter(pl.col("period").is_between(pl.lit(lo), pl.lit(hi)))
    if "claims" in out:
        month = pl.col("visit_date").dt.strftime("%Y-%m")
        out["claims"] = out["claims"].filter(month.is_between(pl.lit(lo), pl.lit(hi)))
        if "claim_items" in out:
            out["claim_items"] = out["claim_items"].join(
                out["claims"].select("claim_id"), on="claim_id", how="semi"
            )
    return out


def compact_step(datasets: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Hold repetitive text columns as ``Categorical`` for detection (see :mod:`fundwatch.memory`)."""
    from .memory import compact

    return compact(datasets)


# ------------------------------------------------------------------- orchestration
class StepFuture(Protocol):
    """What ``submit`` returns: something whose ``result()`` gives the step's return value
    (a Prefect ``PrefectFuture`` is one)."""

    def result(self) -> Any: ...


#: ``submit(step, *args)`` runs pipeline step ``step`` with ``args`` and returns a future.
Submit = Callable[..., StepFuture]


@dataclass(frozen=True)
class _Done:
    value: Any

    def result(self) -> Any:
        return self.value


def inline_submit(step: Callable[..., Any], *args: Any) -> StepFuture:
    """Run ``step(*args)`` now, in this thread: the default ``submit`` of :func:`run_scan`."""
    return _Done(step(*args))


@dataclass
class StepClock:
    """Runs steps through ``submit``, timing each and telling the progress listener."""

    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, label: str, submit: Submit, step: Callable[..., Any], *args: Any) -> Any:
        """``submit(step, *args).result()``, its wall time added to ``seconds[label]``."""
        started = time.perf_counter()
        listener = progress.current()
        listener.started(label)
        ok = False
        try:
            value = submit(step, *args).result()
            ok = True
            return value
        finally:
            self.add(label, started)
            listener.finished(label, ok=ok)

    def add(self, label: str, started: float) -> None:
        self.seconds[label] = round(self.seconds.get(label, 0.0) + time.perf_counter() - started, 3)


def submit_bounded(submit: Submit, calls: Iterable[tuple[Callable[..., Any], tuple]], limit: int) -> list[Any]:
    """Submit ``(step, args)`` calls keeping at most ``limit`` unfinished; results in call order.

    Bounds how many detectors hold their working memory at once, whatever runs them
    (``settings.runtime.detect_workers``).
    """
    pending: deque[StepFuture] = deque()
    results: list[Any] = []
    for step, args in calls:
        if len(pending) >= limit:
            results.append(pending.popleft().result())
        pending.append(submit(step, *args))
    results.extend(f.result() for f in pending)
    return results


# --------------------------------------------------------------------------- detect
@dataclass
class DetectResult:
    """Findings of one or more detectors, with their timings and the detectors skipped."""

    findings: pl.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)  # detector -> why
    seconds: dict[str, float] = field(default_factory=dict)  # detector -> seconds
    rule_findings: pl.DataFrame | None = None  # the rules' part of ``findings`` (models excluded)


def detect_step(
    datasets: Mapping[str, pl.DataFrame],
    domains: Iterable[str] = DOMAIN_CHOICES,
    settings: Settings = DEFAULT_SETTINGS,
    unusable: Mapping[str, str] | None = None,
    submit: Submit = inline_submit,
    lang: str = "en",
) -> DetectResult:
    """Run every detector of ``domains``: rules first, then each model with its domain's rule findings.

    The one detection plan, for analysts and benchmarks as much as for scans: rules (part by
    part where they declare ``partition_by``), then every model with its domain's rule findings
    under :data:`fundwatch.detectors.base.FINDINGS_KEY`. At most
    ``settings.runtime.detect_workers`` detector runs are unfinished at once.

    Examples
    --------
    >>> from fundwatch.loading import load_input                       # doctest: +SKIP
    >>> findings = detect_step(load_input("city/input").datasets).findings  # doctest: +SKIP
    """
    checkpoint("detect", settings)
    limit = settings.runtime.detect_workers
    rules, models, skipped = detection_plan(datasets, domains, settings, unusable, lang)
    rule_results = submit_bounded(
        submit, [(run_detector, (datasets, name, settings, (i, n))) for name, n in rules for i in range(n)], limit
    )
    rule_findings = merge_findings(rule_results).findings
    model_calls = []
    for name in models:
        domain = detector_by_name(name, settings).domain
        with_rules = with_findings(datasets, rule_findings.filter(pl.col("domain") == domain))
        model_calls.append((run_detector, (with_rules, name, settings, (0, 1))))
    result = merge_findings(rule_results + submit_bounded(submit, model_calls, limit))
    result.skipped.update(skipped)
    result.rule_findings = rule_findings
    return result


def detector_by_name(name: str, settings: Settings = DEFAULT_SETTINGS):
    """The configured detector called ``name`` (its class name)."""
    from fundwatch import detectors

    for det in detectors.all_detectors(settings):
        if det.name() == name:
            return det
    raise KeyError(name)


def detection_plan(
    datasets: Mapping[str, pl.DataFrame],
    domains: Iterable[str],
    settings: Settings = DEFAULT_SETTINGS,
    unusable: Mapping[str, str] | None = None,
    lang: str = "en",
) -> tuple[list[tuple[str, int]], list[str], dict[str, str]]:
    """Which detectors run, in how many partitions; which are skipped and why (in ``lang``).

    Returns ``(rules, models, skipped)``: ``rules`` as ``(detector name, partitions)`` pairs
    (a rule whose class declares ``partition_by`` runs in ``settings.runtime.partitions``
    independent parts), ``models`` by name (they see whole peer groups and run once, after
    the rules of their domain), ``skipped`` detector -> why.
    """
    from fundwatch import detectors
    from fundwatch.detectors.base import skip_reason

    unusable = dict(unusable or {})
    rules: list[tuple[str, int]] = []
    models: list[str] = []
    skipped: dict[str, str] = {}
    for det in detectors.all_detectors(settings, domains):
        # absent datasets, and absent v2 columns, skip exactly the detectors that need them
        lacking = skip_reason(det, datasets, lang)
        broken = [d for d in det.requires if d in unusable]
        if lacking:
            skipped[det.name()] = lacking
        elif broken:
            names = "、".join(f"「{DATASETS[b].zh}」" for b in broken) if lang == "zh" else ", ".join(broken)
            why = "；".join(unusable[b] for b in broken)
            skipped[det.name()] = f"数据集{names}不可用:{why}" if lang == "zh" else f"dataset(s) {names} unusable: {why}"
        elif det.kind == "model":
            models.append(det.name())
        else:
            parts = settings.runtime.partitions if getattr(det, "partition_by", None) else 1
            rules.append((det.name(), parts))
    return rules, models, skipped


def partition(datasets: Mapping[str, pl.DataFrame], by: tuple[str, str], n: int, i: int) -> dict[str, pl.DataFrame]:
    """Part ``i`` of ``n`` of the event data, split by a hash of ``by = (dataset, column)``.

    Rows with equal keys land in the same part, so a rule whose findings depend only on
    the rows of one key (one person, one account) finds the same things part by part.
    Claim items follow their claims. Reference datasets are passed whole.
    """
    if n <= 1:
        return dict(datasets)
    dataset, column = by
    out = dict(datasets)
    # hash() with a fixed seed is stable across processes within one polars version (unlike
    # Python's salted hash), which is all partitions of one run need.
    key = pl.col(column).cast(pl.String).fill_null("").hash(seed=0)
    out[dataset] = datasets[dataset].filter((key % n) == i)
    if dataset == "claims" and "claim_items" in datasets:
        out["claim_items"] = datasets["claim_items"].join(out["claims"].select("claim_id"), on="claim_id", how="semi")
    return out


def run_detector(
    datasets: Mapping[str, pl.DataFrame],
    name: str,
    settings: Settings = DEFAULT_SETTINGS,
    part: tuple[int, int] = (0, 1),
) -> DetectResult:
    """Fit and run one detector (on one part of the data) and time it."""
    det = detector_by_name(name, settings)
    i, n = part
    data = partition(datasets, det.partition_by, n, i) if n > 1 else dict(datasets)
    t0 = time.perf_counter()
    findings = det.fit_detect(data)
    return DetectResult(findings, {}, {name: round(time.perf_counter() - t0, 3)})


def with_findings(datasets: Mapping[str, pl.DataFrame], findings: pl.DataFrame) -> dict:
    """``datasets`` plus the rule findings under ``FINDINGS_KEY`` (for models)."""
    from fundwatch.detectors.base import FINDINGS_KEY

    return {**datasets, FINDINGS_KEY: findings}


def merge_findings(results: Iterable[DetectResult]) -> DetectResult:
    """One :class:`DetectResult` of several: findings concatenated in the contract's order."""
    results = list(results)
    frames = [r.findings for r in results if r.findings.height]
    merged = conform_findings(pl.concat(frames)) if frames else empty_findings()
    skipped: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for r in results:
        skipped.update(r.skipped)
        for name, sec in r.seconds.items():
            seconds[name] = round(seconds.get(name, 0.0) + sec, 3)
    return DetectResult(merged, skipped, seconds)


# ----------------------------------------------------------------------------- rank
def rank_step(
    findings: pl.DataFrame,
    settings: Settings = DEFAULT_SETTINGS,
    lang: str = "zh",
    as_of: str | None = None,
    datasets: Mapping[str, pl.DataFrame] | None = None,
    store_url: str | None = None,
) -> pl.DataFrame:
    """Merge findings into ranked leads (contract's leads schema).

    ``datasets`` name the places (``regions``) and price the evidence records
    (``amount_involved``); with ``store_url`` (and ``scoring.learn_from_decisions``) the
    supervisors' earlier confirmed / dismissed decisions update each rule's prior.
    """
    from .leads import build_leads

    checkpoint("rank", settings)
    decisions = None
    if store_url and settings.scoring.learn_from_decisions:
        from .store import LeadStore

        with LeadStore(store_url, settings) as store:
            decisions = store.decisions_by_rule()
    return build_leads(findings, settings, lang=lang, as_of=as_of, datasets=datasets, decisions=decisions)


def disposition_step(leads: pl.DataFrame, store_url: str, settings: Settings = DEFAULT_SETTINGS, lang: str = "zh"):
    """Apply supervisors' earlier decisions from the store: returns ``(leads, status)``."""
    from .dispositions import apply_dispositions
    from .store import LeadStore

    with LeadStore(store_url, settings) as store:
        return apply_dispositions(leads, store.previous_leads(), store.dispositions(), settings, lang)


def evidence_step(leads: pl.DataFrame, datasets: Mapping[str, pl.DataFrame], lang: str = "zh") -> pl.DataFrame:
    """The evidence records of every lead (:func:`fundwatch.leads.evidence_table`)."""
    from .leads import evidence_table

    return evidence_table(leads, datasets, lang)


# ---------------------------------------------------------------------- write, report, store
def write_outputs_step(
    out_dir: str | Path, leads: pl.DataFrame, findings: pl.DataFrame, quarantine: pl.DataFrame, unmask: bool
) -> dict[str, str]:
    """Write ``leads.parquet``, ``leads.csv``, ``findings.parquet`` and ``quarantine.parquet``."""
    from .loading import write_quarantine
    from .outputs import write_findings, write_leads

    paths = write_leads(out_dir, leads, unmask=unmask)
    paths["findings"] = write_findings(out_dir, findings)
    paths["quarantine"] = write_quarantine(Path(out_dir) / "quarantine.parquet", quarantine)
    return {k: str(v) for k, v in paths.items()}


@dataclass(frozen=True)
class ReportInput:
    """Everything the HTML report and the workbook show about one run."""

    out_dir: str
    leads: pl.DataFrame
    status: pl.DataFrame
    findings: pl.DataFrame
    evidence: pl.DataFrame
    quarantine: pl.DataFrame
    run_info: dict
    validation: Any  # expectations.ValidationResult
    lang: str
    unmask: bool
    places: pl.DataFrame | None = None  # region_code, region_name (fundwatch.leads.region_names)


def report_step(report: ReportInput, settings: Settings = DEFAULT_SETTINGS) -> dict[str, str]:
    """Write ``report.html`` and ``leads.xlsx``."""
    from fundwatch import reports

    checkpoint("report", settings)
    summary = report.validation.summary if report.validation is not None else None
    docs_link = None
    if report.validation is not None and report.validation.docs_index is not None:
        try:
            docs_link = str(Path(report.validation.docs_index).resolve().relative_to(Path(report.out_dir).resolve()))
        except ValueError:
            docs_link = str(report.validation.docs_index)
    common = dict(
        leads=report.leads, status=report.status, evidence=report.evidence, quarantine=report.quarantine,
        run_info=report.run_info, validation_summary=summary, lang=report.lang, unmask=report.unmask,
        findings=report.findings, settings=settings,
    )
    html = reports.write_report(report.out_dir, docs_link=docs_link, places=report.places, **common)
    xlsx = reports.write_workbook(report.out_dir, **common)
    return {"report": str(html), "workbook": str(xlsx)}


def store_step(
    store_url: str,
    run_record: dict,
    leads: pl.DataFrame,
    evidence: pl.DataFrame,
    counts: pl.DataFrame,
    settings: Settings = DEFAULT_SETTINGS,
    findings: pl.DataFrame | None = None,
) -> str:
    """Write the run, its leads (with their findings' details: peer comparisons for the
    workspace's charts), evidence and quarantine summary in one transaction."""
    from .store import LeadStore

    checkpoint("store", settings)
    with LeadStore(store_url, settings) as store:
        return store.write_run(run_record, leads, evidence, counts, findings=findings)


def materialize_sources_step(sources_file: str | Path, input_dir: str | Path, target: str | Path) -> str:
    """Read the datasets named in a sources file from their databases into ``target``."""
    from .sources import materialize_sources

    return str(materialize_sources(sources_file, input_dir, target))


# ----------------------------------------------------------------------------- scan
@dataclass(frozen=True)
class ScanRequest:
    """What to scan and how: the parameters of ``fundwatch scan`` and of the Prefect flow.

    Parameters
    ----------
    input_dir : folder holding the contract's datasets.
    out_dir : where ``run.json``, the leads, reports and validation results go.
    store_url : SQLAlchemy URL of the lead store; default SQLite ``OUT_DIR/leads.sqlite``.
    domains : ``("subsidy", "medical")`` or one of them.
    period_start, period_end : first and last event month scanned (``YYYY-MM``), or None.
    unmask : identity numbers and names whole in readable outputs (recorded in run.json).
    lang : language of titles, evidence and reports, ``zh`` or ``en``.
    settings : the typed settings of this run.
    sources_file : optional TOML naming SQL tables to read datasets from.
    """

    input_dir: str
    out_dir: str
    store_url: str | None = None
    domains: tuple[str, ...] = DOMAIN_CHOICES
    period_start: str | None = None
    period_end: str | None = None
    unmask: bool = False
    lang: str = "zh"
    settings: Settings = DEFAULT_SETTINGS
    sources_file: str | None = None

    @classmethod
    def from_options(
        cls,
        input_dir: str | Path,
        out_dir: str | Path,
        *,
        domain: str = "all",
        settings_file: str | Path | None = None,
        partitions: int | None = None,
        **options: Any,
    ) -> "ScanRequest":
        """A request from command-line or flow parameters (strings, a settings file, partitions).

        Raises :class:`InputError` for a malformed period, an unknown domain or a settings file
        that does not parse.
        """
        import re

        for key in ("period_start", "period_end"):
            value = options.get(key)
            if value and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
                raise InputError(f"period {value!r} must look like 2025-03", zh=f"期间 {value!r} 应写成 2025-03 的形式")
        settings = load_settings(settings_file)
        if partitions:
            settings = settings.model_copy(update={"runtime": settings.runtime.model_copy(update={"partitions": partitions})})
        return cls(str(input_dir), str(out_dir), domains=parse_domains(domain), settings=settings, **options)


def load_settings(settings_file: str | Path | None) -> Settings:
    """The settings of a run: defaults, overridden by a TOML/JSON file when one is given.

    Raises :class:`InputError` naming the file when it is missing or does not parse.
    """
    if not settings_file:
        return DEFAULT_SETTINGS
    from pydantic import ValidationError

    path = Path(settings_file)
    if not path.is_file():
        raise InputError(f"settings file {path} does not exist: pass a .toml or .json file", path=str(path),
                         zh=f"设置文件 {path} 不存在:请给出 .toml 或 .json 文件")
    try:
        return Settings.from_file(path)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise InputError(f"settings file {path}: {where}: {first['msg']}: fix or remove that entry", path=str(path),
                         zh=f"设置文件 {path}:{where} 的值不合要求({first['msg']}):请改正或删除该项") from None
    except ValueError as exc:  # TOML/JSON syntax
        raise InputError(f"settings file {path} does not parse ({exc}): fix its syntax", path=str(path),
                         zh=f"设置文件 {path} 无法解析({exc}):请检查其格式") from None


@dataclass
class ScanResult:
    """A finished scan: its record (``run.json``) and the leads it wrote."""

    record: RunRecord
    leads: pl.DataFrame


def run_scan(request: ScanRequest, submit: Submit = inline_submit, orchestrator: Orchestrator = "inline") -> ScanResult:
    """Scan one input directory: load, validate, detect, rank, write, report, store.

    The one place the order of a scan is written. Every step runs through ``submit``
    (:func:`inline_submit` by default; the Prefect flow passes its tasks' ``submit``), is timed
    into ``run.json``'s ``timings`` and reported to the progress listener.

    Parameters
    ----------
    request : what to scan and how.
    submit : runs one step; see :data:`Submit`.
    orchestrator : recorded in ``run.json`` (``inline``, ``prefect`` or ``dask``).

    Raises
    ------
    fundwatch.errors.InputError : bad input that cannot be quarantined row by row.
    """
    from .leads import region_names

    s = request.settings
    out = Path(request.out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    store_url = request.store_url or default_store_url(out)
    clock = StepClock()
    started_at = now_iso()
    run_id = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}"

    input_dir = request.input_dir
    if request.sources_file:
        input_dir = clock.run("sources", submit, materialize_sources_step, request.sources_file, input_dir, out / "sources")
    loaded = clock.run("load", submit, load_step, input_dir, request.domains, s)
    validation = clock.run("validate", submit, validate_step, loaded.datasets, str(out), s, loaded)
    # The accepted rows are all the later steps need: drop the loaded frames (and below the
    # validated ones), so peak memory holds one copy of the data, not two.
    loaded.datasets.clear()
    restricted = clock.run("restrict", submit, restrict_periods, validation.datasets, request.period_start, request.period_end)
    validation.datasets.clear()
    data = clock.run("compact", submit, compact_step, restricted)
    restricted.clear()

    started = time.perf_counter()
    detected = detect_step(data, request.domains, s, validation.unusable, submit, request.lang)
    clock.add("detect", started)

    period = period_range(data)
    leads = clock.run("rank", submit, rank_step, detected.findings, s, request.lang, period[1], data, store_url)
    leads, status = clock.run("dispositions", submit, disposition_step, leads, store_url, s, request.lang)
    evidence = clock.run("evidence", submit, evidence_step, leads, data, request.lang)

    quarantine = all_quarantine(loaded.quarantine, validation.quarantine)
    counts = counts_frame(loaded.counts, validation.quarantine)
    # read from the compacted data: validation.datasets was emptied above to free memory
    places = region_names(data.get("regions"))
    record = build_run_record(
        request, run_id=run_id, started_at=started_at, input_dir=input_dir, out_dir=str(out), store_url=store_url,
        loaded=loaded, validation=validation, counts=counts, detected=detected, leads=leads, status=status,
        period=period, orchestrator=orchestrator, places=places, evidence=evidence,
    )
    record.outputs = clock.run("write", submit, write_outputs_step, str(out), leads, detected.findings, quarantine, request.unmask)
    report = ReportInput(
        str(out), leads, status, detected.findings, evidence, quarantine, record.as_dict(), validation,
        request.lang, request.unmask, places,
    )
    record.outputs.update(clock.run("report", submit, report_step, report, s))
    record.timings = dict(clock.seconds)
    record.finished_at = now_iso()
    clock.run("store", submit, store_step, store_url, record.as_dict(), leads, evidence, counts, s, detected.findings)
    record.timings = dict(clock.seconds)
    record.write(out)
    return ScanResult(record, leads)


def build_run_record(
    request: ScanRequest, *, run_id, started_at, input_dir, out_dir, store_url, loaded, validation, counts,
    detected: DetectResult, leads: pl.DataFrame, status: pl.DataFrame | None, period, orchestrator: Orchestrator,
    places: pl.DataFrame, evidence: pl.DataFrame,
) -> RunRecord:
    """Everything run.json says about a run; no personal data (``places``: the region names,
    :func:`fundwatch.leads.region_names`; ``evidence`` dates the money of each month)."""
    from .leads import money_by, money_by_month, place_names, total_at_risk

    datasets = {r["dataset"]: dict(r) for r in counts.to_dicts()}
    rps = getattr(validation, "rows_per_second", {}) or {}
    for name, c in loaded.counts.items():
        datasets[name].pop("dataset", None)
        datasets[name]["files"] = [str(f) for f in c.files]
        datasets[name]["load_seconds"] = round(c.seconds, 3)
        if name in rps:
            datasets[name]["validation_rows_per_second"] = round(float(rps[name]), 1)
    sev = leads.group_by("severity").len().sort("severity").to_dicts() if leads.height else []
    months = money_by_month(leads, evidence)
    failed = 0
    if validation.summary is not None and validation.summary.height:
        failed = int(validation.summary.filter(~pl.col("success")).height)
    return RunRecord(
        run_id=run_id,
        started_at=started_at,
        orchestrator=orchestrator,
        input_dir=str(input_dir),
        out_dir=out_dir,
        store=display_url(store_url),
        input_fingerprint=loaded.fingerprint,
        domains=list(request.domains),
        period_start=period[0],
        period_end=period[1],
        period_filter={"start": request.period_start, "end": request.period_end},
        unmask=bool(request.unmask),
        lang=request.lang,
        datasets=datasets,
        rows={
            "read": int(counts["rows_read"].sum()),
            "accepted": int(counts["rows_accepted"].sum()),
            "quarantined": int(counts["rows_quarantined"].sum()),
        },
        ignored_files=[str(x) for x in getattr(loaded, "ignored", [])],
        absent_columns={k: list(v) for k, v in loaded.absent_columns.items() if v},
        validation={
            "failed_expectations": failed,
            "unusable": dict(validation.unusable),
            "docs_index": str(validation.docs_index) if validation.docs_index else None,
        },
        detectors={"seconds": detected.seconds, "skipped": detected.skipped},
        findings=int(detected.findings.height),
        leads={
            "count": int(leads.height),
            "by_severity": {r["severity"]: int(r["len"]) for r in sev},
            # money in doubt: each record's money once, however many leads cite it
            "amount_at_risk": total_at_risk(leads),
            "money_by": money_by(leads, months),
            "leads_by_month": {k: int(n) for k, n, _ in months.iter_rows()},
            "place_names": place_names(leads, places),
            "new": int(status["is_new"].sum()) if status is not None and "is_new" in status.columns else None,
        },
        settings_hash=settings_hash(request.settings),
        versions=versions(),
    )


# --------------------------------------------------------------------------- helpers
def default_store_url(out_dir: str | Path) -> str:
    """The embedded default store: a SQLite file in the output directory."""
    return f"sqlite:///{Path(out_dir).resolve() / 'leads.sqlite'}"


def counts_frame(load_counts: Mapping, validation_quarantine: pl.DataFrame | None) -> pl.DataFrame:
    """Per dataset: rows read, accepted and quarantined (loader + validation), reconciled."""
    vq = (
        # rows are numbered by their line in their own file: a row is (file, line)
        validation_quarantine.group_by("dataset").agg(pl.struct("source_file", "row_number").n_unique().alias("vq"))
        if validation_quarantine is not None and validation_quarantine.height
        else pl.DataFrame(schema={"dataset": pl.String, "vq": pl.UInt32})
    )
    rows = [
        {
            "dataset": name,
            "rows_read": c.rows_read,
            "rows_quarantined_load": c.rows_quarantined,
        }
        for name, c in sorted(load_counts.items())
    ]
    frame = pl.DataFrame(
        rows, schema={"dataset": pl.String, "rows_read": pl.Int64, "rows_quarantined_load": pl.Int64}
    )
    frame = frame.join(vq, on="dataset", how="left").with_columns(pl.col("vq").fill_null(0).cast(pl.Int64))
    return frame.select(
        "dataset",
        "rows_read",
        (pl.col("rows_read") - pl.col("rows_quarantined_load") - pl.col("vq")).alias("rows_accepted"),
        (pl.col("rows_quarantined_load") + pl.col("vq")).alias("rows_quarantined"),
        pl.col("rows_quarantined_load").alias("quarantined_on_load"),
        pl.col("vq").alias("quarantined_by_validation"),
    )


def all_quarantine(*frames: pl.DataFrame | None) -> pl.DataFrame:
    """The quarantine frames of load and validation, as one, in a fixed order."""
    parts = [f.select(list(QUARANTINE_SCHEMA)).cast(dict(QUARANTINE_SCHEMA)) for f in frames if f is not None and f.height]
    if not parts:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    return pl.concat(parts).sort(["dataset", "source_file", "row_number", "column"])


def settings_hash(settings: Settings) -> str:
    """A short hash of the settings, recorded with every run."""
    return hashlib.sha256(settings.model_dump_json().encode()).hexdigest()[:16]


#: The libraries whose versions decide a run's results: (distribution, import name).
VERSIONED = (
    ("polars", "polars"), ("great-expectations", "great_expectations"), ("prefect", "prefect"),
    ("pyod", "pyod"), ("scikit-learn", "sklearn"), ("sqlalchemy", "sqlalchemy"),
)


def versions() -> dict[str, str]:
    """Versions of fundwatch, Python and the libraries that decide its results.

    A library the run already imported gives its ``__version__`` (free); the others are read
    from their installed metadata, which scans site-packages (tenths of a second each).
    """
    import importlib.metadata as md
    import sys

    out = {"fundwatch": __version__, "python": platform.python_version()}
    for dist, module in VERSIONED:
        loaded = getattr(sys.modules.get(module), "__version__", None)
        try:
            out[dist] = str(loaded) if loaded else md.version(dist)
        except md.PackageNotFoundError:  # pragma: no cover
            out[dist] = "absent"
    return out


def display_url(url: str) -> str:
    """A database URL as it may be shown and recorded: its password replaced by ``***``."""
    import re

    return re.sub(r"^([\w+.-]+://[^:/@]*:)[^@]*@", r"\1***@", url)


def period_range(datasets: Mapping[str, pl.DataFrame]) -> tuple[str | None, str | None]:
    """First and last month of the event data."""
    months: list[str] = []
    if "disbursements" in datasets and datasets["disbursements"].height:
        s = datasets["disbursements"].select(pl.col("period").min().alias("a"), pl.col("period").max().alias("b")).row(0)
        months += [m for m in s if m]
    if "claims" in datasets and datasets["claims"].height:
        s = datasets["claims"].select(
            pl.col("visit_date").min().dt.strftime("%Y-%m").alias("a"),
            pl.col("visit_date").max().dt.strftime("%Y-%m").alias("b"),
        ).row(0)
        months += [m for m in s if m]
    return (min(months), max(months)) if months else (None, None)


def now_iso() -> str:
    """Now, UTC, to the second, ISO 8601."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
