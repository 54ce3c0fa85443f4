"""People from a spreadsheet: school staff, curators with their schools, coordinators.

Rows are matched with accounts by e-mail; a re-import updates name, role, scope and a
curator's schools in place. New people get an invitation by mail (no password ever travels
in a file). Every change has its log row; any bad row stops the whole file.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlmodel import Session

from engine.accounts.access import CURATING, may_curate
from engine.accounts.audit import log_change, log_changes
from engine.accounts.invitations import INVITATION, send_links
from engine.accounts.users import deactivate_user
from engine.directory.schools import name_key, valid_inn
from engine.directory.sheet import Sheet, find_columns, read_grid
from engine.errors import ValidationError
from engine.importing.sources import DocumentError
from engine.models import CuratorAssignment, Organization, OrganizationKind, Role, User, utcnow

PEOPLE_HEADERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("login", re.compile(r"^логин")),
    ("full_name", re.compile(r"^фио|фамилия|ф\.и\.о")),
    ("role", re.compile(r"^роль|должност")),
    ("email", re.compile(r"e-?mail|эл\.? ?почт|электронн\w* почт|почта")),
    ("schools", re.compile(r"^школы|закрепл\w* (оо|школ)|курируем")),
    ("scope", re.compile(r"организац|место работы|^школа|^оо$|муниципал|^мо$|район|регион")),
)

ROLE_WORDS: tuple[tuple[re.Pattern[str], Role], ...] = (
    (re.compile(r"муниципальн\w* координатор"), Role.MUNICIPAL_COORDINATOR),
    (re.compile(r"региональн\w* координатор"), Role.REGIONAL_COORDINATOR),
    (re.compile(r"куратор"), Role.CURATOR),
    (re.compile(r"администратор"), Role.ADMIN),
    (re.compile(r"школа|директор|заместител|руководител\w* оо|сотрудник"), Role.SCHOOL),
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOGIN = re.compile(r"^[\w.@+-]{2,100}$")


@dataclass
class PersonRow:
    line: int
    full_name: str
    role: Role
    email: str
    organization_id: int | None
    schools: list[int]
    login: str | None = None  # the file's own login, else the e-mail is the login


@dataclass
class PeoplePlan:
    source: str
    rows: list[PersonRow]
    created: list[PersonRow] = field(default_factory=list)
    changed: list[tuple[int, PersonRow, dict[str, tuple[Any, Any]]]] = field(default_factory=list)
    unchanged: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "people": len(self.rows),
            "created": [r.email for r in self.created],
            "changed": [
                {"id": i, "email": r.email, "fields": sorted(d)} for i, r, d in self.changed
            ],
            "unchanged": self.unchanged,
        }


class _Directory:
    """Schools, municipalities and regions, read once, for resolving what a row names."""

    def __init__(self, session: Session) -> None:
        orgs = session.execute(
            select(
                Organization.id,
                Organization.kind,
                Organization.name,
                Organization.inn,
                Organization.parent_id,
            )
        ).all()
        self.parent = {o.id: o.parent_id for o in orgs}
        self.by_inn = {o.inn: o.id for o in orgs if o.inn}
        self.names: dict[tuple[str, str], list[int]] = {}
        for o in orgs:
            self.names.setdefault((o.kind, name_key(o.name)), []).append(o.id)
        self.regions = [o.id for o in orgs if o.kind == OrganizationKind.REGION]

    def find(self, kind: str, text: str) -> tuple[int | None, str | None]:
        """(id, None), or (None, the problem)."""
        text = text.strip()
        if kind == OrganizationKind.SCHOOL and re.fullmatch(r"\d{10}", text):
            if not valid_inn(text):
                return None, f"{text!r} is not a valid ИНН"
            found = self.by_inn.get(text)
            return (found, None) if found else (None, f"no school has ИНН {text}")
        if kind == OrganizationKind.REGION and not text and len(self.regions) == 1:
            return self.regions[0], None
        ids = self.names.get((kind, name_key(text)), [])
        if len(ids) == 1:
            return ids[0], None
        what = {"school": "school", "municipality": "municipality", "region": "region"}[kind]
        if not ids:
            return None, f"no {what} is named {text!r}"
        return None, f"{len(ids)} {what}s are named {text!r}; give the ИНН"


def read_people(session: Session, path: Path, name: str | None = None) -> list[PersonRow]:
    """The people of a file, every row checked against the directory."""
    name = name or path.name
    sheet = find_columns(read_grid(path, name), name, PEOPLE_HEADERS, "full_name")
    for needed in ("role", "email"):
        if needed not in sheet.headers:
            raise DocumentError(f"{sheet.name}, row {sheet.header_line}: no {needed} column")
    directory = _Directory(session)
    problems: list[str] = []
    rows: list[PersonRow] = []
    first: dict[str, int] = {}
    logins: dict[str, int] = {}
    for line, cells in sheet.rows:
        row = _person(sheet, line, cells, directory, problems)
        if row is None:
            continue
        if row.login:
            if row.login in logins:
                where = _where(sheet, line, "login")
                problems.append(f"{where}: {row.login} is also in row {logins[row.login]}")
            logins.setdefault(row.login, line)
        if row.email in first:
            problems.append(
                _where(sheet, line, "email")
                + f": {row.email} is also in row {first[row.email]} (one person has one role;"
                " a municipal coordinator who also curates lists the schools in «Школы»)"
            )
            continue
        first[row.email] = line
        rows.append(row)
    if problems:
        more = f"\n… and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise DocumentError("\n".join(problems[:50]) + more)
    if not rows:
        raise DocumentError(f"{sheet.name}: no people under the header in row {sheet.header_line}")
    return rows


def _where(sheet: Sheet, line: int, field_name: str) -> str:
    return f"{sheet.name}, row {line}, column «{sheet.headers.get(field_name, field_name)}»"


def _person(
    sheet: Sheet, line: int, cells: dict[str, str], directory: _Directory, problems: list[str]
) -> PersonRow | None:
    found = len(problems)
    full_name = re.sub(r"\s+", " ", cells.get("full_name", "")).strip()
    if not full_name:
        problems.append(_where(sheet, line, "full_name") + ": no name")
    role_text = cells.get("role", "").lower().replace("ё", "е")
    role = next((r for pattern, r in ROLE_WORDS if pattern.search(role_text)), None)
    if role is None:
        problems.append(
            _where(sheet, line, "role")
            + f": {cells.get('role', '')!r} is none of школа, куратор, муниципальный "
            "координатор, региональный координатор, администратор"
        )
    email = cells.get("email", "").strip().lower()
    if not _EMAIL.match(email):
        problems.append(_where(sheet, line, "email") + f": {email!r} is not an e-mail address")
    organization_id: int | None = None
    scope = cells.get("scope", "")
    kind = {
        Role.SCHOOL: OrganizationKind.SCHOOL,
        Role.MUNICIPAL_COORDINATOR: OrganizationKind.MUNICIPALITY,
        Role.REGIONAL_COORDINATOR: OrganizationKind.REGION,
    }.get(role)
    if kind is not None:
        if not scope.strip() and kind != OrganizationKind.REGION:
            problems.append(_where(sheet, line, "scope") + f": a {role} needs their {kind}")
        else:
            organization_id, problem = directory.find(kind, scope)
            if problem:
                problems.append(_where(sheet, line, "scope") + f": {problem}")
    schools: list[int] = []
    for part in (p for p in re.split(r"[;\n]", cells.get("schools", "")) if p.strip()):
        if role not in CURATING:
            problems.append(
                _where(sheet, line, "schools")
                + f": only a curator or a municipal coordinator curates schools ({role})"
            )
            break
        school_id, problem = directory.find(OrganizationKind.SCHOOL, part)
        if problem:
            problems.append(_where(sheet, line, "schools") + f": {problem}")
        elif school_id is not None and not may_curate(
            role, organization_id, directory.parent.get(school_id)
        ):
            problems.append(
                _where(sheet, line, "schools")
                + f": {part.strip()!r} is not a school of this coordinator's municipality"
            )
        elif school_id is not None:
            schools.append(school_id)
    login = cells.get("login", "").strip() or None
    if login is not None and not _LOGIN.match(login):
        problems.append(_where(sheet, line, "login") + f": {login!r} is not a login")
    if len(problems) > found or role is None:
        return None
    return PersonRow(line, full_name, role, email, organization_id, sorted(set(schools)), login)


def plan_people(session: Session, rows: list[PersonRow], source: str) -> PeoplePlan:
    """Compare the file's people with the accounts, matched by e-mail."""
    plan = PeoplePlan(source, rows)
    users = {
        u.email: u
        for u in session.execute(select(User).where(User.email.in_([r.email for r in rows])))
        .scalars()
        .all()
    }
    assigned: dict[int, list[int]] = {}
    for curator_id, school_id in session.execute(
        select(CuratorAssignment.curator_id, CuratorAssignment.school_id).where(
            CuratorAssignment.curator_id.in_([u.id for u in users.values()])
        )
    ):
        assigned.setdefault(curator_id, []).append(school_id)
    for row in rows:
        user = users.get(row.email)
        if user is None:
            plan.created.append(row)
            continue
        diff: dict[str, tuple[Any, Any]] = {}
        for name, now in (
            ("full_name", row.full_name),
            ("role", str(row.role)),
            ("organization_id", row.organization_id),
        ):
            if getattr(user, name) != now:
                diff[name] = (getattr(user, name), now)
        before_schools = sorted(assigned.get(user.id, []))
        if before_schools != row.schools:
            diff["schools"] = (before_schools, row.schools)
        if diff:
            plan.changed.append((user.id, row, diff))
        else:
            plan.unchanged += 1
    return plan


def apply_people(
    session: Session, plan: PeoplePlan, actor_login: str, base_url: str, *, invite: bool = True
) -> None:
    """Write `plan` in the caller's transaction; new people are invited by mail."""
    wanted = [r.login or r.email for r in plan.created]
    taken = set(session.execute(select(User.login).where(User.login.in_(wanted))).scalars())
    if clash := [r for r in plan.created if r.login and r.login in taken]:
        raise DocumentError(
            "\n".join(f"{plan.source}, row {r.line}: the login {r.login!r} is taken" for r in clash)
        )
    if plan.created:  # Core statements: thousands of people are a few round trips
        now = utcnow()
        values = [
            {
                "login": (row.login or row.email)
                if (row.login or row.email) not in taken
                else f"{row.login or row.email}.{row.line}",
                "full_name": row.full_name,
                "role": str(row.role),
                "organization_id": row.organization_id,
                "email": row.email,
                "password_hash": "!",  # no password until the invitation sets one
                "is_active": True,
                "created_at": now,
                "session_token": secrets.token_hex(16),
            }
            for row in plan.created
        ]
        added = session.execute(
            insert(User).returning(User.id, User.login, User.email, sort_by_parameter_order=True),
            values,
        ).all()
        by_email = {row.email: row for row in plan.created}
        assignments = [
            {"curator_id": user.id, "school_id": school}
            for user in added
            for school in by_email[user.email].schools
        ]
        if assignments:
            session.execute(insert(CuratorAssignment), assignments)
        logs = [(u.id, "created", None, _fields(by_email[u.email])) for u in added]
        if invite:
            logs += [(u.id, "invited", None, {"email": u.email}) for u in added]
            send_links(session, list(added), INVITATION, base_url, now=now)
        log_changes(session, actor_login, "user", logs)
    for user_id, row, diff in plan.changed:
        known = session.get(User, user_id)
        assert known is not None
        user = known
        user.full_name, user.role, user.organization_id = (
            row.full_name,
            row.role,
            row.organization_id,
        )
        if "schools" in diff:
            _assign(session, user_id, diff["schools"][0], row.schools)
        log_change(
            session,
            actor_login,
            user,
            "changed",
            {k: v[0] for k, v in diff.items()},
            {k: v[1] for k, v in diff.items()},
        )
    session.flush()


def _fields(row: PersonRow) -> dict[str, Any]:
    return {
        "full_name": row.full_name,
        "role": str(row.role),
        "email": row.email,
        "organization_id": row.organization_id,
        "schools": row.schools,
    }


def _assign(session: Session, curator_id: int, before: list[int], after: list[int]) -> None:
    gone = set(before) - set(after)
    if gone:
        session.execute(
            delete(CuratorAssignment).where(
                CuratorAssignment.curator_id == curator_id,
                CuratorAssignment.school_id.in_(gone),
            )
        )
    session.add_all(
        CuratorAssignment(curator_id=curator_id, school_id=s) for s in set(after) - set(before)
    )


def add_person(session: Session, cells: dict[str, str], actor_login: str, base_url: str) -> User:
    """One person, checked as a file's row is; invited by mail."""
    sheet = Sheet("users add", 0, {f: f"--{f.replace('_', '-')}" for f in cells}, [])
    problems: list[str] = []
    row = _person(sheet, 1, cells, _Directory(session), problems)
    if row is None:
        raise DocumentError("\n".join(p.replace(", row 1", "") for p in problems))
    if session.execute(select(User.id).where(User.email == row.email)).first():
        raise DocumentError(f"users add: {row.email} already has an account")
    plan = PeoplePlan("users add", [row], created=[row])
    apply_people(session, plan, actor_login, base_url)
    return session.execute(select(User).where(User.email == row.email)).scalar_one()


def hand_over(
    session: Session, actor_login: str, curator: User, successors: Mapping[int, User]
) -> list[int]:
    """Give each of `curator`'s schools to its successor (school id → a curator, or the
    municipal coordinator of the school's municipality); every school needs one. Their open
    queue items follow, since a reviewer's queue is their schools'. The schools moved."""
    schools: dict[int, int | None] = {
        row.id: row.parent_id
        for row in session.execute(
            select(Organization.id, Organization.parent_id)
            .join(CuratorAssignment, CuratorAssignment.school_id == Organization.id)
            .where(CuratorAssignment.curator_id == curator.id)
        )
    }
    if missing := sorted(set(schools) - set(successors)):
        raise ValidationError(
            f"{curator.login} curates schools {missing}; name who takes each",
            reason="successor_required",
        )
    by_successor: dict[int, list[int]] = {}
    taking: dict[int, User] = {}
    for school_id, municipality_id in schools.items():
        successor = successors[school_id]
        if successor.id == curator.id:
            raise DocumentError(f"{curator.login} cannot hand a school to themselves")
        if not successor.is_active or not may_curate(
            successor.role, successor.organization_id, municipality_id
        ):
            raise DocumentError(f"{successor.login} may not curate school {school_id}")
        by_successor.setdefault(successor.id, []).append(school_id)
        taking[successor.id] = successor  # type: ignore[index]
    kept = {
        (row.curator_id, row.school_id)
        for row in session.execute(
            select(CuratorAssignment.curator_id, CuratorAssignment.school_id).where(
                CuratorAssignment.curator_id.in_(by_successor)
            )
        )
    }
    session.execute(delete(CuratorAssignment).where(CuratorAssignment.curator_id == curator.id))
    session.add_all(
        CuratorAssignment(curator_id=who, school_id=school)
        for who, moved in by_successor.items()
        for school in moved
        if (who, school) not in kept
    )
    for who, moved in by_successor.items():
        successor = taking[who]
        log_change(
            session,
            actor_login,
            curator,
            "handed_over",
            {"schools": moved},
            {"to": successor.login},
        )
        log_change(session, actor_login, successor, "assigned", None, {"schools": moved})
    return sorted(schools)


def change_scope(session: Session, actor_login: str, user: User, text: str) -> int | None:
    """Move a person to another organization of their role's kind (a school by ИНН or
    name, a municipality, a region), logged; the new organization's id."""
    kind = {
        Role.SCHOOL: OrganizationKind.SCHOOL,
        Role.MUNICIPAL_COORDINATOR: OrganizationKind.MUNICIPALITY,
        Role.REGIONAL_COORDINATOR: OrganizationKind.REGION,
    }.get(Role(user.role))
    if kind is None:
        raise DocumentError(f"a {user.role} belongs to no organization")
    organization_id, problem = _Directory(session).find(kind, text)
    if problem:
        raise DocumentError(problem)
    if organization_id != user.organization_id:
        log_change(
            session,
            actor_login,
            user,
            "changed",
            {"organization_id": user.organization_id},
            {"organization_id": organization_id},
        )
        user.organization_id = organization_id
        session.flush()
    return organization_id


def take_out(
    session: Session,
    actor_login: str,
    user: User,
    handover: User | Mapping[int, User] | None = None,
) -> list[int]:
    """Deactivate `user` at once (sign-in, sessions and tokens end; history stays), logged.
    The schools they curate go first to `handover`: one successor for all, or one per
    school; the schools moved."""
    schools = list(
        session.execute(
            select(CuratorAssignment.school_id).where(CuratorAssignment.curator_id == user.id)
        ).scalars()
    )
    moved: list[int] = []
    if schools:
        if isinstance(handover, User):
            handover = dict.fromkeys(schools, handover)
        moved = hand_over(session, actor_login, user, handover or {})
    deactivate_user(session, user.id)
    log_change(session, actor_login, user, "deactivated", {"is_active": True}, {"is_active": False})
    return moved
