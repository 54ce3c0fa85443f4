"""API tokens: a lifetime, a name, a last use; revoked by their owner, by an operator, by a
password change and by deactivation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.accounts.users import (
    LAST_USED_EVERY,
    change_password,
    deactivate_user,
    issue_api_token,
    list_tokens,
    note_token_use,
    revoke_token,
    user_for_token,
)
from engine.db import unit_of_work
from engine.errors import NotFoundError, ValidationError
from engine.models import ApiToken, User, utcnow
from tests.factories import PASSWORD
from tests.webclient import client_as


def _user(world, login: str) -> int:
    return world.actor(login).id


def _issue(world, login: str, **kwargs) -> str:
    with unit_of_work(world.engine) as session:
        return issue_api_token(session, _user(world, login), "скрипт", **kwargs)


def _live(world, token: str, now=None) -> bool:
    with unit_of_work(world.engine, readonly=True) as session:
        return user_for_token(session, token, now) is not None


def test_a_token_expires_after_its_days(world) -> None:
    token = _issue(world, "school_a", days=30)
    now = utcnow()
    assert _live(world, token, now + timedelta(days=29))
    assert not _live(world, token, now + timedelta(days=30, minutes=1))
    with pytest.raises(ValidationError):
        _issue(world, "school_a", days=0)


def test_the_default_lifetime_is_ninety_days(world) -> None:
    _issue(world, "school_a")
    with unit_of_work(world.engine, readonly=True) as session:
        (info,) = list_tokens(session, _user(world, "school_a"))
    assert info.expires_at - info.created_at == timedelta(days=90) and info.name == "скрипт"


def test_last_use_is_written_at_most_hourly(world) -> None:
    token = _issue(world, "school_a")
    now = utcnow()
    with unit_of_work(world.engine) as session:
        use = user_for_token(session, token, now)
        assert use is not None and use.stale(now)
        note_token_use(session, use.token_id, now)
        note_token_use(session, use.token_id, now + LAST_USED_EVERY / 2)  # too soon: kept
    with unit_of_work(world.engine, readonly=True) as session:
        use = user_for_token(session, token, now)
        assert use.last_used_at == now and not use.stale(now + LAST_USED_EVERY / 2)
        assert use.stale(now + LAST_USED_EVERY * 2)


def test_a_password_change_revokes_every_token(world) -> None:
    first, second = _issue(world, "school_a"), _issue(world, "school_a")
    other = _issue(world, "school_b")
    with unit_of_work(world.engine) as session:
        change_password(session, _user(world, "school_a"), PASSWORD, "новый-пароль-1")
    assert not _live(world, first) and not _live(world, second)
    assert _live(world, other)


def test_deactivation_revokes_every_token(world) -> None:
    token = _issue(world, "curator_a")
    with unit_of_work(world.engine) as session:
        deactivate_user(session, _user(world, "curator_a"))
    assert not _live(world, token)
    with unit_of_work(world.engine, readonly=True) as session:
        revoked = session.execute(select(ApiToken.revoked_at)).scalars().all()
        active = session.execute(select(User.is_active).where(User.login == "curator_a"))
        assert all(revoked) and active.scalar_one() is False


def test_an_owner_revokes_only_their_own(world) -> None:
    token = _issue(world, "school_a")
    with unit_of_work(world.engine, readonly=True) as session:
        (info,) = list_tokens(session, _user(world, "school_a"))
    with pytest.raises(NotFoundError), unit_of_work(world.engine) as session:
        revoke_token(session, info.id, user_id=_user(world, "school_b"))
    assert _live(world, token)
    with unit_of_work(world.engine) as session:
        revoke_token(session, info.id, user_id=_user(world, "school_a"))
    assert not _live(world, token)


def test_the_cli_lists_and_revokes(roadmap) -> None:
    roadmap("demo")
    code, secret, _ = roadmap("token", "create", "--as", "curator1", "--name", "отчёты")
    assert code == 0
    code, listed, _ = roadmap("token", "list", "--as", "curator1")
    assert code == 0 and "curator1" in listed and "отчёты" in listed and "live" in listed
    assert secret.strip() not in listed
    token_id = listed.split()[0]
    assert roadmap("token", "revoke", token_id)[0] == 0
    assert "revoked" in roadmap("token", "list")[1]
    assert roadmap("token", "revoke", token_id)[0] == 4  # already revoked: not found


def test_the_account_page_lists_and_revokes_ones_own(demo, make_web_app) -> None:
    app = make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="t")
    with unit_of_work(demo) as session:
        ids = dict(session.execute(select(User.login, User.id)).all())
        issue_api_token(session, ids["school1"], "выгрузка в 1С")
        issue_api_token(session, ids["school2"], "чужой")
    with unit_of_work(demo, readonly=True) as session:
        mine, theirs = (list_tokens(session, ids[login])[0] for login in ("school1", "school2"))
    school = client_as(app, "school1")
    page = school.get("/account").text
    assert "выгрузка в 1С" in page and "чужой" not in page
    assert school.post(f"/account/tokens/{theirs.id}/revoke").status_code == 404
    assert school.post(f"/account/tokens/{mine.id}/revoke").status_code == 303
    with unit_of_work(demo, readonly=True) as session:
        states = {t.name: t.revoked_at for t in list_tokens(session)}
    assert states["выгрузка в 1С"] is not None and states["чужой"] is None
    assert "отозван" in school.get("/account").text


def test_the_api_refuses_an_expired_token(demo, make_web_app) -> None:
    app = make_web_app(TESTING=True, SECRET_KEY="t")
    with unit_of_work(demo) as session:
        user = session.execute(select(User.id).where(User.login == "school1")).scalar_one()
        token = issue_api_token(session, user, "x", days=1)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/occurrences", headers=headers).status_code == 200
    with unit_of_work(demo) as session:
        session.execute(
            ApiToken.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1))
        )
    refused = client.get("/api/v1/occurrences", headers=headers)
    assert refused.status_code == 401 and "expired" in refused.json["error"]["message"]
    with unit_of_work(demo, readonly=True) as session:
        assert session.execute(select(ApiToken.last_used_at)).scalar_one() is not None
