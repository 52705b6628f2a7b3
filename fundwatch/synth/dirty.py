"""The dirty city: real-export formats, encodings, hostile strings and a known set of bad rows.

Every *alternative* format written here is one the contract accepts (so those rows must load);
every *bad* row is clearly invalid and is listed in ``dirty_rows.parquet``. Bad rows are
extra rows (copies of real ones with a fresh id and one broken value), so the clean truth
labels stay valid for the accepted rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from fundwatch.contract import DATASETS
from fundwatch.synth.population import rng_for, rng_v2

HOSTILE_NAMES = [
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x","y")',
    "'; DROP TABLE leads; --",
    "王😀芳",
    "李" + "长" * 499,
    "+SUM(1,2)",
]

# dataset -> (file layout, encoding, headers)
PLAN = {
    "persons": ("csv", "utf-8-sig", "zh"),
    "deaths": ("csv", "utf-8", "zh"),
    "officials": ("xlsx", None, "zh"),
    "assets": ("csv", "utf-8", "en"),
    "subsidy_standards": ("csv", "gbk", "zh"),
    "land": ("parquet", None, "en"),
    "disbursements": ("csv", "gbk", "zh"),
    "institutions": ("csv", "gbk", "zh"),
    "item_catalog": ("csv", "utf-8-sig", "zh"),
    "claims": ("monthly_csv", "utf-8", "zh"),
    "claim_items": ("monthly_parquet", None, "en"),
    # contract v2 datasets (written only when the city has them)
    "regions": ("csv", "utf-8-sig", "zh"),
    "item_prices": ("xlsx", None, "zh"),
    "allocations": ("csv", "gbk", "zh"),
}
#: datasets given without planted bad rows (small reference tables a rule reads whole)
NO_BAD_ROWS = ("subsidy_standards", "item_catalog", "regions")


def _fmt_date(col: str, rng: np.random.Generator, n: int) -> pl.Expr:
    """Dates in a mix of accepted formats."""
    c = pl.col(col)
    choice = pl.Series(rng.integers(0, 4, size=n))
    slash = c.dt.year().cast(pl.String) + "/" + c.dt.month().cast(pl.String) + "/" + c.dt.day().cast(pl.String)
    zh = c.dt.year().cast(pl.String) + "年" + c.dt.month().cast(pl.String) + "月" + c.dt.day().cast(pl.String) + "日"
    return (pl.when(c.is_null()).then(pl.lit(None, pl.String))
            .when(choice == 0).then(c.dt.strftime("%Y-%m-%d"))
            .when(choice == 1).then(c.dt.strftime("%Y%m%d"))
            .when(choice == 2).then(slash).otherwise(zh)).alias(col)


def _fmt_money(col: str, rng: np.random.Generator, n: int, yen: bool) -> pl.Expr:
    c = pl.col(col)
    choice = pl.Series(rng.integers(0, 4, size=n))
    plain = c.round(2).cast(pl.String)
    fixed = pl.format("{}", c.round(2))
    # "1,234.50" without a Python loop (amounts here stay below a billion)
    cents = (c * 100).round(0).cast(pl.Int64)
    units = cents // 100
    frac = (cents % 100).cast(pl.String).str.zfill(2)
    mil, th, one = units // 1_000_000, (units // 1000) % 1000, units % 1000
    z3 = lambda e: e.cast(pl.String).str.zfill(3)  # noqa: E731
    body = (pl.when(mil > 0).then(mil.cast(pl.String) + "," + z3(th) + "," + z3(one))
            .when(th > 0).then(th.cast(pl.String) + "," + z3(one))
            .otherwise(one.cast(pl.String)))
    comma = body + "." + frac
    alt = (pl.lit("¥") + comma) if yen else (comma)
    return (pl.when(c.is_null()).then(pl.lit(None, pl.String))
            .when(choice == 0).then(plain)
            .when(choice == 1).then(alt)
            .when(choice == 2).then(fixed + "元")
            .otherwise(plain)).alias(col)


def _stringify(
    df: pl.DataFrame, name: str, rng: np.random.Generator, encoding: str | None, rng2: np.random.Generator | None = None
) -> pl.DataFrame:
    """Every column as text in an accepted alternative format.

    v2 columns draw their formats from ``rng2``, so that the version-1 columns of a city come
    out the same whether or not it is written with its v2 columns.
    """
    ds = DATASETS[name]
    n = len(df)
    exprs = []
    v1_rng = rng
    for col in ds.columns:
        if col.name not in df.columns:
            continue  # a v2 column of a version-1 city
        rng = rng2 if (col.is_v2 and rng2 is not None) else v1_rng
        c = pl.col(col.name)
        if col.kind == "date":
            exprs.append(_fmt_date(col.name, rng, n))
        elif col.kind == "money":
            exprs.append(_fmt_money(col.name, rng, n, yen=encoding not in ("gbk",)))
        elif col.kind == "gender":
            exprs.append(c.replace_strict({"M": "男", "F": "女"}, default=None, return_dtype=pl.String).alias(col.name))
        elif col.kind == "bool":
            exprs.append(pl.when(c.is_null()).then(None).when(c).then(pl.lit("是")).otherwise(pl.lit("否")).alias(col.name))
        elif col.kind == "enum":
            exprs.append(pl.when(pl.Series(rng.random(n) < 0.7)).then(c.replace(col.enum)).otherwise(c).alias(col.name))
        elif col.kind == "codes":
            # full-width separators and lower case, as hand-typed exports have them
            alt = c.str.replace_all(";", "；").str.to_lowercase()
            exprs.append(pl.when(pl.Series(rng.random(n) < 0.5)).then(alt).otherwise(c).alias(col.name))
        elif col.kind == "period":
            alt = c.str.replace("-", "")
            exprs.append(pl.when(c.is_null()).then(pl.lit(None, pl.String)).when(pl.Series(rng.random(n) < 0.5)).then(alt).otherwise(c).alias(col.name))
        else:
            exprs.append(c.cast(pl.String).alias(col.name))
    return df.select(exprs)


def _insert_bad(df: pl.DataFrame, bad: pl.DataFrame, rng: np.random.Generator) -> tuple[pl.DataFrame, np.ndarray]:
    """Insert ``bad`` rows at random positions; returns the frame and their 1-based row numbers."""
    n, k = len(df), len(bad)
    pos = np.sort(rng.choice(n + k, size=k, replace=False))
    order = np.empty(n + k, dtype=np.int64)
    is_bad = np.zeros(n + k, dtype=bool)
    is_bad[pos] = True
    order[~is_bad] = np.arange(n)
    order[is_bad] = n + np.arange(k)
    both = pl.concat([df, bad])
    return both[order], pos + 1


def _bad_rows(name: str, s: pl.DataFrame, rng: np.random.Generator, k: int) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """``k`` invalid copies of rows of the stringified frame and (column, reason) per row."""
    src = s.sample(k, seed=int(rng.integers(1 << 31)), with_replacement=len(s) < k)
    reasons = []
    cols = {c: src[c].to_list() for c in src.columns}
    ds = DATASETS[name]
    pk = ds.primary_key[0] if ds.primary_key else None
    date_cols = [c.name for c in ds.columns if c.kind == "date" and not c.nullable]
    money_cols = [c.name for c in ds.columns if c.kind == "money" and not c.nullable]
    for j in range(k):
        if pk and pk != "person_id":
            cols[pk][j] = f"{cols[pk][j]}X{j + 1}"
        if name == "persons" and j % 2 == 0:
            v = cols["person_id"][j]
            last = v[-1]
            cols["person_id"][j] = v[:-1] + ("0" if last != "0" else "1")  # wrong check character
            reasons.append(("person_id", "invalid identity number (check character)"))
        elif name == "persons":
            cols["person_id"][j] = cols["person_id"][j][:10] + "13" + "45" + cols["person_id"][j][14:]
            reasons.append(("person_id", "invalid identity number (birth date 13/45)"))
        elif money_cols and j % 2 == 1:
            cols[money_cols[0]][j] = "abc"
            reasons.append((money_cols[0], "unparseable money 'abc'"))
        elif date_cols:
            cols[date_cols[0]][j] = "2025-13-45"
            reasons.append((date_cols[0], "unparseable date '2025-13-45'"))
        else:
            ic = [c.name for c in ds.columns if c.kind in ("int", "float", "money") and not c.nullable][0]
            cols[ic][j] = "abc"
            reasons.append((ic, "unparseable number 'abc'"))
    return pl.DataFrame(cols, schema=s.schema), reasons


def _write_csv(df: pl.DataFrame, path: Path, encoding: str, headers: str, name: str) -> None:
    if headers == "zh":
        df = df.rename({c.name: c.zh for c in DATASETS[name].columns if c.name in df.columns})
    text = df.write_csv()
    path.write_bytes(text.encode(encoding))


def write_dirty(city, inp: Path, seed: int) -> pl.DataFrame:
    """Write the dirty variant of ``city`` into ``inp``; returns the planted bad rows."""
    rng_main = rng_for(seed, 90)
    k = city.config.dirty_bad_rows_per_dataset
    out_rows: list[dict] = []
    for name, (layout, enc, headers) in PLAN.items():
        if name not in city.datasets:
            continue  # a version-1 city has no v2 datasets
        df = city.datasets[name]
        # v2 datasets and columns draw from their own stream: the v1 output never moves
        rng_v2col = rng_v2(seed, f"dirty.{name}")
        rng = rng_v2col if DATASETS[name].since >= 2 else rng_main
        if name == "persons":
            idx = rng.choice(len(df), size=len(HOSTILE_NAMES), replace=False)
            names = df["name"].to_list()
            for i, h in zip(idx, HOSTILE_NAMES):
                names[int(i)] = h
            df = df.with_columns(name=pl.Series(names))
        if name == "disbursements":
            # some rows carry the subsidy name instead of the code (accepted by the contract)
            names = dict(zip(city.datasets["subsidy_standards"]["subsidy_type"], city.datasets["subsidy_standards"]["subsidy_name"]))
            df = df.with_columns(subsidy_type=pl.when(pl.Series(rng.random(len(df)) < 0.3))
                                 .then(pl.col("subsidy_type").replace(names)).otherwise(pl.col("subsidy_type")))
        if layout == "parquet":
            df.write_parquet(inp / f"{name}.parquet")
            continue
        if layout == "monthly_parquet":
            d = inp / name
            d.mkdir(exist_ok=True)
            months = df.select(pl.col("service_date").dt.strftime("%Y-%m").alias("_m"))["_m"]
            for m, part in df.with_columns(_m=months).partition_by("_m", as_dict=True, maintain_order=True).items():
                part.drop("_m").write_parquet(d / f"{m[0]}.parquet")
            continue
        s = _stringify(df, name, rng, enc, rng_v2col)  # before the xlsx branch: it draws from rng
        if layout == "xlsx":
            # dates stay real Excel date cells; enumerations as Chinese labels
            enums = [c for c in DATASETS[name].columns if c.kind == "enum" and c.name in df.columns]
            x = df.with_columns(pl.col(c.name).replace(c.enum) for c in enums)
            x = x.rename({c.name: c.zh for c in DATASETS[name].columns if c.name in df.columns})
            x.write_excel(inp / f"{name}.xlsx", worksheet=name)
            continue
        if layout == "monthly_csv":
            d = inp / name
            d.mkdir(exist_ok=True)
            months = df["visit_date"].dt.strftime("%Y-%m")
            s = s.with_columns(_m=months)
            for j, (m, part) in enumerate(s.partition_by("_m", as_dict=True, maintain_order=True).items()):
                part = part.drop("_m")
                rel = f"{name}/{m[0]}.csv"
                if j < k:
                    bad, reasons = _bad_rows(name, part, rng, 1)
                    part, pos = _insert_bad(part, bad, rng)
                    out_rows += [dict(dataset=name, source_file=rel, row_number=int(p_), column=c, reason=r)
                                 for p_, (c, r) in zip(pos, reasons)]
                _write_csv(part, d / f"{m[0]}.csv", enc, headers, name)
            continue
        rel = f"{name}.csv"
        if name not in NO_BAD_ROWS:
            bad, reasons = _bad_rows(name, s, rng, k)
            s, pos = _insert_bad(s, bad, rng)
            out_rows += [dict(dataset=name, source_file=rel, row_number=int(p_), column=c, reason=r)
                         for p_, (c, r) in zip(pos, reasons)]
        _write_csv(s, inp / rel, enc, headers, name)
    from fundwatch.synth.writer import DIRTY_ROWS_SCHEMA

    return pl.DataFrame(out_rows, schema=DIRTY_ROWS_SCHEMA).sort(["dataset", "source_file", "row_number"])
