"""The inbox: notifications rendered for people, the same text on the page and in the e-mail."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from engine.errors import NotFoundError
from engine.lifecycle.definition import Event, WorkflowRegistry
from engine.models import (
    Activity,
    Document,
    Escalation,
    EscalationKind,
    MonitoringRound,
    Notification,
    Occurrence,
    Organization,
    Submission,
    TransitionLog,
    User,
)


@dataclass(frozen=True)
class Message:
    """A notification rendered for people: the same text in the inbox and in the e-mail."""

    notification_id: int
    key: str
    user_id: int
    email: str | None
    full_name: str
    subject: str
    body: str
    link: str
    created_at: datetime
    read: bool
    #: One line for the inbox page; the mail keeps the fuller `body`.
    summary: str = ""
    #: `link` without the site's address, for the page.
    path: str = "/inbox"
    #: The state the notice left the work in, when it was sent (not today's).
    state_then: str | None = None


_LEVELS = {
    1: "уровень 1 — школа и куратор",
    2: "уровень 2 — муниципальный координатор",
    3: "уровень 3 — региональный координатор",
}
_DOCUMENT_KINDS = {
    "self_diagnostic": "Самодиагностика",
    "school_roadmap": "Дорожная карта школы",
    "development_concept": "Концепция развития",
    "midterm_programme": "Среднесрочная программа развития",
    "antirisk_programme": "Антирисковая программа",
}


def notice_of(registry: WorkflowRegistry, workflow: str, version: int, trigger: str) -> str:
    """What a logged trigger or event is called: the rule's notice, else the event's."""
    try:
        notice = registry.get(workflow, version).definition.notice(trigger)
    except NotFoundError:
        notice = None
    if notice is None and trigger in {e.value for e in Event}:
        notice = Event(trigger).notice
    return notice or trigger


def _ru(day: date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else "без срока"


def render(
    session: Session, registry: WorkflowRegistry, notification_ids: Iterable[int], base_url: str
) -> list[Message]:
    """Render notifications in Russian: what, which school, which activity, due when, a link."""
    ids = list(notification_ids)
    if not ids:
        return []
    owner = aliased(Organization)
    actor = aliased(User)
    rows = session.execute(
        select(
            Notification,
            User.email,
            User.full_name,
            Escalation.kind.label("esc_kind"),
            Escalation.level.label("esc_level"),
            TransitionLog.trigger,
            TransitionLog.workflow_name.label("tr_workflow"),
            TransitionLog.workflow_version.label("tr_version"),
            TransitionLog.comment,
            TransitionLog.to_state.label("tr_to"),
            actor.full_name.label("actor_name"),
            Occurrence.id.label("occ_id"),
            Occurrence.due_on,
            Occurrence.state.label("occ_state"),
            Occurrence.workflow_name,
            Occurrence.workflow_version,
            Activity.number,
            Activity.title,
            Document.id.label("doc_id"),
            Document.kind.label("doc_kind"),
            Document.title.label("doc_title"),
            Submission.id.label("sub_id"),
            Submission.due_on.label("sub_due"),
            MonitoringRound.title.label("round_title"),
            owner.name.label("owner_name"),
        )
        .join(User, User.id == Notification.user_id)
        .outerjoin(Escalation, Escalation.id == Notification.escalation_id)
        .outerjoin(TransitionLog, TransitionLog.id == Notification.transition_id)
        .outerjoin(actor, actor.id == TransitionLog.actor_id)
        .outerjoin(
            Occurrence,
            Occurrence.id == func.coalesce(Escalation.occurrence_id, TransitionLog.occurrence_id),
        )
        .outerjoin(Activity, Activity.id == Occurrence.activity_id)
        .outerjoin(
            Document,
            Document.id == func.coalesce(Escalation.document_id, TransitionLog.document_id),
        )
        .outerjoin(
            Submission,
            Submission.id == func.coalesce(Escalation.submission_id, TransitionLog.submission_id),
        )
        .outerjoin(MonitoringRound, MonitoringRound.id == Submission.round_id)
        .outerjoin(
            owner,
            owner.id
            == func.coalesce(Occurrence.assignee_id, Document.school_id, Submission.assignee_id),
        )
        .where(Notification.id.in_(ids))
        .order_by(Notification.id)
    ).all()
    return [_message(row, registry, base_url.rstrip("/")) for row in rows]


def _message(row: Any, registry: WorkflowRegistry, base_url: str) -> Message:
    note: Notification = row.Notification
    state_then = None
    due, short = row.due_on, f"{row.number} {_cut(row.title or '', 60)}"
    if row.occ_id is not None:
        what = f"мероприятие {row.number} «{row.title}»"
        path = f"/occurrences/{row.occ_id}"
    elif row.doc_id is not None:
        what = f"документ «{_DOCUMENT_KINDS.get(row.doc_kind, row.doc_kind)}: {row.doc_title}»"
        path = f"/documents/{row.doc_id}"
    elif row.sub_id is not None:
        what = f"мониторинг «{row.round_title}»"
        path = f"/submissions/{row.sub_id}"
        due, short = row.sub_due, f"мониторинг «{_cut(row.round_title, 60)}»"
    else:
        what, path = "", "/inbox"
    link = f"{base_url}{path}"
    lines = [f"Здравствуйте, {row.full_name}!", ""]
    if note.kind == EscalationKind.REMINDER:
        subject = f"Напоминание: срок {_ru(due)} — {short}"
        lines.append(f"Приближается срок: {what}.")
        summary = f"Срок {_ru(due)} приближается: {what}"
    elif note.kind == EscalationKind.OVERDUE:
        subject = f"Просрочено ({_LEVELS[row.esc_level]}): {short}"
        lines.append(f"Не выполнено в срок: {what}. Эскалация: {_LEVELS[row.esc_level]}.")
        summary = f"Просрочено, {_LEVELS[row.esc_level]}: {what}"
    elif note.kind == EscalationKind.REVIEW:
        subject = f"Отчёт ждёт проверки куратора: {row.owner_name}"
        lines.append(f"Отчёт слишком долго ждёт решения куратора: {what}.")
        summary = f"Ждёт решения куратора слишком долго: {what} ({row.owner_name})"
    elif note.kind == "transition":
        verb = notice_of(registry, row.tr_workflow, row.tr_version, row.trigger)
        title = row.title or row.doc_title or row.round_title or ""
        subject = f"{verb.capitalize()}: {_cut(title, 70)}"
        lines.append(f"{row.actor_name}: {verb} — {what}.")
        summary = f"{row.actor_name}: {verb} — {what}"
        if row.tr_to is not None:
            then = registry.get(row.tr_workflow, row.tr_version).definition
            state_then = then.state_label(row.tr_to)
        if row.comment:
            lines.append(f"Комментарий: {row.comment}")
    else:
        payload = note.payload or {}
        subject = str(payload.get("subject", "Уведомление"))
        lines += [str(line) for line in payload.get("lines", [])]
        link = f"{base_url}{payload['path']}" if "path" in payload else payload.get("link", link)
        link = str(link)
        summary = subject
        path = link.removeprefix(base_url) if link.startswith(base_url) else path
    if row.owner_name and note.kind != "digest":
        lines.append(f"Организация: {row.owner_name}")
    if row.sub_id is not None:
        lines.append(f"Срок: {_ru(due)}")
    if row.occ_id is not None:
        lines.append(f"Срок: {_ru(row.due_on)}")
        definition = registry.get(row.workflow_name, row.workflow_version).definition
        if state_then is not None:
            lines.append(f"Состояние: {state_then}")
        else:
            lines.append(f"Состояние сейчас: {definition.state_label(row.occ_state)}")
    lines += ["", f"Открыть: {link}", "", "— Roadmap Engine"]
    return Message(
        notification_id=note.id,
        key=note.key,
        user_id=note.user_id,
        email=row.email,
        full_name=row.full_name,
        subject=subject,
        body="\n".join(lines),
        link=link,
        created_at=note.created_at,
        read=note.read_at is not None,
        summary=summary,
        path=path,
        state_then=state_then,
    )


def _cut(text: str, limit: int) -> str:
    """`text` shortened at a word to at most `limit` characters, with «…» when cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def message_of(
    session: Session, registry: WorkflowRegistry, user_id: int, notification_id: int
) -> Message:
    """One of the user's own notifications, rendered; NotFoundError for anyone else's."""
    owned = session.execute(
        select(Notification.id).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    ).first()
    if owned is None:
        raise NotFoundError(f"notification {notification_id} does not exist")
    return render(session, registry, [notification_id], "")[0]


def inbox(
    session: Session, user_id: int, *, unread_only: bool = False, limit: int = 50, offset: int = 0
) -> list[int]:
    """Ids of a user's notifications, newest first, one page at a time."""
    query = select(Notification.id).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.id.desc()).limit(min(limit, 200)).offset(offset)
    return list(session.execute(query).scalars())


_UNREAD = (
    select(func.count())
    .select_from(Notification)
    .where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))
)


def unread_count(connection: Connection, user_id: int) -> int:
    """How many of the user's notifications are unread (one statement, for every page)."""
    return connection.execute(_UNREAD, {"user_id": user_id}).scalar_one()


def mark_read(session: Session, user_id: int, ids: Iterable[int], now: datetime) -> int:
    """Mark the user's own notifications read; others' ids are ignored."""
    return (
        session.execute(
            update(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.id.in_(list(ids)),
                Notification.read_at.is_(None),
            )
            .values(read_at=now)
        ).rowcount
        or 0
    )
