"""Correcting a roadmap in the web: in the preview before it is written, and after import,
with its document kept and its changes listed."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import Activity, ActivityChange, ImportJob, Roadmap
from tests.builders import SEED_FILES
from tests.webclient import client_as, import_and_wait

pytestmark = pytest.mark.sqlite_only  # the use cases run on both backends in their own tests

DOCUMENT = """\
Дорожная карта Ершичского района на 2023/2024 учебный год

| № | Что делаем | Когда | Кто |
| 1.1 | Анализ результатов ВПР по школам района | до 15 сентября 2023 | Руководители ОО |
| 1.2 | Совещание с руководителями школ | когда-нибудь | Отдел образования |
| 1.3 | Строка, попавшая в таблицу по ошибке | октябрь 2023 | Отдел образования |
"""


@pytest.fixture
def app(demo, make_web_app):  # type: ignore[no-untyped-def]
    return make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="corrections")


def _preview(client, text: str = DOCUMENT, name: str = "карта.txt"):  # type: ignore[no-untyped-def]
    data = {"document": (io.BytesIO(text.encode()), name)}
    page = client.post("/roadmaps/preview", data=data, content_type="multipart/form-data")
    assert page.status_code == 200, page.text
    return page, re.search(r'name="token" value="([^"]+)"', page.text).group(1)


def _kinds(page) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(r'<td data-kind="(\w+)">', page.text)


def test_a_misread_deadline_is_fixed_a_row_dropped_and_the_import_writes_them(app, demo) -> None:
    coordinator = client_as(app, "coordinator")
    page, token = _preview(coordinator)
    assert _kinds(page) == ["date", "none", "range"]
    fixed = coordinator.post(
        "/roadmaps/preview/fix",
        data={"token": token, "deadline_text_1": "до 1 октября 2023", "drop_2": "1"},
    )
    assert fixed.status_code == 200
    assert _kinds(fixed) == ["date", "date", "range"]  # read again at once; row 3 still shown
    assert "01.10.2023" in fixed.text
    assert re.search(r'name="drop_2" value="1" checked', fixed.text)
    assert 'id="activity-count">Мероприятий: <strong>2</strong>' in fixed.text
    done = import_and_wait(coordinator, token, "карта.txt")
    assert 'data-status="done"' in done
    with unit_of_work(demo, readonly=True) as session:
        job = session.execute(select(ImportJob)).scalars().one()
        rows = session.execute(
            select(Activity.number, Activity.deadline_text)
            .where(Activity.roadmap_id == job.roadmap_id)
            .order_by(Activity.position)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("1.1", "до 15 сентября 2023"),
        ("1.2", "до 1 октября 2023"),
    ]


def test_a_column_given_another_meaning_is_read_so(app) -> None:
    coordinator = client_as(app, "coordinator")
    page, token = _preview(coordinator)
    assert 'name="col_0_2"' in page.text  # the columns of the table, each with its meaning
    # the «Кто» column is said to be the planned result: nobody is responsible any more
    fixed = coordinator.post(
        "/roadmaps/preview/fix",
        data={
            "token": token,
            "col_0_0": "number",
            "col_0_1": "title",
            "col_0_2": "deadline_text",
            "col_0_3": "planned_result",
        },
    )
    assert fixed.status_code == 200
    assert re.search(r'name="col_0_3">.*?value="planned_result" selected', fixed.text, re.S)
    assert "Руководители ОО</textarea>" not in fixed.text
    twice = coordinator.post(
        "/roadmaps/preview/fix",
        data={"token": token, "col_0_0": "title", "col_0_1": "title", "col_0_2": "deadline_text"},
    )
    assert twice.status_code == 422 and "выбран дважды" in twice.text
    no_deadline = coordinator.post(
        "/roadmaps/preview/fix",
        data={
            "token": token,
            "col_0_0": "number",
            "col_0_1": "title",
            "col_0_2": "",
            "col_0_3": "responsible_text",
        },
    )
    assert no_deadline.status_code == 422 and "«Сроки»" in no_deadline.text


def test_after_import_the_document_is_kept_an_edit_is_logged_and_others_may_not(app, demo) -> None:
    coordinator = client_as(app, "coordinator")
    _, token = _preview(coordinator, SEED_FILES["003"].read_text(encoding="utf-8"), "003.txt")
    assert 'data-status="done"' in import_and_wait(coordinator, token, "003.txt")
    with unit_of_work(demo, readonly=True) as session:
        job = session.execute(select(ImportJob)).scalars().one()
        activity = (
            session.execute(
                select(Activity)
                .where(Activity.roadmap_id == job.roadmap_id)
                .order_by(Activity.position)
            )
            .scalars()
            .first()
        )
    page = coordinator.get(f"/roadmaps/{job.roadmap_id}")
    assert "003.txt" in page.text and f"/activities/{activity.id}/edit" in page.text
    download = coordinator.get(f"/roadmaps/{job.roadmap_id}/documents/{job.id}")
    assert download.status_code == 200
    assert download.data == SEED_FILES["003"].read_bytes()
    saved = coordinator.post(
        f"/activities/{activity.id}/edit",
        data={
            "title": activity.title,
            "deadline_text": "до 20 декабря 2023",
            "number": activity.number,
        },
    )
    assert saved.status_code == 303
    page = coordinator.get(f"/roadmaps/{job.roadmap_id}")
    assert "Изменения после импорта" in page.text and "до 20 декабря 2023" in page.text
    with unit_of_work(demo, readonly=True) as session:
        change = session.execute(select(ActivityChange)).scalars().one()
    assert change.before == {"deadline_text": activity.deadline_text}

    regional = client_as(app, "regional")
    assert regional.get(f"/roadmaps/{job.roadmap_id}").status_code == 200  # sees it
    assert f"/activities/{activity.id}/edit" not in regional.get(f"/roadmaps/{job.roadmap_id}").text
    assert regional.get(f"/activities/{activity.id}/edit").status_code == 403
    refused = regional.post(f"/activities/{activity.id}/edit", data={"title": "x"})
    assert refused.status_code == 303
    school = client_as(app, "school1")
    assert school.get(f"/roadmaps/{job.roadmap_id}/documents/{job.id}").status_code == 403
    assert coordinator.get(f"/roadmaps/{job.roadmap_id}/documents/99999").status_code == 404
    with unit_of_work(demo, readonly=True) as session:
        assert session.get(Activity, activity.id).title == activity.title
        assert session.get(Roadmap, job.roadmap_id) is not None
