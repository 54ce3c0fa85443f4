"""Lifecycle definitions as data, applied with one shared `transitions.Machine` per definition."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum, auto
from typing import Any

from transitions import Machine, MachineError

from engine.errors import DomainError, InvalidTransitionError, NotFoundError, ValidationError

#: A guard returns None when the transition may go ahead, or the error (or the bare text of a
#: ValidationError) saying what is missing.
Guard = Callable[[Any], "DomainError | str | None"]


class SubjectKind(StrEnum):
    """What a workflow can govern."""

    OCCURRENCE = "occurrence"
    DOCUMENT = "document"
    SUBMISSION = "submission"


class Event(StrEnum):
    """Things done to an occurrence that leave its state as it is; logged like a trigger."""

    ACKNOWLEDGE = "acknowledge"
    EXTEND = "extend"
    DATE = "date"
    REASSIGN = "reassign"

    @property
    def notice(self) -> str:
        """What it is called in the history and the notices."""
        return _EVENT_NOTICES[self]


_EVENT_NOTICES = {
    Event.ACKNOWLEDGE: "эскалация принята к сведению",
    Event.EXTEND: "срок продлён",
    Event.DATE: "срок назначен",
    Event.REASSIGN: "исполнитель изменён",
}


class Phase(Enum):
    """What a state means to the rest of the product: the queue, the sweep, the dashboard."""

    #: Work to do: due dates, reminders and escalations apply.
    OPEN = auto()
    #: Waiting for the reviewer's verdict: the curator queue and the review deadline.
    UNDER_REVIEW = auto()
    #: Finished and accepted: counts as done on the dashboard and in reports.
    DONE = auto()
    #: Withdrawn with a reason: counted nowhere.
    CANCELLED = auto()

    @property
    def key(self) -> str:
        """The phase as plain data (snapshots, policies in JSON)."""
        return self.name.lower()


class DefinitionError(ValueError):
    """A workflow definition or escalation policy contradicts itself or the others."""


@dataclass(frozen=True)
class State:
    """One state of a lifecycle, with its Russian label and its phase."""

    name: str
    label: str
    phase: Phase = Phase.OPEN

    @property
    def final(self) -> bool:
        """No work follows: the subject is done or cancelled."""
        return self.phase in (Phase.DONE, Phase.CANCELLED)


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
    #: What happened, as the history and the notices say it («взято в работу»).
    notice: str = ""
    #: How the page shows its button: "primary", "danger" or plain.
    emphasis: str | None = None


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
        where = f"workflow {self.name} v{self.version}"
        if len(names) != len(self.states):
            raise DefinitionError(f"{where}: a state is named twice")
        if self.initial not in names:
            raise DefinitionError(f"{where}: unknown initial state {self.initial}")
        for rule in self.rules:
            if rule.notify not in (None, Party.ASSIGNEE, Party.REVIEWER):
                raise DefinitionError(f"{where}: cannot notify {rule.notify}")
            if rule.party not in Party.ALL:
                raise DefinitionError(f"{where}: unknown party {rule.party}")
            for state in (*rule.sources, rule.dest):
                if state not in names:
                    raise DefinitionError(f"{where}: unknown state {state}")
            for source in rule.sources:
                by_trigger = self._by_state.setdefault(source, {})
                if rule.trigger in by_trigger:
                    raise DefinitionError(f"{where}: two rules for {rule.trigger} from {source}")
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

    def states_in(self, *phases: Phase) -> tuple[str, ...]:
        """The states of the given phases, in definition order."""
        return tuple(s.name for s in self.states if s.phase in phases)

    def phase_of(self, state: str) -> Phase | None:
        """The phase of `state`, or None when the definition has no such state."""
        return next((s.phase for s in self.states if s.name == state), None)

    def rule_into(self, state: str, phase: Phase) -> Rule | None:
        """The first rule from `state` that leads into a state of `phase` (approve, submit)."""
        for rule in self._by_state.get(state, {}).values():
            if self.phase_of(rule.dest) is phase:
                return rule
        return None

    def notice(self, trigger: str) -> str | None:
        """What firing `trigger` is called in the history and the notices."""
        return next((r.notice or r.label for r in self.rules if r.trigger == trigger), None)

    def takes_evidence(self, rule: Rule) -> bool:
        """Whether `rule` checks for evidence: its form carries files and a written report."""
        return self.evidence_guard is not None and self.evidence_guard in rule.guards

    def rework_path(self, state: str) -> tuple[Rule, Rule] | None:
        """From a state reviewers return work into: the assignee's rule that takes it back and
        the one that sends it for review again, for «исправить и отправить» in one step."""
        if not any(rule.dest == state and rule.party == Party.REVIEWER for rule in self.rules):
            return None
        for back in self._by_state.get(state, {}).values():
            if back.party != Party.ASSIGNEE or self.phase_of(back.dest) is not Phase.OPEN:
                continue
            for send in self._by_state.get(back.dest, {}).values():
                into_review = self.phase_of(send.dest) is Phase.UNDER_REVIEW
                if into_review and self.takes_evidence(send):
                    return back, send
        return None

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
            "states": [
                {"name": s.name, "label": s.label, "phase": s.phase.key, "final": s.final}
                for s in self.states
            ],
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
                    "notice": r.notice,
                    "emphasis": r.emphasis,
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
        named = {g for r in definition.rules for g in r.guards}
        if definition.evidence_guard:
            named.add(definition.evidence_guard)
        missing = named - set(guards)
        if missing:
            raise DefinitionError(f"{definition.name}: unknown guards {sorted(missing)}")
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
        rule = self.definition.rule(trigger, state)
        if rule is None:
            raise InvalidTransitionError(trigger, state, self.definition.triggers_from(state))
        return self.follow(rule, state, context)

    def follow(self, rule: Rule, state: str, context: Any) -> str:
        """Take `rule`, already found from `state`: its guards see `context`; the new state."""
        trigger = rule.trigger
        subject = self._borrow()
        subject.state = state
        try:
            fired = subject.trigger(trigger, context=context)  # type: ignore[attr-defined]  # transitions attaches `trigger` at run time
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
        error = guard(event.kwargs["context"])
        if isinstance(error, str):
            error = ValidationError(error)
        if error is not None:
            raise error
        return True

    return condition


class WorkflowRegistry:
    """Every known version of every workflow; new subjects start under the newest."""

    def __init__(self, definitions: Iterable[WorkflowDefinition], guards: Mapping[str, Guard]):
        self._lifecycles: dict[tuple[str, int], Lifecycle] = {}
        self._phases: dict[str, dict[str, Phase]] = {}  # subject → state → phase
        for definition in definitions:
            key = (definition.name, definition.version)
            if key in self._lifecycles:
                raise DefinitionError(
                    f"workflow {definition.name} v{definition.version} given twice"
                )
            self._lifecycles[key] = Lifecycle(definition, guards)
            phases = self._phases.setdefault(definition.subject, {})
            for state in definition.states:
                known = phases.setdefault(state.name, state.phase)
                if known is not state.phase:
                    # the queue and the sweep select by state name across versions
                    raise DefinitionError(
                        f"workflow {definition.name} v{definition.version}: state "
                        f"{state.name} is {state.phase.key} here and {known.key} elsewhere"
                    )
        for subject in self._phases:
            names = {d.name for d in self.definitions() if d.subject == subject}
            if len(names) > 1:
                raise DefinitionError(f"{subject} is governed by two workflows: {sorted(names)}")

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

    def for_subject(self, subject: str) -> Lifecycle:
        """The newest lifecycle of the workflow that governs `subject` (occurrence, document)."""
        for (name, _version), lifecycle in sorted(self._lifecycles.items(), reverse=True):
            if lifecycle.definition.subject == subject:
                return self.current(name)
        raise NotFoundError(f"no workflow governs {subject}")

    def states_in(self, subject: str, *phases: Phase) -> tuple[str, ...]:
        """Every state of `subject`'s workflow, in any version, that is in one of `phases`."""
        return tuple(
            name for name, phase in self._phases.get(subject, {}).items() if phase in phases
        )

    def phases(self, subject: str) -> set[Phase]:
        """The phases some state of `subject`'s workflow is in."""
        return set(self._phases.get(subject, {}).values())
