"""One settings object, read from the environment, shared by the CLI, the web and the worker."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("instance")


@dataclass(frozen=True)
class Settings:
    """Configuration of one process; every field comes from an environment variable."""

    database_url: str
    evidence_dir: Path
    max_evidence_bytes: int

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read settings from `env` (default: the process environment)."""
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("ROADMAP_DATA_DIR", str(DEFAULT_DATA_DIR)))
        return cls(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'roadmap.db'}",
            evidence_dir=Path(env.get("EVIDENCE_DIR") or data_dir / "evidence"),
            max_evidence_bytes=int(env.get("MAX_EVIDENCE_BYTES", str(20 * 1024 * 1024))),
        )
