"""What a request knows: its database engine, settings, signed-in user and unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, request, url_for
from flask_login import UserMixin, current_user
from sqlalchemy import Engine
from sqlmodel import Session

from engine.accounts.access import CURATING, RANK, Actor, Power, may
from engine.app import App
from engine.db import unit_of_work
from engine.lifecycle.definition import SubjectKind
from engine.models import Role, utcnow
from engine.settings import Settings


@dataclass
class WebUser(UserMixin):
    """The signed-in user; the cookie holds id and session token, so rotation signs out."""

    id: int
    login: str
    full_name: str
    role: str
    organization_id: int | None
    session_token: str
    timezone: str | None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.login, self.role, self.organization_id)

    @property
    def is_school(self) -> bool:
        return self.role == Role.SCHOOL

    @property
    def is_curator(self) -> bool:
        return self.role == Role.CURATOR

    @property
    def can_arrange(self) -> bool:
        """Whether the role arranges work (the forms of the board and the roadmap page)."""
        return may(self.actor, Power.ARRANGE)

    @property
    def can_import(self) -> bool:
        """Whether the role imports roadmaps."""
        return may(self.actor, Power.IMPORT)

    @property
    def can_invite(self) -> bool:
        """Whether the role sends invitations and reset links to people of its territory."""
        return may(self.actor, Power.INVITE)

    @property
    def can_administer(self) -> bool:
        """Whether the role loads the directory and people and deactivates accounts."""
        return may(self.actor, Power.ADMINISTER)

    def can_manage(self, role: str) -> bool:
        """Whether the role changes and deactivates the accounts of people of `role`."""
        return may(self.actor, Power.MANAGE) and (
            self.role == Role.ADMIN or RANK[role] < RANK[self.role]
        )

    @property
    def curates(self) -> bool:
        """Whether the role reviews the work of schools it is assigned to."""
        return self.role in CURATING

    @property
    def is_coordinator(self) -> bool:
        return self.role in (Role.MUNICIPAL_COORDINATOR, Role.REGIONAL_COORDINATOR, Role.ADMIN)


def application() -> App:
    """The application object this web app was built with."""
    return current_app.extensions["roadmap"]


def engine() -> Engine:
    """The app's database engine."""
    return current_app.extensions["roadmap.engine"]


def settings() -> Settings:
    """The app's settings."""
    return current_app.config["ROADMAP_SETTINGS"]


@contextmanager
def work(readonly: bool = False) -> Iterator[Session]:
    """One unit of work around a view's service call."""
    with unit_of_work(engine(), readonly=readonly) as session:
        yield session


def actor() -> Actor:
    """The signed-in user as the engine sees them."""
    return current_user.actor


def user_zone() -> ZoneInfo:
    """The time zone pages use: the user's own, else the product's."""
    name = getattr(current_user, "timezone", None) or settings().timezone
    return ZoneInfo(name)


def today() -> date:
    """Today where the user is."""
    return utcnow().astimezone(user_zone()).date()


def safe_next(default: str) -> str:
    """The form's `next`, if it is a path on this site; else `default`.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so
    "/\\t/evil.example" would leave the site: only a plain path is followed.
    """
    target = request.form.get("next") or request.args.get("next") or ""
    if (
        not target.startswith("/")
        or target.startswith("//")
        or any(ord(c) < 0x21 or c == "\\" for c in target)
    ):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


#: The page of each kind of subject: its endpoint and the name of its id.
_SUBJECT_PAGES = {
    SubjectKind.OCCURRENCE: ("occurrences.occurrence", "occurrence_id"),
    SubjectKind.DOCUMENT: ("documents.document", "document_id"),
    SubjectKind.SUBMISSION: ("rounds.submission", "submission_id"),
}


def subject_url(kind: str, subject_id: int) -> str:
    """The page of one occurrence, document or submission."""
    endpoint, name = _SUBJECT_PAGES[SubjectKind(kind)]
    return url_for(endpoint, **{name: subject_id})
