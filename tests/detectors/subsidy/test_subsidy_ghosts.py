"""GHOST_BENEFICIARY: beneficiary not in persons, or an invalid identity number."""

from fundwatch.detectors.subsidy import GhostBeneficiaryRule


def test_ghosts_and_registered_lookalike(kit, ids):
    real, unknown = ids["old1"], ids["old2"]
    bad_check = real[:-1] + ("0" if real[-1] != "0" else "1")
    ds = kit.frames(
        persons=[kit.person(real, "H1")],
        disbursements=[
            kit.pay("R1", real, "2025-01", 410.0),
            kit.pay("R2", " " + real.lower() + " ", "2025-02", 410.0),  # normalisable look-alike
            kit.pay("U1", unknown, "2025-01", 410.0),
            kit.pay("U2", unknown, "2025-02", 410.0),
            kit.pay("X1", bad_check, "2025-01", 100.0),
            kit.pay("X2", "NOT-AN-ID", "2025-01", 50.0),
        ],
    )
    f = GhostBeneficiaryRule().fit_detect(ds)
    kit.check(f)
    found = kit.by_entity(f)
    assert set(found) == {unknown, bad_check, "NOT-AN-ID"}
    assert found[unknown]["record_ids"] == ["U1", "U2"]
    assert found[unknown]["score"] < 1.0  # valid number, only missing from the register
    assert found[bad_check]["score"] == 1.0
    assert "校验位" in found[bad_check]["evidence_zh"]


def test_empty(kit):
    assert GhostBeneficiaryRule().fit_detect(kit.frames()).height == 0
