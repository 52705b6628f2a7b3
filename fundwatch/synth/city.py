"""``generate_city``: the whole synthetic city, deterministic per seed.

First the normal city (population, registers, enrolments and payments, claims and their
items); then the planters (:data:`fundwatch.synth.planters.PLANTERS`) read it and record
their cases as edits; last the edits are applied and records numbered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import polars as pl

from fundwatch.contract import DATASETS
from fundwatch.synth import medical, population, subsidy
from fundwatch.synth.regions import build_regions_dataset
from fundwatch.synth.config import SynthConfig
from fundwatch.synth.planters import PLANTERS
from fundwatch.synth.planting import Garden, Planter, run_planters

PAY_KEY = ["pidx", "subsidy_type", "month"]


@dataclass
class City:
    """A generated city: contract datasets (canonical schema) and the truth labels."""

    datasets: dict[str, pl.DataFrame]
    labels: pl.DataFrame
    n_persons: int
    seed: int
    config: SynthConfig = field(default_factory=SynthConfig)
    #: the planter that wrote each label (parallel to ``labels``)
    planted_by: list[str] = field(default_factory=list)


def _conform(df: pl.DataFrame, name: str) -> pl.DataFrame:
    schema = DATASETS[name].schema
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


def generate_city(n_persons: int, seed: int, config: SynthConfig | None = None,
                  planters: tuple[Planter, ...] | None = None) -> City:
    """Generate a county-scale city of ``n_persons`` persons with planted anomalies.

    Parameters
    ----------
    n_persons : number of persons in the register (at least ~1,000 for every planted type).
    seed : everything is a pure function of ``(n_persons, seed, config, planters)``.
    config : rates and magnitudes (default ``SynthConfig()``).
    planters : the planters to run, in order (default :data:`~fundwatch.synth.planters.PLANTERS`).

    Returns
    -------
    City
        ``datasets`` keyed by contract dataset name, each with exactly
        ``fundwatch.contract.DATASETS[name].schema`` (every contract v2 column and dataset
        included; ``write_city(..., contract_version=1)`` leaves them out); ``labels`` as
        ``labels.LABEL_SCHEMA``.
    """
    cfg = SynthConfig() if config is None else config
    planters = PLANTERS if planters is None else tuple(planters)
    pop = population.build_population(n_persons, seed, cfg)
    deaths = population.build_deaths(pop, seed, cfg)
    dead_pidx = pop.persons.filter(pl.col("person_id").is_in(deaths["person_id"].implode()))["pidx"].to_numpy()
    officials = population.build_officials(pop, seed, cfg, dead_pidx)
    assets = population.build_assets(pop, seed, cfg)
    n_ordinary_assets = len(assets)  # planters append theirs after these
    land = population.build_land(pop, seed, cfg)
    persons = _with_status(_with_deaths(pop.persons, deaths), officials, assets, cfg)

    # --- the normal city ----------------------------------------------------------------------
    base = SimpleNamespace(seed=seed, n=len(persons), cfg=cfg, pop=pop, persons=persons, land=land)
    standards = subsidy.build_standards(pop, cfg)
    base.std_lookup = subsidy.standard_lookup(standards, pop, cfg)
    enrol = subsidy.normal_enrolments(base, cfg)
    base.institutions, base.inst_look = medical.build_institutions(pop, seed, cfg)
    base.catalog_internal = medical.build_catalog()
    sk = medical.claim_skeletons(base, cfg).with_columns(cid=pl.int_range(pl.len()).cast(pl.Int64))
    garden = Garden(
        n=len(persons), seed=seed, cfg=cfg, pop=pop, persons=persons, officials=officials, land=land,
        std_lookup=base.std_lookup, enrol=enrol, pay=_payments(base, enrol, cfg), institutions=base.institutions,
        inst_look=base.inst_look, catalog_internal=base.catalog_internal, sk=sk,
        lines=medical.generate_items(sk, base, cfg),
    )

    # --- planting -----------------------------------------------------------------------------
    run_planters(garden, planters)

    # --- applying the planters' edits -----------------------------------------------------------
    deaths = pl.concat([deaths, *garden.new_deaths])
    assets = pl.concat([assets, *(a.select(assets.columns) for a in garden.new_assets)])
    base.persons = _with_deaths(persons, deaths)
    pay = _planted_payments(base, garden, cfg)
    # money allocated for payments a planter withheld (截留) never reaches a card: counted in
    # the allocations below, absent from the disbursements
    withheld = pay.filter(pl.col("withheld"))
    pay = pay.filter(~pl.col("withheld"))
    claims, items = _planted_claims(base, garden, deaths, cfg)

    records = pl.concat([
        pay.select(record_id="disbursement_id", grp="grp", risk="risk"),
        claims.select(record_id="claim_id", grp="grp", risk=pl.when(pl.col("risk") > 0).then("risk").otherwise("total_amount")),
    ])

    # --- contract v2 (own random streams; the version-1 city above is unchanged) --------------
    base.persons = base.persons.sort("pidx").with_columns(relation=population.person_relations(base.persons, seed))
    assets = population.asset_v2_columns(assets, pl.Series(np.arange(len(assets)) < n_ordinary_assets), seed, cfg)
    base.institutions = base.institutions.with_columns(
        ownership=medical.institutions_ownership(base.institutions, seed)
    )
    pay = subsidy.payments_v2(pay, base.persons, seed)
    datasets = {
        "persons": _conform(base.persons.sort("pidx"), "persons"),
        "deaths": _conform(deaths.sort(["death_date", "person_id", "source"]), "deaths"),
        "officials": _conform(officials.sort(["role", "region_code", "person_id"]), "officials"),
        "assets": _conform(assets.sort(["registered_date", "person_id", "asset_type"]), "assets"),
        "subsidy_standards": _conform(standards, "subsidy_standards"),
        "land": _conform(land.sort("household_id"), "land"),
        "disbursements": _conform(pay, "disbursements"),  # already in id order
        "institutions": _conform(base.institutions.sort("inst"), "institutions"),
        "item_catalog": _conform(base.catalog_internal, "item_catalog"),
        "claims": _conform(claims, "claims"),  # finalize_medical emits id order
        "claim_items": _conform(items, "claim_items"),
        # contract v2 datasets
        "regions": _conform(build_regions_dataset(pop, seed, cfg), "regions"),
        "item_prices": _conform(medical.build_item_prices(base.catalog_internal, cfg), "item_prices"),
        "allocations": _conform(subsidy.build_allocations(pl.concat([pay, subsidy.payments_v2(withheld, base.persons, seed)]), seed), "allocations"),
    }
    return City(datasets=datasets, labels=garden.labels.resolve(records), n_persons=len(persons), seed=seed, config=cfg,
                planted_by=list(garden.label_planters))


# -- the normal city ------------------------------------------------------------------------------
def _with_deaths(persons: pl.DataFrame, deaths: pl.DataFrame) -> pl.DataFrame:
    """``death_date``: the earliest death date of each person (null when alive)."""
    first = deaths.group_by("person_id").agg(pl.col("death_date").min().alias("_d"))
    return (persons.drop("death_date", strict=False).join(first, on="person_id", how="left")
            .rename({"_d": "death_date"}).sort("pidx"))


def _with_status(persons: pl.DataFrame, officials: pl.DataFrame, assets: pl.DataFrame, cfg: SynthConfig) -> pl.DataFrame:
    """Per-person flags used by eligibility: serving official, ever official, vehicle/business owner."""
    y, n = cfg.year, len(persons)
    serving = officials.filter((pl.col("start_date") <= dt.date(y, 12, 31))
                               & (pl.col("end_date").is_null() | (pl.col("end_date") >= dt.date(y, 1, 1))))["pidx"]
    owners = assets.filter(pl.col("asset_type").is_in(["vehicle", "business"]))["pidx"]
    flags = {}
    for name, idx in (("serving_official", serving), ("official_ever", officials["pidx"]), ("owner_vb", owners)):
        mask = np.zeros(n, dtype=bool)
        mask[idx.to_numpy()] = True
        flags[name] = pl.Series(mask)
    return persons.with_columns(**flags)


def _payments(ctx, enrol: pl.DataFrame, cfg: SynthConfig) -> pl.DataFrame:
    """Monthly payments of ``enrol`` and the farmland payments, in ``PAY_COLUMNS``."""
    return pl.concat([subsidy.expand_payments(ctx, enrol, cfg).select(subsidy.PAY_COLUMNS),
                      subsidy.farmland_payments(ctx, cfg).select(subsidy.PAY_COLUMNS)])


# -- applying the edits ---------------------------------------------------------------------------
def _planted_enrolments(g: Garden) -> pl.DataFrame:
    enrol = g.enrol
    if g.enrolment_stops:
        stops = pl.concat(g.enrolment_stops)
        enrol = enrol.join(stops, on="pidx", how="left").with_columns(
            m_to=pl.when(pl.col("_stop").is_not_null() & (pl.col("subsidy_type") == pl.col("_only")))
            .then(pl.col("_stop")).otherwise(pl.col("m_to"))).drop("_stop", "_only")
    if g.enrolment_tags:
        tags = pl.concat(g.enrolment_tags)
        enrol = enrol.join(tags, on="pidx", how="left")
        hit = pl.col("_grp").is_not_null() & (pl.col("_only").is_null() | (pl.col("subsidy_type") == pl.col("_only")))
        enrol = enrol.with_columns(
            grp=pl.when(hit).then(pl.col("_grp")).otherwise(pl.col("grp")),
            g_from=pl.when(hit).then(pl.col("_gf")).otherwise(pl.col("g_from")),
            g_to=pl.when(hit).then(pl.col("_gt")).otherwise(pl.col("g_to")),
        ).drop("_grp", "_gf", "_gt", "_only")
    if g.card_holders:
        held = pl.DataFrame({"pidx": list(g.card_holders), "_h": [v[0] for v in g.card_holders.values()],
                             "_g": [v[1] for v in g.card_holders.values()]}).cast(pl.Int64)
        enrol = enrol.join(held, on="pidx", how="left").with_columns(
            hit=pl.col("_h").is_not_null() & (pl.col("subsidy_type") != "farmland") & pl.col("grp").is_null()
        ).with_columns(
            holder_pidx=pl.when("hit").then(pl.col("_h")).otherwise(pl.col("holder_pidx")),
            grp=pl.when("hit").then(pl.col("_g")).otherwise(pl.col("grp")),
            g_from=pl.when("hit").then(1).otherwise(pl.col("g_from")),
            g_to=pl.when("hit").then(12).otherwise(pl.col("g_to")),
        ).drop("_h", "_g", "hit")
    return pl.concat([enrol.cast(subsidy.ENROL_SCHEMA), *(e.cast(subsidy.ENROL_SCHEMA) for e in g.new_enrolments)])


def _planted_payments(ctx, g: Garden, cfg: SynthConfig) -> pl.DataFrame:
    pay = _payments(ctx, _planted_enrolments(g), cfg)
    pay = pay.with_columns(risk=pl.when(pl.col("grp").is_in(sorted(g.amount_groups))).then(pl.col("amount"))
                           .otherwise(pl.col("risk")))
    # planters may set a payment's v2 type (back-pay, top-up, returned) or withhold it
    pay = pay.with_columns(payment_type=pl.lit(None, pl.String), proxy_id=pl.lit(None, pl.String),
                           withheld=pl.lit(False))
    if g.payment_updates:
        up = pl.concat(g.payment_updates, how="diagonal_relaxed")
        up = up.cast({c: pay.schema[c] for c in up.columns})
        cols = [c for c in up.columns if c not in PAY_KEY]
        pay = pay.join(up.rename({c: f"_u_{c}" for c in cols}), on=PAY_KEY, how="left", nulls_equal=True).with_columns(
            [pl.coalesce(pl.col(f"_u_{c}"), pl.col(c)).alias(c) for c in cols]).drop([f"_u_{c}" for c in cols])
    pay = pl.concat([pay, *(p.select([c for c in pay.columns if c in p.columns]) for p in g.new_payments)],
                    how="diagonal_relaxed").with_columns(pl.col("withheld").fill_null(False)).cast(dict(pay.schema))
    return subsidy.number_disbursements(pay, cfg)


def _planted_claims(ctx, g: Garden, deaths: pl.DataFrame, cfg: SynthConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    sk, lines = g.sk, g.lines
    line_columns = lines.columns
    # the garden's base claims are read here for the last time: let each step below free the
    # frame it replaces (tens of millions of lines at the largest tier) instead of holding two
    g.sk, g.lines = g.sk.clear(), g.lines.clear()
    if g.claim_tags:
        tags = pl.concat(g.claim_tags)
        sk = sk.join(tags, on="cid", how="left", maintain_order="left").with_columns(
            grp=pl.coalesce("grp", "_g"), inflate=pl.coalesce("_inflate", "inflate"),
            kind=pl.coalesce("_kind", "kind")).drop("_g", "_inflate", "_kind")
    if g.line_edits:
        ed = pl.DataFrame(g.line_edits).cast({"cid": pl.Int64, "item": pl.Int64, "sdate": pl.Int32,
                                              "quantity": pl.Float64, "price_c": pl.Int64, "risk_c": pl.Int64})
        lines = lines.join(ed.rename({"quantity": "_q", "price_c": "_p", "risk_c": "_r"}),
                           on=["cid", "item", "sdate"], how="left", maintain_order="left")
        hit = pl.col("_q").is_not_null() & (pl.col("src") == 0)
        lines = lines.with_columns(quantity=pl.when(hit).then("_q").otherwise("quantity"),
                                   price_c=pl.when(hit).then("_p").otherwise("price_c"),
                                   risk_c=pl.when(hit).then("_r").otherwise("risk_c")).drop("_q", "_p", "_r")
    if g.new_lines:
        added = pl.concat([x.select(lines.columns).cast(dict(lines.schema)) for x in g.new_lines])
        # an inflated (src 1) line the claim already has is dropped: the normal line stays
        inflated = added.filter(pl.col("src") == 1).join(lines, on=["cid", "item", "sdate"], how="anti",
                                                         maintain_order="left")
        lines = pl.concat([lines, inflated, added.filter(pl.col("src") != 1)])
    # planted claims, numbered after the normal ones
    parts_sk, parts_lines, offset = [sk], [lines], len(sk)
    for psk, plines in g.new_skeletons:
        parts_sk.append(psk.with_columns(pl.col("cid") + offset))
        parts_lines.append(plines.with_columns(pl.col("cid") + offset))
        offset += len(psk)
    claim_v2 = [x.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in medical.PLANTED_CLAIM_V2))
                .select("cid", *medical.PLANTED_CLAIM_V2).cast(medical.PLANTED_CLAIM_V2)
                for x in parts_sk if set(medical.PLANTED_CLAIM_V2) <= set(x.columns)]
    claim_v2 = pl.concat(claim_v2) if claim_v2 else None
    sk = pl.concat([x.select(list(medical.SKELETON_SCHEMA) + ["cid"]) for x in parts_sk])
    # planters of the v2 types may give their own lines a trace code or days of supply: those
    # few values travel in a small frame keyed by (cid, item, sdate), never as columns of the
    # city's tens of millions of lines
    v2_cols = list(medical.PLANTED_LINE_V2)
    line_v2 = [x.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in v2_cols if c in x.columns))
               .select("cid", "item", "sdate", *[pl.col(c) if c in x.columns else
                                                 pl.lit(None, medical.PLANTED_LINE_V2[c]).alias(c) for c in v2_cols])
               for x in parts_lines if any(c in x.columns for c in v2_cols)]
    lines = pl.concat([x.select(parts_lines[0].columns) for x in parts_lines])
    del parts_sk, parts_lines
    line_v2 = pl.concat(line_v2) if line_v2 else None
    # a planted stay is a stay like any other: the person's ordinary out-patient and pharmacy
    # visits (untagged) that fall strictly inside it move to its admission day, as the normal
    # city does for its own stays (see medical.claim_skeletons)
    sk, lines = _visits_out_of_planted_stays(sk, lines, claim_v2)
    # persons a planter made die have no normal claims from their death on
    if g.new_deaths:
        died = (pl.concat(g.new_deaths).group_by("person_id").agg(pl.col("death_date").min())
                .join(ctx.persons.select("person_id", "pidx"), on="person_id")
                .select("pidx", _d=pl.col("death_date").cast(pl.Int32)))
        sk = sk.join(died, on="pidx", how="left", maintain_order="left").filter(
            pl.col("_d").is_null() | pl.col("grp").is_not_null()
            | ((pl.col("visit") < pl.col("_d"))
               & ((pl.col("vt") != 2) | (pl.col("visit") + pl.col("stay").cast(pl.Int32) < pl.col("_d"))))
        ).drop("_d")
        lines = lines.join(sk.select("cid"), on="cid", how="semi")
    # claim numbers 0..n-1 in order (finalize_medical indexes by them)
    renumber = sk.select("cid", _new=pl.int_range(pl.len()).cast(pl.Int64))
    sk = sk.join(renumber, on="cid", maintain_order="left").drop("cid").rename({"_new": "cid"})
    lines = (lines.join(renumber, on="cid", maintain_order="left").drop("cid").rename({"_new": "cid"})
             .select(line_columns))
    parts = {"sk": sk, "lines": lines}
    if claim_v2 is not None:
        parts["claim_v2"] = claim_v2.join(renumber, on="cid", how="inner").drop("cid").rename({"_new": "cid"})
    if line_v2 is not None:
        parts["line_v2"] = (line_v2.join(renumber, on="cid", how="inner").drop("cid").rename({"_new": "cid"})
                            .cast({"cid": pl.Int64, "item": pl.Int64, "sdate": pl.Int32}))
    del sk, lines  # finalize_medical empties ``parts`` so the big frames are freed as it goes
    return medical.finalize_medical(parts, ctx, cfg)


def _visits_out_of_planted_stays(sk: pl.DataFrame, lines: pl.DataFrame,
                                 claim_v2: pl.DataFrame | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Untagged out-patient/pharmacy skeletons strictly inside a planted stay of their person
    move to the stay's admission day, their lines with them (dates only: nothing is drawn)."""
    adm = (claim_v2.select("cid", "admission_id") if claim_v2 is not None
           else pl.DataFrame(schema={"cid": pl.Int64, "admission_id": pl.String}))
    # one stay per admission: the parts of a stay settled in parts (one admission_id) are one
    stays = (sk.filter((pl.col("vt") == 2) & (pl.col("kind") == "planted")).join(adm, on="cid", how="left")
             .with_columns(_k=pl.coalesce("admission_id", pl.format("cid{}", pl.col("cid"))))
             .group_by("pidx", "_k")
             .agg(_a=pl.col("visit").min(), _d=(pl.col("visit") + pl.col("stay").cast(pl.Int32)).max())
             .drop("_k").sort("_a"))
    if stays.is_empty():
        return sk, lines
    moved = (
        sk.filter((pl.col("vt") != 2) & pl.col("grp").is_null() & (pl.col("kind") == "normal"))
        .select("cid", "pidx", "visit").sort("visit")
        .join_asof(stays, left_on="visit", right_on="_a", by="pidx", strategy="backward",
                   allow_exact_matches=False, check_sortedness=False)
        .filter(pl.col("_a").is_not_null() & (pl.col("visit") < pl.col("_d")))
        .select("cid", _new=pl.col("_a").cast(pl.Int32))
    )
    if moved.is_empty():
        return sk, lines
    sk = sk.join(moved, on="cid", how="left", maintain_order="left").with_columns(
        visit=pl.coalesce("_new", "visit")).drop("_new")
    lines = lines.join(moved, on="cid", how="left", maintain_order="left").with_columns(
        sdate=pl.coalesce("_new", "sdate")).drop("_new")
    return sk, lines
