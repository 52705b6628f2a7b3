"""Privacy: nothing a default run writes for people to read — report, leads.csv, the workbook,
validation results and Data Docs, the CLI's output, Prefect logs and artifacts, log files —
holds a whole identity number, account number or unmasked name; ``--unmask`` shows them and
is recorded in run.json."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import polars as pl
import pytest

pytestmark = pytest.mark.slow


def _readable_texts(out: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for name in ("report.html", "leads.csv"):
        texts[name] = (out / name).read_text(encoding="utf-8-sig")
    with zipfile.ZipFile(out / "leads.xlsx") as z:
        for info in z.infolist():
            if info.filename.endswith((".xml", ".rels")):
                texts[f"leads.xlsx:{info.filename}"] = z.read(info).decode("utf-8")
    for p in sorted((out / "validation").rglob("*")):
        if p.is_file() and p.suffix in (".json", ".html", ".htm", ".md", ".txt"):
            texts[str(p.relative_to(out))] = p.read_text(encoding="utf-8", errors="replace")
    for p in sorted(out.rglob("*.log")):
        texts[str(p.relative_to(out))] = p.read_text(encoding="utf-8", errors="replace")
    return texts


def _prefect_texts() -> dict[str, str]:
    """Artifacts and logs on this process's Prefect API (where ``--prefect`` runs went)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(limit=200)
        logs = client.read_logs(log_filter=LogFilter(), limit=200)
    return {"prefect-artifacts": "\n".join(str(a.data) + str(a.description) for a in arts),
            "prefect-logs": "\n".join(log.message for log in logs)}


def _leaks(texts: dict[str, str], secrets: set[str]) -> dict[str, list[str]]:
    found = {}
    for where, text in texts.items():
        hits = sorted(s for s in secrets if s in text)
        if hits:
            found[where] = hits[:5]
    return found


@pytest.fixture(scope="module")
def personal_leads(default_run):
    out, _ = default_run
    leads = pl.read_parquet(out / "leads.parquet")
    person = leads.filter(pl.col("entity_type").is_in(["person", "account"]))
    assert person.height, "the base city should give person leads (else the privacy check proves nothing)"
    return leads, person


@pytest.fixture(scope="module")
def prefect_run(cli, base_city, tmp_path_factory):
    """The base city scanned through the Prefect flow (``--prefect``), in this process."""
    out = tmp_path_factory.mktemp("prefect-run")
    res = cli("scan", base_city.input, "--out", out, "--prefect")
    assert res.returncode == 0, res.stderr[-3000:]
    return out, res


@pytest.mark.parametrize("run", ["default_run", "prefect_run"])
def test_a_run_shows_no_whole_identity_number_account_or_name(run, request, base_city, personal_leads):
    out, res = request.getfixturevalue(run)
    texts = _readable_texts(out)
    texts["stdout"], texts["stderr"] = res.stdout, res.stderr
    if run == "prefect_run":
        texts.update(_prefect_texts())
        assert texts["prefect-logs"], "no Prefect logs read: the check would prove nothing"
        assert texts["prefect-artifacts"], "no Prefect artifacts read: the check would prove nothing"
    assert _leaks(texts, base_city.person_ids()) == {}
    assert _leaks(texts, base_city.account_nos()) == {}
    assert _leaks(texts, base_city.names()) == {}
    # the person leads are there, masked (so the check above looked at real content)
    _, person = personal_leads
    pid = person["entity_id"][0]
    masked = pid[:6] + "*" * (len(pid) - 10) + pid[-4:]
    assert masked in texts["leads.csv"]


def test_unmask_shows_identity_numbers_and_is_recorded(cli, base_city, personal_leads, tmp_path):
    out = tmp_path / "unmasked"
    res = cli("scan", base_city.input, "--out", out, "--unmask")
    assert res.returncode == 0, res.stderr[-3000:]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["unmask"] is True
    _, person = personal_leads
    pid = person["entity_id"][0]
    assert pid in (out / "leads.csv").read_text(encoding="utf-8-sig")
    assert pid in (out / "report.html").read_text(encoding="utf-8")


def test_default_run_records_unmask_false(default_run):
    out, _ = default_run
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["unmask"] is False
