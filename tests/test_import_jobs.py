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


def _confirmation(coordinator) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The confirm form of a fresh preview, its warnings acknowledged."""
    return {"token": _preview(coordinator), "acknowledged": "1"}


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


def _job(db) -> ImportJob | None:  # type: ignore[no-untyped-def]
    with unit_of_work(db, readonly=True) as session:
        job = session.execute(select(ImportJob).order_by(ImportJob.id.desc())).scalars().first()
        if job is not None:
            session.expunge(job)
        return job


def test_the_request_only_queues_and_the_job_writes(app, demo, monkeypatch) -> None:
    monkeypatch.setattr(coordination, "_start_import_runner", lambda: None)  # nobody runs it
    coordinator = client_as(app, "coordinator")
    before = _counts(demo)
    response = coordinator.post(
        "/roadmaps/confirm", data={"token": _preview(coordinator), "acknowledged": "1"}
    )
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
    assert stored.is_file()  # the roadmap keeps the document it came from
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
    coordinator.post(
        "/roadmaps/confirm", data={"token": _preview(coordinator), "acknowledged": "1"}
    )
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
    coordinator.post(
        "/roadmaps/confirm", data={"token": _preview(coordinator), "acknowledged": "1"}
    )
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


def test_a_claim_takes_one_job_and_only_dead_runners_jobs_come_back(app, demo, monkeypatch) -> None:
    monkeypatch.setattr(coordination, "_start_import_runner", lambda: None)
    coordinator = client_as(app, "coordinator")
    for _ in range(2):
        coordinator.post(
            "/roadmaps/confirm", data={"token": _preview(coordinator), "acknowledged": "1"}
        )
    engine_app = _engine_app(app)
    first = importing.claim_next(engine_app)
    with unit_of_work(demo, readonly=True) as session:
        statuses = dict(session.execute(select(ImportJob.id, ImportJob.status)).all())
    assert statuses[first] == ImportStatus.READING
    assert sorted(statuses.values()) == [ImportStatus.QUEUED, ImportStatus.READING]
    assert importing.run_import(engine_app, first) == ImportStatus.DONE
    second = importing.claim_next(engine_app)  # and its runner dies
    with unit_of_work(demo) as session:  # both started long ago; one is over
        old = utcnow() - timedelta(hours=3)
        session.execute(update(ImportJob).values(started_at=old))
    assert importing.requeue_stale(engine_app, utcnow() - timedelta(hours=1)) == 1
    with unit_of_work(demo, readonly=True) as session:
        assert session.get(ImportJob, first).status == ImportStatus.DONE
        assert session.get(ImportJob, second).status == ImportStatus.QUEUED


def test_a_refused_queueing_leaves_no_file(app, demo, tmp_path) -> None:
    from engine.accounts.access import load_actor
    from engine.errors import PermissionDeniedError

    engine_app = _engine_app(app)
    document = engine_app.settings.upload_dir / "abc.txt"
    document.parent.mkdir(parents=True, exist_ok=True)
    document.write_bytes(SEED_FILES["003"].read_bytes())

    def fails_after_queueing(session):  # type: ignore[no-untyped-def]
        importing.queue_import(
            engine_app, session, load_actor(session, "coordinator"), document, "x"
        )
        raise PermissionDeniedError("refused after the file moved")

    with pytest.raises(PermissionDeniedError), unit_of_work(demo) as session:
        fails_after_queueing(session)
    assert list((engine_app.settings.upload_dir / importing.QUEUE_DIR).iterdir()) == []
    assert _job(demo) is None


def test_another_coordinator_of_the_municipality_sees_the_job(app, demo) -> None:
    from engine.accounts.users import create_user, hash_password
    from engine.models import Role, User

    coordinator = client_as(app, "coordinator")
    import_and_wait(coordinator, _preview(coordinator), "003.txt")
    with unit_of_work(demo) as session:
        municipality = session.execute(
            select(User.organization_id).where(User.login == "coordinator")
        ).scalar_one()
        create_user(
            session,
            login="deputy",
            full_name="Заместитель",
            role=Role.MUNICIPAL_COORDINATOR,
            password_hash=hash_password("demo-2024"),
            organization_id=municipality,
        )
    job = _job(demo)
    assert client_as(app, "deputy").get(f"/roadmaps/imports/{job.id}").status_code == 200
