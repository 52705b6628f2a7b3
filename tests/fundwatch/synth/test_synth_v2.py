"""The synthetic city's contract v2 data: ordinary records only, consistent with the rules the v2
columns carry (so no ordinary record looks like a case of the new types), drawn from their own
random streams (the version-1 city and its planted cases do not move), and a version-1 writer."""

from __future__ import annotations

import polars as pl
import pytest

from fundwatch.contract import DATASETS, V2_COLUMNS, V2_DATASETS
from fundwatch.synth import generate_city, write_city
from fundwatch.synth import population

N, SEED = 3000, 5


@pytest.fixture(scope="module")
def city():
    return generate_city(N, SEED)


def _v1(df: pl.DataFrame, name: str) -> pl.DataFrame:
    return df.drop(DATASETS[name].v2_columns)


def test_v2_data_comes_from_its_own_streams(city, monkeypatch):
    """Changing every v2 stream changes the v2 data and nothing else: the version-1 datasets and
    the planted truth are the same."""
    original = population.rng_v2
    monkeypatch.setattr(population, "rng_v2", lambda seed, part: original(seed + 1000, part))
    for mod in ("fundwatch.synth.regions", "fundwatch.synth.subsidy", "fundwatch.synth.medical"):
        monkeypatch.setattr(f"{mod}.rng_v2", population.rng_v2)
    other = generate_city(N, SEED)
    assert other.labels.equals(city.labels)
    for name in DATASETS:
        if DATASETS[name].since == 1:
            assert _v1(other.datasets[name], name).equals(_v1(city.datasets[name], name)), name
    assert not other.datasets["regions"].equals(city.datasets["regions"])
    assert not other.datasets["claim_items"]["trace_code"].equals(city.datasets["claim_items"]["trace_code"])


def test_every_v2_column_and_dataset_is_filled(city):
    for name, cols in V2_COLUMNS.items():
        for col in cols:
            assert city.datasets[name][col].null_count() < city.datasets[name].height, f"{name}.{col}"
    for name in V2_DATASETS:
        assert city.datasets[name].height > 0, name


def test_regions_name_every_code_the_city_uses(city):
    r = city.datasets["regions"]
    assert r["region_code"].is_unique().all()
    assert r["parent_code"].drop_nulls().is_in(r["region_code"].implode()).all()
    length = r["region_code"].str.len_chars()
    suffix = {
        6: ("区", "县", "市"),
        9: ("镇", "乡", "街道"),
        12: ("村", "社区"),
    }
    for n, ends in suffix.items():
        names = r.filter(length == n)["name"]
        assert names.len() > 0 and all(x.endswith(ends) for x in names), n
    codes = set(r["region_code"])
    d = city.datasets
    used = pl.concat([d["persons"]["region_code"], d["disbursements"]["region_code"], d["officials"]["region_code"],
                      d["institutions"]["region_code"]]).unique().to_list()

    def named(code: str) -> bool:  # the contract: a zero-padded code names its non-zero prefix
        return any(code[:k] in codes and set(code[k:]) <= {"0"} for k in (12, 9, 6))

    assert [c for c in used if not named(c)] == []
    assert set(d["allocations"]["region_code"]) <= codes
    again = generate_city(N, SEED).datasets["regions"]
    assert again.equals(r)


def test_relations_one_head_per_household(city):
    p = city.datasets["persons"]
    heads = p.filter(pl.col("relation") == "head").group_by("household_id").len()
    assert heads["len"].max() == 1
    assert p.filter(pl.col("relation") == "spouse").group_by("household_id").len()["len"].max() == 1
    assert p["relation"].null_count() < 0.1 * p.height


def test_payments_are_regular_and_proxies_are_household_heads(city):
    pay = city.datasets["disbursements"]
    planted_records = set(city.labels["record_ids"].explode().drop_nulls())
    # ordinary payments are regular (or empty); back-pay, top-ups and returns are planted cases
    assert set(pay["payment_type"].drop_nulls()) <= {"regular", "back_pay", "top_up", "returned"}
    other = pay.filter(pl.col("payment_type").fill_null("regular") != "regular")
    assert set(other["disbursement_id"]) <= planted_records
    assert 0 < pay["payment_type"].null_count() < 0.3 * pay.height
    proxied = pay.filter(pl.col("proxy_id").is_not_null())
    assert proxied.height > 0
    assert (proxied["proxy_id"] == proxied["account_holder_id"]).all()
    assert (proxied["proxy_id"] != proxied["person_id"]).all()
    # a registered proxy outside the household is planted only as a look-alike (a cadre on file)
    on_file = city.labels.filter(pl.col("lookalike") & pl.col("note").str.contains("registered proxy"))
    registered_lookalikes = set(on_file["record_ids"].explode().drop_nulls())
    ordinary = proxied.filter(~pl.col("disbursement_id").is_in(list(registered_lookalikes)))
    hh = city.datasets["persons"].select("person_id", "household_id", "relation")
    j = ordinary.join(hh, on="person_id").join(hh.rename({"person_id": "proxy_id", "household_id": "proxy_hh",
                                                          "relation": "proxy_rel"}), on="proxy_id")
    assert (j["household_id"] == j["proxy_hh"]).all()
    planted = set(city.labels.filter(~pl.col("lookalike"))["record_ids"].explode().drop_nulls())
    assert not set(proxied["disbursement_id"]) & planted  # a planted card-holding case stays unregistered


def test_allocations_are_accounted_for_by_their_payments(city):
    pay, alloc = city.datasets["disbursements"], city.datasets["allocations"]
    region = pl.when(pl.col("subsidy_type") == "farmland").then(pl.col("region_code").str.slice(0, 6)).otherwise(
        pl.col("region_code").str.slice(0, 9))
    signed = pl.when(pl.col("payment_type") == "returned").then(-pl.col("amount")).otherwise(pl.col("amount"))
    paid = pay.group_by("batch_id", "subsidy_type", region.alias("region_code")).agg(
        signed.sum().alias("paid"), pl.col("pay_date").min().alias("first"))
    j = alloc.join(paid, on=["batch_id", "subsidy_type", "region_code"], how="full", coalesce=True)
    assert j.height == alloc.height == paid.height
    # every allocation is paid out (net of returns) but the planted UNPAID_ALLOCATION ones
    unpaid = set(city.labels.filter((pl.col("anomaly_type") == "UNPAID_ALLOCATION") & ~pl.col("lookalike"))["entity_id"])
    j = j.with_columns(entity=pl.col("batch_id") + "@" + pl.col("region_code"))
    short = j.filter((j["allocated_amount"] - j["paid"]).abs() >= 0.005)
    assert set(short["entity"]) == unpaid and (short["allocated_amount"] > short["paid"]).all()
    assert (j["allocated_date"] < j["first"]).all()


def test_standards_v2_agree_with_the_ordinary_payments(city):
    std = city.datasets["subsidy_standards"]
    groups = std.filter(pl.col("exclusive_group").is_not_null())
    pay = city.datasets["disbursements"]
    both = (
        pay.filter(pl.col("subsidy_type").is_in(groups["subsidy_type"].implode()))
        .group_by("person_id", "period").agg(pl.col("subsidy_type").n_unique().alias("k"))
    )
    doubled = both.filter(pl.col("k") > 1)
    planted = set(city.labels.filter((pl.col("anomaly_type") == "EXCLUSIVE_BENEFITS") & ~pl.col("lookalike"))["entity_id"])
    assert groups.height > 0 and set(doubled["person_id"]) <= planted
    # a stated deadline holds for every payment of its type
    due = pay.filter(pl.col("payment_type").fill_null("regular") == "regular").join(std.filter(pl.col("pay_within_days").is_not_null()).select("subsidy_type", "pay_within_days").unique(),
                   on="subsidy_type")
    late = due.filter(
        (pl.col("pay_date") - pl.col("period").str.to_date("%Y-%m")).dt.total_days() > pl.col("pay_within_days"))
    planted = set(city.labels.filter(pl.col("anomaly_type") == "DELAYED_PAYMENT")["record_ids"].explode())
    assert due.height > 0 and set(late["disbursement_id"]) <= planted


def test_assets_planted_ones_keep_a_plain_subtype(city):
    a = city.datasets["assets"]
    bad = a.filter(pl.col("subtype").is_not_null()).with_columns(
        ok=pl.struct("asset_type", "subtype").map_elements(
            lambda r: r["subtype"] in population.ASSET_SUBTYPE_SHARES[r["asset_type"]][0], return_dtype=pl.Boolean))
    assert bad["ok"].all()
    assert (a["deregistered_date"] > a["registered_date"]).fill_null(True).all()
    planted_owners = set(city.labels.filter(pl.col("anomaly_type") == "ASSET_OWNER_RECIPIENT")["entity_id"])
    theirs = a.filter(pl.col("person_id").is_in(list(planted_owners)) & pl.col("asset_type").is_in(["vehicle", "business"]))
    assert theirs.height > 0
    # each planted owner holds at least one registration no exemption or deregistration excuses
    plain = theirs.filter(pl.col("subtype").is_in(["car", "sole_trader"]) & pl.col("deregistered_date").is_null())
    assert set(plain["person_id"]) == set(theirs["person_id"])


@pytest.fixture(scope="module")
def lines(city):
    d = city.datasets
    return d["claim_items"].join(
        d["claims"].select("claim_id", "person_id", "institution_id", "visit_type", "diagnosis_code",
                           "secondary_diagnoses"), on="claim_id")


def _planted(city, *codes: str, lookalike: bool | None = False) -> list[str]:
    """Claim ids of the labels of ``codes`` (planted ones; look-alikes too with ``None``)."""
    lab = city.labels.filter(pl.col("anomaly_type").is_in(codes))
    if lookalike is not None:
        lab = lab.filter(pl.col("lookalike") == lookalike)
    return lab["record_ids"].explode().drop_nulls().unique().to_list()


def test_trace_codes_one_package_sold_once(city, lines):
    # ordinary sales only: the planted resales and split-pack sales carry a code on several lines
    tr = lines.filter(pl.col("trace_code").is_not_null()
                      & ~pl.col("claim_id").is_in(_planted(city, "TRACE_CODE_REUSE", lookalike=None)))
    assert tr.height > 0 and tr["trace_code"].is_unique().all()
    assert (tr["quantity"] <= 1).all() and (tr["category"] == "drug").all()
    assert tr["trace_code"].str.contains(r"^8[0-9]{19}$").all()


def test_planted_trace_codes_are_sold_twice_and_split_packs_once(city, lines):
    tr = lines.filter(pl.col("trace_code").is_not_null())
    resold = tr.filter(pl.col("claim_id").is_in(_planted(city, "TRACE_CODE_REUSE")))
    per = tr.filter(pl.col("trace_code").is_in(resold["trace_code"].implode())).group_by("trace_code").agg(
        pl.col("institution_id").n_unique())
    assert per.height > 0 and (per["institution_id"] == 2).all()
    split = tr.filter(pl.col("claim_id").is_in(_planted(city, "TRACE_CODE_REUSE", lookalike=True)))
    per = split.group_by("trace_code").agg(pl.col("quantity").sum(), pl.col("institution_id").n_unique())
    assert per.height > 0 and (per["institution_id"] == 1).all() and (per["quantity"] <= 1.0 + 1e-9).all()


def test_days_supply_never_piles_up(city, lines):
    # the at-the-line look-alikes stay in: exactly 60 days in a window is allowed
    ds = lines.filter(pl.col("days_supply").is_not_null() & (pl.col("visit_type") != "inpatient")
                      & ~pl.col("claim_id").is_in(_planted(city, "OVERSUPPLY")))
    assert ds.height > 0
    roll = ds.sort("person_id", "item_code", "service_date").rolling(
        "service_date", period="30d", group_by=["person_id", "item_code"]).agg(pl.col("days_supply").sum())
    assert roll["days_supply"].max() <= 60


def test_catalogue_limits_hold_on_every_claim(city, lines):
    cat = city.datasets["item_catalog"]
    lines = lines.filter(~pl.col("claim_id").is_in(_planted(city, "RESTRICTED_INDICATION", "VISIT_TYPE_LIMIT")))
    ind = lines.join(cat.filter(pl.col("indication").is_not_null()).select("item_code", "indication"), on="item_code")
    assert ind.height > 0
    ind = ind.with_row_index("_n").with_columns(
        _d=pl.concat_list([pl.col("diagnosis_code"), pl.col("secondary_diagnoses").str.split(";")]).list.drop_nulls(),
        _p=pl.col("indication").str.split(";"))
    met = ind.select("_n", "_d", "_p").explode("_d").explode("_p").group_by("_n").agg(
        pl.col("_d").str.starts_with(pl.col("_p")).fill_null(False).any().alias("met"))
    assert met.height == ind.height and met["met"].all()
    lim = lines.join(cat.filter(pl.col("visit_type_limit").is_not_null()).select("item_code", "visit_type_limit"),
                     on="item_code")
    wrong = lim.filter(((pl.col("visit_type_limit") == "inpatient") & (pl.col("visit_type") != "inpatient"))
                       | ((pl.col("visit_type_limit") == "outpatient") & (pl.col("visit_type") == "inpatient")))
    assert lim.height > 0 and wrong.height == 0


def test_level_prices_hold_on_every_line(city, lines):
    d = city.datasets
    lines = lines.filter(~pl.col("claim_id").is_in(_planted(city, "OVER_PRICE")))
    j = lines.join(d["institutions"].select("institution_id", "level"), on="institution_id").join(
        d["item_prices"], on=["item_code", "level"])
    j = j.filter((pl.col("service_date") >= pl.col("valid_from"))
                 & (pl.col("valid_to").is_null() | (pl.col("service_date") <= pl.col("valid_to"))))
    assert j.height > 0 and (j["unit_price"] <= j["price_cap"] + 1e-9).all()


def test_admissions_one_per_inpatient_claim(city):
    c = city.datasets["claims"]
    inp = c.filter(pl.col("visit_type") == "inpatient")
    assert inp["admission_id"].null_count() == 0
    # a stay settled in parts (the interim-settlement look-alike) is the only one sharing an id
    shared = inp.filter(pl.col("admission_id").is_duplicated())
    assert shared.height > 0
    assert set(shared["claim_id"]) <= set(_planted(city, "SPLIT_ADMISSION", lookalike=True))
    assert c.filter(pl.col("visit_type") != "inpatient")["admission_id"].null_count() == c.height - inp.height
    assert c["secondary_diagnoses"].drop_nulls().str.contains(r"^[A-Z][0-9]{2}(\.[0-9A-Z]+)?(;[A-Z][0-9]{2}(\.[0-9A-Z]+)?)*$").all()


@pytest.mark.parametrize("dirty", [False, True])
def test_version_1_writer_leaves_every_v2_column_and_dataset_out(tmp_path, city, dirty):
    from fundwatch.loading import load_input

    inp = write_city(city, tmp_path, dirty=dirty, contract_version=1)
    assert not [p for p in inp.iterdir() if p.name.split(".")[0] in V2_DATASETS]
    loaded = load_input(inp)
    assert set(loaded.datasets) == {n for n in DATASETS if DATASETS[n].since == 1}
    for name, frame in loaded.datasets.items():
        assert frame.schema == DATASETS[name].base_schema, name
        assert loaded.absent_columns[name] == list(DATASETS[name].v2_columns), name


def test_cli_synth_contract_version_1(tmp_path):
    from fundwatch.cli import main

    assert main(["synth", str(tmp_path / "c"), "--persons", "300", "--seed", "1", "--contract-version", "1"]) == 0
    files = {p.name for p in (tmp_path / "c" / "input").iterdir()}
    assert "persons.parquet" in files and "regions.parquet" not in files
    assert "relation" not in pl.read_parquet(tmp_path / "c" / "input" / "persons.parquet").columns
    assert main(["synth", str(tmp_path / "d"), "--persons", "300", "--seed", "1"]) == 0
    assert (tmp_path / "d" / "input" / "regions.parquet").exists()


def test_a_planters_v2_values_win_over_the_ordinary_ones():
    """Planters of the v2 types set their own values; the ordinary generators only fill the rest."""
    from fundwatch.synth import medical, subsidy

    persons = pl.DataFrame({"pidx": [0, 1], "hh": [0, 0], "is_head": [True, False]})
    pay = pl.DataFrame({
        "pidx": [1, 1, 1], "holder_pidx": [0, 0, 0], "grp": [None, 7, None],
        "account_holder_id": ["H", "H", "H"], "payment_type": [None, "back_pay", "top_up"],
        "proxy_id": [None, None, "P"],
    }, schema_overrides={"grp": pl.Int64})
    out = subsidy.payments_v2(pay, persons, seed=1)
    assert out["payment_type"].to_list()[1:] == ["back_pay", "top_up"]
    assert out["payment_type"][0] in (None, "regular")
    assert out["proxy_id"][1] is None and out["proxy_id"][2] == "P"  # planted: never registered here
    lines = pl.DataFrame({"trace_code": ["PLANTED", None]})
    got = lines.select(medical.keep_planted(lines, {"trace_code": pl.lit("ORDINARY")}))
    assert got["trace_code"].to_list() == ["PLANTED", "ORDINARY"]


def test_planted_v2_claim_values_are_where_the_cases_need_them(city):
    c = city.datasets["claims"]
    # planned readmissions only on the planned-chemotherapy look-alikes
    planned = set(c.filter(pl.col("readmission_planned").fill_null(False))["claim_id"])
    assert planned and planned <= set(_planted(city, "SPLIT_ADMISSION", lookalike=True))
    # a group admission brings villagers of one village and several households to one hospital
    persons = city.datasets["persons"].select("person_id", "region_code", "household_id")
    groups = city.labels.filter((pl.col("anomaly_type") == "GROUP_ADMISSION") & ~pl.col("lookalike"))
    assert groups.height > 0
    for ids in groups["record_ids"]:
        stays = c.filter(pl.col("claim_id").is_in(ids)).join(persons, on="person_id")
        assert (stays["visit_type"] == "inpatient").all()
        assert stays["institution_id"].n_unique() == 1 and stays["region_code"].n_unique() == 1
        assert stays["household_id"].n_unique() >= 5
