"""The scan, as plain steps: load, validate, detect, rank, store, report.

Each function is one I/O step or one transform and knows nothing about Prefect; the
Prefect flow in :mod:`flows.scan` wraps each one in a task, and the benchmarks call them
directly to time them. ``run.json`` is assembled here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

from . import __version__
from .contract import DATASETS, QUARANTINE_SCHEMA
from .errors import InjectedFault, InputError
from .settings import DEFAULT_SETTINGS, Settings

STEPS = ("load", "validate", "detect", "rank", "store", "report")
DOMAIN_CHOICES = ("subsidy", "medical")


def parse_domains(domain: str | Iterable[str]) -> tuple[str, ...]:
    """``"all"`` -> both domains; ``"subsidy"`` -> ``("subsidy",)``; lists pass through, checked."""
    if isinstance(domain, str):
        items = DOMAIN_CHOICES if domain == "all" else tuple(x.strip() for x in domain.split(","))
    else:
        items = tuple(domain)
    bad = [d for d in items if d not in DOMAIN_CHOICES]
    if bad or not items:
        raise InputError(f"unknown domain {', '.join(bad) or '(none)'}: use subsidy, medical or all")
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

    names: set[str] = set()
    for det in detectors.all_detectors(settings, domains):
        names.update(det.requires)
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
    if not input_dir.is_dir():
        raise InputError(f"input directory {input_dir} does not exist: pass the folder that holds the datasets")
    present = set(discover(input_dir))
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
            f"or run with --domain for the data you have"
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
            f"work on a Dask cluster (--dask-address)"
        )


# ------------------------------------------------------------------------- validate
def validate_step(datasets: Mapping[str, pl.DataFrame], out_dir: str | Path, settings: Settings = DEFAULT_SETTINGS):
    """Run the Great Expectations suites; returns accepted rows and quarantined ones."""
    from fundwatch import expectations

    checkpoint("validate", settings)
    return expectations.validate(dict(datasets), Path(out_dir).resolve(), settings)


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


# --------------------------------------------------------------------------- detect
@dataclass
class DetectResult:
    findings: pl.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)  # detector -> why
    seconds: dict[str, float] = field(default_factory=dict)  # detector -> seconds
    rule_findings: pl.DataFrame | None = None  # the rules' part of ``findings`` (models excluded)


def detect_step(
    datasets: Mapping[str, pl.DataFrame],
    domains: Iterable[str] = DOMAIN_CHOICES,
    settings: Settings = DEFAULT_SETTINGS,
    unusable: Mapping[str, str] | None = None,
) -> DetectResult:
    """Every detector of ``domains``, one after another, without Prefect.

    Rules first (part by part where they partition), then each model with its domain's rule
    findings. The flow (``flows.scan.detect_all``) runs the same plan as concurrent tasks;
    analysts, benchmarks and tests call this.
    """
    checkpoint("detect", settings)
    rules, models, skipped = detection_plan(datasets, domains, settings, unusable)
    rule_results = [run_detector(datasets, name, settings, (i, n)) for name, n in rules for i in range(n)]
    rule_findings = merge_findings(rule_results).findings
    model_results = []
    for name in models:
        domain = detector_by_name(name, settings).domain
        with_rules = with_findings(datasets, rule_findings.filter(pl.col("domain") == domain))
        model_results.append(run_detector(with_rules, name, settings))
    result = merge_findings(rule_results + model_results)
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
) -> tuple[list[tuple[str, int]], list[str], dict[str, str]]:
    """Which detectors run, in how many partitions; which are skipped and why.

    Returns ``(rules, models, skipped)``: ``rules`` as ``(detector name, partitions)`` pairs
    (a rule whose class declares ``partition_by`` runs in ``settings.runtime.partitions``
    independent parts), ``models`` by name (they see whole peer groups and run once, after
    the rules of their domain), ``skipped`` detector -> why.
    """
    from fundwatch import detectors

    unusable = dict(unusable or {})
    rules: list[tuple[str, int]] = []
    models: list[str] = []
    skipped: dict[str, str] = {}
    for det in detectors.all_detectors(settings, domains):
        lacking = [d for d in det.requires if d not in datasets]
        broken = [d for d in det.requires if d in unusable]
        if lacking:
            skipped[det.name()] = f"dataset(s) {', '.join(lacking)} absent"
        elif broken:
            skipped[det.name()] = f"dataset(s) {', '.join(broken)} unusable: " + "; ".join(unusable[b] for b in broken)
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
    """``datasets`` plus the rule findings under ``detectors.base.FINDINGS_KEY`` (for models)."""
    from fundwatch.detectors.base import FINDINGS_KEY

    return {**datasets, FINDINGS_KEY: findings}


def merge_findings(results: Iterable[DetectResult]) -> DetectResult:
    from fundwatch.detectors.base import conform_findings, empty_findings

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
    findings: pl.DataFrame, settings: Settings = DEFAULT_SETTINGS, lang: str = "zh", as_of: str | None = None
) -> pl.DataFrame:
    """Merge findings into ranked leads (contract's leads schema).

    ``as_of`` is the data's latest month (``YYYY-MM``), from which recency is scored.
    """
    from .leads import build_leads

    checkpoint("rank", settings)
    return build_leads(findings, settings, lang=lang, as_of=as_of)


def disposition_step(leads: pl.DataFrame, store_url: str, settings: Settings = DEFAULT_SETTINGS):
    """Apply supervisors' earlier decisions from the store: returns ``(leads, status)``."""
    from .dispositions import apply_dispositions
    from .store import LeadStore

    store = LeadStore(store_url)
    return apply_dispositions(leads, store.previous_leads(), store.dispositions())


# ---------------------------------------------------------------------------- store
def store_step(
    store_url: str,
    run_record: dict,
    leads: pl.DataFrame,
    evidence: pl.DataFrame,
    counts: pl.DataFrame,
    settings: Settings = DEFAULT_SETTINGS,
) -> str:
    """Write the run, its leads, evidence and quarantine summary in one transaction."""
    from .store import LeadStore

    checkpoint("store", settings)
    return LeadStore(store_url).write_run(run_record, leads, evidence, counts)


# --------------------------------------------------------------------------- helpers
def default_store_url(out_dir: str | Path) -> str:
    """The embedded default store: a SQLite file in the output directory."""
    return f"sqlite:///{Path(out_dir).resolve() / 'leads.sqlite'}"


def counts_frame(load_counts: Mapping, validation_quarantine: pl.DataFrame | None) -> pl.DataFrame:
    """Per dataset: rows read, accepted and quarantined (loader + validation), reconciled."""
    vq = (
        validation_quarantine.group_by("dataset").agg(pl.col("row_number").n_unique().alias("vq"))
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
    parts = [f.select(list(QUARANTINE_SCHEMA)).cast(dict(QUARANTINE_SCHEMA)) for f in frames if f is not None and f.height]
    if not parts:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    return pl.concat(parts).sort(["dataset", "source_file", "row_number", "column"])


def settings_hash(settings: Settings) -> str:
    return hashlib.sha256(settings.model_dump_json().encode()).hexdigest()[:16]


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"fundwatch": __version__, "python": platform.python_version()}
    for pkg in ("polars", "great-expectations", "prefect", "pyod", "scikit-learn", "sqlalchemy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover
            out[pkg] = "absent"
    return out


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


def write_run_json(out_dir: str | Path, run: dict) -> Path:
    """Write ``run.json`` (no personal data in it: counts, timings, versions, paths)."""
    path = Path(out_dir) / "run.json"
    path.write_text(json.dumps(run, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class StepTimer:
    """Collects wall time per step for run.json."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, step: str, started: float) -> None:
        self.seconds[step] = round(self.seconds.get(step, 0.0) + time.perf_counter() - started, 3)

    def as_dict(self) -> dict[str, float]:
        return dict(self.seconds)


__all__ = [
    "STEPS",
    "parse_domains",
    "load_step",
    "validate_step",
    "restrict_periods",
    "detect_step",
    "merge_findings",
    "rank_step",
    "disposition_step",
    "store_step",
    "counts_frame",
    "default_store_url",
    "write_run_json",
    "versions",
    "asdict",
]
