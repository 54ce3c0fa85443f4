"""The shapes of /api/v1: pydantic models that validate requests and responses and make the
OpenAPI document (spectree reads them from the views' decorators)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree
from spectree.model_adapter.pydantic_adapter import BaseFile

from engine.db import MAX_ID
from engine.errors import MAX_REMARK, MAX_REPORT
from engine.models import IndicatorDirection, IndicatorScope, QuestionKind
from web.converters import MAX_PAGE

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Name = Annotated[str, Field(max_length=64)]


class Strict(BaseModel):
    """A request body: unknown keys are an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    code: str
    message: str
    reason: str | None = None
    state: str | None = None
    allowed: list[str] | None = None
    fields: list[dict[str, Any]] | None = None


class Error(BaseModel):
    """Every answer that is not a success."""

    error: ErrorBody


class OccurrenceQuery(BaseModel):
    state: Name | None = Field(None, description="Only occurrences in this state")
    school: Id | None = Field(None, description="Only this school's occurrences")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=200)


class OccurrenceRow(BaseModel):
    id: int
    number: str
    title: str
    section: str | None
    school: str
    due_on: dt.date | None
    state: str
    escalation_level: int
    overdue: bool


class OccurrencePage(BaseModel):
    page: int
    per_page: int
    total: int
    overdue: int
    items: list[OccurrenceRow]


class Evidence(BaseModel):
    id: int
    name: str
    size: int
    sha256: str
    content_type: str | None = None


class Occurrence(BaseModel):
    id: int
    version: int
    state: str
    due_on: dt.date | None
    school: str
    roadmap: str
    number: str
    title: str
    escalation_level: int
    evidence: list[Evidence]


class Fire(Strict):
    """Fire one of the activity lifecycle's triggers; the served document lists them."""

    trigger: Name
    comment: Annotated[str, Field(max_length=MAX_REMARK)] | None = None
    report_text: Annotated[str, Field(max_length=MAX_REPORT)] | None = None


class Transition(BaseModel):
    id: int
    trigger: str
    from_state: str
    to_state: str
    version: int


class Upload(BaseModel):
    file: BaseFile  # type: ignore[valid-type]


class HistoryEntry(BaseModel):
    at: dt.datetime
    actor: str
    trigger: str
    from_state: str
    to_state: str
    comment: str | None


class History(BaseModel):
    items: list[HistoryEntry]


def answers(**codes: Any) -> Response:
    """A success model and the error statuses an operation can give, each with `Error`."""
    errors = {f"HTTP_{status}": Error for status in codes.pop("errors")}
    return Response(**codes, **errors, HTTP_401=Error, HTTP_422=Error)


SPEC = SpecTree(
    "flask",
    mode="strict",
    title="Roadmap Engine API",
    version="1.0.0",
    description="Occurrences of school-support roadmaps: list, act, upload, read.",
    annotations=False,
    validation_error_model=Error,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    security_schemes=[
        SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer"))
    ],
    security={"bearer": []},
)


class SchoolQuery(BaseModel):
    q: Annotated[str, Field(max_length=100)] | None = Field(None, description="Name or ИНН")
    municipality: Id | None = None
    programme: Literal["low_results", "risk_of_low_results", "500_plus"] | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=200)


class School(BaseModel):
    id: int
    name: str
    short_name: str | None
    inn: str | None
    municipality: str | None
    programme: str | None
    programme_year: int | None
    archived: bool


class Target(BaseModel):
    value: float
    unit: Literal["%", "people", "schools", "points"] | None
    direction: IndicatorDirection


class Indicator(BaseModel):
    """A target indicator as the document states it, and what was read of it."""

    id: int
    number: str | None
    title: str
    text: str
    target: Target | None
    baseline: float | None
    due: list[dt.date]
    due_text: str | None
    scope: IndicatorScope
    activity_id: int | None


class IndicatorList(BaseModel):
    roadmap_id: int
    items: list[Indicator]


class SchoolPage(BaseModel):
    page: int
    per_page: int
    total: int
    items: list[School]


class PeopleQuery(BaseModel):
    q: Annotated[str, Field(max_length=100)] | None = Field(None, description="Name, login, e-mail")
    role: (
        Literal["school", "curator", "municipal_coordinator", "regional_coordinator", "admin"]
        | None
    ) = None
    municipality: Id | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=200)


class Person(BaseModel):
    id: int
    login: str
    full_name: str
    email: str | None
    role: str
    organization: str | None
    active: bool
    schools: list[int] | None = None


class PeoplePage(BaseModel):
    page: int
    per_page: int
    total: int
    items: list[Person]


class NewPerson(Strict):
    """A person to add and invite by mail (the admin)."""

    email: Annotated[str, Field(max_length=300)]
    full_name: Annotated[str, Field(min_length=1, max_length=300)]
    role: Annotated[str, Field(max_length=60, description="школа, куратор, … (as in the file)")]
    scope: Annotated[str, Field(max_length=300)] = ""
    schools: Annotated[str, Field(max_length=5000, description="ИНН or names, `;` between")] = ""


class Deactivation(Strict):
    """Take a person out; the schools they curate go to `handover_to` (a curator's or a
    municipal coordinator's id), or school by school to `handover`."""

    handover_to: Id | None = None
    handover: dict[Id, Id] | None = Field(
        None, description="school id → the id of the person who takes it over"
    )


class DirectoryQuery(BaseModel):
    dry_run: bool = Field(False, description="Compare only; write nothing")


class DirectoryResult(BaseModel):
    dry_run: bool
    schools: int
    created: list[str]
    changed: list[dict[str, Any]]
    unchanged: int
    missing: list[dict[str, Any]]
    regions_created: list[str]
    municipalities_created: list[str]


# --- monitoring rounds ---------------------------------------------------------------------

Choice = Annotated[str, Field(min_length=1, max_length=200)]


class QuestionIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=1_000)]
    kind: QuestionKind
    choices: Annotated[list[Choice], Field(max_length=12)] = []


class RoundIn(Strict):
    """Open a monitoring round: its window, the indicators and the survey it asks for."""

    title: Annotated[str, Field(min_length=1, max_length=300)]
    opens_on: dt.date
    closes_on: dt.date
    scope: IndicatorScope = IndicatorScope.SCHOOL
    indicator_ids: Annotated[list[Id], Field(max_length=100)] = []
    questions: Annotated[list[QuestionIn], Field(max_length=20)] = []


class RoundRow(BaseModel):
    id: int
    title: str
    opens_on: dt.date
    closes_on: dt.date
    scope: IndicatorScope
    participants: int
    under_review: int
    done: int


class RoundList(BaseModel):
    roadmap_id: int
    items: list[RoundRow]


class AskedIndicator(BaseModel):
    id: int
    number: str | None
    title: str
    target: Target | None
    baseline: float | None


class Question(BaseModel):
    id: int
    text: str
    kind: QuestionKind
    choices: list[str]


class Value(BaseModel):
    indicator_id: int
    value: float


class Participant(BaseModel):
    submission_id: int
    organization_id: int
    name: str
    state: str
    escalation_level: int
    values: list[Value]


class RoundQuery(BaseModel):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=200)


class Round(BaseModel):
    id: int
    roadmap_id: int
    title: str
    opens_on: dt.date
    closes_on: dt.date
    scope: IndicatorScope
    indicators: list[AskedIndicator]
    questions: list[Question]
    page: int
    per_page: int
    total: int
    participants: list[Participant]


Answer = float | Annotated[str, Field(max_length=2_000)] | list[Choice] | None


class ValueIn(Strict):
    indicator_id: Id
    value: Annotated[float, Field(ge=-1e9, le=1e9)] | None
    comment: Annotated[str, Field(max_length=MAX_REMARK)] | None = None


class AnswerIn(Strict):
    question_id: Id
    answer: Answer


class EntriesIn(Strict):
    """Values and answers of one submission; a null value or answer clears the one stored."""

    values: Annotated[list[ValueIn], Field(max_length=100)] = []
    answers: Annotated[list[AnswerIn], Field(max_length=20)] = []


class Entry(BaseModel):
    indicator_id: int
    value: float | None
    comment: str | None


class Answered(BaseModel):
    question_id: int
    answer: Answer


class Submission(BaseModel):
    id: int
    version: int
    state: str
    round_id: int
    organization: str
    due_on: dt.date | None
    escalation_level: int
    values: list[Entry]
    answers: list[Answered]
    evidence: list[Evidence]


class SubmissionFire(Strict):
    """Fire one of the monitoring lifecycle's triggers; the served document lists them."""

    trigger: Name
    comment: Annotated[str, Field(max_length=MAX_REMARK)] | None = None


class Task(BaseModel):
    submission_id: int
    round_title: str
    roadmap: str
    due_on: dt.date | None
    state: str


class TaskList(BaseModel):
    items: list[Task]


class RoundValue(BaseModel):
    round_id: int
    title: str
    closes_on: dt.date
    value: float | None
    count: int


class Place(BaseModel):
    """A municipality (the region's view) or a participant, with its mean per round."""

    name: str
    values: list[float | None]


class Track(BaseModel):
    indicator: AskedIndicator
    rounds: list[RoundValue]
    places: list[Place]
    goal: float | None
    mark: Literal["on_track", "at_risk", "off_track"] | None


class PlanAgainstActual(BaseModel):
    roadmap_id: int
    title: str
    rule: str
    tracks: list[Track]
