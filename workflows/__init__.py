"""Lifecycle definitions as data; the engine applies them. Depends on `engine` only."""

from __future__ import annotations

from engine.lifecycle import WorkflowRegistry
from engine.workflow import GUARDS
from workflows.activity import ACTIVITY_V1
from workflows.document_review import DOCUMENT_REVIEW_V1

DEFINITIONS = (ACTIVITY_V1, DOCUMENT_REVIEW_V1)

#: Every workflow version the product knows; subjects keep the version they started under.
REGISTRY = WorkflowRegistry(DEFINITIONS, GUARDS)

ACTIVITY = ACTIVITY_V1.name
DOCUMENT_REVIEW = DOCUMENT_REVIEW_V1.name
