"""SQL sources: any dataset may come from a database table instead of a file.

A small TOML file names, per dataset, a SQLAlchemy URL and a table (or a query)::

    # sources.toml
    [defaults]
    url = "postgresql+psycopg://fundwatch@db.example/ybj"   # used where a dataset gives none

    [datasets.claims]
    table = "yb_jsxx"                 # columns: canonical English names or the Chinese headers

    [datasets.claim_items]
    query = "SELECT * FROM yb_fymx WHERE jsrq >= '2025-01-01'"

    [datasets.persons]
    url = "sqlite:////data/hjk.sqlite"
    table = "persons"

Before loading, each SQL dataset is read in batches and written as Parquet parts under the
run's ``sources/`` folder, with every value as text, so that exactly the same loader,
normalisation and quarantine apply as to files. Datasets not named in the file come from the
input directory as usual. Passwords in URLs are never logged.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import polars as pl

from .contract import DATASETS
from .errors import InputError

#: rows fetched and written per Parquet part
BATCH_ROWS = 200_000
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def read_sources_config(path: str | Path) -> dict[str, dict]:
    """Parse and check the sources file; returns dataset -> {url, table | query}."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"sources file {path} does not exist: pass the TOML file naming your SQL tables",
                         zh=f"数据源文件 {path} 不存在:请给出列明各数据库表的 TOML 文件") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"sources file {path} is not valid TOML ({exc}): fix its syntax",
                         zh=f"数据源文件 {path} 不是有效的 TOML({exc}):请检查其格式") from None
    default_url = data.get("defaults", {}).get("url")
    out: dict[str, dict] = {}
    for name, spec in (data.get("datasets") or {}).items():
        if name not in DATASETS:
            raise InputError(f"sources file {path}: unknown dataset '{name}': use one of {', '.join(DATASETS)}",
                             zh=f"数据源文件 {path}:未知的数据集“{name}”:可用的名称为 {', '.join(DATASETS)}")
        url = spec.get("url", default_url)
        if not url:
            raise InputError(f"sources file {path}: dataset '{name}' has no url and [defaults] gives none: add url = \"…\"",
                             zh=f"数据源文件 {path}:数据集“{name}”没有 url,[defaults] 中也没有:请加上 url = \"…\"")
        table, query = spec.get("table"), spec.get("query")
        if bool(table) == bool(query):
            raise InputError(f"sources file {path}: dataset '{name}' needs exactly one of table or query",
                             zh=f"数据源文件 {path}:数据集“{name}”须给出 table 或 query 二者之一(且只能一个)")
        if table and not _IDENT.match(table):
            raise InputError(f"sources file {path}: table name {table!r} for '{name}' is not a plain identifier: use query instead",
                             zh=f"数据源文件 {path}:“{name}”的表名 {table!r} 不是简单标识符:请改用 query")
        out[name] = {"url": url, "table": table, "query": query}
    if not out:
        raise InputError(f"sources file {path} names no [datasets.<name>] table: add at least one",
                         zh=f"数据源文件 {path} 没有列出任何 [datasets.<名称>] 表:请至少加一个")
    return out


def materialize_sources(sources_file: str | Path, input_dir: str | Path | None, target: str | Path) -> Path:
    """Write the SQL datasets as Parquet under ``target`` and link the file datasets beside them.

    Returns ``target``, a directory the ordinary loader reads.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    config = read_sources_config(sources_file)
    target = Path(target)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if input_dir and Path(input_dir).is_dir():
        for entry in sorted(Path(input_dir).iterdir()):
            dataset = entry.name.split(".", 1)[0] if entry.is_file() else entry.name
            if dataset in DATASETS and dataset not in config:
                (target / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
    for name, spec in sorted(config.items()):
        sql = spec["query"] or f"SELECT * FROM {spec['table']}"
        folder = target / name
        folder.mkdir()
        try:
            engine = create_engine(spec["url"])
            with engine.connect() as conn:
                batches = pl.read_database(text(sql), connection=conn, iter_batches=True, batch_size=BATCH_ROWS)
                n = 0
                for batch in batches:
                    batch.select(pl.all().cast(pl.String)).write_parquet(folder / f"part-{n:05d}.parquet")
                    n += 1
                if n == 0:
                    raise InputError(f"SQL source for '{name}' returned no columns: check the table or query",
                                     zh=f"“{name}”的数据库来源没有返回任何列:请检查表名或查询语句")
            engine.dispose()
        except SQLAlchemyError as exc:
            where = spec["table"] or "its query"
            msg = str(exc).splitlines()[0]
            raise InputError(f"could not read dataset '{name}' from {where} ({type(exc).__name__}: {msg}): check the url, table and permissions in the sources file",
                             zh=f"无法从 {where} 读取数据集“{name}”({type(exc).__name__}:{msg}):请检查数据源文件中的地址、表名和权限") from None
    return target
