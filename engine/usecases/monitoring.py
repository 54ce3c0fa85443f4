"""A participant's answer to a round: store its values and answers, attach its files, and
submit it if asked, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlmodel import Session

from engine.accounts.access import Actor
from engine.app import App
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import TransitionResult
from engine.usecases.report import Upload, act_with_evidence
from engine.work.rounds import save_entries


def enter_and_act(
    app: App,
    session: Session,
    actor: Actor,
    submission_id: int,
    *,
    values: Mapping[int, tuple[str, str]],
    answers: Mapping[int, Sequence[str]],
    files: list[Upload],
    trigger: str | None,
    comment: str | None = None,
) -> TransitionResult | None:
    """Save what the participant entered, attach `files`, then fire `trigger` (None: save
    only); a refused trigger leaves nothing saved."""
    save_entries(
        session,
        app.registry,
        actor,
        submission_id,
        values=values,
        answers=answers,
        now=app.clock(),
    )
    return act_with_evidence(
        app, session, actor, SubjectKind.SUBMISSION, submission_id, trigger, files, comment=comment
    )
