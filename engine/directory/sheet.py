"""Reading a directory spreadsheet (XLSX or CSV): rows with their line numbers, columns found
by what their header means."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from engine.cells import from_text
from engine.importing.sources import DocumentError, check_archive, decode

#: A region's directory is thousands of rows, not millions.
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
#: The header is within the first rows (a title and a blank line may come first).
HEADER_SEARCH = 20


@dataclass
class Sheet:
    """The rows under the header, each with its line number and its cells by field."""

    name: str
    header_line: int
    headers: dict[str, str]  # field -> the header text as written
    rows: list[tuple[int, dict[str, str]]]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("ё", "е")).strip()


def read_grid(path: Path, name: str | None = None) -> list[list[str]]:
    """Every row of the first sheet of an XLSX, or of a CSV (UTF-8 or cp1251, `;` or `,`);
    errors name the file as `name` (an upload's own name) or as `path` does."""
    name = name or path.name
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise DocumentError(f"{name}: {size / 2**20:.1f} MB; at most {MAX_BYTES // 2**20} MB")
        data = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"{name}: cannot be read ({error.strerror})") from error
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        check_archive(data, name)
        return _xlsx_rows(data, name)
    if suffix == ".csv":
        text = decode(data, name)
        rows = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
        if len(rows) > MAX_ROWS:
            raise DocumentError(f"{name}: more than {MAX_ROWS} rows")
        return [[cell.strip() for cell in row] for row in rows]
    raise DocumentError(f"{name}: expected an .xlsx or .csv file")


def _delimiter(text: str) -> str:
    """The separator the header line uses most: `;` (Excel in Russian), `,` or a tab."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max(";,\t", key=first.count)


def _xlsx_rows(data: bytes, name: str) -> list[list[str]]:
    try:
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises assorted errors on damaged files
        raise DocumentError(f"{name}: not a readable XLSX file ({type(error).__name__})") from error
    rows: list[list[str]] = []
    for values in workbook.worksheets[0].iter_rows(values_only=True):
        rows.append(["" if v is None else from_text(str(v)).strip() for v in values])
        if len(rows) > MAX_ROWS:
            raise DocumentError(f"{name}: more than {MAX_ROWS} rows")
    workbook.close()
    return rows


def find_columns(
    grid: list[list[str]], name: str, patterns: tuple[tuple[str, re.Pattern[str]], ...], key: str
) -> Sheet:
    """The first row where the `key` field's header is found is the header; the rows below it
    are the data, each cell under the field its header means."""
    for index, cells in enumerate(grid[:HEADER_SEARCH]):
        columns: dict[str, int] = {}
        for position, cell in enumerate(cells):
            text = _norm(cell)
            for field, pattern in patterns:
                if text and field not in columns and pattern.search(text):
                    columns[field] = position
                    break
        if key in columns:
            rows = []
            for line, row in enumerate(grid[index + 1 :], start=index + 2):
                if not any(c.strip() for c in row):
                    continue
                rows.append(
                    (line, {f: row[p].strip() if p < len(row) else "" for f, p in columns.items()})
                )
            headers = {f: cells[p].strip() for f, p in columns.items()}
            return Sheet(name, index + 1, headers, rows)
    raise DocumentError(
        f"{name}: no header row with a {key} column in the first {HEADER_SEARCH} rows"
    )
