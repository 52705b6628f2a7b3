"""``generate_city``: the whole synthetic city, deterministic per seed."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from fundwatch.contract import DATASETS
from fundwatch.synth import anomalies_medical, anomalies_subsidy, medical, population, subsidy
from fundwatch.synth.regions import build_regions_dataset
from fundwatch.synth.config import SynthConfig
from fundwatch.synth.labels import LabelBook
from fundwatch.synth.population import rng_for, to_date_series


@dataclass
class City:
    """A generated city: contract datasets (canonical schema) and the truth labels."""

    datasets: dict[str, pl.DataFrame]
    labels: pl.DataFrame
    n_persons: int
    seed: int
    config: SynthConfig = field(default_factory=SynthConfig)


@dataclass
class _Ctx:
    """Working state shared by the generation steps (internal)."""

    n: int
    seed: int
    cfg: SynthConfig
    pop: population.Population
    persons: pl.DataFrame
    deaths: pl.DataFrame
    officials: pl.DataFrame
    assets: pl.DataFrame
    land: pl.DataFrame
    used: np.ndarray
    labels: LabelBook = field(default_factory=LabelBook)
    amount_groups: set = field(default_factory=set)
    std_lookup: pl.DataFrame | None = None
    institutions: pl.DataFrame | None = None
    inst_look: dict | None = None
    catalog_internal: pl.DataFrame | None = None

    def account_str(self, pidx: int) -> str:
        return pl.select(subsidy.account_of(pl.lit(pidx, pl.Int64))).item()

    def add_deaths(self, pidx: np.ndarray, ddays: np.ndarray, rng: np.random.Generator) -> None:
        rows = population.make_death_rows(self.persons["person_id"].gather(pidx), ddays, rng, self.cfg)
        self.deaths = pl.concat([self.deaths, rows])
        self._refresh_death()

    def _refresh_death(self) -> None:
        first = self.deaths.group_by("person_id").agg(pl.col("death_date").min().alias("_d"))
        self.persons = self.persons.drop("death_date", strict=False).join(first, on="person_id", how="left").rename(
            {"_d": "death_date"}).sort("pidx")

    def add_assets(self, pidx: np.ndarray, kinds: np.ndarray, reg_days: np.ndarray, values: np.ndarray) -> None:
        rows = pl.DataFrame({"pidx": np.asarray(pidx, dtype=np.int64), "asset_type": np.asarray(kinds, dtype=str),
                             "registered_date": to_date_series("r", reg_days), "value": np.asarray(values, dtype=float)})
        rows = rows.with_columns(person_id=self.persons["person_id"].gather(rows["pidx"]))
        self.assets = pl.concat([self.assets, rows.select(self.assets.columns)])


def _conform(df: pl.DataFrame, name: str) -> pl.DataFrame:
    schema = DATASETS[name].schema
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


def generate_city(n_persons: int, seed: int, config: SynthConfig = SynthConfig()) -> City:
    """Generate a county-scale city of ``n_persons`` persons with planted anomalies.

    Parameters
    ----------
    n_persons : number of persons in the register (at least ~1,000 for every planted type).
    seed : everything is a pure function of ``(n_persons, seed, config)``.
    config : rates and magnitudes.

    Returns
    -------
    City
        ``datasets`` keyed by contract dataset name, each with exactly
        ``fundwatch.contract.DATASETS[name].schema`` (every contract v2 column and dataset
        included; ``write_city(..., contract_version=1)`` leaves them out); ``labels`` as
        ``labels.LABEL_SCHEMA``.
    """
    cfg = config
    pop = population.build_population(n_persons, seed, cfg)
    n = len(pop.persons)
    deaths = population.build_deaths(pop, seed, cfg)
    dead_pidx = pop.persons.filter(pl.col("person_id").is_in(deaths["person_id"]))["pidx"].to_numpy()
    officials = population.build_officials(pop, seed, cfg, dead_pidx)
    assets = population.build_assets(pop, seed, cfg)
    n_ordinary_assets = len(assets)  # planters append theirs after these
    land = population.build_land(pop, seed, cfg)
    ctx = _Ctx(n=n, seed=seed, cfg=cfg, pop=pop, persons=pop.persons, deaths=deaths, officials=officials,
               assets=assets, land=land, used=np.zeros(n, dtype=bool))
    ctx._refresh_death()
    _flag_status(ctx)

    # --- subsidies ------------------------------------------------------------------------
    standards = subsidy.build_standards(pop, cfg)
    ctx.std_lookup = subsidy.standard_lookup(standards, pop, cfg)
    enrol = subsidy.normal_enrolments(ctx, cfg)
    enrol = anomalies_subsidy.plant_enrolments(ctx, enrol, cfg)
    pay = subsidy.expand_payments(ctx, enrol, cfg)
    pay = pl.concat([pay.select(subsidy.PAY_COLUMNS), subsidy.farmland_payments(ctx, cfg).select(subsidy.PAY_COLUMNS)])
    pay = anomalies_subsidy.plant_payments(ctx, pay, cfg)
    pay = subsidy.number_disbursements(pay, cfg)

    # --- medical --------------------------------------------------------------------------
    ctx.institutions, ctx.inst_look = medical.build_institutions(pop, seed, cfg)
    catalog = medical.build_catalog()
    ctx.catalog_internal = catalog
    sk = medical.claim_skeletons(ctx, cfg)
    sk = anomalies_medical.plant_skeletons(ctx, sk, cfg)
    sk = sk.with_columns(cid=pl.int_range(pl.len()).cast(pl.Int64))
    lines = medical.generate_items(sk, ctx, cfg)
    sk, lines = anomalies_medical.plant_items(ctx, sk, lines, cfg)
    parts = {"sk": sk, "lines": lines}
    del sk, lines  # finalize_medical empties ``parts`` so the big frames are freed as it goes
    claims, items = medical.finalize_medical(parts, ctx, cfg)

    records = pl.concat([
        pay.select(record_id="disbursement_id", grp="grp", risk="risk"),
        claims.select(record_id="claim_id", grp="grp", risk=pl.when(pl.col("risk") > 0).then("risk").otherwise("total_amount")),
    ])
    labels = ctx.labels.resolve(records)

    # --- contract v2 (own random streams; the version-1 city above is unchanged) --------------
    ctx.persons = ctx.persons.sort("pidx").with_columns(relation=population.person_relations(ctx.persons, seed))
    ctx.assets = population.asset_v2_columns(
        ctx.assets, pl.Series(np.arange(len(ctx.assets)) < n_ordinary_assets), seed, cfg
    )
    ctx.institutions = ctx.institutions.with_columns(ownership=medical.institutions_ownership(ctx.institutions, seed))
    pay = subsidy.payments_v2(pay, ctx.persons, seed)

    officials_out = ctx.officials.sort(["role", "region_code", "person_id"])
    datasets = {
        "persons": _conform(ctx.persons.sort("pidx"), "persons"),
        "deaths": _conform(ctx.deaths.sort(["death_date", "person_id", "source"]), "deaths"),
        "officials": _conform(officials_out, "officials"),
        "assets": _conform(ctx.assets.sort(["registered_date", "person_id", "asset_type"]), "assets"),
        "subsidy_standards": _conform(standards, "subsidy_standards"),
        "land": _conform(ctx.land.sort("household_id"), "land"),
        "disbursements": _conform(pay, "disbursements"),  # already in id order
        "institutions": _conform(ctx.institutions.sort("inst"), "institutions"),
        "item_catalog": _conform(catalog, "item_catalog"),
        "claims": _conform(claims, "claims"),  # finalize_medical emits id order
        "claim_items": _conform(items, "claim_items"),
        # contract v2 datasets
        "regions": _conform(build_regions_dataset(pop, seed, cfg), "regions"),
        "item_prices": _conform(medical.build_item_prices(catalog, cfg), "item_prices"),
        "allocations": _conform(subsidy.build_allocations(pay, seed), "allocations"),
    }
    return City(datasets=datasets, labels=labels, n_persons=n, seed=seed, config=cfg)


def _flag_status(ctx: _Ctx) -> None:
    """Per-person flags used by eligibility: serving official, ever official, vehicle/business owner."""
    y = ctx.cfg.year
    import datetime as dt

    off = ctx.officials
    serving = off.filter((pl.col("start_date") <= dt.date(y, 12, 31))
                         & (pl.col("end_date").is_null() | (pl.col("end_date") >= dt.date(y, 1, 1))))["pidx"]
    vb = ctx.assets.filter(pl.col("asset_type").is_in(["vehicle", "business"]))["pidx"]
    n = ctx.n
    s = np.zeros(n, dtype=bool)
    s[serving.to_numpy()] = True
    e = np.zeros(n, dtype=bool)
    e[off["pidx"].to_numpy()] = True
    o = np.zeros(n, dtype=bool)
    o[vb.to_numpy()] = True
    ctx.persons = ctx.persons.with_columns(serving_official=pl.Series(s), official_ever=pl.Series(e), owner_vb=pl.Series(o))
