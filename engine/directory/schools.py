"""The directory (region → municipalities → schools) from the ministry's spreadsheet.

`plan_directory` reads the file and compares it with the database: what would be created,
changed, left alone, and which known schools the file no longer lists (reported, never
deleted). `apply_directory` writes a plan in the caller's transaction, with a log row per
change. Any bad row stops the whole file: nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from engine.accounts.audit import log_change
from engine.directory.sheet import Sheet, find_columns, read_grid
from engine.importing.sources import DocumentError
from engine.models import Organization, OrganizationKind

#: Header meanings, in the order they are tried on each cell.
SCHOOL_HEADERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("inn", re.compile(r"^инн\b|\bинн\b")),
    ("email", re.compile(r"e-?mail|эл\.? ?почт|электронн\w* почт|почта")),
    ("programme", re.compile(r"статус|программ|проект|категори|шнор|500")),
    ("short_name", re.compile(r"кратк\w* наимен|сокращ\w* наимен|краткое")),
    ("region", re.compile(r"^регион|^субъект")),
    (
        "municipality",
        re.compile(r"муниципал|^мо$|^мо\b|район|городск\w* округ|^округ"),
    ),
    (
        "name",
        re.compile(r"образовательн\w* организац|наименовани\w* оо|полное наимен|^оо$|^школа"),
    ),
)

#: The programme statuses a school can have, with the words that name them.
PROGRAMMES = {
    "low_results": re.compile(r"шнор|низк\w* (образовательн\w* )?результат"),
    "risk_of_low_results": re.compile(r"шсрнр|шрнр|риск"),
    "500_plus": re.compile(r"500\s*\+|500 ?плюс"),
}
_YEAR = re.compile(r"\b(20\d\d)\b")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: The check digit weights of a 10-digit ИНН (a legal entity's).
_INN_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)


def valid_inn(text: str) -> bool:
    """A 10-digit ИНН whose last digit is its check digit."""
    if not re.fullmatch(r"\d{10}", text):
        return False
    total = sum(int(d) * w for d, w in zip(text, _INN_WEIGHTS, strict=False))
    return total % 11 % 10 == int(text[9])


def name_key(text: str) -> str:
    """A school's or municipality's name as compared: case, ё, quotes and spaces ignored."""
    text = text.lower().replace("ё", "е")
    text = re.sub(r"[«»\"'“”„]", "", text)
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class SchoolRow:
    line: int
    region: str
    municipality: str
    name: str
    short_name: str | None
    inn: str | None
    email: str | None
    programme: str | None
    programme_year: int | None


@dataclass
class DirectoryPlan:
    """What importing the file would do."""

    source: str
    rows: list[SchoolRow]
    regions_created: list[str] = field(default_factory=list)
    municipalities_created: list[str] = field(default_factory=list)
    created: list[SchoolRow] = field(default_factory=list)
    changed: list[tuple[int, SchoolRow, dict[str, tuple[Any, Any]]]] = field(default_factory=list)
    unchanged: int = 0
    missing: list[tuple[int, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "schools": len(self.rows),
            "regions_created": self.regions_created,
            "municipalities_created": self.municipalities_created,
            "created": [r.name for r in self.created],
            "changed": [
                {"id": school_id, "name": r.name, "fields": sorted(diff)}
                for school_id, r, diff in self.changed
            ],
            "unchanged": self.unchanged,
            "missing": [{"id": i, "name": n} for i, n in self.missing],
        }


def read_directory(path: Path, name: str | None = None) -> list[SchoolRow]:
    """The schools of a directory file, every row checked; DocumentError lists each bad cell
    (naming the file as `name`, an upload's own name, when given)."""
    name = name or path.name
    sheet = find_columns(read_grid(path, name), name, SCHOOL_HEADERS, "name")
    if "municipality" not in sheet.headers:
        raise DocumentError(
            f"{sheet.name}, row {sheet.header_line}: no municipality column "
            "(«Муниципалитет», «Муниципальное образование», «МО», «Район / городской округ»)"
        )
    problems: list[str] = []
    rows: list[SchoolRow] = []
    first_with_inn: dict[str, int] = {}
    first_with_name: dict[tuple[str, str], int] = {}
    for line, cells in sheet.rows:
        row = _row(sheet, line, cells, problems)
        if row is None:
            continue
        if row.inn:
            if row.inn in first_with_inn:
                problems.append(
                    _where(sheet, line, "inn")
                    + f": ИНН {row.inn} is also in row {first_with_inn[row.inn]}"
                )
            first_with_inn.setdefault(row.inn, line)
        key = (name_key(row.municipality), name_key(row.name))
        if key in first_with_name and not row.inn:
            problems.append(
                _where(sheet, line, "name")
                + f": the same school as in row {first_with_name[key]}, and no ИНН tells them apart"
            )
        first_with_name.setdefault(key, line)
        rows.append(row)
    if problems:
        raise DocumentError("\n".join(problems[:50]) + _more(problems))
    if not rows:
        raise DocumentError(f"{sheet.name}: no schools under the header in row {sheet.header_line}")
    return rows


def _more(problems: list[str]) -> str:
    return f"\n… and {len(problems) - 50} more" if len(problems) > 50 else ""


def _where(sheet: Sheet, line: int, field_name: str) -> str:
    header = sheet.headers.get(field_name, field_name)
    return f"{sheet.name}, row {line}, column «{header}»"


def _row(sheet: Sheet, line: int, cells: dict[str, str], problems: list[str]) -> SchoolRow | None:
    found = len(problems)
    name = cells.get("name", "")
    municipality = cells.get("municipality", "")
    if not name:
        problems.append(_where(sheet, line, "name") + ": no school name")
    if not municipality:
        problems.append(_where(sheet, line, "municipality") + ": the school has no municipality")
    inn = re.sub(r"\s", "", cells.get("inn", "")) or None
    if inn is not None and not valid_inn(inn):
        problems.append(_where(sheet, line, "inn") + f": {inn!r} is not a valid 10-digit ИНН")
    email = cells.get("email", "").strip() or None
    if email is not None and not _EMAIL.match(email):
        problems.append(_where(sheet, line, "email") + f": {email!r} is not an e-mail address")
    programme, year = None, None
    status = cells.get("programme", "").strip()
    if status:
        lowered = status.lower().replace("ё", "е")
        programme = next((code for code, p in PROGRAMMES.items() if p.search(lowered)), None)
        if programme is None:
            problems.append(
                _where(sheet, line, "programme") + f": {status!r} is none of ШНОР, ШсРНР, «500+»"
            )
        if m := _YEAR.search(lowered):
            year = int(m.group(1))
    if len(problems) > found:
        return None
    return SchoolRow(
        line=line,
        region=cells.get("region", "").strip(),
        municipality=re.sub(r"\s+", " ", municipality).strip(),
        name=re.sub(r"\s+", " ", name).strip(),
        short_name=cells.get("short_name", "").strip() or None,
        inn=inn,
        email=email,
        programme=programme,
        programme_year=year,
    )


#: The fields of a school a re-import may change.
SCHOOL_FIELDS = ("name", "short_name", "inn", "email", "programme", "programme_year")


def plan_directory(session: Session, rows: list[SchoolRow], source: str) -> DirectoryPlan:
    """Compare the file's schools with the database (one query per level, no loop of queries)."""
    plan = DirectoryPlan(source, rows)
    orgs = session.execute(
        select(  # type: ignore[misc]
            Organization.id,
            Organization.kind,
            Organization.name,
            Organization.parent_id,
            Organization.short_name,
            Organization.inn,
            Organization.email,
            Organization.programme,
            Organization.programme_year,
            Organization.archived_at,
        )
    ).all()
    regions = {name_key(o.name): o.id for o in orgs if o.kind == OrganizationKind.REGION}
    municipalities = {
        (o.parent_id, name_key(o.name)): o.id
        for o in orgs
        if o.kind == OrganizationKind.MUNICIPALITY
    }
    schools = [o for o in orgs if o.kind == OrganizationKind.SCHOOL]
    by_inn = {o.inn: o for o in schools if o.inn}
    by_name = {(o.parent_id, name_key(o.name)): o for o in schools}
    only_region = next(iter(regions.values())) if len(regions) == 1 else None
    problems: list[str] = []
    seen: set[int] = set()
    new_regions: dict[str, None] = {}
    new_municipalities: dict[tuple[str, str], None] = {}
    for row in rows:
        region_key = name_key(row.region) if row.region else None
        if region_key is None and only_region is None:
            problems.append(
                f"{source}, row {row.line}: no region; add a «Регион» column "
                "(the database has " + ("no region yet)" if not regions else "several regions)")
            )
            continue
        region_id = regions.get(region_key) if region_key else only_region
        if region_id is None:
            new_regions.setdefault(row.region)
        municipality_id = municipalities.get((region_id, name_key(row.municipality)))
        if municipality_id is None:
            new_municipalities.setdefault((row.region, row.municipality))
        known = by_inn.get(row.inn) if row.inn else None
        if known is None and municipality_id is not None:
            known = by_name.get((municipality_id, name_key(row.name)))
            if known is not None and known.inn and row.inn and known.inn != row.inn:
                known = None  # the same name, another ИНН: another school
        if known is None:
            plan.created.append(row)
            continue
        if known.id in seen:
            problems.append(f"{source}, row {row.line}: {row.name!r} is another row's school")
            continue
        seen.add(known.id)
        diff = {
            f: (getattr(known, f), getattr(row, f))
            for f in SCHOOL_FIELDS
            if getattr(row, f) is not None and getattr(row, f) != getattr(known, f)
        }
        if municipality_id != known.parent_id:
            diff["municipality"] = (known.parent_id, row.municipality)
        if diff:
            plan.changed.append((known.id, row, diff))
        else:
            plan.unchanged += 1
    if problems:
        raise DocumentError("\n".join(problems[:50]) + _more(problems))
    file_regions = {regions.get(name_key(r.region)) if r.region else only_region for r in rows}
    file_municipalities = {
        mid for (parent, _), mid in municipalities.items() if parent in file_regions
    }
    plan.missing = [
        (o.id, o.name)
        for o in schools
        if o.id not in seen and o.parent_id in file_municipalities and o.archived_at is None
    ]
    plan.regions_created = list(new_regions)
    plan.municipalities_created = [m for _, m in new_municipalities]
    return plan


def apply_directory(session: Session, plan: DirectoryPlan, actor_login: str) -> None:
    """Write `plan` in the caller's transaction; every change gets its log row."""
    regions = {
        name_key(o.name): o
        for o in session.execute(
            select(Organization).where(Organization.kind == OrganizationKind.REGION)
        ).scalars()
    }
    municipalities = {
        (o.parent_id, name_key(o.name)): o
        for o in session.execute(
            select(Organization).where(Organization.kind == OrganizationKind.MUNICIPALITY)
        ).scalars()
    }
    only_region = next(iter(regions.values())) if len(regions) == 1 else None

    def region_of(row: SchoolRow) -> Organization:
        if not row.region:
            assert only_region is not None  # the plan checked it
            return only_region
        region = regions.get(name_key(row.region))
        if region is None:
            region = Organization(kind=OrganizationKind.REGION, name=row.region)
            session.add(region)
            session.flush()
            regions[name_key(row.region)] = region
            log_change(session, actor_login, region, "created", None, {"name": region.name})
        return region

    def municipality_of(row: SchoolRow) -> Organization:
        region = region_of(row)
        key = (region.id, name_key(row.municipality))
        municipality = municipalities.get(key)
        if municipality is None:
            municipality = Organization(
                kind=OrganizationKind.MUNICIPALITY, name=row.municipality, parent_id=region.id
            )
            session.add(municipality)
            session.flush()
            municipalities[key] = municipality
            log_change(
                session, actor_login, municipality, "created", None, {"name": municipality.name}
            )
        return municipality

    created = []
    for row in plan.created:
        school = Organization(
            kind=OrganizationKind.SCHOOL,
            parent_id=municipality_of(row).id,
            **{f: getattr(row, f) for f in SCHOOL_FIELDS},
        )
        session.add(school)
        created.append((school, row))
    session.flush()
    for school, row in created:
        after = {f: getattr(row, f) for f in SCHOOL_FIELDS} | {"municipality": row.municipality}
        log_change(session, actor_login, school, "created", None, after)
    for school_id, row, diff in plan.changed:
        known = session.get(Organization, school_id)
        assert known is not None
        school = known
        for f in SCHOOL_FIELDS:
            if f in diff:
                setattr(school, f, getattr(row, f))
        if "municipality" in diff:
            school.parent_id = municipality_of(row).id
        log_change(
            session,
            actor_login,
            school,
            "changed",
            {f: before for f, (before, _) in diff.items()},
            {f: after for f, (_, after) in diff.items()},
        )
    session.flush()
