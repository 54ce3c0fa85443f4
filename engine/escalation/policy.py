"""Escalation policies: working-day offsets per workflow, which a municipality may change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlmodel import Session

from engine.errors import NotFoundError, ValidationError
from engine.lifecycle.definition import DefinitionError, Phase, WorkflowRegistry
from engine.models import EscalationPolicyOverride


@dataclass(frozen=True)
class EscalationPolicy:
    """When a workflow's subjects are reminded and escalated, in working days.

    - remind the assignee `reminder_days` before the due date;
    - the day after the due date: overdue, level 1 (the school and its curator);
    - `municipal_after_days` later: level 2 (the municipal coordinator);
    - `regional_after_days` after that: level 3 (the regional coordinator);
    - a report left in `review_phase` for `review_days` goes to the municipal coordinator.

    A policy names phases; `PolicyBook` checks them against the definitions and fills
    `open_states` and `review_states` with the states of those phases.
    """

    workflow: str
    due_phase: Phase | None
    review_phase: Phase
    reminder_days: int = 3
    municipal_after_days: int = 5
    regional_after_days: int = 5
    review_days: int = 5
    open_states: tuple[str, ...] = ()
    review_states: tuple[str, ...] = ()
    #: The kind of subject its workflow governs (filled by `PolicyBook`).
    subject: str = ""

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
            "due_phase": self.due_phase.key if self.due_phase else None,
            "review_phase": self.review_phase.key,
            "open_states": list(self.open_states),
            "review_states": list(self.review_states),
            "reminder_days": self.reminder_days,
            "municipal_after_days": self.municipal_after_days,
            "regional_after_days": self.regional_after_days,
            "review_days": self.review_days,
        }


class PolicyBook:
    """Default policies by workflow, and each municipality's overrides of them."""

    def __init__(self, defaults: Iterable[EscalationPolicy], registry: WorkflowRegistry) -> None:
        self.defaults = {p.workflow: _resolve(p, registry) for p in defaults}
        self._by_subject = {
            registry.current(name).definition.subject: policy
            for name, policy in self.defaults.items()
        }

    def for_subject(self, subject: str) -> EscalationPolicy:
        """The default policy of the workflow that governs `subject`."""
        try:
            return self._by_subject[subject]
        except KeyError:
            raise NotFoundError(f"no escalation policy for {subject}") from None

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

    def review_days_by_municipality(
        self, session: Session, workflow: str
    ) -> tuple[int, dict[int, int]]:
        """The review days of `workflow`'s default, and of each municipality with its own."""
        default = self.defaults[workflow]
        own = {
            ids[0]: policy.review_days
            for policy, ids, include in self.groups(session)
            if policy.workflow == workflow and include and ids
        }
        return default.review_days, own

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


def _resolve(policy: EscalationPolicy, registry: WorkflowRegistry) -> EscalationPolicy:
    """The policy with the states of its phases, or DefinitionError naming what is wrong."""
    try:
        definition = registry.current(policy.workflow).definition
    except NotFoundError:
        raise DefinitionError(
            f"escalation policy names workflow {policy.workflow!r}, which is not defined"
        ) from None
    present = registry.phases(definition.subject)
    for role, phase in (("due", policy.due_phase), ("review", policy.review_phase)):
        if phase is not None and phase not in present:
            raise DefinitionError(
                f"escalation policy of {policy.workflow}: its {role} phase {phase.key!r} is "
                f"the phase of no state of workflow {policy.workflow}"
            )
    subject = definition.subject
    return replace(
        policy,
        subject=subject,
        open_states=registry.states_in(subject, policy.due_phase) if policy.due_phase else (),
        review_states=registry.states_in(subject, policy.review_phase),
    )
