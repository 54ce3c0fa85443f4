"""Engine errors as people read them, in Russian."""

from __future__ import annotations

import re

from engine.errors import (
    ConflictError,
    DomainError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
)

_KNOWN = (
    (r"evidence file or write a report", "Приложите хотя бы один файл или напишите отчёт."),
    (r"attach the document file", "Приложите файл документа."),
    (r"only a school's staff create", "Документы создаёт школа."),
    (r"requires a comment", "Укажите комментарий: что нужно исправить или почему."),
    (r"requires a reason", "Укажите причину."),
    (r"over the limit", "Файл слишком большой."),
    (r"at most \d+ files", "Не больше 5 файлов за раз."),
    (r"the file is empty", "Файл пустой."),
    (r"only PDF, DOCX, XLSX, JPG and PNG", "Принимаются только файлы PDF, DOCX, XLSX, JPG и PNG."),
    (r"files are attached only while", "Файлы прикладываются, пока мероприятие в работе."),
    (r"after the current one", "Новый срок должен быть позже текущего."),
    (r"already due", "На эту дату уже назначено такое же мероприятие."),
    (r"acknowledged already", "Эскалация уже принята к сведению."),
    (r"already takes part", "Школа уже участвует в дорожной карте."),
    (r"assigned there already", "Исполнитель тот же."),
    (r"only unfinished work can be reassigned", "Передать можно только невыполненную задачу."),
    (r"follows the roadmap's schedule", "У задачи срок по графику; продлите его."),
    (r"only coordinators", "Это делает координатор."),
)


def russian(error: DomainError) -> str:
    """A message a school head or curator can act on: the specific one where there is one."""
    text = str(error)
    for pattern, message in _KNOWN:
        if re.search(pattern, text):
            return message
    if isinstance(error, InvalidTransitionError):
        return "Это действие сейчас недоступно: состояние уже изменилось. Обновите страницу."
    if isinstance(error, ConflictError):
        return "Запись только что изменил другой пользователь. Обновите страницу."
    if isinstance(error, PermissionDeniedError):
        return "Нет прав на это действие."
    if isinstance(error, NotFoundError):
        return "Запись не найдена."
    return text
