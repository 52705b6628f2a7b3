"""Planted subsidy anomalies and their legitimate look-alikes: one planter each.

Every planter is ``plant(garden, rng)`` (see :mod:`fundwatch.synth.planting`): it reads the
base enrolments (who is paid what) or the base payments (how each payment was made), takes
persons nobody else has taken — so each planted record belongs to exactly one group and no
case trips another rule by accident — and records its edits and labels. Registered in
:data:`fundwatch.synth.planters.PLANTERS`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from fundwatch.synth.planting import Garden
from fundwatch.synth.population import days, id_strings, random_names, to_date_series
from fundwatch.synth.subsidy import ENROL_SCHEMA, MONTHLY_TYPES, finish_payments

S = "subsidy"
PAY_KEY = ["pidx", "subsidy_type", "month"]


# -- shared views of the base city ---------------------------------------------------------------
def _alive(g: Garden) -> np.ndarray:
    return g.persons["death_date"].is_null().to_numpy()


def _full_year_self(g: Garden) -> pl.DataFrame:
    """Base enrolments paid all year into the person's own account."""
    return g.enrol.filter((pl.col("m_from") == 1) & (pl.col("m_to") == 12) & (pl.col("holder_pidx") == pl.col("pidx")))


def _enrolled(g: Garden, types) -> np.ndarray:
    mask = np.zeros(g.n, dtype=bool)
    mask[g.enrol.filter(pl.col("subsidy_type").is_in(list(types)))["pidx"].to_numpy()] = True
    return mask


def _beneficiary_pool(g: Garden) -> np.ndarray:
    """Living persons paid a monthly subsidy into their own account (whose card could be held)."""
    own = g.enrol.filter((pl.col("subsidy_type") != "farmland") & (pl.col("holder_pidx") == pl.col("pidx")))
    pool = own["pidx"].unique().sort().to_numpy()
    return pool[_alive(g)[pool]]


def _household_excluded(g: Garden) -> np.ndarray:
    """Persons of a household with a serving official or a vehicle/business owner (base city)."""
    hh = g.col("hh")
    bad = np.zeros(int(hh.max()) + 1, dtype=bool)
    bad[hh[g.col("serving_official") | g.col("owner_vb")]] = True
    return bad[hh]


def _label_household(g: Garden, owner: int, g_from: int, note: str) -> None:
    """The other free 低保 recipients of ``owner``'s household are HOUSEHOLD_MEANS_TEST cases
    (低保 is means-tested per household) from month ``g_from``."""
    hh, pid = g.col("hh"), g.col("person_id")
    ml = g.enrol.filter((pl.col("subsidy_type") == "min_living") & (pl.col("m_to") >= g_from))["pidx"].unique().to_numpy()
    members = ml[(hh[ml] == hh[owner]) & (ml != owner)]
    members = np.sort(members[~g.used[members]])
    if len(members) == 0:
        return
    g.take(members)
    grps = g.groups(len(members))
    g.tag_enrolments(members, grps, g_from=np.full(len(members), g_from), only_type="min_living")
    for b, gg in zip(members, grps):
        g.label("HOUSEHOLD_MEANS_TEST", S, "person", pid[b], gg, note=note, whole_amount=True)


def _new_enrol(pidx, stype, m_from, m_to, grp) -> pl.DataFrame:
    n = len(pidx)
    return pl.DataFrame({
        "pidx": pidx, "subsidy_type": [stype] * n, "m_from": m_from, "m_to": m_to, "holder_pidx": pidx,
        "grp": grp, "g_from": np.ones(n, dtype=np.int64), "g_to": np.full(n, 12, dtype=np.int64),
    }).cast(ENROL_SCHEMA)


def _free_payments(g: Garden) -> pl.DataFrame:
    """Base payments of persons nobody has taken (ghosts have no ``pidx``)."""
    pay = g.pay.filter(pl.col("pidx").is_not_null())
    return pay.filter(~pl.Series(g.used[pay["pidx"].to_numpy()]))


def _monthly(g: Garden) -> pl.DataFrame:
    return _free_payments(g).filter(pl.col("subsidy_type") != "farmland")


def _update(rows: pl.DataFrame, grp: int, **values) -> pl.DataFrame:
    """Payment updates for ``rows`` (their key) with ``grp`` and column values."""
    n = len(rows)
    out = rows.select(PAY_KEY).with_columns(grp=pl.lit(grp, pl.Int64))
    for name, v in values.items():
        out = out.with_columns(pl.Series(name, v if not np.isscalar(v) else [v] * n))
    return out


# -- enrolment level: who is paid ----------------------------------------------------------------
def deceased_payee(g: Garden, rng: np.random.Generator) -> None:
    """Paid on after a death the registers know about (DECEASED_PAYEE)."""
    y, pid = g.year, g.col("person_id")
    cand = _full_year_self(g).filter(pl.col("subsidy_type").is_in(MONTHLY_TYPES))["pidx"].to_numpy()
    cand = cand[_alive(g)[cand] & ~g.col("official_ever")[cand]]
    pick = g.pick(rng, cand, g.cfg.cases("DECEASED_PAYEE", g.n))
    before = rng.random(len(pick)) < 0.3
    dm = rng.integers(1, 10, size=len(pick))
    ddays = np.where(
        before,
        rng.integers(days(dt.date(y - 1, 9, 1)), days(dt.date(y - 1, 12, 31)), size=len(pick)),
        np.array([days(dt.date(y, int(m), 1)) for m in dm], dtype=np.int64) + rng.integers(0, 28, size=len(pick)),
    )
    grps = g.groups(len(pick))
    g.tag_enrolments(pick, grps, np.where(before, 1, dm + 1))
    g.add_deaths(pick, ddays, rng)
    for i, gg in zip(pick, grps):
        g.label("DECEASED_PAYEE", S, "person", pid[i], gg, note="paid for periods after the recorded death",
                whole_amount=True)


def deceased_payee_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: paid for the month of death and not after."""
    y, pid = g.year, g.col("person_id")
    death = g.persons.select(m=pl.col("death_date").dt.month().cast(pl.Int64).fill_null(0),
                             y=pl.col("death_date").dt.year().cast(pl.Int64).fill_null(0))
    dmon = np.where(death["y"].to_numpy() == y, death["m"].to_numpy(), -1)
    enrol = g.enrol.filter(pl.col("subsidy_type") != "farmland")
    cand = enrol.with_columns(dmon=pl.Series(dmon).gather(enrol["pidx"])).filter(
        (pl.col("m_to") == pl.col("dmon")) & (pl.col("dmon") >= 2))
    pick = g.pick(rng, cand["pidx"], g.cfg.lookalikes(g.n))
    grps = g.groups(len(pick))
    g.tag_enrolments(pick, grps, dmon[pick], dmon[pick])
    for i, gg in zip(pick, grps):
        g.label("DECEASED_PAYEE", S, "person", pid[i], gg, lookalike=True, note="paid for the month of death only",
                whole_amount=True)


def ineligible_age(g: Garden, rng: np.random.Generator) -> None:
    """Elderly allowance from 80 and pension from 60 paid to younger people (INELIGIBLE_AGE)."""
    pid, age0, alive = g.col("person_id"), g.col("age0"), _alive(g)
    k = g.cfg.cases("INELIGIBLE_AGE", g.n)
    prio = g.priority(rng)
    elderly = g.pick(prio, np.flatnonzero(alive & (age0 >= 70) & (age0 <= 78)), (k + 1) // 2)
    pension = g.pick(prio, np.flatnonzero(alive & ~g.col("official_ever") & (age0 >= 45) & (age0 <= 58)),
                     k - len(elderly))
    for arr, stype, lim in ((elderly, "elderly_allowance", 80), (pension, "basic_pension", 60)):
        grps = g.groups(len(arr))
        g.add_enrolments(_new_enrol(arr, stype, rng.integers(1, 7, size=len(arr)), np.full(len(arr), 12), grps))
        for i, gg in zip(arr, grps):
            g.label("INELIGIBLE_AGE", S, "person", pid[i], gg, note=f"{stype} needs age {lim}; aged {age0[i]} on 1 Jan",
                    whole_amount=True)


def ineligible_age_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: exactly at the age limit on the first day of the first paid month."""
    pid, exact = g.col("person_id"), g.col("exact_limit")
    for lim, stype in ((80, "elderly_allowance"), (60, "basic_pension")):
        have = g.enrol.filter(pl.col("subsidy_type") == stype)["pidx"].to_numpy()
        arr = g.free(np.intersect1d(have, np.flatnonzero(exact == lim)))
        g.take(arr)
        grps = g.groups(len(arr))
        g.tag_enrolments(arr, grps, only_type=stype)
        for i, gg in zip(arr, grps):
            g.label("INELIGIBLE_AGE", S, "person", pid[i], gg, lookalike=True,
                    note=f"turns {lim} on the first day of the first paid month", whole_amount=True)


def _official_candidates(g: Garden, ended: bool) -> np.ndarray:
    cand = g.officials.filter(pl.col("ended") == ended)["pidx"].to_numpy()
    ok = _alive(g)[cand] & ~g.col("owner_vb")[cand] & ~_enrolled(g, ["min_living"])[cand]
    if ended:
        # a former official of a household that passes the means test (no member serving or
        # owning a car): the look-alike is about the end of service, nothing else
        ok &= ~g.col("serving_official")[cand] & ~_household_excluded(g)[cand]
    return cand[ok]


def official_recipient(g: Garden, rng: np.random.Generator) -> None:
    """A serving official enrolled for minimum living support (OFFICIAL_RECIPIENT)."""
    pid = g.col("person_id")
    pick = g.pick(rng, _official_candidates(g, ended=False), g.cfg.cases("OFFICIAL_RECIPIENT", g.n))
    grps = g.groups(len(pick))
    role = dict(zip(g.officials["pidx"].to_list(), g.officials["role"].to_list()))
    g.add_enrolments(_new_enrol(pick, "min_living", rng.integers(1, 5, size=len(pick)), np.full(len(pick), 12), grps))
    for i, gg in zip(pick, grps):
        g.label("OFFICIAL_RECIPIENT", S, "person", pid[i], gg, note=f"serving {role[int(i)]} receives min_living",
                whole_amount=True)


def official_recipient_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a former official whose service ended before the year."""
    pid = g.col("person_id")
    pick = g.pick(rng, _official_candidates(g, ended=True), g.cfg.lookalikes(g.n))
    grps = g.groups(len(pick))
    g.add_enrolments(_new_enrol(pick, "min_living", np.ones(len(pick), dtype=np.int64), np.full(len(pick), 12), grps))
    for i, gg in zip(pick, grps):
        g.label("OFFICIAL_RECIPIENT", S, "person", pid[i], gg, lookalike=True,
                note="former official: service ended before the year", whole_amount=True)


def _min_living_all_year(g: Garden) -> np.ndarray:
    cand = _full_year_self(g).filter(pl.col("subsidy_type") == "min_living")["pidx"].to_numpy()
    return cand[_alive(g)[cand]]


def asset_owner_recipient(g: Garden, rng: np.random.Generator) -> None:
    """A vehicle or business registered before the period (ASSET_OWNER_RECIPIENT)."""
    y, pid = g.year, g.col("person_id")
    pick = g.pick(rng, _min_living_all_year(g), g.cfg.cases("ASSET_OWNER_RECIPIENT", g.n))
    kinds = np.where(rng.random(len(pick)) < 0.7, "vehicle", "business")
    reg = rng.integers(days(dt.date(2016, 1, 1)), days(dt.date(y - 1, 11, 30)), size=len(pick))
    g.add_assets(pick, kinds, reg, np.round(rng.uniform(20_000, 250_000, size=len(pick)), -2))
    grps = g.groups(len(pick))
    g.tag_enrolments(pick, grps, only_type="min_living")
    for i, gg, kd in zip(pick, grps, kinds):
        g.label("ASSET_OWNER_RECIPIENT", S, "person", pid[i], gg, note=f"{kd} registered before the period",
                whole_amount=True)
        _label_household(g, int(i), 1, f"a household member's {kd} registered before the period")


def asset_owner_lookalike_registered_later(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a vehicle registered after the last paid period (payments stop the month before)."""
    y, pid = g.year, g.col("person_id")
    pick = g.pick(rng, _min_living_all_year(g), g.cfg.lookalikes(g.n))
    rm = rng.integers(4, 12, size=len(pick))
    reg = np.array([days(dt.date(y, int(m), 1)) for m in rm], dtype=np.int64) + rng.integers(4, 25, size=len(pick))
    g.add_assets(pick, np.full(len(pick), "vehicle"), reg, np.round(rng.uniform(30_000, 150_000, size=len(pick)), -2))
    g.stop_enrolments(pick, rm - 1, "min_living")
    grps = g.groups(len(pick))
    g.tag_enrolments(pick, grps, only_type="min_living")
    for i, gg, m in zip(pick, grps, rm):
        g.label("ASSET_OWNER_RECIPIENT", S, "person", pid[i], gg, lookalike=True,
                note="vehicle registered after the last paid period", whole_amount=True)
        # the household's other 低保 recipients are shut out from the month after it
        if m < 12:
            _label_household(g, int(i), int(m) + 1, "a household member's vehicle registered during the year")


def asset_owner_lookalike_property(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: owns only property, which does not exclude."""
    y, pid = g.year, g.col("person_id")
    pick = g.pick(rng, _min_living_all_year(g), g.cfg.lookalikes(g.n))
    g.add_assets(pick, np.full(len(pick), "property"),
                 rng.integers(days(dt.date(2010, 1, 1)), days(dt.date(y - 1, 6, 1)), size=len(pick)),
                 np.round(rng.uniform(80_000, 300_000, size=len(pick)), -2))
    grps = g.groups(len(pick))
    g.tag_enrolments(pick, grps, only_type="min_living")
    for i, gg in zip(pick, grps):
        g.label("ASSET_OWNER_RECIPIENT", S, "person", pid[i], gg, lookalike=True,
                note="owns only property, which does not exclude", whole_amount=True)


def village_outlier(g: Garden, rng: np.random.Generator) -> None:
    """One operator enrols many extra recipients in a village (VILLAGE_OUTLIER and OPERATOR_OUTLIER)."""
    k = g.cfg.cases("VILLAGE_OUTLIER", g.n)
    per_county = max(1, k // len(g.pop.counties) + 1)
    chosen, ops_seen, cty_count = [], set(), {}
    for row in g.pop.villages.sort("size", descending=True).iter_rows(named=True):  # villages, not persons
        if len(chosen) >= k:
            break
        if row["operator_id"] in ops_seen or cty_count.get(row["county"], 0) >= per_county:
            continue
        chosen.append(row)
        ops_seen.add(row["operator_id"])
        cty_count[row["county"]] = cty_count.get(row["county"], 0) + 1
    village, prio = g.col("village"), g.priority(rng)
    # persons who would pass a household means test: the inflation is in numbers, not in
    # enrolling households a member's job or car shuts out (HOUSEHOLD_MEANS_TEST's cases)
    eligible = (_alive(g) & ~g.col("official_ever") & ~g.col("owner_vb")
                & ~_enrolled(g, ["min_living", "extreme_poverty"]) & ~_household_excluded(g))
    for row in chosen:
        share = rng.uniform(*g.cfg.village_outlier_extra_share)
        arr = g.pick(prio, np.flatnonzero((village == row["village"]) & eligible), int(round(share * row["size"])))
        gg = g.group()
        g.add_enrolments(_new_enrol(arr, "min_living", rng.integers(1, 5, size=len(arr)), np.full(len(arr), 12),
                                    np.full(len(arr), gg)))
        note = f"operator {row['operator_id']} enrolled {len(arr)} extra min_living recipients in {row['region_code']}"
        g.label("VILLAGE_OUTLIER", S, "village", row["region_code"], gg, note=note, whole_amount=True)
        g.label("OPERATOR_OUTLIER", S, "operator", row["operator_id"], gg, note=note)


def _village_cadres(g: Garden) -> np.ndarray:
    cad = g.officials.filter((pl.col("role") == "village_cadre") & ~pl.col("ended"))["pidx"].to_numpy()
    return cad[_alive(g)[cad]]


def cadre_held_cards(g: Garden, rng: np.random.Generator) -> None:
    """A village cadre holds the cards of villagers outside his household (CADRE_HELD_CARDS)."""
    pid, village, hh = g.col("person_id"), g.col("village"), g.col("hh")
    k, prio = g.cfg.cases("CADRE_HELD_CARDS", g.n), g.priority(rng)
    pool = _beneficiary_pool(g)
    done = 0
    for c in g.order(prio, _village_cadres(g)):
        if done >= k:
            break
        cand = pool[(village[pool] == village[c]) & (hh[pool] != hh[c]) & ~g.used[pool]]
        m = int(rng.integers(g.cfg.cards_per_holder[0], g.cfg.cards_per_holder[1] + 1))
        if len(cand) < 3 or g.used[c]:
            continue
        arr = g.pick(prio, cand, m)
        g.take([c])
        gg = g.group()
        g.hold_cards(arr, c, gg)
        members = [str(pid[b]) for b in arr]
        acct = g.account_str(c)
        g.label("CADRE_HELD_CARDS", S, "person", pid[c], gg, note=f"village cadre holds account {acct} of {len(arr)} villagers",
                member_ids=members, whole_amount=True)
        g.label("SHARED_ACCOUNT", S, "account", acct, gg, note="same case as CADRE_HELD_CARDS: one account, several households",
                member_ids=members)
        done += 1


def cadre_held_cards_lookalike_own_household(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a cadre holds the card of a member of his own household."""
    pid, hh = g.col("person_id"), g.col("hh")
    pool = _beneficiary_pool(g)
    cnt = 0
    for c in g.order(rng, _village_cadres(g)):
        if cnt >= g.cfg.lookalikes(g.n):
            break
        mem = pool[(hh[pool] == hh[c]) & (pool != c) & ~g.used[pool]]
        if len(mem) == 0:
            continue
        g.take(mem)
        g.take([c])
        gg = g.group()
        g.hold_cards(mem, c, gg)
        g.label("CADRE_HELD_CARDS", S, "person", pid[c], gg, lookalike=True,
                note="cadre holds the card of a member of his own household", member_ids=[str(pid[b]) for b in mem],
                whole_amount=True)
        cnt += 1


def shared_account(g: Garden, rng: np.random.Generator) -> None:
    """One villager's account receives for other households (SHARED_ACCOUNT)."""
    pid, village, hh, age0 = g.col("person_id"), g.col("village"), g.col("hh"), g.col("age0")
    k, prio = g.cfg.cases("SHARED_ACCOUNT", g.n), g.priority(rng)
    pool = _beneficiary_pool(g)
    adults = np.flatnonzero(_alive(g) & ~g.col("official_ever") & (age0 >= 25) & (age0 <= 70))
    done = 0
    for h in g.order(prio, adults):
        if done >= k:
            break
        cand = pool[(village[pool] == village[h]) & (hh[pool] != hh[h]) & ~g.used[pool]]
        if len(cand) < 3 or g.used[h]:
            continue
        arr = g.pick(prio, cand, int(rng.integers(3, 7)))
        g.take([h])
        gg = g.group()
        g.hold_cards(arr, h, gg)
        g.label("SHARED_ACCOUNT", S, "account", g.account_str(h), gg,
                note=f"account of one villager receives for {len(arr)} other households",
                member_ids=[str(pid[b]) for b in arr], whole_amount=True)
        done += 1


def shared_account_lookalike_household(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: one household shares the head's account."""
    pid, hh, alive = g.col("person_id"), g.col("hh"), _alive(g)
    ml = g.enrol.filter(pl.col("subsidy_type") == "min_living")
    households = (ml.with_columns(hh=pl.Series(hh[ml["pidx"].to_numpy()]))
                  .group_by("hh").agg(pl.col("pidx").unique().sort(), pl.len().alias("n"))
                  .filter(pl.col("n") >= 2).sort("hh"))
    heads = g.persons.filter(pl.col("is_head")).select("hh", "pidx")
    head_of = dict(zip(heads["hh"].to_list(), heads["pidx"].to_list()))
    cnt = 0
    for row in households.iter_rows(named=True):  # households in order: no randomness needed
        if cnt >= g.cfg.lookalikes(g.n):
            break
        head = head_of[row["hh"]]
        mem = [m for m in row["pidx"] if m != head and not g.used[m]]
        if len(mem) < 2 or g.used[head] or not alive[head]:
            continue
        g.take(mem)
        g.take([head])
        gg = g.group()
        g.hold_cards(mem, head, gg)
        g.label("SHARED_ACCOUNT", S, "account", g.account_str(head), gg, lookalike=True,
                note="one household shares the head's account", member_ids=[str(pid[b]) for b in mem],
                whole_amount=True)
        cnt += 1


def shared_account_lookalike_guardian(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a guardian in the same household holds the card (already in the normal data)."""
    pid = g.col("person_id")
    guarded = g.enrol.filter(pl.col("holder_pidx") != pl.col("pidx"))
    pick = g.pick(rng, guarded["pidx"], g.cfg.lookalikes(g.n))
    grps = g.groups(len(pick))
    g.tag_enrolments(pick, grps)
    holder = dict(zip(guarded["pidx"].to_list(), guarded["holder_pidx"].to_list()))
    for i, gg in zip(pick, grps):
        g.label("SHARED_ACCOUNT", S, "account", g.account_str(holder[int(i)]), gg, lookalike=True,
                note="guardian in the same household holds the card", member_ids=[str(pid[i])], whole_amount=True)


# -- payment level: how a payment was made --------------------------------------------------------
def duplicate_payment(g: Garden, rng: np.random.Generator) -> None:
    """A payment entered again in a later batch (DUPLICATE_PAYMENT)."""
    monthly = _monthly(g)
    for pi in g.pick(rng, monthly["pidx"], g.cfg.cases("DUPLICATE_PAYMENT", g.n)):
        mine = monthly.filter(pl.col("pidx") == pi).sort(PAY_KEY)
        orig = mine.row(int(rng.integers(len(mine))), named=True)
        times = 2 if rng.random() < 0.2 else 1
        gg = g.group()
        g.update_payments(_update(pl.DataFrame([orig]).select(PAY_KEY), gg, risk=0.0))
        copies = []
        for t in range(times):
            dup = dict(orig)
            dup["batch_id"] = f"{orig['batch_id']}-BF{t + 1}"
            dup["pay_date"] = orig["pay_date"] + dt.timedelta(days=int(rng.integers(0, 20)))
            dup["grp"], dup["risk"] = gg, orig["amount"]
            copies.append(dup)
        g.add_payments(pl.DataFrame(copies, schema=g.pay.schema))
        g.label("DUPLICATE_PAYMENT", S, "person", orig["person_id"], gg,
                note=f"{orig['subsidy_type']} {orig['period']} paid {times + 1} times")


def duplicate_payment_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: two different subsidy types in the same month."""
    monthly = _monthly(g)
    both = (monthly.group_by(["pidx", "month"]).agg(pl.col("subsidy_type").n_unique().alias("nt"))
            .filter(pl.col("nt") >= 2))
    for pi in g.pick(rng, both["pidx"], g.cfg.lookalikes(g.n)):
        first = both.filter(pl.col("pidx") == pi).sort("month").row(0, named=True)
        rows = monthly.filter((pl.col("pidx") == pi) & (pl.col("month") == first["month"])).sort(PAY_KEY)
        gg = g.group()
        g.update_payments(_update(rows, gg, risk=rows["amount"].to_numpy()))
        g.label("DUPLICATE_PAYMENT", S, "person", rows["person_id"][0], gg, lookalike=True,
                note="two different subsidy types in one month")


def over_standard(g: Garden, rng: np.random.Generator) -> None:
    """Paid above the standard, by a factor or a round sum (OVER_STANDARD)."""
    monthly = _monthly(g)
    for pi in g.pick(rng, monthly["pidx"], g.cfg.cases("OVER_STANDARD", g.n)):
        mine = monthly.filter(pl.col("pidx") == pi).sort(PAY_KEY)
        stype = mine["subsidy_type"][0]
        mine = mine.filter(pl.col("subsidy_type") == stype)
        if rng.random() < 0.5:
            mine = mine.slice(int(rng.integers(len(mine))), 1)
        amt = mine["amount"].to_numpy()
        mode = rng.random()
        if mode < 0.4:
            new = np.round(amt * rng.uniform(*g.cfg.over_standard_factor), 2)
        elif mode < 0.7:
            new = amt + float(rng.choice([20, 50, 80, 100, 200, 300]))
        else:
            new = np.ceil(amt * rng.uniform(*g.cfg.over_standard_factor) / 10) * 10
        new = np.maximum(new, amt + 1.0)
        gg = g.group()
        g.update_payments(_update(mine, gg, risk=new - amt, amount=new))
        g.label("OVER_STANDARD", S, "person", mine["person_id"][0], gg,
                note=f"{stype} paid above the standard on {len(mine)} payment(s)")


def over_standard_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: paid at a county's own standard, above the general one."""
    county = int(g.pop.counties["county"][1])
    raised = _monthly(g).filter((pl.col("county") == county) & (pl.col("subsidy_type") == "min_living"))
    for pi in g.pick(rng, raised["pidx"], g.cfg.lookalikes(g.n)):
        mine = raised.filter(pl.col("pidx") == pi).sort(PAY_KEY)
        gg = g.group()
        g.update_payments(_update(mine, gg, risk=mine["amount"].to_numpy()))
        g.label("OVER_STANDARD", S, "person", mine["person_id"][0], gg, lookalike=True,
                note="paid at the county standard, which is above the general one")


def delayed_payment(g: Garden, rng: np.random.Generator) -> None:
    """One to four months held back for a quarter or more (DELAYED_PAYMENT)."""
    monthly = _monthly(g)
    for pi in g.pick(rng, monthly["pidx"], g.cfg.cases("DELAYED_PAYMENT", g.n)):
        mine = monthly.filter(pl.col("pidx") == pi).sort(PAY_KEY)
        stype = mine["subsidy_type"][0]
        mine = mine.filter(pl.col("subsidy_type") == stype).sort("month")
        run = int(rng.integers(1, 5))
        mine = mine.slice(int(rng.integers(0, max(1, len(mine) - run + 1))), run)
        pay_d = dt.date(g.year, int(mine["month"].max()), 1) + dt.timedelta(days=int(rng.integers(*g.cfg.delay_days_bad)))
        gg = g.group()
        g.update_payments(_update(mine, gg, risk=mine["amount"].to_numpy(), pay_date=[pay_d] * len(mine),
                                  batch_id=(mine["batch_id"] + "-BF").to_list()))
        g.label("DELAYED_PAYMENT", S, "person", mine["person_id"][0], gg,
                note=f"{len(mine)} month(s) of {stype} held back until {pay_d}")


def delayed_payment_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: paid a few weeks late."""
    monthly = _monthly(g)
    for pi in g.pick(rng, monthly["pidx"], g.cfg.lookalikes(g.n)):
        mine = monthly.filter(pl.col("pidx") == pi).sort(PAY_KEY).slice(0, 1)
        pay_d = dt.date(g.year, int(mine["month"][0]), 1) + dt.timedelta(days=int(rng.integers(*g.cfg.delay_days_lookalike)))
        gg = g.group()
        g.update_payments(_update(mine, gg, risk=mine["amount"].to_numpy(), pay_date=[pay_d],
                                  batch_id=(mine["batch_id"] + "-BF").to_list()))
        g.label("DELAYED_PAYMENT", S, "person", mine["person_id"][0], gg, lookalike=True, note="paid a few weeks late")


def _farmland(g: Garden) -> pl.DataFrame:
    return _free_payments(g).filter(pl.col("subsidy_type") == "farmland")


def area_inflation(g: Garden, rng: np.random.Generator) -> None:
    """Farmland subsidy for more mu than the contracted area (AREA_INFLATION)."""
    farm = _farmland(g)
    for j, pi in enumerate(g.pick(rng, farm["pidx"], g.cfg.cases("AREA_INFLATION", g.n))):
        r = farm.filter(pl.col("pidx") == pi).sort(PAY_KEY)
        row = r.row(0, named=True)
        area, std = row["quantity"], row["amount"] / row["quantity"]
        q = (round(area * rng.uniform(*g.cfg.area_inflation_factor), 2) if j % 2 == 0
             else round(area + float(rng.integers(2, 11)), 2))
        amt = round(std * q, 2)
        gg = g.group()
        g.update_payments(_update(r.head(1), gg, risk=[round(amt - row["amount"], 2)], quantity=[q], amount=[amt]))
        g.label("AREA_INFLATION", S, "person", row["person_id"], gg, note=f"paid for {q} mu, contracted {area} mu")


def area_inflation_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a quantity equal to the contracted area."""
    farm = _farmland(g)
    for pi in g.pick(rng, farm["pidx"], g.cfg.lookalikes(g.n)):
        r = farm.filter(pl.col("pidx") == pi).sort(PAY_KEY).head(1)
        gg = g.group()
        g.update_payments(_update(r, gg, risk=r["amount"].to_numpy()))
        g.label("AREA_INFLATION", S, "person", r["person_id"][0], gg, lookalike=True,
                note="quantity equals the contracted area")


def ghost_beneficiary(g: Garden, rng: np.random.Generator) -> None:
    """Identity numbers not in the register, or with a wrong check character (GHOST_BENEFICIARY)."""
    k = g.cfg.cases("GHOST_BENEFICIARY", g.n)
    vil = g.pop.villages
    vi = rng.integers(0, len(vil), size=k)
    birth = rng.integers(days(dt.date(1940, 1, 1)), days(dt.date(1990, 1, 1)), size=k)
    ymd = to_date_series("b", birth).dt.strftime("%Y%m%d").cast(pl.Int64).to_numpy()
    seq = rng.integers(500, 999, size=k)
    invalid = np.arange(k) % 2 == 1
    cc = vil["county_code"].to_numpy()[vi]
    ids = id_strings(cc, ymd, seq, valid=True).to_numpy().copy()
    ids[invalid] = id_strings(cc, ymd, seq, valid=False).to_numpy()[invalid]
    known = set(g.persons["person_id"].filter(g.persons["person_id"].is_in(list(ids))).to_list())
    keep = np.array([i not in known for i in ids])
    ids, vi, invalid = ids[keep], vi[keep], invalid[keep]
    names = random_names(rng, len(ids))
    rows = []
    for j, gid in enumerate(ids):
        gg = g.group()
        months = np.arange(int(rng.integers(1, 7)), 13)
        stype = "min_living" if rng.random() < 0.7 else "extreme_poverty"
        rows.append(pl.DataFrame({
            "pidx": [None] * len(months), "subsidy_type": stype, "month": months, "holder_pidx": [None] * len(months),
            "grp": gg, "quantity": 1.0, "person_id": gid, "name": names[j], "region_code": vil["region_code"][int(vi[j])],
            "county": vil["county"][int(vi[j])], "village": vil["village"][int(vi[j])],
            "_acct": "6228" + f"{int(rng.integers(10**14, 10**15)):015d}",
        }))
        g.label("GHOST_BENEFICIARY", S, "person", gid, gg,
                note="identity number has a wrong check character" if invalid[j] else "identity number not in the person register")
    if not rows:
        return
    ghosts = pl.concat(rows).cast({"pidx": pl.Int64, "holder_pidx": pl.Int64, "month": pl.Int64, "grp": pl.Int64,
                                   "county": pl.Int64, "village": pl.Int64})
    acct = ghosts["_acct"]
    ghosts = finish_payments(g, ghosts.drop("_acct"), rng, g.cfg)
    ghosts = ghosts.with_columns(account_no=acct, account_holder_id=pl.col("person_id"), risk=pl.col("amount"))
    g.add_payments(ghosts.select(g.pay.columns).cast(dict(g.pay.schema)))


# -- contract v2: households, payment types, exclusive groups, allocations ------------------------
def _pay_schema(g: Garden) -> dict:
    return {**dict(g.pay.schema), "payment_type": pl.String, "proxy_id": pl.String, "withheld": pl.Boolean}


def _std(g: Garden, stype: str, county: int, month: int) -> float:
    row = g.std_lookup.filter((pl.col("subsidy_type") == stype) & (pl.col("county") == county)
                              & (pl.col("month") == month))
    return float(row["std"][0])


def _adult_members(g: Garden, hh_id: int, exclude: int) -> np.ndarray:
    hh, age0 = g.col("hh"), g.col("age0")
    mem = np.flatnonzero((hh == hh_id) & _alive(g) & (age0 >= 20) & (age0 <= 65) & ~g.col("official_ever"))
    return mem[(mem != exclude) & ~g.used[mem]]


def household_means_test(g: Garden, rng: np.random.Generator) -> None:
    """A 低保 household with a member's car or business registered before the year
    (HOUSEHOLD_MEANS_TEST for the other recipients; ASSET_OWNER_RECIPIENT for the owner)."""
    y, pid, hh = g.year, g.col("person_id"), g.col("hh")
    ml = _full_year_self(g).filter(pl.col("subsidy_type") == "min_living")
    ml_pidx = ml["pidx"].to_numpy()
    ml_pidx = ml_pidx[_alive(g)[ml_pidx]]
    k, prio = g.cfg.cases("HOUSEHOLD_MEANS_TEST", g.n), g.priority(rng)
    enrolled_ml = _enrolled(g, ["min_living"])
    done = 0
    for b in g.order(prio, ml_pidx):
        if done >= k:
            break
        owners = _adult_members(g, int(hh[b]), int(b))
        others = np.flatnonzero((hh == hh[b]) & enrolled_ml)
        others = others[(others != b)]
        if len(owners) == 0 or g.used[b] or g.used[others].any():
            continue
        owner = int(owners[np.argsort(prio[owners], kind="stable")][0])
        beneficiaries = np.array(sorted({int(b), *others.tolist()} - {owner}), dtype=np.int64)
        g.take(beneficiaries)
        g.take([owner])
        kind = "vehicle" if rng.random() < 0.6 else "business"
        reg = int(rng.integers(days(dt.date(2015, 1, 1)), days(dt.date(y - 1, 10, 31))))
        g.add_assets([owner], [kind], [reg], [float(np.round(rng.uniform(40_000, 200_000), -2))])
        gg = g.group()
        g.tag_enrolments(beneficiaries, np.full(len(beneficiaries), gg), only_type="min_living")
        for i in beneficiaries:
            g.label("HOUSEHOLD_MEANS_TEST", S, "person", pid[i], gg,
                    note=f"a household member owns a {kind} registered before the year", whole_amount=True)
        if enrolled_ml[owner]:
            go = g.group()
            g.tag_enrolments([owner], [go], only_type="min_living")
            g.label("ASSET_OWNER_RECIPIENT", S, "person", pid[owner], go,
                    note=f"{kind} registered before the period (a means-tested household's member)",
                    whole_amount=True)
        done += 1


def household_means_test_lookalike_not_means_tested(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: an elderly allowance (not means-tested) in a household where a son owns a car."""
    y, pid, hh = g.year, g.col("person_id"), g.col("hh")
    el = _full_year_self(g).filter(pl.col("subsidy_type") == "elderly_allowance")["pidx"].to_numpy()
    tested = _enrolled(g, ["min_living", "extreme_poverty"])
    hh_tested = np.zeros(int(hh.max()) + 1, dtype=bool)
    hh_tested[hh[tested]] = True
    cand = el[_alive(g)[el] & ~hh_tested[hh[el]]]
    k, prio = g.cfg.lookalikes(g.n), g.priority(rng)
    done = 0
    for b in g.order(prio, cand):
        if done >= k:
            break
        owners = _adult_members(g, int(hh[b]), int(b))
        if len(owners) == 0 or g.used[b]:
            continue
        owner = int(owners[np.argsort(prio[owners], kind="stable")][0])
        g.take([int(b), owner])
        g.add_assets([owner], ["vehicle"], [int(rng.integers(days(dt.date(2015, 1, 1)), days(dt.date(y - 1, 10, 31))))],
                     [float(np.round(rng.uniform(40_000, 200_000), -2))])
        gg = g.group()
        g.tag_enrolments([int(b)], [gg], only_type="elderly_allowance")
        g.label("HOUSEHOLD_MEANS_TEST", S, "person", pid[b], gg, lookalike=True,
                note="elderly allowance is not means-tested: a son's car does not matter", whole_amount=True)
        done += 1


def under_payment(g: Garden, rng: np.random.Generator) -> None:
    """An operator pays several 低保 recipients of a village less than the standard for a few
    months, keeping a 'fee' (UNDER_PAYMENT)."""
    ml = _full_year_self(g).filter(pl.col("subsidy_type") == "min_living")["pidx"].to_numpy()
    ml = ml[_alive(g)[ml]]
    village, vop = g.col("village"), dict(zip(g.pop.villages["village"].to_list(), g.pop.villages["operator_id"].to_list()))
    k, prio = g.cfg.cases("UNDER_PAYMENT", g.n), g.priority(rng)
    seen_ops: set = set()
    done = 0
    for b in g.order(prio, ml):
        if done >= k:
            break
        v = int(village[b])
        if vop[v] in seen_ops:
            continue
        cand = ml[(village[ml] == v) & ~g.used[ml]]
        if len(cand) < 3:
            continue
        arr = g.pick(prio, cand, int(rng.integers(3, 7)))
        seen_ops.add(vop[v])
        m0 = int(rng.integers(2, 9))
        months = np.arange(m0, m0 + int(rng.integers(2, 4)))
        fee = float(rng.choice([10.0, 20.0, 30.0, 50.0])) if rng.random() < 0.6 else None
        rows = g.pay.filter(pl.col("pidx").is_in(arr.tolist()) & (pl.col("subsidy_type") == "min_living")
                                        & pl.col("month").is_in(months.tolist())).sort(PAY_KEY)
        amt = rows["amount"].to_numpy()
        cut = np.full(len(rows), fee) if fee is not None else np.round(amt * rng.uniform(0.1, 0.3), 0)
        gg = g.group()
        g.update_payments(_update(rows, gg, risk=cut, amount=np.round(amt - cut, 2)))
        g.label("UNDER_PAYMENT", S, "operator", vop[v], gg,
                note=f"{len(arr)} recipients paid short for {len(months)} months", member_ids=[str(x) for x in rows["person_id"].unique().sort()])
        done += 1


def under_payment_lookalike_pro_rata(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: the first month of a late enrolment paid pro rata (half a month)."""
    late = g.enrol.filter((pl.col("subsidy_type") == "min_living") & (pl.col("m_from") > 1)
                          & (pl.col("holder_pidx") == pl.col("pidx")))
    cand = late["pidx"].to_numpy()
    for pi in g.pick(rng, cand[_alive(g)[cand]], g.cfg.lookalikes(g.n)):
        m = int(late.filter(pl.col("pidx") == pi)["m_from"][0])
        row = g.pay.filter((pl.col("pidx") == pi) & (pl.col("subsidy_type") == "min_living") & (pl.col("month") == m))
        q = 0.5
        gg = g.group()
        g.update_payments(_update(row, gg, risk=0.0, quantity=[q], amount=[round(float(row["amount"][0]) * q, 2)]))
        g.label("UNDER_PAYMENT", S, "person", row["person_id"][0], gg, lookalike=True,
                note="first month paid pro rata (quantity 0.5)")


def exclusive_benefits(g: Garden, rng: np.random.Generator) -> None:
    """A 低保 recipient also paid 特困 support for a few months (EXCLUSIVE_BENEFITS)."""
    pid = g.col("person_id")
    ml = _full_year_self(g).filter(pl.col("subsidy_type") == "min_living")["pidx"].to_numpy()
    pick = g.pick(rng, ml[_alive(g)[ml]], g.cfg.cases("EXCLUSIVE_BENEFITS", g.n))
    for pi in pick:
        m0 = int(rng.integers(1, 9))
        m1 = min(12, m0 + int(rng.integers(2, 6)))
        gg = g.group()
        g.add_enrolments(_new_enrol(np.array([pi]), "extreme_poverty", [m0], [m1], [gg]))
        rows = g.pay.filter((pl.col("pidx") == pi) & (pl.col("subsidy_type") == "min_living")
                            & pl.col("month").is_between(m0, m1))
        # 低保 is the smaller benefit: what was paid twice
        g.update_payments(_update(rows, gg, risk=rows["amount"].to_numpy()))
        g.label("EXCLUSIVE_BENEFITS", S, "person", pid[pi], gg, note=f"低保 and 特困 both paid for months {m0}-{m1}")


def exclusive_benefits_lookalike_transfer(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: 低保 stopped, 特困 from the next month (a transfer between benefits)."""
    pid = g.col("person_id")
    ml = _full_year_self(g).filter(pl.col("subsidy_type") == "min_living")["pidx"].to_numpy()
    pick = g.pick(rng, ml[_alive(g)[ml]], g.cfg.lookalikes(g.n))
    for pi in pick:
        m = int(rng.integers(3, 10))
        gg = g.group()
        g.stop_enrolments([pi], [m], "min_living")
        g.add_enrolments(_new_enrol(np.array([pi]), "extreme_poverty", [m + 1], [12], [gg]))
        g.label("EXCLUSIVE_BENEFITS", S, "person", pid[pi], gg, lookalike=True,
                note=f"低保 to month {m}, 特困 from month {m + 1}", whole_amount=True)


def _township_batches(g: Garden) -> pl.DataFrame:
    """Monthly batches per township (9 digits) of months 2-8: their free recipients (2+)."""
    pay = _free_payments(g).filter((pl.col("subsidy_type") != "farmland") & pl.col("month").is_between(2, 8))
    return (pay.with_columns(town=pl.col("region_code").str.slice(0, 9))
            .group_by("batch_id", "town").agg(pl.col("pidx").unique().sort(), pl.len().alias("n"))
            .filter(pl.col("n") >= 2).sort("batch_id", "town"))


def unpaid_allocation(g: Garden, rng: np.random.Generator) -> None:
    """A township keeps the money allocated for some recipients of a batch (UNPAID_ALLOCATION)."""
    batches = _township_batches(g)
    k = g.cfg.cases("UNPAID_ALLOCATION", g.n)
    order = rng.permutation(batches.height)
    done, towns = 0, set()
    for j in order:
        if done >= k:
            break
        row = batches.row(int(j), named=True)
        members = np.array(row["pidx"], dtype=np.int64)
        members = members[~g.used[members]]
        if row["town"] in towns or len(members) < 2:
            continue
        towns.add(row["town"])
        g.take(members)
        rows = g.pay.filter(pl.col("pidx").is_in(members.tolist()) & (pl.col("batch_id") == row["batch_id"])
                            & (pl.col("region_code").str.slice(0, 9) == row["town"])).sort(PAY_KEY)
        n_keep = len(rows) - int(rng.integers(1, max(1, len(rows) // 3) + 1))
        kept, withheld = rows.head(n_keep), rows.tail(len(rows) - n_keep)
        gg = g.group()
        money_kept = float(withheld["amount"].sum())
        g.update_payments(_update(withheld, gg, withheld=True, risk=0.0))
        g.update_payments(_update(kept, gg, risk=round(money_kept / len(kept), 2)))
        g.label("UNPAID_ALLOCATION", S, "batch", f"{row['batch_id']}@{row['town']}", gg,
                note=f"{len(withheld)} payments allocated and never paid out")
        done += 1


def unpaid_allocation_lookalike_instalments(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a batch paid in two instalments three weeks apart."""
    batches = _township_batches(g)
    order = rng.permutation(batches.height)
    done, towns = 0, set()
    for j in order:
        if done >= g.cfg.lookalikes(g.n):
            break
        row = batches.row(int(j), named=True)
        members = np.array(row["pidx"], dtype=np.int64)
        members = members[~g.used[members]]
        if row["town"] in towns or len(members) < 2:
            continue
        towns.add(row["town"])
        g.take(members)
        rows = g.pay.filter(pl.col("pidx").is_in(members.tolist()) & (pl.col("batch_id") == row["batch_id"])
                            & (pl.col("region_code").str.slice(0, 9) == row["town"])).sort(PAY_KEY)
        second = rows.tail(len(rows) // 2)
        gg = g.group()
        g.update_payments(_update(second, gg, risk=0.0, pay_date=[d + dt.timedelta(days=21) for d in second["pay_date"].to_list()]))
        g.update_payments(_update(rows.head(len(rows) - len(second)), gg, risk=0.0))
        g.label("UNPAID_ALLOCATION", S, "batch", f"{row['batch_id']}@{row['town']}", gg, lookalike=True,
                note="paid in two instalments 21 days apart")
        done += 1


def annual_duplicate(g: Garden, rng: np.random.Generator) -> None:
    """Farmland support paid again in the same year under another period (ANNUAL_DUPLICATE)."""
    farm = _farmland(g)
    for pi in g.pick(rng, farm["pidx"], g.cfg.cases("ANNUAL_DUPLICATE", g.n)):
        orig = farm.filter(pl.col("pidx") == pi).row(0, named=True)
        m = int(rng.choice([mm for mm in range(2, 12) if mm != orig["month"]]))
        gg = g.group()
        g.update_payments(_update(pl.DataFrame([orig]).select(PAY_KEY), gg, risk=0.0))
        dup = {**orig, "month": m, "period": f"{g.year}-{m:02d}", "grp": gg, "risk": orig["amount"],
               "pay_date": dt.date(g.year, m, 1) + dt.timedelta(days=int(rng.integers(5, 25))),
               "batch_id": orig["batch_id"][:-2] + f"{m:02d}"}
        g.add_payments(pl.DataFrame([dup], schema=g.pay.schema))
        g.label("ANNUAL_DUPLICATE", S, "person", orig["person_id"], gg,
                note=f"farmland paid for periods {orig['period']} and {dup['period']}")


def back_pay_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a late 低保 enrolment with the months before paid as one back-pay row."""
    late = g.enrol.filter((pl.col("subsidy_type") == "min_living") & (pl.col("m_from") >= 4)
                          & (pl.col("holder_pidx") == pl.col("pidx")))
    cand = late["pidx"].to_numpy()
    for pi in g.pick(rng, cand[_alive(g)[cand]], g.cfg.lookalikes(g.n)):
        m = int(late.filter(pl.col("pidx") == pi)["m_from"][0])
        first = g.pay.filter((pl.col("pidx") == pi) & (pl.col("subsidy_type") == "min_living")
                             & (pl.col("month") == m)).row(0, named=True)
        months = [m - 3, m - 2, m - 1]
        amount = round(sum(_std(g, "min_living", first["county"], mm) for mm in months), 2)
        gg = g.group()
        row = {**first, "month": m - 3, "period": f"{g.year}-{m - 3:02d}", "quantity": 3.0, "amount": amount,
               "grp": gg, "risk": amount, "payment_type": "back_pay", "proxy_id": None, "withheld": False}
        g.add_payments(pl.DataFrame([row], schema=_pay_schema(g)))
        for code in ("DUPLICATE_PAYMENT", "OVER_STANDARD", "DELAYED_PAYMENT"):
            g.label(code, S, "person", first["person_id"], gg, lookalike=True,
                    note=f"back-pay of months {months[0]}-{months[-1]} with the first regular payment")


def top_up_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: July paid at the old rate, the difference of the July rise paid as a top-up."""
    std = g.std_lookup.filter(pl.col("subsidy_type") == "min_living")
    s6 = dict(std.filter(pl.col("month") == 6).select("county", "std").iter_rows())
    s7 = dict(std.filter(pl.col("month") == 7).select("county", "std").iter_rows())
    rise = [c for c in s7 if s7[c] > s6.get(c, s7[c])]
    pay = _free_payments(g).filter((pl.col("subsidy_type") == "min_living") & (pl.col("month") == 7)
                                   & pl.col("county").is_in(rise) & (pl.col("holder_pidx") == pl.col("pidx")))
    for pi in g.pick(rng, pay["pidx"], g.cfg.lookalikes(g.n)):
        row = pay.filter(pl.col("pidx") == pi).row(0, named=True)
        old, new = s6[row["county"]], s7[row["county"]]
        gg = g.group()
        g.update_payments(_update(pl.DataFrame([row]).select(PAY_KEY), gg, risk=0.0, amount=[old]))
        top = {**row, "amount": round(new - old, 2), "grp": gg, "risk": 0.0, "payment_type": "top_up",
               "proxy_id": None, "withheld": False, "batch_id": row["batch_id"] + "-BC",
               "pay_date": dt.date(g.year, 8, 1) + dt.timedelta(days=int(rng.integers(10, 25)))}
        g.add_payments(pl.DataFrame([top], schema=_pay_schema(g)))
        for code in ("DUPLICATE_PAYMENT", "OVER_STANDARD", "UNDER_PAYMENT"):
            g.label(code, S, "person", row["person_id"], gg, lookalike=True,
                    note=f"July paid at the old {old:.0f}, the rise of {new - old:.0f} topped up in August")


def bounced_repaid_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a payment bounced (returned) and paid again a few days later."""
    monthly = _monthly(g).filter(pl.col("holder_pidx") == pl.col("pidx"))
    for pi in g.pick(rng, monthly["pidx"], g.cfg.lookalikes(g.n)):
        mine = monthly.filter(pl.col("pidx") == pi).sort(PAY_KEY)
        row = mine.row(int(rng.integers(len(mine))), named=True)
        gg = g.group()
        g.update_payments(_update(pl.DataFrame([row]).select(PAY_KEY), gg, risk=0.0))
        extra = {"grp": gg, "risk": 0.0, "proxy_id": None, "withheld": False}
        ret = {**row, **extra, "payment_type": "returned", "pay_date": row["pay_date"] + dt.timedelta(days=5)}
        again = {**row, **extra, "payment_type": "regular", "pay_date": row["pay_date"] + dt.timedelta(days=12)}
        g.add_payments(pl.DataFrame([ret, again], schema=_pay_schema(g)))
        for code in ("DUPLICATE_PAYMENT", "UNDER_PAYMENT"):
            g.label(code, S, "person", row["person_id"], gg, lookalike=True,
                    note="bounced, returned and paid again")


def farmland_mid_year_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: annual farmland support paid four months into its period (within its own deadline)."""
    farm = _farmland(g)
    for pi in g.pick(rng, farm["pidx"], g.cfg.lookalikes(g.n)):
        r = farm.filter(pl.col("pidx") == pi).head(1)
        d = dt.date(g.year, int(r["month"][0]), 1) + dt.timedelta(days=int(rng.integers(100, 170)))
        gg = g.group()
        g.update_payments(_update(r, gg, risk=r["amount"].to_numpy(), pay_date=[d]))
        g.label("DELAYED_PAYMENT", S, "person", r["person_id"][0], gg, lookalike=True,
                note="annual farmland support paid mid-year, within the standard's 180 days")


def shared_account_lookalike_parent_apart(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a villager's own card also collects for an elderly parent heading a household
    of their own in the same village (a child collecting for a parent living apart)."""
    from fundwatch.synth.population import person_relations

    pid, village, hh, age0 = g.col("person_id"), g.col("village"), g.col("hh"), g.col("age0")
    birth = g.persons["birth_date"].cast(pl.Int32).to_numpy().astype(np.int64)
    relation = person_relations(g.persons, g.seed).to_numpy()
    pool = _beneficiary_pool(g)
    children = pool[~g.col("official_ever")[pool] & (age0[pool] >= 30) & (age0[pool] <= 55)]
    parents = pool[(relation[pool] == "head") & (age0[pool] >= 60)]
    prio = g.priority(rng)
    done = 0
    for c in g.order(prio, children):
        if done >= g.cfg.lookalikes(g.n):
            break
        # a generation older (20+ years by birth date), another household, the same village
        cand = parents[(village[parents] == village[c]) & (hh[parents] != hh[c])
                       & (birth[c] - birth[parents] >= 20 * 366) & ~g.used[parents]]
        if len(cand) == 0 or g.used[c]:
            continue
        parent = int(g.order(prio, cand)[0])
        g.take([int(c), parent])
        gg = g.group()
        g.hold_cards([parent], int(c), gg)
        g.label("SHARED_ACCOUNT", S, "account", g.account_str(int(c)), gg, lookalike=True,
                note="own card also collects for an elderly parent heading a household of their own",
                member_ids=[str(pid[parent])], whole_amount=True)
        done += 1


def cadre_held_cards_lookalike_registered_proxy(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a village cadre collects for a villager as the registered proxy (委托代领 on file)."""
    pid, village, hh = g.col("person_id"), g.col("village"), g.col("hh")
    pool = _beneficiary_pool(g)
    prio = g.priority(rng)
    done = 0
    for c in g.order(prio, _village_cadres(g)):
        if done >= g.cfg.lookalikes(g.n):
            break
        cand = pool[(village[pool] == village[c]) & (hh[pool] != hh[c]) & ~g.used[pool]]
        if len(cand) == 0 or g.used[c]:
            continue
        v = int(g.order(prio, cand)[0])
        g.take([int(c), v])
        gg = g.group()
        g.hold_cards([v], int(c), gg)
        rows = g.pay.filter((pl.col("pidx") == v) & (pl.col("subsidy_type") != "farmland"))
        g.update_payments(_update(rows, gg, proxy_id=[str(pid[c])] * len(rows)))
        for code, entity, kind in (("CADRE_HELD_CARDS", pid[c], "person"),
                                   ("SHARED_ACCOUNT", g.account_str(int(c)), "account")):
            g.label(code, S, kind, entity, gg, lookalike=True, member_ids=[str(pid[v])], whole_amount=True,
                    note="the cadre is the villager's registered proxy (委托代领 on file)")
        done += 1
