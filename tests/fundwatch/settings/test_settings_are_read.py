"""Every settings field is read somewhere: a field nobody reads is a promise the code breaks.

A field counts as read when its name appears, outside the settings modules themselves, as an
attribute (``settings.scoring.w_money``, ``ls.quarantine_raw_chars``), a keyword or parameter
of the same name (detectors take their settings as constructor arguments named like the
fields, see ``Detector.from_settings``), a quoted key, or by a computed name
(``getattr(settings, f"w_{part}")``). A name that two sections share counts only in a module
that also names its section (``.runtime`` or ``RuntimeSettings``), or the check could not tell
the two apart.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from fundwatch.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
#: Where the code that reads settings lives (the installed packages, not tests or benchmarks).
CODE_DIRS = ("fundwatch", "detectors", "expectations", "reports", "flows")


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _fields(ann, f"{prefix}{name}.")
        else:
            out.append((f"{prefix}{name}", name))
    return out


def _code_files() -> dict[str, str]:
    texts = {}
    for d in CODE_DIRS:
        for p in sorted((ROOT / d).rglob("*.py")):
            if p.parent.name == "settings" and p.parent.parent.name == "fundwatch":
                continue
            texts[str(p.relative_to(ROOT))] = p.read_text(encoding="utf-8")
    return texts


FILES = _code_files()
CODE = "\n".join(FILES.values())
FIELDS = _fields(Settings)
SECTION_CLASSES = {name: info.annotation.__name__ for name, info in Settings.model_fields.items()}


def test_the_walk_finds_the_sections():
    assert {path.split(".")[0] for path, _ in FIELDS} >= {"load", "validation", "scoring", "runtime", "store"}


SHARED = {name for _, name in FIELDS if sum(n == name for _, n in FIELDS) > 1}


@pytest.mark.parametrize("path, name", FIELDS, ids=[p for p, _ in FIELDS])
def test_field_is_read_outside_the_settings_modules(path, name):
    if name in SHARED:
        section = path.split(".")[0]
        names_section = re.compile(rf"\.{section}\b|\b{SECTION_CLASSES[section]}\b")
        used = any(re.search(rf"\.{name}\b", text) and names_section.search(text) for text in FILES.values()) or (
            # detector sections hand their fields to constructors by name
            section in ("subsidy", "medical", "peers") and re.search(rf"\bself\.{name}\b", CODE)
        )
    else:
        prefix = name[: name.index("_") + 1] if "_" in name else None
        used = re.search(rf"(\.{name}\b|\b{name}\s*[=:,)]|[\"']{name}[\"'])", CODE) or (
            prefix and re.search(rf"f[\"']{prefix}\{{", CODE)
        )
    assert used, f"settings field {path} is never read: use it or remove it"
