"""The JSON API: bearer tokens, tenant checks, errors as JSON, and its OpenAPI document."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from engine.accounts.users import issue_api_token
from engine.db import unit_of_work
from engine.models import (
    Indicator,
    MonitoringRound,
    Occurrence,
    Organization,
    Roadmap,
    Submission,
    User,
)
from tests.factories import REGISTRY, count_occurrences


@pytest.fixture
def api(demo, make_web_app):
    with unit_of_work(demo) as session:
        tokens = {
            login: issue_api_token(
                session,
                session.execute(select(User.id).where(User.login == login)).scalar_one(),
                "test",
            )
            for login in ("school1", "school2", "curator1", "coordinator", "admin")
        }
    app = make_web_app(TESTING=True, SECRET_KEY="api-test")
    client = app.test_client()

    def call(method: str, path: str, who: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
        headers = kwargs.pop("headers", {})
        if who:
            headers["Authorization"] = f"Bearer {tokens[who]}"
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


def _planned(db, school_name: str) -> int:
    with unit_of_work(db, readonly=True) as session:
        school = session.execute(
            select(Organization.id).where(Organization.name == school_name)
        ).scalar_one()
        return (
            session.execute(
                select(Occurrence.id)
                .where(Occurrence.assignee_id == school, Occurrence.state == "planned")
                .order_by(Occurrence.id)
            )
            .scalars()
            .first()
        )


def test_tokens_are_required_and_checked(api) -> None:
    response = api("GET", "/occurrences")
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"
    bad = api("GET", "/occurrences", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_lists_are_scoped_and_paginated(api, demo) -> None:
    mine = api("GET", "/occurrences?per_page=10", "school1").json
    own = count_occurrences(demo, schools=["МБОУ Ершичская СШ"])
    assert own > 10 and mine["total"] == own and len(mine["items"]) == 10
    assert {item["school"] for item in mine["items"]} == {"МБОУ Ершичская СШ"}
    curated = count_occurrences(demo, curator="curator1")
    assert own < curated < count_occurrences(demo)  # schools 1–3 of 5
    assert api("GET", "/occurrences", "curator1").json["total"] == curated
    assert api("GET", "/occurrences", "coordinator").json["total"] == count_occurrences(demo)
    assert api("GET", "/occurrences?state=approved", "school1").json["total"] == 1


def test_the_full_cycle_over_the_api(api, db) -> None:
    occurrence = _planned(db, "МБОУ Ершичская СШ")
    path = f"/occurrences/{occurrence}"
    assert (
        api("POST", f"{path}/transitions", "school1", json={"trigger": "start"}).json["to_state"]
        == "in_progress"
    )
    uploaded = api(
        "POST",
        f"{path}/evidence",
        "school1",
        data={"file": (io.BytesIO(b"%PDF-1.4 act"), "акт.pdf")},
    )
    assert uploaded.status_code == 201 and uploaded.json["name"] == "акт.pdf"
    assert (
        api("POST", f"{path}/transitions", "school1", json={"trigger": "report"}).json["to_state"]
        == "reported"
    )
    no_comment = api("POST", f"{path}/transitions", "curator1", json={"trigger": "return"})
    assert no_comment.status_code == 422 and no_comment.json["error"]["code"] == "invalid"
    wrong = api("POST", f"{path}/transitions", "curator1", json={"trigger": "rework"})
    assert wrong.status_code == 409
    assert wrong.json["error"]["state"] == "reported"
    assert wrong.json["error"]["allowed"] == ["approve", "cancel", "return"]
    assert (
        api("POST", f"{path}/transitions", "curator1", json={"trigger": "approve"}).json["to_state"]
        == "approved"
    )
    history = api("GET", f"{path}/history", "school1").json["items"]
    assert [h["trigger"] for h in history] == ["start", "report", "approve"]
    detail = api("GET", path, "school1").json
    assert detail["state"] == "approved" and detail["evidence"][0]["name"] == "акт.pdf"


def test_other_tenants_get_403_and_unknown_ids_404(api, db) -> None:
    occurrence = _planned(db, "МБОУ Ершичская СШ")
    path = f"/occurrences/{occurrence}"
    for method, suffix, kwargs in [
        ("GET", "", {}),
        ("GET", "/history", {}),
        ("POST", "/transitions", {"json": {"trigger": "start"}}),
        ("POST", "/evidence", {"data": {"file": (io.BytesIO(b"%PDF-1.4"), "x.pdf")}}),
    ]:
        response = api(method, path + suffix, "school2", **kwargs)
        assert response.status_code == 403, (method, suffix)
        assert response.json["error"]["code"] == "forbidden"
    assert api("GET", "/occurrences/999999", "school1").status_code == 404
    assert (
        api(
            "POST", f"{path}/transitions", "school1", data="nope", content_type="application/json"
        ).status_code
        == 422
    )


def test_bad_uploads_are_422(api, db) -> None:
    occurrence = _planned(db, "МБОУ Ершичская СШ")
    api("POST", f"/occurrences/{occurrence}/transitions", "school1", json={"trigger": "start"})
    response = api(
        "POST",
        f"/occurrences/{occurrence}/evidence",
        "school1",
        data={"file": (io.BytesIO(b"#!/bin/sh"), "run.pdf")},
    )
    assert response.status_code == 422 and "only PDF" in response.json["error"]["message"]


def test_openapi_document_is_valid_and_covers_the_endpoints(api) -> None:
    response = api("GET", "/openapi.json")
    assert response.status_code == 200
    spec = response.json
    validate(spec)
    assert set(spec["paths"]) == {
        "/occurrences",
        "/occurrences/{occurrence_id}",
        "/occurrences/{occurrence_id}/transitions",
        "/occurrences/{occurrence_id}/evidence",
        "/occurrences/{occurrence_id}/history",
        "/roadmaps/{roadmap_id}/indicators",
        "/roadmaps/{roadmap_id}/rounds",
        "/roadmaps/{roadmap_id}/plan",
        "/rounds/{round_id}",
        "/submissions",
        "/submissions/{submission_id}",
        "/submissions/{submission_id}/values",
        "/submissions/{submission_id}/transitions",
        "/schools",
        "/people",
        "/people/{user_id}",
        "/people/{user_id}/deactivate",
        "/directory",
    }


def test_the_directory_is_read_within_the_territory(api, demo) -> None:
    assert api("GET", "/schools", "school1").status_code == 403
    assert api("GET", "/people", "curator1").status_code == 403
    mine = api("GET", "/schools?per_page=200", "coordinator").json
    everything = api("GET", "/schools?per_page=200", "admin").json
    assert mine["total"] == everything["total"] == 5  # the demo's one municipality
    curators = api("GET", "/people?role=curator", "coordinator").json["items"]
    assert {p["login"] for p in curators} == {"curator1", "curator2"}
    one = api("GET", f"/people/{curators[0]['id']}", "coordinator").json
    assert one["schools"] and one["active"]


def test_only_the_admin_writes_people(api, demo, monkeypatch) -> None:
    body = {"email": "new@example.org", "full_name": "Новая Анна", "role": "куратор",
            "schools": "МБОУ Ершичская СШ"}  # fmt: skip
    assert api("POST", "/people", "coordinator", json=body).status_code == 403
    created = api("POST", "/people", "admin", json=body)
    assert created.status_code == 201 and created.json["role"] == "curator"
    assert len(created.json["schools"]) == 1
    assert api("POST", "/people", "admin", json=body).status_code == 409
    bad = api("POST", "/people", "admin", json=body | {"email": "x@y.z", "role": "завхоз"})
    assert bad.status_code == 422 and "is none of" in bad.json["error"]["message"]
    person = created.json["id"]
    refused = api("POST", f"/people/{person}/deactivate", "admin", json={})
    assert refused.status_code == 422  # a curator's school needs someone
    curators = api("GET", "/people?role=curator", "admin").json["items"]
    other = next(p["id"] for p in curators if p["login"] == "curator1")
    done = api("POST", f"/people/{person}/deactivate", "admin", json={"handover_to": other})
    assert done.status_code == 200 and done.json["active"] is False
    again = api("POST", f"/people/{person}/deactivate", "admin", json={"handover_to": other})
    assert again.status_code == 409


def test_the_admin_loads_a_directory_over_the_api(api, demo, tmp_path) -> None:
    from tests.test_directory import directory_rows, write_csv

    rows = directory_rows(3)
    for row in rows:
        row[1] = "Смоленская область"
    path = write_csv(tmp_path / "d.csv", rows)
    files = {"file": (io.BytesIO(path.read_bytes()), "d.csv")}
    dry = api("POST", "/directory?dry_run=true", "admin", data=files,
              content_type="multipart/form-data")  # fmt: skip
    assert dry.status_code == 200 and len(dry.json["created"]) == 3
    assert api("GET", "/schools", "admin").json["total"] == 5
    files = {"file": (io.BytesIO(b"\x00\x01garbage"), "d.csv")}
    bad = api("POST", "/directory", "admin", data=files, content_type="multipart/form-data")
    assert bad.status_code == 422 and "d.csv" in bad.json["error"]["message"]


def test_a_coordinator_takes_a_curator_out_school_by_school_over_the_api(api, demo) -> None:
    people = {p["login"]: p for p in api("GET", "/people", "coordinator").json["items"]}
    leaving, successor = people["curator1"]["id"], people["coordinator"]["id"]
    schools = api("GET", f"/people/{leaving}", "coordinator").json["schools"]
    assert api("POST", f"/people/{leaving}/deactivate", "school1", json={}).status_code == 403
    part = {str(s): successor for s in schools[:-1]}
    refused = api("POST", f"/people/{leaving}/deactivate", "coordinator", json={"handover": part})
    assert refused.status_code == 422 and refused.json["error"]["reason"] == "successor_required"
    every = {str(s): successor for s in schools}
    done = api("POST", f"/people/{leaving}/deactivate", "coordinator", json={"handover": every})
    assert done.status_code == 200 and done.json["active"] is False
    mine = api("GET", f"/people/{successor}", "coordinator").json["schools"]
    assert set(schools) <= set(mine)


def test_a_roadmaps_indicators_are_read_in_its_territory(api, db, registry) -> None:
    from engine.importing.apply import write_indicators
    from engine.importing.indicators import DraftIndicator, Target
    from engine.models import IndicatorDirection, IndicatorScope, Roadmap

    with unit_of_work(db) as session:
        roadmap = session.execute(select(Roadmap).order_by(Roadmap.id)).scalars().first()
        target = Target(80, "%", IndicatorDirection.AT_LEAST)
        draft = DraftIndicator(
            "1",
            "Доля ОО",
            "1. Доля ОО до 80%",
            target,
            [roadmap.period_end],
            None,
            IndicatorScope.MUNICIPALITY,
            baseline=40,
        )
        write_indicators(session, roadmap.id, [draft], {})
        roadmap_id = roadmap.id
    answer = api("GET", f"/roadmaps/{roadmap_id}/indicators", "coordinator")
    assert answer.status_code == 200, answer.json
    [item] = [i for i in answer.json["items"] if i["number"] == "1"]  # the demo has its own
    assert item["target"] == {"value": 80.0, "unit": "%", "direction": "at_least"}
    assert item["baseline"] == 40 and item["scope"] == "municipality"
    assert api("GET", f"/roadmaps/{roadmap_id}/indicators", "school1").status_code == 403
    missing = api("GET", "/roadmaps/999999/indicators", "coordinator")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


# --- monitoring rounds ---------------------------------------------------------------------

SUB = "submission"


def _roadmap(db) -> tuple[int, list[int]]:
    with unit_of_work(db, readonly=True) as session:
        roadmap_id = session.execute(select(func.min(Roadmap.id))).scalar_one()
        ids = session.execute(
            select(Indicator.id).where(Indicator.roadmap_id == roadmap_id).order_by(Indicator.id)
        ).scalars()
        return roadmap_id, list(ids)


ROUND = {
    "title": "Мониторинг, I этап",
    "opens_on": date.today().isoformat(),
    "closes_on": (date.today() + timedelta(days=14)).isoformat(),
    "scope": "school",
    "questions": [
        {"text": "Проведён ли педсовет?", "kind": "single", "choices": ["да", "нет"]},
        {"text": "Сколько родителей пришло?", "kind": "number"},
    ],
}


def _rules():
    definition = REGISTRY.for_subject(SUB).definition
    submit = next(r.trigger for r in definition.rules if definition.takes_evidence(r))
    back = next(r.trigger for r in definition.rules if r.requires_comment)
    accept = next(r.trigger for r in definition.rules if definition.phase_of(r.dest).key == "done")
    return submit, back, accept


def test_a_round_runs_over_the_api(api, demo) -> None:
    roadmap_id, indicators = _roadmap(demo)
    body = {**ROUND, "indicator_ids": indicators}
    assert api("POST", f"/roadmaps/{roadmap_id}/rounds", "school1", json=body).status_code == 403
    made = api("POST", f"/roadmaps/{roadmap_id}/rounds", "coordinator", json=body)
    assert made.status_code == 201, made.json
    assert made.json["total"] == 5 and [i["id"] for i in made.json["indicators"]] == indicators
    round_id = made.json["id"]
    listed = api("GET", f"/roadmaps/{roadmap_id}/rounds", "coordinator")
    assert [r["id"] for r in listed.json["items"]] == [round_id]

    mine = api("GET", "/submissions", "school1")
    assert mine.status_code == 200
    [task] = mine.json["items"]
    sid = task["submission_id"]
    seen = api("GET", f"/rounds/{round_id}", "school1").json
    assert [p["submission_id"] for p in seen["participants"]] == [sid]
    assert api("GET", f"/submissions/{sid}", "school2").status_code in (403, 404)

    questions = {q["kind"]: q["id"] for q in made.json["questions"]}
    submit, back, accept = _rules()
    missing = api("POST", f"/submissions/{sid}/transitions", "school1", json={"trigger": submit})
    assert missing.status_code == 422 and missing.json["error"]["reason"] == "values_required"
    wrong = {"answers": [{"question_id": questions["single"], "answer": "может быть"}]}
    assert api("PUT", f"/submissions/{sid}/values", "school1", json=wrong).status_code == 422
    entries = {
        "values": [
            {"indicator_id": indicators[0], "value": 92.5, "comment": "по справке"},
            {"indicator_id": indicators[1], "value": 44},
        ],
        "answers": [
            {"question_id": questions["single"], "answer": "да"},
            {"question_id": questions["number"], "answer": 37},
        ],
    }
    stored = api("PUT", f"/submissions/{sid}/values", "school1", json=entries)
    assert stored.status_code == 200, stored.json
    assert [v["value"] for v in stored.json["values"]] == [92.5, 44]
    assert [a["answer"] for a in stored.json["answers"]] == ["да", 37]
    sent = api("POST", f"/submissions/{sid}/transitions", "school1", json={"trigger": submit})
    assert sent.status_code == 200
    locked = api("PUT", f"/submissions/{sid}/values", "school1", json=entries)
    assert locked.status_code == 409
    no_comment = api("POST", f"/submissions/{sid}/transitions", "curator1", json={"trigger": back})
    assert no_comment.status_code == 422
    decided = api("POST", f"/submissions/{sid}/transitions", "curator1", json={"trigger": accept})
    assert decided.status_code == 200

    plan = api("GET", f"/roadmaps/{roadmap_id}/plan", "coordinator")
    assert plan.status_code == 200
    tracks = plan.json["tracks"]
    assert [t["rounds"][0]["value"] for t in tracks] == [92.5, 44]
    assert [t["mark"] for t in tracks] == ["on_track", "on_track"]  # 44 − 38 = 6 ≥ 5
    assert [t["goal"] for t in tracks] == [90, 43]
    assert "at_risk" in plan.json["rule"]


def test_bad_rounds_and_entries_are_refused_and_write_nothing(api, demo) -> None:
    roadmap_id, indicators = _roadmap(demo)
    for body in [
        {**ROUND, "closes_on": "2024-01-01"},
        {**ROUND, "questions": [{"text": "Да?", "kind": "single", "choices": ["да"]}]},
        {**ROUND, "questions": [], "indicator_ids": []},
        {**ROUND, "indicator_ids": [999999]},
        {**ROUND, "surprise": 1},
        {**ROUND, "title": ""},
    ]:
        answer = api("POST", f"/roadmaps/{roadmap_id}/rounds", "coordinator", json=body)
        assert answer.status_code == 422, (body, answer.json)
    with unit_of_work(demo, readonly=True) as session:
        assert session.execute(select(func.count()).select_from(MonitoringRound)).scalar() == 0
        assert session.execute(select(func.count()).select_from(Submission)).scalar() == 0
    assert api("GET", "/rounds/999999", "coordinator").status_code == 404
    assert api("GET", "/submissions/999999", "school1").status_code == 404
    assert api("GET", "/roadmaps/999999/plan", "coordinator").status_code == 404
    with unit_of_work(demo, readonly=True) as session:
        assert session.execute(select(func.count()).select_from(Organization)).scalar() > 5
