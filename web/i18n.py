"""Translation catalogs: the .po files ship with the code; compiled .mo files are built once
per catalog version into a cache directory, so no binary lives in the repository."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

CATALOGS = Path(__file__).with_name("translations")


def compile_translations() -> Path:
    """The directory Flask-Babel reads, with every catalog compiled."""
    sources = sorted(CATALOGS.glob("*/LC_MESSAGES/messages.po"))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"roadmap-translations-{digest}"
    if not target.exists():
        staging = Path(tempfile.mkdtemp(prefix="roadmap-translations-"))
        for source in sources:
            language = source.parent.parent.name
            out = staging / language / "LC_MESSAGES" / "messages.mo"
            out.parent.mkdir(parents=True)
            with source.open("rb") as po, out.open("wb") as mo:
                write_mo(mo, read_po(po, locale=language))
        try:
            staging.rename(target)
        except OSError:  # another process compiled the same version first
            pass
    return target
