"""A participant's submission to a monitoring round: values entered → submitted → accepted
by the curator (the regional coordinator for a municipality), or returned with a comment."""

from __future__ import annotations

from engine.lifecycle.definition import Party, Phase, Rule, State, WorkflowDefinition
from engine.models import Role

#: A school answers for itself; a municipal coordinator for the municipality.
_PARTICIPANTS = frozenset({Role.SCHOOL, Role.MUNICIPAL_COORDINATOR})
_REVIEWERS = frozenset({Role.CURATOR, Role.MUNICIPAL_COORDINATOR, Role.REGIONAL_COORDINATOR})

MONITORING_V1 = WorkflowDefinition(
    name="monitoring",
    version=1,
    subject="submission",
    initial="awaiting",
    evidence_guard="has_values",
    states=(
        State("awaiting", "Ожидает данных", Phase.OPEN),
        State("submitted", "На проверке", Phase.UNDER_REVIEW),
        State("returned", "На доработке", Phase.OPEN),
        State("accepted", "ПРИНЯТО", Phase.DONE),
    ),
    rules=(
        Rule(
            "submit",
            ("awaiting", "returned"),
            "submitted",
            _PARTICIPANTS,
            "Отправить данные",
            Party.ASSIGNEE,
            guards=("has_values",),
            notify=Party.REVIEWER,
            notice="данные мониторинга отправлены на проверку",
            emphasis="primary",
        ),
        Rule(
            "accept",
            ("submitted",),
            "accepted",
            _REVIEWERS,
            "Принять",
            Party.REVIEWER,
            notify=Party.ASSIGNEE,
            notice="данные мониторинга приняты",
            emphasis="primary",
        ),
        Rule(
            "return",
            ("submitted",),
            "returned",
            _REVIEWERS,
            "Вернуть на доработку",
            Party.REVIEWER,
            requires_comment=True,
            notify=Party.ASSIGNEE,
            notice="данные мониторинга возвращены на доработку",
        ),
    ),
)
