"""TRACE_CODE_REUSE: a package's code settled again; split-pack sales are not."""

from medical_frames import D, by_entity, claim, datasets, item, person, pid

from fundwatch.detectors.base import skip_reason
from fundwatch.detectors.medical import TraceCodeReuseRule

A = pid("19500101", 11)
B = pid("19600101", 22)
C = pid("19700101", 33)


def _line(cid, n, code, qty, day, amount=30.0):
    row = item(cid, n, "D005", qty, amount / qty, day)
    row.update(trace_code=code, amount=amount)
    return row


def _data(split_total=(1 / 3, 1 / 3, 1 / 3)):
    cl = [claim("c1", A, "P1", D(2025, 3, 1), visit_type="pharmacy", fund=21.0, total=30.0),
          claim("c2", B, "P2", D(2025, 3, 20), visit_type="pharmacy", fund=21.0, total=30.0),  # resold at P2
          claim("c3", C, "P1", D(2025, 4, 1), visit_type="pharmacy"),
          claim("c4", A, "P1", D(2025, 4, 3), visit_type="pharmacy"),
          claim("c5", B, "P1", D(2025, 4, 5), visit_type="pharmacy"),
          claim("c6", C, "P2", D(2025, 5, 1), visit_type="pharmacy")]
    it = [_line("c1", 1, "81000000000000000001", 1, D(2025, 3, 1)),
          _line("c2", 1, "81000000000000000001", 1, D(2025, 3, 20)),
          # split-pack: one package in thirds at P1
          _line("c3", 1, "81000000000000000002", split_total[0], D(2025, 4, 1), 10.0),
          _line("c4", 1, "81000000000000000002", split_total[1], D(2025, 4, 3), 10.0),
          _line("c5", 1, "81000000000000000002", split_total[2], D(2025, 4, 5), 10.0),
          # one code on a single line for two packages: a scanning habit
          _line("c6", 1, "81000000000000000003", 2, D(2025, 5, 1), 60.0)]
    return datasets(persons=[person(A), person(B), person(C)], claims=cl, items=it)


def test_code_settled_at_a_second_institution_fires_there_split_pack_does_not():
    found = by_entity(TraceCodeReuseRule().fit_detect(_data()))
    assert set(found) == {"P2"}
    f = found["P2"]
    assert f["record_ids"] == ["c2"] and f["amount_at_risk"] == 21.0
    assert "81000000000000000001" in f["evidence_zh"] and "惠民大药房" in f["evidence_zh"]


def test_split_pack_beyond_one_package_fires_at_the_pharmacy():
    found = by_entity(TraceCodeReuseRule().fit_detect(_data(split_total=(0.5, 0.5, 0.5))))
    assert set(found) == {"P1", "P2"}
    assert found["P1"]["record_ids"] == ["c5"]


def test_rounded_thirds_stay_within_the_tolerance():
    assert set(by_entity(TraceCodeReuseRule().fit_detect(_data(split_total=(0.34, 0.34, 0.33))))) == {"P2"}


def test_skipped_without_trace_codes():
    ds = _data()
    ds["claim_items"] = ds["claim_items"].drop("trace_code")
    assert "trace_code" in skip_reason(TraceCodeReuseRule, ds)
