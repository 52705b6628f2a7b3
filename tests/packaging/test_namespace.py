"""The project installs under one top-level name: ``fundwatch``.

The folders ``detectors/ expectations/ reports/ flows/`` stay at the top of the repository
but install as ``fundwatch.detectors`` …, so that another project's ``reports`` package can
never collide with ours in site-packages.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds and installs a wheel in a fresh environment

SUBPACKAGES = ("detectors", "expectations", "reports", "flows")


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_only_the_fundwatch_namespace_is_importable_outside_the_repo(tmp_path: Path, name: str) -> None:
    code = (
        "import importlib, importlib.util, sys\n"
        f"assert importlib.util.find_spec({name!r}) is None, 'top-level {name} is importable'\n"
        f"importlib.import_module('fundwatch.{name}')\n"
    )
    # run from an empty folder so the repository root is not on sys.path
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_every_package_folder_is_declared_in_pyproject() -> None:
    """A new sub-folder with an ``__init__.py`` must be listed in ``[tool.setuptools] packages``."""
    import tomllib

    root = Path(__file__).resolve().parents[2]
    cfg = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    declared = set(cfg["packages"])
    dirs = cfg["package-dir"]
    found = set()
    for pkg, folder in dirs.items():
        base = root / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join([pkg, *rel.parts]) if rel.parts else pkg)
    # a sub-folder mapped on its own (fundwatch.detectors) is not a child of fundwatch/ on disk
    assert found == declared
