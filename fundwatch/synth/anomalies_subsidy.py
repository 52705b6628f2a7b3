"""Planted subsidy anomalies and their legitimate look-alikes.

Enrolment-level cases (who is paid) are planted before payments are expanded; payment-level
cases (how a payment was made) after. Every case takes persons nobody else has used, so
each planted record belongs to exactly one group and no case trips another rule by accident.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from fundwatch.synth.config import SynthConfig
from fundwatch.synth.population import (DEATH_SOURCES, days, id_strings, random_names, rng_for,
                                        to_date_series)
from fundwatch.synth.subsidy import ENROL_SCHEMA, MONTHLY_TYPES, finish_payments

S = "subsidy"


def _pick(rng: np.random.Generator, cand: np.ndarray, k: int) -> np.ndarray:
    cand = np.unique(np.asarray(cand, dtype=np.int64))
    return np.sort(rng.permutation(cand)[:k]) if len(cand) else cand


def _free(ctx, pidx: pl.Series | np.ndarray) -> np.ndarray:
    arr = np.asarray(pidx, dtype=np.int64)
    return arr[~ctx.used[arr]]


def _set_group(enrol: pl.DataFrame, pidx: np.ndarray, grp: np.ndarray, g_from: np.ndarray | None = None,
               g_to: np.ndarray | None = None, only_type: str | None = None) -> pl.DataFrame:
    """Tag the enrolments of ``pidx`` (optionally one type) with groups and month ranges."""
    n = len(pidx)
    tag = pl.DataFrame({
        "pidx": pidx, "_grp": grp,
        "_gf": g_from if g_from is not None else np.ones(n, dtype=np.int64),
        "_gt": g_to if g_to is not None else np.full(n, 12, dtype=np.int64),
    }).cast({"pidx": pl.Int64, "_grp": pl.Int64, "_gf": pl.Int64, "_gt": pl.Int64})
    e = enrol.join(tag, on="pidx", how="left")
    hit = pl.col("_grp").is_not_null()
    if only_type is not None:
        hit = hit & (pl.col("subsidy_type") == only_type)
    return e.with_columns(
        grp=pl.when(hit).then(pl.col("_grp")).otherwise(pl.col("grp")),
        g_from=pl.when(hit).then(pl.col("_gf")).otherwise(pl.col("g_from")),
        g_to=pl.when(hit).then(pl.col("_gt")).otherwise(pl.col("g_to")),
    ).drop("_grp", "_gf", "_gt")


def _new_enrol(pidx, stype, m_from, m_to, holder, grp) -> pl.DataFrame:
    n = len(pidx)
    return pl.DataFrame({
        "pidx": pidx, "subsidy_type": [stype] * n if isinstance(stype, str) else stype,
        "m_from": m_from, "m_to": m_to, "holder_pidx": holder, "grp": grp,
        "g_from": np.ones(n, dtype=np.int64), "g_to": np.full(n, 12, dtype=np.int64),
    }).cast(ENROL_SCHEMA)


def plant_enrolments(ctx, enrol: pl.DataFrame, cfg: SynthConfig) -> pl.DataFrame:
    rng = rng_for(ctx.seed, 20)
    y = cfg.year
    p = ctx.persons
    n = len(p)
    L = ctx.labels
    pid = p["person_id"].to_numpy()
    alive = p["death_date"].is_null().to_numpy()
    serving = p["serving_official"].to_numpy()
    ever = p["official_ever"].to_numpy()
    owner = p["owner_vb"].to_numpy()
    age0 = p["age0"].to_numpy()
    hh = p["hh"].to_numpy()
    village = p["village"].to_numpy()
    k_la = cfg.lookalikes(ctx.n)
    full = enrol.filter((pl.col("m_from") == 1) & (pl.col("m_to") == 12) & (pl.col("holder_pidx") == pl.col("pidx")))

    # --- DECEASED_PAYEE: paid on after a death that the registers know about ------------------
    k = cfg.cases("DECEASED_PAYEE", ctx.n)
    cand = _free(ctx, full.filter(pl.col("subsidy_type").is_in(MONTHLY_TYPES))["pidx"].unique().sort())
    cand = cand[alive[cand] & ~ever[cand]]
    pick = _pick(rng, cand, k)
    ctx.used[pick] = True
    before = rng.random(len(pick)) < 0.3
    dm = rng.integers(1, 10, size=len(pick))
    ddays = np.where(
        before,
        rng.integers(days(dt.date(y - 1, 9, 1)), days(dt.date(y - 1, 12, 31)), size=len(pick)),
        np.array([days(dt.date(y, int(m), 1)) for m in dm], dtype=np.int64) + rng.integers(0, 28, size=len(pick)),
    )
    g_from = np.where(before, 1, dm + 1)
    grps = np.array([L.group() for _ in pick], dtype=np.int64)
    enrol = _set_group(enrol, pick, grps, g_from)
    ctx.add_deaths(pick, ddays, rng)
    for i, g in zip(pick, grps):
        L.add("DECEASED_PAYEE", S, "person", pid[i], g, note="paid for periods after the recorded death")
        ctx.amount_groups.add(int(g))
    # look-alike: paid for the month of death (and not after)
    dm_all = p.select(pl.col("death_date").dt.month().cast(pl.Int64).fill_null(0).alias("m"),
                      pl.col("death_date").dt.year().cast(pl.Int64).fill_null(0).alias("y")).to_numpy()
    cand_e = enrol.filter(pl.col("grp").is_null() & (pl.col("subsidy_type") != "farmland"))
    dmon = np.where(~alive & (dm_all[:, 1] == y), dm_all[:, 0], -1)
    cand_e = cand_e.with_columns(dmon=pl.Series(dmon).gather(cand_e["pidx"])).filter(
        (pl.col("m_to") == pl.col("dmon")) & (pl.col("dmon") >= 2))
    pick = _pick(rng, _free(ctx, cand_e["pidx"]), k_la)
    ctx.used[pick] = True
    grps = np.array([L.group() for _ in pick], dtype=np.int64)
    enrol = _set_group(enrol, pick, grps, dmon[pick], dmon[pick])
    for i, g in zip(pick, grps):
        L.add("DECEASED_PAYEE", S, "person", pid[i], g, lookalike=True, note="paid for the month of death only")
        ctx.amount_groups.add(int(g))

    # --- INELIGIBLE_AGE ----------------------------------------------------------------------
    k = cfg.cases("INELIGIBLE_AGE", ctx.n)
    k1 = (k + 1) // 2
    cand = np.flatnonzero(alive & ~ctx.used & (age0 >= 70) & (age0 <= 78))
    pe = _pick(rng, cand, k1)
    cand = np.flatnonzero(alive & ~ctx.used & ~ever & (age0 >= 45) & (age0 <= 58))
    cand = np.setdiff1d(cand, pe)
    pp = _pick(rng, cand, k - len(pe))
    rows = []
    for arr, stype, lim in ((pe, "elderly_allowance", 80), (pp, "basic_pension", 60)):
        ctx.used[arr] = True
        g = np.array([L.group() for _ in arr], dtype=np.int64)
        rows.append(_new_enrol(arr, stype, rng.integers(1, 7, size=len(arr)), np.full(len(arr), 12), arr, g))
        for i, gg in zip(arr, g):
            L.add("INELIGIBLE_AGE", S, "person", pid[i], gg, note=f"{stype} needs age {lim}; aged {age0[i]} on 1 Jan")
            ctx.amount_groups.add(int(gg))
    enrol = pl.concat([enrol, *rows])
    # look-alike: exactly at the age limit on the first day of the first paid month
    exact = p["exact_limit"].to_numpy()
    for lim, stype in ((80, "elderly_allowance"), (60, "basic_pension")):
        have = enrol.filter((pl.col("subsidy_type") == stype) & pl.col("grp").is_null())["pidx"].to_numpy()
        arr = _free(ctx, np.intersect1d(have, np.flatnonzero(exact == lim)))
        ctx.used[arr] = True
        g = np.array([L.group() for _ in arr], dtype=np.int64)
        enrol = _set_group(enrol, arr, g, only_type=stype)
        for i, gg in zip(arr, g):
            L.add("INELIGIBLE_AGE", S, "person", pid[i], gg, lookalike=True,
                  note=f"turns {lim} on the first day of the first paid month")
            ctx.amount_groups.add(int(gg))

    # --- OFFICIAL_RECIPIENT ------------------------------------------------------------------
    k = cfg.cases("OFFICIAL_RECIPIENT", ctx.n)
    off = ctx.officials
    in_ml = np.zeros(n, dtype=bool)
    in_ml[enrol.filter(pl.col("subsidy_type") == "min_living")["pidx"].to_numpy()] = True
    cand = off.filter(~pl.col("ended"))["pidx"].to_numpy()
    cand = _free(ctx, cand[alive[cand] & ~owner[cand] & ~in_ml[cand]])
    pick = _pick(rng, cand, k)
    ctx.used[pick] = True
    g = np.array([L.group() for _ in pick], dtype=np.int64)
    role = dict(zip(off["pidx"].to_list(), off["role"].to_list()))
    enrol = pl.concat([enrol, _new_enrol(pick, "min_living", rng.integers(1, 5, size=len(pick)), np.full(len(pick), 12), pick, g)])
    for i, gg in zip(pick, g):
        L.add("OFFICIAL_RECIPIENT", S, "person", pid[i], gg, note=f"serving {role[int(i)]} receives min_living")
        ctx.amount_groups.add(int(gg))
    # look-alike: service ended before the period
    cand = off.filter(pl.col("ended"))["pidx"].to_numpy()
    cand = _free(ctx, cand[alive[cand] & ~owner[cand] & ~in_ml[cand] & ~serving[cand]])
    pick = _pick(rng, cand, k_la)
    ctx.used[pick] = True
    g = np.array([L.group() for _ in pick], dtype=np.int64)
    enrol = pl.concat([enrol, _new_enrol(pick, "min_living", np.ones(len(pick), dtype=np.int64), np.full(len(pick), 12), pick, g)])
    for i, gg in zip(pick, g):
        L.add("OFFICIAL_RECIPIENT", S, "person", pid[i], gg, lookalike=True, note="former official: service ended before the year")
        ctx.amount_groups.add(int(gg))

    # --- ASSET_OWNER_RECIPIENT ---------------------------------------------------------------
    k = cfg.cases("ASSET_OWNER_RECIPIENT", ctx.n)
    ml_full = _free(ctx, full.filter(pl.col("subsidy_type") == "min_living")["pidx"].unique().sort())
    ml_full = ml_full[alive[ml_full] & ~ctx.used[ml_full]]
    ml_full = rng.permutation(ml_full)
    pick = np.sort(ml_full[:k])
    la_late = np.sort(ml_full[k:k + k_la])
    la_prop = np.sort(ml_full[k + k_la:k + 2 * k_la])
    for arr in (pick, la_late, la_prop):
        ctx.used[arr] = True
    kinds = np.where(rng.random(len(pick)) < 0.7, "vehicle", "business")
    reg = rng.integers(days(dt.date(2016, 1, 1)), days(dt.date(y - 1, 11, 30)), size=len(pick))
    ctx.add_assets(pick, kinds, reg, np.round(rng.uniform(20_000, 250_000, size=len(pick)), -2))
    g = np.array([L.group() for _ in pick], dtype=np.int64)
    enrol = _set_group(enrol, pick, g, only_type="min_living")
    for i, gg, kd in zip(pick, g, kinds):
        L.add("ASSET_OWNER_RECIPIENT", S, "person", pid[i], gg, note=f"{kd} registered before the period")
        ctx.amount_groups.add(int(gg))
    # look-alike: registered after the last paid period (payments stop the month before)
    rm = rng.integers(4, 12, size=len(la_late))
    reg = np.array([days(dt.date(y, int(m), 1)) for m in rm], dtype=np.int64) + rng.integers(4, 25, size=len(la_late))
    ctx.add_assets(la_late, np.full(len(la_late), "vehicle"), reg, np.round(rng.uniform(30_000, 150_000, size=len(la_late)), -2))
    stop = pl.DataFrame({"pidx": la_late, "_stop": rm - 1}).cast(pl.Int64)
    enrol = enrol.join(stop, on="pidx", how="left").with_columns(
        m_to=pl.when(pl.col("_stop").is_not_null() & (pl.col("subsidy_type") == "min_living"))
        .then(pl.col("_stop")).otherwise(pl.col("m_to"))).drop("_stop")
    g = np.array([L.group() for _ in la_late], dtype=np.int64)
    enrol = _set_group(enrol, la_late, g, only_type="min_living")
    for i, gg in zip(la_late, g):
        L.add("ASSET_OWNER_RECIPIENT", S, "person", pid[i], gg, lookalike=True,
              note="vehicle registered after the last paid period")
        ctx.amount_groups.add(int(gg))
    ctx.add_assets(la_prop, np.full(len(la_prop), "property"),
                   rng.integers(days(dt.date(2010, 1, 1)), days(dt.date(y - 1, 6, 1)), size=len(la_prop)),
                   np.round(rng.uniform(80_000, 300_000, size=len(la_prop)), -2))
    g = np.array([L.group() for _ in la_prop], dtype=np.int64)
    enrol = _set_group(enrol, la_prop, g, only_type="min_living")
    for i, gg in zip(la_prop, g):
        L.add("ASSET_OWNER_RECIPIENT", S, "person", pid[i], gg, lookalike=True,
              note="owns only property, which does not exclude")
        ctx.amount_groups.add(int(gg))

    # --- VILLAGE_OUTLIER / OPERATOR_OUTLIER: one operator enrols many extra recipients -------
    k = cfg.cases("VILLAGE_OUTLIER", ctx.n)
    vil = ctx.pop.villages.sort("size", descending=True)
    chosen, ops_seen, cty_count = [], set(), {}
    for row in vil.iter_rows(named=True):  # villages only (a few thousand)
        if len(chosen) >= k:
            break
        if row["operator_id"] in ops_seen or cty_count.get(row["county"], 0) >= max(1, k // len(ctx.pop.counties) + 1):
            continue
        chosen.append(row)
        ops_seen.add(row["operator_id"])
        cty_count[row["county"]] = cty_count.get(row["county"], 0) + 1
    in_ml = np.zeros(n, dtype=bool)
    in_ml[enrol.filter(pl.col("subsidy_type").is_in(["min_living", "extreme_poverty"]))["pidx"].to_numpy()] = True
    for row in chosen:
        share = rng.uniform(*cfg.village_outlier_extra_share)
        cand = np.flatnonzero((village == row["village"]) & alive & ~ever & ~owner & ~in_ml & ~ctx.used)
        arr = _pick(rng, cand, int(round(share * row["size"])))
        ctx.used[arr] = True
        gg = L.group()
        enrol = pl.concat([enrol, _new_enrol(arr, "min_living", rng.integers(1, 5, size=len(arr)),
                                             np.full(len(arr), 12), arr, np.full(len(arr), gg))])
        note = f"operator {row['operator_id']} enrolled {len(arr)} extra min_living recipients in {row['region_code']}"
        L.add("VILLAGE_OUTLIER", S, "village", row["region_code"], gg, note=note)
        L.add("OPERATOR_OUTLIER", S, "operator", row["operator_id"], gg, note=note)
        ctx.amount_groups.add(int(gg))

    # --- CADRE_HELD_CARDS: a cadre holds the cards of villagers outside his household ---------
    k = cfg.cases("CADRE_HELD_CARDS", ctx.n)
    cad = off.filter((pl.col("role") == "village_cadre") & ~pl.col("ended"))["pidx"].to_numpy()
    cad = _free(ctx, cad[alive[cad]])
    cad = rng.permutation(cad)
    monthly_self = enrol.filter(pl.col("grp").is_null() & (pl.col("subsidy_type") != "farmland")
                                & (pl.col("holder_pidx") == pl.col("pidx")))
    ben_pool = monthly_self["pidx"].unique().to_numpy()
    ben_pool = ben_pool[alive[ben_pool]]
    done = 0
    holder_map: dict[int, int] = {}
    for c in cad:
        if done >= k:
            break
        cand = ben_pool[(village[ben_pool] == village[c]) & (hh[ben_pool] != hh[c]) & ~ctx.used[ben_pool]]
        m = int(rng.integers(cfg.cards_per_holder[0], cfg.cards_per_holder[1] + 1))
        if len(cand) < 3:
            continue
        arr = _pick(rng, cand, m)
        ctx.used[arr] = True
        ctx.used[c] = True
        gg = L.group()
        for b in arr:
            holder_map[int(b)] = (int(c), gg)
        acct = ctx.account_str(int(c))
        L.add("CADRE_HELD_CARDS", S, "person", pid[c], gg, note=f"village cadre holds account {acct} of {len(arr)} villagers",
              member_ids=[str(pid[b]) for b in arr])
        L.add("SHARED_ACCOUNT", S, "account", acct, gg, note="same case as CADRE_HELD_CARDS: one account, several households",
              member_ids=[str(pid[b]) for b in arr])
        ctx.amount_groups.add(gg)
        done += 1
    # --- SHARED_ACCOUNT: one villager's account receives for other households ----------------
    k = cfg.cases("SHARED_ACCOUNT", ctx.n)
    adults = np.flatnonzero(alive & ~ever & (age0 >= 25) & (age0 <= 70) & ~ctx.used)
    adults = rng.permutation(adults)
    done = 0
    for h in adults:
        if done >= k:
            break
        cand = ben_pool[(village[ben_pool] == village[h]) & (hh[ben_pool] != hh[h]) & ~ctx.used[ben_pool]]
        if len(cand) < 3:
            continue
        arr = _pick(rng, cand, int(rng.integers(3, 7)))
        ctx.used[arr] = True
        ctx.used[h] = True
        gg = L.group()
        for b in arr:
            holder_map[int(b)] = (int(h), gg)
        L.add("SHARED_ACCOUNT", S, "account", ctx.account_str(int(h)), gg,
              note=f"account of one villager receives for {len(arr)} other households", member_ids=[str(pid[b]) for b in arr])
        ctx.amount_groups.add(gg)
        done += 1
    # look-alikes: a cadre holding the card of his own household member; guardians; households
    la_rows = []
    cad_left = [c for c in cad if not ctx.used[c]]
    hh_members = pl.DataFrame({"pidx": ben_pool, "hh": hh[ben_pool]})
    cnt = 0
    for c in cad_left:
        if cnt >= k_la:
            break
        mem = ben_pool[(hh[ben_pool] == hh[c]) & (ben_pool != c) & ~ctx.used[ben_pool]]
        if len(mem) == 0:
            continue
        ctx.used[mem] = True
        ctx.used[c] = True
        gg = L.group()
        for b in mem:
            holder_map[int(b)] = (int(c), gg)
        L.add("CADRE_HELD_CARDS", S, "person", pid[c], gg, lookalike=True,
              note="cadre holds the card of a member of his own household", member_ids=[str(pid[b]) for b in mem])
        ctx.amount_groups.add(gg)
        cnt += 1
    # a household sharing the head's account
    ml_e = enrol.filter((pl.col("subsidy_type") == "min_living") & pl.col("grp").is_null())
    ml_hh = (ml_e.with_columns(hh=pl.Series(hh[ml_e["pidx"].to_numpy()]))
             .group_by("hh").agg(pl.col("pidx").unique().sort(), pl.len().alias("n"))
             .filter(pl.col("n") >= 2).sort("hh"))
    heads = p.filter(pl.col("is_head")).select("hh", "pidx")
    head_of = dict(zip(heads["hh"].to_list(), heads["pidx"].to_list()))
    cnt = 0
    for hrow in ml_hh.iter_rows(named=True):
        if cnt >= k_la:
            break
        hd = head_of[hrow["hh"]]
        mem = [m for m in hrow["pidx"] if m != hd and not ctx.used[m]]
        if len(mem) < 2 or ctx.used[hd] or not alive[hd]:
            continue
        ctx.used[mem] = True
        ctx.used[hd] = True
        gg = L.group()
        for b in mem:
            holder_map[int(b)] = (int(hd), gg)
        L.add("SHARED_ACCOUNT", S, "account", ctx.account_str(int(hd)), gg, lookalike=True,
              note="one household shares the head's account", member_ids=[str(pid[b]) for b in mem])
        ctx.amount_groups.add(gg)
        cnt += 1
    # guardians already in the normal data: label a few
    gu = enrol.filter(pl.col("grp").is_null() & (pl.col("holder_pidx") != pl.col("pidx")))
    gu_p = _pick(rng, _free(ctx, gu["pidx"].unique().sort()), k_la)
    gu_p = gu_p[~ctx.used[gu_p]]
    ctx.used[gu_p] = True
    g = np.array([L.group() for _ in gu_p], dtype=np.int64)
    enrol = _set_group(enrol, gu_p, g)
    hold = dict(zip(gu["pidx"].to_list(), gu["holder_pidx"].to_list()))
    for i, gg in zip(gu_p, g):
        L.add("SHARED_ACCOUNT", S, "account", ctx.account_str(hold[int(i)]), gg, lookalike=True,
              note="guardian in the same household holds the card", member_ids=[str(pid[i])])
        ctx.amount_groups.add(int(gg))
    if holder_map:
        hm = pl.DataFrame({"pidx": list(holder_map), "_h": [v[0] for v in holder_map.values()],
                           "_g": [v[1] for v in holder_map.values()]}).cast(pl.Int64)
        enrol = enrol.join(hm, on="pidx", how="left").with_columns(
            hit=pl.col("_h").is_not_null() & (pl.col("subsidy_type") != "farmland") & pl.col("grp").is_null()
        ).with_columns(
            holder_pidx=pl.when("hit").then(pl.col("_h")).otherwise(pl.col("holder_pidx")),
            grp=pl.when("hit").then(pl.col("_g")).otherwise(pl.col("grp")),
            g_from=pl.when("hit").then(1).otherwise(pl.col("g_from")),
            g_to=pl.when("hit").then(12).otherwise(pl.col("g_to")),
        ).drop("_h", "_g", "hit")
    return enrol.cast(ENROL_SCHEMA)


def plant_payments(ctx, pay: pl.DataFrame, cfg: SynthConfig) -> pl.DataFrame:
    rng = rng_for(ctx.seed, 21)
    y = cfg.year
    L = ctx.labels
    pay = pay.with_columns(
        risk=pl.when(pl.col("grp").is_in(list(ctx.amount_groups))).then(pl.col("amount")).otherwise(pl.col("risk"))
    ).with_row_index("_i")
    k_la = cfg.lookalikes(ctx.n)
    pidx_np = pay["pidx"].fill_null(0).to_numpy()
    free_pay = pay.filter(pl.col("grp").is_null() & pl.col("pidx").is_not_null() & ~pl.Series(ctx.used[pidx_np]))

    def persons_of(df: pl.DataFrame, k: int) -> np.ndarray:
        arr = _pick(rng, _free(ctx, df["pidx"].unique().sort()), k)
        ctx.used[arr] = True
        return arr

    updates = []  # frames of (_i, new column values)
    extra = []
    monthly = free_pay.filter(pl.col("subsidy_type") != "farmland")

    # --- DUPLICATE_PAYMENT ---------------------------------------------------------------------
    k = cfg.cases("DUPLICATE_PAYMENT", ctx.n)
    arr = persons_of(monthly, k)
    rows = monthly.filter(pl.col("pidx").is_in(arr)).sort("_i").group_by("pidx", maintain_order=True).agg(pl.col("_i").sample(1, seed=int(rng.integers(1 << 31))).first())
    for r in rows.iter_rows(named=True):
        gg = L.group()
        orig = pay.row(r["_i"], named=True)
        times = 2 if rng.random() < 0.2 else 1
        updates.append(pl.DataFrame({"_i": [r["_i"]], "grp": [gg], "risk": [0.0]}))
        for t in range(times):
            dup = dict(orig)
            dup["batch_id"] = f"{orig['batch_id']}-BF{t + 1}"
            dup["pay_date"] = orig["pay_date"] + dt.timedelta(days=int(rng.integers(0, 20)))
            dup["grp"] = gg
            dup["risk"] = orig["amount"]
            extra.append(dup)
        L.add("DUPLICATE_PAYMENT", S, "person", orig["person_id"], gg,
              note=f"{orig['subsidy_type']} {orig['period']} paid {times + 1} times")
    # look-alike: two different subsidy types in the same month
    both = monthly.group_by(["pidx", "month"]).agg(pl.col("subsidy_type").n_unique().alias("nt"), pl.col("_i")).filter(pl.col("nt") >= 2).sort(["pidx", "month"])
    arr = persons_of(both, k_la)
    for r in both.filter(pl.col("pidx").is_in(arr)).unique("pidx", keep="first", maintain_order=True).iter_rows(named=True):
        gg = L.group()
        updates.append(pl.DataFrame({"_i": r["_i"], "grp": [gg] * len(r["_i"]), "risk": pay["amount"].gather(r["_i"]).to_list()}))
        L.add("DUPLICATE_PAYMENT", S, "person", pay["person_id"][r["_i"][0]], gg, lookalike=True,
              note="two different subsidy types in one month")

    # --- OVER_STANDARD -------------------------------------------------------------------------
    k = cfg.cases("OVER_STANDARD", ctx.n)
    arr = persons_of(monthly, k)
    for pi in arr:
        mine = monthly.filter(pl.col("pidx") == pi)
        stype = mine["subsidy_type"][0]
        mine = mine.filter(pl.col("subsidy_type") == stype)
        if rng.random() < 0.5:
            mine = mine.sample(1, seed=int(rng.integers(1 << 31)))
        amt = mine["amount"].to_numpy()
        mode = rng.random()
        if mode < 0.4:
            new = np.round(amt * rng.uniform(*cfg.over_standard_factor), 2)
        elif mode < 0.7:
            new = amt + float(rng.choice([20, 50, 80, 100, 200, 300]))
        else:
            new = np.ceil(amt * rng.uniform(*cfg.over_standard_factor) / 10) * 10
        new = np.maximum(new, amt + 1.0)
        gg = L.group()
        updates.append(pl.DataFrame({"_i": mine["_i"], "grp": [gg] * len(mine), "risk": new - amt, "amount": new}))
        L.add("OVER_STANDARD", S, "person", mine["person_id"][0], gg, note=f"{stype} paid above the standard on {len(mine)} payment(s)")
    # look-alike: the county override that raises the standard
    cc1 = int(ctx.pop.counties["county"][1])
    over_cty = monthly.filter((pl.col("county") == cc1) & (pl.col("subsidy_type") == "min_living"))
    arr = persons_of(over_cty, k_la)
    for pi in arr:
        mine = over_cty.filter(pl.col("pidx") == pi)
        gg = L.group()
        updates.append(pl.DataFrame({"_i": mine["_i"], "grp": [gg] * len(mine), "risk": mine["amount"]}))
        L.add("OVER_STANDARD", S, "person", mine["person_id"][0], gg, lookalike=True,
              note="paid at the county standard, which is above the general one")

    # --- DELAYED_PAYMENT -----------------------------------------------------------------------
    k = cfg.cases("DELAYED_PAYMENT", ctx.n)
    arr = persons_of(monthly, k)
    for pi in arr:
        mine = monthly.filter(pl.col("pidx") == pi)
        stype = mine["subsidy_type"][0]
        mine = mine.filter(pl.col("subsidy_type") == stype).sort("month")
        run = int(rng.integers(1, 5))
        s0 = int(rng.integers(0, max(1, len(mine) - run + 1)))
        mine = mine.slice(s0, run)
        last = int(mine["month"].max())
        pay_d = dt.date(y, last, 1) + dt.timedelta(days=int(rng.integers(*cfg.delay_days_bad)))
        gg = L.group()
        updates.append(pl.DataFrame({"_i": mine["_i"], "grp": [gg] * len(mine), "risk": mine["amount"],
                                     "pay_date": [pay_d] * len(mine),
                                     "batch_id": (mine["batch_id"] + "-BF").to_list()}))
        L.add("DELAYED_PAYMENT", S, "person", mine["person_id"][0], gg, note=f"{len(mine)} month(s) of {stype} held back until {pay_d}")
    arr = persons_of(monthly, k_la)
    for pi in arr:
        mine = monthly.filter(pl.col("pidx") == pi).slice(0, 1)
        m = int(mine["month"][0])
        pay_d = dt.date(y, m, 1) + dt.timedelta(days=int(rng.integers(*cfg.delay_days_lookalike)))
        gg = L.group()
        updates.append(pl.DataFrame({"_i": mine["_i"], "grp": [gg], "risk": mine["amount"], "pay_date": [pay_d],
                                     "batch_id": (mine["batch_id"] + "-BF").to_list()}))
        L.add("DELAYED_PAYMENT", S, "person", mine["person_id"][0], gg, lookalike=True, note="paid a few weeks late")

    # --- AREA_INFLATION -------------------------------------------------------------------------
    farm = free_pay.filter(pl.col("subsidy_type") == "farmland")
    k = cfg.cases("AREA_INFLATION", ctx.n)
    arr = persons_of(farm, k + k_la)
    bad, la = arr[:k], arr[k:]
    std = farm["amount"] / farm["quantity"]
    farm = farm.with_columns(std=std)
    for j, pi in enumerate(bad):
        r = farm.filter(pl.col("pidx") == pi).row(0, named=True)
        area = r["quantity"]
        q = round(area * rng.uniform(*cfg.area_inflation_factor), 2) if j % 2 == 0 else round(area + float(rng.integers(2, 11)), 2)
        amt = round(r["std"] * q, 2)
        gg = L.group()
        updates.append(pl.DataFrame({"_i": [r["_i"]], "grp": [gg], "risk": [round(amt - r["amount"], 2)],
                                     "quantity": [q], "amount": [amt]}))
        L.add("AREA_INFLATION", S, "person", r["person_id"], gg, note=f"paid for {q} mu, contracted {area} mu")
    for pi in la:
        r = farm.filter(pl.col("pidx") == pi).row(0, named=True)
        gg = L.group()
        updates.append(pl.DataFrame({"_i": [r["_i"]], "grp": [gg], "risk": [r["amount"]]}))
        L.add("AREA_INFLATION", S, "person", r["person_id"], gg, lookalike=True, note="quantity equals the contracted area")

    # apply updates
    if updates:
        up = pl.concat([u.cast({"_i": pl.UInt32, "grp": pl.Int64, "risk": pl.Float64}) for u in updates], how="diagonal_relaxed")
        cols = [c for c in up.columns if c != "_i"]
        pay = pay.join(up.rename({c: f"_u_{c}" for c in cols}), on="_i", how="left").with_columns(
            [pl.coalesce(pl.col(f"_u_{c}"), pl.col(c)).alias(c) for c in cols]
        ).drop([f"_u_{c}" for c in cols])
    if extra:
        ex = pl.DataFrame(extra, schema=pay.schema)
        pay = pl.concat([pay, ex])
    pay = pay.drop("_i")
    return pl.concat([pay, ghost_payments(ctx, cfg, rng, pay.schema)])


def ghost_payments(ctx, cfg: SynthConfig, rng: np.random.Generator, schema) -> pl.DataFrame:
    """GHOST_BENEFICIARY: identity numbers not in the register, or with a wrong check character."""
    L = ctx.labels
    y = cfg.year
    k = cfg.cases("GHOST_BENEFICIARY", ctx.n)
    vil = ctx.pop.villages
    vi = rng.integers(0, len(vil), size=k)
    cc = vil["county_code"].to_numpy()[vi]
    birth = rng.integers(days(dt.date(1940, 1, 1)), days(dt.date(1990, 1, 1)), size=k)
    ymd = to_date_series("b", birth).dt.strftime("%Y%m%d").cast(pl.Int64).to_numpy()
    seq = rng.integers(500, 999, size=k)
    invalid = np.arange(k) % 2 == 1
    ids = id_strings(cc, ymd, seq, valid=True).to_numpy().copy()
    bad_ids = id_strings(cc, ymd, seq, valid=False).to_numpy()
    ids[invalid] = bad_ids[invalid]
    known = set(ctx.persons["person_id"].filter(ctx.persons["person_id"].is_in(list(ids))).to_list())
    keep = np.array([i not in known for i in ids])
    ids, vi, invalid = ids[keep], vi[keep], invalid[keep]
    names = random_names(rng, len(ids))
    rows = []
    for j, gid in enumerate(ids):
        gg = L.group()
        m0 = int(rng.integers(1, 7))
        stype = "min_living" if rng.random() < 0.7 else "extreme_poverty"
        months = np.arange(m0, 13)
        rows.append(pl.DataFrame({
            "pidx": [None] * len(months), "subsidy_type": stype, "month": months, "holder_pidx": [None] * len(months),
            "grp": gg, "quantity": 1.0, "person_id": gid, "name": names[j], "region_code": vil["region_code"][int(vi[j])],
            "county": vil["county"][int(vi[j])], "village": vil["village"][int(vi[j])],
            "_acct": "6228" + f"{int(rng.integers(10**14, 10**15)):015d}",
        }))
        L.add("GHOST_BENEFICIARY", S, "person", gid, gg,
              note="identity number has a wrong check character" if invalid[j] else "identity number not in the person register")
    g = pl.concat(rows).cast({"pidx": pl.Int64, "holder_pidx": pl.Int64, "month": pl.Int64, "grp": pl.Int64,
                              "county": pl.Int64, "village": pl.Int64})
    acct = g["_acct"]
    g = finish_payments(ctx, g.drop("_acct"), rng, cfg)
    g = g.with_columns(account_no=acct, account_holder_id=pl.col("person_id"), risk=pl.col("amount"))
    return g.select(schema.names()).cast(dict(schema))
