"""The activity lifecycle: planned → in progress → reported → approved, or returned for rework."""

from __future__ import annotations

from engine.lifecycle import Rule, State, WorkflowDefinition
from engine.models import Role

_COORDINATORS = frozenset({Role.MUNICIPAL_COORDINATOR, Role.REGIONAL_COORDINATOR})

ACTIVITY_V1 = WorkflowDefinition(
    name="activity",
    version=1,
    subject="occurrence",
    initial="planned",
    evidence_guard="has_evidence_or_report",
    states=(
        State("planned", "Запланировано"),
        State("in_progress", "В работе"),
        State("reported", "На проверке"),
        State("returned", "На доработке"),
        State("approved", "ОДОБРЕНО", final=True),
        State("cancelled", "Отменено", final=True),
    ),
    rules=(
        Rule("start", ("planned",), "in_progress", frozenset({Role.SCHOOL}), "Начать работу"),
        Rule(
            "report",
            ("in_progress",),
            "reported",
            frozenset({Role.SCHOOL}),
            "Отправить отчёт",
            guards=("has_evidence_or_report",),
        ),
        Rule("approve", ("reported",), "approved", frozenset({Role.CURATOR}), "Одобрить"),
        Rule(
            "return",
            ("reported",),
            "returned",
            frozenset({Role.CURATOR}),
            "Вернуть на доработку",
            requires_comment=True,
        ),
        Rule("rework", ("returned",), "in_progress", frozenset({Role.SCHOOL}), "Взять в доработку"),
        Rule(
            "cancel",
            ("planned", "in_progress", "reported", "returned"),
            "cancelled",
            _COORDINATORS,
            "Отменить",
            requires_comment=True,
        ),
    ),
)
