"""Lint and unused code, in CI: ruff (``[tool.ruff]``) and vulture (``[tool.vulture]``).

Both read their settings from pyproject.toml, so a developer runs exactly what CI runs:
``.venv/bin/ruff check .`` and ``.venv/bin/vulture``. A planted problem proves each check
can fail (a check that cannot fail proves nothing).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs ruff and vulture over the whole tree

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return str(path)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    res = _run([_tool("ruff"), "check", "--no-cache", "."], ROOT)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_ruff_catches_a_planted_unused_import(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "planted.py").write_text("import os\n", encoding="utf-8")
    res = _run([_tool("ruff"), "check", "--no-cache", "planted.py"], tmp_path)
    assert res.returncode == 1 and "F401" in res.stdout


def _vulture_findings(cwd: Path) -> list[str]:
    res = _run([_tool("vulture")], cwd)
    assert res.returncode in (0, 3), res.stderr[-2000:]  # 3: dead code found
    # tests/ are read as users of the packages; their own fixtures and pytest hooks are
    # called by pytest, which vulture cannot see
    return [line for line in res.stdout.splitlines() if line and not line.startswith("tests/")]


def test_no_unused_code():
    assert _vulture_findings(ROOT) == []


def test_vulture_catches_a_planted_unused_function(tmp_path):
    layout = tmp_path / "tree"
    for folder in ("fundwatch", "detectors", "expectations", "reports", "flows", "bench"):
        shutil.copytree(ROOT / folder, layout / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (layout / "tests" / "packaging").mkdir(parents=True)
    shutil.copy(ROOT / "tests/packaging/vulture_allow.py", layout / "tests/packaging/vulture_allow.py")
    shutil.copy(ROOT / "pyproject.toml", layout / "pyproject.toml")
    (layout / "fundwatch" / "planted_dead.py").write_text("def never_called_anywhere():\n    return 1\n",
                                                         encoding="utf-8")
    assert any("never_called_anywhere" in line for line in _vulture_findings(layout))
