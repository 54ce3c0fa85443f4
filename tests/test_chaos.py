"""Seeded chaos: transitions, sweeps at random instants, killed sweeps, duplicate deliveries,
extensions, acknowledgements and a flaky mail server; the invariants hold after every step."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.errors import DomainError
from engine.escalation import board as escalation_service
from engine.escalation.sweep import sweep
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import fire
from engine.models import Escalation, Notification, Occurrence, TransitionLog
from engine.notices.outbox import deliver_pending
from engine.work.roadmaps import add_occurrences
from tests.factories import POLICIES, REGISTRY
from tests.sweeping import at

STEPS = 250
SCHOOL_STAFF = {"school_a": "school_a", "school_b": "school_b", "school_c": "school_c"}


class Crash(BaseException):
    """The process dies: not an error anything may catch and carry on from."""


@dataclass
class Mailbox:
    """The SMTP side: every accepted message, and which ones a crash made it see twice."""

    accepted: Counter[str] = field(default_factory=Counter)
    crashed: set[str] = field(default_factory=set)


@dataclass
class Chaos:
    world: object
    rng: random.Random
    clock: datetime
    mailbox: Mailbox = field(default_factory=Mailbox)
    log: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    # --- steps --------------------------------------------------------------------------

    def advance(self) -> None:
        self.clock += timedelta(hours=self.rng.randint(0, 96))

    def sweep(self) -> None:
        sweep(self.world.engine, POLICIES, self.clock)

    def duplicate(self) -> None:
        self.sweep()
        self.sweep()

    def killed_sweep(self) -> None:
        batches_before_death = self.rng.randint(0, 6)
        seen = [0]

        def die(_: str) -> None:
            seen[0] += 1
            if seen[0] > batches_before_death:
                raise Crash

        try:
            sweep(
                self.world.engine,
                POLICIES,
                self.clock,
                batch_size=self.rng.randint(1, 4),
                after_batch=die,
            )
        except Crash:
            pass

    def transition(self) -> None:
        everything = self.occurrences()
        # most work lands on a few occurrences, so that some go all the way to approval
        occurrence = self.rng.choice(everything[:4] if self.rng.random() < 0.6 else everything)
        owner = {self.world.school_a: "a", self.world.school_b: "b", self.world.school_c: "c"}[
            occurrence.assignee_id
        ]
        allowed = REGISTRY.for_subject("occurrence").definition.triggers_from(occurrence.state)
        if allowed and self.rng.random() < 0.85:
            trigger = self.rng.choice([t for t in allowed if t != "cancel"] or allowed)
        else:
            trigger = self.rng.choice(["start", "report", "approve", "return", "rework", "cancel"])
        login = {
            "approve": "curator_a" if owner == "a" else "curator_bc",
            "return": "curator_a" if owner == "a" else "curator_bc",
            "cancel": "coord_m2" if owner == "c" else "coord_m1",
        }.get(trigger, f"school_{owner}")
        if self.rng.random() < 0.1:
            login = self.rng.choice(["school_a", "curator_bc", "coord_m1", "regional"])
        try:
            with unit_of_work(self.world.engine) as session:
                fire(
                    session,
                    REGISTRY,
                    SubjectKind.OCCURRENCE,
                    occurrence.id,
                    trigger,
                    self.world.actor(login),
                    comment="причина",
                    report_text="отчёт",
                    now=self.clock,
                )
        except DomainError as error:
            self.errors[type(error).__name__ + str(error)[:40]] += 1

    def extend(self) -> None:
        occurrence = self.rng.choice(self.occurrences())
        if occurrence.due_on is None:
            return
        new_date = max(occurrence.due_on, self.clock.date()) + timedelta(
            days=self.rng.randint(1, 20)
        )
        coordinator = "coord_m2" if occurrence.assignee_id == self.world.school_c else "coord_m1"
        try:
            with unit_of_work(self.world.engine) as session:
                escalation_service.extend_deadline(
                    session,
                    self.world.actor(coordinator),
                    occurrence.id,
                    new_date,
                    "перенос",
                    now=self.clock,
                )
        except DomainError:
            pass

    def acknowledge(self) -> None:
        with unit_of_work(self.world.engine, readonly=True) as session:
            opened = escalation_service.open_escalations(session, POLICIES, limit=50)
        if not opened:
            return
        escalation = self.rng.choice(opened)
        try:
            with unit_of_work(self.world.engine) as session:
                escalation_service.acknowledge(
                    session,
                    self.world.actor("regional"),
                    escalation.id,
                    "на контроле",
                    now=self.clock,
                )
        except DomainError:
            pass

    def send(self) -> None:
        def flaky(message) -> None:  # type: ignore[no-untyped-def]
            roll = self.rng.random()
            if roll < 0.2:
                raise ConnectionError("SMTP is down")
            self.mailbox.accepted[message.key] += 1
            if roll > 0.95:
                self.mailbox.crashed.add(message.key)
                raise Crash  # accepted by SMTP, then the worker died before the sent mark

        try:
            deliver_pending(
                self.world.engine,
                REGISTRY,
                flaky,
                base_url="http://x",
                limit=self.rng.randint(1, 30),
                now=lambda: self.clock,
            )
        except Crash:
            pass

    # --- invariants ---------------------------------------------------------------------

    def occurrences(self) -> list[Occurrence]:
        with unit_of_work(self.world.engine, readonly=True) as session:
            return list(session.execute(select(Occurrence).order_by(Occurrence.id)).scalars())

    def check(self) -> None:
        with unit_of_work(self.world.engine, readonly=True) as session:
            occurrences = {o.id: o for o in session.execute(select(Occurrence)).scalars()}
            rows = session.execute(select(Escalation)).scalars().all()
            logs = session.execute(select(TransitionLog).order_by(TransitionLog.id)).scalars()
            emailed = set(
                session.execute(
                    select(Notification.key).where(Notification.emailed_at.is_not(None))
                ).scalars()
            )
            logs = list(logs)
        # every overdue occurrence has exactly one escalation per level reached, this cycle
        current: dict[int, list[int]] = {}
        for row in rows:
            occ = occurrences[row.occurrence_id]
            if row.kind == "overdue" and row.cycle == occ.due_revision:
                current.setdefault(occ.id, []).append(row.level)
        for occ in occurrences.values():
            assert sorted(current.get(occ.id, [])) == list(range(1, occ.escalation_level + 1)), (
                occ.id,
                occ.escalation_level,
                current.get(occ.id),
            )
        # no escalation on an approved occurrence
        approved_at = {log.occurrence_id: log.at for log in logs if log.trigger == "approve"}
        for row in rows:
            if row.occurrence_id in approved_at and row.kind != "review":
                assert row.created_at <= approved_at[row.occurrence_id], row.id
        # every outbox message sent once: each sent mark was accepted; nothing was accepted
        # twice but where a crash fell between the SMTP server's yes and the sent mark
        assert emailed <= set(self.mailbox.accepted)
        twice = {key for key, n in self.mailbox.accepted.items() if n > 1}
        assert twice <= self.mailbox.crashed
        # the transition log replays to the current states
        state = {occ_id: "planned" for occ_id in occurrences}
        for log in logs:
            assert log.from_state == state[log.occurrence_id], log.id
            state[log.occurrence_id] = log.to_state
        assert state == {occ_id: occ.state for occ_id, occ in occurrences.items()}


@pytest.mark.parametrize("seed", [1, 2])
def test_invariants_hold_under_chaos(world, seed: int) -> None:
    with unit_of_work(world.engine) as session:
        dates = [date(2024, 3, 5) + timedelta(days=9 * n) for n in range(8)]
        add_occurrences(
            session,
            REGISTRY.for_subject("occurrence"),
            world.activity,
            [world.school_a, world.school_b, world.school_c],
            dates,
        )
    chaos = Chaos(world, random.Random(seed), at("2024-03-01 10:00"))
    steps = {
        chaos.advance: 4,
        chaos.sweep: 3,
        chaos.duplicate: 1,
        chaos.killed_sweep: 2,
        chaos.transition: 6,
        chaos.extend: 1,
        chaos.acknowledge: 1,
        chaos.send: 2,
    }
    actions, weights = zip(*steps.items(), strict=True)
    for _ in range(STEPS):
        action = chaos.rng.choices(actions, weights)[0]
        chaos.log.append(action.__name__)
        action()
        chaos.check()
    done = Counter(chaos.log)
    assert done["killed_sweep"] and done["duplicate"] and done["send"], done
    # the run reached escalations, approvals and sent mail, so the invariants were exercised
    with unit_of_work(world.engine, readonly=True) as session:
        levels = set(session.execute(select(Occurrence.escalation_level)).scalars())
        approved = session.execute(
            select(TransitionLog.id).where(TransitionLog.trigger == "approve")
        ).first()
    assert max(levels) >= 2 and approved is not None and chaos.mailbox.accepted, chaos.errors
