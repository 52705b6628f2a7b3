"""The bad-input corpus (``hardening_corpus.CASES``) through the real command line: each case
is the tiny valid city with exactly one defect, and must end as declared — a one-line error
(exit 2) naming the file or dataset, or a successful run whose counts reconcile with the rows
quarantined."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from hardening_corpus import CASES, Case, domain_of, materialise
from hardening_helpers import assert_one_line_error

pytestmark = pytest.mark.slow

_COUNTS = re.compile(r"^(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")


def _validate_counts(stdout: str) -> dict[str, tuple[int, int, int]]:
    """The read/accepted/quarantined table ``fundwatch validate`` prints."""
    out = {}
    for line in stdout.splitlines():
        m = _COUNTS.match(line)
        if m:
            out[m[1]] = (int(m[2]), int(m[3]), int(m[4]))
    return out


def test_corpus_is_big_enough_and_covers_both_outcomes():
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.outcome for c in CASES} == {"error", "quarantine", "accept"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus_case(case: Case, base_city, cli, no_docs_settings, tmp_path):
    inp = materialise(case, base_city.input, tmp_path)
    out = tmp_path / "out"
    domain = domain_of(case.dataset)
    if case.command == "scan":
        res = cli("scan", inp, "--out", out, "--domain", domain)
    else:
        res = cli("validate", inp, "--out", out, "--domain", domain, "--settings", no_docs_settings)

    if case.outcome == "error":
        assert_one_line_error(res, case.fragment)
        assert not (out / "run.json").exists()
        return

    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    # per dataset: rows read = accepted + quarantined (run.json for a scan, the printed table otherwise)
    if case.command == "scan":
        run = json.loads((out / "run.json").read_text(encoding="utf-8"))
        counts = {k: (v["rows_read"], v["rows_accepted"], v["rows_quarantined"]) for k, v in run["datasets"].items()}
        assert run["rows"]["read"] == run["rows"]["accepted"] + run["rows"]["quarantined"]
    else:
        counts = _validate_counts(res.stdout)
    assert case.dataset in counts, res.stdout
    for name, (read, accepted, quarantined) in counts.items():
        assert read == accepted + quarantined, name

    quarantine = pl.read_parquet(out / "quarantine.parquet").filter(pl.col("dataset") == case.dataset)
    read, accepted, quarantined = counts[case.dataset]
    base_rows = base_city.datasets[case.dataset].height
    if case.outcome == "accept":
        assert quarantined == 0, quarantine.head(5)
        assert quarantine.height == 0
        if case.id != "header_only_csv":
            assert read >= base_rows
        else:
            assert read == 0
        return

    # quarantine: the bad rows are there with a reason, nothing else of the dataset was lost
    assert quarantined >= case.min_quarantined, quarantine
    assert quarantine.select(pl.struct("source_file", "row_number").n_unique()).item() == quarantined
    assert quarantine["reason"].null_count() == 0
    text = " ".join(f"{c} {r}" for c, r in quarantine.select("column", "reason").iter_rows()).lower()
    assert case.fragment.lower() in text, text[:500]
    assert accepted >= base_rows - quarantined - 2  # ragged / blank rows aside, good rows are kept
