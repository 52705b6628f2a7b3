"""Small synthetic subsidy and medical worlds for the peer-model tests (fixed seeds).

A module of its own, not conftest: two test folders have a conftest.py, and ``from conftest
import`` would find whichever was imported first.

The worlds are deliberately simple and independent of fundwatch.synth: a few counties of
villages with a normal spread of recipients, and institutions of several kinds and levels with
a normal spread of costs. Each test plants its own outlier.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

PERIODS = [f"2025-{m:02d}" for m in range(1, 7)]
TYPES = {"min_living": ("最低生活保障", 0.04, 600.0), "elderly_allowance": ("高龄津贴", 0.08, 100.0),
         "farmland": ("耕地地力保护补贴", 0.25, 80.0)}


def subsidy_world(
    seed: int = 0,
    counties: tuple[str, ...] = ("510302", "510303"),
    villages_per_county: int = 12,
    extra_village: str | None = None,
    extra_rate: float = 0.12,
    extra_type: str = "min_living",
    extra_operator: str | None = None,
    big_village: str | None = None,
    more_extra_villages: dict[str, float] | None = None,
) -> dict[str, pl.DataFrame]:
    """persons, officials, subsidy_standards and disbursements of a few counties.

    ``extra_village``: in that village, an additional ``extra_rate`` of residents receive
    ``extra_type`` from the third month on, paid into one account holder's card, entered by
    the village's operator. ``extra_operator``: that operator enrols the extras in each of its
    villages (at half the rate). ``big_village``: that village has 8x the residents and
    proportional (normal) payments — a large but legitimate village. ``more_extra_villages``:
    further villages enrolling extras the same way, each at its own rate.
    """
    extra_rates = dict(more_extra_villages or {})
    if extra_village is not None:
        extra_rates[extra_village] = extra_rate
    rng = np.random.default_rng(seed)
    persons, officials, disb = [], [], []
    n_d = 0
    for c_i, county in enumerate(counties):
        urban = c_i % 2 == 1  # odd counties have no farmland: a different subsidy mix
        for v in range(villages_per_county):
            code = f"{county}{101:03d}{v + 1:03d}"
            operator = f"OP{county}{v // 2:02d}"
            n_res = int(rng.integers(150, 500)) * (8 if code == big_village else 1)
            pids = [f"{code[:6]}{v:04d}{i:08d}" for i in range(n_res)]
            hh = [f"H{code}{i // 3:05d}" for i in range(n_res)]
            persons.append(pl.DataFrame({"person_id": pids, "region_code": [code] * n_res,
                                         "household_id": hh}))
            officials.append(pl.DataFrame({"person_id": [pids[0]], "role": ["village_cadre"],
                                           "region_code": [code]}))
            for t, (_, rate, amount) in TYPES.items():
                if t == "farmland" and urban:
                    continue
                r = rate * rng.uniform(0.7, 1.3)
                k = max(1, int(rng.binomial(n_res, r)))
                rec = rng.choice(n_res, size=k, replace=False)
                extra: list[int] = []
                if (code in extra_rates and t == extra_type) or (
                    operator == extra_operator and t == extra_type
                ):
                    share = extra_rates[code] if code in extra_rates else extra_rate / 2
                    pool = np.setdiff1d(np.arange(n_res), rec)
                    extra = list(rng.choice(pool, size=int(share * n_res), replace=False))
                for p_i, period in enumerate(PERIODS):
                    if t == "farmland" and p_i != 2:
                        continue  # paid once a year
                    who = list(rec) + (extra if p_i >= 2 else [])
                    for j in who:
                        pid = pids[j]
                        is_extra = j in extra
                        n_d += 1
                        disb.append((f"D{n_d:08d}", t, pid, code, period, amount, pid if not is_extra
                                     else pids[extra[0]], operator))
    persons = pl.concat(persons)
    d = pl.DataFrame(disb, schema=["disbursement_id", "subsidy_type", "person_id", "region_code",
                                   "period", "amount", "account_holder_id", "operator_id"],
                     orient="row")
    standards = pl.DataFrame({"subsidy_type": list(TYPES), "subsidy_name": [v[0] for v in TYPES.values()]})
    return {
        "persons": persons,
        "officials": pl.concat(officials),
        "subsidy_standards": standards,
        "disbursements": d,
    }


KINDS = [  # kind, level, count, claims, cost, inpatient rate, drug share, items
    ("hospital", 3, 4, 600, 1500.0, 0.25, 0.35, 12),
    ("hospital", 2, 6, 300, 700.0, 0.15, 0.40, 9),
    ("clinic", 1, 10, 150, 120.0, 0.0, 0.55, 4),
    ("pharmacy", 0, 10, 150, 80.0, 0.0, 1.0, 2),
]


def medical_world(
    seed: int = 0,
    inflated_institution: str | None = None,
    inflated_doctor: str | None = None,
    inflation: float = 2.5,
    kinds: list[tuple] | None = None,
) -> dict[str, pl.DataFrame]:
    """institutions, claims and claim_items of the kind/level groups of ``kinds`` (:data:`KINDS`).

    ``inflated_institution`` (one id or a tuple of ids) bills ``inflation`` x the cost, more
    items and more drugs per visit; ``inflated_doctor`` prescribes ``inflation`` x the drugs and
    sees twice the patients per day.
    """
    inflated = {inflated_institution} if isinstance(inflated_institution, str) else set(inflated_institution or ())
    rng = np.random.default_rng(seed)
    inst_rows, claims, items = [], [], []
    n_c = 0
    day0 = date(2025, 1, 1)
    for kind, level, count, n_claims, cost, inp, drug, n_items in kinds or KINDS:
        for i in range(count):
            iid = f"{kind[0].upper()}{level}{i:02d}"
            inst_rows.append((iid, kind, level, f"510302101{i:03d}", 0 if kind == "pharmacy" else 50 * (level + 1)))
            doctors = [] if kind == "pharmacy" else [f"DR{iid}{d}" for d in range(6)]
            f_inst = inflation if iid in inflated else 1.0
            inst_cost = cost * rng.uniform(0.8, 1.2)
            for c in range(int(n_claims * rng.uniform(0.8, 1.2))):
                n_c += 1
                doc = doctors[c % len(doctors)] if doctors else None
                f_doc = inflation if doc is not None and doc == inflated_doctor else 1.0
                # the inflated doctor sees twice the patients on the same working days
                day = int(rng.integers(0, 60)) if f_doc == 1.0 else int(rng.integers(0, 30))
                inpatient = rng.random() < inp
                total = float(inst_cost * rng.lognormal(0, 0.3) * (3 if inpatient else 1) * f_inst)
                k = max(1, int(rng.poisson(n_items * (1.6 if f_inst > 1 else 1))))
                drug_sh = min(0.95, drug * (1.5 if f_inst > 1 else 1) * (f_doc if f_doc > 1 else 1))
                if kind == "pharmacy":
                    drug_sh = 1.0
                total = total * (1 + (drug_sh - drug) if f_doc > 1 else 1)
                vdate = day0 + timedelta(days=day)
                los = int(rng.integers(2, 10)) if inpatient else None
                cid = f"C{n_c:07d}"
                claims.append((cid, f"P{int(rng.integers(0, 5000)):06d}", iid, doc,
                               "inpatient" if inpatient else ("pharmacy" if kind == "pharmacy" else "outpatient"),
                               vdate, vdate + timedelta(days=los) if los else None,
                               round(total, 2), round(total * 0.7, 2), round(total * 0.3, 2)))
                n_drug = k if kind == "pharmacy" else min(k, max(1, int(round(k * drug_sh))))
                drug_total = total if n_drug == k else total * drug_sh
                for line in range(k):
                    if line < n_drug:
                        amount = drug_total / n_drug
                    else:
                        amount = (total - drug_total) / (k - n_drug)
                    items.append((cid, line + 1, "drug" if line < n_drug else "exam", round(amount, 2)))
    institutions = pl.DataFrame(inst_rows, schema=["institution_id", "kind", "level", "region_code", "beds"],
                                orient="row")
    claims = pl.DataFrame(claims, schema=["claim_id", "person_id", "institution_id", "doctor_id",
                                          "visit_type", "visit_date", "discharge_date", "total_amount",
                                          "fund_amount", "self_amount"], orient="row")
    items = pl.DataFrame(items, schema=["claim_id", "line_no", "category", "amount"], orient="row")
    return {"institutions": institutions, "claims": claims, "claim_items": items}
