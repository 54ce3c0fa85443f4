"""Russian first, English available: every message of the UI has its English translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from engine.work.documents import KIND_NAMES
from tests.factories import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "N_": None}
METHODS = [
    ("web/templates/**.html", "jinja2"),
    ("web/**.py", "python"),
    ("engine/errors.py", "python"),
]


def _catalog(language: str) -> dict[str, str]:
    path = ROOT / "web" / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        return {m.id: m.string for m in read_po(po) if m.id}


def test_every_ui_message_has_an_english_translation() -> None:
    found = {
        message
        for _, _, message, *_ in extract_from_dir(str(ROOT), method_map=METHODS, keywords=KEYWORDS)
        if message
    }
    for definition in REGISTRY.definitions():
        found |= {s.label for s in definition.states} | {r.label for r in definition.rules}
    found |= set(KIND_NAMES.values())
    english = _catalog("en")
    missing = sorted(m for m in found if not english.get(m))
    assert len(found) > 200
    assert missing == [], f"add English for: {missing[:10]}"
