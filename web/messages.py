"""Engine errors as people read them, in Russian."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from engine.errors import (
    ConflictError,
    DomainError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
)


def N_(message: str) -> str:  # noqa: N802 - the marker pybabel looks for
    """Mark a message for translation where it is defined; `_` translates it when shown."""
    return message


_KNOWN = (
    (r"evidence file or write a report", N_("Приложите хотя бы один файл или напишите отчёт.")),
    (r"attach the document file", N_("Приложите файл документа.")),
    (r"only a school's staff create", N_("Документы создаёт школа.")),
    (r"requires a comment", N_("Укажите комментарий: что нужно исправить или почему.")),
    (r"requires a reason", N_("Укажите причину.")),
    (r"over the limit", N_("Файл слишком большой.")),
    (r"at most \d+ files", N_("Не больше 5 файлов за раз.")),
    (r"the file is empty", N_("Файл пустой.")),
    (
        r"only PDF, DOCX, XLSX, JPG and PNG",
        N_("Принимаются только файлы PDF, DOCX, XLSX, JPG и PNG."),
    ),
    (r"files are attached only while", N_("Файлы прикладываются, пока мероприятие в работе.")),
    (r"after the current one", N_("Новый срок должен быть позже текущего.")),
    (r"already due", N_("На эту дату уже назначено такое же мероприятие.")),
    (r"acknowledged already", N_("Эскалация уже принята к сведению.")),
    (r"already takes part", N_("Школа уже участвует в дорожной карте.")),
    (r"assigned there already", N_("Исполнитель тот же.")),
    (r"only unfinished work can be reassigned", N_("Передать можно только невыполненную задачу.")),
    (r"follows the roadmap's schedule", N_("У задачи срок по графику; продлите его.")),
    (r"only coordinators", N_("Это делает координатор.")),
)


def russian(error: DomainError) -> str:
    """A message a school head or curator can act on: the specific one where there is one."""
    text = str(error)
    for pattern, message in _KNOWN:
        if re.search(pattern, text):
            return _(message)
    if isinstance(error, InvalidTransitionError):
        return _("Это действие сейчас недоступно: состояние уже изменилось. Обновите страницу.")
    if isinstance(error, ConflictError):
        return _("Запись только что изменил другой пользователь. Обновите страницу.")
    if isinstance(error, PermissionDeniedError):
        return _("Нет прав на это действие.")
    if isinstance(error, NotFoundError):
        return _("Запись не найдена.")
    return text
