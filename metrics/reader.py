"""Reading an uploaded file into a grid of text cells, exactly as the user sees it in Excel.

Nothing is guessed here: every cell stays text (so "007" stays "007" and "NA" stays "NA"), and the strict
converters in `parsing.py` decide later. The accepted encodings are a closed list, so they are tried
strictly in order (BOM, UTF-8, GB18030 which covers GBK, UTF-16 without BOM) instead of asking a
statistical detector to guess.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time

DELIMITERS = (",", "\t", ";")


class UnreadableFile(ValueError):
    """The bytes are not a CSV or XLSX file in an accepted encoding."""

    def __init__(self, message: str, message_zh: str):
        super().__init__(message)
        self.message_zh = message_zh


@dataclass(frozen=True)
class Formula:
    """An .xlsx cell holding a formula without a saved value (the file was written by a program and never saved
    in Excel): it reads as an empty cell, so it is refused rather than taken as "not reported"."""
    row: int
    """Index into Grid.rows."""
    column: int
    """Index into the row."""
    cell: str
    """As Excel names it: F3."""
    text: str
    """The formula: =D3*2."""


@dataclass(frozen=True)
class Grid:
    rows: list[list[str]]
    """Row i is spreadsheet row i + 1; cells are stripped text, "" for an empty cell. An .xlsx row ends with its
    last non-empty cell (a formatted empty cell beyond it is not part of the data)."""
    encoding: str
    delimiter: str | None
    formulas: tuple[Formula, ...] = ()


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding name of a CSV file's bytes."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    sample = data[:4000]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4:
        return data.decode("utf-16-le"), "utf-16-le"
    if len(sample) >= 4 and sample[0::2].count(0) > len(sample) // 4:
        return data.decode("utf-16-be"), "utf-16-be"
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("the file is neither UTF-8, GB18030/GBK nor UTF-16 text; "
                         "save it from Excel as 'CSV UTF-8' or as .xlsx",
                         "文件编码不是 UTF-8、GB18030/GBK 或 UTF-16：请在 Excel 中另存为“CSV UTF-8”或 .xlsx")


def _split(text: str, delimiter: str) -> list[list[str]]:
    strip = str.strip
    return [list(map(strip, row)) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _delimiter(text: str) -> str:
    """The delimiter under which the most rows agree on a field count above one."""
    head = "\n".join(text[:65536].splitlines()[:200])
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        lengths = Counter(len(r) for r in _split(head, delimiter) if len(r) > 1)
        if not lengths:
            continue
        width, count = lengths.most_common(1)[0]
        if (count, width) > best_score:
            best, best_score = delimiter, (count, width)
    return best


def read_csv(data: bytes) -> Grid:
    text, encoding = decode(data)
    if "\x00" in text:
        raise UnreadableFile("the file holds binary data; upload a CSV or .xlsx file",
                             "文件包含二进制内容：请上传 CSV 或 .xlsx 文件")
    delimiter = _delimiter(text)
    return Grid(rows=_split(text, delimiter), encoding=encoding, delimiter=delimiter)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value).strip()


def _first_sheet(data: bytes, *, data_only: bool, values_only: bool = True):
    """The first worksheet's rows, every one as the workbook holds it (a sheet's declared size can be wrong):
    the saved values (`data_only`) or the formulas; cells as values, or as openpyxl's read-only cells."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise UnreadableFile(f"the .xlsx file cannot be opened ({exc.__class__.__name__}); "
                             f"re-save it from Excel", "无法打开该 .xlsx 文件：请在 Excel 中重新保存") from exc
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=values_only)
    finally:
        workbook.close()


_FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s/>]")


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet of the workbook holds a formula element (most uploads hold none: no second read)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return any(_FORMULA_ELEMENT.search(archive.read(name)) for name in archive.namelist()
                   if name.startswith("xl/worksheets/") and name.endswith(".xml"))


def _formula_text(value) -> str | None:
    """A formula as openpyxl reads it without values ("=D3*2", or an array formula's text); None for a value."""
    text = getattr(value, "text", value)
    return text if isinstance(text, str) and text.startswith("=") else None


def _uncomputed(data: bytes, rows: list[list[str]]) -> tuple[Formula, ...]:
    """The formula cells of the first sheet that read as empty and are not a computed empty text (Excel saves
    =IF(…, "", …) with the type "str")."""
    from openpyxl.utils import get_column_letter

    def read_empty(r: int, c: int) -> bool:
        return r >= len(rows) or c >= len(rows[r]) or not rows[r][c]

    empty = {(r, c): text for r, row in enumerate(_first_sheet(data, data_only=False)) for c, value in enumerate(row)
             if (text := _formula_text(value)) is not None and read_empty(r, c)}
    if not empty:
        return ()
    computed_text = {(r, c) for r, row in enumerate(_first_sheet(data, data_only=True, values_only=False))
                     for c, cell in enumerate(row) if (r, c) in empty and getattr(cell, "data_type", None) == "str"}
    return tuple(Formula(r, c, f"{get_column_letter(c + 1)}{r + 1}", text) for (r, c), text in empty.items()
                 if (r, c) not in computed_text)


def _trimmed(row: list[str]) -> list[str]:
    while row and not row[-1]:
        row.pop()
    return row


def read_xlsx(data: bytes) -> Grid:
    rows = [_trimmed([_cell_text(v) for v in row]) for row in _first_sheet(data, data_only=True)]
    formulas = _uncomputed(data, rows) if _has_formulas(data) else ()
    return Grid(rows=rows, encoding="xlsx", delimiter=None, formulas=formulas)


def read_grid(data: bytes, file_name: str) -> Grid:
    """The file's cells as text; XLSX by its zip signature or name, everything else as CSV."""
    if data.startswith(b"PK\x03\x04") or file_name.lower().endswith((".xlsx", ".xlsm")):
        return read_xlsx(data)
    if file_name.lower().endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("old Excel .xls files are not read; save the sheet as .xlsx or CSV UTF-8",
                             "不支持旧版 Excel .xls 文件：请另存为 .xlsx 或 CSV UTF-8")
    return read_csv(data)
