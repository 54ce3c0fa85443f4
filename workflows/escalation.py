"""Escalation policies as data: the defaults each municipality starts from."""

from __future__ import annotations

from engine.policy import EscalationPolicy, PolicyBook

ACTIVITY_POLICY = EscalationPolicy(
    workflow="activity",
    open_states=("planned", "in_progress", "returned"),
    review_state="reported",
    reminder_days=3,
    municipal_after_days=5,
    regional_after_days=5,
    review_days=5,
)

DOCUMENT_REVIEW_POLICY = EscalationPolicy(
    workflow="document_review",
    open_states=(),  # documents have no due date of their own, only a review deadline
    review_state="submitted",
    review_days=5,
)

POLICIES = PolicyBook([ACTIVITY_POLICY, DOCUMENT_REVIEW_POLICY])
