"""The shapes of /api/v1: pydantic models that validate requests and responses and make the
OpenAPI document (spectree reads them from the views' decorators)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree
from spectree.model_adapter.pydantic_adapter import BaseFile

from engine.db import MAX_ID
from engine.errors import MAX_REMARK, MAX_REPORT
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
