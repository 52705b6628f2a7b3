"""Planted medical anomalies and their legitimate look-alikes.

Claim-level cases are planted as extra (or tagged) claim skeletons before item lines are
generated; item-level cases edit or add lines afterwards. Planted persons are not reused,
and planted stays go to persons without other stays, so no case trips another rule.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from fundwatch.synth.config import SynthConfig
from fundwatch.synth.medical import IDX, SKELETON_SCHEMA, finish_skeletons
from fundwatch.synth.population import days, rng_for

M = "medical"


class _Builder:
    """Collects planted skeleton rows."""

    def __init__(self):
        self.rows: list[dict] = []

    def add(self, pidx, inst, vt, visit, stay=0, dx=None, grp=None, phantom=False, obs=False, settle_lag=0, kind="planted"):
        self.rows.append(dict(pidx=int(pidx), inst=int(inst), vt=int(vt), visit=int(visit), stay=int(stay), dx=dx,
                              grp=grp, phantom=phantom, obs=obs, settle_lag=int(settle_lag), kind=kind))

    def frame(self, ctx, rng) -> pl.DataFrame:
        if not self.rows:
            return pl.DataFrame(schema=SKELETON_SCHEMA)
        df = pl.DataFrame(self.rows, schema={k: v for k, v in SKELETON_SCHEMA.items() if k not in ("inflate", "doc")})
        return finish_skeletons(df, ctx, rng)


def _pick(rng, cand, k):
    cand = np.unique(np.asarray(cand, dtype=np.int64))
    return np.sort(rng.permutation(cand)[:k])


def plant_skeletons(ctx, sk: pl.DataFrame, cfg: SynthConfig) -> pl.DataFrame:
    rng = rng_for(ctx.seed, 40)
    L = ctx.labels
    y = cfg.year
    jan1, dec31 = days(dt.date(y, 1, 1)), days(dt.date(y, 12, 31))
    p = ctx.persons
    n = len(p)
    pid = p["person_id"].to_numpy()
    age0 = p["age0"].to_numpy()
    hh = p["hh"].to_numpy()
    county = p["county"].to_numpy()
    town = p["township"].to_numpy()
    death = p["death_date"].cast(pl.Int32).fill_null(10**6).to_numpy().astype(np.int64)
    alive = death > dec31 + 400
    has_inp = np.zeros(n, dtype=bool)
    has_inp[sk.filter(pl.col("vt") == 2)["pidx"].to_numpy()] = True
    look = ctx.inst_look
    inst = ctx.institutions
    inst_id = inst["institution_id"].to_numpy()
    k_la = cfg.lookalikes(ctx.n)
    B = _Builder()

    def free(mask):
        return np.flatnonzero(mask & ~ctx.used)

    def use(arr):
        ctx.used[np.asarray(arr, dtype=np.int64)] = True

    def hosp(c, levels=(2, 3)):
        opts = [i for lv in levels for i in look[f"L{lv}"].get(int(c), [])]
        return int(rng.choice(opts))

    def local(t, pharmacy=False):
        return int(rng.choice(look["ph_town" if pharmacy else "hc"][int(t)]))

    # --- CLAIM_AFTER_DEATH ---------------------------------------------------------------
    k = cfg.cases("CLAIM_AFTER_DEATH", ctx.n)
    lo, hi = days(dt.date(y - 1, 6, 1)), days(dt.date(y, 10, 31))
    arr = _pick(rng, free((death >= lo) & (death <= hi)), k)
    use(arr)
    for i in arr:
        g = L.group()
        m = int(rng.integers(1, 6))
        start = max(death[i] + cfg.after_death_days[0], jan1)
        for _ in range(m):
            v = min(start + int(rng.integers(0, cfg.after_death_days[1])), dec31)
            ph = rng.random() < 0.5
            B.add(i, local(town[i], ph), 1 if ph else 0, v, grp=g)
        L.add("CLAIM_AFTER_DEATH", M, "person", pid[i], g, note=f"{m} claim(s) after death on {dt.date(1970, 1, 1) + dt.timedelta(days=int(death[i]))}")
    # look-alike: a stay that began before death and was settled after it
    arr = _pick(rng, free((death >= jan1 + 40) & (death <= dec31) & ~has_inp), k_la)
    use(arr)
    for i in arr:
        g = L.group()
        st = int(rng.integers(3, 11))
        B.add(i, hosp(county[i]), 2, death[i] - st, stay=st, dx="I63.9", grp=g, settle_lag=int(rng.integers(2, 12)))
        L.add("CLAIM_AFTER_DEATH", M, "person", pid[i], g, lookalike=True, note="admitted before death, discharged on the day of death, settled after")

    cand_alive = alive & ~has_inp & (age0 >= 18)
    # --- OVERLAPPING_STAYS ---------------------------------------------------------------
    k = cfg.cases("OVERLAPPING_STAYS", ctx.n)
    arr = _pick(rng, free(cand_alive), k + k_la)
    use(arr)
    for j, i in enumerate(arr):
        g = L.group()
        a_inst = hosp(county[i])
        b_inst = int(rng.choice(look["hc"][int(town[i])] + look["L1"].get(int(county[i]), [])))
        d = jan1 + int(rng.integers(10, 320))
        la = int(rng.integers(6, 13))
        B.add(i, a_inst, 2, d, stay=la, dx="J18.9", grp=g)
        if j < k:
            B.add(i, b_inst, 2, d + int(rng.integers(1, la - 1)), stay=int(rng.integers(3, 9)), dx="K29.7", grp=g)
            L.add("OVERLAPPING_STAYS", M, "person", pid[i], g, note=f"in-patient at {inst_id[a_inst]} and {inst_id[b_inst]} on the same days")
        else:  # transfer: discharged and admitted elsewhere the same day
            B.add(i, b_inst, 2, d + la, stay=int(rng.integers(3, 9)), dx="J18.9", grp=g)
            L.add("OVERLAPPING_STAYS", M, "person", pid[i], g, lookalike=True, note="transfer: discharge and admission on the same day")

    # --- SPLIT_ADMISSION -----------------------------------------------------------------
    k = cfg.cases("SPLIT_ADMISSION", ctx.n)
    arr = _pick(rng, free(cand_alive), k + 2 * k_la)
    use(arr)
    for j, i in enumerate(arr):
        g = L.group()
        h = hosp(county[i], (1, 2, 3))
        d = jan1 + int(rng.integers(5, 200))
        if j < k:
            chain = int(rng.integers(cfg.split_chain[0], cfg.split_chain[1] + 1))
            dx = str(rng.choice(["I63.9", "J44.1", "N18.9", "I50.9"]))
            for _ in range(chain):
                st = int(rng.integers(4, 10))
                B.add(i, h, 2, d, stay=st, dx=dx, grp=g)
                d += st + int(rng.integers(1, 15))
            L.add("SPLIT_ADMISSION", M, "person", pid[i], g, note=f"{chain} admissions to {inst_id[h]} within 15 days of each other, diagnosis {dx}")
        else:
            st = int(rng.integers(4, 10))
            B.add(i, h, 2, d, stay=st, dx="J44.1", grp=g)
            if j < k + k_la:
                B.add(i, h, 2, d + st + int(rng.integers(31, 60)), stay=int(rng.integers(4, 10)), dx="J44.1", grp=g)
                note = "readmitted after more than 30 days"
            else:
                B.add(i, h, 2, d + st + int(rng.integers(2, 14)), stay=int(rng.integers(3, 8)), dx="S72.0", grp=g)
                note = "readmitted within 15 days with a different diagnosis"
            L.add("SPLIT_ADMISSION", M, "person", pid[i], g, lookalike=True, note=note)

    # --- PHANTOM_INPATIENT ---------------------------------------------------------------
    k = cfg.cases("PHANTOM_INPATIENT", ctx.n)
    arr = _pick(rng, free(cand_alive), k + k_la)
    use(arr)
    for j, i in enumerate(arr):
        g = L.group()
        if j < k:
            h = int(rng.choice(look["hc"][int(town[i])] + look["L1"].get(int(county[i]), [])))
            st = int(rng.integers(cfg.phantom_days[0], cfg.phantom_days[1] + 1))
            B.add(i, h, 2, jan1 + int(rng.integers(0, 330)), stay=st, dx="M54.5", grp=g, phantom=True)
            L.add("PHANTOM_INPATIENT", M, "person", pid[i], g, note=f"{st}-day stay billed almost only bed and nursing")
        else:
            h = hosp(county[i])
            B.add(i, h, 2, jan1 + int(rng.integers(0, 350)), stay=1, dx="R51", grp=g, obs=True)
            L.add("PHANTOM_INPATIENT", M, "person", pid[i], g, lookalike=True, note="one-night observation stay with only a bed fee")

    # --- FREQUENT_VISITS -----------------------------------------------------------------
    k = cfg.cases("FREQUENT_VISITS", ctx.n)
    arr = _pick(rng, free(alive & (age0 >= 18)), k + k_la)
    use(arr)
    for j, i in enumerate(arr):
        g = L.group()
        if j < k:
            nd = int(rng.integers(*cfg.frequent_visit_days))
            ds = np.sort(rng.choice(365, size=nd, replace=False))
            places = [local(town[i], True) for _ in range(int(rng.integers(1, 3)))]
            for d in ds:
                B.add(i, places[int(rng.integers(0, len(places)))], 1, jan1 + int(d), dx="I10", grp=g)
            L.add("FREQUENT_VISITS", M, "person", pid[i], g, note=f"{nd} pharmacy visits in the year")
        else:
            ph = local(town[i], True)
            dom = int(rng.integers(1, 25))
            for mth in range(1, 13):
                B.add(i, ph, 1, days(dt.date(y, mth, dom)) + int(rng.integers(0, 3)), dx="E11.9", grp=g)
            L.add("FREQUENT_VISITS", M, "person", pid[i], g, lookalike=True, note="chronic patient on a monthly refill")

    # --- COLLUSIVE_GROUP -----------------------------------------------------------------
    k = cfg.cases("COLLUSIVE_GROUP", ctx.n)
    n_c = len(ctx.pop.counties)
    for j in range(k):
        c = j % n_c
        cand = free(alive & (county == c) & (age0 >= 18))
        cand = rng.permutation(cand)
        _, first = np.unique(hh[cand], return_index=True)  # one person per household
        cand = cand[np.sort(first)]
        size = int(rng.integers(cfg.group_size[0], cfg.group_size[1] + 1))
        mem = np.sort(cand[:size])
        use(mem)
        ts = [t for t in look["hc"] if int(ctx.pop.townships["county"][t]) == c]
        t = int(rng.choice(ts))
        ph = rng.random() < 0.6
        place = local(t, ph)
        nd = int(rng.integers(cfg.group_days[0], cfg.group_days[1] + 1))
        ds = np.sort(rng.choice(365, size=nd, replace=False))
        g = L.group()
        for d in ds:
            att = mem[rng.random(len(mem)) < 0.85]
            if len(att) < 3:
                att = mem
            for i in att:
                B.add(i, place, 1 if ph else 0, jan1 + int(d), grp=g)
        gid = f"G{y}{j + 1:04d}"
        L.add("COLLUSIVE_GROUP", M, "group", gid, g, note=f"{len(mem)} persons of different households at {inst_id[place]} on {nd} days",
              member_ids=[str(pid[i]) for i in mem])
    # look-alike: one household visiting together
    hsz = np.bincount(hh)
    cand = free(alive & (hsz[hh] >= 3))
    hhs = rng.permutation(np.unique(hh[cand]))[:k_la]
    for h_ in np.sort(hhs):
        mem = cand[hh[cand] == h_]
        use(mem)
        g = L.group()
        place = local(town[mem[0]], False)
        for d in np.sort(rng.choice(365, size=int(rng.integers(4, 8)), replace=False)):
            for i in mem:
                B.add(i, place, 0, jan1 + int(d), grp=g)
        L.add("COLLUSIVE_GROUP", M, "group", f"HH{p['household_id'][int(mem[0])]}", g, lookalike=True,
              note="one household visiting together", member_ids=[str(pid[i]) for i in mem])
    # look-alikes at institution level (no records: the entity itself must not be flagged)
    for c, lst in look["L3"].items():
        L.add("INSTITUTION_OUTLIER", M, "institution", inst_id[lst[0]], L.group(), lookalike=True,
              note="level-3 hospital: costs more per visit than clinics, as expected")
    for c, lst in look["busy"].items():
        L.add("INSTITUTION_OUTLIER", M, "institution", inst_id[lst[0]], L.group(), lookalike=True,
              note="busy town pharmacy: many visits at normal cost")

    sk = pl.concat([sk, B.frame(ctx, rng)])

    # --- INSTITUTION_OUTLIER / DOCTOR_OUTLIER: inflated visits --------------------------------
    k = cfg.cases("INSTITUTION_OUTLIER", ctx.n)
    hcs = [lst[0] for _, lst in sorted(look["hc"].items())]
    chosen_i = [int(x) for x in rng.permutation(hcs)[:k]]
    k = cfg.cases("DOCTOR_OUTLIER", ctx.n)
    hos = [i for c in sorted(look["L2"]) for i in look["L2"][c]] + [i for c in sorted(look["L3"]) for i in look["L3"][c]]
    chosen_d = [(int(h), int(rng.integers(0, int(inst["n_doctors"][int(h)])))) for h in rng.permutation(hos)[:k]]
    tags = []
    for h in chosen_i:
        g = L.group()
        tags.append((h, -1, g, int(rng.integers(1, 3))))
        L.add("INSTITUTION_OUTLIER", M, "institution", inst_id[h], g, note="inflated cost, items and drug share per visit")
    for h, d in chosen_d:
        g = L.group()
        tags.append((h, d, g, int(rng.integers(1, 3))))
        L.add("DOCTOR_OUTLIER", M, "doctor", f"{inst_id[h]}-{d:03d}", g, note="inflated drug cost per visit")
    if tags:
        tg = pl.DataFrame(tags, schema={"inst": pl.Int64, "_doc": pl.Int64, "_g": pl.Int64, "_k": pl.Int64}, orient="row")
        u = pl.Series(rng.random(len(sk)))
        sk = sk.with_columns(_u=u).join(tg, on="inst", how="left")
        hit = (pl.col("_g").is_not_null() & pl.col("grp").is_null() & (pl.col("vt") == 0)
               & ((pl.col("_doc") < 0) | (pl.col("_doc") == pl.col("doc"))) & (pl.col("_u") < cfg.outlier_inflated_share))
        sk = sk.with_columns(grp=pl.when(hit).then("_g").otherwise("grp"),
                             inflate=pl.when(hit).then(pl.col("_k") + (pl.col("_u") * 10).cast(pl.Int64) % 2).otherwise("inflate"),
                             kind=pl.when(hit).then(pl.lit("outlier")).otherwise("kind")).drop("_u", "_doc", "_g", "_k")
    return sk.select(list(SKELETON_SCHEMA)).cast(SKELETON_SCHEMA)


def plant_items(ctx, sk: pl.DataFrame, lines: pl.DataFrame, cfg: SynthConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Item-level cases. Returns the skeletons (with new groups) and the edited lines."""
    rng = rng_for(ctx.seed, 41)
    L = ctx.labels
    cat = ctx.catalog_internal
    price = (cat["_price"] * 100).round(0).cast(pl.Int64).to_numpy()
    cap_s = (cat["price_cap"] * 100).round(0).cast(pl.Int64)
    cap = cap_s.to_list()  # None where no cap
    attrs = pl.DataFrame({"item": np.arange(len(cat), dtype=np.int64), "mq": cat["max_qty_per_day"], "cp": cap_s})
    k_la = cfg.lookalikes(ctx.n)
    pinfo = ctx.persons.select("pidx", "person_id", "gender", "age0")
    base = sk.filter(pl.col("grp").is_null() & (pl.col("vt") <= 1)).select("cid", "pidx", "vt", "inst", "visit").join(pinfo, on="pidx")
    used = ctx.used
    base = base.filter(~pl.Series(used[base["pidx"].to_numpy()]))
    base = base.sample(min(len(base), 40_000), shuffle=True, seed=int(rng.integers(1 << 31)))
    taken: set[int] = set()
    new_lines, edits, tags = [], [], []

    def take(df: pl.DataFrame, k: int) -> list[dict]:
        out = []
        for r in df.iter_rows(named=True):
            if len(out) >= k:
                break
            if r["pidx"] in taken:
                continue
            taken.add(r["pidx"])
            used[r["pidx"]] = True
            out.append(r)
        return out

    def add_line(r, code, qty=1.0):
        it = IDX[code]
        pc = int(price[it] if cap[it] is None else min(price[it], cap[it]))
        new_lines.append(dict(cid=r["cid"], item=it, quantity=qty, sdate=r["visit"], src=2, price_c=pc, risk_c=int(round(qty * pc))))

    # GENDER_LIMIT and AGE_LIMIT: add an item the person may not receive
    out_claims = base.filter(pl.col("vt") == 0)
    for r in take(out_claims.filter(pl.col("age0").is_between(25, 70)), cfg.cases("GENDER_LIMIT", ctx.n)):
        code = str(rng.choice(["E008", "D018"])) if r["gender"] == "M" else str(rng.choice(["E007", "D019"]))
        add_line(r, code)
        g = L.group()
        tags.append((r["cid"], g))
        L.add("GENDER_LIMIT", M, "person", r["person_id"], g, note=f"item {code} limited to the other sex")
    kage = cfg.cases("AGE_LIMIT", ctx.n)
    adults = take(out_claims.filter(pl.col("age0") >= 30), (kage + 1) // 2)
    kids = take(out_claims.filter(pl.col("age0") <= 10), kage - len(adults))
    for r in adults + kids:
        code = str(rng.choice(["D016", "D017"])) if r["age0"] >= 30 else "E009"
        add_line(r, code)
        g = L.group()
        tags.append((r["cid"], g))
        L.add("AGE_LIMIT", M, "person", r["person_id"], g, note=f"item {code} outside its age limits (age {r['age0']})")

    # line edits: quantity above the daily limit, price above the cap (and exact-limit look-alikes)
    ln = lines.filter(pl.col("src") == 0).join(base.select("cid", "pidx", "person_id"), on="cid", how="inner")
    ln = ln.join(attrs, on="item", how="left")
    ln = ln.with_row_index("_ln").sample(fraction=1.0, shuffle=True, seed=int(rng.integers(1 << 31)))

    def edit(kind, flt, k, lookalike):
        for r in take(ln.filter(flt), k):
            g = L.group()
            tags.append((r["cid"], g))
            q, pc = r["quantity"], r["price_c"]
            if kind == "qty":
                q = float(r["mq"]) * float(rng.integers(*cfg.excess_qty_factor)) if not lookalike else float(r["mq"])
                if not lookalike and rng.random() < 0.3:
                    q = float(r["mq"]) + float(rng.integers(1, 4))
                risk = 0 if lookalike else int(round((q - r["mq"]) * pc))
            else:
                pc = int(round(r["cp"] * rng.uniform(*cfg.over_price_factor))) if not lookalike else int(r["cp"])
                risk = 0 if lookalike else int(round((pc - r["cp"]) * q))
            edits.append(dict(cid=r["cid"], item=r["item"], sdate=r["sdate"], quantity=float(q), price_c=int(pc), risk_c=int(risk)))
            code = cat["item_code"][int(r["item"])]
            if kind == "qty":
                L.add("EXCESS_QUANTITY", M, "person", r["person_id"], g, lookalike=lookalike,
                      note=f"{code}: {q:g} per day, limit {r['mq']:g}" if not lookalike else f"{code}: exactly the daily limit {r['mq']:g}")
            else:
                L.add("OVER_PRICE", M, "person", r["person_id"], g, lookalike=lookalike,
                      note=f"{code}: {pc / 100:.2f} above the cap {r['cp'] / 100:.2f}" if not lookalike else f"{code}: exactly at the price cap")

    drug_lim = pl.col("mq").is_not_null() & (pl.col("item").is_in([IDX[c] for c in ("D001", "D002", "D003", "D005", "D006", "D008", "D010", "D020")]))
    edit("qty", drug_lim, cfg.cases("EXCESS_QUANTITY", ctx.n), False)
    edit("qty", drug_lim & (pl.col("mq") >= 2), k_la, True)
    edit("price", pl.col("cp").is_not_null(), cfg.cases("OVER_PRICE", ctx.n), False)
    edit("price", pl.col("cp").is_not_null(), k_la, True)
    # DUPLICATE_BILLING: the same line twice on one claim and day (items without a daily limit)
    for r in take(ln.filter(pl.col("mq").is_null()), cfg.cases("DUPLICATE_BILLING", ctx.n)):
        g = L.group()
        tags.append((r["cid"], g))
        new_lines.append(dict(cid=r["cid"], item=r["item"], quantity=r["quantity"], sdate=r["sdate"], src=3,
                              price_c=r["price_c"], risk_c=int(round(r["quantity"] * r["price_c"]))))
        L.add("DUPLICATE_BILLING", M, "person", r["person_id"], g, note=f"{cat['item_code'][int(r['item'])]} billed twice on one day")

    if edits:
        ed = pl.DataFrame(edits).cast({"cid": pl.Int64, "item": pl.Int64, "sdate": pl.Int32, "quantity": pl.Float64,
                                       "price_c": pl.Int64, "risk_c": pl.Int64})
        lines = lines.join(ed.rename({"quantity": "_q", "price_c": "_p", "risk_c": "_r"}), on=["cid", "item", "sdate"], how="left")
        hit = pl.col("_q").is_not_null() & (pl.col("src") == 0)
        lines = lines.with_columns(quantity=pl.when(hit).then("_q").otherwise("quantity"),
                                   price_c=pl.when(hit).then("_p").otherwise("price_c"),
                                   risk_c=pl.when(hit).then("_r").otherwise("risk_c")).drop("_q", "_p", "_r")
    if new_lines:
        nl = pl.DataFrame(new_lines).cast(dict(lines.schema)).select(lines.columns)
        lines = pl.concat([lines, nl])
    if tags:
        tg = pl.DataFrame(tags, schema={"cid": pl.Int64, "_g": pl.Int64}, orient="row")
        sk = sk.join(tg, on="cid", how="left").with_columns(grp=pl.coalesce("grp", "_g")).drop("_g")
    return sk, lines
