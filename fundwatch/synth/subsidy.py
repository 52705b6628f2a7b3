"""Subsidy standards, enrolments and a year of one-card disbursements (normal behaviour).

Enrolments are rows ``(pidx, subsidy_type, m_from, m_to, holder_pidx, grp, g_from, g_to)``:
the person is paid monthly for months ``m_from..m_to`` into the account of ``holder_pidx``;
payments of months ``g_from..g_to`` belong to planted group ``grp`` (if any). Expansion to
monthly payments is one vectorised explode.
"""

from __future__ import annotations


import numpy as np
import polars as pl

from fundwatch.synth.config import SynthConfig
from fundwatch.synth.population import Population, rng_for, rng_v2

MONTHLY_TYPES = ("min_living", "extreme_poverty", "elderly_allowance", "disability", "basic_pension")
SUBSIDY_NAMES = {
    "min_living": "最低生活保障",
    "extreme_poverty": "特困人员供养",
    "elderly_allowance": "高龄津贴",
    "disability": "残疾人两项补贴",
    "farmland": "耕地地力保护补贴",
    "basic_pension": "城乡居民基础养老金",
}
TYPE_ABBR = {"min_living": "DB", "extreme_poverty": "TK", "elderly_allowance": "GL", "disability": "CJ",
             "farmland": "GD", "basic_pension": "YL"}

ENROL_SCHEMA = {
    "pidx": pl.Int64, "subsidy_type": pl.String, "m_from": pl.Int64, "m_to": pl.Int64,
    "holder_pidx": pl.Int64, "grp": pl.Int64, "g_from": pl.Int64, "g_to": pl.Int64,
}


def build_standards(pop: Population, cfg: SynthConfig) -> pl.DataFrame:
    y = cfg.year
    cc = [str(c) for c in pop.counties["county_code"].to_list()]
    rows = [
        # type, prefix, from, to, unit, amount, min_age, max_age, excl_off, excl_asset
        ("min_living", "*", f"{y - 1}-01", f"{y - 1}-12", "person_month", 580.0, None, None, True, True),
        ("min_living", "*", f"{y}-01", f"{y}-06", "person_month", 600.0, None, None, True, True),
        ("min_living", "*", f"{y}-07", None, "person_month", 630.0, None, None, True, True),
        # a county that raises the provincial floor
        ("min_living", cc[1], f"{y}-01", None, "person_month", 680.0, None, None, True, True),
        ("extreme_poverty", "*", f"{y}-01", None, "person_month", 900.0, None, None, True, True),
        ("elderly_allowance", "*", f"{y}-01", None, "person_month", 100.0, 80, None, False, False),
        ("disability", "*", f"{y}-01", None, "person_month", 90.0, None, None, False, False),
        ("farmland", "*", f"{y}-01", None, "mu_year", 120.0, None, None, False, False),
        ("basic_pension", "*", f"{y}-01", None, "person_month", 150.0, 60, None, False, False),
        ("basic_pension", cc[2 % len(cc)], f"{y}-01", None, "person_month", 180.0, 60, None, False, False),
    ]
    df = pl.DataFrame(
        rows,
        schema={"subsidy_type": pl.String, "region_prefix": pl.String, "valid_from": pl.String,
                "valid_to": pl.String, "unit": pl.String, "amount": pl.Float64, "min_age": pl.Int64,
                "max_age": pl.Int64, "excludes_officials": pl.Boolean, "excludes_asset_owners": pl.Boolean},
        orient="row",
    )
    return df.with_columns(subsidy_name=pl.col("subsidy_type").replace_strict(SUBSIDY_NAMES)).select(
        "subsidy_type", "subsidy_name", "region_prefix", "valid_from", "valid_to", "unit", "amount",
        "min_age", "max_age", "excludes_officials", "excludes_asset_owners",
    ).with_columns(**standards_v2(pl.col("subsidy_type")))


#: v2 standards data: 特困 is means-tested (its recipients here live alone, so household and
#: person coincide); 低保 and 特困 are mutually exclusive (both are 基本生活救助); annual
#: farmland support may be paid within half a year; disability states the default deadline
#: explicitly; the others leave ``pay_within_days`` empty (= 90 days).
#: 低保 is means-tested too: the ordinary enrolment shuts out a household with a serving
#: official or a vehicle/business owner (:func:`normal_enrolments`).
MEANS_TESTED = ("extreme_poverty", "min_living")
MEANS_TEST_NOT_STATED: tuple[str, ...] = ()
EXCLUSIVE_GROUPS = {"min_living": "基本生活救助", "extreme_poverty": "基本生活救助"}
PAY_WITHIN_DAYS = {"farmland": 180, "disability": 90}


def standards_v2(subsidy_type: pl.Expr) -> dict[str, pl.Expr]:
    """``means_test``, ``exclusive_group`` and ``pay_within_days`` of a standard, by its type."""
    return {
        "means_test": pl.when(~subsidy_type.is_in(list(MEANS_TEST_NOT_STATED))).then(
            subsidy_type.is_in(list(MEANS_TESTED))
        ),
        "exclusive_group": subsidy_type.replace_strict(EXCLUSIVE_GROUPS, default=None, return_dtype=pl.String),
        "pay_within_days": subsidy_type.replace_strict(PAY_WITHIN_DAYS, default=None, return_dtype=pl.Int64),
    }


def standard_lookup(standards: pl.DataFrame, pop: Population, cfg: SynthConfig) -> pl.DataFrame:
    """Applicable standard per (subsidy_type, county, month): longest prefix, valid period."""
    rows = []
    for st in standards.iter_rows(named=True):
        for c, code in zip(pop.counties["county"].to_list(), pop.counties["county_code"].to_list()):
            if st["region_prefix"] not in ("*", str(code)):
                continue
            for m in range(1, 13):
                per = f"{cfg.year}-{m:02d}"
                if per < st["valid_from"] or (st["valid_to"] is not None and per > st["valid_to"]):
                    continue
                rows.append((st["subsidy_type"], c, m, st["amount"], 0 if st["region_prefix"] == "*" else 1))
    lk = pl.DataFrame(rows, schema={"subsidy_type": pl.String, "county": pl.Int64, "month": pl.Int64,
                                    "std": pl.Float64, "spec": pl.Int64}, orient="row")
    return lk.sort("spec").group_by(["subsidy_type", "county", "month"], maintain_order=True).last().drop("spec")


def account_of(pidx: pl.Expr) -> pl.Expr:
    """A card number per person (unique: the multiplier is coprime to 10**15)."""
    return pl.lit("6217") + ((pidx * 1_000_003 + 7_654_321) % 10**15).cast(pl.String).str.zfill(15)


def month_of_limit(birth: pl.Expr, limit: int, year: int) -> pl.Expr:
    """First month of ``year`` whose first day finds the person aged ``limit`` or more (13 = none)."""
    by = birth.dt.year().cast(pl.Int64)
    bm = birth.dt.month().cast(pl.Int64)
    bd = birth.dt.day().cast(pl.Int64)
    turning = bm + (bd != 1).cast(pl.Int64)
    return pl.when(by + limit < year).then(1).when(by + limit > year).then(13).otherwise(turning)


def death_month_expr(death: pl.Expr, year: int) -> pl.Expr:
    """Last month a person may be paid for: 0 when dead before the year, 12 when alive."""
    return (
        pl.when(death.is_null()).then(12)
        .when(death.dt.year() < year).then(0)
        .otherwise(death.dt.month().cast(pl.Int64))
    )


def normal_enrolments(ctx, cfg: SynthConfig) -> pl.DataFrame:
    """Who would be paid what in a clean city; respects every eligibility rule."""
    rng = rng_for(ctx.seed, 10)
    p = ctx.persons  # has death_date, serving_official, official_ever, owner_vb
    n = len(p)
    y = cfg.year
    base = p.select(
        "pidx", "hh", "village", "is_head", "hh_size", "age0",
        last_m=death_month_expr(pl.col("death_date"), y),
        m80=month_of_limit(pl.col("birth_date"), 80, y),
        m60=month_of_limit(pl.col("birth_date"), 60, y),
        excl=pl.col("serving_official") | pl.col("owner_vb"),
        official_ever=pl.col("official_ever"),
    )
    frames = []

    def take(mask: np.ndarray, stype: str, m_from: np.ndarray) -> None:
        sub = base.filter(pl.Series(mask)).with_columns(
            subsidy_type=pl.lit(stype), m_from=pl.Series(m_from[mask]).cast(pl.Int64)
        )
        frames.append(sub.select("pidx", "subsidy_type", "m_from", m_to=pl.col("last_m")))

    last_m = base["last_m"].to_numpy()
    excl = base["excl"].to_numpy()
    ones = np.ones(n, dtype=np.int64)
    # min_living: whole households, village-level take-up
    vrate = rng.uniform(*cfg.min_living_village_rate, size=len(ctx.pop.villages))
    hh = base["hh"].to_numpy()
    n_hh = hh.max() + 1
    hh_pick = rng.random(n_hh) < vrate[base["village"].to_numpy()][np.searchsorted(hh, np.arange(n_hh))]
    ml = hh_pick[hh] & ~excl & (last_m > 0)
    start = np.where(rng.random(n) < cfg.late_enrol_share, rng.integers(2, 11, size=n), 1)
    take(ml, "min_living", start)
    # extreme poverty: the elderly living alone
    age0 = base["age0"].to_numpy()
    ep = (age0 >= 60) & (base["hh_size"].to_numpy() == 1) & ~ml & ~excl & (last_m > 0)
    ep &= rng.random(n) < cfg.extreme_poverty_alone_share
    take(ep, "extreme_poverty", ones)
    m80 = base["m80"].to_numpy()
    m60 = base["m60"].to_numpy()
    exact = p["exact_limit"].to_numpy()  # the "exactly at the limit" look-alikes always take up
    el = (m80 <= 12) & (m80 <= last_m) & ((rng.random(n) < cfg.elderly_takeup) | (exact == 80))
    take(el, "elderly_allowance", m80)
    pe = (m60 <= 12) & (m60 <= last_m) & ((rng.random(n) < cfg.pension_takeup) | (exact == 60))
    pe &= ~base["official_ever"].to_numpy()
    take(pe, "basic_pension", m60)
    di = (rng.random(n) < cfg.disability_rate) & (last_m > 0)
    take(di, "disability", ones)
    e = pl.concat(frames)
    # early exits (min_living / disability only)
    exit_m = rng.integers(3, 12, size=len(e))
    leave = (rng.random(len(e)) < cfg.early_exit_share) & e["subsidy_type"].is_in(["min_living", "disability"]).to_numpy()
    e = e.with_columns(m_to=pl.when(pl.Series(leave)).then(pl.min_horizontal(pl.col("m_to"), pl.Series(exit_m))).otherwise(pl.col("m_to")))
    e = e.filter(pl.col("m_from") <= pl.col("m_to"))
    # accounts: own card; guardians (head of the same household) for children / the very old /
    # the disabled; some min_living households paid into the head's card
    heads = p.filter(pl.col("is_head")).select("hh", head_pidx="pidx", head_age="age0", head_last=death_month_expr(pl.col("death_date"), y))
    e = e.join(base.select("pidx", "hh", "age0"), on="pidx").join(heads, on="hh", how="left")
    u = pl.Series(rng.random(len(e)))
    guardian_ok = (pl.col("head_pidx") != pl.col("pidx")) & (pl.col("head_age") >= 25) & (pl.col("head_last") >= 12)
    needs = (pl.col("age0") < 16) | (pl.col("age0") >= 85) | (pl.col("subsidy_type") == "disability")
    household = (pl.col("subsidy_type") == "min_living") & (u > 1 - cfg.household_account_share)
    e = e.with_columns(
        holder_pidx=pl.when(guardian_ok & ((needs & (u < cfg.guardian_share)) | household))
        .then(pl.col("head_pidx")).otherwise(pl.col("pidx"))
    )
    e = e.select("pidx", "subsidy_type", "m_from", "m_to", "holder_pidx").with_columns(
        grp=pl.lit(None, pl.Int64), g_from=pl.lit(None, pl.Int64), g_to=pl.lit(None, pl.Int64)
    )
    # 低保 is means-tested per household: a serving official or a vehicle/business owner in
    # the household shuts every member out. Applied after every draw above, so the random
    # streams (and every other enrolment) are as before; only those households' 低保 goes.
    hh_excl = np.zeros(n_hh, dtype=bool)
    hh_excl[hh[excl]] = True
    out_hh = pl.Series(hh_excl[hh][e["pidx"].to_numpy()])
    e = e.filter(~((pl.col("subsidy_type") == "min_living") & out_hh))
    return e.cast(ENROL_SCHEMA)


def expand_payments(ctx, enrol: pl.DataFrame, cfg: SynthConfig) -> pl.DataFrame:
    """Monthly payment rows from enrolments (internal columns kept for planting)."""
    rng = rng_for(ctx.seed, 11)
    p = ctx.persons.select("pidx", "person_id", "name", "region_code", "county", "village")
    pay = (
        enrol.with_columns(month=pl.int_ranges(pl.col("m_from"), pl.col("m_to") + 1))
        .explode("month")
        .with_columns(
            grp=pl.when((pl.col("month") >= pl.col("g_from")) & (pl.col("month") <= pl.col("g_to")))
            .then(pl.col("grp")).otherwise(None),
            quantity=pl.lit(1.0),
        )
        .drop("m_from", "m_to", "g_from", "g_to")
        .join(p, on="pidx", how="left")
    )
    return finish_payments(ctx, pay, rng, cfg)


def finish_payments(ctx, pay: pl.DataFrame, rng: np.random.Generator, cfg: SynthConfig) -> pl.DataFrame:
    """Amount from the standard, batch, pay date, operator and account for payment rows."""
    y = cfg.year
    pay = pay.join(ctx.std_lookup, on=["subsidy_type", "county", "month"], how="left").with_columns(
        amount=(pl.col("std") * pl.col("quantity")).round(2),
        period=pl.lit(f"{y}-") + pl.col("month").cast(pl.String).str.zfill(2),
    )
    # one pay date per batch (county, type, month)
    batch_delay = pl.DataFrame({
        "county": np.repeat(np.arange(len(ctx.pop.counties)), 12 * 6),
        "month": np.tile(np.repeat(np.arange(1, 13), 6), len(ctx.pop.counties)),
        "subsidy_type": list(TYPE_ABBR) * (12 * len(ctx.pop.counties)),
        "delay": rng.integers(*cfg.normal_delay_days, size=12 * 6 * len(ctx.pop.counties)),
    }).with_columns(pl.col("county", "month", "delay").cast(pl.Int64))
    cc = ctx.pop.counties.select("county", cc=pl.col("county_code").cast(pl.String))
    ops = ctx.pop.villages.select("village", "operator_id")
    pay = (
        pay.join(batch_delay, on=["county", "month", "subsidy_type"], how="left")
        .join(cc, on="county", how="left")
        .join(ops, on="village", how="left")
        .with_columns(
            pay_date=(pl.date(y, pl.col("month"), 1) + pl.duration(days=pl.col("delay"))),
            batch_id=pl.col("cc") + "-" + pl.col("subsidy_type").replace_strict(TYPE_ABBR) + "-"
            + pl.lit(str(y)) + pl.col("month").cast(pl.String).str.zfill(2),
            account_no=account_of(pl.col("holder_pidx")),
            risk=pl.lit(0.0),
        )
    )
    hid = ctx.persons.select(holder_pidx="pidx", account_holder_id="person_id")
    return pay.join(hid, on="holder_pidx", how="left").drop("std", "delay", "cc")


def farmland_payments(ctx, cfg: SynthConfig) -> pl.DataFrame:
    rng = rng_for(ctx.seed, 12)
    y = cfg.year
    m = cfg.farmland_period_month
    land = ctx.land.join(ctx.persons.select("pidx", last_m=death_month_expr(pl.col("death_date"), y)), on="pidx")
    land = land.filter(pl.col("last_m") >= m)
    p = ctx.persons.select("pidx", "person_id", "name", "region_code", "county", "village")
    pay = land.select("pidx", quantity=pl.col("contracted_area_mu")).join(p, on="pidx").with_columns(
        subsidy_type=pl.lit("farmland"), month=pl.lit(m, pl.Int64), holder_pidx=pl.col("pidx"),
        grp=pl.lit(None, pl.Int64),
    )
    return finish_payments(ctx, pay, rng, cfg)


PAY_COLUMNS = ["pidx", "subsidy_type", "month", "holder_pidx", "grp", "quantity", "person_id", "name",
               "region_code", "county", "village", "amount", "period", "pay_date", "batch_id",
               "operator_id", "account_no", "risk", "account_holder_id"]


def number_disbursements(pay: pl.DataFrame, cfg: SynthConfig) -> pl.DataFrame:
    """Stable ids after all planting: ordered by month, county, type, village, person, row."""
    types = {t: i for i, t in enumerate(TYPE_ABBR)}
    pay = pay.with_row_index("_r").with_columns(_t=pl.col("subsidy_type").replace_strict(types, return_dtype=pl.Int64))
    pay = pay.sort(["month", "county", "_t", "village", "pidx", "_r"], nulls_last=True)
    return pay.with_columns(
        disbursement_id=pl.lit(f"FF{cfg.year}") + pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(10)
    ).drop("_r", "_t")


# ---------------------------------------------------------------------------- contract v2
#: Share of ordinary payments whose ``payment_type`` cell is left empty (empty = regular).
PAYMENT_TYPE_EMPTY_SHARE = 0.12
#: Share of ordinary guardian / household-account cards whose holder is a registered proxy.
PROXY_REGISTERED_SHARE = 0.7


def payments_v2(pay: pl.DataFrame, persons: pl.DataFrame, seed: int) -> pl.DataFrame:
    """``pay`` (internal columns ``pidx``, ``holder_pidx``, ``grp``) with ``payment_type`` and
    ``proxy_id`` (where a planter already set a value, it is kept).

    Every payment here is a regular one: ``regular``, or empty for a share of ordinary rows
    (the contract reads empty as regular). A card held by the head of the beneficiary's own
    household (a guardian, or a household account for 低保) is registered as a proxy
    (``proxy_id`` = the holder) for most ordinary rows, per beneficiary and subsidy, as a
    civil-affairs office would file it once. Planted rows (``grp`` set) get ``regular`` and no
    proxy, so a planted card-holding case stays unregistered.
    """
    rng = rng_v2(seed, "disbursements.v2")
    ordinary = pl.col("grp").is_null()
    blank = pl.Series(rng.random(len(pay)) < PAYMENT_TYPE_EMPTY_SHARE)
    payment_type = pl.when(ordinary & blank).then(None).otherwise(pl.lit("regular"))
    hh = persons.select("pidx", "hh", "is_head")
    same_household_head = (
        pay.select("pidx", "holder_pidx")
        .join(hh.rename({"hh": "_hh"}), on="pidx", how="left", maintain_order="left")
        .join(hh.rename({"pidx": "holder_pidx", "hh": "_hh_holder", "is_head": "_holder_head"}),
              on="holder_pidx", how="left", maintain_order="left")
        .select((pl.col("holder_pidx") != pl.col("pidx")) & (pl.col("_hh") == pl.col("_hh_holder"))
                & pl.col("_holder_head"))
        .to_series()
        .fill_null(False)
    )
    # one decision per beneficiary: a registration covers all their payments
    filed = pl.Series(rng.random(len(persons)) < PROXY_REGISTERED_SHARE)
    key_ok = filed.gather(pay["pidx"]).fill_null(False) if len(pay) else pl.Series([], dtype=pl.Boolean)
    registered = same_household_head & key_ok & pay["grp"].is_null()
    proxy = pl.when(registered).then(pl.col("account_holder_id"))
    if "payment_type" in pay.columns:  # a planter set some: theirs win, ours fill ordinary rows
        payment_type = pl.when(ordinary).then(pl.coalesce(pl.col("payment_type"), payment_type)).otherwise(
            pl.col("payment_type").fill_null("regular"))
    if "proxy_id" in pay.columns:
        proxy = pl.coalesce(pl.col("proxy_id"), proxy)
    return pay.with_columns(payment_type=payment_type, proxy_id=proxy)


#: Subsidy types allocated to counties (6-digit codes); the others to townships (9 digits).
COUNTY_ALLOCATED = ("farmland",)
#: days between an allocation and the first payment it funds
ALLOCATION_LEAD_DAYS = (3, 12)


def build_allocations(pay: pl.DataFrame, seed: int) -> pl.DataFrame:
    """``allocations`` (资金拨付): per batch and region, the money its payments account for.

    One allocation per (batch, subsidy type, township) — per county for the types in
    :data:`COUNTY_ALLOCATED` — of exactly what the batch's payments there paid, dated a few
    days before the first of them: money allocated reached beneficiaries, as in ordinary
    administration. Computed from every payment, planted ones included, so that no planted
    case of another kind looks like an unpaid allocation.
    """
    rng = rng_v2(seed, "allocations")
    if "payment_type" in pay.columns:  # money returned to the fund is not paid out
        pay = pay.with_columns(amount=pl.when(pl.col("payment_type") == "returned").then(-pl.col("amount"))
                               .otherwise(pl.col("amount")))
    region = (
        pl.when(pl.col("subsidy_type").is_in(list(COUNTY_ALLOCATED)))
        .then(pl.col("region_code").str.slice(0, 6))
        .otherwise(pl.col("region_code").str.slice(0, 9))
    )
    alloc = (
        pay.group_by("batch_id", "subsidy_type", region.alias("region_code"))
        .agg(
            (pl.col("amount").sum() * 100).round(0).cast(pl.Int64).alias("_cents"),
            pl.col("pay_date").min().alias("_first"),
        )
        .sort("batch_id", "subsidy_type", "region_code")
    )
    lead = rng.integers(ALLOCATION_LEAD_DAYS[0], ALLOCATION_LEAD_DAYS[1] + 1, size=alloc.height)
    return alloc.select(
        "batch_id",
        "subsidy_type",
        "region_code",
        allocated_amount=pl.col("_cents") / 100,
        allocated_date=pl.col("_first") - pl.duration(days=pl.Series(lead)),
    )
