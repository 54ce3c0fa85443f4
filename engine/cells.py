"""Text that the product writes into spreadsheets stays text: no cell becomes a formula.

A value starting with = + - @, a tab or a carriage return is what Excel, LibreOffice and
Google Sheets read as a formula (CSV injection, OWASP). Such text is written with a leading
apostrophe, in a cell typed as a string; reading a spreadsheet takes the apostrophe off again,
so an export imports back as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text(value: object) -> str:
    """`value` as cell text that no spreadsheet evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def from_text(text: str) -> str:
    """Cell text as it was before `as_text`."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


def append_text_row(sheet: Any, values: Iterable[object]) -> None:
    """Append one row to an openpyxl sheet: every value a string cell, none a formula."""
    sheet.append([as_text(value) for value in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def append_typed_row(sheet: Any, values: Iterable[object]) -> None:
    """Append one row: text as string cells (never a formula, as `append_text_row`), dates
    and numbers as themselves, so a spreadsheet sorts and filters them."""
    row = [value if isinstance(value, int | float | date) else as_text(value) for value in values]
    sheet.append(row)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
        elif isinstance(cell.value, date):
            cell.number_format = "DD.MM.YYYY"
