"""Institutions, the item catalogue, and a year of claims with their item lines (normal behaviour).

Claims are first drawn as *skeletons* (who, where, when, which kind of visit, plus hints such
as ``phantom`` used by planted cases); item lines are then generated for a set of
skeletons at once (the normal claims, or one planter's claims), and claim money is summed from the lines in integer cents, so that
``amount = quantity × unit_price`` and ``total = Σ items = fund + self`` hold exactly.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from fundwatch.synth.config import SynthConfig
from fundwatch.synth.population import Population, days, rng_for, rng_v2

# code, name, category, gender_limit, min_age, max_age, max_qty_per_day, price (CNY), price_cap
CATALOG = [
    ("S001", "普通门诊诊查费", "service", None, None, None, 1.0, 10.0, 12.0),
    ("S002", "住院诊查费", "service", None, None, None, 1.0, 20.0, 25.0),
    ("S003", "二级护理", "service", None, None, None, 1.0, 28.0, 32.0),
    ("B001", "普通病床床位费", "bed", None, None, None, 1.0, 45.0, 50.0),
    ("B002", "观察床位费", "bed", None, None, None, 1.0, 30.0, 35.0),
    ("D001", "阿莫西林胶囊", "drug", None, None, None, 4.0, 15.5, 18.0),
    ("D002", "头孢克肟分散片", "drug", None, None, None, 3.0, 28.0, 32.0),
    ("D003", "布洛芬缓释胶囊", "drug", None, None, None, 3.0, 12.8, 15.0),
    ("D004", "复方甘草片", "drug", None, None, None, None, 6.0, None),
    ("D005", "硝苯地平控释片", "drug", None, None, None, 3.0, 32.5, 36.0),
    ("D006", "二甲双胍缓释片", "drug", None, None, None, 3.0, 18.0, 22.0),
    ("D007", "阿托伐他汀钙片", "drug", None, None, None, 2.0, 45.0, 52.0),
    ("D008", "奥美拉唑肠溶胶囊", "drug", None, None, None, 3.0, 22.0, 26.0),
    ("D009", "连花清瘟胶囊", "drug", None, None, None, 4.0, 14.0, None),
    ("D010", "蒙脱石散", "drug", None, None, None, 4.0, 10.0, 12.0),
    ("D011", "注射用头孢曲松钠", "drug", None, None, None, 6.0, 8.5, 10.0),
    ("D012", "0.9%氯化钠注射液", "drug", None, None, None, 10.0, 4.2, 5.0),
    ("D013", "丹参注射液", "drug", None, None, None, 4.0, 23.0, None),
    ("D014", "人血白蛋白", "drug", None, None, None, 3.0, 380.0, 420.0),
    ("D015", "甘精胰岛素注射液", "drug", None, None, None, 2.0, 180.0, 200.0),
    ("D016", "小儿氨酚黄那敏颗粒", "drug", None, None, 14, 4.0, 12.0, 15.0),
    ("D017", "小儿止咳糖浆", "drug", None, None, 12, 3.0, 16.0, None),
    ("D018", "黄体酮注射液", "drug", "F", 14, None, 3.0, 3.5, 5.0),
    ("D019", "坦索罗辛缓释胶囊", "drug", "M", 18, None, 2.0, 38.0, 45.0),
    ("D020", "氨氯地平片", "drug", None, None, None, 3.0, 25.0, 28.0),
    ("D021", "注射用奥美拉唑钠", "drug", None, None, None, 3.0, 36.0, 42.0),
    ("E001", "血常规", "exam", None, None, None, None, 20.0, 25.0),
    ("E002", "尿常规", "exam", None, None, None, None, 10.0, 12.0),
    ("E003", "肝功能", "exam", None, None, None, None, 60.0, 70.0),
    ("E004", "胸部CT平扫", "exam", None, None, None, 1.0, 260.0, 300.0),
    ("E005", "腹部B超", "exam", None, None, None, 1.0, 120.0, 140.0),
    ("E006", "心电图", "exam", None, None, None, None, 25.0, 30.0),
    ("E007", "前列腺特异性抗原测定", "exam", "M", 18, None, 1.0, 80.0, 95.0),
    ("E008", "宫颈细胞学检查", "exam", "F", 18, None, 1.0, 90.0, 110.0),
    ("E009", "骨密度测定", "exam", None, 40, None, 1.0, 150.0, 170.0),
    ("E010", "新生儿听力筛查", "exam", None, None, 1, 1.0, 60.0, 70.0),
    ("T001", "静脉输液", "treatment", None, None, None, 4.0, 10.0, 12.0),
    ("T002", "针灸", "treatment", None, None, None, 2.0, 30.0, 35.0),
    ("T003", "雾化吸入", "treatment", None, None, None, 3.0, 15.0, 18.0),
    ("T004", "换药", "treatment", None, None, None, 2.0, 25.0, None),
    ("M001", "一次性输液器", "material", None, None, None, 6.0, 5.0, 6.0),
    ("M002", "一次性注射器", "material", None, None, None, None, 1.2, 1.5),
    ("M003", "静脉留置针", "material", None, None, None, 2.0, 20.0, 24.0),
]
CODES = [c[0] for c in CATALOG]
IDX = {c: i for i, c in enumerate(CODES)}

OUT_DRUGS = (["D001", "D002", "D003", "D004", "D005", "D006", "D007", "D008", "D009", "D010", "D016", "D017",
              "D018", "D019", "D020"],
             [8, 5, 8, 6, 6, 5, 3, 5, 6, 4, 3, 2, 1, 1, 5])
IN_DRUGS = (["D011", "D012", "D013", "D014", "D021", "D008", "D005", "D007", "D002"], [8, 10, 5, 1, 4, 3, 2, 2, 3])
EXPENSIVE = ["D007", "D021", "D013", "D002", "D020"]  # dearer than the usual outpatient drugs
OUT_EXAMS = (["E001", "E002", "E003", "E005", "E006", "E007", "E008", "E009", "E010"], [10, 5, 4, 3, 5, 1, 1, 1, 0.3])
IN_EXAMS = ["E001", "E002", "E003", "E004", "E005", "E006"]
OUT_DX = (["J06.9", "I10", "E11.9", "K29.7", "M54.5", "J20.9", "R51", "L30.9", "N39.0", "H10.9"],
          [20, 10, 6, 8, 8, 10, 4, 5, 4, 3])
IN_DX = (["J18.9", "I63.9", "I25.1", "K80.2", "N18.9", "S72.0", "J44.1", "I50.9", "E11.9", "K35.8"],
         [15, 10, 10, 6, 4, 4, 8, 6, 5, 5])


#: Contract v2 limits of catalogue items: code -> (indication, visit_type_limit, window_days,
#: max_qty_per_window). Chosen so that ordinary claims keep them: D014 (albumin) is only ever
#: billed to in-patients and every claim carrying it gets a cirrhosis diagnosis (see
#: :func:`claims_v2`); D015 (insulin glargine) and T002 (acupuncture courses) are billed by no
#: ordinary claim; the consultation, ward and nursing fees only on their own kind of visit.
#: (The catalogue's rows are those of version 1: a v2 city written as version 1 is exactly
#: the version-1 city.)
CATALOG_V2 = {
    "D014": ("K70;K74;R18;R57;T31", "inpatient", None, None),
    "D015": ("E10;E11;E13;E14", None, None, None),
    "S001": (None, "outpatient", None, None),
    "S002": (None, "inpatient", None, None),
    "S003": (None, "inpatient", None, None),
    "B001": (None, "inpatient", None, None),
    "T002": (None, None, 30, 20.0),  # 针灸: at most 20 sessions in any 30 days
}
#: The diagnosis an ordinary claim carrying an item with an indication is coded with when its
#: own diagnoses miss it (a doctor codes the diagnosis that justifies a restricted drug).
INDICATION_DIAGNOSIS = {"D014": "K74.6", "D015": "E11.9"}


def build_catalog() -> pl.DataFrame:
    cat = pl.DataFrame(
        CATALOG,
        schema={"item_code": pl.String, "item_name": pl.String, "category": pl.String, "gender_limit": pl.String,
                "min_age": pl.Int64, "max_age": pl.Int64, "max_qty_per_day": pl.Float64,
                "_price": pl.Float64, "price_cap": pl.Float64},
        orient="row",
    )
    v2 = pl.DataFrame(
        [(code, *limits) for code, limits in CATALOG_V2.items()],
        schema={"item_code": pl.String, "indication": pl.String, "visit_type_limit": pl.String,
                "window_days": pl.Int64, "max_qty_per_window": pl.Float64},
        orient="row",
    )
    return cat.join(v2, on="item_code", how="left", maintain_order="left")


def build_institutions(pop: Population, seed: int, cfg: SynthConfig) -> tuple[pl.DataFrame, dict]:
    """Institutions (internal columns: inst, county, township, village, n_doctors) and lookups."""
    rng = rng_for(seed, 30)
    rows = []
    county_sizes = pop.persons.group_by("county").len().sort("county")["len"].to_list()
    look = {"vclinic": {}, "hc": {}, "ph_town": {}, "busy": {}, "L1": {}, "L2": {}, "L3": {}}

    def add(kind, level, region, county, township, village, beds, ndoc, name, key, keyval, prefix):
        inst = len(rows)
        cc = region[:6]
        rows.append((inst, f"{prefix}{cc}{inst:05d}", name, kind, level, region, beds, county, township, village, ndoc))
        look[key].setdefault(keyval, []).append(inst)

    towns = pop.townships
    for c in pop.counties["county"].to_list():
        cname = pop.counties["name"][c]
        seat = towns.filter(pl.col("county") == c)["region_code"][0]
        seat_t = int(towns.filter(pl.col("county") == c)["township"][0])
        add("hospital", 3, seat, c, seat_t, -1, int(rng.integers(500, 1200)), int(rng.integers(40, 80)),
            f"{cname}人民医院", "L3", c, "H")
        for j in range(max(2, county_sizes[c] // 50_000)):
            add("hospital", 2, seat, c, seat_t, -1, int(rng.integers(150, 400)), int(rng.integers(12, 30)),
                f"{cname}第{j + 2}人民医院" if j % 2 == 0 else f"{cname}中医医院{j}", "L2", c, "H")
        for j in range(max(1, county_sizes[c] // 80_000)):
            add("hospital", 1, seat, c, seat_t, -1, int(rng.integers(30, 99)), int(rng.integers(5, 10)),
                f"{cname}康宁医院{j + 1}", "L1", c, "H")
        for j in range(cfg.busy_pharmacies_per_county):
            add("pharmacy", 0, seat, c, seat_t, -1, 0, 0, f"{cname}大药房{j + 1}号店", "busy", c, "P")
        for t in towns.filter(pl.col("county") == c).iter_rows(named=True):
            add("clinic", 1, t["region_code"], c, t["township"], -1, int(rng.integers(20, 60)), int(rng.integers(3, 9)),
                f"{cname}第{t['township'] + 1}镇卫生院", "hc", t["township"], "C")
            for j in range(int(rng.integers(cfg.pharmacies_per_township[0], cfg.pharmacies_per_township[1] + 1))):
                add("pharmacy", 0, t["region_code"], c, t["township"], -1, 0, 0,
                    f"第{t['township'] + 1}镇便民药店{j + 1}", "ph_town", t["township"], "P")
        for v in pop.villages.filter((pl.col("county") == c) & pl.col("has_clinic")).iter_rows(named=True):
            add("clinic", 0, v["region_code"], c, v["township"], v["village"], 0, int(rng.integers(1, 3)),
                f"{v['region_code'][-3:]}村卫生室", "vclinic", v["village"], "C")
    inst = pl.DataFrame(
        rows,
        schema={"inst": pl.Int64, "institution_id": pl.String, "name": pl.String, "kind": pl.String, "level": pl.Int64,
                "region_code": pl.String, "beds": pl.Int64, "county": pl.Int64, "township": pl.Int64,
                "village": pl.Int64, "n_doctors": pl.Int64},
        orient="row",
    )
    lv = (0.88, 1.0)
    inst = inst.with_columns(price_factor=pl.Series(rng.uniform(*lv, size=len(inst))))
    return inst, look


def _lookup_array(mapping: dict, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(first index, count) arrays over key 0..size-1 for a dict key -> list of contiguous ids."""
    first = np.full(size, -1, dtype=np.int64)
    cnt = np.zeros(size, dtype=np.int64)
    for k, v in mapping.items():
        first[k] = v[0]
        cnt[k] = len(v)
    return first, cnt


def _choose(first: np.ndarray, cnt: np.ndarray, key: np.ndarray, u: np.ndarray) -> np.ndarray:
    return first[key] + np.minimum((u * cnt[key]).astype(np.int64), np.maximum(cnt[key] - 1, 0))


def claim_skeletons(ctx, cfg: SynthConfig) -> pl.DataFrame:
    """Normal claims: one row per claim with internal columns (no money yet)."""
    rng = rng_for(ctx.seed, 31)
    p = ctx.persons
    n = len(p)
    y = cfg.year
    jan1 = days(dt.date(y, 1, 1))
    age0 = p["age0"].to_numpy()
    death = p["death_date"].cast(pl.Int32).fill_null(10**6).to_numpy().astype(np.int64)
    allowed = np.clip(death - jan1, 0, 365)  # visits strictly before the death date
    frac = allowed / 365.0
    county = p["county"].to_numpy()
    town = p["township"].to_numpy()
    vill = p["village"].to_numpy()
    look = ctx.inst_look
    n_c, n_t, n_v = len(ctx.pop.counties), len(ctx.pop.townships), len(ctx.pop.villages)
    vc_first, _ = _lookup_array(look["vclinic"], n_v)
    hc_first, hc_cnt = _lookup_array(look["hc"], n_t)
    ph_first, ph_cnt = _lookup_array(look["ph_town"], n_t)
    bz_first, bz_cnt = _lookup_array(look["busy"], n_c)
    l1 = _lookup_array(look["L1"], n_c)
    l2 = _lookup_array(look["L2"], n_c)
    l3 = _lookup_array(look["L3"], n_c)
    chronic = (age0 >= 50) & (rng.random(n) < cfg.chronic_share_50plus)
    chronic_dx = np.where(rng.random(n) < 0.6, "I10", "E11.9")
    frames = []
    for vt, (a, b) in enumerate((cfg.outpatient_rate, cfg.pharmacy_rate, cfg.inpatient_rate)):
        lam = (a + b * age0) * frac
        cnt = rng.poisson(lam)
        who = np.repeat(np.arange(n), cnt)
        m = len(who)
        day = (rng.random(m) * allowed[who]).astype(np.int64)
        u = rng.random(m)
        c, t, v = county[who], town[who], vill[who]
        if vt == 0:
            inst = _choose(hc_first, hc_cnt, t, rng.random(m))
            has_vc = vc_first[v] >= 0
            inst = np.where((u < 0.35) & has_vc, vc_first[v], inst)
            inst = np.where((u >= 0.6) & (u < 0.68), _choose(*l1, c, rng.random(m)), inst)
            inst = np.where((u >= 0.68) & (u < 0.88), _choose(*l2, c, rng.random(m)), inst)
            inst = np.where(u >= 0.88, _choose(*l3, c, rng.random(m)), inst)
            dx = np.array(OUT_DX[0])[rng.choice(len(OUT_DX[0]), size=m, p=np.array(OUT_DX[1]) / sum(OUT_DX[1]))]
            dx = np.where(chronic[who] & (rng.random(m) < 0.6), chronic_dx[who], dx)
            stay = np.zeros(m, dtype=np.int64)
        elif vt == 1:
            inst = _choose(ph_first, ph_cnt, t, rng.random(m))
            inst = np.where(u >= 0.75, _choose(bz_first, bz_cnt, c, rng.random(m)), inst)
            dx = np.where(chronic[who] & (rng.random(m) < 0.7), chronic_dx[who], "")
            stay = np.zeros(m, dtype=np.int64)
        else:
            inst = _choose(hc_first, hc_cnt, t, rng.random(m))
            inst = np.where((u >= 0.25) & (u < 0.35), _choose(*l1, c, rng.random(m)), inst)
            inst = np.where((u >= 0.35) & (u < 0.7), _choose(*l2, c, rng.random(m)), inst)
            inst = np.where(u >= 0.7, _choose(*l3, c, rng.random(m)), inst)
            dx = np.array(IN_DX[0])[rng.choice(len(IN_DX[0]), size=m, p=np.array(IN_DX[1]) / sum(IN_DX[1]))]
            stay = rng.integers(cfg.stay_days[0], cfg.stay_days[1] + 1, size=m)
        frames.append(pl.DataFrame({
            "pidx": who.astype(np.int64), "inst": inst.astype(np.int64), "vt": np.full(m, vt, dtype=np.int8),
            "visit": (jan1 + day).astype(np.int32), "stay": stay, "dx": pl.Series(dx.astype(str)),
        }).with_columns(dx=pl.when(pl.col("dx") == "").then(None).otherwise(pl.col("dx"))))
    sk = pl.concat(frames)
    # normal in-patient stays: never overlapping, never a readmission within the gap, over before death
    inp = sk.filter(pl.col("vt") == 2).with_columns(disc=pl.col("visit") + pl.col("stay").cast(pl.Int32)).sort(["pidx", "visit"])
    inp = inp.with_columns(prev=pl.col("disc").cum_max().shift(1).over("pidx"))
    inp = inp.filter((pl.col("prev").is_null() | (pl.col("visit") >= pl.col("prev") + cfg.normal_stay_gap_days))
                     & (pl.col("disc") < pl.Series(death.astype(np.int32)[inp["pidx"].to_numpy()])))
    # nobody lying in a ward visits a clinic or pharmacy elsewhere: an ordinary visit that fell
    # strictly inside the person's own stay is moved to the admission day (the referral visit);
    # dates move, no row is added or dropped, so every random draw below stays as it was
    stays = inp.select("pidx", _a=pl.col("visit"), _d=pl.col("disc")).sort("_a")
    others = (
        sk.filter(pl.col("vt") != 2).with_row_index("_r").sort("visit")
        .join_asof(stays, left_on="visit", right_on="_a", by="pidx", strategy="backward",
                   allow_exact_matches=False, check_sortedness=False)
        .with_columns(visit=pl.when(pl.col("_a").is_not_null() & (pl.col("visit") < pl.col("_d")))
                      .then(pl.col("_a")).otherwise(pl.col("visit")))
        .sort("_r").drop("_r", "_a", "_d")
    )
    sk = pl.concat([others, inp.drop("disc", "prev")])
    return finish_skeletons(sk, ctx, rng)


SKELETON_SCHEMA = {"pidx": pl.Int64, "inst": pl.Int64, "vt": pl.Int8, "visit": pl.Int32, "stay": pl.Int64,
                   "dx": pl.String, "grp": pl.Int64, "phantom": pl.Boolean, "obs": pl.Boolean, "inflate": pl.Int64,
                   "settle_lag": pl.Int64, "doc": pl.Int64, "kind": pl.String}
#: contract v2 values a planter may set on its own claims and item lines (null: generated as
#: usual). They travel beside the skeletons and lines in small frames keyed by claim (and item
#: and day), never as columns of the whole city's claims and lines.
PLANTED_CLAIM_V2 = {"admission_id": pl.String, "readmission_planned": pl.Boolean, "secondary_diagnoses": pl.String}
PLANTED_LINE_V2 = {"trace_code": pl.String, "days_supply": pl.Int64}


def finish_skeletons(sk: pl.DataFrame, ctx, rng: np.random.Generator, doc: np.ndarray | None = None) -> pl.DataFrame:
    """Add defaults for planting hints, the doctor and the settlement lag."""
    m = len(sk)
    nd = ctx.institutions["n_doctors"].to_numpy()[sk["inst"].to_numpy()]
    d = (rng.random(m) * nd).astype(np.int64) if doc is None else doc
    cols = {
        "grp": pl.lit(None, pl.Int64), "phantom": pl.lit(False), "obs": pl.lit(False), "inflate": pl.lit(0, pl.Int64),
        "settle_lag": pl.Series(np.where(sk["vt"].to_numpy() == 2, rng.integers(0, 3, size=m), 0)),
        "doc": pl.Series(np.where(nd > 0, d, -1)),
        "kind": pl.lit("normal"),
    }
    sk = sk.with_columns(**{k: v for k, v in cols.items() if k not in sk.columns})
    return sk.select(list(SKELETON_SCHEMA)).cast(SKELETON_SCHEMA)


def _lines(cid: np.ndarray, code: np.ndarray | str, qty: np.ndarray | float, date: np.ndarray, src: int = 0) -> pl.DataFrame:
    m = len(cid)
    codes = np.full(m, IDX[code]) if isinstance(code, str) else np.array([IDX[c] for c in code]) if code.dtype.kind in "US" else code
    return pl.DataFrame({
        "cid": cid.astype(np.int64), "item": np.asarray(codes, dtype=np.int64),
        "quantity": np.broadcast_to(np.asarray(qty, dtype=np.float64), (m,)).copy(),
        "sdate": np.asarray(date, dtype=np.int32), "src": np.full(m, src, dtype=np.int8),
    })


def _pool_choice(rng, pool, m) -> np.ndarray:
    codes, w = pool
    w = np.asarray(w, dtype=float)
    return np.array([IDX[c] for c in codes])[rng.choice(len(codes), size=m, p=w / w.sum())]


def generate_items(sk: pl.DataFrame, ctx, cfg: SynthConfig, rng: np.random.Generator | None = None) -> pl.DataFrame:
    """Item lines for every skeleton (``sk`` must carry ``cid`` = its row number).

    ``rng``: the stream to draw from (default the normal claims' own); planted claims are
    given their planter's stream so that their items do not depend on anything else.
    """
    rng = rng_for(ctx.seed, 32) if rng is None else rng
    cat = ctx.catalog_internal
    maxq = cat["max_qty_per_day"].fill_null(99).to_numpy()
    cid = sk["cid"].to_numpy()
    vt = sk["vt"].to_numpy()
    visit = sk["visit"].to_numpy().astype(np.int64)
    stay = sk["stay"].to_numpy()
    phantom = sk["phantom"].to_numpy()
    obs = sk["obs"].to_numpy()
    out = []

    def drug_qty(items):
        q = 1 + (rng.random(len(items)) < 0.4).astype(np.int64)
        return np.minimum(q, maxq[items]).astype(float)

    o = vt == 0
    out.append(_lines(cid[o], "S001", 1.0, visit[o]))
    op = vt <= 1
    nd = 1 + rng.binomial(2, 0.45, size=op.sum())
    c_rep = np.repeat(cid[op], nd)
    d_rep = np.repeat(visit[op], nd)
    it = _pool_choice(rng, OUT_DRUGS, len(c_rep))
    out.append(_lines(c_rep, it, drug_qty(it), d_rep))
    ex = o & (rng.random(len(o)) < 0.3)
    it = _pool_choice(rng, OUT_EXAMS, ex.sum())
    out.append(_lines(cid[ex], it, 1.0, visit[ex]))
    tr = o & (rng.random(len(o)) < 0.15)
    q = rng.integers(1, 3, size=tr.sum()).astype(float)
    out.append(_lines(cid[tr], "T001", q, visit[tr]))
    out.append(_lines(cid[tr], "M001", q, visit[tr]))
    # in-patients: per day bed, nursing and ward rounds; drugs and infusions; exams on day one
    ip = vt == 2
    L = np.where(ip, stay, 0)
    c_day = np.repeat(cid, L)
    day0 = np.repeat(visit, L)
    off = np.arange(len(c_day)) - np.repeat(np.cumsum(L) - L, L)
    dd = day0 + off
    ob = np.repeat(obs, L)
    ph = np.repeat(phantom, L)
    out.append(_lines(c_day, np.where(ob, IDX["B002"], IDX["B001"]), 1.0, dd))
    out.append(_lines(c_day[~ob], "S003", 1.0, dd[~ob]))
    out.append(_lines(c_day[~ob], "S002", 1.0, dd[~ob]))
    full = ~ob & ~ph
    k = 2 + (rng.random(full.sum()) < 0.5)
    c2 = np.repeat(c_day[full], k)
    d2 = np.repeat(dd[full], k)
    it = _pool_choice(rng, IN_DRUGS, len(c2))
    q = np.minimum(rng.integers(1, 4, size=len(c2)), maxq[it]).astype(float)
    out.append(_lines(c2, it, q, d2))
    q = rng.integers(1, 3, size=full.sum()).astype(float)
    out.append(_lines(c_day[full], "T001", q, dd[full]))
    out.append(_lines(c_day[full], "M001", q, dd[full]))
    ipf = ip & ~obs & ~phantom
    for e in IN_EXAMS:
        sel = ipf & (rng.random(len(ipf)) < 0.6)
        out.append(_lines(cid[sel], e, 1.0, visit[sel]))
    # phantom stays: one cheap drug on day one
    out.append(_lines(cid[phantom], "D004", 1.0, visit[phantom]))
    lines = pl.concat(out)
    del out
    # catalogue limits: a normal line never breaks a gender or age limit (with a margin).
    # cid is the skeleton's row number, so per-claim facts are plain array gathers.
    lc = lines["cid"].to_numpy()
    item = lines["item"].to_numpy().copy()
    qty = lines["quantity"].to_numpy().copy()
    pidx = sk["pidx"].to_numpy()[lc]
    male = (ctx.persons["gender"].to_numpy() == "M")[pidx]
    age = ctx.persons["age0"].to_numpy()[pidx]
    g_lim = cat["gender_limit"].to_numpy()
    mn = cat["min_age"].fill_null(-1000).to_numpy()
    mx = cat["max_age"].fill_null(1000).to_numpy()
    is_drug = (cat["category"] == "drug").to_numpy()
    bad = ((g_lim[item] == "M") & ~male) | ((g_lim[item] == "F") & male) | (age < mn[item] + 2) | (age > mx[item] - 2)
    item[bad] = np.where(is_drug[item[bad]], IDX["D004"], IDX["E001"])
    qty[bad] = 1.0
    sdate = lines["sdate"].to_numpy().astype(np.int64)
    src = lines["src"].to_numpy().astype(np.int64)
    del lines, pidx, male, age  # keep the peak low at a million persons
    # one line per (claim, item, day): repeated lines would be duplicate billing; keep the first
    key = (lc.astype(np.int64) << 20) | (item << 13) | (sdate - sdate.min())
    order = np.lexsort((src, key))
    ks = key[order]
    keep = order[np.r_[True, ks[1:] != ks[:-1]]]
    del key, order, ks
    keep.sort()
    lc, item, qty, sdate, src = lc[keep], item[keep], qty[keep], sdate[keep], src[keep]
    del keep
    return _priced(ctx, sk["inst"].to_numpy()[lc], lc, item, qty, sdate, src)


def _priced(ctx, inst: np.ndarray, cid, item, qty, sdate, src) -> pl.DataFrame:
    """Lines with prices (the institution's factor, never above the cap) and money at risk."""
    cat = ctx.catalog_internal
    pf = ctx.institutions["price_factor"].to_numpy()[inst]
    base_c = np.round(cat["_price"].to_numpy()[item] * 100 * pf).astype(np.int64)
    cap_c = np.round(cat["price_cap"].fill_null(1e9).to_numpy() * 100).astype(np.int64)[item]
    price_c = np.minimum(base_c, cap_c)
    risk_c = np.where(src == 1, np.round(qty * price_c), 0).astype(np.int64)
    return pl.DataFrame({"cid": np.asarray(cid, dtype=np.int64), "item": np.asarray(item, dtype=np.int64),
                         "quantity": np.asarray(qty, dtype=np.float64), "sdate": np.asarray(sdate).astype(np.int32),
                         "src": np.asarray(src).astype(np.int8), "price_c": price_c, "risk_c": risk_c})


def inflated_lines(sk: pl.DataFrame, ctx, rng: np.random.Generator) -> pl.DataFrame:
    """Extra dear drug lines (``src`` 1, whole amount at risk) for claims with ``inflate`` > 0.

    ``sk`` needs ``cid, inst, visit, inflate``. One line per (claim, item, day) at most; a line
    the claim already has is dropped when the lines are put together (the normal one stays).
    """
    cat = ctx.catalog_internal
    maxq = cat["max_qty_per_day"].fill_null(99).to_numpy()
    inflate = sk["inflate"].to_numpy()
    cid = np.repeat(sk["cid"].to_numpy(), inflate)
    inst = np.repeat(sk["inst"].to_numpy(), inflate)
    visit = np.repeat(sk["visit"].to_numpy().astype(np.int64), inflate)
    item = np.array([IDX[c] for c in EXPENSIVE])[rng.integers(0, len(EXPENSIVE), size=len(cid))]
    qty = np.minimum(rng.integers(1, 3, size=len(cid)), maxq[item]).astype(float)
    lines = _priced(ctx, inst, cid, item, qty, visit, np.ones(len(cid), dtype=np.int64))
    return lines.unique(["cid", "item", "sdate"], keep="first", maintain_order=True)


def finalize_medical(parts: dict, ctx, cfg: SynthConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Claim ids, line numbers, money; returns (claims, claim_items) with internal grp/risk on claims.

    ``parts`` holds ``sk`` and ``lines`` and is emptied, so the big frames can be freed early.
    """
    sk, lines = parts.pop("sk"), parts.pop("lines")
    line_v2, claim_v2 = parts.pop("line_v2", None), parts.pop("claim_v2", None)
    y = cfg.year
    cat = ctx.catalog_internal.with_row_index("item").with_columns(pl.col("item").cast(pl.Int64))
    sk = sk.sort(["visit", "inst", "pidx", "cid"]).with_columns(
        claim_id=pl.lit(f"JS{y}") + pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(10)
    )
    # claim order = id order; lines follow it, numbered within their claim
    rank = np.empty(len(sk), dtype=np.int64)
    rank[sk["cid"].to_numpy()] = np.arange(len(sk))
    lines = lines.with_columns(rk=pl.Series(rank[lines["cid"].to_numpy()])).drop("cid").sort(["rk", "sdate", "src", "item"])
    if line_v2 is not None:
        line_v2 = line_v2.with_columns(rk=pl.Series(rank[line_v2["cid"].to_numpy()], dtype=pl.Int64)).drop("cid")
    if claim_v2 is not None:
        claim_v2 = claim_v2.with_columns(rk=pl.Series(rank[claim_v2["cid"].to_numpy()], dtype=pl.Int64)).drop("cid")
    del rank
    rk = lines["rk"].to_numpy()
    starts = np.flatnonzero(np.r_[True, rk[1:] != rk[:-1]])
    counts = np.diff(np.r_[starts, len(rk)])
    line_no = np.arange(len(rk)) - np.repeat(starts, counts) + 1
    claim_ids = sk["claim_id"]
    lines = lines.with_columns(
        claim_id=claim_ids.gather(rk),
        line_no=pl.Series(line_no),
        amount_c=(pl.col("quantity") * pl.col("price_c")).round(0).cast(pl.Int64),
    )
    # sk row i is the claim of rank i: per-claim sums are bincounts (exact: cents < 2**53)
    total_c = np.bincount(rk, weights=lines["amount_c"].to_numpy(), minlength=len(sk)).round().astype(np.int64)
    risk_c = np.bincount(rk, weights=lines["risk_c"].to_numpy(), minlength=len(sk)).round().astype(np.int64)
    del rk, starts, counts, line_no
    inst = ctx.institutions.select("inst", "institution_id", "level", n_doc="n_doctors")
    rate = cfg.fund_rate
    sk = sk.with_columns(total_c=pl.Series(total_c), risk_c=pl.Series(risk_c)).join(
        inst, on="inst", how="left", maintain_order="left")
    fr = pl.col("vt").replace_strict({0: rate["outpatient"], 1: rate["pharmacy"], 2: rate["inpatient"]}, return_dtype=pl.Float64)
    fr = pl.when((pl.col("vt") == 2) & (pl.col("level") == 3)).then(fr - 0.1).otherwise(fr)
    sk = sk.with_columns(fund_c=(pl.col("total_c") * fr).floor().cast(pl.Int64))
    disc = pl.when(pl.col("vt") == 2).then(pl.col("visit") + pl.col("stay").cast(pl.Int32)).otherwise(None)
    p = ctx.persons.select("pidx", "person_id")
    claims = sk.join(p, on="pidx", how="left", maintain_order="left").with_columns(
        doctor_id=pl.when(pl.col("doc") >= 0).then(pl.col("institution_id") + "-" + pl.col("doc").cast(pl.String).str.zfill(3)).otherwise(None),
        visit_type=pl.col("vt").replace_strict({0: "outpatient", 1: "pharmacy", 2: "inpatient"}, return_dtype=pl.String),
        visit_date=pl.col("visit").cast(pl.Date),
        discharge_date=disc.cast(pl.Date),
        settle_date=(pl.coalesce(disc, pl.col("visit")) + pl.col("settle_lag").cast(pl.Int32)).cast(pl.Date),
        diagnosis_code=pl.col("dx"),
        total_amount=pl.col("total_c") / 100,
        fund_amount=pl.col("fund_c") / 100,
        self_amount=(pl.col("total_c") - pl.col("fund_c")) / 100,
        risk=pl.col("risk_c") / 100,
    )
    # contract v2 columns (their own random streams: nothing above changes)
    claims = claims_v2(claims, lines.select("rk", "item"), ctx.institutions["kind"].to_numpy(), ctx.seed)
    if claim_v2 is not None:
        # the planters' own values win where they set one (row i is the claim of rank i)
        for name in PLANTED_CLAIM_V2:
            given = claim_v2.filter(pl.col(name).is_not_null())
            if given.height:
                claims = claims.with_columns(claims[name].scatter(given["rk"], given[name]))
    trace_code, days_supply = items_v2(
        lines["rk"].to_numpy(), lines["item"].to_numpy(), lines["quantity"].to_numpy(), sk["vt"].to_numpy(),
        sk["grp"].is_not_null().to_numpy(), cat["category"].to_numpy(), ctx.seed,
    )
    if line_v2 is not None and line_v2.height:
        # the planters' own values win (their claims get none generated): scattered at the
        # rows of their lines, found by one join of the few planted keys
        at = (lines.select("rk", "item", "sdate").with_row_index("_row")
              .join(line_v2, on=["rk", "item", "sdate"], how="inner").sort("_row"))
        trace_code = trace_code.scatter(at["_row"], at["trace_code"])
        days_supply = days_supply.scatter(at["_row"], at["days_supply"])
    item = lines["item"]
    items = lines.select(
        "claim_id", "line_no", cat["item_code"].gather(item).alias("item_code"),
        cat["item_name"].gather(item).alias("item_name"), cat["category"].gather(item).alias("category"),
        "quantity", (pl.col("price_c") / 100).alias("unit_price"), (pl.col("amount_c") / 100).alias("amount"),
        pl.col("sdate").cast(pl.Date).alias("service_date"),
        trace_code, days_supply,
    )
    return claims, items


# ---------------------------------------------------------------------------- contract v2
def institutions_ownership(inst: pl.DataFrame, seed: int) -> pl.Series:
    """``ownership`` (所有制): pharmacies and the private 康宁 hospitals ``private``, the county
    hospitals, health centres and village clinics ``public``; a few left empty."""
    rng = rng_v2(seed, "institutions.v2")
    own = inst.select(
        pl.when((pl.col("kind") == "pharmacy") | pl.col("name").str.contains("康宁医院", literal=True))
        .then(pl.lit("private")).otherwise(pl.lit("public"))
    ).to_series()
    return pl.select(pl.when(pl.Series(rng.random(len(inst)) >= 0.05)).then(own)).to_series().alias("ownership")


#: Items priced by hospital level (医疗服务价格): in-patient services only, so that no planted
#: out-patient price case depends on them. Level ``l`` may charge up to ``LEVEL_CAP_SHARE[l]``
#: of the catalogue cap (never below the item's list price); the caps of the first half of the
#: year are ``OLD_CAP_SHARE`` of the current ones (a price rise on 1 July).
PRICED_BY_LEVEL = ("S002", "S003", "B001", "E004")
LEVEL_CAP_SHARE = {0: 0.85, 1: 0.85, 2: 0.92, 3: 1.0}
OLD_CAP_SHARE = 0.95


def build_item_prices(catalog: pl.DataFrame, cfg: SynthConfig) -> pl.DataFrame:
    """``item_prices`` rows: per priced item and level, the cap until 30 June and from 1 July.

    Every cap is at least the item's list price, which no ordinary line exceeds (ordinary
    prices are the list price times a factor ≤ 1), so ordinary claims respect them.
    """
    y = cfg.year
    rows = []
    cat = catalog.filter(pl.col("item_code").is_in(list(PRICED_BY_LEVEL))).select("item_code", "_price", "price_cap")
    for code, price, cap in cat.iter_rows():
        for level, share in LEVEL_CAP_SHARE.items():
            new = max(price, round(cap * share, 1))
            old = max(price, round(new * OLD_CAP_SHARE, 1))
            rows.append((code, level, dt.date(y - 1, 1, 1), dt.date(y, 6, 30), old))
            rows.append((code, level, dt.date(y, 7, 1), None, new))
    return pl.DataFrame(
        rows,
        schema={"item_code": pl.String, "level": pl.Int64, "valid_from": pl.Date, "valid_to": pl.Date,
                "price_cap": pl.Float64},
        orient="row",
    ).sort("item_code", "level", "valid_from")


#: Comorbidities coded as secondary diagnoses (其他诊断) and their weights.
COMORBID = (["I10", "E11.9", "I25.1", "J44.1", "N18.9", "E78.5", "K21.0", "I48.9", "M81.9"],
            [10, 6, 4, 3, 2, 4, 2, 2, 2])
#: share of claims with secondary diagnoses: in-patient, out-patient
SECONDARY_SHARE = {2: 0.55, 0: 0.12}
DEPARTMENTS = {
    "J06": "呼吸内科", "J18": "呼吸内科", "J20": "呼吸内科", "J44": "呼吸内科", "I10": "心血管内科",
    "I25": "心血管内科", "I50": "心血管内科", "I63": "神经内科", "R51": "神经内科", "K29": "消化内科",
    "K35": "普外科", "K80": "普外科", "N18": "肾内科", "N39": "泌尿外科", "S72": "骨科", "M54": "骨科",
    "E11": "内分泌科", "L30": "皮肤科", "H10": "眼科",
}


def claims_v2(claims: pl.DataFrame, lines: pl.DataFrame, inst_kind: np.ndarray, seed: int) -> pl.DataFrame:
    """``claims`` (internal columns ``vt``, ``inst``, ``dx``, ``grp``; row i = claim rank i) with
    ``admission_id``, ``secondary_diagnoses``, ``department``, ``readmission_planned``.

    Every in-patient claim is one admission of its own (planted ones too: a planted split
    admission is several registered admissions); a share of claims carries comorbidities; a
    claim billing an item with an indication its diagnoses miss gets the diagnosis that
    justifies it (:data:`INDICATION_DIAGNOSIS`), on every claim, so no restricted item appears
    unjustified unless a planter makes it so. Department from the diagnosis at hospitals,
    全科 at clinics, none at pharmacies. ``readmission_planned`` is false or not recorded.
    Text is only built for the claims that carry it (strings for 10M claims cost seconds).
    """
    rng = rng_v2(seed, "claims.v2")
    n = claims.height
    vt = claims["vt"].to_numpy()
    inpatient = pl.col("vt") == 2
    # admission ids: per institution, numbered in claim order
    admission = pl.when(inpatient).then(
        pl.lit("ZY") + pl.col("inst").cast(pl.String).str.zfill(5) + pl.col("visit_date").dt.year().cast(pl.String)
        + (pl.int_range(pl.len()).over("inst") + 1).cast(pl.String).str.zfill(5)
    )
    # comorbidities: up to three distinct codes, none equal to the principal diagnosis
    codes, w = COMORBID
    pick = rng.choice(len(codes), size=(n, 3), p=np.asarray(w) / sum(w))
    share = np.select([vt == 2, vt == 0], [SECONDARY_SHARE[2], SECONDARY_SHARE[0]], 0.0)
    k = np.where(rng.random(n) < share, rng.integers(1, 4, size=n), 0)
    k = np.where(vt == 2, k, np.minimum(k, 1))
    pick[:, 1] = np.where((k > 1) & (pick[:, 1] != pick[:, 0]), pick[:, 1], -1)
    pick[:, 2] = np.where((k > 2) & (pick[:, 2] != pick[:, 0]) & (pick[:, 2] != pick[:, 1]), pick[:, 2], -1)
    pick[:, 0] = np.where(k > 0, pick[:, 0], -1)
    has = np.flatnonzero(k > 0)
    code_s = pl.Series(codes, dtype=pl.String)
    dx_has = claims["dx"].gather(has)
    parts = []
    for j in range(3):
        idx = pick[has, j]
        part = code_s.gather(np.maximum(idx, 0)).zip_with(pl.Series(idx >= 0), pl.repeat(None, len(has), dtype=pl.String, eager=True))
        parts.append(pl.select(pl.when(part != dx_has.fill_null("")).then(part)).to_series().alias(f"_s{j}"))
    sec = pl.repeat(None, n, dtype=pl.String, eager=True).scatter(
        has, pl.DataFrame(parts).select(pl.concat_str(pl.all(), separator=";", ignore_nulls=True)).to_series()
    )
    sec = pl.select(pl.when(sec.str.len_bytes() > 0).then(sec)).to_series()
    # restricted items justified by a diagnosis (few claims: done on those only)
    ind = pl.DataFrame(
        [(IDX[c], CATALOG_V2[c][0], d) for c, d in INDICATION_DIAGNOSIS.items()],
        schema={"item": pl.Int64, "_ind": pl.String, "_fix": pl.String}, orient="row",
    )
    need = lines.select("rk", "item").join(ind, on="item", how="inner").unique(["rk", "item"]).sort("rk", "item")
    if need.height:
        rk = need["rk"]
        diag = need.with_columns(_dx=claims["dx"].gather(rk), _sec=sec.gather(rk)).with_row_index("_n").with_columns(
            _d=pl.concat_list([pl.col("_dx"), pl.col("_sec").str.split(";")]).list.drop_nulls(),
            _p=pl.col("_ind").str.split(";"),
        )
        met = (
            diag.select("_n", "_d", "_p").explode("_d").explode("_p")
            .group_by("_n").agg(pl.col("_d").str.starts_with(pl.col("_p")).fill_null(False).any().alias("_met"))
        )
        fixes = (
            diag.join(met, on="_n", how="left").filter(~pl.col("_met").fill_null(False))
            .group_by("rk").agg(pl.col("_fix").unique(maintain_order=True).str.join(";"), pl.col("_sec").first())
            .sort("rk")
        )
        if fixes.height:
            fixed = fixes.select(pl.concat_str(["_sec", "_fix"], separator=";", ignore_nulls=True)).to_series()
            sec = sec.scatter(fixes["rk"], fixed)
    dept = pl.col("dx").str.slice(0, 3).replace_strict(DEPARTMENTS, default="内科", return_dtype=pl.String)
    kind = pl.Series(inst_kind[claims["inst"].to_numpy()])
    planned = rng.random(n) < 0.7
    generated = {
        "admission_id": admission,
        "secondary_diagnoses": sec,
        "department": pl.when(kind == "pharmacy").then(None).when(kind == "clinic").then(pl.lit("全科")).otherwise(dept),
        "readmission_planned": pl.when(inpatient & pl.Series(planned)).then(pl.lit(False)),
    }
    return claims.with_columns(keep_planted(claims, generated))


def keep_planted(frame: pl.DataFrame, generated: dict) -> list[pl.Expr]:
    """``generated`` v2 columns, except that a value a planter already put in ``frame`` (the
    column exists and the value is not null) wins: planters of the v2 types set their own."""
    return [
        (pl.coalesce(pl.col(name), expr) if name in frame.columns else expr).alias(name)
        for name, expr in generated.items()
    ]


#: days of use one package of a drug covers (default :data:`DAYS_PER_PACK_DEFAULT`)
DAYS_PER_PACK = {"D005": 7, "D006": 7, "D007": 7, "D020": 7, "D015": 10, "D011": 1, "D012": 1, "D013": 1,
                 "D014": 1, "D021": 1}
DAYS_PER_PACK_DEFAULT = 3
#: share of single-package out-patient and pharmacy drug lines whose package code was scanned
TRACE_SCANNED_SHARE = 0.85


def items_v2(rk: np.ndarray, item: np.ndarray, quantity: np.ndarray, vt: np.ndarray, planted: np.ndarray,
             category: np.ndarray, seed: int) -> tuple[pl.Series, pl.Series]:
    """``trace_code`` and ``days_supply`` of every item line (arrays by line; ``vt``/``planted``
    by claim rank, indexed through ``rk``).

    Drug lines of ordinary claims only (a planter decides for its own): a single package sold
    at an out-patient visit or a pharmacy carries its traceability code (most of them: not
    every package is scanned), each code unique, so one package is sold once; ``days_supply``
    is packages × days per package at out-patient visits and pharmacies, 1 for a day's
    in-patient dispensing.
    """
    rng = rng_v2(seed, "claim_items.v2")
    m = len(rk)
    drug = (category == "drug")[item] & ~planted[rk]
    visit = vt[rk]
    scanned = drug & (visit <= 1) & (quantity == 1.0) & (rng.random(m) < TRACE_SCANNED_SHARE)
    product = (np.asarray(item, dtype=np.int64) * 7919 + 104729) % 10**6
    offset = int(rng.integers(0, 10**12))
    serial = (np.arange(m, dtype=np.int64) * 7_777_777_777 + offset) % 10**13  # distinct: 7_777_777_777 is coprime to 10
    at = np.flatnonzero(scanned)  # strings only for the scanned lines
    codes = (
        pl.DataFrame({"p": product[at], "s": serial[at]})
        .select(pl.lit("8") + pl.col("p").cast(pl.String).str.zfill(6) + pl.col("s").cast(pl.String).str.zfill(13))
        .to_series()
    )
    trace = pl.repeat(None, m, dtype=pl.String, eager=True).scatter(at, codes).alias("trace_code")
    per_pack = np.full(len(category), DAYS_PER_PACK_DEFAULT, dtype=np.int64)
    for code, d in DAYS_PER_PACK.items():
        per_pack[IDX[code]] = d
    supply = np.where(visit == 2, 1, np.round(quantity * per_pack[item]).astype(np.int64))
    days_supply = pl.select(pl.when(pl.Series(drug)).then(pl.Series(supply, dtype=pl.Int64))).to_series().alias("days_supply")
    return trace, days_supply
