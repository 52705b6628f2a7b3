"""The Prefect scan flow on the tiny synthetic city: the same leads as the in-process scan,
outputs, reconciliation, artifacts under fixed keys, partitioned runs identical."""

from __future__ import annotations

import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from fundwatch.contract import LEADS_SCHEMA

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scan_flow():
    from fundwatch.flows.scan import scan

    return scan


@pytest.fixture(scope="module")
def first_run(scan_flow, tiny_city_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run1")
    run = scan_flow(input_dir=str(tiny_city_dir / "input"), out_dir=str(out))
    return out, run


def test_run_writes_every_output(first_run):
    out, run = first_run
    for name in ("run.json", "leads.parquet", "leads.csv", "findings.parquet", "quarantine.parquet",
                 "report.html", "leads.xlsx", "leads.sqlite"):
        assert (out / name).exists(), name
    assert (out / "validation" / "validation.json").exists()
    leads = pl.read_parquet(out / "leads.parquet")
    assert leads.schema == LEADS_SCHEMA
    assert leads.height == run["leads"]["count"] > 0
    assert leads["rank"].to_list() == list(range(1, leads.height + 1))


def test_run_json_reconciles_rows(first_run):
    out, _ = first_run
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["datasets"]
    for name, c in run["datasets"].items():
        assert c["rows_read"] == c["rows_accepted"] + c["rows_quarantined"], name
    assert run["rows"]["read"] == run["rows"]["accepted"] + run["rows"]["quarantined"]
    assert run["unmask"] is False
    assert set(run["timings"]) >= {"load", "validate", "detect", "rank", "report", "store"}
    assert run["versions"]["polars"]
    assert len(run["input_fingerprint"]) == 64


def test_flow_gives_the_in_process_leads(first_run, tiny_scan):
    """One orchestration: the flow runs the same steps through Prefect tasks, byte for byte."""
    out, run = first_run
    inline_out, inline = tiny_scan
    assert run["orchestrator"] == "prefect" and inline.record.orchestrator == "inline"
    assert (out / "leads.parquet").read_bytes() == (inline_out / "leads.parquet").read_bytes()
    assert list(run["timings"]) == list(inline.record.timings)


def test_partitioned_rules_give_identical_leads(scan_flow, first_run, tiny_city_dir, tmp_path):
    out, _ = first_run
    scan_flow(input_dir=str(tiny_city_dir / "input"), out_dir=str(tmp_path), partitions=3)
    assert_frame_equal(pl.read_parquet(out / "leads.parquet"), pl.read_parquet(tmp_path / "leads.parquet"))


def test_artifacts_are_published_under_fixed_keys_and_masked(first_run, tiny_city):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from fundwatch.flows.scan import SUMMARY_ARTIFACT_KEY, TOP_LEADS_ARTIFACT_KEY

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[SUMMARY_ARTIFACT_KEY, TOP_LEADS_ARTIFACT_KEY]))
        )
    assert {a.key for a in arts} == {SUMMARY_ARTIFACT_KEY, TOP_LEADS_ARTIFACT_KEY}
    text = "\n".join(str(a.data) for a in arts)
    ids = tiny_city.datasets["persons"]["person_id"].to_list()
    names = tiny_city.datasets["persons"]["name"].to_list()
    assert not [i for i in ids if i in text]
    assert not [n for n in names if len(n) >= 2 and n in text]


def test_missing_needed_dataset_names_dataset_and_detectors(scan_flow, tiny_city_dir, tmp_path):
    import shutil

    from fundwatch.errors import InputError

    src = tiny_city_dir / "input"
    dst = tmp_path / "input"
    shutil.copytree(src, dst)
    for p in dst.iterdir():
        if p.name.startswith("deaths"):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    with pytest.raises(InputError, match="deaths"):
        scan_flow(input_dir=str(dst), out_dir=str(tmp_path / "out"), domain="subsidy")
