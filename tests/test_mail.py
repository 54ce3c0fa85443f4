"""E-mail from the outbox to a real SMTP server on loopback: once, in Russian, retried."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import Notification
from engine.notices.inbox import inbox, mark_read, render
from engine.notices.mail import SmtpSender, message_id
from engine.notices.outbox import deliver_pending, pending_count
from engine.settings import Settings
from tests.smtp import SmtpServer, free_port
from tests.sweeping import at, sweep_at

BASE = "https://roadmap.example"


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def _sender(port: int) -> SmtpSender:
    settings = replace(Settings.from_env({}), smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=5)
    return SmtpSender(settings)


def test_each_notification_is_mailed_once_in_russian(world, registry, smtp) -> None:
    sweep_at(world.engine, "2024-04-01 10:00")  # level 1 for three schools
    with unit_of_work(world.engine, readonly=True) as session:
        waiting = pending_count(session)
    assert waiting == 6  # each school and its curator
    sent = deliver_pending(world.engine, registry, _sender(smtp.port), base_url=BASE)
    assert sent == 6 and len(smtp.inbox.messages) == 6
    assert deliver_pending(world.engine, registry, _sender(smtp.port), base_url=BASE) == 0
    assert len(smtp.inbox.messages) == 6
    assert len(set(smtp.inbox.ids())) == 6
    mail = next(m for m in smtp.inbox.messages if m["To"].addresses[0].username == "school_a")
    body = mail.get_content()
    assert mail["Subject"].startswith("Просрочено (уровень 1 — школа и куратор): 1.1")
    assert "Консультирование родителей" in body and "Школа А" in body
    assert "Срок: 31.03.2024" in body and "Состояние сейчас: Запланировано" in body
    assert f"Открыть: {BASE}/occurrences/{world.occurrence_a}" in body
    with unit_of_work(world.engine, readonly=True) as session:
        keys = set(session.execute(select(Notification.key)).scalars())
    assert {m["X-Roadmap-Key"] for m in smtp.inbox.messages} == keys
    assert {m["Message-ID"] for m in smtp.inbox.messages} == {message_id(k) for k in keys}


def test_a_failed_send_stays_for_a_retry(world, registry) -> None:
    sweep_at(world.engine, "2024-03-27 10:00")  # three reminders
    port = free_port()
    assert deliver_pending(world.engine, registry, _sender(port), base_url=BASE) == 0
    with unit_of_work(world.engine, readonly=True) as session:
        attempts = session.execute(
            select(Notification.email_attempts, Notification.email_error)
        ).all()
    assert [a for a, _ in attempts] == [1, 1, 1] and all(e for _, e in attempts)
    server = SmtpServer(port).start()
    try:
        assert deliver_pending(world.engine, registry, _sender(port), base_url=BASE) == 3
    finally:
        server.stop()
    assert len(server.inbox.messages) == 3


def test_the_inbox_shows_the_same_text(world, registry) -> None:
    sweep_at(world.engine, "2024-03-27 10:00")
    user = world.actor("school_a")
    with unit_of_work(world.engine) as session:
        ids = inbox(session, user.id)
        assert len(ids) == 1 and inbox(session, user.id, unread_only=True) == ids
        [message] = render(session, registry, ids, BASE)
        assert message.subject.startswith("Напоминание: срок 31.03.2024")
        assert mark_read(session, world.actor("school_b").id, ids, at("2024-03-27 11:00")) == 0
        assert mark_read(session, user.id, ids, at("2024-03-27 11:00")) == 1
        assert inbox(session, user.id, unread_only=True) == []


def test_transitions_tell_the_other_side(world, registry, smtp) -> None:
    from engine.lifecycle.definition import SubjectKind
    from engine.lifecycle.fire import fire

    with unit_of_work(world.engine) as session:
        school = world.actor("school_a")
        fire(session, registry, SubjectKind.OCCURRENCE, world.occurrence_a, "start", school)
        fire(
            session,
            registry,
            SubjectKind.OCCURRENCE,
            world.occurrence_a,
            "report",
            school,
            report_text="готово",
        )
        fire(
            session,
            registry,
            SubjectKind.OCCURRENCE,
            world.occurrence_a,
            "return",
            world.actor("curator_a"),
            comment="Нет подписи директора",
        )
    deliver_pending(world.engine, registry, _sender(smtp.port), base_url=BASE)
    got = sorted((m["To"].addresses[0].username, m["Subject"]) for m in smtp.inbox.messages)
    assert got == [
        ("curator_a", "Отправлен отчёт на проверку: Консультирование родителей"),
        ("school_a", "Возвращено на доработку: Консультирование родителей"),
    ]
    returned = next(m for m in smtp.inbox.messages if "Возвращено" in m["Subject"])
    assert "Комментарий: Нет подписи директора" in returned.get_content()


def test_the_outbox_gives_up_after_its_attempts_and_skips_people_without_mail(
    world, registry
) -> None:
    from sqlalchemy import update

    from engine.models import User
    from engine.notices.outbox import MAX_ATTEMPTS

    sweep_at(world.engine, "2024-03-27 10:00")  # three reminders, to three schools
    with unit_of_work(world.engine) as session:
        session.execute(update(User).where(User.login == "school_b").values(email=""))
        session.execute(update(User).where(User.login == "school_c").values(email=None))
        waiting = pending_count(session)
    assert waiting == 1  # no address, no mail: the inbox still has them

    def broken(message):  # type: ignore[no-untyped-def]
        raise OSError("x" * 800)

    tried = []
    for _ in range(MAX_ATTEMPTS + 2):
        deliver_pending(world.engine, registry, broken, base_url=BASE)
        with unit_of_work(world.engine, readonly=True) as session:
            tried.append(
                session.execute(
                    select(Notification.email_attempts, Notification.email_error)
                    .join(User, User.id == Notification.user_id)
                    .where(User.login == "school_a")
                ).one()
            )
    assert [a for a, _ in tried] == [*range(1, MAX_ATTEMPTS + 1), MAX_ATTEMPTS, MAX_ATTEMPTS]
    assert len(tried[0][1]) == 500  # the error is kept, cut to its column
    with unit_of_work(world.engine, readonly=True) as session:
        others = session.execute(
            select(Notification.email_attempts).join(User, User.id == Notification.user_id)
            .where(User.login.in_(["school_b", "school_c"]))
        ).scalars().all()  # fmt: skip
    assert others == [0, 0]


def test_a_sent_mail_counts_its_attempt_and_forgets_the_error(world, registry, smtp) -> None:
    sweep_at(world.engine, "2024-03-27 10:00")

    def broken(message):  # type: ignore[no-untyped-def]
        raise OSError("down")

    deliver_pending(world.engine, registry, broken, base_url=BASE)
    deliver_pending(world.engine, registry, _sender(smtp.port), base_url=BASE)
    with unit_of_work(world.engine, readonly=True) as session:
        rows = session.execute(
            select(Notification.email_attempts, Notification.email_error, Notification.emailed_at)
        ).all()
    assert all(a == 2 and e is None and sent is not None for a, e, sent in rows)
    assert len(smtp.inbox.messages) == len(rows) == 3
