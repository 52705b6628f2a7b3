"""SQL sources: datasets read from database tables (SQLite and the real PostgreSQL server)
load exactly like the same data from files."""

from __future__ import annotations

import uuid

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import create_engine, text

from fundwatch.errors import InputError
from fundwatch.loading import load_input
from fundwatch.sources import materialize_sources, read_sources_config

PG_URLS = ("postgresql+psycopg://postgres@127.0.0.1:5432/test", "postgresql+psycopg://root@127.0.0.1:5432/test")


def _write_table(url: str, table: str, frame: pl.DataFrame) -> None:
    engine = create_engine(url)
    frame.to_pandas().to_sql(table, engine, index=False, if_exists="replace")
    engine.dispose()


def _sources(tmp_path, url, tables):
    lines = [f'[defaults]\nurl = "{url}"']
    lines += [f'[datasets.{name}]\ntable = "{table}"' for name, table in tables.items()]
    path = tmp_path / "sources.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _roundtrip(url, small_city_dir, tmp_path, suffix):
    from_files = load_input(small_city_dir / "input", only=["persons", "institutions"])
    tables = {}
    for name in ("persons", "institutions"):
        table = f"fw_{name}_{suffix}"
        frame = from_files.datasets[name].select(pl.all().cast(pl.String))
        # Chinese headers for one table, as real exports have them
        if name == "persons":
            from fundwatch.contract import DATASETS

            frame = frame.rename({c.name: c.zh for c in DATASETS[name].columns})
        _write_table(url, table, frame)
        tables[name] = table
    target = materialize_sources(_sources(tmp_path, url, tables), small_city_dir / "input", tmp_path / "src")
    from_sql = load_input(target, only=["persons", "institutions", "claims"])
    for name in ("persons", "institutions"):
        assert_frame_equal(
            from_files.datasets[name].sort(from_files.datasets[name].columns[0]),
            from_sql.datasets[name].sort(from_sql.datasets[name].columns[0]),
        )
    # datasets not named in the sources file still come from the input directory
    assert from_sql.datasets["claims"].height > 0
    return tables


def test_sqlite_tables_load_like_files(small_city_dir, tmp_path):
    _roundtrip(f"sqlite:///{tmp_path / 'src.sqlite'}", small_city_dir, tmp_path, "s")


def _pg_url():
    for url in PG_URLS:
        try:
            engine = create_engine(url, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            engine.dispose()
            return url
        except Exception:  # any failure means: no server for us here
            continue
    return None


def test_postgresql_tables_load_like_files(small_city_dir, tmp_path):
    url = _pg_url()
    if url is None:
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432 (database test)")
    suffix = uuid.uuid4().hex[:8]
    tables = _roundtrip(url, small_city_dir, tmp_path, suffix)
    engine = create_engine(url)
    with engine.begin() as conn:
        for t in tables.values():
            conn.execute(text(f'DROP TABLE IF EXISTS "{t}"'))
    engine.dispose()


@pytest.mark.parametrize(
    "content, message",
    [
        ("[datasets.nope]\ntable='x'\nurl='sqlite://'", "unknown dataset"),
        ("[datasets.claims]\ntable='x'", "no url"),
        ("[datasets.claims]\nurl='sqlite://'", "exactly one of table or query"),
        ("[datasets.claims]\nurl='sqlite://'\ntable='x; drop table y'", "not a plain identifier"),
        ("this is = = not toml", "not valid TOML"),
        ("", "names no"),
    ],
)
def test_bad_sources_file_is_one_clear_line(tmp_path, content, message):
    path = tmp_path / "s.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        read_sources_config(path)
    assert "\n" not in str(info.value)


def test_unreachable_table_is_an_input_error(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(f"[datasets.claims]\nurl='sqlite:///{tmp_path / 'empty.sqlite'}'\ntable='missing'", encoding="utf-8")
    with pytest.raises(InputError, match="claims"):
        materialize_sources(path, None, tmp_path / "t")
