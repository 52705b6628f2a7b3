"""The layer contract (``[tool.importlinter]`` in pyproject.toml), checked on the installed layout.

In a development checkout ``fundwatch.detectors`` … are mapped from the top-level folders by
the editable install and are invisible to import-linter's graph; installed, they sit inside
``fundwatch/``. The test builds that layout (``fundwatch/`` copied, the mapped folders linked
into it) and runs ``lint-imports`` on it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs import-linter over the whole installed tree

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _installed_layout(dest: Path) -> int:
    """Build the installed package tree under ``dest``; return how many modules it has."""
    dirs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-dir"]
    shutil.copytree(ROOT / dirs["fundwatch"], dest / "fundwatch", ignore=shutil.ignore_patterns("__pycache__"))
    for package, folder in dirs.items():
        if package != "fundwatch":
            (dest / package.replace(".", "/")).symlink_to(ROOT / folder, target_is_directory=True)
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return sum(1 for _ in (dest / "fundwatch").rglob("*.py"))


def _lint(layout: Path) -> subprocess.CompletedProcess:
    if not LINT_IMPORTS.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=layout, capture_output=True, text=True,
                          env={"PYTHONPATH": str(layout), "PATH": "/usr/bin:/bin"}, timeout=300)


def test_the_layer_contracts_hold(tmp_path):
    modules = _installed_layout(tmp_path)
    res = _lint(tmp_path)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    analysed = int(re.search(r"Analyzed (\d+) files", res.stdout).group(1))
    assert analysed >= modules, "import-linter did not see the mapped packages"
    assert "BROKEN" not in res.stdout


def test_a_core_module_importing_the_pipeline_breaks_the_contract(tmp_path):
    _installed_layout(tmp_path)
    contract = tmp_path / "fundwatch" / "contract.py"
    contract.write_text(contract.read_text(encoding="utf-8") + "\nimport fundwatch.pipeline  # noqa\n", encoding="utf-8")
    res = _lint(tmp_path)
    assert res.returncode != 0
    assert "fundwatch.contract is not allowed to import fundwatch.pipeline" in res.stdout
