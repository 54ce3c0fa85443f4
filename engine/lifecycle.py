"""Lifecycle definitions as data, applied with one shared `transitions.Machine` per definition."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from transitions import Machine, MachineError

from engine.errors import InvalidTransitionError, NotFoundError, ValidationError

#: A guard returns None when the transition may go ahead, or a message saying what is missing.
Guard = Callable[[Any], "str | None"]


@dataclass(frozen=True)
class State:
    """One state of a lifecycle, with its Russian label."""

    name: str
    label: str
    final: bool = False


class Party:
    """How the actor must stand to the subject's organization to fire a rule."""

    ASSIGNEE = "assignee"  # its own people: the school's staff, the municipality's coordinator
    REVIEWER = "reviewer"  # a school's curator; for a municipality, its regional coordinator
    SUPERVISOR = "supervisor"  # coordinators whose territory holds it

    ALL = (ASSIGNEE, REVIEWER, SUPERVISOR)


@dataclass(frozen=True)
class Rule:
    """One trigger from some states to another, and who may fire it."""

    trigger: str
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[str]
    label: str
    party: str = Party.SUPERVISOR
    requires_comment: bool = False
    guards: tuple[str, ...] = ()
    #: Who is told when it fires: the subject's assignee staff, or its reviewers.
    notify: str | None = None


@dataclass(frozen=True)
class WorkflowDefinition:
    """A named, versioned lifecycle: states, rules and the kind of subject it governs."""

    name: str
    version: int
    subject: str
    initial: str
    states: tuple[State, ...]
    rules: tuple[Rule, ...]
    evidence_guard: str | None = None
    _by_state: dict[str, dict[str, Rule]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = {s.name for s in self.states}
        if self.initial not in names:
            raise ValueError(f"{self.name} v{self.version}: unknown initial state {self.initial}")
        for rule in self.rules:
            if rule.notify not in (None, Party.ASSIGNEE, Party.REVIEWER):
                raise ValueError(f"{self.name} v{self.version}: cannot notify {rule.notify}")
            if rule.party not in Party.ALL:
                raise ValueError(f"{self.name} v{self.version}: unknown party {rule.party}")
            for state in (*rule.sources, rule.dest):
                if state not in names:
                    raise ValueError(f"{self.name} v{self.version}: unknown state {state}")
            for source in rule.sources:
                by_trigger = self._by_state.setdefault(source, {})
                if rule.trigger in by_trigger:
                    raise ValueError(f"{self.name}: two rules for {rule.trigger} from {source}")
                by_trigger[rule.trigger] = rule

    def rule(self, trigger: str, state: str) -> Rule | None:
        """The rule that `trigger` follows from `state`, if any."""
        return self._by_state.get(state, {}).get(trigger)

    def triggers_from(self, state: str) -> list[str]:
        """Triggers allowed from `state`, in definition order."""
        return list(self._by_state.get(state, {}))

    def state_label(self, state: str) -> str:
        """The Russian label of `state` (the name itself when unknown)."""
        return next((s.label for s in self.states if s.name == state), state)

    def accepts_evidence(self, state: str) -> bool:
        """Whether files may be attached in `state`: a rule from it checks for evidence."""
        guard = self.evidence_guard
        return guard is not None and any(
            guard in rule.guards for rule in self._by_state.get(state, {}).values()
        )

    def to_dict(self) -> dict[str, Any]:
        """The definition as plain data, for export, snapshots and diagrams."""
        return {
            "name": self.name,
            "version": self.version,
            "subject": self.subject,
            "initial": self.initial,
            "evidence_guard": self.evidence_guard,
            "states": [{"name": s.name, "label": s.label, "final": s.final} for s in self.states],
            "transitions": [
                {
                    "trigger": r.trigger,
                    "label": r.label,
                    "source": list(r.sources),
                    "dest": r.dest,
                    "roles": sorted(r.roles),
                    "party": r.party,
                    "requires_comment": r.requires_comment,
                    "guards": list(r.guards),
                    "notify": r.notify,
                }
                for r in self.rules
            ],
        }


class _Subject:
    """What the machine moves: a stand-in for the row, which stays untouched in memory.

    SQLModel rows refuse the attributes `transitions` attaches, and the database, not the
    machine, decides whether a change wins; so the row is written by a guarded UPDATE.
    """

    def __init__(self, state: str) -> None:
        self.state = state


class Lifecycle:
    """Applies one definition: checks guards and computes the next state."""

    def __init__(self, definition: WorkflowDefinition, guards: Mapping[str, Guard]) -> None:
        self.definition = definition
        missing = {g for r in definition.rules for g in r.guards} - set(guards)
        if missing:
            raise ValueError(f"{definition.name}: unknown guards {sorted(missing)}")
        self._lock = threading.Lock()
        self._idle: queue.SimpleQueue[_Subject] = queue.SimpleQueue()
        self._machine = Machine(
            model=None,
            states=[s.name for s in definition.states],
            transitions=[
                {
                    "trigger": r.trigger,
                    "source": list(r.sources),
                    "dest": r.dest,
                    "conditions": [_condition(guards[g]) for g in r.guards],
                }
                for r in definition.rules
            ],
            initial=definition.initial,
            auto_transitions=False,
            send_event=True,
        )

    def advance(self, state: str, trigger: str, context: Any) -> str:
        """Fire `trigger` from `state` with guards seeing `context`; return the new state."""
        if trigger not in self._machine.events:
            raise InvalidTransitionError(trigger, state, self.definition.triggers_from(state))
        subject = self._borrow()
        subject.state = state
        try:
            fired = subject.trigger(trigger, context=context)  # type: ignore[attr-defined]
        except MachineError as exc:
            raise InvalidTransitionError(
                trigger, state, self.definition.triggers_from(state)
            ) from exc
        finally:
            self._idle.put(subject)
        if not fired:  # pragma: no cover - guards raise rather than return False
            raise ValidationError(f"'{trigger}' was refused by a guard in state '{state}'")
        return subject.state

    def _borrow(self) -> _Subject:
        """A stand-in no other thread is using, already added to the machine.

        Stand-ins are reused rather than added and removed per call: a machine keeps every
        model alive until removed (transitions #434, #146), and adding one is most of the cost
        of a firing. There are never more of them than threads that fired at the same time.
        """
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            subject = _Subject(self.definition.initial)
            with self._lock:  # adding a model changes the machine's shared model list
                self._machine.add_model(subject, initial=self.definition.initial)
            return subject


def _condition(guard: Guard) -> Callable[[Any], bool]:
    """Adapt a guard to a `transitions` condition that raises with the guard's message."""

    def condition(event: Any) -> bool:
        message = guard(event.kwargs["context"])
        if message:
            raise ValidationError(message)
        return True

    return condition


class WorkflowRegistry:
    """Every known version of every workflow; new subjects start under the newest."""

    def __init__(self, definitions: Iterable[WorkflowDefinition], guards: Mapping[str, Guard]):
        self._lifecycles: dict[tuple[str, int], Lifecycle] = {}
        for definition in definitions:
            key = (definition.name, definition.version)
            if key in self._lifecycles:
                raise ValueError(f"workflow {definition.name} v{definition.version} given twice")
            self._lifecycles[key] = Lifecycle(definition, guards)

    def get(self, name: str, version: int) -> Lifecycle:
        """The lifecycle that governs subjects started under `name` v`version`."""
        try:
            return self._lifecycles[(name, version)]
        except KeyError:
            raise NotFoundError(f"workflow {name} v{version} is not defined") from None

    def current(self, name: str) -> Lifecycle:
        """The newest version of workflow `name`."""
        versions = [v for (n, v) in self._lifecycles if n == name]
        if not versions:
            raise NotFoundError(f"workflow {name} is not defined")
        return self._lifecycles[(name, max(versions))]

    def definitions(self) -> list[WorkflowDefinition]:
        """All definitions, by name then version."""
        return [self._lifecycles[k].definition for k in sorted(self._lifecycles)]
