"""Every expectation fails on a crafted bad row and passes on good data; quarantine reconciles."""

from __future__ import annotations

import re

import polars as pl
import pytest

from fundwatch.expectations import SUITES, dataset_checks, validate
from fundwatch.contract import DATASETS, QUARANTINE_SCHEMA
from fundwatch.settings import DEFAULT_SETTINGS

from validation_frames import MUTATIONS, N_GOOD, good_frames, mutated_frames, not_null_mutations

ALL_MUTATIONS = MUTATIONS + not_null_mutations()


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return validate(good_frames(), tmp_path_factory.mktemp("good"), build_docs=False)


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    frames, where = mutated_frames(ALL_MUTATIONS)
    result = validate(frames, tmp_path_factory.mktemp("bad"), build_docs=False)
    return frames, where, result


def _row(summary: pl.DataFrame, dataset: str, check: str) -> dict:
    rows = summary.filter((pl.col("dataset") == dataset) & (pl.col("expectation") == check)).to_dicts()
    assert len(rows) == 1, f"{dataset}.{check} not in the summary"
    return rows[0]


def test_good_data_passes_every_expectation(good):
    s = good.summary
    assert s.height > 0 and s.get_column("skipped").is_null().all()
    failed = s.filter(~pl.col("success"))
    assert failed.height == 0, failed.select("dataset", "expectation", "examples").to_dicts()
    assert good.quarantine.height == 0 and good.unusable == {}
    for name, f in good_frames().items():
        assert good.datasets[name].equals(f)


@pytest.mark.parametrize(("dataset", "check", "overrides"), ALL_MUTATIONS, ids=[f"{d}.{c}" for d, c, _ in ALL_MUTATIONS])
def test_expectation_fails_on_its_bad_row(bad, dataset, check, overrides):
    frames, where, result = bad
    r = _row(result.summary, dataset, check)
    row_number = where[(dataset, check)]
    assert r["success"] is False
    assert r["unexpected_count"] >= 1
    # rows named by their line (a frame given without its file: header = line 1, row n on line n + 1)
    line = row_number + 1
    assert any(re.match(rf"line {line}\b", e) for e in r["examples"]), r["examples"]
    # the good rows never fail
    assert not any(int(re.match(r"line (\d+)", e).group(1)) <= N_GOOD + 1 for e in r["examples"])
    q = result.quarantine.filter(
        (pl.col("dataset") == dataset) & pl.col("reason").str.starts_with(f"{check}:")
    )
    if r["severity"] == "critical":
        assert line in q.get_column("row_number").to_list()
        # the bad row's content occurs fewer times among the accepted rows than in the input
        h_in = frames[dataset].hash_rows(seed=1).to_list()
        h_acc = result.datasets[dataset].hash_rows(seed=1).to_list()
        target = h_in[row_number - 1]
        assert h_acc.count(target) < h_in.count(target)
    else:
        assert q.height == 0  # warnings never quarantine


def test_every_row_level_expectation_has_a_failing_case():
    covered = {(d, c) for d, c, _ in ALL_MUTATIONS}
    for name in SUITES:
        active, _ = dataset_checks(name, DEFAULT_SETTINGS, set(DATASETS))
        for check in active:
            if check.level == "row":
                assert (name, check.name) in covered, f"no failing case for {name}.{check.name}"


def test_quarantine_reconciles(bad):
    frames, _, result = bad
    q = result.quarantine
    assert q.schema == QUARANTINE_SCHEMA
    for name, f in frames.items():
        distinct = q.filter(pl.col("dataset") == name).get_column("row_number").n_unique()
        assert f.height == result.datasets[name].height + distinct, name
        assert distinct > 0


def test_invalid_ids_kept_outside_persons(bad):
    frames, where, result = bad
    n = where[("disbursements", "person_id_valid_gb11643")]
    bad_id = frames["disbursements"].row(n - 1, named=True)["person_id"]
    assert bad_id in result.datasets["disbursements"].get_column("person_id").to_list()
    n = where[("persons", "person_id_valid_gb11643")]
    bad_id = frames["persons"].row(n - 1, named=True)["person_id"]
    assert bad_id not in result.datasets["persons"].get_column("person_id").to_list()


def test_money_tolerance_is_inclusive(tmp_path):
    f = good_frames()
    claims = f["claims"].with_columns(
        pl.when(pl.col("claim_id") == "C0").then(10.01).otherwise(pl.col("total_amount")).alias("total_amount")
    )
    items = f["claim_items"].with_columns(pl.lit(10.01).alias("amount"), pl.lit(2.0).alias("quantity"))
    res = validate({"claims": claims, "claim_items": items.head(1)}, tmp_path, build_docs=False)
    assert _row(res.summary, "claims", "total_amount_eq_fund_amount_plus_self_amount")["success"]
    assert _row(res.summary, "claim_items", "amount_eq_quantity_times_unit_price")["success"]
    strict = DEFAULT_SETTINGS.model_copy(update={"validation": DEFAULT_SETTINGS.validation.model_copy(update={"money_tolerance": 0.0})})
    res = validate({"claims": claims}, tmp_path, strict, build_docs=False)
    assert not _row(res.summary, "claims", "total_amount_eq_fund_amount_plus_self_amount")["success"]


@pytest.mark.parametrize(("policy", "kept"), [("keep_first", ["x"]), ("keep_none", [])])
def test_duplicate_keys_policy(tmp_path, policy, kept):
    f = good_frames()["institutions"]
    dup = pl.concat([f.head(1).with_columns(pl.lit("x").alias("name")), f.head(1).with_columns(pl.lit("y").alias("name"))])
    settings = DEFAULT_SETTINGS.model_copy(
        update={"validation": DEFAULT_SETTINGS.validation.model_copy(update={"quarantine_duplicates": policy})}
    )
    res = validate({"institutions": dup}, tmp_path, settings, build_docs=False)
    assert res.datasets["institutions"].get_column("name").to_list() == kept
    assert res.quarantine.get_column("row_number").to_list() == ([3] if kept else [2, 3])


def test_missing_column_makes_dataset_unusable_and_run_continues(tmp_path):
    f = good_frames()
    res = validate(
        {"claims": f["claims"].drop("fund_amount"), "claim_items": f["claim_items"], "persons": f["persons"]},
        tmp_path,
        build_docs=False,
    )
    assert "claims" in res.unusable and "fund_amount_exists" in res.unusable["claims"]
    assert "claims" not in res.datasets
    assert res.datasets["persons"].height == f["persons"].height
    # the items' check against claims is skipped, not run against an unusable table
    assert _row(res.summary, "claim_items", "claim_exists")["skipped"]
    assert not _row(res.summary, "claims", "fund_amount_exists")["success"]


def test_wrong_type_makes_dataset_unusable(tmp_path):
    f = good_frames()["claims"].with_columns(pl.col("fund_amount").cast(pl.String))
    res = validate({"claims": f}, tmp_path, build_docs=False)
    assert "fund_amount_type" in res.unusable["claims"]
    assert not _row(res.summary, "claims", "fund_amount_type")["success"]


def test_each_check_is_evaluated_once(tmp_path, monkeypatch):
    """GE evaluates its own expectations; polars functions run once, and never for a check GE
    evaluates natively (the old runner computed every check twice)."""
    from fundwatch.expectations import runner, spec

    calls: dict[str, int] = {}
    real_checks = runner.dataset_checks

    def counting(dataset, settings, available):
        active, skipped = real_checks(dataset, settings, available)
        wrapped = []
        for c in active:
            def ok(f, ctx, c=c):
                if c.expect is not None and c.level == "row":
                    raise AssertionError(f"{c.name}: evaluated by polars although GE evaluates it")
                calls[c.name] = calls.get(c.name, 0) + 1
                return c.ok(f, ctx)
            wrapped.append(spec.replace(c, ok=ok))
        return wrapped, skipped

    monkeypatch.setattr(runner, "dataset_checks", counting)
    frames, _ = mutated_frames(ALL_MUTATIONS)
    res = validate({"claims": frames["claims"]}, tmp_path, build_docs=False)
    assert calls and set(calls.values()) == {1}
    assert not _row(res.summary, "claims", "fund_amount_ge_0")["success"]  # native, via GE


def test_loader_rejections_are_recorded_as_failed_checks(tmp_path):
    """With the loader's result, its rejections are failed checks with their rows (file, line,
    record id), taken from the loader and not evaluated again."""
    from fundwatch.loading import load_input

    inp = tmp_path / "in"
    inp.mkdir()
    good = good_frames()["persons"]
    good.write_csv(inp / "persons.csv")
    lines = (inp / "persons.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    first, second = lines[1].split(","), lines[2].split(",")
    first[0] = first[0][:-1] + ("1" if first[0][-1] != "1" else "2")  # a wrong check character
    second[header.index("gender")] = "X"  # not a gender
    lines.insert(3, ",".join(first))  # line 4
    lines.insert(5, ",".join(second))  # line 6
    (inp / "persons.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = load_input(inp)
    assert loaded.quarantine.height == 2
    res = validate(dict(loaded.datasets), tmp_path / "out", build_docs=False, load=loaded)
    ids = _row(res.summary, "persons", "person_id_valid_gb11643")
    gender = _row(res.summary, "persons", "gender_in_set")
    for r, line in ((ids, 4), (gender, 6)):
        assert r["success"] is False and r["unexpected_count"] == 1 and r["source"] == "load"
        assert r["examples"][0].startswith(f"line {line} persons.csv [")
        assert r["element_count"] == loaded.counts["persons"].rows_read
    assert res.quarantine.height == 0  # quarantined once, by the loader
    doc = __import__("json").loads((tmp_path / "out" / "validation" / "validation.json").read_text(encoding="utf-8"))
    failed = {e["expectation"] for e in doc["datasets"]["persons"]["expectations"] if e["success"] is False}
    assert {"person_id_valid_gb11643", "gender_in_set"} <= failed
    audit = (tmp_path / "out" / "validation" / "audit.html").read_text(encoding="utf-8")
    assert "身份证号校验位错误" in audit and "persons.csv" in audit


def test_every_check_says_in_chinese_what_it_checks():
    """Auditors and supervisors read the checks in Chinese (Data Docs, the auditors' page, the
    report): no check falls back to its English sentence."""
    missing = []
    for name in SUITES:
        active, _ = dataset_checks(name, DEFAULT_SETTINGS, set(DATASETS))
        missing += [f"{name}.{c.name}" for c in active if c.label_zh == c.text or not re.search(r"[\u4e00-\u9fff]", c.label_zh)]
    assert not missing, missing
