"""Planted medical anomalies and their legitimate look-alikes: one planter each.

Every planter is ``plant(garden, rng)`` (see :mod:`fundwatch.synth.planting`). Claim-level
cases add claims of their own (skeletons whose item lines are generated from the planter's
stream); item-level cases edit or add lines of normal claims. Planted persons are not
reused, and planted stays go to persons without other stays, so no case trips another rule.
Registered in :data:`fundwatch.synth.planters.PLANTERS`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from fundwatch.synth.medical import IDX, SKELETON_SCHEMA, finish_skeletons, generate_items, inflated_lines
from fundwatch.synth.planting import Garden
from fundwatch.synth.population import days

M = "medical"


# -- shared views of the base city ---------------------------------------------------------------
def _death_days(g: Garden) -> np.ndarray:
    return g.persons["death_date"].cast(pl.Int32).fill_null(10**6).to_numpy().astype(np.int64)


def _alive_all_year(g: Garden) -> np.ndarray:
    return _death_days(g) > days(dt.date(g.year, 12, 31)) + 400


def _no_stay(g: Garden) -> np.ndarray:
    has = np.zeros(g.n, dtype=bool)
    has[g.sk.filter(pl.col("vt") == 2)["pidx"].to_numpy()] = True
    return ~has


def _adults_free_for_stays(g: Garden) -> np.ndarray:
    return _alive_all_year(g) & _no_stay(g) & (g.col("age0") >= 18)


def _year_days(g: Garden) -> tuple[int, int]:
    return days(dt.date(g.year, 1, 1)), days(dt.date(g.year, 12, 31))


class _Claims:
    """Planted claims of one planter: rows collected, then finished with the planter's stream."""

    def __init__(self, g: Garden, rng: np.random.Generator):
        self.g, self.rng, self.rows = g, rng, []

    def hospital(self, county: int, levels=(2, 3)) -> int:
        look = self.g.inst_look
        return int(self.rng.choice([i for lv in levels for i in look[f"L{lv}"].get(int(county), [])]))

    def local(self, township: int, pharmacy: bool = False) -> int:
        return int(self.rng.choice(self.g.inst_look["ph_town" if pharmacy else "hc"][int(township)]))

    def add(self, pidx, inst, vt, visit, stay=0, dx=None, grp=None, phantom=False, obs=False, settle_lag=0) -> None:
        self.rows.append(dict(pidx=int(pidx), inst=int(inst), vt=int(vt), visit=int(visit), stay=int(stay), dx=dx,
                              grp=grp, phantom=phantom, obs=obs, settle_lag=int(settle_lag), kind="planted"))

    def plant(self) -> None:
        if not self.rows:
            return
        schema = {k: v for k, v in SKELETON_SCHEMA.items() if k not in ("inflate", "doc")}
        sk = finish_skeletons(pl.DataFrame(self.rows, schema=schema), self.g, self.rng)
        sk = sk.with_columns(cid=pl.int_range(pl.len()).cast(pl.Int64))
        self.g.add_skeletons(sk, generate_items(sk, self.g, self.g.cfg, self.rng))


# -- claim level ---------------------------------------------------------------------------------
def claim_after_death(g: Garden, rng: np.random.Generator) -> None:
    """Claims at local clinics and pharmacies after the person's death (CLAIM_AFTER_DEATH)."""
    y, pid, town, death = g.year, g.col("person_id"), g.col("township"), _death_days(g)
    jan1, dec31 = _year_days(g)
    lo, hi = days(dt.date(y - 1, 6, 1)), days(dt.date(y, 10, 31))
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero((death >= lo) & (death <= hi)), g.cfg.cases("CLAIM_AFTER_DEATH", g.n)):
        gg = g.group()
        m = int(rng.integers(1, 6))
        start = max(death[i] + g.cfg.after_death_days[0], jan1)
        for _ in range(m):
            pharmacy = rng.random() < 0.5
            claims.add(i, claims.local(town[i], pharmacy), 1 if pharmacy else 0,
                       min(start + int(rng.integers(0, g.cfg.after_death_days[1])), dec31), grp=gg)
        g.label("CLAIM_AFTER_DEATH", M, "person", pid[i], gg,
                note=f"{m} claim(s) after death on {dt.date(1970, 1, 1) + dt.timedelta(days=int(death[i]))}")
    claims.plant()


def claim_after_death_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a stay that began before death and was settled after it."""
    pid, county, death = g.col("person_id"), g.col("county"), _death_days(g)
    jan1, dec31 = _year_days(g)
    claims = _Claims(g, rng)
    cand = np.flatnonzero((death >= jan1 + 40) & (death <= dec31) & _no_stay(g))
    for i in g.pick(rng, cand, g.cfg.lookalikes(g.n)):
        gg = g.group()
        stay = int(rng.integers(3, 11))
        claims.add(i, claims.hospital(county[i]), 2, death[i] - stay, stay=stay, dx="I63.9", grp=gg,
                   settle_lag=int(rng.integers(2, 12)))
        g.label("CLAIM_AFTER_DEATH", M, "person", pid[i], gg, lookalike=True,
                note="admitted before death, discharged on the day of death, settled after")
    claims.plant()


def overlapping_stays(g: Garden, rng: np.random.Generator) -> None:
    """In-patient at a county hospital and a township clinic on the same days (OVERLAPPING_STAYS)."""
    pid, county, town = g.col("person_id"), g.col("county"), g.col("township")
    inst_id, look = g.institutions["institution_id"].to_numpy(), g.inst_look
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.cases("OVERLAPPING_STAYS", g.n)):
        gg = g.group()
        a = claims.hospital(county[i])
        b = int(rng.choice(look["hc"][int(town[i])] + look["L1"].get(int(county[i]), [])))
        d, la = jan1 + int(rng.integers(10, 320)), int(rng.integers(6, 13))
        claims.add(i, a, 2, d, stay=la, dx="J18.9", grp=gg)
        claims.add(i, b, 2, d + int(rng.integers(1, la - 1)), stay=int(rng.integers(3, 9)), dx="K29.7", grp=gg)
        g.label("OVERLAPPING_STAYS", M, "person", pid[i], gg,
                note=f"in-patient at {inst_id[a]} and {inst_id[b]} on the same days")
    claims.plant()


def overlapping_stays_lookalike_transfer(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a transfer, discharged and admitted elsewhere on the same day."""
    pid, county, town, look = g.col("person_id"), g.col("county"), g.col("township"), g.inst_look
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.lookalikes(g.n)):
        gg = g.group()
        a = claims.hospital(county[i])
        b = int(rng.choice(look["hc"][int(town[i])] + look["L1"].get(int(county[i]), [])))
        d, la = jan1 + int(rng.integers(10, 320)), int(rng.integers(6, 13))
        claims.add(i, a, 2, d, stay=la, dx="J18.9", grp=gg)
        claims.add(i, b, 2, d + la, stay=int(rng.integers(3, 9)), dx="J18.9", grp=gg)
        g.label("OVERLAPPING_STAYS", M, "person", pid[i], gg, lookalike=True,
                note="transfer: discharge and admission on the same day")
    claims.plant()


def split_admission(g: Garden, rng: np.random.Generator) -> None:
    """Three to five admissions to one hospital, each within 15 days of the last (SPLIT_ADMISSION)."""
    pid, county = g.col("person_id"), g.col("county")
    inst_id = g.institutions["institution_id"].to_numpy()
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.cases("SPLIT_ADMISSION", g.n)):
        gg = g.group()
        h = claims.hospital(county[i], (1, 2, 3))
        d = jan1 + int(rng.integers(5, 200))
        chain = int(rng.integers(g.cfg.split_chain[0], g.cfg.split_chain[1] + 1))
        dx = str(rng.choice(["I63.9", "J44.1", "N18.9", "I50.9"]))
        for _ in range(chain):
            stay = int(rng.integers(4, 10))
            claims.add(i, h, 2, d, stay=stay, dx=dx, grp=gg)
            d += stay + int(rng.integers(1, 15))
        g.label("SPLIT_ADMISSION", M, "person", pid[i], gg,
                note=f"{chain} admissions to {inst_id[h]} within 15 days of each other, diagnosis {dx}")
    claims.plant()


def _split_lookalike(g: Garden, rng: np.random.Generator, late: bool) -> None:
    pid, county = g.col("person_id"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.lookalikes(g.n)):
        gg = g.group()
        h = claims.hospital(county[i], (1, 2, 3))
        d, stay = jan1 + int(rng.integers(5, 200)), int(rng.integers(4, 10))
        claims.add(i, h, 2, d, stay=stay, dx="J44.1", grp=gg)
        if late:
            claims.add(i, h, 2, d + stay + int(rng.integers(31, 60)), stay=int(rng.integers(4, 10)), dx="J44.1", grp=gg)
            note = "readmitted after more than 30 days"
        else:
            claims.add(i, h, 2, d + stay + int(rng.integers(2, 14)), stay=int(rng.integers(3, 8)), dx="S72.0", grp=gg)
            note = "readmitted within 15 days with a different diagnosis"
        g.label("SPLIT_ADMISSION", M, "person", pid[i], gg, lookalike=True, note=note)
    claims.plant()


def split_admission_lookalike_late(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: readmitted after more than 30 days."""
    _split_lookalike(g, rng, late=True)


def split_admission_lookalike_other_diagnosis(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: readmitted within 15 days for a different illness."""
    _split_lookalike(g, rng, late=False)


def phantom_inpatient(g: Garden, rng: np.random.Generator) -> None:
    """A week or more in a township bed billed almost only for bed and nursing (PHANTOM_INPATIENT)."""
    pid, county, town, look = g.col("person_id"), g.col("county"), g.col("township"), g.inst_look
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.cases("PHANTOM_INPATIENT", g.n)):
        gg = g.group()
        h = int(rng.choice(look["hc"][int(town[i])] + look["L1"].get(int(county[i]), [])))
        stay = int(rng.integers(g.cfg.phantom_days[0], g.cfg.phantom_days[1] + 1))
        claims.add(i, h, 2, jan1 + int(rng.integers(0, 330)), stay=stay, dx="M54.5", grp=gg, phantom=True)
        g.label("PHANTOM_INPATIENT", M, "person", pid[i], gg, note=f"{stay}-day stay billed almost only bed and nursing")
    claims.plant()


def phantom_inpatient_lookalike_observation(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a one-night observation stay with only a bed fee."""
    pid, county = g.col("person_id"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.lookalikes(g.n)):
        gg = g.group()
        claims.add(i, claims.hospital(county[i]), 2, jan1 + int(rng.integers(0, 350)), stay=1, dx="R51", grp=gg, obs=True)
        g.label("PHANTOM_INPATIENT", M, "person", pid[i], gg, lookalike=True,
                note="one-night observation stay with only a bed fee")
    claims.plant()


def frequent_visits(g: Garden, rng: np.random.Generator) -> None:
    """Pharmacy visits on a hundred days or more (FREQUENT_VISITS)."""
    pid, town = g.col("person_id"), g.col("township")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    cand = np.flatnonzero(_alive_all_year(g) & (g.col("age0") >= 18))
    for i in g.pick(rng, cand, g.cfg.cases("FREQUENT_VISITS", g.n)):
        gg = g.group()
        nd = int(rng.integers(*g.cfg.frequent_visit_days))
        places = [claims.local(town[i], True) for _ in range(int(rng.integers(1, 3)))]
        for d in np.sort(rng.choice(365, size=nd, replace=False)):
            claims.add(i, places[int(rng.integers(0, len(places)))], 1, jan1 + int(d), dx="I10", grp=gg)
        g.label("FREQUENT_VISITS", M, "person", pid[i], gg, note=f"{nd} pharmacy visits in the year")
    claims.plant()


def frequent_visits_lookalike_monthly_refill(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a chronic patient refilling monthly."""
    y, pid, town = g.year, g.col("person_id"), g.col("township")
    claims = _Claims(g, rng)
    cand = np.flatnonzero(_alive_all_year(g) & (g.col("age0") >= 18))
    for i in g.pick(rng, cand, g.cfg.lookalikes(g.n)):
        gg = g.group()
        pharmacy, dom = claims.local(town[i], True), int(rng.integers(1, 25))
        for month in range(1, 13):
            claims.add(i, pharmacy, 1, days(dt.date(y, month, dom)) + int(rng.integers(0, 3)), dx="E11.9", grp=gg)
        g.label("FREQUENT_VISITS", M, "person", pid[i], gg, lookalike=True, note="chronic patient on a monthly refill")
    claims.plant()


def collusive_group(g: Garden, rng: np.random.Generator) -> None:
    """Strangers of different households at one clinic or pharmacy on the same days (COLLUSIVE_GROUP)."""
    y, pid, county, hh, age0 = g.year, g.col("person_id"), g.col("county"), g.col("hh"), g.col("age0")
    inst_id, look = g.institutions["institution_id"].to_numpy(), g.inst_look
    jan1, _ = _year_days(g)
    alive, prio = _alive_all_year(g), g.priority(rng)
    claims = _Claims(g, rng)
    n_counties = len(g.pop.counties)
    for j in range(g.cfg.cases("COLLUSIVE_GROUP", g.n)):
        c = j % n_counties
        cand = g.order(prio, np.flatnonzero(alive & (county == c) & (age0 >= 18)))
        _, first = np.unique(hh[cand], return_index=True)  # one person per household
        cand = cand[np.sort(first)]
        mem = np.sort(cand[: int(rng.integers(g.cfg.group_size[0], g.cfg.group_size[1] + 1))])
        g.take(mem)
        towns = [t for t in look["hc"] if int(g.pop.townships["county"][t]) == c]
        pharmacy = rng.random() < 0.6
        place = claims.local(int(rng.choice(towns)), pharmacy)
        nd = int(rng.integers(g.cfg.group_days[0], g.cfg.group_days[1] + 1))
        gg = g.group()
        for d in np.sort(rng.choice(365, size=nd, replace=False)):
            came = mem[rng.random(len(mem)) < 0.85]
            for i in came if len(came) >= 3 else mem:
                claims.add(i, place, 1 if pharmacy else 0, jan1 + int(d), grp=gg)
        g.label("COLLUSIVE_GROUP", M, "group", f"G{y}{j + 1:04d}", gg,
                note=f"{len(mem)} persons of different households at {inst_id[place]} on {nd} days",
                member_ids=[str(pid[i]) for i in mem])
    claims.plant()


def collusive_group_lookalike_household(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: one household visiting together."""
    pid, hh, town = g.col("person_id"), g.col("hh"), g.col("township")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    size = np.bincount(hh)
    cand = g.free(np.flatnonzero(_alive_all_year(g) & (size[hh] >= 3)))
    households = np.unique(hh[cand])
    hh_prio = rng.random(len(size))  # one draw per household of the city, whoever is free
    for h in np.sort(households[np.argsort(hh_prio[households], kind="stable")][: g.cfg.lookalikes(g.n)]):
        mem = cand[hh[cand] == h]
        g.take(mem)
        gg = g.group()
        place = claims.local(town[mem[0]], False)
        for d in np.sort(rng.choice(365, size=int(rng.integers(4, 8)), replace=False)):
            for i in mem:
                claims.add(i, place, 0, jan1 + int(d), grp=gg)
        g.label("COLLUSIVE_GROUP", M, "group", f"HH{g.persons['household_id'][int(mem[0])]}", gg, lookalike=True,
                note="one household visiting together", member_ids=[str(pid[i]) for i in mem])
    claims.plant()


def institution_outlier_lookalike_hospital(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike (no records: the institution itself must not be flagged): a county's level-3 hospital."""
    inst_id = g.institutions["institution_id"].to_numpy()
    for _, lst in g.inst_look["L3"].items():
        g.label("INSTITUTION_OUTLIER", M, "institution", inst_id[lst[0]], g.group(), lookalike=True,
                note="level-3 hospital: costs more per visit than clinics, as expected")


def institution_outlier_lookalike_busy_pharmacy(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike (no records): a busy town pharmacy, many visits at normal cost."""
    inst_id = g.institutions["institution_id"].to_numpy()
    for _, lst in g.inst_look["busy"].items():
        g.label("INSTITUTION_OUTLIER", M, "institution", inst_id[lst[0]], g.group(), lookalike=True,
                note="busy town pharmacy: many visits at normal cost")


def _inflate(g: Garden, rng: np.random.Generator, hit: pl.Expr, u: np.ndarray, grp: int) -> None:
    """Inflate the normal outpatient visits where ``hit`` holds for a share of them: extra dear lines."""
    # visits of persons another kind of planter took are left alone; patients of another
    # inflated institution are not (their visits there are a different claim)
    pidx = g.sk["pidx"].to_numpy()
    free = ~g.claim_taken & ~(g.used[pidx] & ~g.inflated_patients[pidx])
    sk = g.sk.with_columns(_u=pl.Series(u), _free=pl.Series(free))
    tagged = sk.filter(hit & (pl.col("vt") == 0) & pl.col("_free") & (pl.col("_u") < g.cfg.outlier_inflated_share))
    extra = int(rng.integers(1, 3))
    tagged = tagged.with_columns(inflate=pl.lit(extra, pl.Int64) + (pl.col("_u") * 10).cast(pl.Int64) % 2)
    g.tag_claims(tagged["cid"], grp, tagged["inflate"], kind="outlier")
    # no planter after this one may plant on these patients (a death planted later would
    # otherwise remove inflated visits from this case)
    patients = tagged["pidx"].unique().to_numpy()
    g.take(patients)
    g.inflated_patients[patients] = True
    g.add_lines(inflated_lines(tagged, g, rng))


def institution_outlier(g: Garden, rng: np.random.Generator) -> None:
    """Township health centres whose visits carry extra dear drugs (INSTITUTION_OUTLIER)."""
    inst_id = g.institutions["institution_id"].to_numpy()
    centres = np.array([lst[0] for _, lst in sorted(g.inst_look["hc"].items())], dtype=np.int64)
    chosen = centres[np.argsort(rng.random(len(centres)), kind="stable")][: g.cfg.cases("INSTITUTION_OUTLIER", g.n)]
    u = rng.random(len(g.sk))
    for h in chosen:
        gg = g.group()
        _inflate(g, rng, pl.col("inst") == int(h), u, gg)
        g.label("INSTITUTION_OUTLIER", M, "institution", inst_id[h], gg, note="inflated cost, items and drug share per visit")


def doctor_outlier(g: Garden, rng: np.random.Generator) -> None:
    """One doctor of a county hospital prescribing extra dear drugs (DOCTOR_OUTLIER)."""
    inst_id, n_doctors, look = g.institutions["institution_id"].to_numpy(), g.institutions["n_doctors"].to_numpy(), g.inst_look
    hospitals = np.array([i for lv in ("L2", "L3") for c in sorted(look[lv]) for i in look[lv][c]], dtype=np.int64)
    chosen = hospitals[np.argsort(rng.random(len(hospitals)), kind="stable")][: g.cfg.cases("DOCTOR_OUTLIER", g.n)]
    u = rng.random(len(g.sk))
    for h in chosen:
        d = int(rng.integers(0, int(n_doctors[h])))
        gg = g.group()
        _inflate(g, rng, (pl.col("inst") == int(h)) & (pl.col("doc") == d), u, gg)
        g.label("DOCTOR_OUTLIER", M, "doctor", f"{inst_id[h]}-{d:03d}", gg, note="inflated drug cost per visit")


# -- item level ----------------------------------------------------------------------------------
#: Normal claims an item planter looks at: a random share of all, about this many (bounded work).
ITEM_CANDIDATE_CLAIMS = 40_000


def _candidate_claims(g: Garden, rng: np.random.Generator) -> pl.DataFrame:
    """Free outpatient and pharmacy claims in this planter's random order (``_prio``)."""
    prio = rng.random(len(g.sk))
    share = min(1.0, ITEM_CANDIDATE_CLAIMS / max(1, len(g.sk)))
    sk = g.sk.select("cid", "pidx", "vt", "inst", "visit").with_columns(_prio=pl.Series(prio))
    sk = sk.filter((pl.col("vt") <= 1) & (pl.col("_prio") < share))
    sk = sk.filter(~pl.Series(g.claim_taken[sk["cid"].to_numpy()]) & ~pl.Series(g.used[sk["pidx"].to_numpy()]))
    return sk.join(g.persons.select("pidx", "person_id", "gender", "age0"), on="pidx").sort("_prio")


def _take(g: Garden, rows: pl.DataFrame, k: int) -> list[dict]:
    """The first ``k`` rows (in order) of persons not yet taken; takes the persons and claims."""
    out = []
    for r in rows.iter_rows(named=True):
        if len(out) >= k:
            break
        if g.used[r["pidx"]] or g.claim_taken[r["cid"]]:
            continue
        g.take([r["pidx"]])
        g.claim_taken[r["cid"]] = True
        out.append(r)
    return out


def _add_line(g: Garden, r: dict, code: str, grp: int, quantity: float = 1.0) -> None:
    cat = g.catalog_internal
    it = IDX[code]
    price, cap = cat["_price"][it], cat["price_cap"][it]
    price_c = int(round(100 * (price if cap is None else min(price, cap))))
    g.add_lines(pl.DataFrame([dict(cid=r["cid"], item=it, quantity=quantity, sdate=r["visit"], src=2, price_c=price_c,
                                   risk_c=int(round(quantity * price_c)))]))
    g.tag_claims([r["cid"]], grp)


def gender_limit(g: Garden, rng: np.random.Generator) -> None:
    """An item limited to the other sex added to an outpatient claim (GENDER_LIMIT)."""
    claims = _candidate_claims(g, rng).filter((pl.col("vt") == 0) & pl.col("age0").is_between(25, 70))
    for r in _take(g, claims, g.cfg.cases("GENDER_LIMIT", g.n)):
        code = str(rng.choice(["E008", "D018"])) if r["gender"] == "M" else str(rng.choice(["E007", "D019"]))
        gg = g.group()
        _add_line(g, r, code, gg)
        g.label("GENDER_LIMIT", M, "person", r["person_id"], gg, note=f"item {code} limited to the other sex")


def age_limit(g: Garden, rng: np.random.Generator) -> None:
    """A children's drug for an adult, or a bone-density test for a child (AGE_LIMIT)."""
    claims = _candidate_claims(g, rng).filter(pl.col("vt") == 0)
    k = g.cfg.cases("AGE_LIMIT", g.n)
    adults = _take(g, claims.filter(pl.col("age0") >= 30), (k + 1) // 2)
    kids = _take(g, claims.filter(pl.col("age0") <= 10), k - len(adults))
    for r in adults + kids:
        code = str(rng.choice(["D016", "D017"])) if r["age0"] >= 30 else "E009"
        gg = g.group()
        _add_line(g, r, code, gg)
        g.label("AGE_LIMIT", M, "person", r["person_id"], gg, note=f"item {code} outside its age limits (age {r['age0']})")


def _candidate_lines(g: Garden, rng: np.random.Generator) -> pl.DataFrame:
    """Normal lines of this planter's candidate claims, with the item's daily limit and price cap."""
    cat = g.catalog_internal
    attrs = pl.DataFrame({"item": np.arange(len(cat), dtype=np.int64), "mq": cat["max_qty_per_day"],
                          "cp": (cat["price_cap"] * 100).round(0).cast(pl.Int64)})
    claims = _candidate_claims(g, rng).select("cid", "pidx", "person_id", "_prio")
    return (g.lines.filter(pl.col("src") == 0).join(claims, on="cid", how="inner").join(attrs, on="item", how="left")
            .sort(["_prio", "item", "sdate"]))


_LIMITED_DRUGS = pl.col("item").is_in([IDX[c] for c in ("D001", "D002", "D003", "D005", "D006", "D008", "D010", "D020")])


def _edit_quantity(g: Garden, rng: np.random.Generator, lookalike: bool) -> None:
    lines = _candidate_lines(g, rng).filter(pl.col("mq").is_not_null() & _LIMITED_DRUGS)
    if lookalike:
        lines = lines.filter(pl.col("mq") >= 2)
    k = g.cfg.lookalikes(g.n) if lookalike else g.cfg.cases("EXCESS_QUANTITY", g.n)
    code_of = g.catalog_internal["item_code"]
    for r in _take(g, lines, k):
        gg = g.group()
        if lookalike:
            q, risk = float(r["mq"]), 0
            note = f"{code_of[int(r['item'])]}: exactly the daily limit {r['mq']:g}"
        else:
            q = float(r["mq"]) * float(rng.integers(*g.cfg.excess_qty_factor))
            if rng.random() < 0.3:
                q = float(r["mq"]) + float(rng.integers(1, 4))
            risk = int(round((q - r["mq"]) * r["price_c"]))
            note = f"{code_of[int(r['item'])]}: {q:g} per day, limit {r['mq']:g}"
        g.edit_line(r["cid"], r["item"], r["sdate"], q, r["price_c"], risk)
        g.tag_claims([r["cid"]], gg)
        g.label("EXCESS_QUANTITY", M, "person", r["person_id"], gg, lookalike=lookalike, note=note)


def excess_quantity(g: Garden, rng: np.random.Generator) -> None:
    """A drug line at two to five times its daily limit (EXCESS_QUANTITY)."""
    _edit_quantity(g, rng, lookalike=False)


def excess_quantity_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: exactly the daily limit."""
    _edit_quantity(g, rng, lookalike=True)


def _edit_price(g: Garden, rng: np.random.Generator, lookalike: bool) -> None:
    lines = _candidate_lines(g, rng).filter(pl.col("cp").is_not_null())
    k = g.cfg.lookalikes(g.n) if lookalike else g.cfg.cases("OVER_PRICE", g.n)
    code_of = g.catalog_internal["item_code"]
    for r in _take(g, lines, k):
        gg = g.group()
        if lookalike:
            price_c, risk = int(r["cp"]), 0
            note = f"{code_of[int(r['item'])]}: exactly at the price cap"
        else:
            price_c = int(round(r["cp"] * rng.uniform(*g.cfg.over_price_factor)))
            risk = int(round((price_c - r["cp"]) * r["quantity"]))
            note = f"{code_of[int(r['item'])]}: {price_c / 100:.2f} above the cap {r['cp'] / 100:.2f}"
        g.edit_line(r["cid"], r["item"], r["sdate"], r["quantity"], price_c, risk)
        g.tag_claims([r["cid"]], gg)
        g.label("OVER_PRICE", M, "person", r["person_id"], gg, lookalike=lookalike, note=note)


def over_price(g: Garden, rng: np.random.Generator) -> None:
    """A unit price above the catalogue's cap (OVER_PRICE)."""
    _edit_price(g, rng, lookalike=False)


def over_price_lookalike(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: exactly at the price cap."""
    _edit_price(g, rng, lookalike=True)


def duplicate_billing(g: Garden, rng: np.random.Generator) -> None:
    """The same line twice on one claim and day, for an item without a daily limit (DUPLICATE_BILLING)."""
    lines = _candidate_lines(g, rng).filter(pl.col("mq").is_null())
    code_of = g.catalog_internal["item_code"]
    for r in _take(g, lines, g.cfg.cases("DUPLICATE_BILLING", g.n)):
        gg = g.group()
        g.add_lines(pl.DataFrame([dict(cid=r["cid"], item=r["item"], quantity=r["quantity"], sdate=r["sdate"], src=3,
                                       price_c=r["price_c"], risk_c=int(round(r["quantity"] * r["price_c"])))]))
        g.tag_claims([r["cid"]], gg)
        g.label("DUPLICATE_BILLING", M, "person", r["person_id"], gg,
                note=f"{code_of[int(r['item'])]} billed twice on one day")
