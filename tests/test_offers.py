"""No page offers a form its viewer may not use: every page reachable from the menu, as each
role, and one form of each kind on it pressed as a person would (its hidden fields, its
first choices, the empty fields filled). A form may answer that a value is wrong; it may
never refuse the person for lack of power (a 403, or a refusal shown as a message), nor
answer 500."""

from __future__ import annotations

from collections import deque
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

from engine.errors import PermissionDeniedError
from engine.escalation.sweep import sweep
from tests.factories import POLICIES
from tests.webclient import client_as

ROLES = ("school1", "curator1", "coordinator", "regional", "admin")
#: Forms that end the session or are pressed on purpose by their own tests.
LEAVE = ("/logout", "/account/password")
DOWNLOADS = (".xlsx", ".docx", ".csv", ".svg", ".pdf", "/file", "/download", "/view")
PAGES = 80


@pytest.fixture
def app(demo, make_web_app):
    """The demo swept as of now, so that the board has rows and their forms."""
    sweep(demo, POLICIES, datetime.now(UTC))
    return make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="test")


def crawl(client) -> dict[str, list[lxml.html.FormElement]]:  # type: ignore[no-untyped-def]
    """Pages reachable from the start page (one of each kind): path → its POST forms."""
    seen: dict[str, list[lxml.html.FormElement]] = {}
    kinds: set[str] = set()
    queue = deque(["/"])
    while queue and len(seen) < PAGES:
        path = queue.popleft()
        response = client.get(path, follow_redirects=True)
        assert response.status_code < 500, path
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        tree = lxml.html.fromstring(response.text)
        seen[path] = [f for f in tree.forms if (f.method or "GET").upper() == "POST"]
        for href in tree.xpath("//a/@href"):
            target = urlsplit(urljoin("http://localhost" + path, href))
            if target.netloc != "localhost" or target.path.endswith(DOWNLOADS):
                continue
            kind = _kind(target.path)
            if kind not in kinds and not target.query:
                kinds.add(kind)
                queue.append(target.path)
    return seen


def _kind(path: str) -> str:
    """A path with its ids as N: one page or form of each kind is enough."""
    return "/".join("N" if part.isdigit() else part for part in path.split("/"))


def filled(form: lxml.html.FormElement) -> dict[str, str]:
    """What pressing `form` sends: its own values, and something in each empty field."""
    values = {k: v for k, v in form.form_values() if k != "csrf_token"}
    # fields outside the form that name it (form="…"), as the board's panels do
    outside = (
        form.getroottree().xpath("//*[@form=$id]", id=form.get("id")) if form.get("id") else []
    )
    for field in outside:
        if field.get("name") and field.tag in ("input", "select", "textarea"):
            values.setdefault(field.get("name"), field.get("value") or "")
    for field in [*form.inputs, *outside]:
        if field.tag not in ("input", "select", "textarea"):
            continue
        name, kind = field.get("name"), (field.get("type") or field.tag).lower()
        if not name or values.get(name):
            continue
        if kind == "date":
            values[name] = (date.today() + timedelta(days=30)).isoformat()
        elif kind == "number":
            values[name] = field.get("min") or "1"
        elif kind == "email":
            values[name] = "someone@example.org"
        elif kind in ("input", "text", "textarea", "search"):
            values[name] = "проверка формы"
    return values


@pytest.mark.parametrize("login", ROLES)
def test_no_page_offers_a_form_its_viewer_may_not_use(app, login, monkeypatch) -> None:
    refusals: list[str] = []
    plain = PermissionDeniedError.__init__

    def record(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        refusals.append(str(args))
        plain(self, *args, **kwargs)

    monkeypatch.setattr(PermissionDeniedError, "__init__", record)
    client = client_as(app, login)
    pages = crawl(client)
    assert len(pages) >= 4, pages.keys()
    pressed: set[str] = set()
    for path, forms in pages.items():
        for form in forms:
            action = urlsplit(urljoin("http://localhost" + path, form.action or path)).path
            if action.startswith(LEAVE) or _kind(action) in pressed:
                continue
            pressed.add(_kind(action))
            values = filled(form)
            refusals.clear()
            response = client.post(action, data=values)
            assert response.status_code not in (403, 500), (login, path, action, values)
            assert not refusals, (login, path, action, refusals)
            assert not response.headers.get("Location", "").startswith("/login"), action
    assert pressed or login == "admin", "every role but the admin is offered some form"
