"""Who a roadmap's responsible text names: the participating schools, one school, or the
municipality's own bodies."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MUNICIPAL_BODY = re.compile(
    r"^(омо|рмо|ммо|мс|моц|руму|отдел|управлен|муниципальн|совет|специалист|член|методист"
    r"|информационно|гл\.? специалист|ст\.? методист|начальник|зам\.? начальника)"
)
_SCHOOL_PARTY = re.compile(
    r"(^|[^а-яa-z])(оо|оу)([^а-яa-z]|$)|школ|директор|образовательн\w* (организац|учрежден)"
    r"|куратор"
)
_MUNICIPAL_COORDINATOR = re.compile(r"муниципальн\w*( и школьн\w*)? координатор")


@dataclass(frozen=True)
class School:
    """A participating school, by id and name."""

    id: int
    name: str


def resolve_assignees(
    parties: list[str], schools: list[School], municipality_id: int
) -> tuple[set[int], list[str]]:
    """Organizations that execute an activity, and the parties that could not be resolved.

    "Руководители ОО", "ОО", "школы" mean every participating school; "Директор МКОУ СОШ №8"
    the school named so; the municipal coordinator, the department and anything unknown fall
    to the municipality, whose coordinator sees it and can reassign it.
    """
    assignees: set[int] = set()
    unresolved: list[str] = []
    for party in parties:
        low = party.lower().replace("ё", "е")
        if _MUNICIPAL_COORDINATOR.search(low):
            assignees.add(municipality_id)
            if "школьн" in low:
                assignees.update(s.id for s in schools)
            continue
        if is_school_party(party):
            named = re.search(r"№\s*(\d+)", party)
            if named:
                matching = [
                    s.id for s in schools if re.search(rf"№\s*{named.group(1)}(\D|$)", s.name)
                ]
                if matching:
                    assignees.update(matching)
                    continue
                unresolved.append(party)
                assignees.add(municipality_id)
                continue
            assignees.update(s.id for s in schools)
            continue
        if _MUNICIPAL_BODY.match(low):
            assignees.add(municipality_id)
            continue
        unresolved.append(party)
        assignees.add(municipality_id)
    if not parties:
        assignees.add(municipality_id)
    return assignees, unresolved


def is_school_party(party: str) -> bool:
    """Whether a party is schools («Руководители ОО», «Директор МКОУ СОШ №8»), not a body of
    the municipality."""
    low = party.lower().replace("ё", "е")
    if _MUNICIPAL_COORDINATOR.search(low):
        return "школьн" in low
    return bool(_SCHOOL_PARTY.search(low)) and not _MUNICIPAL_BODY.match(low)
