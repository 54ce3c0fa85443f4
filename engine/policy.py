"""Escalation policies: working-day offsets per workflow, which a municipality may change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlmodel import Session

from engine.errors import ValidationError
from engine.models import EscalationPolicyOverride


@dataclass(frozen=True)
class EscalationPolicy:
    """When a workflow's subjects are reminded and escalated, in working days.

    - remind the assignee `reminder_days` before the due date;
    - the day after the due date: overdue, level 1 (the school and its curator);
    - `municipal_after_days` later: level 2 (the municipal coordinator);
    - `regional_after_days` after that: level 3 (the regional coordinator);
    - a report left in `review_state` for `review_days` goes to the municipal coordinator.
    """

    workflow: str
    open_states: tuple[str, ...]
    review_state: str
    reminder_days: int = 3
    municipal_after_days: int = 5
    regional_after_days: int = 5
    review_days: int = 5

    def __post_init__(self) -> None:
        for name in ("reminder_days", "municipal_after_days", "regional_after_days", "review_days"):
            value = getattr(self, name)
            if not 0 <= value <= 60:
                raise ValidationError(f"{name} must be between 0 and 60 working days")

    def offsets(self) -> dict[int, int]:
        """Working days after the due date at which each level is reached."""
        return {
            1: 0,
            2: self.municipal_after_days,
            3: self.municipal_after_days + self.regional_after_days,
        }

    def to_dict(self) -> dict[str, object]:
        """The policy as plain data (for snapshots and the CLI)."""
        return {
            "workflow": self.workflow,
            "open_states": list(self.open_states),
            "review_state": self.review_state,
            "reminder_days": self.reminder_days,
            "municipal_after_days": self.municipal_after_days,
            "regional_after_days": self.regional_after_days,
            "review_days": self.review_days,
        }


class PolicyBook:
    """Default policies by workflow, and each municipality's overrides of them."""

    def __init__(self, defaults: Iterable[EscalationPolicy]) -> None:
        self.defaults = {p.workflow: p for p in defaults}

    def groups(self, session: Session) -> list[tuple[EscalationPolicy, list[int] | None, bool]]:
        """(policy, municipality ids, include) groups that together cover every subject.

        The default applies to municipalities without an override (include=False: "not in
        the listed ids"); each override applies to its own municipality.
        """
        overrides = session.execute(select(EscalationPolicyOverride)).scalars().all()
        groups: list[tuple[EscalationPolicy, list[int] | None, bool]] = []
        for workflow, default in self.defaults.items():
            mine = [o for o in overrides if o.workflow_name == workflow]
            groups.append((default, [o.municipality_id for o in mine] or None, False))
            for override in mine:
                policy = replace(
                    default,
                    reminder_days=override.reminder_days,
                    municipal_after_days=override.municipal_after_days,
                    regional_after_days=override.regional_after_days,
                    review_days=override.review_days,
                )
                groups.append((policy, [override.municipality_id], True))
        return groups

    def for_municipality(
        self, session: Session, workflow: str, municipality_id: int
    ) -> EscalationPolicy:
        """The policy in force for one municipality."""
        for policy, ids, include in self.groups(session):
            if policy.workflow == workflow and include and ids == [municipality_id]:
                return policy
        return self.defaults[workflow]

    def set_override(
        self, session: Session, municipality_id: int, workflow: str, **days: int
    ) -> EscalationPolicy:
        """Store a municipality's own offsets (validated), in the caller's transaction."""
        if workflow not in self.defaults:
            raise ValidationError(f"no escalation policy for workflow '{workflow}'")
        current = self.for_municipality(session, workflow, municipality_id)
        policy = replace(current, **days)
        row = session.get(EscalationPolicyOverride, (municipality_id, workflow))
        values = {
            k: getattr(policy, k)
            for k in ("reminder_days", "municipal_after_days", "regional_after_days", "review_days")
        }
        if row is None:
            session.add(
                EscalationPolicyOverride(
                    municipality_id=municipality_id, workflow_name=workflow, **values
                )
            )
        else:
            for key, value in values.items():
                setattr(row, key, value)
        session.flush()
        return policy
