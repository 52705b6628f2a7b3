"""Planters are independent: own random streams, first come first served for persons.

A case is compared by what it is — type, entity, note, money, members and the content of its
records (persons, dates, amounts) — not by record ids, which are positions in the final
files and shift when any planter adds a record.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from fundwatch.synth import generate_city
from fundwatch.synth.planters import PLANTERS
from fundwatch.synth.planting import Planter, owned, planter_rng, stable_hash

N, SEED = 2000, 5


def _cases(city) -> pl.DataFrame:
    """One row per label: its planter, a signature of everything it is, and its persons."""
    d = city.datasets
    pay = d["disbursements"].select(
        record="disbursement_id",
        content=pl.concat_str([pl.col("person_id"), "subsidy_type", "period", pl.col("amount").round(2).cast(pl.String),
                               pl.col("pay_date").cast(pl.String), "batch_id", "account_no"], separator="|"),
        persons=pl.concat_list([pl.col("person_id"), pl.col("account_holder_id").fill_null(pl.col("person_id"))]))
    claims = d["claims"].select(
        record="claim_id",
        content=pl.concat_str([pl.col("person_id"), "institution_id", "visit_type", pl.col("visit_date").cast(pl.String),
                               pl.col("total_amount").round(2).cast(pl.String), pl.col("fund_amount").round(2).cast(pl.String)],
                              separator="|"),
        persons=pl.concat_list([pl.col("person_id")]))
    records = pl.concat([pay, claims])
    labels = city.labels.with_columns(planter=pl.Series(city.planted_by), label=pl.int_range(pl.len()))
    per_label = (labels.select("label", record=pl.col("record_ids")).explode("record")
                 .join(records, on="record", how="left")
                 .group_by("label").agg(pl.col("content").drop_nulls().sort().str.join(";").alias("records"),
                                        pl.col("persons").list.explode(keep_nulls=False, empty_as_null=False).drop_nulls().unique().sort().alias("record_persons")))
    out = labels.join(per_label, on="label", how="left").with_columns(
        signature=pl.concat_str([
            "anomaly_type", "entity_type", "entity_id", pl.col("lookalike").cast(pl.String), "note",
            pl.col("amount").round(2).cast(pl.String), pl.col("member_ids").list.sort().list.join(",").fill_null(""),
            pl.col("records").fill_null("")], separator="#"))
    persons = [set(rp or []) | set(m or []) | ({e} if t == "person" else set())
               for rp, m, e, t in out.select("record_persons", "member_ids", "entity_id", "entity_type").iter_rows()]
    return out.select("planter", "signature").with_columns(persons=pl.Series(persons, dtype=pl.List(pl.String)))


def _by_planter(cases: pl.DataFrame) -> dict[str, list[str]]:
    return {p: sorted(g["signature"].to_list()) for (p,), g in cases.group_by("planter")}


@pytest.fixture(scope="module")
def full():
    return _cases(generate_city(N, SEED))


def greedy(g, rng) -> None:
    """A new planter that takes a tenth of the city and makes them die mid-year."""
    pick = g.pick(rng, np.arange(g.n), g.n // 10)
    g.add_deaths(pick, np.full(len(pick), g.day(g.year, 6, 1)), rng)
    grp = g.group()
    g.tag_enrolments(pick, np.full(len(pick), grp))
    g.label("DECEASED_PAYEE", "subsidy", "person", g.persons["person_id"][int(pick[0])], grp, whole_amount=True)


def test_appending_a_planter_leaves_every_other_case_identical(full):
    more = _cases(generate_city(N, SEED, planters=PLANTERS + (Planter("greedy", greedy),)))
    assert more.filter(pl.col("planter") == "greedy").height == 1
    assert _by_planter(more.filter(pl.col("planter") != "greedy")) == _by_planter(full)


def test_removing_the_last_planter_leaves_every_other_case_identical(full):
    last = PLANTERS[-1].name
    fewer = _cases(generate_city(N, SEED, planters=PLANTERS[:-1]))
    assert _by_planter(fewer) == {p: c for p, c in _by_planter(full).items() if p != last}


@pytest.mark.parametrize("removed", ["deceased_payee", "over_standard", "split_admission"])
def test_removing_a_planter_changes_only_cases_that_take_the_persons_it_freed(full, removed):
    """Earlier planters are untouched; a later one changes only where it now takes a person
    the removed planter held (or one freed in turn by such a change)."""
    fewer = _cases(generate_city(N, SEED, planters=tuple(p for p in PLANTERS if p.name != removed)))
    names = [p.name for p in PLANTERS]
    before, after = _by_planter(full), _by_planter(fewer)
    freed = set().union(*full.filter(pl.col("planter") == removed)["persons"].to_list())
    for name in names[names.index(removed) + 1:]:
        if before.get(name) == after.get(name):
            continue
        mine_full = full.filter(pl.col("planter") == name)
        mine_fewer = fewer.filter(pl.col("planter") == name)
        gained = set().union(*mine_fewer["persons"].to_list()) - set().union(*mine_full["persons"].to_list())
        assert gained & freed, f"{name} changed without taking a freed person"
        freed |= set().union(*mine_full["persons"].to_list()) - set().union(*mine_fewer["persons"].to_list())
    for name in names[: names.index(removed)]:
        assert before.get(name) == after.get(name), name


def test_every_planter_plants_and_names_are_unique():
    names = [p.name for p in PLANTERS]
    assert len(names) == len(set(names))


def test_streams_are_stable_and_per_name():
    assert stable_hash("deceased_payee") == stable_hash("deceased_payee") == 13844892865848933568
    a, b = planter_rng(7, "deceased_payee").random(3), planter_rng(7, "over_standard").random(3)
    assert not np.allclose(a, b)
    assert np.allclose(a, planter_rng(7, "deceased_payee").random(3))


def test_an_edit_kept_in_memory_of_its_own_has_the_same_values_and_types():
    # planters' edits are rebuilt from their values (planting.owned) so that a cut of a big
    # frame does not keep the big frame's buffers alive; nothing of the edit may change
    base = pl.DataFrame({
        "pidx": pl.Series(range(1_000), dtype=pl.Int64),
        "subsidy_type": ["min_living", "elderly_allowance"] * 500,
        "amount": [i * 0.01 for i in range(1_000)],
        "pay_date": [dt.date(2025, 1, 1) + dt.timedelta(days=i % 365) for i in range(1_000)],
        "ids": [[f"a{i}", f"b{i}"] if i % 3 else None for i in range(1_000)],
        "quantity": [None if i % 7 == 0 else 1.5 for i in range(1_000)],
        "sdate": pl.Series(range(1_000), dtype=pl.Int32),
    })
    cut = base.filter(pl.col("pidx").is_in([3, 7, 500]))
    kept = owned(cut)
    assert kept.schema == cut.schema
    assert kept.equals(cut)
