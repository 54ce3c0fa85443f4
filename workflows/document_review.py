"""Review of a school's documents: draft → submitted → «ОДОБРЕНО» or «на доработку»."""

from __future__ import annotations

from engine.lifecycle import Party, Rule, State, WorkflowDefinition
from engine.models import Role

DOCUMENT_REVIEW_V1 = WorkflowDefinition(
    name="document_review",
    version=1,
    subject="document",
    initial="draft",
    evidence_guard="has_file",
    states=(
        State("draft", "Черновик"),
        State("submitted", "На проверке"),
        State("returned", "На доработке"),
        State("approved", "ОДОБРЕНО", final=True),
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
        ),
        Rule(
            "approve",
            ("submitted",),
            "approved",
            frozenset({Role.CURATOR}),
            "Одобрить",
            Party.REVIEWER,
            notify=Party.ASSIGNEE,
        ),
        Rule(
            "return",
            ("submitted",),
            "returned",
            frozenset({Role.CURATOR}),
            "Вернуть на доработку",
            Party.REVIEWER,
            requires_comment=True,
            notify=Party.ASSIGNEE,
        ),
    ),
)
