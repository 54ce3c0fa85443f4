"""What people do, in real Chromium (Debian's package, driven by Playwright).

The main story, bulk approval, and importing a seed through the upload page. Screenshots of
the main pages are saved to tests/artifacts/screenshots/.
"""

from __future__ import annotations

import io
import re
import shutil
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from engine.db import unit_of_work
from engine.demo import DEMO_PASSWORD
from engine.escalation.sweep import sweep
from engine.models import Activity, Escalation, Occurrence, Organization, Roadmap, User
from tests.builders import build_docx
from tests.factories import POLICIES, REGISTRY
from tests.smtp import free_port

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).with_name("artifacts") / "screenshots"

pytestmark = [
    pytest.mark.sqlite_only,
    pytest.mark.skipif(
        shutil.which("chromium") is None and not Path(CHROMIUM).exists(),
        reason="Debian's chromium is not installed (make test installs it)",
    ),
]


@pytest.fixture
def site(demo, make_web_app):
    """The demo, served by a real HTTP server on loopback."""
    app = make_web_app(SECRET_KEY="browser-test")
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
#: What axe-core checks: WCAG 2.1 A and AA.
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


class Person:
    """One signed-in person in a browser context of their own."""

    def __init__(self, browser, site: str, login: str, viewport: dict | None = None) -> None:
        self.viewport = viewport or DESKTOP
        self.context = browser.new_context(locale="ru-RU", viewport=self.viewport)
        self.page = self.context.new_page()
        self.site = site
        self.page.goto(f"{site}/login")
        self.page.fill("input[name=login]", login)
        self.page.fill("input[name=password]", DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url, self.page.content()[:2000]

    def go(self, path: str) -> None:
        self.page.goto(f"{self.site}{path}")

    def shot(self, name: str) -> None:
        """Save the page (`name`, `-phone` on a phone), then check it fits the screen and
        passes axe-core."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        suffix = "-phone" if self.viewport["width"] < 700 else ""
        (SHOTS / f"{name}{suffix}.png").parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}{suffix}.png"), full_page=True)
        self.check()

    def check(self) -> None:
        """No wider than the viewport, and no serious or critical axe-core violation."""
        from axe_playwright_python.sync_playwright import Axe

        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= self.viewport["width"], f"{self.page.url}: {width} px wide"
        found = Axe().run(self.page, options=WCAG).response["violations"]
        serious = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]])
            for v in found
            if v["impact"] in ("serious", "critical")
        ]
        assert not serious, f"{self.page.url}: {serious}"

    def close(self) -> None:
        self.context.close()


def _planned_of_school1(db) -> int:
    with unit_of_work(db, readonly=True) as session:
        school = session.execute(
            select(Organization.id).where(Organization.name == "МБОУ Ершичская СШ")
        ).scalar_one()
        return (
            session.execute(
                select(Occurrence.id)
                .where(Occurrence.assignee_id == school, Occurrence.state == "planned")
                .order_by(Occurrence.due_on, Occurrence.id)
            )
            .scalars()
            .first()
        )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_main_story(browser, site, db, tmp_path, viewport) -> None:
    occurrence = _planned_of_school1(db)
    evidence = tmp_path / "Протокол совещания.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% protocol\n")

    school = Person(browser, site, "school1", viewport)
    school.go("/tasks")
    assert "Мои задачи" in school.page.inner_text("h1")
    assert int(school.page.inner_text("#overdue-count")) > 0
    school.shot("01-school-tasks")
    school.go(f"/occurrences/{occurrence}")
    school.page.click("text=Начать работу")
    school.page.set_input_files("#report-form input[type=file]", str(evidence))
    school.page.fill("#report-form textarea[name=report_text]", "Совещание проведено 15.01")
    school.shot("02-school-report-form")
    school.page.click("#report-form button[type=submit]")
    assert school.page.inner_text("#state") == "На проверке"
    assert school.page.is_visible("text=Протокол совещания.pdf")

    school.shot("02b-school-reported")
    curator = Person(browser, site, "curator1", viewport)
    curator.go("/queue")
    curator.shot("03-curator-queue")
    curator.page.click(f"a[href='/occurrences/{occurrence}']")
    curator.shot("03b-curator-occurrence")
    curator.page.fill("textarea[name=comment]", "Приложите протокол с подписью директора")
    curator.page.click("text=Вернуть на доработку")
    assert curator.page.inner_text("#state") == "На доработке"

    school.go(f"/occurrences/{occurrence}")
    assert school.page.is_visible("text=Приложите протокол с подписью директора")
    school.shot("04-school-returned")
    assert "Приложите протокол" in school.page.inner_text("#returned-with")
    school.page.set_input_files("#report-form input[type=file]", str(evidence))
    school.page.fill("#report-form textarea[name=report_text]", "Протокол с подписью")
    school.page.click("#resend")  # take it back and send it again, in one step
    assert school.page.inner_text("#state") == "На проверке"

    curator.go(f"/occurrences/{occurrence}")
    curator.page.click("button:has-text('Одобрить')")
    assert curator.page.inner_text("#state") == "ОДОБРЕНО"
    curator.shot("05-occurrence-approved")
    history = curator.page.inner_text("#history")
    assert "Приложите протокол с подписью директора" in history

    coordinator = Person(browser, site, "coordinator", viewport)
    coordinator.go("/dashboard")
    assert int(coordinator.page.inner_text("#approved-total")) == 2  # the demo's one + ours
    coordinator.shot("06-coordinator-dashboard")
    with coordinator.page.expect_download() as waiting:
        coordinator.page.click("a.download")
    download = waiting.value
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=6)]  # below its header
    ours = [r for r in rows if r[10] and "Протокол совещания.pdf" in r[10]]
    assert len(ours) == 1 and ours[0][7] == "ОДОБРЕНО" and ours[0][5] == "МБОУ Ершичская СШ"
    coordinator.go("/inbox")
    coordinator.shot("07-inbox")
    for person in (school, curator, coordinator):
        person.close()


def test_bulk_approval(browser, site, db) -> None:
    from engine.accounts.access import load_actor
    from engine.lifecycle.definition import SubjectKind
    from engine.lifecycle.fire import fire

    with unit_of_work(db) as session:
        school = session.execute(
            select(Organization.id).where(Organization.name == "МБОУ Руссковская СШ")
        ).scalar_one()
        chosen = (
            session.execute(
                select(Occurrence.id)
                .where(Occurrence.assignee_id == school, Occurrence.state == "planned")
                .order_by(Occurrence.id)
                .limit(6)
            )
            .scalars()
            .all()
        )
        actor = load_actor(session, "school2")
        for occurrence in chosen:
            fire(session, REGISTRY, SubjectKind.OCCURRENCE, occurrence, "start", actor)
            fire(
                session,
                REGISTRY,
                SubjectKind.OCCURRENCE,
                occurrence,
                "report",
                actor,
                report_text="сделано",
            )
    curator = Person(browser, site, "curator1")
    curator.go("/queue")
    before = int(curator.page.inner_text("#queue-count"))
    for occurrence in chosen:
        curator.page.check(f"input[value='occurrence:{occurrence}']")
    curator.page.click("#bulk-approve")
    assert curator.page.inner_text("#chosen-count") == "6"
    assert curator.page.inner_text("#unopened-count") == "6"
    curator.shot("08-bulk-confirmation")
    curator.page.click("#confirm-approve")
    assert curator.page.is_visible("text=Одобрено: 6.")
    assert int(curator.page.inner_text("#queue-count")) == before - 6
    curator.close()
    with unit_of_work(db, readonly=True) as session:
        states = (
            session.execute(select(Occurrence.state).where(Occurrence.id.in_(chosen)))
            .scalars()
            .all()
        )
    assert states == ["approved"] * 6


def test_importing_a_seed_through_the_upload_page(browser, site, db, tmp_path) -> None:
    document = build_docx("003", tmp_path / "Дорожная карта Ершичи.docx")
    coordinator = Person(browser, site, "coordinator")
    coordinator.go("/roadmaps")
    coordinator.page.set_input_files("input[name=document]", str(document))
    coordinator.page.click("text=Просмотреть")
    assert re.search(r"Мероприятий:\s*34", coordinator.page.inner_text("#activity-count"))
    coordinator.shot("08-import-preview")
    assert "Период дорожной карты закончился" in coordinator.page.inner_text("#import-warnings")
    coordinator.page.check("input[name=acknowledged]")
    coordinator.page.click("#confirm-import")
    # the request only queues it; the job page follows the import until it is over
    coordinator.page.wait_for_selector("#import-job[data-status=done]", timeout=60_000)
    assert re.search(r"Мероприятий в документе:\s*34", coordinator.page.inner_text("#import-job"))
    assert "Дорожная карта создана" in coordinator.page.inner_text("#import-result")
    coordinator.shot("09-import-done")
    coordinator.page.click("text=Открыть дорожную карту")
    coordinator.go("/roadmaps")
    assert coordinator.page.locator("#roadmaps tbody tr").count() == 2
    assert "Дорожная карта Ершичи.docx" in coordinator.page.inner_text("#recent-imports")
    coordinator.shot("10-roadmaps")
    coordinator.close()
    with unit_of_work(db, readonly=True) as session:
        newest = session.execute(select(Roadmap).order_by(Roadmap.id.desc())).scalars().first()
        activities = session.execute(
            select(func.count()).select_from(Activity).where(Activity.roadmap_id == newest.id)
        ).scalar_one()
        owner = session.get(Organization, newest.owner_id)
    # what the page said was written: 34 activities, in the coordinator's municipality
    assert activities == 34 and owner.name == "Ершичский район"


def test_another_municipalitys_past_roadmap_arrives_as_history(browser, site, db, tmp_path) -> None:
    """The importing coordinator is warned of the territory and the period, sees the counts,
    keeps the past-due work as history, and the next sweep escalates none of it."""
    document = build_docx("000", tmp_path / "Нефтекумский округ.docx")
    coordinator = Person(browser, site, "coordinator")
    coordinator.page.set_viewport_size({"width": 390, "height": 844})
    coordinator.go("/roadmaps")
    coordinator.page.set_input_files("input[name=document]", str(document))
    coordinator.page.click("text=Просмотреть")
    codes = coordinator.page.eval_on_selector_all(
        "#import-warnings li", "items => items.map(i => i.dataset.code)"
    )
    assert {"other_territory", "period_over"} <= set(codes)
    summary = coordinator.page.locator("#import-summary")
    occurrences = int(summary.get_attribute("data-occurrences"))
    past_due = int(summary.get_attribute("data-past-due"))
    assert occurrences >= past_due > 0
    assert coordinator.page.is_checked("input[name=past_due][value=history]")  # the default
    width = coordinator.page.evaluate("document.documentElement.scrollWidth")
    coordinator.shot("17-import-warnings-phone")
    coordinator.page.locator("#import-warnings").scroll_into_view_if_needed()
    coordinator.page.screenshot(path=str(SHOTS / "17-import-warnings-phone-top.png"))
    coordinator.page.locator("#confirm-form").scroll_into_view_if_needed()
    coordinator.page.screenshot(path=str(SHOTS / "18-import-choice-phone.png"))
    coordinator.page.click("#confirm-import")  # not acknowledged: the browser holds it
    assert coordinator.page.locator("#import-warnings").count() == 1
    coordinator.page.check("input[name=acknowledged]")
    coordinator.page.click("#confirm-import")
    coordinator.page.wait_for_selector("#import-job[data-status=done]", timeout=60_000)
    coordinator.close()
    with unit_of_work(db, readonly=True) as session:
        newest = session.execute(select(Roadmap).order_by(Roadmap.id.desc())).scalars().first()
        ours = select(Occurrence.id).join(Activity).where(Activity.roadmap_id == newest.id)
        written = session.execute(select(func.count()).select_from(ours.subquery())).scalar_one()
    assert written == occurrences  # what the preview said
    result = sweep(db, POLICIES, datetime.now(UTC))
    assert result.escalations  # the sweep ran over the demo's own overdue work…
    with unit_of_work(db, readonly=True) as session:
        raised = session.execute(
            select(func.count()).select_from(Escalation).where(Escalation.occurrence_id.in_(ours))
        ).scalar_one()
    assert raised == 0  # …and raised nothing for the work that arrived as history
    assert width <= 390, f"the import preview is {width}px wide on a phone"


def test_a_region_moves_in_and_a_curator_accepts_the_invitation(
    browser, site, db, tmp_path
) -> None:
    from dataclasses import replace

    import workflows
    from engine.app import App
    from engine.notices.mail import SmtpSender
    from engine.notices.outbox import deliver_pending
    from engine.settings import Settings
    from tests.smtp import SmtpServer
    from tests.test_directory import directory_rows, write_xlsx
    from tests.test_people import PEOPLE_HEADER, people_rows

    rows = directory_rows()
    directory = write_xlsx(tmp_path / "Реестр ОО.xlsx", rows)
    people = write_xlsx(tmp_path / "Пользователи.xlsx", people_rows(), PEOPLE_HEADER)
    admin = Person(browser, site, "admin")
    admin.go("/directory")
    admin.page.set_input_files("input[name=sheet]", str(directory))
    admin.page.click("text=Просмотреть")
    assert admin.page.inner_text("#created-count") == "30"
    admin.shot("11-directory-preview")
    admin.page.click("#confirm-sheet")
    assert admin.page.is_visible("text=школ добавлено 30")
    admin.shot("12-directory")
    admin.go("/people")
    admin.page.set_input_files("input[name=sheet]", str(people))
    admin.page.click("text=Просмотреть")
    assert admin.page.inner_text("#created-count") == "37"
    admin.page.click("#confirm-sheet")
    assert admin.page.is_visible("text=добавлено и приглашено 37")
    admin.shot("13-people")
    admin.close()

    smtp = SmtpServer().start()
    try:
        settings = replace(Settings.from_env({}), smtp_host="127.0.0.1", smtp_port=smtp.port)
        app = App.build(settings, workflows.CATALOG, db=db)
        deliver_pending(db, app.registry, SmtpSender(settings), base_url=site)
        mails = [m for m in smtp.inbox.messages if m["To"].addresses[0].username == "curator2"]
    finally:
        smtp.stop()
    assert len(mails) == 1
    body = mails[0].get_body(("plain",)).get_content()
    token = re.search(r"/password/set/(\S+)", body).group(1)

    context = browser.new_context(locale="ru-RU", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{site}/password/set/{token}")
    page.fill("input[name=new]", "Kurator-vtoroy-2026")
    page.fill("input[name=again]", "Kurator-vtoroy-2026")
    page.screenshot(path=str(SHOTS / "14-set-password-phone.png"), full_page=True)
    page.click("#set-password button[type=submit]")
    page.fill("input[name=login]", "curator2@example.org")
    page.fill("input[name=password]", "Kurator-vtoroy-2026")
    page.click("button[type=submit]")
    page.goto(f"{site}/my-schools")
    page.wait_for_selector("#my-schools")
    seen = page.inner_text("#my-schools")
    assert sorted(re.findall(r"СШ № (\d+)", seen), key=int) == [str(n) for n in range(7, 13)]
    page.screenshot(path=str(SHOTS / "15-curator-first-day-phone.png"), full_page=True)
    page.goto(f"{site}/password/set/{token}")  # the same link again
    assert page.get_attribute("#link-spent", "data-status") == "used"
    context.close()

    admin = Person(browser, site, "admin")
    admin.page.set_viewport_size({"width": 390, "height": 844})
    admin.go("/people?role=curator&q=Номер 2")
    admin.page.click("#people a")
    assert "Средняя школа № 7»" in admin.page.inner_text("#curator-schools")
    width = admin.page.evaluate("document.documentElement.scrollWidth")
    admin.shot("16-curator-page-phone")
    admin.close()
    assert width <= 390, f"the person page is {width}px wide on a phone"


CORRECTED = """\
Дорожная карта Ершичского района на 2026/2027 учебный год

| № | Мероприятие | Срок | Ответственный |
| 1.1 | Анализ результатов диагностических работ по школам | ежеквартально | Руководители ОО |
| 1.2 | Совещание с руководителями школ | когда-нибудь весной | Отдел образования |
"""


def test_a_misread_deadline_is_fixed_in_the_preview_and_an_activity_edited_after_import(
    browser, site, db, tmp_path
) -> None:
    """The coordinator fixes a deadline the importer could not read, confirms, then changes
    an activity's deadline: the work a school has begun stays, the planned work moves."""
    from engine.accounts.access import load_actor
    from engine.lifecycle.definition import SubjectKind
    from engine.lifecycle.fire import fire

    document = tmp_path / "Дорожная карта 2026-2027.txt"
    document.write_text(CORRECTED, encoding="utf-8")
    coordinator = Person(browser, site, "coordinator")
    coordinator.go("/roadmaps")
    coordinator.page.set_input_files("input[name=document]", str(document))
    coordinator.page.click("text=Просмотреть")
    assert coordinator.page.locator("td[data-kind=none]").count() == 1
    coordinator.page.fill("textarea[name=deadline_text_1]", "до 15 марта 2027")
    coordinator.shot("19-preview-correction")
    coordinator.page.click("#apply-fixes")
    coordinator.page.wait_for_selector("#fixes-note")
    assert coordinator.page.locator("td[data-kind=none]").count() == 0
    assert "15.03.2027" in coordinator.page.inner_text("#preview")
    if coordinator.page.locator("input[name=acknowledged]").count():
        coordinator.page.check("input[name=acknowledged]")
    coordinator.page.click("#confirm-import")
    coordinator.page.wait_for_selector("#import-job[data-status=done]", timeout=60_000)

    with unit_of_work(db, readonly=True) as session:
        roadmap = session.execute(select(Roadmap).order_by(Roadmap.id.desc())).scalars().first()
        analysis, meeting = (
            session.execute(
                select(Activity)
                .where(Activity.roadmap_id == roadmap.id)
                .order_by(Activity.position)
            )
            .scalars()
            .all()
        )
    assert meeting.deadline_text == "до 15 марта 2027"
    begun_on = datetime(2026, 12, 31).date()
    with unit_of_work(db) as session:  # a school takes up its work due at the year's end
        begun = (
            session.execute(
                select(Occurrence).where(
                    Occurrence.activity_id == analysis.id, Occurrence.due_on == begun_on
                )
            )
            .scalars()
            .first()
        )
        definition = REGISTRY.for_subject(SubjectKind.OCCURRENCE).definition
        trigger = definition.triggers_from(definition.initial)[0]
        school_login = (
            session.execute(select(User.login).where(User.organization_id == begun.assignee_id))
            .scalars()
            .first()
        )
        begun_id, assignee_id = begun.id, begun.assignee_id
        actor = load_actor(session, school_login)
        moved = fire(session, REGISTRY, SubjectKind.OCCURRENCE, begun_id, trigger, actor)
    begun_state = moved.to_state

    coordinator.go(f"/roadmaps/{roadmap.id}")
    assert "Дорожная карта 2026-2027.txt" in coordinator.page.inner_text("#sources")
    coordinator.page.click(f"tr[data-activity='{analysis.id}'] >> text=Изменить")
    coordinator.page.fill("input[name=deadline_text]", "ежемесячно, до 25 числа")
    coordinator.shot("20-activity-edit")
    coordinator.page.click("#save-activity")
    coordinator.page.wait_for_selector("#changes")
    flash = coordinator.page.inner_text(".flash.success")
    assert "Задач добавлено" in flash and "сохранено с историей: 1" in flash
    assert "ежемесячно, до 25 числа" in coordinator.page.inner_text("#changes")
    coordinator.page.set_viewport_size({"width": 390, "height": 844})
    coordinator.shot("21-roadmap-changes-phone")
    coordinator.close()
    with unit_of_work(db, readonly=True) as session:
        kept = session.get(Occurrence, begun_id)
        planned = (
            session.execute(
                select(Occurrence.due_on).where(
                    Occurrence.activity_id == analysis.id,
                    Occurrence.assignee_id == assignee_id,
                    Occurrence.id != begun_id,
                    Occurrence.due_on >= datetime(2027, 1, 1).date(),
                )
            )
            .scalars()
            .all()
        )
    assert (kept.state, kept.due_on) == (begun_state, begun_on)  # the begun work stays
    assert planned and all(d.day == 25 for d in planned)  # the planned work moved to the 25ths


def _forty_schools_and_three_hundred_items(db) -> tuple[int, list[int]]:
    """curator1 gets 37 more schools (40 in all) and 300 reports waiting in the queue; the
    id of one school and its items, oldest first."""
    from engine.lifecycle.definition import Phase

    definition = REGISTRY.current("activity").definition
    waiting = definition.states_in(Phase.UNDER_REVIEW)[0]
    with unit_of_work(db) as session:
        curator = session.execute(select(User).where(User.login == "curator1")).scalar_one()
        first_school = session.execute(
            select(Organization).where(Organization.name == "МБОУ Ершичская СШ")
        ).scalar_one()
        schools = [
            Organization(kind="school", name=f"МБОУ СШ № {n}", parent_id=first_school.parent_id)
            for n in range(1, 38)
        ]
        session.add_all(schools)
        session.flush()
        from engine.models import CuratorAssignment

        session.add_all(CuratorAssignment(curator_id=curator.id, school_id=s.id) for s in schools)
        activities = session.execute(select(Activity.id).order_by(Activity.id).limit(8)).all()
        start = datetime(2026, 11, 1, 9, tzinfo=UTC)
        rows = []
        for school in [*schools, first_school]:
            for k, (activity,) in enumerate(activities):
                rows.append(
                    Occurrence(
                        activity_id=activity,
                        assignee_id=school.id,
                        due_on=date(2031, 6, 1 + k),
                        state=waiting,
                        workflow_name=definition.name,
                        workflow_version=definition.version,
                        state_changed_at=start + timedelta(minutes=7 * len(rows)),
                    )
                )
        session.add_all(rows)  # 38 schools × 8 = 304 (the other two have none)
        session.flush()
        ours = [r.id for r in rows if r.assignee_id == first_school.id]
        return first_school.id, ours


def test_a_curator_with_forty_schools_filters_opens_approves_and_lands_on_the_next(
    browser, site, db
) -> None:
    school, items = _forty_schools_and_three_hundred_items(db)
    curator = Person(browser, site, "curator1")
    curator.go("/queue")
    assert int(curator.page.inner_text("#queue-count")) >= 300
    curator.shot("09-curator-desk-300")
    curator.page.wait_for_load_state("load")  # htmx and the page's script are in
    curator.page.evaluate("window.stillThisPage = true")
    curator.page.select_option("select[name=school]", str(school))  # no button pressed
    from playwright.sync_api import expect

    expect(curator.page.locator("#queue-count")).to_have_text(str(len(items)))
    # the list came in place: the same document, its address says what is shown
    assert curator.page.evaluate("window.stillThisPage") is True
    assert f"school={school}" in curator.page.url
    assert curator.page.locator("#queue tbody tr").count() == len(items)
    assert curator.page.locator("#queue td[data-label]").count() > 0  # cards on a phone
    curator.shot("10-curator-desk-one-school")
    with curator.page.expect_navigation(url=f"**/occurrences/{items[0]}"):
        curator.page.click("#queue tbody tr:first-child a")
    curator.page.wait_for_load_state("load")  # its script listens for the keys
    with curator.page.expect_navigation(url=f"**/occurrences/{items[1]}"):
        curator.page.keyboard.press("a")  # approve and next
    curator.page.wait_for_selector("p.flash.success", timeout=10_000)
    assert "Одобрено. Школа получит уведомление." in curator.page.inner_text("p.flash.success")
    curator.shot("11-curator-approved-and-next")
    with curator.page.expect_navigation(url=f"**/occurrences/{items[2]}"):
        curator.page.click("#approve-next")
    with unit_of_work(db, readonly=True) as session:
        states = (
            session.execute(
                select(Occurrence.state).where(Occurrence.id.in_(items[:3])).order_by(Occurrence.id)
            )
            .scalars()
            .all()
        )
    definition = REGISTRY.current("activity").definition
    from engine.lifecycle.definition import Phase

    assert [definition.phase_of(s) for s in states] == [Phase.DONE, Phase.DONE, Phase.UNDER_REVIEW]
    curator.close()


def _ids(db) -> dict[str, int]:
    with unit_of_work(db, readonly=True) as session:
        return {
            "school": session.execute(
                select(Organization.id).where(Organization.name == "МБОУ Ершичская СШ")
            ).scalar_one(),
            "roadmap": session.execute(select(func.min(Roadmap.id))).scalar_one(),
            "person": session.execute(select(User.id).where(User.login == "school1")).scalar_one(),
            "occurrence": _planned_of_school1(db),
            "activity": session.execute(select(func.min(Activity.id))).scalar_one(),
        }


#: The main pages of each role; `{name}` is filled from `_ids`.
MAIN_PAGES = {
    "school1": ["/tasks", "/occurrences/{occurrence}", "/documents", "/inbox", "/account"],
    "curator1": ["/queue", "/my-schools", "/schools/{school}", "/tasks", "/documents"],
    "coordinator": [
        "/dashboard",
        "/escalations",
        "/roadmaps",
        "/roadmaps/{roadmap}",
        "/activities/{activity}/edit",
        "/tasks",
        "/directory",
        "/directory/schools/{school}",
        "/people",
        "/people/{person}",
        "/occurrences/{occurrence}",
    ],
    "regional": ["/dashboard", "/escalations", "/roadmaps", "/directory"],
    "admin": ["/admin/workflows", "/people"],
}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_main_page_fits_the_screen_and_passes_axe(browser, site, db, viewport) -> None:
    sweep(db, POLICIES, datetime.now(UTC))  # escalations on the board
    ids = _ids(db)
    for login, paths in MAIN_PAGES.items():
        person = Person(browser, site, login, viewport)
        for path in paths:
            response = person.page.goto(f"{site}{path.format(**ids)}")
            assert response.status == 200, (login, path, response.status)
            name = re.sub(r"\W+", "-", path.format(**ids)).strip("-") or "home"
            person.shot(f"pages/{login}-{name}")
        person.close()


def test_a_monitoring_round_from_opening_to_plan_against_actual(browser, site, db, tmp_path):
    """Two indicators and a three-question survey for five schools: two submit with a file,
    one is returned and sent again, both accepted; a silent one is reminded and escalated
    once per level; the dashboard and the report hold the same numbers."""
    from engine.deadlines.calendar import WorkCalendar
    from engine.models import Indicator, MonitoringRound, Submission
    from tests.sweeping import MSK

    with unit_of_work(db, readonly=True) as session:
        roadmap_id = session.execute(select(func.min(Roadmap.id))).scalar_one()
        indicators = session.execute(
            select(Indicator.id).where(Indicator.roadmap_id == roadmap_id)
        ).scalars()
        assert len(list(indicators)) == 2
    evidence = tmp_path / "Справка о курсах.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% courses\n")
    with unit_of_work(db, readonly=True) as session:
        calendar = WorkCalendar.load(session)
    opens = datetime.now(MSK).date()
    closes = calendar.add_working_days(opens, 10)

    coordinator = Person(browser, site, "coordinator")
    coordinator.go(f"/roadmaps/{roadmap_id}")
    coordinator.page.click("#new-round")
    coordinator.page.fill("input[name=title]", "Мониторинг, I этап")
    coordinator.page.fill("input[name=opens_on]", opens.isoformat())
    coordinator.page.fill("input[name=closes_on]", closes.isoformat())
    for box in coordinator.page.locator("input[name=indicator]").all():
        box.check()
    for n, (text, kind, choices) in enumerate(
        [
            ("Проведён ли педсовет по итогам четверти?", "single", "да\nнет"),
            ("Какие курсы прошли педагоги?", "multiple", "ИКТ\nФГОС\nИнклюзия"),
            ("Сколько родителей пришло на собрание?", "number", ""),
        ]
    ):
        coordinator.page.fill(f"input[name=q{n}-text]", text)
        coordinator.page.select_option(f"select[name=q{n}-kind]", kind)
        coordinator.page.fill(f"textarea[name=q{n}-choices]", choices)
    coordinator.shot("30-round-new")
    coordinator.page.click("#open-round button[type=submit]")
    assert "участников: 5" in coordinator.page.inner_text(".summary")
    round_url = coordinator.page.url
    round_id = int(round_url.rsplit("/", 1)[-1])

    def submission_of(name: str) -> int:
        with unit_of_work(db, readonly=True) as session:
            return session.execute(
                select(Submission.id)
                .join(Organization, Organization.id == Submission.assignee_id)
                .where(Submission.round_id == round_id, Organization.name == name)
            ).scalar_one()

    def enter(person: Person, values: list[str], courses: list[str], parents: str) -> None:
        person.go("/tasks")
        person.page.click("#round-tasks a")
        fields = person.page.locator("#values input[name^=value-]").all()
        for field, value in zip(fields, values, strict=True):
            field.fill(value)
        person.page.check("#survey input[value='да']")
        for course in courses:
            person.page.check(f"#survey input[value='{course}']")
        person.page.fill("#survey input[inputmode=decimal]", parents)
        person.page.set_input_files("#entries input[type=file]", str(evidence))

    school1 = Person(browser, site, "school1", PHONE)
    enter(school1, ["85", "40"], ["ИКТ", "ФГОС"], "41")
    school1.shot("31-submission")
    school1.page.click("#entries button.primary")
    assert school1.page.inner_text("#state") == "На проверке"
    school2 = Person(browser, site, "school2")
    enter(school2, ["95", "45"], ["ИКТ"], "30")
    school2.page.click("#entries button.primary")
    assert school2.page.inner_text("#state") == "На проверке"

    first, second = submission_of("МБОУ Ершичская СШ"), submission_of("МБОУ Руссковская СШ")
    curator = Person(browser, site, "curator1")
    curator.go("/queue")
    assert curator.page.locator(f"a[href='/submissions/{first}']").count() == 1
    curator.page.click(f"a[href='/submissions/{first}']")
    curator.shot("32-submission-review")
    curator.page.fill("#verdict textarea[name=comment]", "Доля педагогов не сходится со справкой")
    curator.page.click("#verdict button:has-text('Вернуть на доработку') >> nth=0")
    assert curator.page.inner_text("#state") == "На доработке"
    curator.go(f"/submissions/{second}")
    curator.page.click("#verdict button:has-text('Принять') >> nth=0")
    assert curator.page.inner_text("#state") == "ПРИНЯТО"

    school1.go(f"/submissions/{first}")
    assert "не сходится со справкой" in school1.page.inner_text("#returned-with")
    school1.page.fill("#values input[name^=value-] >> nth=0", "88")
    school1.page.click("#entries button.primary")
    assert school1.page.inner_text("#state") == "На проверке"
    curator.go(f"/submissions/{first}")
    curator.page.click("#verdict button:has-text('Принять') >> nth=0")
    assert curator.page.inner_text("#state") == "ПРИНЯТО"

    # the third school never submits: reminded, then escalated once per level
    silent = submission_of("МБОУ Поселковская СШ")
    policy = POLICIES.for_subject("submission")
    reminded = closes
    for _ in range(policy.reminder_days):
        reminded -= timedelta(days=1)
        while not calendar.is_working_day(reminded):
            reminded -= timedelta(days=1)
    steps = {
        ("reminder", 0): reminded,
        ("overdue", 1): calendar.add_working_days(closes, 1),
        ("overdue", 2): calendar.add_working_days(closes, 1 + policy.municipal_after_days),
        ("overdue", 3): calendar.add_working_days(
            closes, 1 + policy.municipal_after_days + policy.regional_after_days
        ),
    }
    reached: set[tuple[str, int]] = set()
    for step, day in steps.items():
        reached.add(step)
        for _ in range(2):
            sweep(db, POLICIES, datetime.combine(day, datetime.min.time(), MSK).replace(hour=10))
        with unit_of_work(db, readonly=True) as session:
            rows = session.execute(
                select(Escalation.kind, Escalation.level).where(Escalation.submission_id == silent)
            ).all()
        assert sorted(rows) == sorted(reached), step

    coordinator.go(f"/dashboard?roadmap={roadmap_id}")
    shown = coordinator.page.locator("#indicators td.value").all_inner_texts()
    assert shown == ["91,5", "42,5"]  # (88 + 95) / 2 and (40 + 45) / 2
    coordinator.shot("33-dashboard-indicators")
    coordinator.page.click("#plan-link")
    assert coordinator.page.locator("[data-mark]").all_inner_texts() == ["в графике", "под угрозой"]
    coordinator.shot("34-plan")
    coordinator.page.goto(round_url)
    coordinator.shot("35-round")
    report = coordinator.page.request.get(f"{site}/roadmaps/{roadmap_id}/report.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(report.body()))["Мониторинг показателей"]
    values = [row[3].value for row in sheet.iter_rows(min_row=5)]
    assert [str(v).replace(".", ",") for v in values] == shown
    with unit_of_work(db, readonly=True) as session:
        assert session.get(MonitoringRound, round_id).title == "Мониторинг, I этап"
    for person in (coordinator, school1, school2, curator):
        person.close()
