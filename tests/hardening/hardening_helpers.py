"""Helpers shared by the hardening tests."""

from __future__ import annotations


def assert_one_line_error(res, *needles, code: int = 2) -> str:
    assert res.returncode == code, (res.returncode, res.stderr[-2000:])
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    for n in needles:
        assert n.lower() in lines[0].lower(), lines[0]
    return lines[0]
