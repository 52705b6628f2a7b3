"""Running the suites: :func:`validate`.

For each dataset present, in :data:`expectations.cross.ORDER`:

1. table-level checks (columns present, contract types) are decided from the schema; a
   critical failure makes the dataset *unusable*: its row-level checks are not run, it is left
   out of ``ValidationResult.datasets`` and ``unusable`` says why; the run continues;
2. every row-level check's mask is computed once in polars over the whole frame (uniqueness
   and cross-dataset joins need the whole frame; boolean columns are bit-packed, so this stays
   small even at 10M rows);
3. GE validates the frame in chunks of ``settings.validation.chunk_rows`` rows (pandas copy of
   one chunk at a time: bounded memory) and the chunk results are merged into one;
4. rows failing a critical row-level check are quarantined, one quarantine row per
   (row, failed check); the rest are accepted. ``len(input) == len(accepted) + distinct
   quarantined rows`` always.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from fundwatch.contract import DATASETS, QUARANTINE_SCHEMA
from fundwatch.settings import DEFAULT_SETTINGS, Settings

from . import cross
from .docs import SUMMARY_SCHEMA, examples_of, make_offline, write_validation_json
from .gxsession import GxSession
from .registry import SUITES
from .spec import CRITICAL, Check, Ctx


@dataclass
class ValidationResult:
    """What :func:`validate` returns (see docs/architecture.md)."""

    datasets: dict[str, pl.DataFrame]
    quarantine: pl.DataFrame
    unusable: dict[str, str]
    summary: pl.DataFrame
    docs_index: Path | None
    rows_per_second: dict[str, float]


def dataset_checks(dataset: str, settings: Settings, available: set[str]) -> tuple[list[Check], list[Check]]:
    """(active, skipped) checks of ``dataset``: its suite plus its cross-dataset checks.

    A cross-dataset check is skipped when a dataset it needs is not in ``available``.
    """
    s = settings.validation
    all_checks = SUITES[dataset](s) + cross.checks(dataset, s)
    active = [c for c in all_checks if all(n in available for n in c.needs)]
    skipped = [c for c in all_checks if c not in active]
    return active, skipped


def validate(
    datasets: dict[str, pl.DataFrame],
    out_dir: str | Path,
    settings: Settings = DEFAULT_SETTINGS,
    build_docs: bool = True,
) -> ValidationResult:
    """Validate loaded datasets against their suites; quarantine rows failing critical checks.

    Parameters
    ----------
    datasets : contract dataset name -> frame in the canonical schema (absent datasets are fine).
    out_dir : run output directory; writes ``out_dir/validation/validation.json`` and, with
        ``build_docs``, the Data Docs site under ``out_dir/validation/data_docs/``.
    settings : the run's settings (section ``validation``).
    build_docs : build the GE Data Docs site (also needs ``settings.validation.build_docs``).

    Returns
    -------
    ValidationResult
        accepted rows per usable dataset, quarantine rows (``QUARANTINE_SCHEMA``), unusable
        datasets with the reason, a per-expectation summary, the Data Docs index and the
        validation speed per dataset.
    """
    s = settings.validation
    out = Path(out_dir) / "validation"
    out.mkdir(parents=True, exist_ok=True)
    docs = build_docs and s.build_docs
    session = GxSession(out / "data_docs" if docs else None, s)

    context_frames: dict[str, pl.DataFrame] = dict(datasets)
    accepted: dict[str, pl.DataFrame] = {}
    unusable: dict[str, str] = {}
    quarantines: list[pl.DataFrame] = []
    summary_rows: list[dict] = []
    report: dict[str, dict] = {}
    rps: dict[str, float] = {}

    unknown = sorted(set(datasets) - set(SUITES))
    for name in [n for n in cross.ORDER if n in datasets]:
        frame = datasets[name]
        t0 = time.perf_counter()
        active, absent_needs = dataset_checks(name, settings, set(context_frames))
        skipped = [(c, f"skipped: needs {', '.join(n for n in c.needs if n not in context_frames)} (absent)") for c in absent_needs]
        ctx = Ctx(name, s, context_frames)

        table_checks = [c for c in active if c.level == "table"]
        row_checks = [c for c in active if c.level == "row"]
        table_ok = {c.name: bool(pl.select(c.ok(frame, ctx)).item()) for c in table_checks}
        broken = [c for c in table_checks if c.severity == CRITICAL and not table_ok[c.name]]
        if broken:
            unusable[name] = "; ".join(c.reason for c in broken)
            # row-level checks cannot be trusted on a broken table: report them as not run
            skipped += [(c, "not run: dataset unusable") for c in row_checks]
            row_checks = []
        else:
            # a check on a column that is optional and absent is not run
            missing_cols = [c for c in row_checks if not all(col in frame.columns for col in c.columns)]
            skipped += [(c, "not run: optional column absent") for c in missing_cols]
            row_checks = [c for c in row_checks if c not in missing_cols]

        masks = _row_masks(frame, row_checks, ctx)
        checks = table_checks + row_checks
        suite = session.build_suite(name, checks)
        chunk_results = []
        n = frame.height
        step = s.chunk_rows
        for start in range(0, max(n, 1), step):
            part = frame.slice(start, step)
            derived = [pl.lit(table_ok[c.name]).alias(c.derived_column) for c in table_checks if c.expect is None]
            pdf = (
                part.with_columns(derived)
                .hstack(masks.slice(start, step).select([c.derived_column for c in row_checks if c.expect is None]))
                .to_pandas()
            )
            chunk_results.append(session.validate_chunk(name, pdf, suite))
            del pdf
        seconds = time.perf_counter() - t0
        merged = session.merge(name, suite, checks, chunk_results, {"rows": n, "chunks": len(chunk_results), "seconds": seconds})
        session.store(name, merged)

        # quarantine: every failing row of every critical row-level check
        bad_any = pl.repeat(False, n, eager=True)
        for c in row_checks:
            if c.severity != CRITICAL:
                continue
            fail = ~masks.get_column(c.derived_column)
            if not fail.any():
                continue
            bad_any = bad_any | fail
            quarantines.append(_quarantine_rows(name, frame, c, fail))
        if name in unusable:
            # checks of later datasets that read this one are skipped rather than run on bad data
            context_frames.pop(name, None)
        else:
            # no copy of a clean dataset: at city scale a filtered copy costs gigabytes
            acc = frame.filter(~bad_any) if bad_any.any() else frame
            accepted[name] = acc
            context_frames[name] = acc
        seconds = time.perf_counter() - t0
        rps[name] = n / seconds if seconds > 0 else float("inf")

        rows = _summarise(name, frame, checks, skipped, merged, masks, table_ok, s.examples)
        summary_rows.extend(rows)
        report[name] = {
            "rows": n,
            "accepted": accepted[name].height if name in accepted else 0,
            "quarantined_rows": int(bad_any.sum()),
            "usable": name not in unusable,
            "unusable_reason": unusable.get(name),
            "seconds": round(seconds, 3),
            "rows_per_second": round(rps[name], 1),
            "chunks": len(chunk_results),
            "ge_success": bool(merged.success),
            "expectations": rows,
        }

    quarantine = (
        pl.concat(quarantines, how="vertical") if quarantines else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    )
    summary = pl.DataFrame(summary_rows, schema=SUMMARY_SCHEMA) if summary_rows else pl.DataFrame(schema=SUMMARY_SCHEMA)
    dataset_success = {d: bool(r["ge_success"]) for d, r in report.items()}
    docs_index = session.build_docs()
    if docs_index is not None:
        make_offline(docs_index.parent, dataset_success)
    write_validation_json(out / "validation.json", report, unusable, unknown, docs_index, out)
    return ValidationResult(accepted, quarantine, unusable, summary, docs_index, rps)


def _row_masks(frame: pl.DataFrame, checks: list[Check], ctx: Ctx) -> pl.DataFrame:
    """One boolean column ``fw__<check>`` per row-level check: True where the row passes."""
    exprs, series = [], []
    for c in checks:
        r = c.ok(frame, ctx)
        if isinstance(r, pl.Series):
            series.append(r.fill_null(True).alias(c.derived_column))
        else:
            exprs.append(r.fill_null(True).alias(c.derived_column))
    masks = frame.select(exprs) if exprs else pl.DataFrame()
    if series:
        masks = masks.hstack(series) if masks.width else pl.DataFrame(series)
    if not masks.width:
        masks = pl.DataFrame({"__none": pl.repeat(True, frame.height, eager=True)})
    return masks


def _quarantine_rows(dataset: str, frame: pl.DataFrame, check: Check, fail: pl.Series) -> pl.DataFrame:
    cols = [c for c in check.columns if c in frame.columns]
    raw = pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in cols], separator=" | ") if cols else pl.lit("")
    return (
        frame.with_row_index("__row", offset=1)
        .filter(fail)
        .select(
            pl.lit(dataset).alias("dataset"),
            pl.lit("").alias("source_file"),
            pl.col("__row").cast(pl.Int64).alias("row_number"),
            pl.lit(",".join(cols)).alias("column"),
            raw.alias("raw_value"),
            pl.lit(check.reason).alias("reason"),
        )
        .cast(dict(QUARANTINE_SCHEMA))
    )


def _summarise(dataset, frame, checks, skipped, merged, masks, table_ok, k) -> list[dict]:
    by_name = {r.expectation_config.meta["fw_check"]: r for r in merged.results}
    rows = []
    for c in checks:
        r = by_name.get(c.name)
        res = (r.result or {}) if r is not None else {}
        examples: list[str] = []
        if c.level == "row" and c.derived_column in masks.columns:
            examples = examples_of(dataset, frame, c, ~masks.get_column(c.derived_column), k)
        rows.append(
            {
                "dataset": dataset,
                "expectation": c.name,
                "ge_expectation": r.expectation_config.type if r is not None else None,
                "severity": c.severity,
                "level": c.level,
                "description": c.text,
                "success": bool(r.success) if r is not None else None,
                "unexpected_count": int(res.get("unexpected_count", 0) or 0) if c.level == "row" else (0 if table_ok.get(c.name, True) else None),
                "unexpected_percent": float(res.get("unexpected_percent", 0.0) or 0.0) if c.level == "row" else None,
                "element_count": int(res.get("element_count", frame.height) or 0),
                "examples": examples,
                "skipped": None,
            }
        )
    for c, why in skipped:
        rows.append(
            {
                "dataset": dataset, "expectation": c.name, "ge_expectation": None, "severity": c.severity,
                "level": c.level, "description": c.text, "success": None, "unexpected_count": None,
                "unexpected_percent": None, "element_count": frame.height, "examples": [], "skipped": why,
            }
        )
    return rows
