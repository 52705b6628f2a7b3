"""Related leads on a lead's page: two leads are related when one of them is *about* a person
(or account) the other is about or cites — not when both merely cite one person among their
records (a village's payments and a clinic's claims share villagers by the hundred)."""

from __future__ import annotations

import polars as pl

from fundwatch.store import LeadStore
from fundwatch.workspace.queries import Reader
from ws_support import make_evidence, make_leads

VILLAGER, OTHER = "110105194912310011", "110105195001010015"


def _store(backend) -> LeadStore:
    # FW-0: a village citing two villagers; FW-1: a clinic citing one of them; FW-2: a lead about
    # that villager; FW-3: a lead about someone else, citing only them
    leads = make_leads(4).with_columns(
        pl.Series("entity_type", ["village", "institution", "person", "person"]),
        pl.Series("entity_id", ["110105001001", "H0001", VILLAGER, OTHER]),
        pl.Series("domain", ["subsidy", "medical", "subsidy", "medical"]),
    )
    cited = {"FW-0000000000000000": [VILLAGER, OTHER], "FW-0000000000000001": [VILLAGER],
             "FW-0000000000000002": [VILLAGER], "FW-0000000000000003": [OTHER]}
    evidence = make_evidence(leads).with_columns(
        pl.struct("lead_id", "record_id")
        .map_elements(lambda r: cited[r["lead_id"]][-1 if r["record_id"].endswith("b") else 0], return_dtype=pl.String)
        .alias("person_id")
    )
    st = LeadStore(*backend[:1], schema=backend[1])
    st.write_run({"run_id": "run-1", "started_at": "2025-04-01T00:00:00"},
                 leads.with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("related_lead_ids")), evidence)
    return st


def _related(reader: Reader, lead: int) -> set[str]:
    return {r["lead_id"] for r in reader.related(f"FW-{lead:016x}", 50)}


def test_leads_about_a_person_link_to_every_lead_citing_them_and_no_more(backend):
    st = _store(backend)
    try:
        r = Reader(st)
        # the village cites both villagers: linked to the lead about each, not to the clinic
        assert _related(r, 0) == {"FW-0000000000000002", "FW-0000000000000003"}
        assert _related(r, 1) == {"FW-0000000000000002"}  # the clinic: only the lead about its patient
        assert _related(r, 2) == {"FW-0000000000000000", "FW-0000000000000001"}
        assert _related(r, 3) == {"FW-0000000000000000"}
    finally:
        st.close()
