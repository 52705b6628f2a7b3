"""Load an input directory into typed contract frames, quarantining rows that cannot be normalised.

Layout (the contract's "Input layout"): each dataset is one file ``<dataset>.<ext>`` or a
folder ``<dataset>/`` holding any number of files of that dataset (``.parquet``, ``.csv``,
``.xlsx``, mixed allowed). Behaviour at the edges, decided here:

* a file or folder whose name is not a contract dataset, a file with another extension, a
  hidden file (``.DS_Store``, Excel's ``~$`` lock files) or a sub-folder inside a dataset
  folder is not read and is listed in :attr:`LoadResult.ignored`;
* a dataset given both as a file and as a folder, or as two files (``claims.csv`` and
  ``claims.xlsx``), raises :class:`~fundwatch.errors.InputError` (which one is meant?);
* a dataset folder holding no readable file raises :class:`InputError`;
* a header-only file gives zero rows; an empty (0-byte) file raises :class:`InputError`;
* a blank line inside a CSV (or a blank row in a sheet) is quarantined as ``blank row``;
  trailing blank lines at the end of a CSV are not rows.

Quarantine (``contract.QUARANTINE_SCHEMA``): one row per failing cell, ``row_number`` the
row's line in its source file as an editor or spreadsheet shows it (header = line 1; see
:mod:`fundwatch.readers`), ``record_id`` the row's key as written (``claim_id``, or
``claim_id/line_no``), ``column`` the canonical column (``*`` for a problem of the whole row,
such as a ragged CSV row), ``raw_value`` the cell as it came, truncated to
``settings.load.quarantine_raw_chars``. The same numbering follows the accepted rows into
validation (:attr:`LoadResult.origins`), so a row is called by one number everywhere. A row is quarantined when a non-empty
value cannot be normalised or a non-nullable column is empty. For every dataset
``rows_read == rows_accepted + rows_quarantined``.

Optional columns (contract v2): a **v2** column (``Column.since == 2``) that no file of a
dataset has is left out of the loaded frame, so that a detector can tell "not provided" from
"provided but empty", and :attr:`LoadResult.absent_columns` lists it; if some files of a folder
dataset have it and others do not, it is present, null in the rows of the files without it (or
its default: an empty ``payment_type`` is ``regular``). A version-1 optional column
(``disbursements.quantity``) is always present, filled with its default where absent. A v2
value that is present and cannot be normalised quarantines its row like any other.

Duplicate keys and business rules are the validation suites' job, not the loader's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from . import contract
from .contract import DATASETS, QUARANTINE_SCHEMA, Dataset
from .errors import InputError
from .normalize import as_text, normalize
from .readers import ROW_COL, ROW_ERROR_COL, SUPPORTED_EXTENSIONS, RawFile, read_file
from .settings import DEFAULT_SETTINGS, Settings
from .settings.load import LoadSettings

__all__ = [
    "absent_v2_columns",
    "DatasetCounts",
    "LoadResult",
    "discover",
    "load_input",
    "load_dataset",
    "write_quarantine",
    "empty_quarantine",
]

WHOLE_ROW = "*"


@dataclass
class DatasetCounts:
    """Rows of one dataset: ``rows_read == rows_accepted + rows_quarantined``."""

    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    files: list[str]
    seconds: float


@dataclass
class FileOrigin:
    """Where the accepted rows of one file came from: ``rows`` rows, on ``lines`` (None: the
    rows were consecutive, the first on line 2)."""

    file: str
    rows: int
    lines: np.ndarray | None = None


@dataclass
class RowOrigins:
    """Source file and line of every accepted row of one dataset, in frame order.

    Held compactly: a file whose rows were all accepted and one line each costs nothing;
    others keep one ``uint32`` line per accepted row.
    """

    files: list[FileOrigin] = field(default_factory=list)

    def locate(self, positions: np.ndarray | list[int]) -> tuple[list[str], list[int]]:
        """``(file, line)`` of the frame rows at ``positions`` (0-based)."""
        pos = np.asarray(positions, dtype=np.int64)
        if not len(pos):
            return [], []
        ends = np.cumsum([f.rows for f in self.files])
        which = np.searchsorted(ends, pos, side="right")
        starts = ends - np.array([f.rows for f in self.files])
        files, lines = [], []
        for p, w in zip(pos.tolist(), which.tolist()):
            if w >= len(self.files):  # past the end: not a loaded row
                files.append("")
                lines.append(p + 2)
                continue
            f = self.files[w]
            local = p - int(starts[w])
            files.append(f.file)
            lines.append(int(f.lines[local]) if f.lines is not None else local + 2)
        return files, lines


@dataclass
class LoadResult:
    """What :func:`load_input` returns (see ``docs/architecture.md``).

    ``absent_columns``: for every dataset loaded, the v2 columns no file of it provided (and
    that its frame therefore lacks), in contract order; an empty list when all were given.
    """

    datasets: dict[str, pl.DataFrame]
    quarantine: pl.DataFrame
    counts: dict[str, DatasetCounts]
    fingerprint: str
    files: list[dict]
    ignored: list[str] = field(default_factory=list)
    absent_columns: dict[str, list[str]] = field(default_factory=dict)
    #: dataset -> where each accepted row came from (file, line), for validation's examples
    #: and quarantine to number rows as the loader does.
    origins: dict[str, RowOrigins] = field(default_factory=dict)


@dataclass
class _Discovery:
    found: dict[str, list[Path]]
    ignored: list[str]
    problems: dict[str, InputError]  # dataset -> why it cannot be read (raised when it is needed)


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$")


def _scan(input_dir: Path) -> _Discovery:
    if not input_dir.exists():
        raise InputError(f"input directory {input_dir} does not exist: pass the folder holding the dataset files",
                         zh=f"输入目录 {input_dir} 不存在:请给出存放各数据集文件的文件夹")
    if not input_dir.is_dir():
        raise InputError(f"{input_dir} is not a directory: pass the folder holding the dataset files",
                         zh=f"{input_dir} 不是文件夹:请给出存放各数据集文件的文件夹")
    singles: dict[str, list[Path]] = {}
    folders: dict[str, Path] = {}
    ignored: list[str] = []
    for entry in sorted(input_dir.iterdir()):
        if _hidden(entry.name):
            ignored.append(_rel(entry, input_dir))
        elif entry.is_dir():
            if entry.name in DATASETS:
                folders[entry.name] = entry
            else:
                ignored.append(_rel(entry, input_dir) + "/")
        elif entry.suffix.lower() in SUPPORTED_EXTENSIONS and entry.stem in DATASETS:
            singles.setdefault(entry.stem, []).append(entry)
        else:
            ignored.append(_rel(entry, input_dir))
    found: dict[str, list[Path]] = {}
    problems: dict[str, InputError] = {}
    for name in DATASETS:
        single, folder = singles.get(name, []), folders.get(name)
        zh_name = DATASETS[name].zh
        if single and folder is not None:
            problems[name] = InputError(
                f"{input_dir}: dataset {name} is given both as {single[0].name} and as folder {name}/: "
                "keep one of them in the input directory",
                zh=f"{input_dir}:{zh_name}({name})既有文件 {single[0].name} 又有文件夹 {name}/:输入目录中只保留其一",
                dataset=name,
            )
        elif len(single) > 1:
            problems[name] = InputError(
                f"{input_dir}: dataset {name} is given as several files ({', '.join(p.name for p in single)}): "
                f"keep one, or put all of them in a folder {name}/",
                zh=f"{input_dir}:{zh_name}({name})有多个文件({'、'.join(p.name for p in single)}):"
                f"只保留一个,或把它们都放进文件夹 {name}/",
                dataset=name,
            )
        elif single:
            found[name] = single
        elif folder is not None:
            files: list[Path] = []
            for entry in sorted(folder.iterdir()):
                if entry.is_file() and not _hidden(entry.name) and entry.suffix.lower() in SUPPORTED_EXTENSIONS:
                    files.append(entry)
                else:
                    ignored.append(_rel(entry, input_dir) + ("/" if entry.is_dir() else ""))
            if files:
                found[name] = files
            else:
                problems[name] = InputError(
                    f"{input_dir}: folder {name}/ holds no .parquet, .csv or .xlsx file: put the {name} "
                    "files in it or remove the folder",
                    zh=f"{input_dir}:文件夹 {name}/ 中没有 .parquet、.csv 或 .xlsx 文件:请放入{zh_name}文件或删除该文件夹",
                    dataset=name,
                )
    return _Discovery(found, ignored, problems)


def discover(input_dir: str | Path) -> dict[str, list[Path]]:
    """The files of every contract dataset present in ``input_dir``, in read order.

    Raises :class:`InputError` if a dataset is ambiguous (file and folder, two files) or a
    dataset folder is empty. Files that are not read are listed by :func:`load_input` as
    ``LoadResult.ignored``.
    """
    d = _scan(Path(input_dir))
    if d.problems:
        raise next(iter(d.problems.values()))
    return d.found


def _load_settings(settings: Settings | LoadSettings) -> LoadSettings:
    return settings if isinstance(settings, LoadSettings) else settings.load


def empty_quarantine() -> pl.DataFrame:
    """A quarantine frame with no rows."""
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)


def _normalize_file(
    raw: RawFile, dataset: Dataset, ls: LoadSettings
) -> tuple[pl.DataFrame, pl.DataFrame, int, FileOrigin]:
    """Accepted rows, quarantine rows, the number of rows read and the accepted rows' lines
    of one file."""
    schema = raw.frame.collect_schema()
    strict = dataset.name in contract.PERSON_ID_STRICT_DATASETS
    values: list[pl.Expr] = []
    errors: dict[str, pl.Expr] = {}
    flags: list[pl.Expr] = []
    for col in dataset.columns:
        if col.name not in schema:
            if col.is_v2:
                continue  # left out here; load_dataset adds it if another file has it
            # a version-1 optional column absent from this file: its default, or null
            values.append(pl.lit(col.default, dtype=col.dtype).alias(col.name))
            continue
        n = normalize(pl.col(col.name), col, ls, dtype=schema[col.name], strict_person=strict)
        value, error, flag = n.value, n.error, n.bad
        if col.default is not None:
            value = pl.when(n.empty).then(pl.lit(col.default, dtype=col.dtype)).otherwise(value)
        elif not col.nullable:
            error = pl.when(n.empty).then(pl.lit("required value is empty")).otherwise(error)
            flag = flag | n.empty
        values.append(value.alias(col.name))
        errors[col.name] = error
        flags.append(flag)
    row_error = pl.col(ROW_ERROR_COL)
    any_error = pl.any_horizontal(flags + [row_error.is_not_null()])
    try:
        frame = raw.frame.select(*values, any_error.alias("__bad")).collect()
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            f"{raw.rel} could not be read ({type(exc).__name__}: corrupt or truncated): "
            "copy or export it again",
            zh=f"{raw.rel} 无法读取({type(exc).__name__}:文件已损坏或不完整):请重新复制或导出",
            path=raw.rel,
            dataset=dataset.name,
        ) from None
    rows_read = frame.height
    bad_mask = frame.get_column("__bad")
    n_bad = int(bad_mask.sum())
    accepted = frame.drop("__bad") if n_bad == 0 else frame.filter(~bad_mask).drop("__bad")
    if n_bad == 0 and raw.lines is None:
        origin = FileOrigin(raw.rel, accepted.height)
    else:
        kept = (~bad_mask).arg_true()
        lines = raw.lines.gather(kept) if raw.lines is not None else kept.cast(pl.Int64) + 2
        origin = FileOrigin(raw.rel, accepted.height, lines.cast(pl.UInt32).to_numpy())
    if n_bad == 0:
        return accepted, empty_quarantine(), rows_read, origin

    # Second, small pass over the bad rows only: their raw values, key and every reason.
    names = list(errors)
    key_cols = [c for c in dataset.primary_key if c in schema]
    record_id = (
        pl.concat_str([as_text(pl.col(c), schema[c]).str.slice(0, ls.quarantine_raw_chars) for c in key_cols], separator="/")
        if key_cols
        else pl.lit(None, pl.String)
    )
    bad = (
        raw.frame.with_columns(
            *[e.alias(f"__err_{c}") for c, e in errors.items()],
            *[as_text(pl.col(c), schema[c]).alias(f"__raw_{c}") for c in names],
            any_error.alias("__bad"),
            record_id.alias("__record_id"),
        )
        .filter(pl.col("__bad"))
        .select(ROW_COL, ROW_ERROR_COL, "__record_id", *[f"__err_{c}" for c in names], *[f"__raw_{c}" for c in names])
        .collect()
    )
    parts = [
        bad.filter(pl.col(ROW_ERROR_COL).is_not_null()).select(
            pl.col(ROW_COL).alias("row_number"),
            pl.col("__record_id").alias("record_id"),
            pl.lit(WHOLE_ROW).alias("column"),
            pl.lit(None, pl.String).alias("raw_value"),
            pl.col(ROW_ERROR_COL).alias("reason"),
        )
    ]
    cell_rows = bad.filter(pl.col(ROW_ERROR_COL).is_null())
    for c in names:
        parts.append(
            cell_rows.filter(pl.col(f"__err_{c}").is_not_null()).select(
                pl.col(ROW_COL).alias("row_number"),
                pl.col("__record_id").alias("record_id"),
                pl.lit(c).alias("column"),
                pl.col(f"__raw_{c}").str.slice(0, ls.quarantine_raw_chars).alias("raw_value"),
                pl.col(f"__err_{c}").alias("reason"),
            )
        )
    quarantine = (
        pl.concat(parts)
        .sort("row_number", maintain_order=True)
        .select(
            pl.lit(dataset.name).alias("dataset"),
            pl.lit(raw.rel).alias("source_file"),
            pl.col("row_number").cast(pl.Int64),
            pl.col("column"),
            pl.col("raw_value").cast(pl.String),
            pl.col("reason").cast(pl.String),
            pl.col("record_id").cast(pl.String),
        )
    )
    assert bad.height == n_bad, "quarantine pass disagrees with the first pass"
    return accepted, quarantine, rows_read, origin


def _align_parts(parts: list[pl.DataFrame], dataset: Dataset) -> tuple[list[pl.DataFrame], list[str]]:
    """Give every file's frame the same columns: the v2 columns any file provided, nulls (or the
    column's default) where a file lacks one. Returns the frames and the v2 columns no file had."""
    provided = {c for part in parts for c in part.columns}
    absent = [c for c in dataset.v2_columns if c not in provided]
    order = [c for c in dataset.columns if c.name not in absent]
    aligned = [
        part.select(
            pl.col(c.name) if c.name in part.columns else pl.lit(c.default, dtype=c.dtype).alias(c.name)
            for c in order
        )
        if part.columns != [c.name for c in order]
        else part
        for part in parts
    ]
    return aligned, absent


def load_dataset(
    name: str,
    paths: list[Path],
    input_dir: str | Path,
    settings: Settings | LoadSettings = DEFAULT_SETTINGS,
    origins: RowOrigins | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, DatasetCounts]:
    """Read and normalise the files of one dataset: accepted rows, quarantine, counts.

    The frame has the dataset's columns in contract order, without the v2 columns that no file
    provided (:func:`absent_v2_columns` names them). ``origins``, when given, receives the file
    and lines of the accepted rows.
    """
    ls = _load_settings(settings)
    root = Path(input_dir)
    dataset = DATASETS[name]
    start = time.perf_counter()
    accepted_parts: list[pl.DataFrame] = []
    quarantine_parts: list[pl.DataFrame] = []
    rows_read = 0
    rels = []
    for path in paths:
        rel = _rel(path, root)
        rels.append(rel)
        raw = read_file(path, rel, dataset)
        acc, quar, n, origin = _normalize_file(raw, dataset, ls)
        if origins is not None:
            origins.files.append(origin)
        accepted_parts.append(acc)
        quarantine_parts.append(quar)
        rows_read += n
    accepted_parts, absent = _align_parts(accepted_parts, dataset)
    frame = (
        pl.concat(accepted_parts, how="vertical", rechunk=False)
        if accepted_parts
        else pl.DataFrame(schema=dataset.schema_without(absent))
    )
    quarantine = pl.concat(quarantine_parts) if quarantine_parts else empty_quarantine()
    n_quarantined = (
        quarantine.select(pl.struct("source_file", "row_number").n_unique()).item()
        if quarantine.height
        else 0
    )
    counts = DatasetCounts(
        rows_read=rows_read,
        rows_accepted=frame.height,
        rows_quarantined=n_quarantined,
        files=rels,
        seconds=time.perf_counter() - start,
    )
    if counts.rows_read != counts.rows_accepted + counts.rows_quarantined:
        raise AssertionError(
            f"{name}: rows read {counts.rows_read} != accepted {counts.rows_accepted} "
            f"+ quarantined {counts.rows_quarantined}"
        )
    return frame, quarantine, counts


def absent_v2_columns(name: str, frame: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """The v2 columns of dataset ``name`` that ``frame`` lacks, in contract order."""
    names = set(frame.collect_schema().names())
    return [c for c in DATASETS[name].v2_columns if c not in names]


def _file_entry(path: Path, root: Path) -> dict:
    st = path.stat()
    return {
        "path": _rel(path, root),
        "size": st.st_size,
        "mtime": dt.datetime.fromtimestamp(st.st_mtime, dt.UTC).isoformat(),
        "mtime_ns": st.st_mtime_ns,
    }


def fingerprint_files(files: list[dict]) -> str:
    """sha256 over the sorted (relative path, size, mtime_ns) of ``files``."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f["path"]):
        h.update(f"{f['path']}\0{f['size']}\0{f['mtime_ns']}\n".encode())
    return h.hexdigest()


def load_input(
    input_dir: str | Path,
    only: Iterable[str] | None = None,
    settings: Settings | LoadSettings = DEFAULT_SETTINGS,
) -> LoadResult:
    """Load every contract dataset found in ``input_dir`` (or only those in ``only``).

    Parameters
    ----------
    input_dir : the input directory (see the module docstring for its layout).
    only : dataset names to read; others present in the directory are not read. A name in
        ``only`` that is absent is simply not returned (the pipeline decides what is required).
    settings : the :class:`~fundwatch.settings.Settings` (or its ``load`` section).

    Returns
    -------
    LoadResult
        typed frames of accepted rows (``DATASETS[name].schema`` exactly, less the v2 columns no
        file provided), the quarantine, per-dataset counts, the input fingerprint, the files
        read, the entries ignored and, per dataset, the absent v2 columns.

    Raises
    ------
    InputError
        with one line naming the file or dataset and the fix, for input that cannot be
        quarantined row by row.
    """
    root = Path(input_dir)
    wanted: set[str] | None = None
    if only is not None:
        wanted = set(only)
        unknown = sorted(wanted - set(DATASETS))
        if unknown:
            raise InputError(
                f"unknown dataset(s) {', '.join(unknown)}: use names from {', '.join(DATASETS)}",
                zh=f"未知的数据集 {', '.join(unknown)}:可用的名称为 {', '.join(DATASETS)}",
            )
    disc = _scan(root)
    for name, problem in disc.problems.items():
        if wanted is None or name in wanted:
            raise problem
    datasets: dict[str, pl.DataFrame] = {}
    counts: dict[str, DatasetCounts] = {}
    absent: dict[str, list[str]] = {}
    origins: dict[str, RowOrigins] = {}
    quarantines: list[pl.DataFrame] = []
    files: list[dict] = []
    for name, paths in disc.found.items():
        if wanted is not None and name not in wanted:
            continue
        files.extend(_file_entry(p, root) for p in paths)
        origins[name] = RowOrigins()
        frame, quarantine, cnt = load_dataset(name, paths, root, settings, origins[name])
        datasets[name] = frame
        counts[name] = cnt
        absent[name] = absent_v2_columns(name, frame)
        quarantines.append(quarantine)
    quarantine = pl.concat(quarantines) if quarantines else empty_quarantine()
    return LoadResult(
        datasets=datasets,
        quarantine=quarantine,
        counts=counts,
        fingerprint=fingerprint_files(files),
        files=files,
        ignored=disc.ignored,
        absent_columns=absent,
        origins=origins,
    )


def personal_key_datasets() -> list[str]:
    """Datasets whose key (the quarantine's ``record_id``) is an identity number."""
    return [d.name for d in DATASETS.values() if any(k in contract.PERSONAL_ID_COLUMNS for k in d.primary_key)]


def write_quarantine(path: str | Path, quarantine: pl.DataFrame) -> Path:
    """Write the quarantine: parquet (whole values, for investigators) or, for a ``.csv`` path,
    UTF-8 with BOM with identity numbers and names in ``raw_value`` masked and cells made
    formula-safe (it is meant to be opened by people)."""
    from .idnumber import mask_id, mask_name
    from .privacy import formula_safe

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = quarantine.select(list(QUARANTINE_SCHEMA)).cast(dict(QUARANTINE_SCHEMA))
    if path.suffix.lower() == ".csv":
        col = pl.col("column")
        raw = pl.col("raw_value")
        frame = frame.with_columns(
            # a row's key is personal where the dataset is keyed by identity number (persons)
            pl.when(pl.col("dataset").is_in(personal_key_datasets()))
            .then(mask_id(pl.col("record_id")))
            .otherwise(pl.col("record_id"))
            .alias("record_id"),
            pl.when(col.is_in(list(contract.PERSONAL_ID_COLUMNS) + ["account_no"]))
            .then(mask_id(raw))
            .when(col.is_in(list(contract.PERSONAL_NAME_COLUMNS)) & (pl.col("dataset") != "institutions"))
            .then(mask_name(raw))
            .otherwise(raw)
            .alias("raw_value")
        ).with_columns(formula_safe(pl.col("raw_value")).alias("raw_value"))
        frame.write_csv(path, include_bom=True)
    else:
        frame.write_parquet(path)
    return path
