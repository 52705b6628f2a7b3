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

from fundwatch.synth.medical import (
    IDX, PLANTED_CLAIM_V2, PLANTED_LINE_V2, SKELETON_SCHEMA, finish_skeletons, generate_items, inflated_lines,
)
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
    """Planted claims of one planter: rows collected, then finished with the planter's stream.

    ``add`` returns the claim's row number, which ``line`` uses to give it a line of the
    planter's own (with a contract v2 trace code or days of supply where the case needs one).
    """

    def __init__(self, g: Garden, rng: np.random.Generator):
        self.g, self.rng, self.rows, self.extra = g, rng, [], []

    def hospital(self, county: int, levels=(2, 3)) -> int:
        look = self.g.inst_look
        return int(self.rng.choice([i for lv in levels for i in look[f"L{lv}"].get(int(county), [])]))

    def local(self, township: int, pharmacy: bool = False) -> int:
        return int(self.rng.choice(self.g.inst_look["ph_town" if pharmacy else "hc"][int(township)]))

    def add(self, pidx, inst, vt, visit, stay=0, dx=None, grp=None, phantom=False, obs=False, settle_lag=0,
            admission_id: str | None = None, planned: bool | None = None, secondary: str | None = None) -> int:
        self.rows.append(dict(pidx=int(pidx), inst=int(inst), vt=int(vt), visit=int(visit), stay=int(stay), dx=dx,
                              grp=grp, phantom=phantom, obs=obs, settle_lag=int(settle_lag), kind="planted",
                              admission_id=admission_id, readmission_planned=planned, secondary_diagnoses=secondary))
        return len(self.rows) - 1

    def line(self, row: int, code: str, quantity: float, day: int, at_risk: bool = True, price_c: int | None = None,
             trace: str | None = None, supply: int | None = None) -> None:
        """One more item line on planted claim ``row`` (list price unless ``price_c``)."""
        cat = self.g.catalog_internal
        it = IDX[code]
        if price_c is None:
            price, cap = cat["_price"][it], cat["price_cap"][it]
            price_c = int(round(100 * (price if cap is None else min(price, cap))))
        self.extra.append(dict(cid=int(row), item=int(it), quantity=float(quantity), sdate=int(day), src=2,
                               price_c=int(price_c), risk_c=int(round(quantity * price_c)) if at_risk else 0,
                               trace_code=trace, days_supply=supply))

    def plant(self) -> None:
        if not self.rows:
            return
        schema = {k: v for k, v in SKELETON_SCHEMA.items() if k not in ("inflate", "doc")}
        rows = pl.DataFrame(self.rows, schema={**schema, **PLANTED_CLAIM_V2})
        sk = finish_skeletons(rows.select(list(schema)), self.g, self.rng)
        # the v2 values ride beside the skeleton (same row order), see medical.PLANTED_CLAIM_V2
        sk = sk.with_columns(pl.int_range(pl.len()).cast(pl.Int64).alias("cid"), *[rows[c] for c in PLANTED_CLAIM_V2])
        lines = generate_items(sk, self.g, self.g.cfg, self.rng)
        if self.extra:
            extra = pl.DataFrame(self.extra, schema={**dict(lines.schema), **PLANTED_LINE_V2})
            # one line per (claim, item, day): a generated line of the same item and day gives way
            lines = lines.join(extra.select("cid", "item", "sdate"), on=["cid", "item", "sdate"], how="anti",
                               maintain_order="left")
            lines = pl.concat([lines, extra], how="diagonal_relaxed")
        self.g.add_skeletons(sk, lines)


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


# -- contract v2 types (issue 16) and the legitimate care they must leave alone ------------------
def _local_pair(claims: _Claims, g: Garden, township: int, county: int, pharmacy: bool) -> tuple[int, int]:
    """Two different institutions near a person: the township's and one of the county seat's."""
    a = claims.local(township, pharmacy)
    pool = g.inst_look["busy"].get(int(county), []) if pharmacy else g.inst_look["L1"].get(int(county), [])
    pool = [i for i in pool if i != a] or [i for i in g.inst_look["ph_town" if pharmacy else "hc"][int(township)] if i != a]
    return a, int(claims.rng.choice(pool)) if pool else a


def restricted_indication(g: Garden, rng: np.random.Generator) -> None:
    """Albumin on a pneumonia stay whose diagnoses include no cirrhosis, shock or burn (RESTRICTED_INDICATION)."""
    pid, county = g.col("person_id"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.cases("RESTRICTED_INDICATION", g.n)):
        gg = g.group()
        d, stay = jan1 + int(rng.integers(5, 330)), int(rng.integers(5, 11))
        row = claims.add(i, claims.hospital(county[i]), 2, d, stay=stay, dx="J18.9", grp=gg, secondary="I10")
        n = int(rng.integers(2, 5))
        for k in range(n):
            claims.line(row, "D014", float(rng.integers(1, 3)), d + 1 + k)
        g.label("RESTRICTED_INDICATION", M, "person", pid[i], gg,
                note=f"albumin on {n} days of a pneumonia stay, no qualifying diagnosis")
    claims.plant()


def restricted_indication_lookalike_secondary(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: albumin on a pneumonia stay of a patient whose secondary diagnosis is cirrhosis."""
    pid, county = g.col("person_id"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.lookalikes(g.n)):
        gg = g.group()
        d, stay = jan1 + int(rng.integers(5, 330)), int(rng.integers(5, 11))
        row = claims.add(i, claims.hospital(county[i]), 2, d, stay=stay, dx="J18.9", grp=gg, secondary="I10;K74.6")
        for k in range(int(rng.integers(2, 5))):
            claims.line(row, "D014", float(rng.integers(1, 3)), d + 1 + k, at_risk=False)
        g.label("RESTRICTED_INDICATION", M, "person", pid[i], gg, lookalike=True,
                note="albumin justified by a secondary diagnosis of cirrhosis")
    claims.plant()


def visit_type_limit(g: Garden, rng: np.random.Generator) -> None:
    """Albumin (in-patient only) billed on an out-patient visit at a county hospital (VISIT_TYPE_LIMIT)."""
    pid, county = g.col("person_id"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    cand = np.flatnonzero(_alive_all_year(g) & (g.col("age0") >= 18))
    for i in g.pick(rng, cand, g.cfg.cases("VISIT_TYPE_LIMIT", g.n)):
        gg = g.group()
        h, m = claims.hospital(county[i]), int(rng.integers(1, 4))
        for _ in range(m):
            d = jan1 + int(rng.integers(0, 360))
            row = claims.add(i, h, 0, d, dx="K74.6", grp=gg)
            claims.line(row, "D014", float(rng.integers(1, 3)), d)
        g.label("VISIT_TYPE_LIMIT", M, "person", pid[i], gg, note=f"in-patient-only albumin on {m} out-patient visit(s)")
    claims.plant()


def visit_type_limit_lookalike_emergency(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: seen in the out-patient hall and admitted the same day; albumin on the stay only."""
    pid, county = g.col("person_id"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.lookalikes(g.n)):
        gg = g.group()
        h, d = claims.hospital(county[i]), jan1 + int(rng.integers(0, 340))
        claims.add(i, h, 0, d, dx="K74.6", grp=gg)
        row = claims.add(i, h, 2, d, stay=int(rng.integers(5, 11)), dx="K74.6", grp=gg)
        for k in range(3):
            claims.line(row, "D014", 1.0, d + k, at_risk=False)
        g.label("VISIT_TYPE_LIMIT", M, "person", pid[i], gg, lookalike=True,
                note="out-patient visit and admission on one day; in-patient-only albumin billed on the stay")
    claims.plant()


def frequency_limit(g: Garden, rng: np.random.Generator) -> None:
    """Acupuncture (at most 20 in any 30 days) on 24-30 days of one month at two clinics (FREQUENCY_LIMIT)."""
    pid, town, county = g.col("person_id"), g.col("township"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    cand = np.flatnonzero(_alive_all_year(g) & (g.col("age0") >= 30))
    for i in g.pick(rng, cand, g.cfg.cases("FREQUENCY_LIMIT", g.n)):
        gg = g.group()
        places = _local_pair(claims, g, town[i], county[i], pharmacy=False)
        start, n = jan1 + int(rng.integers(0, 330)), int(rng.integers(24, 31))
        for d in np.sort(rng.choice(30, size=n, replace=False)):
            row = claims.add(i, places[int(rng.integers(0, 2))], 0, start + int(d), dx="M54.5", grp=gg)
            claims.line(row, "T002", 1.0, start + int(d))
        g.label("FREQUENCY_LIMIT", M, "person", pid[i], gg, note=f"{n} acupuncture sessions in 30 days at two clinics")
    claims.plant()


def frequency_limit_lookalike_course(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: acupuncture courses of 20 daily sessions, 30 days apart — at the limit, and
    frequent visits by design."""
    pid, town = g.col("person_id"), g.col("township")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    cand = np.flatnonzero(_alive_all_year(g) & (g.col("age0") >= 30))
    for i in g.pick(rng, cand, g.cfg.lookalikes(g.n)):
        gg = g.group()
        clinic, start = claims.local(town[i]), jan1 + int(rng.integers(0, 200))
        for c in range(int(rng.integers(2, 4))):
            for d in range(20):
                day = start + 50 * c + d
                row = claims.add(i, clinic, 0, day, dx="M54.5", grp=gg)
                claims.line(row, "T002", 1.0, day, at_risk=False)
        note = "acupuncture courses of 20 daily sessions with 30 days' rest: at the limit"
        g.label("FREQUENCY_LIMIT", M, "person", pid[i], gg, lookalike=True, note=note)
        g.label("FREQUENT_VISITS", M, "person", pid[i], gg, lookalike=True, note=note)
    claims.plant()


def oversupply(g: Garden, rng: np.random.Generator) -> None:
    """Three-week packs of one blood-pressure drug at several pharmacies, four or five within a month (OVERSUPPLY)."""
    pid, town, county = g.col("person_id"), g.col("township"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    cand = np.flatnonzero(_alive_all_year(g) & (g.col("age0") >= 40))
    for i in g.pick(rng, cand, g.cfg.cases("OVERSUPPLY", g.n)):
        gg = g.group()
        places = _local_pair(claims, g, town[i], county[i], pharmacy=True)
        drug, start, n = str(rng.choice(["D005", "D020"])), jan1 + int(rng.integers(0, 330)), int(rng.integers(4, 6))
        for k, d in enumerate(np.sort(rng.choice(28, size=n, replace=False))):
            row = claims.add(i, places[k % 2], 1, start + int(d), dx="I10", grp=gg)
            claims.line(row, drug, 3.0, start + int(d), supply=21)
        g.label("OVERSUPPLY", M, "person", pid[i], gg, note=f"{n} x 21 days of {drug} within 4 weeks at two pharmacies")
    claims.plant()


def oversupply_lookalike_at_the_line(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: insulin every 10 days at two pharmacies, 20 days each: 60 days in any 30 — at the line."""
    pid, town, county = g.col("person_id"), g.col("township"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    cand = np.flatnonzero(_alive_all_year(g) & (g.col("age0") >= 40))
    for i in g.pick(rng, cand, g.cfg.lookalikes(g.n)):
        gg = g.group()
        places = _local_pair(claims, g, town[i], county[i], pharmacy=True)
        start = jan1 + int(rng.integers(0, 200))
        for k in range(int(rng.integers(6, 16))):
            row = claims.add(i, places[k % 2], 1, start + 10 * k, dx="E11.9", grp=gg)
            claims.line(row, "D015", 2.0, start + 10 * k, at_risk=False, supply=20)
        g.label("OVERSUPPLY", M, "person", pid[i], gg, lookalike=True,
                note="insulin every 10 days, 20 days each, at two pharmacies: exactly 60 days in any 30")
    claims.plant()


def _trace_code(rng: np.random.Generator, code: str) -> str:
    return f"8{(IDX[code] * 7919 + 104729) % 10**6:06d}9{int(rng.integers(10**11, 10**12)):012d}"


def trace_code_reuse(g: Garden, rng: np.random.Generator) -> None:
    """A package sold on one card, bought back and settled again at another pharmacy (TRACE_CODE_REUSE)."""
    pid, town, county = g.col("person_id"), g.col("township"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    k = g.cfg.cases("TRACE_CODE_REUSE", g.n)
    chosen = g.pick(rng, np.flatnonzero(_alive_all_year(g) & (g.col("age0") >= 30)), 2 * k)
    order = chosen[np.argsort(rng.random(len(chosen)), kind="stable")]
    for a, b in zip(order[:k], order[k:2 * k]):
        gg = g.group()
        drug = str(rng.choice(["D005", "D007", "D020", "D008"]))
        code = _trace_code(rng, drug)
        first, again = _local_pair(claims, g, town[a], county[a], pharmacy=True)
        d = jan1 + int(rng.integers(0, 320))
        row = claims.add(a, first, 1, d, dx="I10", grp=gg)
        claims.line(row, drug, 1.0, d, at_risk=False, trace=code, supply=7)
        d2 = d + int(rng.integers(3, 40))
        row = claims.add(b, again, 1, d2, dx="I10", grp=gg)
        claims.line(row, drug, 1.0, d2, trace=code, supply=7)
        g.label("TRACE_CODE_REUSE", M, "person", pid[b], gg, note=f"package {code} sold again {d2 - d} days later")
    claims.plant()


def trace_code_reuse_lookalike_split_pack(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: one package sold in thirds (拆零) at one pharmacy."""
    pid, town = g.col("person_id"), g.col("township")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_alive_all_year(g) & (g.col("age0") >= 18)), g.cfg.lookalikes(g.n)):
        gg = g.group()
        code, ph, d = _trace_code(rng, "D008"), claims.local(town[i], True), jan1 + int(rng.integers(0, 330))
        for k, q in enumerate((0.33, 0.33, 0.34)):
            row = claims.add(i, ph, 1, d + 5 * k, dx="K29.7", grp=gg)
            claims.line(row, "D008", q, d + 5 * k, at_risk=False, trace=code, supply=1)
        g.label("TRACE_CODE_REUSE", M, "person", pid[i], gg, lookalike=True,
                note="one package sold in thirds at one pharmacy")
    claims.plant()


def group_admission(g: Garden, rng: np.random.Generator) -> None:
    """Villagers of different households recruited to a private hospital in batches, two or three times (GROUP_ADMISSION)."""
    pid, village, hh, county = g.col("person_id"), g.col("village"), g.col("hh"), g.col("county")
    inst_id = g.institutions["institution_id"].to_numpy()
    jan1, _ = _year_days(g)
    free = _adults_free_for_stays(g) & (g.col("age0") >= 55)
    prio = g.priority(rng)
    claims = _Claims(g, rng)
    villages = np.unique(village[free])
    villages = villages[np.argsort(rng.random(len(villages)), kind="stable")]
    done = 0
    for v in villages:
        if done >= g.cfg.cases("GROUP_ADMISSION", g.n):
            break
        cand = g.order(prio, np.flatnonzero(free & (village == v)))
        _, first = np.unique(hh[cand], return_index=True)  # one person per household
        cand = cand[np.sort(first)]
        size = int(rng.integers(7, 11))
        if len(cand) < size:
            continue
        recruits = np.sort(cand[:size])
        g.take(recruits)
        gg = g.group()
        h = claims.hospital(county[recruits[0]], (1,))
        start, n_batches = jan1 + int(rng.integers(0, 120)), int(rng.integers(2, 4))
        for b in range(n_batches):
            day = start + b * int(rng.integers(70, 100))
            batch = rng.choice(recruits, size=int(rng.integers(5, size + 1)), replace=False)
            for i in np.sort(batch):
                claims.add(i, h, 2, day + int(rng.integers(0, 3)), stay=int(rng.integers(7, 13)),
                           dx=str(rng.choice(["I63.9", "I25.1", "M54.5", "J44.1"])), grp=gg)
        g.label("GROUP_ADMISSION", M, "institution", inst_id[h], gg,
                note=f"{size} villagers of different households admitted in {n_batches} batches",
                member_ids=[str(pid[i]) for i in recruits])
        done += 1
    claims.plant()


def group_admission_lookalike_family(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: one household admitted together (food poisoning), twice in the year."""
    pid, hh, county = g.col("person_id"), g.col("hh"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    size = np.bincount(hh)
    cand = g.free(np.flatnonzero(_adults_free_for_stays(g) & (size[hh] >= 3)))
    households = np.unique(hh[cand])
    hh_prio = rng.random(len(size))
    for h in np.sort(households[np.argsort(hh_prio[households], kind="stable")][: g.cfg.lookalikes(g.n)]):
        mem = cand[hh[cand] == h]
        if len(mem) < 3:
            continue
        g.take(mem)
        gg = g.group()
        hosp = claims.hospital(county[mem[0]])
        for day in (jan1 + int(rng.integers(0, 150)), jan1 + int(rng.integers(200, 340))):
            for i in mem:
                claims.add(i, hosp, 2, day, stay=int(rng.integers(2, 5)), dx="A05.9", grp=gg)
        g.label("GROUP_ADMISSION", M, "person", pid[mem[0]], gg, lookalike=True,
                note="one household admitted together twice", member_ids=[str(pid[i]) for i in mem])
    claims.plant()


def group_admission_lookalike_county_hospital(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike (no records: the hospital must not be flagged): a county hospital's ordinary intake."""
    inst_id = g.institutions["institution_id"].to_numpy()
    for _, lst in sorted(g.inst_look["L3"].items()):
        g.label("GROUP_ADMISSION", M, "institution", inst_id[lst[0]], g.group(), lookalike=True,
                note="county hospital: admits from every village every week")


def claim_during_stay(g: Garden, rng: np.random.Generator) -> None:
    """Pharmacy or clinic claims in town on two or three days while the card holder lies in a
    county hospital (CLAIM_DURING_STAY): the card is in use at home, not on the ward."""
    pid, town, county = g.col("person_id"), g.col("township"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.cases("CLAIM_DURING_STAY", g.n)):
        gg = g.group()
        d, stay = jan1 + int(rng.integers(0, 330)), int(rng.integers(8, 15))
        claims.add(i, claims.hospital(county[i]), 2, d, stay=stay, dx="I63.9", grp=gg)
        m = int(rng.integers(2, 4))
        for day in np.sort(rng.choice(np.arange(d + 1, d + stay), size=m, replace=False)):
            pharmacy = rng.random() < 0.6
            claims.add(i, claims.local(town[i], pharmacy), 1 if pharmacy else 0, int(day),
                       dx="I10" if pharmacy else "J06.9", grp=gg)
        g.label("CLAIM_DURING_STAY", M, "person", pid[i], gg, note=f"{m} claim(s) in town during a {stay}-day stay")
    claims.plant()


def claim_during_stay_lookalike_edges(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a clinic visit on the admission day and a pharmacy purchase on the discharge day."""
    pid, town, county = g.col("person_id"), g.col("township"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.lookalikes(g.n)):
        gg = g.group()
        d, stay = jan1 + int(rng.integers(0, 330)), int(rng.integers(5, 12))
        claims.add(i, claims.local(town[i]), 0, d, dx="J18.9", grp=gg)
        claims.add(i, claims.hospital(county[i]), 2, d, stay=stay, dx="J18.9", grp=gg)
        claims.add(i, claims.local(town[i], True), 1, d + stay, dx="J18.9", grp=gg)
        g.label("CLAIM_DURING_STAY", M, "person", pid[i], gg, lookalike=True,
                note="referred by the township clinic on the admission day, drugs bought on the discharge day")
    claims.plant()


def claim_during_stay_lookalike_relative(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a relative fetches the patient's regular drugs at a town pharmacy once mid-stay."""
    pid, town, county = g.col("person_id"), g.col("township"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.lookalikes(g.n)):
        gg = g.group()
        d, stay = jan1 + int(rng.integers(0, 330)), int(rng.integers(6, 15))
        claims.add(i, claims.hospital(county[i]), 2, d, stay=stay, dx="I63.9", grp=gg)
        claims.add(i, claims.local(town[i], True), 1, d + int(rng.integers(1, stay)), dx="I10", grp=gg)
        g.label("CLAIM_DURING_STAY", M, "person", pid[i], gg, lookalike=True,
                note="a relative bought the patient's regular drugs at a pharmacy on one day of the stay")
    claims.plant()


def _level_caps(g: Garden) -> pl.DataFrame:
    """The synthetic city's item_prices rows with item indices (read only)."""
    from fundwatch.synth.medical import build_item_prices

    return build_item_prices(g.catalog_internal, g.cfg).with_columns(
        item=pl.col("item_code").replace_strict(IDX, return_dtype=pl.Int64),
        vf=pl.col("valid_from").cast(pl.Int32), vt=pl.col("valid_to").cast(pl.Int32).fill_null(10**6))


def _priced_lines(g: Garden, rng: np.random.Generator, levels: tuple[int, ...]) -> pl.DataFrame:
    """Normal lines of level-priced items at institutions of ``levels``, free persons, random order."""
    caps = _level_caps(g)
    inst = g.institutions.select("inst", "level")
    sk = g.sk.select("cid", "pidx", "inst").with_columns(_prio=pl.Series(rng.random(len(g.sk))))
    sk = sk.filter(~pl.Series(g.claim_taken[sk["cid"].to_numpy()]) & ~pl.Series(g.used[sk["pidx"].to_numpy()]))
    return (
        g.lines.filter((pl.col("src") == 0) & pl.col("item").is_in(caps["item"].unique().implode()))
        .join(sk, on="cid", how="inner").join(inst, on="inst", how="inner")
        .filter(pl.col("level").is_in(list(levels)))
        .join(caps.select("item", "level", "vf", "vt", cap_c=(pl.col("price_cap") * 100).round(0).cast(pl.Int64)),
              on=["item", "level"], how="inner")
        .filter((pl.col("sdate") >= pl.col("vf")) & (pl.col("sdate") <= pl.col("vt")))
        .join(g.persons.select("pidx", "person_id"), on="pidx")
        .sort("_prio")
    )


def over_price_level(g: Garden, rng: np.random.Generator) -> None:
    """A level-1 institution charging the catalogue's (level-3) price: above its own level's cap (OVER_PRICE)."""
    cat = g.catalog_internal
    lines = _priced_lines(g, rng, (1,))
    for r in _take(g, lines, g.cfg.cases("OVER_PRICE", g.n)):
        gg = g.group()
        top = int(round(100 * cat["price_cap"][int(r["item"])]))
        price_c = int(rng.integers(r["cap_c"] + 1, top + 1)) if top > r["cap_c"] else top
        g.edit_line(r["cid"], r["item"], r["sdate"], r["quantity"], price_c, int(round((price_c - r["cap_c"]) * r["quantity"])))
        g.tag_claims([r["cid"]], gg)
        g.label("OVER_PRICE", M, "person", r["person_id"], gg,
                note=f"{cat['item_code'][int(r['item'])]} at {price_c / 100:.2f}, level-1 cap {r['cap_c'] / 100:.2f}")


def over_price_lookalike_price_rise(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: a level-2 hospital charging, after the 1 July rise, the new cap — above the old one."""
    cat = g.catalog_internal
    caps = _level_caps(g).filter(pl.col("level") == 2).sort("item", "vf")
    rise = caps.group_by("item").agg(old=pl.col("price_cap").first(), new=pl.col("price_cap").last()).filter(
        pl.col("new") > pl.col("old"))
    lines = _priced_lines(g, rng, (2,)).filter(pl.col("vt") >= 10**6).join(rise, on="item", how="inner")
    for r in _take(g, lines, g.cfg.lookalikes(g.n)):
        gg = g.group()
        g.edit_line(r["cid"], r["item"], r["sdate"], r["quantity"], int(r["cap_c"]), 0)
        g.tag_claims([r["cid"]], gg)
        g.label("OVER_PRICE", M, "person", r["person_id"], gg, lookalike=True,
                note=f"{cat['item_code'][int(r['item'])]} at the new cap {r['new']:.2f} (old {r['old']:.2f})")


def split_admission_lookalike_interim(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: one long psychiatric stay settled monthly (中途结算), one admission id."""
    pid, county = g.col("person_id"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.lookalikes(g.n)):
        gg = g.group()
        h, start, parts = claims.hospital(county[i]), jan1 + int(rng.integers(0, 200)), int(rng.integers(3, 6))
        adm = f"ZYM{int(i):09d}"  # from the person, not the group number (which shifts)
        for k in range(parts):
            claims.add(i, h, 2, start + 30 * k, stay=29, dx="F20.0", grp=gg, admission_id=adm)
        g.label("SPLIT_ADMISSION", M, "person", pid[i], gg, lookalike=True,
                note=f"one stay settled in {parts} monthly parts under admission {adm}")
    claims.plant()


def split_admission_lookalike_planned(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: chemotherapy cycles every two or three weeks, each readmission planned."""
    pid, county = g.col("person_id"), g.col("county")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    for i in g.pick(rng, np.flatnonzero(_adults_free_for_stays(g)), g.cfg.lookalikes(g.n)):
        gg = g.group()
        h, d, cycles = claims.hospital(county[i], (3,)), jan1 + int(rng.integers(0, 200)), int(rng.integers(4, 7))
        for _ in range(cycles):
            stay = int(rng.integers(2, 5))
            claims.add(i, h, 2, d, stay=stay, dx="C18.7", grp=gg, planned=True)
            d += int(rng.integers(14, 22))
        g.label("SPLIT_ADMISSION", M, "person", pid[i], gg, lookalike=True,
                note=f"{cycles} planned chemotherapy cycles")
    claims.plant()


def age_limit_lookalike_newborn(g: Garden, rng: np.random.Generator) -> None:
    """Look-alike: the newborn's hearing screening billed on the mother's card after the delivery."""
    pid, county, age0, gender = g.col("person_id"), g.col("county"), g.col("age0"), g.col("gender")
    jan1, _ = _year_days(g)
    claims = _Claims(g, rng)
    cand = np.flatnonzero(_adults_free_for_stays(g) & (gender == "F") & (age0 >= 20) & (age0 <= 40))
    for i in g.pick(rng, cand, g.cfg.lookalikes(g.n)):
        gg = g.group()
        h, d, stay = claims.hospital(county[i]), jan1 + int(rng.integers(0, 320)), int(rng.integers(2, 6))
        claims.add(i, h, 2, d, stay=stay, dx="O80.0", grp=gg, secondary="Z37.0")
        day = d + stay + int(rng.integers(1, 29))
        row = claims.add(i, h, 0, day, dx="Z38.0", grp=gg)
        claims.line(row, "E010", 1.0, day, at_risk=False)
        g.label("AGE_LIMIT", M, "person", pid[i], gg, lookalike=True,
                note="newborn hearing screening on the mother's card within 28 days of the delivery")
    claims.plant()
