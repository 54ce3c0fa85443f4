"""Sign-in limits: failed attempts counted per account and per address, in the database.

The database is what every gunicorn worker and every host share, so the limit holds however
the product is run; an in-process counter would give each worker its own budget. A login
that does not exist is counted like one that does, so the answers cannot tell them apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session

from engine.errors import ValidationError
from engine.models import SignInFailure

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class SignInLimits:
    """How many failures an account, and an address, may have within `window`."""

    per_account: int
    per_address: int
    window: timedelta

    @classmethod
    def parse(cls, text: str, address_factor: int = 5) -> SignInLimits:
        """ "10 per minute", "20 per 15 minutes": the account's limit; an address gets
        `address_factor` times as many, so one school's typos behind a shared NAT do not lock
        out the others."""
        m = re.fullmatch(r"\s*(\d+)\s+per\s+(\d+\s+)?(second|minute|hour|day)s?\s*", text)
        if m is None:
            raise ValidationError(f"cannot read the sign-in limit {text!r}")
        amount, count, unit = int(m.group(1)), int(m.group(2) or 1), m.group(3)
        window = timedelta(seconds=count * _UNITS[unit])
        return cls(amount, amount * address_factor, window)


def _keys(login: str, address: str | None) -> tuple[str, str]:
    return f"login:{login.strip().casefold()[:150]}", f"address:{(address or '?')[:60]}"


def refused(
    session: Session, limits: SignInLimits, login: str, address: str | None, now: datetime
) -> bool:
    """Whether this account or this address has used up its failures for now."""
    account, place = _keys(login, address)
    since = now - limits.window
    counts: dict[str, int] = dict(
        session.execute(
            select(SignInFailure.key, func.count())
            .where(SignInFailure.key.in_([account, place]), SignInFailure.at > since)
            .group_by(SignInFailure.key)
        ).all()
    )
    return counts.get(account, 0) >= limits.per_account or counts.get(place, 0) >= (
        limits.per_address
    )


def record_failure(session: Session, login: str, address: str | None, now: datetime) -> None:
    """Count one failed attempt against the account and the address."""
    session.execute(
        insert(SignInFailure), [{"key": key, "at": now} for key in _keys(login, address)]
    )


def forget_failures(session: Session, older_than: datetime) -> int:
    """Drop failures no window looks at any more; how many."""
    done = session.execute(delete(SignInFailure).where(SignInFailure.at < older_than))
    return int(done.rowcount or 0)
