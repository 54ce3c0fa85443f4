"""Monitoring rounds through the web, on the demo: a coordinator opens a round, schools enter
values and answers with files, the curator returns and accepts, the plan shows the result."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import docx
import openpyxl
import pytest
from sqlalchemy import func, select

from engine.db import unit_of_work
from engine.models import (
    Indicator,
    MonitoringRound,
    Organization,
    Roadmap,
    RoundQuestion,
    Submission,
)
from tests.factories import REGISTRY
from tests.webclient import PDF, client_as

SUB = "submission"


@pytest.fixture
def app(demo, make_web_app):
    return make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="rounds")


def _roadmap(db) -> tuple[int, list[int]]:
    with unit_of_work(db, readonly=True) as session:
        roadmap_id = session.execute(select(func.min(Roadmap.id))).scalar_one()
        indicators = session.execute(
            select(Indicator.id).where(Indicator.roadmap_id == roadmap_id).order_by(Indicator.id)
        ).scalars()
        return roadmap_id, list(indicators)


ROUND_FORM = {
    "title": "Мониторинг, I этап",
    "opens_on": date.today().isoformat(),
    "closes_on": (date.today() + timedelta(days=14)).isoformat(),
    "scope": "school",
    "q0-text": "Проведён ли педсовет по итогам четверти?",
    "q0-kind": "single",
    "q0-choices": "да\nнет",
    "q1-text": "Какие курсы прошли педагоги?",
    "q1-kind": "multiple",
    "q1-choices": "ИКТ\nФГОС\nИнклюзия",
    "q2-text": "Сколько родителей пришло на собрание?",
    "q2-kind": "number",
}


def _open(app, db) -> int:
    roadmap_id, indicators = _roadmap(db)
    coordinator = client_as(app, "coordinator")
    form = coordinator.get(f"/roadmaps/{roadmap_id}/rounds/new")
    assert form.status_code == 200 and 'name="indicator"' in form.text
    response = coordinator.post(
        f"/roadmaps/{roadmap_id}/rounds", data={**ROUND_FORM, "indicator": indicators}
    )
    assert response.status_code == 303, response.text
    return int(response.headers["Location"].rsplit("/", 1)[-1])


def _submission_of(db, round_id: int, school_login: str) -> int:
    number = int(school_login.removeprefix("school"))
    with unit_of_work(db, readonly=True) as session:
        schools = session.execute(
            select(Organization.id).where(Organization.kind == "school").order_by(Organization.id)
        ).scalars()
        school_id = list(schools)[number - 1]
        return session.execute(
            select(Submission.id).where(
                Submission.round_id == round_id, Submission.assignee_id == school_id
            )
        ).scalar_one()


def _phase(db, submission_id: int):
    with unit_of_work(db, readonly=True) as session:
        state = session.get(Submission, submission_id).state
    return REGISTRY.for_subject(SUB).definition.phase_of(state).key


def _entries(db, round_id: int, values: list[str], *, answers=None) -> dict:
    _, indicators = _roadmap(db)
    with unit_of_work(db, readonly=True) as session:
        questions = dict(
            session.execute(
                select(RoundQuestion.kind, RoundQuestion.id).where(
                    RoundQuestion.round_id == round_id
                )
            ).all()
        )
    answers = answers or {"single": ["да"], "multiple": ["ИКТ", "ФГОС"], "number": ["40"]}
    data: dict = {f"value-{i}": v for i, v in zip(indicators, values, strict=True)}
    data |= {f"answer-{questions[kind]}": given for kind, given in answers.items()}
    return data


def _submit_trigger() -> str:
    definition = REGISTRY.for_subject(SUB).definition
    return next(r.trigger for r in definition.rules if definition.takes_evidence(r))


def test_a_round_runs_from_opening_to_acceptance(app, demo):
    round_id = _open(app, demo)
    school = client_as(app, "school1")
    tasks = school.get("/tasks")
    mine = _submission_of(demo, round_id, "school1")
    assert 'id="round-tasks"' in tasks.text and f"/submissions/{mine}" in tasks.text
    page = school.get(f"/submissions/{mine}")
    assert page.status_code == 200 and "Проведён ли педсовет" in page.text

    submit = _submit_trigger()
    refused = school.post(
        f"/submissions/{mine}/entries",
        data={"action": submit, **_entries(demo, round_id, ["85", ""])},
    )
    assert refused.status_code == 422
    assert "Укажите значения всех показателей." in refused.text
    assert 'value="85"' in refused.text  # what was typed stays in the form
    assert _phase(demo, mine) == "open"

    data = _entries(demo, round_id, ["85,5", "41"])
    data |= {"action": submit, "files": [(io.BytesIO(PDF), "протокол.pdf")]}
    sent = school.post(
        f"/submissions/{mine}/entries", data=data, content_type="multipart/form-data"
    )
    assert sent.status_code == 303 and _phase(demo, mine) == "under_review"
    locked = school.post(
        f"/submissions/{mine}/entries", data=_entries(demo, round_id, ["99", "99"])
    )
    assert locked.status_code == 422 and "менять их можно после возврата" in locked.text

    other = client_as(app, "school2")
    assert other.get(f"/submissions/{mine}").status_code in (403, 404)
    assert client_as(app, "curator2").post(f"/submissions/{mine}/accept").status_code in (403, 422)

    curator = client_as(app, "curator1")
    queue = curator.get("/queue")
    assert f"/submissions/{mine}" in queue.text and "Мониторинг:" in queue.text
    detail = curator.get(f"/submissions/{mine}")
    assert "85,5" in detail.text and "протокол.pdf" in detail.text and 'id="verdict"' in detail.text
    definition = REGISTRY.for_subject(SUB).definition
    back = next(r.trigger for r in definition.rules if r.requires_comment)
    accept = next(r.trigger for r in definition.rules if definition.phase_of(r.dest).key == "done")
    assert curator.post(f"/submissions/{mine}/{back}").status_code == 422  # no comment
    assert (
        curator.post(
            f"/submissions/{mine}/{back}", data={"comment": "Уточните долю педагогов"}
        ).status_code
        == 303
    )
    assert _phase(demo, mine) == "open"
    assert "Уточните долю педагогов" in school.get(f"/submissions/{mine}").text
    again = school.post(
        f"/submissions/{mine}/entries",
        data={"action": submit, **_entries(demo, round_id, ["88", "41"])},
    )
    assert again.status_code == 303
    assert curator.post(f"/submissions/{mine}/{accept}").status_code == 303
    assert _phase(demo, mine) == "done"

    coordinator = client_as(app, "coordinator")
    roadmap_id, _ = _roadmap(demo)
    plan = coordinator.get(f"/roadmaps/{roadmap_id}/monitoring")
    assert plan.status_code == 200
    values = re.findall(r'<td class="num value">([^<]+)</td>', plan.text)
    assert values == ["88", "41"]
    assert 'data-mark="at_risk"' in plan.text  # 88 of at least 90
    assert 'data-mark="off_track"' in plan.text  # 41 − 38 = 3 of +5
    round_page = coordinator.get(f"/rounds/{round_id}")
    assert round_page.status_code == 200 and "Анкета: ответы отправивших" in round_page.text
    roadmap_page = coordinator.get(f"/roadmaps/{roadmap_id}")
    assert f"/rounds/{round_id}" in roadmap_page.text
    dashboard = coordinator.get(f"/dashboard?roadmap={roadmap_id}")
    assert re.findall(r'<td class="num value"[^>]*>([^<]+)</td>', dashboard.text) == ["88", "41"]

    book = openpyxl.load_workbook(
        io.BytesIO(coordinator.get(f"/roadmaps/{roadmap_id}/report.xlsx").data)
    )
    sheet = book["Мониторинг показателей"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    assert [row[3] for row in rows] == [88, 41]
    assert [row[4] for row in rows] == ["под угрозой", "отстаёт"]
    document = docx.Document(
        io.BytesIO(coordinator.get(f"/roadmaps/{roadmap_id}/report.docx").data)
    )
    cells = [[c.text for c in row.cells] for row in document.tables[-1].rows[1:]]
    assert [row[3] for row in cells] == ["88", "41"]


@pytest.mark.sqlite_only
def test_a_bad_round_comes_back_as_typed_and_writes_nothing(app, demo):
    roadmap_id, indicators = _roadmap(demo)
    coordinator = client_as(app, "coordinator")
    for changed, message in [
        ({"closes_on": "2024-01-01"}, "не раньше, чем открывается"),
        ({"opens_on": "завтра"}, "Укажите дату."),
        ({"q0-choices": "да"}, "от 2 до 12 вариантов"),
        ({"scope": "класс"}, "Выберите значение из списка."),
    ]:
        data = {**ROUND_FORM, "indicator": [*indicators, "abc", "99999999999999999999"], **changed}
        response = coordinator.post(f"/roadmaps/{roadmap_id}/rounds", data=data)
        assert response.status_code == 422, changed
        assert message in response.text and 'value="Мониторинг, I этап"' in response.text
    assert client_as(app, "school1").post(
        f"/roadmaps/{roadmap_id}/rounds", data=ROUND_FORM
    ).status_code in (403, 404)
    assert client_as(app, "curator1").get(f"/roadmaps/{roadmap_id}/rounds/new").status_code == 403
    with unit_of_work(demo, readonly=True) as session:
        assert session.execute(select(func.count()).select_from(MonitoringRound)).scalar() == 0


@pytest.mark.sqlite_only
def test_odd_entries_are_refused_with_a_reason(app, demo):
    round_id = _open(app, demo)
    mine = _submission_of(demo, round_id, "school1")
    school = client_as(app, "school1")
    for data in [
        {"value-abc": "1"},
        {"value-99999999999999999999": "1"},
        {**_entries(demo, round_id, ["много", "1"])},
        {**_entries(demo, round_id, ["1e400", "1"])},
        {**_entries(demo, round_id, ["1", "1"], answers={"single": ["может быть"]})},
        {**_entries(demo, round_id, ["1", "1"], answers={"single": ["да", "нет"]})},
        {"answer-123456": "да"},
    ]:
        response = school.post(f"/submissions/{mine}/entries", data={"action": "save", **data})
        assert response.status_code == 422, data
    for path in ("/submissions/99999999999999999999", "/rounds/99999999999999999999"):
        assert school.get(path).status_code == 404
    assert school.get("/submissions/999999").status_code == 404
    assert school.get("/rounds/999999").status_code == 404
