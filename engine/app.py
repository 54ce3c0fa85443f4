"""The application object: settings, database, lifecycles, policies and clock, built once.

Web, worker and CLI each build one at start (`App.build`) and hand it to the use cases, as
routemaster's `App` is handed to everything. Building checks every definition and policy
against the others, so a bad lifecycle fails at start with a clear message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from engine.db import make_engine, unit_of_work
from engine.escalation.policy import EscalationPolicy, PolicyBook
from engine.lifecycle.definition import (
    DefinitionError,
    Guard,
    Phase,
    SubjectKind,
    WorkflowDefinition,
    WorkflowRegistry,
)
from engine.models import utcnow
from engine.settings import Settings


@dataclass(frozen=True)
class Catalog:
    """What the product knows of its lifecycles: definitions, guards, default policies."""

    definitions: tuple[WorkflowDefinition, ...]
    guards: Mapping[str, Guard]
    policies: tuple[EscalationPolicy, ...]


@dataclass(frozen=True)
class App:
    """One process's application: pass it first to whatever needs more than a session."""

    settings: Settings
    db: Engine
    registry: WorkflowRegistry
    policies: PolicyBook
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def build(
        cls,
        settings: Settings,
        catalog: Catalog,
        *,
        db: Engine | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> App:
        """Check the catalog and build the application (its engine, unless one is given)."""
        registry = WorkflowRegistry(catalog.definitions, catalog.guards)
        for kind in SubjectKind:
            lifecycle = registry.for_subject(kind.value) if registry.phases(kind.value) else None
            if lifecycle is None:
                raise DefinitionError(f"no workflow governs {kind.value}")
            for phase in (Phase.OPEN, Phase.UNDER_REVIEW, Phase.DONE):
                if phase not in registry.phases(kind.value):
                    raise DefinitionError(
                        f"workflow {lifecycle.definition.name} has no state of phase "
                        f"{phase.key!r}: the queue and the dashboard need one"
                    )
        policies = PolicyBook(catalog.policies, registry)
        return cls(settings, db or make_engine(settings.database_url), registry, policies, clock)

    @contextmanager
    def work(self, *, readonly: bool = False) -> Iterator[Session]:
        """One unit of work around one use case."""
        with unit_of_work(self.db, readonly=readonly) as session:
            yield session

    def states(self, kind: SubjectKind, *phases: Phase) -> tuple[str, ...]:
        """The states of `kind`'s workflow in `phases` (every version)."""
        return self.registry.states_in(kind.value, *phases)
