"""Roadmap imports from the web run as jobs: queued by the request, run outside it, written in
one transaction with their result, and shown on a page that follows them."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from engine.app import App
from engine.db import unit_of_work
from engine.models import ImportJob, ImportStatus, Occurrence, Roadmap, utcnow
from engine.usecases import importing
from tests.builders import SEED_FILES
from tests.webclient import client_as, import_and_wait
from web import coordination
from worker import jobs


@pytest.fixture
def app(demo, make_web_app):
    return make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="test")


def _engine_app(web_app) -> App:
    return web_app.extensions["roadmap"]


def _preview(client, seed: str = "003") -> str:  # type: ignore[no-untyped-def]
    data = {"document": (io.BytesIO(SEED_FILES[seed].read_bytes()), f"{seed}.txt")}
    page = client.post("/roadmaps/preview", data=data, content_type="multipart/form-data")
    return re.search(r'name="token" value="([^"]+)"', page.text).group(1)


def _counts(db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with unit_of_work(db, readonly=True) as session:
        return (
            session.execute(select(func.count()).select_from(Roadmap)).scalar_one(),
            session.execute(select(func.count()).select_from(Occurrence)).scalar_one(),
        )


def _job(db) -> ImportJob:  # type: ignore[no-untyped-def]
    with unit_of_work(db, readonly=True) as session:
        job = session.execute(select(ImportJob).order_by(ImportJob.id.desc())).scalars().first()
        session.expunge(job)
        return job


def test_the_request_only_queues_and_the_job_writes(app, demo, monkeypatch) -> None:
    monkeypatch.setattr(coordination, "_start_import_runner", lambda: None)  # nobody runs it
    coordinator = client_as(app, "coordinator")
    before = _counts(demo)
    response = coordinator.post("/roadmaps/confirm", data={"token": _preview(coordinator)})
    assert response.status_code == 303 and "/roadmaps/imports/" in response.headers["Location"]
    assert _counts(demo) == before  # the request wrote the job, not the roadmap
    page = coordinator.get(response.headers["Location"]).text
    assert 'data-status="queued"' in page and 'http-equiv="refresh"' in page
    job = _job(demo)
    stored = _engine_app(app).settings.upload_dir / importing.QUEUE_DIR / job.stored_as
    assert stored.is_file()

    assert jobs.run_imports(_engine_app(app)) == 1
    done = _job(demo)
    assert done.status == ImportStatus.DONE and done.activities == 34 and done.created
    assert (
        _counts(demo)[0] == before[0] + 1 and done.occurrences_added == _counts(demo)[1] - before[1]
    )
    assert not stored.exists()  # the document goes once it is imported
    page = coordinator.get(response.headers["Location"]).text
    assert 'data-status="done"' in page and 'http-equiv="refresh"' not in page
    assert jobs.run_imports(_engine_app(app)) == 0  # nothing runs twice


def test_a_job_that_fails_after_writing_began_leaves_nothing(app, demo, monkeypatch) -> None:
    coordinator = client_as(app, "coordinator")
    before = _counts(demo)

    def broken(session, job_id, **values):  # type: ignore[no-untyped-def]
        session.flush()  # the roadmap and its occurrences are in the transaction by now
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "_finish", broken)
    page = import_and_wait(coordinator, _preview(coordinator), "003.txt")
    assert 'data-status="failed"' in page and "ничего не записано" in page
    assert "internal error" in page and "disk full" not in page  # no internals to the user
    assert _counts(demo) == before


def test_an_unreadable_document_fails_with_its_reason(app, demo, monkeypatch) -> None:
    monkeypatch.setattr(coordination, "_start_import_runner", lambda: None)
    coordinator = client_as(app, "coordinator")
    coordinator.post("/roadmaps/confirm", data={"token": _preview(coordinator)})
    job = _job(demo)
    engine_app = _engine_app(app)
    (engine_app.settings.upload_dir / importing.QUEUE_DIR / job.stored_as).write_text("мусор")
    jobs.run_imports(engine_app)
    failed = _job(demo)
    assert failed.status == ImportStatus.FAILED and job.stored_as in failed.error
    assert _counts(demo)[0] == 1


def test_a_job_is_claimed_once_and_a_dead_runners_job_comes_back(app, demo, monkeypatch) -> None:
    monkeypatch.setattr(coordination, "_start_import_runner", lambda: None)
    coordinator = client_as(app, "coordinator")
    coordinator.post("/roadmaps/confirm", data={"token": _preview(coordinator)})
    engine_app = _engine_app(app)
    first = importing.claim_next(engine_app)
    assert first is not None and importing.claim_next(engine_app) is None
    assert importing.requeue_stale(engine_app, utcnow() - timedelta(hours=1)) == 0  # recent
    with unit_of_work(demo) as session:
        old = utcnow() - timedelta(hours=2)
        session.execute(update(ImportJob).where(ImportJob.id == first).values(started_at=old))
    assert importing.requeue_stale(engine_app, utcnow() - timedelta(hours=1)) == 1
    assert importing.claim_next(engine_app) == first


def test_only_its_municipality_sees_a_job(app, demo) -> None:
    coordinator = client_as(app, "coordinator")
    page = import_and_wait(coordinator, _preview(coordinator), "003.txt")
    assert 'data-status="done"' in page
    job = _job(demo)
    for who in ("school1", "curator1", "regional"):
        assert client_as(app, who).get(f"/roadmaps/imports/{job.id}").status_code in (403, 404)
    assert client_as(app, "school1").post("/roadmaps/confirm", data={"token": "x"}).status_code in (
        303,
        403,
    )
