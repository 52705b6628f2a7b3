"""Running the suites: :func:`validate`.

For each dataset present, in :data:`expectations.cross.ORDER`, **each check is evaluated
once, over every row** (see :mod:`expectations.gxsession` for how GE is fed):

1. table-level checks (columns present, contract types) are decided from the schema; a
   critical failure makes the dataset *unusable*: its row-level checks are not run, it is left
   out of ``ValidationResult.datasets`` and ``unusable`` says why; the run continues;
2. checks the loader already applied to every row it read (``load`` given: a required value
   present, a listed code, a region code, a period, an identity number in ``persons``, and
   every value that had to be read as a date, an amount …) are **not** run again: their
   results are the loader's rejections, recorded as failed expectations with their rows
   (source file, line, record id) — the same rows that are in the quarantine;
3. every other check runs in one GE validation of the whole dataset;
4. rows failing a critical check are quarantined, one quarantine row per (row, failed
   check), numbered like the loader numbers them (file and line, record id); the rest are
   accepted. ``len(input) == len(accepted) + distinct quarantined rows`` always.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from great_expectations.core.expectation_validation_result import ExpectationValidationResult

from fundwatch.contract import DATASETS, PERSON_ID_STRICT_DATASETS, QUARANTINE_SCHEMA
from fundwatch.settings import DEFAULT_SETTINGS, Settings

from . import cross
from .custom import CheckRegistry
from .docs import SUMMARY_SCHEMA, example_rows, examples_text, make_offline, write_audit_pages, write_validation_json
from .gxsession import GxSession, is_critical, mask_values, native_columns
from .registry import SUITES
from .spec import CRITICAL, Check, Ctx, derived
from .texts import KIND_EN, KIND_ZH

#: Reason the loader gives for an empty required value (fundwatch.loading).
EMPTY_REASON = "required value is empty"
#: Column the loader gives for a problem of the whole row.
WHOLE_ROW = "*"


@dataclass
class ValidationResult:
    """What :func:`validate` returns (see docs/architecture.md)."""

    datasets: dict[str, pl.DataFrame]
    quarantine: pl.DataFrame
    unusable: dict[str, str]
    summary: pl.DataFrame
    docs_index: Path | None
    rows_per_second: dict[str, float]
    audit_pages: dict[str, Path] = field(default_factory=dict)


def dataset_checks(dataset: str, settings: Settings, available: set[str]) -> tuple[list[Check], list[Check]]:
    """(active, skipped) checks of ``dataset``: its suite plus its cross-dataset checks.

    A cross-dataset check is skipped when a dataset it needs is not in ``available``.
    """
    s = settings.validation
    all_checks = SUITES[dataset](s) + cross.checks(dataset, s)
    active = [c for c in all_checks if all(n in available for n in c.needs)]
    skipped = [c for c in all_checks if c not in active]
    return active, skipped


# --------------------------------------------------------------------------- load-time checks
def load_check_name(dataset: str, column: str, reason: str) -> str:
    """The check a loader rejection belongs to (``visit_type`` "not one of …" -> ``visit_type_in_set``)."""
    if column == WHOLE_ROW:
        return "rows_well_formed"
    if reason == EMPTY_REASON:
        return f"{column}_not_null"
    col = next((c for c in DATASETS[dataset].columns if c.name == column), None)
    kind = col.kind if col is not None else "str"
    if kind in ("enum", "gender"):
        return f"{column}_in_set"
    if kind == "region":
        return f"{column}_12_digits"
    if kind == "period":
        return f"{column}_is_period"
    if kind == "person" and dataset in PERSON_ID_STRICT_DATASETS:
        return f"{column}_valid_gb11643"
    return f"{column}_readable"


def load_covered(dataset: str) -> set[str]:
    """Checks the loader applies to every row of ``dataset`` it reads (never run again)."""
    names = set()
    for c in DATASETS[dataset].columns:
        if not c.nullable and c.default is None:
            names.add(f"{c.name}_not_null")
        if c.kind in ("enum", "gender"):
            names.add(f"{c.name}_in_set")
        elif c.kind == "region":
            names.add(f"{c.name}_12_digits")
        elif c.kind == "period":
            names.add(f"{c.name}_is_period")
        elif c.kind == "person" and dataset in PERSON_ID_STRICT_DATASETS:
            names.add(f"{c.name}_valid_gb11643")
    return names


def _load_only_check(dataset: str, name: str) -> Check:
    """A check that exists only at load (a value readable as its kind; rows well formed)."""
    if name == "rows_well_formed":
        return derived(name, "every row has the header's fields and is not blank", CRITICAL, (WHOLE_ROW,),
                       lambda f, c: pl.lit(True))
    column = name.removesuffix("_readable")
    col = next((c for c in DATASETS[dataset].columns if c.name == column), None)
    kind = col.kind if col is not None else "str"
    zh = col.zh if col is not None else column
    return derived(name, f"{column} can be read as {KIND_EN.get(kind, kind)}", CRITICAL, (column,),
                   lambda f, c: pl.lit(True), text_zh=f"{zh}可读取为{KIND_ZH.get(kind, kind)}")


def _load_result(exp: Any, rows: pl.DataFrame, rows_read: int, k: int, dataset: str, column: str | None) -> ExpectationValidationResult:
    """A GE result recorded from the loader's rejections of one check (not evaluated again)."""
    bad = rows.select(pl.struct("source_file", "row_number").n_unique()).item() if rows.height else 0
    first = rows.unique(["source_file", "row_number"], keep="first", maintain_order=True).head(k)
    values = mask_values(dataset, column, first.get_column("raw_value").to_list()) if first.height else []
    return ExpectationValidationResult(
        success=bad == 0,
        expectation_config=exp.configuration,
        result={
            "element_count": rows_read,
            "unexpected_count": bad,
            "unexpected_percent": 100.0 * bad / rows_read if rows_read else 0.0,
            "partial_unexpected_list": values,
            "observed_value": f"{bad:,} of {rows_read:,} rows rejected on load",
        },
        meta={"source": "load"},
    )


# --------------------------------------------------------------------------- rows
def _key_columns(dataset: str, frame: pl.DataFrame) -> list[str]:
    return [c for c in DATASETS[dataset].primary_key if c in frame.columns] if dataset in DATASETS else []


def _record_ids(dataset: str, frame: pl.DataFrame, positions: np.ndarray) -> list[str | None]:
    keys = _key_columns(dataset, frame)
    if not keys or not len(positions):
        return [None] * len(positions)
    sub = frame.select(keys)[pl.Series(positions, dtype=pl.Int64)]
    return sub.select(pl.concat_str([pl.col(c).cast(pl.String) for c in keys], separator="/")).to_series().to_list()


def _locate(origins: Any, positions: np.ndarray) -> tuple[list[str], list[int]]:
    """Source file and line of frame rows; without loader origins, line = position + 2 (as if
    the frame were a file with a header on line 1)."""
    if origins is not None:
        return origins.locate(positions)
    return [""] * len(positions), [int(p) + 2 for p in positions]


def _quarantine_rows(dataset: str, frame: pl.DataFrame, check: Check, positions: np.ndarray, origins: Any) -> pl.DataFrame:
    cols = [c for c in check.columns if c in frame.columns]
    idx = pl.Series(positions, dtype=pl.Int64)
    raw = (
        frame.select(cols)[idx].select(pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in cols], separator=" | "))
        .to_series().to_list()
        if cols else [""] * len(positions)
    )
    files, lines = _locate(origins, positions)
    return pl.DataFrame(
        {
            "dataset": [dataset] * len(positions),
            "source_file": files,
            "row_number": lines,
            "column": [",".join(cols)] * len(positions),
            "raw_value": raw,
            "reason": [check.reason] * len(positions),
            "record_id": _record_ids(dataset, frame, positions),
        },
        schema=QUARANTINE_SCHEMA,
    )


def _pandas_batch(frame: pl.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns GE's own expectations read, as pandas (Arrow text, numpy numbers and dates);
    a frame of ``n`` rows and no column when none is needed."""
    if not columns:
        return pd.DataFrame(index=pd.RangeIndex(frame.height))
    return frame.select(columns).to_pandas()


# --------------------------------------------------------------------------- validate
def validate(
    datasets: dict[str, pl.DataFrame],
    out_dir: str | Path,
    settings: Settings = DEFAULT_SETTINGS,
    build_docs: bool = True,
    load: Any = None,
) -> ValidationResult:
    """Validate loaded datasets against their suites; quarantine rows failing critical checks.

    Parameters
    ----------
    datasets : contract dataset name -> frame in the canonical schema (absent datasets are fine).
    out_dir : run output directory; writes ``out_dir/validation/validation.json``, the auditors'
        pages ``audit.html`` / ``audit.en.html`` and, with ``build_docs``, the Data Docs site
        under ``out_dir/validation/data_docs/``.
    settings : the run's settings (section ``validation``).
    build_docs : build the GE Data Docs site (also needs ``settings.validation.build_docs``).
    load : the :class:`fundwatch.loading.LoadResult` the frames came from, or None. With it,
        the loader's rejections are recorded as failed checks (not evaluated again), rows are
        numbered by file and line, and the auditors' page shows rows read per dataset.

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
    k = s.examples
    load_q = load.quarantine if load is not None else None
    origins_of = getattr(load, "origins", {}) if load is not None else {}
    load_counts = getattr(load, "counts", {}) if load is not None else {}

    context_frames: dict[str, pl.DataFrame] = dict(datasets)
    accepted: dict[str, pl.DataFrame] = {}
    unusable: dict[str, str] = {}
    quarantines: list[pl.DataFrame] = []
    summary_rows: list[dict] = []
    report: dict[str, dict] = {}
    rps: dict[str, float] = {}

    unknown = sorted(set(datasets) - set(SUITES))
    with CheckRegistry(uuid.uuid4().hex) as registry:
        for name in [n for n in cross.ORDER if n in datasets]:
            frame = datasets[name]
            n = frame.height
            t0 = time.perf_counter()
            origins = origins_of.get(name)
            active, absent_needs = dataset_checks(name, settings, set(context_frames))
            skipped = [(c, f"skipped: needs {', '.join(x for x in c.needs if x not in context_frames)} (absent)") for c in absent_needs]
            ctx = Ctx(name, s, context_frames)

            # 1. table level, from the schema
            table_checks = [c for c in active if c.level == "table"]
            row_checks = [c for c in active if c.level == "row"]
            table_ok = {c.name: bool(pl.select(c.ok(frame, ctx)).item()) for c in table_checks}
            broken = [c for c in table_checks if c.severity == CRITICAL and not table_ok[c.name]]
            if broken:
                unusable[name] = "; ".join(c.reason for c in broken)
                skipped += [(c, "not run: dataset unusable") for c in row_checks]
                row_checks = []
            else:
                missing_cols = [c for c in row_checks if not all(col in frame.columns for col in c.columns)]
                skipped += [(c, "not run: optional column absent") for c in missing_cols]
                row_checks = [c for c in row_checks if c not in missing_cols]

            # 2. the loader's checks: recorded, never run again
            dq = None
            at_load: list[Check] = []
            if load_q is not None and name in load_counts:
                covered = load_covered(name)
                at_load = [c for c in row_checks if c.name in covered]
                row_checks = [c for c in row_checks if c.name not in covered]
                dq = load_q.filter(pl.col("dataset") == name)
                pairs = dq.select("column", "reason").unique(maintain_order=True)
                names = pairs.with_columns(  # one lookup per distinct (column, reason), not per row
                    pl.Series("_check", [load_check_name(name, c, r) for c, r in pairs.iter_rows()], dtype=pl.String)
                )
                dq = dq.join(names, on=["column", "reason"], how="left", maintain_order="left")
                known = {c.name for c in at_load}
                extra = sorted(set(dq.get_column("_check").to_list()) - known - {c.name for c in row_checks})
                at_load += [_load_only_check(name, x) for x in extra]

            # 3. one GE validation of the whole dataset
            exps: dict[str, Any] = {}
            for c in table_checks:
                key = registry.key(name, c.name)
                registry.add(key, lambda v=table_ok[c.name]: v)
                exps[c.name] = session.expectation(name, c, key, native=False, source="ge")
            for c in row_checks:
                key = registry.key(name, c.name)
                if c.expect is None:
                    registry.add(key, lambda c=c, f=frame, x=ctx: _mask(c, f, x))
                exps[c.name] = session.expectation(name, c, key, native=c.expect is not None, source="ge")
            for c in at_load:
                exps[c.name] = session.expectation(name, c, f"load/{name}/{c.name}", native=True, source="load")
            native = [exps[c.name] for c in row_checks if c.expect is not None]
            pdf = _pandas_batch(frame, sorted({col for e in native for col in native_columns(e)}))
            evaluated = [exps[c.name] for c in table_checks + row_checks]
            results = session.validate(name, pdf, [e for e in evaluated if e in native and is_critical(e)],
                                       [e for e in evaluated if not (e in native and is_critical(e))])
            del pdf
            by_check = {r.expectation_config.meta["fw_check"]: r for r in results}

            # failing rows of every row check: all of them for critical checks, k for the rest
            fails: dict[str, np.ndarray] = {}
            for c in row_checks:
                r = by_check.get(c.name)
                if c.expect is None:
                    mask = registry.masks.pop(registry.key(name, c.name), None)
                    pos = (~mask).arg_true().to_numpy() if mask is not None else np.array([], dtype=np.int64)
                else:
                    res = (r.result or {}) if r is not None else {}
                    pos = np.asarray(res.get("unexpected_index_list") or res.get("partial_unexpected_index_list") or [], dtype=np.int64)
                fails[c.name] = pos

            # quarantine: every failing row of every critical row-level check
            bad_any = np.zeros(n, dtype=bool)
            for c in row_checks:
                if c.severity == CRITICAL and len(fails[c.name]):
                    bad_any[fails[c.name]] = True
                    quarantines.append(_quarantine_rows(name, frame, c, fails[c.name], origins))
            n_bad = int(bad_any.sum())
            if name in unusable:
                context_frames.pop(name, None)
            else:
                acc = frame.filter(~pl.Series(bad_any)) if n_bad else frame
                accepted[name] = acc
                context_frames[name] = acc

            # results in the suite's order, masked; the loader's recorded
            rows_read = load_counts[name].rows_read if name in load_counts else n
            stored: list[ExpectationValidationResult] = []
            checks = table_checks + at_load + row_checks
            examples: dict[str, list[dict]] = {}
            for c in checks:
                if c in at_load:
                    rows = dq.filter(pl.col("_check") == c.name) if dq is not None else None
                    col = c.columns[0] if c.columns and c.columns[0] != WHOLE_ROW else None
                    examples[c.name] = example_rows(name, rows, k, source="load")
                    stored.append(_with_rows(_load_result(exps[c.name], rows, rows_read, k, name, col), examples[c.name]))
                    continue
                r = by_check.get(c.name)
                if r is None:
                    continue
                if c.level == "row":
                    examples[c.name] = example_rows(
                        name, frame, k, check=c, positions=fails[c.name][:k], origins=origins,
                        record_ids=_record_ids(name, frame, fails[c.name][:k]),
                    )
                stored.append(_with_rows(_masked(name, r, k), examples.get(c.name, [])))
            suite = session.add_suite(name, [exps[c.name] for c in checks])
            seconds = time.perf_counter() - t0
            merged = session.assemble(name, suite, stored, {"rows": n, "rows_read": rows_read, "seconds": round(seconds, 3)})
            session.store(name, merged)
            rps[name] = n / seconds if seconds > 0 else float("inf")

            rows = _summarise(name, checks, skipped, merged, at_load, table_ok, examples, n)
            summary_rows.extend(rows)
            report[name] = {
                "rows": n,
                "rows_read": rows_read,
                "accepted": accepted[name].height if name in accepted else 0,
                "quarantined_on_load": load_counts[name].rows_quarantined if name in load_counts else 0,
                "quarantined_rows": n_bad,
                "usable": name not in unusable,
                "unusable_reason": unusable.get(name),
                "seconds": round(seconds, 3),
                "rows_per_second": round(rps[name], 1),
                "ge_success": bool(merged.success),
                "expectations": rows,
            }

    quarantine = pl.concat(quarantines, how="vertical") if quarantines else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    summary = pl.DataFrame(
        [{k2: v for k2, v in r.items() if k2 in SUMMARY_SCHEMA} for r in summary_rows], schema=SUMMARY_SCHEMA
    ) if summary_rows else pl.DataFrame(schema=SUMMARY_SCHEMA)
    dataset_success = {d: bool(r["ge_success"]) for d, r in report.items()}
    docs_index = session.build_docs()
    audit = write_audit_pages(out, report, unusable, load_q, quarantine, docs_index)
    if docs_index is not None:
        make_offline(docs_index.parent, dataset_success, audit)
    write_validation_json(out / "validation.json", report, unusable, unknown, docs_index, out)
    return ValidationResult(accepted, quarantine, unusable, summary, docs_index, rps, audit)


def _mask(check: Check, frame: pl.DataFrame, ctx: Ctx) -> pl.Series:
    """The check's polars function over the whole frame: True where the row passes."""
    r = check.ok(frame, ctx)
    if isinstance(r, pl.Series):
        return r
    return frame.select(r.alias("ok")).to_series()


def _masked(dataset: str, r: ExpectationValidationResult, k: int) -> ExpectationValidationResult:
    """A GE result as stored for Data Docs: personal values masked, complete lists cut to ``k``."""
    res = dict(r.result or {})
    column = r.expectation_config.kwargs.get("column")
    for key in ("unexpected_list", "unexpected_index_list", "unexpected_index_query"):
        res.pop(key, None)
    if "partial_unexpected_list" in res:
        res["partial_unexpected_list"] = mask_values(dataset, column, list(res["partial_unexpected_list"])[:k])
    if "partial_unexpected_counts" in res:
        top = list(res["partial_unexpected_counts"])[:k]
        masked = mask_values(dataset, column, [t["value"] for t in top])
        res["partial_unexpected_counts"] = [{"value": v, "count": t["count"]} for v, t in zip(masked, top)]
    if "partial_unexpected_index_list" in res:
        res["partial_unexpected_index_list"] = list(res["partial_unexpected_index_list"])[:k]
    return ExpectationValidationResult(
        success=r.success, expectation_config=r.expectation_config, result=res, meta=r.meta, exception_info=r.exception_info
    )


def _with_rows(r: ExpectationValidationResult, rows: list[dict]) -> ExpectationValidationResult:
    """The failing rows (line, file, record id; masked) named in the result Data Docs show."""
    if not rows:
        return r
    res = dict(r.result or {})
    where = "; ".join(examples_text(rows))
    res["observed_value"] = f"{res['observed_value']}: {where}" if res.get("observed_value") else where
    return ExpectationValidationResult(
        success=r.success, expectation_config=r.expectation_config, result=res, meta=r.meta, exception_info=r.exception_info
    )


def _summarise(dataset, checks, skipped, merged, at_load, table_ok, examples, n) -> list[dict]:
    by_name = {r.expectation_config.meta["fw_check"]: r for r in merged.results}
    rows = []
    for c in checks:
        r = by_name.get(c.name)
        res = (r.result or {}) if r is not None else {}
        ex = examples.get(c.name, [])
        rows.append(
            {
                "dataset": dataset,
                "expectation": c.name,
                "ge_expectation": r.expectation_config.type if r is not None else None,
                "severity": c.severity,
                "level": c.level,
                "description": c.text,
                "description_zh": c.label_zh,
                "source": "load" if c in at_load else "validation",
                "success": bool(r.success) if r is not None else None,
                "unexpected_count": int(res.get("unexpected_count", 0) or 0) if c.level == "row" else (0 if table_ok.get(c.name, True) else None),
                "unexpected_percent": float(res.get("unexpected_percent", 0.0) or 0.0) if c.level == "row" else None,
                "element_count": int(res.get("element_count", n) or 0),
                "examples": examples_text(ex),
                "example_rows": ex,
                "skipped": None,
            }
        )
    for c, why in skipped:
        rows.append(
            {
                "dataset": dataset, "expectation": c.name, "ge_expectation": None, "severity": c.severity,
                "level": c.level, "description": c.text, "description_zh": c.label_zh, "source": "validation",
                "success": None, "unexpected_count": None, "unexpected_percent": None, "element_count": n,
                "examples": [], "example_rows": [], "skipped": why,
            }
        )
    return rows
