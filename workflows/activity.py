"""The activity lifecycle: planned → in progress → reported → approved, or returned for rework."""

from __future__ import annotations

from engine.lifecycle.definition import Party, Phase, Rule, State, WorkflowDefinition
from engine.models import Role

#: Schools do their own occurrences; a municipal coordinator does the municipality's.
_DOERS = frozenset({Role.SCHOOL, Role.MUNICIPAL_COORDINATOR})
#: Curators review schools (a municipal coordinator the schools they curate); regional
#: coordinators review municipalities.
_REVIEWERS = frozenset({Role.CURATOR, Role.MUNICIPAL_COORDINATOR, Role.REGIONAL_COORDINATOR})
_COORDINATORS = frozenset({Role.MUNICIPAL_COORDINATOR, Role.REGIONAL_COORDINATOR})

ACTIVITY_V1 = WorkflowDefinition(
    name="activity",
    version=1,
    subject="occurrence",
    initial="planned",
    evidence_guard="has_evidence_or_report",
    states=(
        State("planned", "Запланировано", Phase.OPEN),
        State("in_progress", "В работе", Phase.OPEN),
        State("reported", "На проверке", Phase.UNDER_REVIEW),
        State("returned", "На доработке", Phase.OPEN),
        State("approved", "ОДОБРЕНО", Phase.DONE),
        State("cancelled", "Отменено", Phase.CANCELLED),
    ),
    rules=(
        Rule(
            "start",
            ("planned",),
            "in_progress",
            _DOERS,
            "Начать работу",
            Party.ASSIGNEE,
            notice="взято в работу",
            emphasis="primary",
        ),
        Rule(
            "report",
            ("in_progress",),
            "reported",
            _DOERS,
            "Отправить отчёт",
            Party.ASSIGNEE,
            guards=("has_evidence_or_report",),
            notify=Party.REVIEWER,
            notice="отправлен отчёт на проверку",
        ),
        Rule(
            "approve",
            ("reported",),
            "approved",
            _REVIEWERS,
            "Одобрить",
            Party.REVIEWER,
            notify=Party.ASSIGNEE,
            notice="ОДОБРЕНО",
            emphasis="primary",
        ),
        Rule(
            "return",
            ("reported",),
            "returned",
            _REVIEWERS,
            "Вернуть на доработку",
            Party.REVIEWER,
            requires_comment=True,
            notify=Party.ASSIGNEE,
            notice="возвращено на доработку",
        ),
        Rule(
            "rework",
            ("returned",),
            "in_progress",
            _DOERS,
            "Взять в доработку",
            Party.ASSIGNEE,
            notice="взято в доработку",
            emphasis="primary",
        ),
        Rule(
            "cancel",
            ("planned", "in_progress", "reported", "returned"),
            "cancelled",
            _COORDINATORS,
            "Отменить мероприятие",
            Party.SUPERVISOR,
            requires_comment=True,
            notify=Party.ASSIGNEE,
            notice="отменено",
            emphasis="danger",
        ),
    ),
)
