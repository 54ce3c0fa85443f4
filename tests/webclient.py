"""Signing in and acting through the Flask test client, for web tests on the demo."""

from __future__ import annotations

import io
import re
import time

from sqlalchemy import select

from engine.db import unit_of_work
from engine.demo import DEMO_PASSWORD
from engine.models import Occurrence, Organization

PDF = b"%PDF-1.4 signed act"


def login(client, who: str, password: str = DEMO_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"login": who, "password": password})


def client_as(app, who: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert login(client, who).status_code == 302
    return client


def first_planned(db, school_login: str) -> int:
    number = int(school_login.removeprefix("school"))
    with unit_of_work(db, readonly=True) as session:
        schools = (
            session.execute(
                select(Organization.id)
                .where(Organization.kind == "school")
                .order_by(Organization.id)
            )
            .scalars()
            .all()
        )
        return (
            session.execute(
                select(Occurrence.id)
                .where(Occurrence.assignee_id == schools[number - 1], Occurrence.state == "planned")
                .order_by(Occurrence.due_on, Occurrence.id)
            )
            .scalars()
            .first()
        )


def state_of(db, occurrence_id: int) -> str:
    with unit_of_work(db, readonly=True) as session:
        return session.get(Occurrence, occurrence_id).state


def report(client, occurrence_id: int, files=(("акт.pdf", PDF),), text: str = ""):  # type: ignore[no-untyped-def]
    data = {"report_text": text, "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(
        f"/occurrences/{occurrence_id}/report",
        data=data,
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def import_and_wait(client, token: str, name: str = "", seconds: float = 60, **form):  # type: ignore[no-untyped-def]
    """Confirm a previewed import (its warnings acknowledged) and follow its job page until
    the job is over."""
    data = {"token": token, "name": name, "acknowledged": "1"} | form
    response = client.post("/roadmaps/confirm", data=data)
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    deadline = time.monotonic() + seconds
    while True:
        page = client.get(location).text
        status = re.search(r'data-status="(\w+)"', page).group(1)
        if status in ("done", "failed") or time.monotonic() > deadline:
            return page
        time.sleep(0.1)
