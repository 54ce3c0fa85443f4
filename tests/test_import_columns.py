"""Columns found when the header is missing, mistyped, abbreviated, formatted or unknown."""

from __future__ import annotations

from datetime import date

import pytest

from engine.deadlines.parser import Period
from engine.importing.sources import DocumentError, read_text
from engine.importing.structure import recover

AY = Period(date(2023, 9, 1), date(2024, 8, 31))

ROWS = """\
| 1.1 | Проведение анализа результатов ВПР и ОГЭ по школе | сентябрь 2023 | Директор ОО, заместитель директора по УВР | Аналитическая справка |
| 1.2 | Разработка программы повышения качества образования | до 1 октября 2023 | Заместитель директора по УВР | Программа, приказ |
| 1.3 | Посещение уроков молодых педагогов наставниками | ежемесячно | Руководители методических объединений | Журнал посещений |
| 2.1 | Участие педагогов в курсах повышения квалификации | в течение учебного года | Методист МОЦ | Удостоверения |
"""


def _draft(text: str):  # type: ignore[no-untyped-def]
    return recover(read_text(text), "roadmap.txt", AY)


def _read(draft) -> list[tuple[str, str, str, str | None]]:  # type: ignore[no-untyped-def]
    return [(a.number, a.title[:20], a.deadline_text, a.responsible_text) for a in draft.activities]


EXPECTED = [
    ("1.1", "Проведение анализа р", "сентябрь 2023", "Директор ОО, заместитель директора по УВР"),
    ("1.2", "Разработка программы", "до 1 октября 2023", "Заместитель директора по УВР"),
    ("1.3", "Посещение уроков мол", "ежемесячно", "Руководители методических объединений"),
    ("2.1", "Участие педагогов в ", "в течение учебного года", "Методист МОЦ"),
]


@pytest.mark.parametrize(
    "header",
    [
        "",  # no header at all: the first row is an activity
        "| № | Мероприятя | Срокии исполнения | Ответсвенные | Подтверждение |\n",  # mistyped
        "| № п/п | Наим. | Ср. | Отв. | Форма отч. |\n",  # abbreviated
        "| № | М е р о п р и я т и е | С р о к и | О т в е т с т в е н н ы е | Итог |\n",
        "| # | Что делаем | Когда | Кто | Чем подтверждаем |\n",  # words nobody listed
        "| 1 | 2 | 3 | 4 | 5 |\n",  # the column numbers a Word table carries
    ],
    ids=["none", "mistyped", "abbreviated", "spaced", "unknown", "numbered"],
)
def test_columns_are_found_whatever_the_header_says(header: str) -> None:
    draft = _draft(header + ROWS)
    assert _read(draft) == EXPECTED
    assert draft.activities[0].report_form == "Аналитическая справка"
    assert [str(a.schedule.kind) for a in draft.activities] == [
        "range",
        "date",
        "recurring",
        "continuous",
    ]


def test_a_header_without_a_deadline_word_takes_the_deadline_column_by_content() -> None:
    draft = _draft("| № | Мероприятие | Период | Ответственный | Результат |\n" + ROWS)
    assert _read(draft) == EXPECTED
    assert draft.activities[0].planned_result == "Аналитическая справка"


def test_the_warning_names_the_columns_read_by_content() -> None:
    draft = _draft(ROWS)
    messages = [w.message for w in draft.warnings]
    assert any(
        "columns recognized by their content" in m and "deadline_text: column 3" in m
        for m in messages
    ), messages


def test_numbers_written_in_the_title_cell_are_kept() -> None:
    text = (
        "| Мероприятие | Срок | Ответственный |\n"
        "| 1. Организационные меры |  |  |\n"
        "| 1.1. Создание рабочей группы | до 15 сентября 2023 | Директор |\n"
        "| 1.4. Утверждение плана | до 1 октября 2023 | Директор |\n"
        "| Заседание методического совета | октябрь 2023 | Заместитель директора |\n"
    )
    draft = _draft(text)
    assert [(a.number, a.title) for a in draft.activities] == [
        ("1.1", "Создание рабочей группы"),
        ("1.4", "Утверждение плана"),  # never renumbered to 1.2
        ("1.3", "Заседание методического совета"),
    ]


def test_a_section_row_without_a_number_keeps_the_numbers_written_below_it() -> None:
    text = (
        "| № | Мероприятие | Срок | Ответственный |\n"
        "| | Работа с педагогами | | |\n"
        "| 3.1 | Курсы повышения квалификации | ноябрь 2023 | Методист |\n"
        "| 3.2 | Наставничество | в течение года | Директор |\n"
    )
    draft = _draft(text)
    assert [(a.section_title, a.number) for a in draft.activities] == [
        ("Работа с педагогами", "3.1"),
        ("Работа с педагогами", "3.2"),
    ]


def test_a_table_of_something_else_is_not_read_as_a_roadmap() -> None:
    text = (
        "| файл | территория, год | форма |\n"
        "| 000.txt | Нефтекумский городской округ, 2023–2025 | таблицы |\n"
        "| 001.txt | Прохладненский муниципальный район, 2020 | строки |\n"
        "| 003.txt | Ершичский район, 2023/2024 учебный год | строки |\n"
    )
    with pytest.raises(DocumentError, match="no roadmap table found"):
        _draft(text)
