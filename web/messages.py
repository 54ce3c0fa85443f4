"""Engine errors as people read them, in Russian: the error table's message, translated."""

from __future__ import annotations

from flask_babel import gettext as _

from engine.errors import N_, DomainError

__all__ = ["N_", "russian"]


def russian(error: DomainError) -> str:
    """A message a school head or curator can act on: the specific one where there is one."""
    message = error.message_id
    return _(message) if message else str(error)
