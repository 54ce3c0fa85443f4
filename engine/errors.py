"""Domain errors and the one table of what each means to people, the API and the CLI.

Every error has a stable `code` (API bodies), an HTTP `status`, a CLI `exit_code` and a Russian
`message` (a Flask-Babel msgid, English in the catalog beside it). A raise site that knows
more says which `reason` of `REASONS` applies, so the page shows the specific message; the
English text passed to the exception is for logs, the API and the CLI. No message is ever
recovered by matching text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar


def N_(message: str) -> str:  # noqa: N802 - the marker pybabel looks for
    """Mark a message for translation where it is defined; the web translates it when shown."""
    return message


#: Specific reasons, each with what a school head or curator reads.
REASONS: dict[str, str] = {
    "evidence_required": N_("Приложите хотя бы один файл или напишите отчёт."),
    "document_file_required": N_("Приложите файл документа."),
    "school_creates_documents": N_("Документы создаёт школа."),
    "comment_required": N_("Укажите комментарий: что нужно исправить или почему."),
    "reason_required": N_("Укажите причину."),
    "file_too_large": N_("Файл слишком большой."),
    "too_many_files": N_("Не больше 5 файлов за раз."),
    "file_empty": N_("Файл пустой."),
    "file_type": N_("Принимаются только файлы PDF, DOCX, XLSX, JPG и PNG."),
    "files_not_accepted": N_("Файлы прикладываются, пока мероприятие в работе."),
    "date_required": N_("Укажите дату."),
    "date_not_later": N_("Новый срок должен быть позже текущего."),
    "date_taken": N_("На эту дату уже назначено такое же мероприятие."),
    "already_acknowledged": N_("Эскалация уже принята к сведению."),
    "already_participant": N_("Школа уже участвует в дорожной карте."),
    "same_assignee": N_("Исполнитель тот же."),
    "finished_work": N_("Передать можно только невыполненную задачу."),
    "scheduled_work": N_("У задачи срок по графику; продлите его."),
    "coordinators_only": N_("Это делает координатор."),
    "text_too_long": N_("Текст слишком длинный: сократите его."),
    "weak_password": N_(
        "Пароль слишком простой: возьмите несколько слов или добавьте знаки и цифры; "
        "не берите имя, логин, даты и частые пароли."
    ),
    "email_invalid": N_("Это не адрес электронной почты."),
    "email_taken": N_("Этот адрес уже у другой учётной записи."),
    "successor_required": N_(
        "Выберите, кому перейдёт каждая школа: куратору или муниципальному координатору."
    ),
    "not_yourself": N_("Свою учётную запись отключить нельзя."),
    "link_spent": N_("Ссылка уже использована или устарела. Запросите новую."),
    "title_required": N_("Укажите название мероприятия."),
    "number_required": N_("Укажите номер мероприятия."),
    "other_municipality": N_(
        "Передать можно только школе того же муниципалитета или самому муниципалитету."
    ),
    "indicator_title_required": N_("Укажите название показателя."),
    "not_a_number": N_("Значение должно быть числом, например 80 или 12,5."),
    "unknown_choice": N_("Выберите значение из списка."),
    "due_unreadable": N_(
        "Срок не распознан: напишите, например, «к 01.10.2024», «ежегодно» или «декабрь 2025»."
    ),
    "activity_worked_on": N_(
        "По мероприятию уже есть выполненная или начатая работа: его нельзя удалить. "
        "Измените срок или исполнителей."
    ),
    "unknown_indicator": N_("Такого показателя нет в этой дорожной карте или в этом мониторинге."),
    "unknown_question": N_("Такого вопроса нет в этом мониторинге."),
    "window_past": N_("Срок этапа уже прошёл: укажите дату закрытия не раньше сегодняшней."),
    "window_reversed": N_("Мониторинг должен закрываться не раньше, чем открывается."),
    "round_empty": N_("Выберите хотя бы один показатель или добавьте вопрос."),
    "round_title_required": N_("Укажите название мониторинга."),
    "question_text_required": N_("Напишите текст вопроса."),
    "choices_required": N_("Для вопроса с выбором укажите от 2 до 12 вариантов ответа."),
    "too_many_questions": N_("Не больше 20 вопросов."),
    "no_participants": N_("В дорожной карте нет школ-участников."),
    "values_required": N_("Укажите значения всех показателей."),
    "answers_required": N_("Ответьте на все вопросы анкеты."),
    "values_locked": N_("Данные отправлены на проверку: менять их можно после возврата."),
    "one_choice": N_("Выберите один вариант."),
}


class DomainError(Exception):
    """Base of every error the engine raises on purpose."""

    code: ClassVar[str] = "invalid"
    status: ClassVar[int] = 422
    exit_code: ClassVar[int] = 1
    message: ClassVar[str] = ""  # empty: the English text is all there is

    def __init__(self, text: str = "", *, reason: str | None = None) -> None:
        if reason is not None and reason not in REASONS:
            raise KeyError(f"unknown error reason {reason!r}")
        super().__init__(text)
        self.reason = reason

    @property
    def message_id(self) -> str:
        """The Russian message to show (a msgid): the reason's, else the kind's."""
        if self.reason is not None:
            return REASONS[self.reason]
        return self.message


class NotFoundError(DomainError):
    """The named record does not exist (or is not visible to the actor)."""

    code, status, exit_code = "not_found", 404, 4
    message = N_("Запись не найдена.")


class PermissionDeniedError(DomainError):
    """The actor's role or tenant does not allow the action."""

    code, status, exit_code = "forbidden", 403, 3
    message = N_("Нет прав на это действие.")


class InvalidTransitionError(DomainError):
    """The trigger is not allowed from the current state."""

    code, status, exit_code = "invalid_transition", 409, 1
    message = N_("Это действие сейчас недоступно: состояние уже изменилось. Обновите страницу.")

    def __init__(self, trigger: str, state: str, allowed: Iterable[str]) -> None:
        self.trigger = trigger
        self.state = state
        self.allowed = sorted(allowed)
        allowed_text = ", ".join(self.allowed) or "none"
        super().__init__(
            f"trigger '{trigger}' is not allowed in state '{state}'; allowed: {allowed_text}"
        )


class ConflictError(DomainError):
    """The record's state does not allow this now: someone changed it first, or it is not
    the step for it (a reason says which)."""

    code, status, exit_code = "conflict", 409, 5
    message = N_("Запись только что изменил другой пользователь. Обновите страницу.")


class ValidationError(DomainError):
    """The request is incomplete or malformed (a required comment, a bad file)."""

    code, status, exit_code = "invalid", 422, 1


#: Every kind of domain error, for the table the README and the tests read.
KINDS: tuple[type[DomainError], ...] = (
    NotFoundError,
    PermissionDeniedError,
    InvalidTransitionError,
    ConflictError,
    ValidationError,
)


#: How long a remark (a comment, a reason) and a written report may be, in characters.
MAX_REMARK = 5_000
MAX_REPORT = 20_000


def required_remark(text: str | None, missing: str, *, name: str, reason: str) -> str:
    """The stripped remark (a comment, a reason) an action needs: ValidationError `missing`
    when there is none, and when it is too long."""
    remark = (text or "").strip()
    check_length(name, remark)
    if not remark:
        raise ValidationError(missing, reason=reason)
    return remark


def check_length(name: str, text: str | None, limit: int = MAX_REMARK) -> None:
    """ValidationError when `text` is longer than `limit` characters."""
    if text is not None and len(text) > limit:
        raise ValidationError(
            f"the {name} is {len(text)} characters; at most {limit}", reason="text_too_long"
        )
