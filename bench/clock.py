"""The benchmarks' present, fixed so that every run sees the same due dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

#: Wednesday 1 April 2026, 09:00 in Moscow.
NOW = datetime(2026, 4, 1, 6, 0, tzinfo=UTC)
YESTERDAY = date(2026, 3, 31)
