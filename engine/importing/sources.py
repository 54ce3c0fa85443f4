"""Reading roadmap documents: every format becomes one stream of paragraphs and tables."""

from __future__ import annotations

import csv
import functools
import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.cells import from_text
from engine.errors import ValidationError

TEXT_SUFFIXES = {".md", ".txt", ".tsv", ".text", ".markdown"}
SUPPORTED = ".docx, .xlsx, .pdf, .md, .txt, .tsv, .csv, .yaml, .json"


class DocumentError(ValidationError):
    """The document cannot be read as a roadmap; the message names the file and row."""


@dataclass
class Paragraph:
    """A line of running text (title, order, headings, "Приложение №2")."""

    text: str
    heading: bool = False


@dataclass
class Table:
    """Rows of cell texts; `lines` gives each row's line (or row) number in the source."""

    rows: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    bold: list[bool] = field(default_factory=list)


Block = Paragraph | Table


def clean_cell(raw: str) -> str:
    """Cell text without markup: `<br>` and list items become new lines, tags vanish."""
    text = re.sub(r"<br\s*/?>", "\n", raw, flags=re.I)
    text = re.sub(r"</p>\s*<p>|</li>\s*<li>|<li>", "\n", text, flags=re.I)
    text = re.sub(r"<[^>]+>", "", text)
    text = html.unescape(text).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _is_bold(raw: str) -> bool:
    stripped = raw.strip()
    return bool(re.match(r"^(<b>|<strong>|\*\*).*(</b>|</strong>|\*\*)$", stripped, re.S | re.I))


def decode(data: bytes, name: str) -> str:
    """Text of a file: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1251."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        text = ""
    letters = [ch for ch in text if ch.isalpha()]
    cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in letters)
    if letters and cyrillic / len(letters) > 0.5 and "\x00" not in text:
        return text
    raise DocumentError(f"{name}: unknown text encoding (expected UTF-8 or Windows-1251)")


def read_text(text: str) -> list[Block]:
    """Markdown pipe tables and tab-separated rows, with the text around them."""
    blocks: list[Block] = []
    table: Table | None = None
    table_kind = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("|") and stripped.count("|") >= 2:
            cells = stripped.strip("|").split("|")
            if all(re.fullmatch(r"\s*:?-{2,}:?\s*", c) for c in cells):
                continue  # the |---| line under a header
            if table is None or table_kind != "pipe":
                table, table_kind = Table(), "pipe"
                blocks.append(table)
            _add_row(table, cells, number)
            continue
        if "\t" in line:
            cells = line.split("\t")
            if all(re.fullmatch(r"\s*-*\s*", c) for c in cells):
                continue  # a ruler line of dashes closing the table
            if table is None or table_kind != "tab":
                table, table_kind = Table(), "tab"
                blocks.append(table)
            _add_row(table, cells, number)
            continue
        if not stripped:
            if table_kind == "pipe":
                table = None  # pipe tables end at a blank line (page breaks start new ones)
            continue
        table = None
        heading = stripped.startswith("#")
        plain = re.sub(r"^#+\s*|\*\*|__", "", stripped).strip()
        if plain:
            blocks.append(Paragraph(plain, heading=heading))
    return blocks


def _add_row(table: Table, raw_cells: list[str], line: int) -> None:
    table.rows.append([clean_cell(c) for c in raw_cells])
    table.lines.append(line)
    non_empty = [c for c in raw_cells if c.strip()]
    table.bold.append(bool(non_empty) and all(_is_bold(c) for c in non_empty))


def read_docx(data: bytes, name: str) -> list[Block]:
    """Paragraphs and tables of a Word file in document order; merged cells read once."""
    try:
        import docx
        from docx.table import Table as DocxTable
        from docx.text.paragraph import Paragraph as DocxParagraph

        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise DocumentError(f"{name}: not a readable DOCX file ({error})") from error
    except Exception as error:  # python-docx raises assorted errors on damaged files
        raise DocumentError(f"{name}: not a readable DOCX file ({type(error).__name__})") from error
    blocks: list[Block] = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = DocxParagraph(element, document)
            text = paragraph.text.strip()
            if text:
                heading = paragraph.style is not None and paragraph.style.name.startswith("Heading")
                blocks.append(Paragraph(text, heading=heading))
        elif tag == "tbl":
            table = Table()
            for number, row in enumerate(DocxTable(element, document).rows, start=1):
                seen: set[int] = set()
                cells, bold = [], True
                for cell in row.cells:
                    if id(cell._tc) in seen:  # a horizontally merged cell repeats itself
                        cells.append("")
                        continue
                    seen.add(id(cell._tc))
                    cells.append(clean_cell(cell.text))
                    runs = [r for p in cell.paragraphs for r in p.runs if r.text.strip()]
                    if runs and not all(r.bold for r in runs):
                        bold = False
                table.rows.append(cells)
                table.lines.append(number)
                table.bold.append(bold and any(cells))
            blocks.append(table)
    return blocks


#: Pages a roadmap PDF may have: far more than any roadmap, far less than a bomb.
MAX_PDF_PAGES = 300
_LIST_START = re.compile(r"^([-–—•·*]|\d+[.)]\s|[а-яa-z]\)\s)")
_PAGE_FURNITURE = re.compile(
    r"^[-–—\s]*\d{1,3}[-–—\s]*$|^стр(аница)?\.?\s*\d+(\s*из\s*\d+)?$", re.I
)


def read_pdf(data: bytes, name: str) -> list[Block]:
    """Text and ruled tables of a text PDF (Word's export), page by page, top to bottom.

    A table broken at a page end becomes two tables, which the structure joins as it joins
    them in the other formats; a header row repeated on the next page is read once. A cell's
    lines are one paragraph unless a line starts a list item; a word broken across two lines
    is mended when the dictionary knows it whole.
    """
    try:
        import pdfplumber

        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as error:  # pdfminer raises assorted errors on damaged files
        raise DocumentError(f"{name}: not a readable PDF file ({type(error).__name__})") from error
    blocks: list[Block] = []
    with pdf:
        if len(pdf.pages) > MAX_PDF_PAGES:
            raise DocumentError(f"{name}: {len(pdf.pages)} pages; at most {MAX_PDF_PAGES}")
        letters = 0
        row_number = 0
        try:
            for page in pdf.pages:
                letters += len(page.chars)
                tables = page.find_tables()
                boxes = [t.bbox for t in tables]
                items: list[tuple[float, Block]] = []
                text = page.filter(functools.partial(_outside, boxes=boxes))
                for top, line in _paragraphs(text.extract_text_lines()):
                    items.append((top, Paragraph(line)))
                for found in tables:
                    table = Table()
                    for cells, row in zip(found.extract(), found.rows, strict=True):
                        row_number += 1
                        texts = [_cell_text(c) for c in cells]
                        table.rows.append(texts)
                        table.lines.append(row_number)
                        table.bold.append(any(texts) and _bold(page, row.bbox))
                    items.append((found.bbox[1], table))
                ordered = [block for _, block in sorted(items, key=lambda item: item[0])]
                if ordered and blocks and _continues(blocks[-1], ordered[0]):
                    _carry_on(blocks[-1], ordered.pop(0))  # type: ignore[arg-type]
                blocks.extend(ordered)
        except DocumentError:
            raise
        except Exception as error:  # noqa: BLE001 - a damaged page of an otherwise open file
            kind = type(error).__name__
            raise DocumentError(f"{name}: not a readable PDF file ({kind})") from error
    if letters == 0:
        raise DocumentError(
            f"{name}: the PDF has no text layer (a scan?); export it from Word as PDF, "
            "or upload the DOCX"
        )
    return blocks


def _continues(before: Block, first: Block) -> bool:
    """Whether the table at the top of a page goes on with the one that ended the last."""
    return (
        isinstance(before, Table)
        and isinstance(first, Table)
        and bool(before.rows and first.rows)
        and len(before.rows[0]) == len(first.rows[0])
    )


def _carry_on(table: Table, rest: Table) -> None:
    """Append the next page's part of a table: a repeated header row goes, and a row the
    page break cut in two (its first text starting in lower case) is joined up again."""
    rows = list(zip(rest.rows, rest.lines, rest.bold, strict=True))
    if rows and rows[0][0] == table.rows[0]:
        rows = rows[1:]
    if rows and table.rows:
        first = next((cell for cell in rows[0][0] if cell), "")
        if first[:1].islower():
            table.rows[-1] = [
                _join(a, b) if a and b else a or b
                for a, b in zip(table.rows[-1], rows[0][0], strict=True)
            ]
            rows = rows[1:]
    for cells, line, bold in rows:
        table.rows.append(cells)
        table.lines.append(line)
        table.bold.append(bold)


def _outside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    """Whether `obj` is running text: not a character inside one of the tables."""
    return obj.get("object_type") != "char" or not any(_inside(obj, box) for box in boxes)


def _inside(obj: dict[str, float], box: tuple[float, float, float, float]) -> bool:
    middle_x, middle_y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return box[0] <= middle_x <= box[2] and box[1] <= middle_y <= box[3]


def _bold(page: object, bbox: tuple[float, float, float, float]) -> bool:
    chars = [c for c in page.crop(bbox).chars if c["text"].strip()]  # type: ignore[attr-defined]
    return bool(chars) and all("bold" in c["fontname"].lower() for c in chars)


def _paragraphs(lines: list[dict[str, object]]) -> list[tuple[float, str]]:
    """Lines of running text grouped into paragraphs by the gaps between them."""
    out: list[tuple[float, str]] = []
    last_bottom: float | None = None
    for line in lines:
        text = str(line["text"]).strip()
        top, bottom = float(line["top"]), float(line["bottom"])  # type: ignore[arg-type]
        if not text or _PAGE_FURNITURE.match(text):
            continue
        close = last_bottom is not None and top - last_bottom < (bottom - top) * 0.5
        if close and out and not _LIST_START.match(text):
            out[-1] = (out[-1][0], _join(out[-1][1], text))
        else:
            out.append((top, text))
        last_bottom = bottom
    return out


def _cell_text(raw: str | None) -> str:
    """A cell's text with its visual line breaks undone (list items keep theirs)."""
    if not raw:
        return ""
    lines = [re.sub(r"\s+", " ", line).strip() for line in raw.split("\n")]
    text = ""
    for line in (line for line in lines if line):
        if not text:
            text = line
        elif _LIST_START.match(line):
            text += "\n" + line
        else:
            text = _join(text, line)
    return text


def _join(before: str, after: str) -> str:
    """Two visual lines as one text: a hyphenated or broken word mended, else a space."""
    if re.search(r"\d[-–]$", before) and after[:1].isdigit():  # "2023-" + "2024"
        return before + after
    head = re.search(r"([А-Яа-яЁё]+)(-?)$", before)
    tail = re.match(r"([а-яё]+)", after)
    if head and tail:
        if head.group(2):  # "материально-" + "технических"
            return before + after
        if _one_word(head.group(1), tail.group(1)):
            return before + after
    return f"{before} {after}"


def _one_word(head: str, tail: str) -> bool:
    """Whether the dictionary knows head+tail as a word, and not both halves apart."""
    morph = _morph()
    whole = (head + tail).lower()
    return bool(morph.word_is_known(whole)) and not (
        morph.word_is_known(head.lower()) and morph.word_is_known(tail.lower())
    )


@functools.cache
def _morph() -> Any:
    import pymorphy3  # type: ignore[import-untyped]

    return pymorphy3.MorphAnalyzer(lang="ru")


def read_xlsx(data: bytes, name: str) -> list[Block]:
    """Rows of every sheet: one-cell rows outside a table are paragraphs."""
    try:
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    except Exception as error:  # openpyxl raises assorted errors on damaged files
        raise DocumentError(f"{name}: not a readable XLSX file ({type(error).__name__})") from error
    blocks: list[Block] = []
    for sheet in workbook.worksheets:
        rows, bold = [], []
        for row in sheet.iter_rows():
            rows.append(
                ["" if c.value is None else clean_cell(from_text(str(c.value))) for c in row]
            )
            filled = [c for c in row if c.value not in (None, "")]
            bold.append(bool(filled) and all(c.font is not None and c.font.b for c in filled))
        blocks += _grid_blocks(rows, bold)
    return blocks


def read_csv(text: str) -> list[Block]:
    """A CSV file (comma, semicolon or tab) read like a one-sheet spreadsheet."""
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [[clean_cell(c) for c in row] for row in csv.reader(io.StringIO(text), dialect)]
    return _grid_blocks(rows, [False] * len(rows))


def _grid_blocks(rows: list[list[str]], bold: list[bool]) -> list[Block]:
    """Spreadsheet rows: one-cell rows before a table are paragraphs, the rest one table."""
    blocks: list[Block] = []
    table: Table | None = None
    for number, (cells, is_bold) in enumerate(zip(rows, bold, strict=True), start=1):
        filled = [c for c in cells if c]
        if not filled:
            continue
        starts_part = len(filled) == 1 and re.match(r"(?i)^(приложение|раздел)\b", filled[0])
        if table is None and len(filled) == 1 or starts_part:
            blocks.append(Paragraph(filled[0]))
            table = None
            continue
        if table is None:
            table = Table()
            blocks.append(table)
        table.rows.append(cells)
        table.lines.append(number)
        table.bold.append(is_bold)
    return blocks


#: Limits on what one roadmap document may be: real ones are far below each.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 2_000
MAX_ROWS = 5_000
MAX_CELLS_PER_ROW = 60


def check_archive(data: bytes, name: str) -> None:
    """Refuse a DOCX or XLSX whose archive would unpack past the limits (a zip bomb)."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile as error:
        kind = "DOCX" if name.lower().endswith(".docx") else "XLSX"
        raise DocumentError(f"{name}: not a readable {kind} file (damaged archive)") from error
    if len(entries) > MAX_ARCHIVE_ENTRIES:
        raise DocumentError(
            f"{name}: the archive holds {len(entries)} files; at most {MAX_ARCHIVE_ENTRIES}"
        )
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACKED_BYTES:
        raise DocumentError(
            f"{name}: unpacks to {unpacked // 2**20} MB; at most {MAX_UNPACKED_BYTES // 2**20} MB"
        )


def _check_size(blocks: list[Block], name: str) -> list[Block]:
    """Refuse a document with more rows or wider rows than a roadmap has."""
    rows = 0
    for block in blocks:
        if isinstance(block, Table):
            rows += len(block.rows)
            for line, row in zip(block.lines, block.rows, strict=False):
                if len(row) > MAX_CELLS_PER_ROW:
                    raise DocumentError(
                        f"{name}, row {line}: {len(row)} cells; at most {MAX_CELLS_PER_ROW}"
                    )
        else:
            rows += 1
        if rows > MAX_ROWS:
            raise DocumentError(f"{name}: more than {MAX_ROWS} rows; a roadmap has far fewer")
    return blocks


def read_blocks(path: Path) -> list[Block]:
    """Read any supported table document at `path` into blocks, within the limits above."""
    name = path.name
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise DocumentError(
                f"{name}: {size / 2**20:.1f} MB; a roadmap document may be at most "
                f"{MAX_DOCUMENT_BYTES // 2**20} MB"
            )
        data = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"{name}: cannot be read ({error.strerror})") from error
    if not data.strip():
        raise DocumentError(f"{name}: the file is empty")
    if suffix in (".docx", ".xlsx"):
        check_archive(data, name)
    if suffix == ".docx":
        return _check_size(read_docx(data, name), name)
    if suffix == ".pdf":
        if not data.startswith(b"%PDF-"):
            raise DocumentError(f"{name}: not a PDF file")
        return _check_size(read_pdf(data, name), name)
    if suffix == ".xlsx":
        return _check_size(read_xlsx(data, name), name)
    if suffix == ".csv":
        text = decode(data, name)
        if text.count("\n") > MAX_ROWS:  # before the CSV parser spends time on it
            raise DocumentError(f"{name}: more than {MAX_ROWS} rows; a roadmap has far fewer")
        return _check_size(read_csv(text), name)
    if suffix in TEXT_SUFFIXES:
        return _check_size(read_text(decode(data, name)), name)
    raise DocumentError(f"{name}: unsupported file type '{suffix}' (supported: {SUPPORTED})")
