"""Lifecycle definitions, their guards and escalation policies as data. Depends on `engine` only.

Everything the product knows of a lifecycle is here: change a state, a trigger, a guard or an
escalation offset in one of these files, and the queue, the sweep, the dashboard and the notices
follow. `CATALOG` is what an application is built from (`engine.app.App.build`).
"""

from __future__ import annotations

from engine.app import Catalog
from workflows.activity import ACTIVITY_V1
from workflows.document_review import DOCUMENT_REVIEW_V1
from workflows.escalation import POLICIES
from workflows.guards import GUARDS
from workflows.monitoring import MONITORING_V1

#: Every workflow version the product knows; subjects keep the version they started under.
DEFINITIONS = (ACTIVITY_V1, DOCUMENT_REVIEW_V1, MONITORING_V1)

CATALOG = Catalog(definitions=DEFINITIONS, guards=GUARDS, policies=POLICIES)
