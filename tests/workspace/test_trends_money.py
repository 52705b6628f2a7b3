"""The trends page's money per month, type, place and rule counts a record once, as run.json
recorded it, however many leads of the latest run cite the record."""

from __future__ import annotations

import polars as pl
import pytest

from fundwatch.leads import money_by, total_at_risk
from fundwatch.store import LeadStore
from fundwatch.workspace.queries import Reader
from ws_support import make_evidence, make_leads


def test_group_money_counts_a_record_cited_by_two_leads_once(sqlite_backend):
    url, schema = sqlite_backend
    leads = make_leads(3).with_columns(
        # leads 0 and 2 (both subsidy) cite the same payment D0a at 1,000 and 800
        pl.Series("record_ids", [["D0a"], ["D1a"], ["D0a"]]),
        pl.Series("record_amounts", [[1000.0], [500.0], [800.0]]),
        pl.Series("amount_at_risk", [1000.0, 500.0, 800.0]),
    )
    run = {"run_id": "run-1", "started_at": "2025-04-01T00:00:00",
           "leads": {"amount_at_risk": total_at_risk(leads), "money_by": money_by(leads)}}
    st = LeadStore(url, schema=schema)
    try:
        st.write_run(run, leads, make_evidence(leads))
        by = Reader(st).trends()["by"]
    finally:
        st.close()
    types = {row["k"]: (row["n"], row["m"]) for row in by["type"]}
    assert types == {"subsidy": (2, pytest.approx(1000.0)), "medical": (1, pytest.approx(500.0))}  # not 1,800
    assert sum(row["m"] for row in by["month"]) == pytest.approx(1500.0)
    assert sum(row["m"] for row in by["rule"]) == pytest.approx(1500.0)


def test_a_store_written_before_the_grouped_money_falls_back_to_lead_sums(sqlite_backend):
    url, schema = sqlite_backend
    leads = make_leads(2)
    st = LeadStore(url, schema=schema)
    try:
        st.write_run({"run_id": "run-1", "started_at": "2025-04-01T00:00:00"}, leads, make_evidence(leads))
        by = Reader(st).trends()["by"]
    finally:
        st.close()
    assert sum(row["m"] for row in by["type"]) == pytest.approx(float(leads["amount_at_risk"].sum()))


def test_places_are_named_with_their_code_where_the_run_knew_the_name(sqlite_backend):
    from fundwatch.leads import place_names, region_names

    url, schema = sqlite_backend
    leads = make_leads(2).with_columns(pl.Series("region_code", ["510302101001", "510399100000"]))
    regions = pl.DataFrame({"region_code": ["510302", "510302101001"], "name": ["东区", "一村"], "level": ["county", "village"]})
    names = place_names(leads, region_names(regions))
    assert names == {"510302": "东区"}  # 510399 has no name: left out, shown as its code
    run = {"run_id": "run-1", "started_at": "2025-04-01T00:00:00",
           "leads": {"amount_at_risk": total_at_risk(leads), "money_by": money_by(leads), "place_names": names}}
    st = LeadStore(url, schema=schema)
    try:
        st.write_run(run, leads, make_evidence(leads))
        by = Reader(st).trends()["by"]
    finally:
        st.close()
    assert sorted(row["label"] for row in by["place"]) == ["510399", "东区(510302)"]


def test_months_are_the_records_own_where_the_run_dated_them(sqlite_backend):
    from fundwatch.leads import money_by_month

    url, schema = sqlite_backend
    # every lead runs 2025-01..03 (period end March); their records were paid in January
    leads = make_leads(2).with_columns(
        pl.Series("record_amounts", [[600.0, 400.0], [300.0, 200.0]]), pl.Series("amount_at_risk", [1000.0, 500.0])
    )
    evidence = make_evidence(leads)
    months = money_by_month(leads, evidence)
    run = {"run_id": "run-1", "started_at": "2025-04-01T00:00:00",
           "leads": {"amount_at_risk": total_at_risk(leads), "money_by": money_by(leads, months),
                     "leads_by_month": {k: n for k, n, _ in months.iter_rows()}}}
    st = LeadStore(url, schema=schema)
    try:
        st.write_run(run, leads, evidence)
        by = Reader(st).trends()["by"]
    finally:
        st.close()
    assert by["month"] == [{"k": "2025-01", "n": 2, "m": pytest.approx(1500.0)}]  # not March, the period's end
