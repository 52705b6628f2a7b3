"""Small hand-made report inputs shared by the report tests (imported by name: pytest puts
this folder on sys.path)."""

from __future__ import annotations

import json
import random

import polars as pl

from fundwatch.detectors.base import FINDINGS_SCHEMA
from fundwatch.contract import LEADS_SCHEMA, QUARANTINE_SCHEMA
from fundwatch.idnumber import CHECK_CHARS, WEIGHTS

HOSTILE_NAME = "<script>window.__pwned=1</script>"
HOSTILE_TITLE = '"><img src=x onerror="window.__pwned=2">'
FORMULA = '=HYPERLINK("http://evil.example/x","click")'


def person_id(region: str, birth: str, seq: int) -> str:
    """A valid GB 11643 number from its parts."""
    body = f"{region}{birth}{seq:03d}"
    total = sum(int(ch) * w for ch, w in zip(body, WEIGHTS))
    return body + CHECK_CHARS[total % 11]


COUNTIES = ["510302", "510303", "510304"]
RULE_POOL = [
    ("subsidy", "person", "DECEASED_PAYEE"),
    ("subsidy", "person", "DUPLICATE_PAYMENT"),
    ("subsidy", "account", "SHARED_ACCOUNT"),
    ("subsidy", "village", "VILLAGE_OUTLIER"),
    ("medical", "person", "CLAIM_AFTER_DEATH"),
    ("medical", "institution", "INSTITUTION_OUTLIER"),
]
STATUSES = ["new", "open", "confirmed", "dismissed", "in_review"]


def make_inputs(n: int = 12, seed: int = 7, hostile: bool = True) -> dict:
    """Leads, status, findings, evidence, run info, validation summary and quarantine."""
    rng = random.Random(seed)
    leads, findings, evidence, status = [], [], [], []
    for i in range(n):
        domain, etype, code = RULE_POOL[i % len(RULE_POOL)]
        region = COUNTIES[i % 3] + f"{(i % 4) + 1:03d}" + f"{(i % 5) + 1:03d}"
        pid = person_id(COUNTIES[i % 3], f"19{40 + i % 50:02d}0{1 + i % 9}1{i % 9}", 10 + i)
        name = f"张{'三丰四五'[i % 4]}{i}"
        if etype == "person":
            eid = pid
        elif etype == "account":
            eid = f"6217{i:014d}"
        elif etype == "village":
            eid = region
        else:
            eid = f"H{i:05d}"
        rid = [f"D{i:06d}-{k}" for k in range(1 + i % 3)]
        amt = round(100.0 + (i * 37.5) % 900, 2)
        score = round(1.0 - i / max(n, 1) * 0.9, 4)
        sev = "high" if score > 0.7 else ("medium" if score > 0.4 else "low")
        month = f"2025-{1 + i % 12:02d}"
        title = f"{name}({pid}) 死亡后仍领取补贴" if etype == "person" else f"{eid} 异常"
        leads.append(
            dict(
                lead_id=f"L{i:05d}", rank=i + 1, score=score, severity=sev, domain=domain, entity_type=etype,
                entity_id=eid, rule_codes=[code], title=title, amount_at_risk=amt, period_start=month,
                period_end=month, region_code=region, record_ids=rid,
                explanation=f"身份证号 {pid} 的 {name} 在死亡后领取 {amt} 元",
            )
        )
        details = "{}"
        if code.endswith("OUTLIER"):
            peers = [round(rng.gauss(10, 2), 3) for _ in range(40)]
            details = json.dumps(
                {
                    "features": [
                        {"name": "per_capita", "label_zh": "人均金额", "label_en": "Money per resident",
                         "value": 31.5, "peer_median": 10.0, "peer_values": peers, "contribution": 0.7},
                    ],
                    "peer_group": "county|" + COUNTIES[i % 3],
                }
            )
        findings.append(
            dict(
                rule_code=code, domain=domain, entity_type=etype, entity_id=eid, record_ids=rid,
                record_amounts=[amt / len(rid)] * len(rid), amount_at_risk=amt, score=score,
                period_start=month, period_end=month, region_code=region,
                evidence_zh=f"证据:{name} {pid}", evidence_en=f"Evidence EN {i}: paid {amt} after death of {pid}",
                details=details,
            )
        )
        for k, r in enumerate(rid):
            evidence.append(
                dict(
                    lead_id=f"L{i:05d}", record_id=r, record_type="disbursement" if domain == "subsidy" else "claim",
                    date=__import__("datetime").date(2025, 1 + i % 12, 1 + k), person_id=pid, name=name,
                    counterparty="min_living", amount=amt / len(rid), description=f"发放给 {pid}",
                )
            )
        status.append(dict(lead_id=f"L{i:05d}", status=STATUSES[i % 5], note=None, is_new=i % 2 == 0))
    if hostile and n >= 3:
        leads[1]["title"] = HOSTILE_TITLE
        leads[2]["title"] = FORMULA
        leads[2]["explanation"] = "</script><script>window.__pwned=3</script>"
        for e in evidence:
            if e["lead_id"] == "L00001":
                e["name"] = HOSTILE_NAME
                e["counterparty"] = HOSTILE_NAME
                e["description"] = FORMULA
    L = pl.DataFrame(leads, schema=LEADS_SCHEMA)
    F = pl.DataFrame(findings, schema=FINDINGS_SCHEMA)
    E = pl.DataFrame(evidence)
    S = pl.DataFrame(status, schema={"lead_id": pl.String, "status": pl.String, "note": pl.String, "is_new": pl.Boolean})
    V = pl.DataFrame(
        {
            "dataset": ["disbursements", "persons", "claims"],
            "expectation": ["expect_column_values_to_not_be_null", "expect_column_values_to_be_unique", "expect_column_pair_values_a_to_be_greater_than_b"],
            "severity": ["critical", "warning", "warning"],
            "success": [True, False, False],
            "unexpected_count": [0, 3, 1],
            "unexpected_percent": [0.0, 1.5, 0.1],
            "examples": [[], [person_id("510302", "19400111", 10), "dup"], ["2025-01-03 < 2025-01-02"]],
        }
    )
    first_pid = person_id("510302", "19400111", 10)
    Q = pl.DataFrame(
        [
            dict(dataset="persons", source_file="persons.csv", row_number=4, column="person_id", raw_value=first_pid, reason="identity number check character is wrong (GB 11643)"),
            dict(dataset="disbursements", source_file="disbursements.csv", row_number=9, column="amount", raw_value=FORMULA, reason="money not readable"),
        ],
        schema=QUARANTINE_SCHEMA,
    )
    run_info = {
        "run_id": "run-20250301-0001",
        "fingerprint": "ab12" * 16,
        "period": ("2025-01", "2025-12"),
        "counts": {
            "disbursements": {"rows_read": 1000, "rows_accepted": 998, "rows_quarantined": 2},
            "persons": {"rows_read": 500, "rows_accepted": 499, "rows_quarantined": 1},
        },
        "validation_failures": 2,
    }
    return dict(leads=L, status=S, findings=F, evidence=E, run_info=run_info, validation_summary=V, quarantine=Q)
