"""Review of a school's documents: draft → submitted → «ОДОБРЕНО» or «на доработку»."""

from __future__ import annotations

from engine.lifecycle.definition import Party, Phase, Rule, State, WorkflowDefinition
from engine.models import Role

#: A school's curator reviews its documents (a municipal coordinator may curate schools).
_REVIEWERS = frozenset({Role.CURATOR, Role.MUNICIPAL_COORDINATOR})

DOCUMENT_REVIEW_V1 = WorkflowDefinition(
    name="document_review",
    version=1,
    subject="document",
    initial="draft",
    evidence_guard="has_file",
    states=(
        State("draft", "Черновик", Phase.OPEN),
        State("submitted", "На проверке", Phase.UNDER_REVIEW),
        State("returned", "На доработке", Phase.OPEN),
        State("approved", "ОДОБРЕНО", Phase.DONE),
    ),
    rules=(
        Rule(
            "submit",
            ("draft", "returned"),
            "submitted",
            frozenset({Role.SCHOOL}),
            "Отправить на проверку",
            Party.ASSIGNEE,
            guards=("has_file",),
            notify=Party.REVIEWER,
            notice="документ отправлен на проверку",
            emphasis="primary",
        ),
        Rule(
            "approve",
            ("submitted",),
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
            ("submitted",),
            "returned",
            _REVIEWERS,
            "Вернуть на доработку",
            Party.REVIEWER,
            requires_comment=True,
            notify=Party.ASSIGNEE,
            notice="возвращено на доработку",
        ),
    ),
)
