"""Correcting a roadmap from the command line: the import's corrections, then its activities."""

from __future__ import annotations

import json

from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import Activity, ActivityChange, Roadmap

DOCUMENT = """\
Дорожная карта Ершичского района на 2023/2024 учебный год

| № | Мероприятие | Срок | Ответственный |
| 1.1 | Анализ результатов ВПР | до 15 сентября 2023 | Руководители ОО |
| 1.2 | Совещание с руководителями | когда-нибудь | Отдел образования |
| 1.3 | Лишняя строка | октябрь 2023 | Отдел образования |
"""


def test_the_import_applies_corrections_and_refuses_ones_that_do_not_fit(
    roadmap, demo, tmp_path
) -> None:
    document = tmp_path / "карта.txt"
    document.write_text(DOCUMENT, encoding="utf-8")
    fixes = tmp_path / "fix.json"
    fixes.write_text(
        json.dumps({"texts": {"1": {"deadline_text": "до 1 октября 2023"}}, "dropped": [2]}),
        encoding="utf-8",
    )
    code, out, err = roadmap("import", document, "--dry-run", "--json", "--corrections", fixes)
    assert code == 0, err
    read = [(a["number"], a["deadline"]["kind"]) for a in json.loads(out)["activities"]]
    assert read == [("1.1", "date"), ("1.2", "date")]

    fixes.write_text(json.dumps({"dropped": [9]}), encoding="utf-8")
    code, _, err = roadmap("import", document, "--corrections", fixes)
    assert code != 0 and "activity 10 of 3" in err
    fixes.write_text("not json", encoding="utf-8")
    code, _, err = roadmap("import", document, "--corrections", fixes)
    assert code != 0 and "fix.json: not corrections JSON" in err
    with unit_of_work(demo, readonly=True) as session:
        titles = session.execute(select(Roadmap.title)).scalars().all()
    assert not any("Ершичского района на 2023/2024" in t for t in titles)  # nothing written


def test_an_activity_is_listed_edited_and_logged_only_by_the_owners_coordinator(
    roadmap, demo
) -> None:
    with unit_of_work(demo, readonly=True) as session:
        first = session.execute(select(Activity).order_by(Activity.position)).scalars().first()
    code, out, err = roadmap("activity", "list", first.roadmap_id, "--as", "coordinator")
    assert code == 0, err
    assert f"{first.id}\t{first.number}\t" in out
    code, out, err = roadmap(
        "activity", "edit", first.id, "--deadline", "до 25 декабря 2023", "--as", "coordinator"
    )
    assert code == 0, err
    assert "saved; occurrences added" in out
    code, _, err = roadmap("activity", "edit", first.id, "--title", "x", "--as", "regional")
    assert code == 3, err
    code, _, err = roadmap("activity", "edit", first.id, "--title", " ", "--as", "coordinator")
    assert code == 1 and "needs a title" in err
    with unit_of_work(demo, readonly=True) as session:
        changes = session.execute(select(ActivityChange)).scalars().all()
        assert session.get(Activity, first.id).deadline_text == "до 25 декабря 2023"
    assert [(c.action, c.after) for c in changes] == [
        ("edited", {"deadline_text": "до 25 декабря 2023"})
    ]
