"""Pipeline steps outside the detectors: domains, the memory check, period restriction,
the dataset plan."""

from __future__ import annotations

import polars as pl
import pytest

from fundwatch import pipeline
from fundwatch.errors import InputError
from fundwatch.settings import DEFAULT_SETTINGS, Settings


def _settings(**runtime) -> Settings:
    return DEFAULT_SETTINGS.model_copy(update={"runtime": DEFAULT_SETTINGS.runtime.model_copy(update=runtime)})


@pytest.mark.parametrize("given, expected", [("all", ("subsidy", "medical")), ("medical", ("medical",)),
                                             ("medical,subsidy", ("subsidy", "medical"))])
def test_parse_domains(given, expected):
    assert pipeline.parse_domains(given) == expected


def test_unknown_domain_is_an_input_error():
    with pytest.raises(InputError, match="tax"):
        pipeline.parse_domains("tax")


def test_input_too_big_for_memory_stops_before_loading(small_city_dir):
    tiny = _settings(memory_limit_gb=0.001)
    with pytest.raises(InputError, match=r"needs about .* GB of memory but 0\.0 GB is available"):
        pipeline.load_step(small_city_dir / "input", ("subsidy", "medical"), tiny)


def test_memory_estimate_grows_with_the_input(small_city_dir):
    from fundwatch.loading import discover

    files = discover(small_city_dir / "input")
    some = {k: v for k, v in files.items() if k == "persons"}
    assert 0 < pipeline.estimate_memory_bytes(some) < pipeline.estimate_memory_bytes(files)


def test_a_city_that_fits_loads(small_city_dir):
    loaded = pipeline.load_step(small_city_dir / "input", ("subsidy",), _settings(memory_limit_gb=64))
    assert "claims" not in loaded.datasets and loaded.datasets["disbursements"].height > 0


def test_restrict_periods_keeps_items_of_kept_claims(small_city):
    out = pipeline.restrict_periods(small_city.datasets, "2025-03", "2025-04")
    months = out["claims"]["visit_date"].dt.strftime("%Y-%m").unique().sort().to_list()
    assert months == ["2025-03", "2025-04"]
    assert set(out["claim_items"]["claim_id"]) <= set(out["claims"]["claim_id"])
    assert out["disbursements"]["period"].is_between(pl.lit("2025-03"), pl.lit("2025-04")).all()
    assert out["persons"].height == small_city.datasets["persons"].height


def test_counts_reconcile_with_validation_quarantine():
    from fundwatch.loading import DatasetCounts

    counts = {"claims": DatasetCounts(rows_read=10, rows_accepted=9, rows_quarantined=1, files=[], seconds=0.0)}
    # one row failing two checks; another row on the same line of another file of the dataset
    vq = pl.DataFrame({"dataset": ["claims"] * 3, "source_file": ["claims/a.csv", "claims/a.csv", "claims/b.csv"],
                       "row_number": [3, 3, 3]})
    frame = pipeline.counts_frame(counts, vq)
    row = frame.row(0, named=True)
    assert (row["rows_read"], row["rows_accepted"], row["rows_quarantined"]) == (10, 7, 3)


# ---------------------------------------------------------------------------- run_scan
class RecordingSubmit:
    """A ``submit`` that runs each step lazily (when its result is asked for) and records the
    arguments every step got and how many steps were unfinished at once."""

    def __init__(self):
        self.calls: dict[str, list[tuple]] = {}
        self.results: dict[str, list] = {}
        self.unfinished = 0
        self.most_unfinished = 0

    def __call__(self, step, *args):
        self.calls.setdefault(step.__name__, []).append(args)
        self.unfinished += 1
        self.most_unfinished = max(self.most_unfinished, self.unfinished)
        outer = self

        class Lazy:
            done = False

            def result(self):
                if not self.done:
                    self.value = step(*args)
                    self.done = True
                    outer.unfinished -= 1
                    outer.results.setdefault(step.__name__, []).append(self.value)
                return self.value

        return Lazy()


@pytest.fixture(scope="module")
def english_scan(tiny_city_dir, tmp_path_factory):
    """A scan in English with a non-default regrowth tolerance, every step recorded."""
    settings = DEFAULT_SETTINGS.model_copy(
        update={"store": DEFAULT_SETTINGS.store.model_copy(update={"regrowth_tolerance_cny": 123.0})}
    )
    submit = RecordingSubmit()
    out = tmp_path_factory.mktemp("english")
    request = pipeline.ScanRequest(str(tiny_city_dir / "input"), str(out), lang="en", settings=settings)
    return request, submit, pipeline.run_scan(request, submit=submit)


def test_run_scan_writes_every_output_and_times_every_step(tiny_scan):
    out, result = tiny_scan
    for name in ("run.json", "leads.parquet", "leads.csv", "findings.parquet", "quarantine.parquet",
                 "report.html", "leads.xlsx", "leads.sqlite"):
        assert (out / name).exists(), name
    record = result.record
    assert record.orchestrator == "inline"
    assert list(record.timings) == ["load", "validate", "restrict", "compact", "detect", "rank", "dispositions",
                                    "evidence", "write", "report", "store"]
    assert record.leads.count == result.leads.height > 0
    on_disk = pl.read_json(out / "run.json")
    assert on_disk["run_id"][0] == record.run_id
    for name, c in record.datasets.items():
        assert c.rows_read == c.rows_accepted + c.rows_quarantined, name


def test_run_json_names_every_place_of_the_money_by_place(tiny_scan, tiny_city):
    # the synthetic city ships regions (v2) naming each county: run.json carries the names the
    # workspace's trends show beside the codes (read after validation freed its frames)
    import json

    out, _ = tiny_scan
    leads = json.loads((out / "run.json").read_text(encoding="utf-8"))["leads"]
    places = set(leads["money_by"]["place"])
    assert places and set(leads["place_names"]) == places
    regions = tiny_city.datasets["regions"]
    named = dict(zip(regions["region_code"], regions["name"]))
    assert all(leads["place_names"][code] == named[code] for code in places)


def test_run_json_months_hold_all_the_money_and_count_their_leads(tiny_scan):
    # money per month is dated by the records (leads.money_by_month): every month with money
    # has its lead count, and the months add up to the headline
    _, result = tiny_scan
    rec = result.record.leads
    assert rec.leads_by_month and set(rec.leads_by_month) == set(rec.money_by["month"])
    assert all(1 <= n <= rec.count for n in rec.leads_by_month.values())
    assert sum(rec.money_by["month"].values()) == pytest.approx(rec.amount_at_risk, abs=0.01 * len(rec.leads_by_month))


def test_evidence_is_in_the_language_of_the_scan(english_scan):
    # The evidence step once lost --lang: an English run got Chinese evidence.
    _, submit, _ = english_scan
    assert [args[2] for args in submit.calls["evidence_step"]] == ["en"]
    evidence = submit.results["evidence_step"][0]
    assert evidence.height > 0
    cjk = evidence.filter(pl.col("description").str.contains(r"[\u4e00-\u9fff]"))
    assert cjk.height == 0, cjk["description"].head(3).to_list()


def test_dispositions_get_the_runs_settings_and_language(english_scan):
    # The disposition step once got neither: --settings regrowth_tolerance_cny was ignored.
    request, submit, _ = english_scan
    (args,) = submit.calls["disposition_step"]
    assert args[2] is request.settings and args[2].store.regrowth_tolerance_cny == 123.0
    assert args[3] == "en"


@pytest.mark.parametrize("workers", [1, 3])
def test_detectors_in_flight_follow_the_runs_settings(tiny_city, workers):
    # detect_workers was read once, at import: a settings file could not change it.
    settings = _settings(detect_workers=workers)
    submit = RecordingSubmit()
    pipeline.detect_step(tiny_city.datasets, settings=settings, submit=submit)
    assert len(submit.calls["run_detector"]) > workers
    assert submit.most_unfinished == workers


def test_every_lead_store_the_scan_opens_is_closed(tiny_city_dir, tmp_path, monkeypatch):
    from fundwatch import store

    opened, closed = [], []
    init, close = store.LeadStore.__init__, store.LeadStore.close
    monkeypatch.setattr(store.LeadStore, "__init__", lambda self, *a, **k: (opened.append(self), init(self, *a, **k))[1])
    monkeypatch.setattr(store.LeadStore, "close", lambda self: (closed.append(self), close(self))[1])
    pipeline.run_scan(pipeline.ScanRequest(str(tiny_city_dir / "input"), str(tmp_path)))
    assert len(opened) >= 2
    assert sorted(map(id, opened)) == sorted(map(id, closed))


def test_submit_bounded_keeps_results_in_call_order():
    submit = RecordingSubmit()
    out = pipeline.submit_bounded(submit, [(lambda x: x * 10, (i,)) for i in range(7)], limit=3)
    assert out == [0, 10, 20, 30, 40, 50, 60]
    assert submit.most_unfinished == 3


def test_bad_options_are_one_line_input_errors(tmp_path):
    with pytest.raises(InputError, match="2025-13"):
        pipeline.ScanRequest.from_options(tmp_path, tmp_path, period_start="2025-13")
    bad = tmp_path / "s.toml"
    bad.write_text("[scoring]\nno_such_weight = 1\n", encoding="utf-8")
    with pytest.raises(InputError, match="s.toml.*no_such_weight"):
        pipeline.ScanRequest.from_options(tmp_path, tmp_path, settings_file=bad)
    with pytest.raises(InputError, match="does not exist"):
        pipeline.ScanRequest.from_options(tmp_path, tmp_path, settings_file=tmp_path / "missing.toml")


def test_display_url_hides_the_password():
    assert pipeline.display_url("postgresql+psycopg://u:secret@h:5432/db") == "postgresql+psycopg://u:***@h:5432/db"
    assert pipeline.display_url("sqlite:////tmp/a.sqlite") == "sqlite:////tmp/a.sqlite"


def test_absent_v2_columns_skip_exactly_the_detectors_that_need_them(tiny_city, monkeypatch):
    from fundwatch import detectors
    from fundwatch.detectors.base import Detector

    class NeedsIndication(Detector):
        domain = "medical"
        requires = ("claims", "item_catalog")
        requires_columns = {"item_catalog": ("indication",)}

    real = detectors.all_detectors
    monkeypatch.setattr(detectors, "all_detectors", lambda *a, **k: [*real(*a, **k), NeedsIndication()])
    with_v2 = dict(tiny_city.datasets)
    without = {**with_v2, "item_catalog": with_v2["item_catalog"].drop("indication", strict=False)}
    _, _, skipped = pipeline.detection_plan(without, ("medical",), lang="zh")
    # exactly the detectors that declare the column: the planted one and RESTRICTED_INDICATION's
    absent = "「医保目录及限定」缺少「限定诊断」列"
    assert skipped == {"NeedsIndication": absent, "RestrictedIndicationRule": absent}
    rules, _, skipped = pipeline.detection_plan(with_v2, ("medical",))
    assert "NeedsIndication" not in skipped and ("NeedsIndication", 1) in rules


def test_run_json_lists_absent_v2_columns(tiny_city, tmp_path):
    from fundwatch.synth import write_city

    write_city(tiny_city, tmp_path / "v1", dirty=False, seed=7, contract_version=1)
    result = pipeline.run_scan(pipeline.ScanRequest(str(tmp_path / "v1" / "input"), str(tmp_path / "out"), domains=("subsidy",)))
    assert "payment_type" in result.record.absent_columns["disbursements"]
    assert "relation" in result.record.absent_columns["persons"]
