"""Shared fixtures: synthetic cities, one per size (made once per session, fixed seeds), and an
isolated Prefect home so tests never touch the developer's ~/.prefect.

Sizes: ``tiny_city`` (2,000 persons) for tests that scan end to end; ``small_city`` (10,000
persons) for the detectors' behaviour and quality tests. The CLI is tested in this process
(``cli_helpers.run_cli``); only a few smoke tests start real processes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Isolate Prefect before anything imports it: its own SQLite database and storage per session,
# quiet console (tests read files, not logs).
_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="fundwatch-prefect-"))
os.environ.setdefault("PREFECT_HOME", str(_PREFECT_HOME))
os.environ.setdefault("PREFECT_API_DATABASE_CONNECTION_URL", f"sqlite+aiosqlite:///{_PREFECT_HOME / 'prefect.db'}")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

#: Seeds and sizes of the shared test cities. Sizes are small on purpose: the detectors'
#: quality is judged on several seeds in bench/quality.py, not by tuning to these.
CITY_PERSONS = 10000
CITY_SEED = 7
#: The tiny city: for tests that run whole scans (every planted type, a fraction of the rows).
TINY_PERSONS = 2000


@pytest.fixture(scope="session")
def small_city():
    """A clean synthetic city (in memory): ``.datasets`` and ``.labels``."""
    synth = pytest.importorskip("fundwatch.synth")
    return synth.generate_city(CITY_PERSONS, CITY_SEED)


@pytest.fixture(scope="session")
def small_city_dir(tmp_path_factory, small_city):
    """The same city written to disk: ``<dir>/input`` and ``<dir>/labels.parquet``."""
    from fundwatch.synth import write_city

    out = tmp_path_factory.mktemp("city")
    write_city(small_city, out, dirty=False, seed=CITY_SEED)
    return out


@pytest.fixture(scope="session")
def dirty_city_dir(tmp_path_factory, small_city):
    """The city written dirty: GBK CSVs, Chinese headers, xlsx, folders, planted bad rows."""
    from fundwatch.synth import write_city

    out = tmp_path_factory.mktemp("dirty-city")
    write_city(small_city, out, dirty=True, seed=CITY_SEED)
    return out


@pytest.fixture(scope="session")
def tiny_city():
    """A clean synthetic city of 2,000 persons (in memory), for tests that scan end to end."""
    from fundwatch.synth import generate_city

    return generate_city(TINY_PERSONS, CITY_SEED)


@pytest.fixture(scope="session")
def tiny_city_dir(tmp_path_factory, tiny_city):
    """The tiny city written to disk: ``<dir>/input`` and ``<dir>/labels.parquet``."""
    from fundwatch.synth import write_city

    out = tmp_path_factory.mktemp("tiny-city")
    write_city(tiny_city, out, dirty=False, seed=CITY_SEED)
    return out


@pytest.fixture(scope="session")
def tiny_scan(tiny_city_dir, tmp_path_factory):
    """One in-process scan of the tiny city (``fundwatch.pipeline.run_scan``), shared by the
    tests that only read its outputs: ``(out_dir, ScanResult)``."""
    from fundwatch import pipeline

    out = tmp_path_factory.mktemp("tiny-scan")
    return out, pipeline.run_scan(pipeline.ScanRequest(str(tiny_city_dir / "input"), str(out)))


#: Fixtures that make or scan a synthetic city: a test using one is end to end, not a unit.
CITY_FIXTURES = frozenset({
    "small_city", "small_city_dir", "dirty_city_dir", "tiny_city", "tiny_city_dir", "tiny_scan",
})
#: Markers of tests that start a browser or a server.
HEAVY_MARKERS = ("browser", "prefect_server")


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` every test that needs a synthetic city, a browser or a server, so the fast
    lane (``-m "not slow"``) is the unit tests: what a developer runs after each change."""
    for item in items:
        heavy = any(item.get_closest_marker(m) for m in HEAVY_MARKERS)
        if heavy or CITY_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
