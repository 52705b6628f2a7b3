"""Regions, households, persons, deaths, officials, assets and land of the synthetic city.

Everything is vectorised with numpy; the only Python loops run over counties, townships
and villages (a few thousand at most), never over persons.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from fundwatch.idnumber import CHECK_CHARS, WEIGHTS
from fundwatch.synth.config import SynthConfig

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏建国峰辉林志文淑珍春梅海燕凤云飞雪琴波宇浩成德福贵荣祥兴庆永安刚毅佳欣怡晨阳"
)
COUNTY_SUFFIXES = ["02", "03", "04", "11", "21", "22", "81", "82", "83", "23", "24", "25", "26", "27", "28"]
COUNTY_NAMES = ["自流井区", "贡井区", "大安区", "沿滩区", "荣县", "富顺县", "东兴区", "西林区", "南山区",
                "北川县", "青溪县", "白云县", "红岩县", "石桥县", "金沙县"]
DEATH_SOURCES = ["殡葬", "公安", "卫健"]
CIVIL_ORGS = ["县人民政府办公室", "县财政局", "县民政局", "县农业农村局", "县医疗保障局", "县公安局", "乡镇人民政府"]
PUBLIC_ORGS = ["县第一中学", "镇中心小学", "县人民医院", "乡镇卫生院", "县农业技术推广站", "县疾控中心"]


def rng_for(seed: int, stream: int) -> np.random.Generator:
    """An independent, reproducible random stream per (seed, part of the city)."""
    return np.random.default_rng([int(seed), int(stream)])


def days(d: dt.date) -> int:
    """Days since 1970-01-01 (polars' Date physical value)."""
    return (d - dt.date(1970, 1, 1)).days


def to_date_series(name: str, day_numbers: np.ndarray) -> pl.Series:
    return pl.Series(name, np.asarray(day_numbers, dtype=np.int32)).cast(pl.Date)


def check_chars(first17: np.ndarray) -> np.ndarray:
    """GB 11643 check characters for int64 numbers holding the first 17 digits."""
    total = np.zeros(len(first17), dtype=np.int64)
    rest = first17.astype(np.int64).copy()
    for w in reversed(WEIGHTS):  # least significant digit has the last weight
        total += (rest % 10) * w
        rest //= 10
    return np.array(list(CHECK_CHARS))[total % 11]


def id_strings(county_code: np.ndarray, ymd: np.ndarray, seq: np.ndarray, valid: bool = True) -> pl.Series:
    """Identity numbers from their parts; ``valid=False`` gives a wrong check character."""
    first17 = county_code.astype(np.int64) * 10**11 + ymd.astype(np.int64) * 1000 + seq.astype(np.int64)
    chk = check_chars(first17)
    if not valid:
        nxt = {c: CHECK_CHARS[(CHECK_CHARS.index(c) + 1) % 11] for c in CHECK_CHARS}
        chk = np.array([nxt[c] for c in chk]) if len(chk) else chk
    body = pl.Series(first17).cast(pl.String).str.zfill(17)
    return body + pl.Series(chk.astype(str) if len(chk) else np.array([], dtype=str))


def random_names(rng: np.random.Generator, n: int, surname_idx: np.ndarray | None = None) -> pl.Series:
    if surname_idx is None:
        surname_idx = rng.integers(0, len(SURNAMES), n)
    g1 = rng.integers(0, len(GIVEN_CHARS), n)
    g2 = rng.integers(0, len(GIVEN_CHARS), n)
    two = rng.random(n) < 0.7
    s = pl.Series(SURNAMES).gather(surname_idx) + pl.Series(GIVEN_CHARS).gather(g1)
    second = pl.Series(GIVEN_CHARS).gather(g2)
    return pl.select(pl.when(pl.Series(two)).then(s + second).otherwise(s)).to_series().alias("name")


@dataclass
class Population:
    villages: pl.DataFrame  # village, county, township, region_code, operator_id, county_code, has_clinic
    townships: pl.DataFrame  # township, county, region_code
    counties: pl.DataFrame  # county, county_code, name
    persons: pl.DataFrame  # internal: contract columns + pidx, county, township, village, hh, is_head, age0, hh_size
    operators: pl.DataFrame  # operator_id, county


def build_regions(n_persons: int, cfg: SynthConfig, rng: np.random.Generator):
    lo, hi = cfg.village_size
    n_vill = max(2, int(round(n_persons / ((lo + hi) / 2))))
    n_cty = min(len(COUNTY_SUFFIXES), max(cfg.min_counties, int(round(n_persons / cfg.persons_per_county))))
    n_cty = min(n_cty, n_vill)
    sizes = rng.uniform(lo, hi, n_vill)
    sizes = np.floor(sizes / sizes.sum() * n_persons).astype(np.int64)
    sizes[: n_persons - sizes.sum()] += 1
    v_county = (np.arange(n_vill) * n_cty) // n_vill
    county_codes = np.array([int(cfg.prefecture_code + COUNTY_SUFFIXES[c]) for c in range(n_cty)])
    rows_v, rows_t, rows_op = [], [], []
    t_global = 0
    for c in range(n_cty):
        vs = np.flatnonzero(v_county == c)
        n_town = max(1, int(np.ceil(len(vs) / cfg.villages_per_township)))
        n_ops = max(3, int(np.ceil(len(vs) / cfg.operators_per_villages)))
        ops = [f"JB{county_codes[c]}{k + 1:02d}" for k in range(n_ops)]
        rows_op += [(o, c) for o in ops]
        for t in range(n_town):
            rows_t.append((t_global + t, c, f"{county_codes[c]}{100 + t:03d}000"))
        for j, v in enumerate(vs):
            t = j * n_town // len(vs)
            code = f"{county_codes[c]}{100 + t:03d}{200 + j:03d}"
            rows_v.append((int(v), c, t_global + t, code, ops[j % n_ops], int(county_codes[c]), int(sizes[v])))
        t_global += n_town
    villages = pl.DataFrame(
        rows_v,
        schema={"village": pl.Int64, "county": pl.Int64, "township": pl.Int64, "region_code": pl.String,
                "operator_id": pl.String, "county_code": pl.Int64, "size": pl.Int64},
        orient="row",
    )
    villages = villages.with_columns(has_clinic=pl.Series(rng.random(len(villages)) < cfg.village_clinic_share))
    townships = pl.DataFrame(rows_t, schema={"township": pl.Int64, "county": pl.Int64, "region_code": pl.String}, orient="row")
    counties = pl.DataFrame(
        {"county": np.arange(n_cty), "county_code": county_codes, "name": COUNTY_NAMES[:n_cty]}
    )
    operators = pl.DataFrame(rows_op, schema={"operator_id": pl.String, "county": pl.Int64}, orient="row")
    return villages, townships, counties, operators


def build_population(n_persons: int, seed: int, cfg: SynthConfig) -> Population:
    rng = rng_for(seed, 1)
    villages, townships, counties, operators = build_regions(n_persons, cfg, rng)
    sizes = villages["size"].to_numpy()
    village_of = np.repeat(np.arange(len(sizes)), sizes)
    n = len(village_of)
    # households: break at cumulative household sizes and at every village start
    hs = rng.choice(np.arange(1, 7), size=n // 2 + 10, p=np.array(cfg.household_size_weights) / sum(cfg.household_size_weights))
    breaks = np.zeros(n, dtype=bool)
    cut = np.cumsum(hs)
    breaks[cut[cut < n]] = True
    breaks[0] = True
    vstart = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    breaks[vstart] = True
    hh = np.cumsum(breaks) - 1
    is_head = breaks
    hh_size = np.bincount(hh)[hh]
    # ages on 1 January: flat to 60, then decaying (a rural, ageing county)
    ages = np.arange(100)
    w = np.where(ages < 60, 1.0, np.exp(-(ages - 60) / 12.0))
    age0 = rng.choice(ages, size=n, p=w / w.sum())
    head_age = rng.integers(25, 86, size=n)
    age0 = np.where(is_head, head_age, age0)
    gender_m = rng.random(n) < 0.5
    year = cfg.year
    birth_year = (year - 1) - age0
    start = (birth_year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) + 1  # Jan 2
    birth = start + rng.integers(0, 365, size=n)
    # look-alike "exactly at the age limit": persons turning 60 / 80 on the first day of a month
    k_exact = max(cfg.lookalike_min, int(round(cfg.lookalike_rate * n / 10_000)))
    exact = np.zeros(n, dtype=np.int64)  # the age limit they reach exactly, 0 = none
    for limit in (60, 80):
        cand = np.flatnonzero((age0 == limit - 1) & ~is_head & (exact == 0))
        if len(cand) == 0:
            cand = np.flatnonzero((age0 == limit - 1) & (exact == 0))
        pick = rng.permutation(cand)[:k_exact]
        months = rng.integers(3, 12, size=len(pick))  # March..November of the year
        firsts = np.array([days(dt.date(year - limit, int(m), 1)) for m in months], dtype=np.int64)
        birth[pick] = firsts
        exact[pick] = limit
    birth_s = to_date_series("birth_date", birth)
    ymd = birth_s.dt.strftime("%Y%m%d").cast(pl.Int64).to_numpy()
    v_county_code = villages["county_code"].to_numpy()[village_of]
    # sequence numbers unique within (county, birth date, gender); parity gives the gender
    tmp = pl.DataFrame({"cc": v_county_code, "ymd": ymd, "m": gender_m, "s0": rng.integers(0, 480, size=n)})
    seq_half = tmp.select(
        (pl.col("s0").first().over(["cc", "ymd", "m"]) + pl.int_range(pl.len()).over(["cc", "ymd", "m"])) % 500
    ).to_series().to_numpy()
    seq = seq_half * 2 + np.where(gender_m, 1, 0)
    seq = np.where(seq == 0, 2, seq)  # keep away from 000
    pid = id_strings(v_county_code, ymd, seq)
    # surnames: most members share the head's
    sur = rng.integers(0, len(SURNAMES), size=n)
    head_pos = np.flatnonzero(is_head)
    head_sur = sur[head_pos][hh]
    sur = np.where(rng.random(n) < cfg.household_surname_share, head_sur, sur)
    names = random_names(rng, n, sur)
    hh_in_village = hh - hh[vstart][village_of]
    region = villages["region_code"].gather(village_of)
    household_id = region + pl.Series(hh_in_village).cast(pl.String).str.zfill(4)
    persons = pl.DataFrame(
        {
            "person_id": pid,
            "name": names,
            "gender": np.where(gender_m, "M", "F"),
            "birth_date": birth_s,
            "region_code": region,
            "household_id": household_id,
            "pidx": np.arange(n, dtype=np.int64),
            "county": villages["county"].to_numpy()[village_of],
            "township": villages["township"].to_numpy()[village_of],
            "village": village_of.astype(np.int64),
            "hh": hh.astype(np.int64),
            "is_head": is_head,
            "hh_size": hh_size.astype(np.int64),
            "age0": age0.astype(np.int64),
            "exact_limit": exact,
        }
    )
    return Population(villages, townships, counties, persons, operators)




def build_deaths(pop: Population, seed: int, cfg: SynthConfig) -> pl.DataFrame:
    """Normal deaths over the previous and current year (persons stay in the register)."""
    rng = rng_for(seed, 2)
    p = pop.persons
    n = len(p)
    age0 = p["age0"].to_numpy()
    rate = np.where(age0 >= 60, cfg.death_rate_old, cfg.death_rate_young) * 2  # two years
    dead = rng.random(n) < rate
    idx = np.flatnonzero(dead)
    d0, d1 = days(dt.date(cfg.year - 1, 1, 1)), days(dt.date(cfg.year, 12, 20))
    ddate = rng.integers(d0, d1, size=len(idx))
    return make_death_rows(p["person_id"].gather(idx), ddate, rng, cfg)


def make_death_rows(pids: pl.Series, ddate: np.ndarray, rng: np.random.Generator, cfg: SynthConfig) -> pl.DataFrame:
    k = len(pids)
    src = rng.integers(0, 3, size=k)
    two = rng.random(k) < cfg.death_two_sources
    src2 = (src + 1 + rng.integers(0, 2, size=k)) % 3
    first = pl.DataFrame({"person_id": pids, "death_date": to_date_series("d", ddate),
                          "source": pl.Series(DEATH_SOURCES).gather(src)})
    second = pl.DataFrame({"person_id": pids.filter(pl.Series(two)),
                           "death_date": to_date_series("d", ddate[two]),
                           "source": pl.Series(DEATH_SOURCES).gather(src2[two])})
    return pl.concat([first, second])


def build_officials(pop: Population, seed: int, cfg: SynthConfig, dead_pidx: np.ndarray) -> pl.DataFrame:
    """Civil servants, public-institution staff and village cadres (with ``pidx``)."""
    rng = rng_for(seed, 3)
    p = pop.persons
    n = len(p)
    age0 = p["age0"].to_numpy()
    alive = np.ones(n, dtype=bool)
    alive[dead_pidx] = False
    adult = (age0 >= 22) & (age0 <= 60) & alive
    u = rng.random(n)
    cs = adult & (u < cfg.civil_servant_rate)
    pi = adult & (u >= cfg.civil_servant_rate) & (u < cfg.civil_servant_rate + cfg.public_institution_rate)
    # village cadres: 3-5 residents aged 28-65 per village
    cand = (age0 >= 28) & (age0 <= 65) & alive & ~cs & ~pi
    score = np.where(cand, rng.random(n), 2.0)
    per_v = rng.integers(cfg.cadres_per_village[0], cfg.cadres_per_village[1] + 1, size=len(pop.villages))
    vil = p["village"].to_numpy()
    order = np.lexsort((score, vil))
    rank = np.empty(n, dtype=np.int64)
    vstart = np.searchsorted(vil[order], np.arange(len(pop.villages)))
    rank[order] = np.arange(n) - vstart[vil[order]]
    cadre = cand & (rank < per_v[vil])
    cc = pop.villages["county_code"].to_numpy()[vil]
    frames = []
    for role, mask, orgs in (("civil_servant", cs, CIVIL_ORGS), ("public_institution", pi, PUBLIC_ORGS)):
        idx = np.flatnonzero(mask)
        frames.append(pl.DataFrame({
            "pidx": idx, "role": role,
            "organization": pl.Series(orgs).gather(rng.integers(0, len(orgs), len(idx))),
            "region_code": pl.Series(cc[idx]).cast(pl.String) + "000000",
        }))
    idx = np.flatnonzero(cadre)
    frames.append(pl.DataFrame({
        "pidx": idx, "role": ["village_cadre"] * len(idx),
        "organization": ["村民委员会"] * len(idx),
        "region_code": p["region_code"].gather(idx),
    }))
    off = pl.concat(frames)
    m = len(off)
    start = rng.integers(days(dt.date(1995, 1, 1)), days(dt.date(cfg.year - 1, 12, 31)), size=m)
    # nobody starts before age 20
    birth = p["birth_date"].gather(off["pidx"]).cast(pl.Int32).to_numpy().astype(np.int64)
    start = np.maximum(start, birth + 20 * 366)
    start = np.minimum(start, days(dt.date(cfg.year - 1, 12, 31)))
    ended = rng.random(m) < cfg.official_ended_share
    end = start + ((days(dt.date(cfg.year - 1, 12, 31)) - start) * rng.uniform(0.3, 1.0, size=m)).astype(np.int64)
    off = off.with_columns(
        person_id=p["person_id"].gather(off["pidx"]),
        start_date=to_date_series("s", start),
        end_date=pl.Series("e", np.where(ended, end, 0)).cast(pl.Int32).cast(pl.Date),
        ended=pl.Series(ended),
    ).with_columns(end_date=pl.when(pl.col("ended")).then(pl.col("end_date")).otherwise(None))
    return off


def build_assets(pop: Population, seed: int, cfg: SynthConfig) -> pl.DataFrame:
    rng = rng_for(seed, 4)
    p = pop.persons
    n = len(p)
    age0 = p["age0"].to_numpy()
    adult = (age0 >= 20) & (age0 <= 70)
    frames = []
    for kind, rate, lo, hi in (("vehicle", cfg.vehicle_rate, 30_000, 300_000),
                               ("business", cfg.business_rate, 10_000, 2_000_000),
                               ("property", cfg.property_rate, 150_000, 1_500_000)):
        idx = np.flatnonzero(adult & (rng.random(n) < rate))
        reg = rng.integers(days(dt.date(2005, 1, 1)), days(dt.date(cfg.year - 1, 12, 31)), size=len(idx))
        val = np.round(rng.uniform(lo, hi, size=len(idx)), -2)
        frames.append(pl.DataFrame({"pidx": idx, "asset_type": [kind] * len(idx),
                                    "registered_date": to_date_series("r", reg), "value": val}))
    a = pl.concat(frames)
    # some registrations carry no value
    a = a.with_columns(value=pl.when(pl.Series(rng.random(len(a)) < 0.1)).then(None).otherwise(pl.col("value")))
    return a.with_columns(person_id=p["person_id"].gather(a["pidx"]))


def build_land(pop: Population, seed: int, cfg: SynthConfig) -> pl.DataFrame:
    rng = rng_for(seed, 5)
    heads = pop.persons.filter(pl.col("is_head")).select("pidx", "person_id", "household_id")
    has = rng.random(len(heads)) < cfg.land_household_share
    heads = heads.filter(pl.Series(has))
    area = np.round(rng.uniform(*cfg.land_area_mu, size=len(heads)), 2)
    return heads.with_columns(contracted_area_mu=pl.Series(area))


# ---------------------------------------------------------------------------- contract v2
def rng_v2(seed: int, part: str) -> np.random.Generator:
    """A random stream for one part of the city's **v2** data (``part``: a stable name).

    The seed sequence ``[seed, 2026, crc32(part)]`` has three words where :func:`rng_for` has
    two, so these streams never coincide with the city's other streams: adding v2 data does
    not move a single draw of the version-1 city or its planted cases.
    """
    import zlib

    return np.random.default_rng([int(seed), 2026, zlib.crc32(part.encode("utf-8"))])


def person_relations(persons: pl.DataFrame, seed: int, empty_share: float = 0.03) -> pl.Series:
    """``relation`` (与户主关系) of every person, from the household and the age gap to its head.

    The head is ``head``; the first member within 12 years of the head's age (and adult) is the
    ``spouse``; members 15-37 years younger are ``child``ren, 38 or more ``grandchild``ren,
    18 or more years older ``parent``s; anyone else (a sibling, a second adult) ``other``.
    A few are empty, as in real rosters.
    """
    rng = rng_v2(seed, "persons.relation")
    p = persons.sort("pidx")
    hh = p["hh"].to_numpy()
    is_head = p["is_head"].to_numpy()
    age = p["age0"].to_numpy()
    gap = age - age[np.flatnonzero(is_head)][hh]  # households are contiguous, head first
    near = ~is_head & (np.abs(gap) <= 12) & (age >= 20)
    before = np.cumsum(near) - near  # near members before this row, over the whole register
    start = np.flatnonzero(is_head)[hh]
    first_near = near & (before - (np.cumsum(near) - near)[start] == 0)
    rel = np.select(
        [is_head, first_near, gap <= -38, gap <= -15, gap >= 18],
        ["head", "spouse", "grandchild", "child", "parent"],
        "other",
    )
    blank = rng.random(len(p)) < empty_share
    out = pl.Series("relation", rel)
    return pl.select(pl.when(pl.Series(~blank)).then(out)).to_series().alias("relation")


#: Subtypes of ordinary registrations and their shares (the contract's codes).
ASSET_SUBTYPE_SHARES = {
    "vehicle": (("car", "truck", "farm_vehicle", "motorcycle", "disability_vehicle"), (0.62, 0.08, 0.16, 0.12, 0.02)),
    "business": (("sole_trader", "company"), (0.85, 0.15)),
    "property": (("residential", "commercial"), (0.9, 0.1)),
}
#: Share of ordinary registrations deregistered (注销) before the year, per asset type.
ASSET_DEREGISTERED_SHARE = {"vehicle": 0.10, "business": 0.12, "property": 0.03}
#: The subtype a planted registration gets: never one a local policy may exempt.
PLANTED_SUBTYPE = {"vehicle": "car", "business": "sole_trader", "property": "residential"}


def asset_v2_columns(assets: pl.DataFrame, ordinary: pl.Series, seed: int, cfg: SynthConfig) -> pl.DataFrame:
    """``assets`` with ``subtype`` and ``deregistered_date``.

    Ordinary registrations (``ordinary`` True) draw a subtype by type (a few are empty) and a
    few are deregistered between half a year after registration and the end of the previous
    year. Planted ones (an anomaly's vehicle or business) get a plain, non-exempt subtype
    (``car``, ``sole_trader``, ``residential``) and are never deregistered, so they stay what
    they were planted as under any subtype or deregistration policy.
    """
    rng = rng_v2(seed, "assets.v2")
    n = len(assets)
    kinds = assets["asset_type"].to_numpy()
    u = rng.random(n)
    sub = np.full(n, None, dtype=object)
    for kind, (codes, shares) in ASSET_SUBTYPE_SHARES.items():
        m = kinds == kind
        cum = np.cumsum(shares)
        sub[m] = np.array(codes, dtype=object)[np.minimum(np.searchsorted(cum, u[m] * cum[-1]), len(codes) - 1)]
    ordinary_np = ordinary.to_numpy()
    sub[ordinary_np & (rng.random(n) < 0.03)] = None
    planted = ~ordinary_np
    sub[planted] = np.array([PLANTED_SUBTYPE[k] for k in kinds[planted]], dtype=object)
    reg = assets["registered_date"].cast(pl.Int32).to_numpy().astype(np.int64)
    last = days(dt.date(cfg.year - 1, 12, 31))
    start = reg + 183
    share = np.array([ASSET_DEREGISTERED_SHARE[k] for k in kinds]) if n else np.zeros(0)
    dereg = ordinary_np & (rng.random(n) < share) & (start < last)
    when = start + (rng.random(n) * np.maximum(last - start, 0)).astype(np.int64)
    return assets.with_columns(
        subtype=pl.Series(sub.tolist(), dtype=pl.String),
        deregistered_date=pl.Series(np.where(dereg, when, 0)).cast(pl.Int32).cast(pl.Date),
    ).with_columns(deregistered_date=pl.when(pl.Series(dereg)).then(pl.col("deregistered_date")))
