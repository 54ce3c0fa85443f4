"""Escalation policies as data: the defaults each municipality starts from."""

from __future__ import annotations

from engine.escalation.policy import EscalationPolicy
from engine.lifecycle.definition import Phase
from workflows.activity import ACTIVITY_V1
from workflows.document_review import DOCUMENT_REVIEW_V1
from workflows.monitoring import MONITORING_V1

ACTIVITY_POLICY = EscalationPolicy(
    workflow=ACTIVITY_V1.name,
    due_phase=Phase.OPEN,
    review_phase=Phase.UNDER_REVIEW,
    reminder_days=3,
    municipal_after_days=5,
    regional_after_days=5,
    review_days=5,
)

DOCUMENT_REVIEW_POLICY = EscalationPolicy(
    workflow=DOCUMENT_REVIEW_V1.name,
    due_phase=None,  # documents have no due date of their own, only a review deadline
    review_phase=Phase.UNDER_REVIEW,
    review_days=5,
)

#: A round closes on its own day: a reminder two working days before, then the ladder.
MONITORING_POLICY = EscalationPolicy(
    workflow=MONITORING_V1.name,
    due_phase=Phase.OPEN,
    review_phase=Phase.UNDER_REVIEW,
    reminder_days=2,
    municipal_after_days=3,
    regional_after_days=3,
    review_days=5,
)

POLICIES = (ACTIVITY_POLICY, DOCUMENT_REVIEW_POLICY, MONITORING_POLICY)
