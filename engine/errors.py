"""Domain errors; callers map them to exit codes and HTTP statuses."""

from __future__ import annotations

from collections.abc import Iterable


class DomainError(Exception):
    """Base of every error the engine raises on purpose."""


class NotFoundError(DomainError):
    """The named record does not exist (or is not visible to the actor)."""


class PermissionDeniedError(DomainError):
    """The actor's role or tenant does not allow the action."""


class InvalidTransitionError(DomainError):
    """The trigger is not allowed from the current state."""

    def __init__(self, trigger: str, state: str, allowed: Iterable[str]) -> None:
        self.trigger = trigger
        self.state = state
        self.allowed = sorted(allowed)
        allowed_text = ", ".join(self.allowed) or "none"
        super().__init__(
            f"trigger '{trigger}' is not allowed in state '{state}'; allowed: {allowed_text}"
        )


class ConflictError(DomainError):
    """Someone else changed the record first; reload and try again."""


class ValidationError(DomainError):
    """The request is incomplete or malformed (a required comment, a bad file)."""
