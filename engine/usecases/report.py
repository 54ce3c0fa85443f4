"""Act on a subject with evidence: attach the files, then fire the trigger, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from engine.accounts.access import Actor
from engine.app import App
from engine.errors import ValidationError
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import TransitionResult, fire
from engine.work import evidence

#: How many files one form or command may attach at once.
MAX_FILES = 5


@dataclass(frozen=True)
class Upload:
    """One file as it came in: its name and (at most the limit plus one) bytes."""

    filename: str
    data: bytes


def act_with_evidence(
    app: App,
    session: Session,
    actor: Actor,
    kind: SubjectKind,
    subject_id: int,
    trigger: str | None,
    files: list[Upload],
    *,
    comment: str | None = None,
    report_text: str | None = None,
    first: str | None = None,
) -> TransitionResult | None:
    """Fire `first` if given (taking returned work back), attach `files`, then fire `trigger`
    (None: files only); all in the caller's transaction."""
    if len(files) > MAX_FILES:
        raise ValidationError(f"at most {MAX_FILES} files at once", reason="too_many_files")
    settings = app.settings
    if first is not None:
        fire(session, app.registry, kind, subject_id, first, actor, now=app.clock())
    for upload in files:
        evidence.attach(
            session,
            app.registry,
            settings.evidence_dir,
            kind,
            subject_id,
            actor,
            filename=upload.filename or "file",
            data=upload.data,
            max_bytes=settings.max_evidence_bytes,
        )
    if trigger is None:
        return None
    return fire(
        session,
        app.registry,
        kind,
        subject_id,
        trigger,
        actor,
        comment=comment,
        report_text=report_text,
        now=app.clock(),
    )
