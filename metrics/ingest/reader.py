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
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from sys import intern

from metrics.core.limits import MB, Limits, load_limits, megabytes

DELIMITERS = (",", "\t", ";")


class UnreadableFile(ValueError):
    """The bytes are not a CSV or XLSX file in an accepted encoding, are damaged, or go beyond a limit
    (metrics/core/limits.py): one sentence in each language, and the row where there is one."""

    def __init__(self, message: str, message_zh: str, row: int | None = None):
        super().__init__(message)
        self.message_zh = message_zh
        self.row = row


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


@contextmanager
def field_limit(chars: int) -> Iterator[None]:
    """csv's longest field, which is process-wide: `chars` while one file is split, as it was afterwards."""
    before = csv.field_size_limit(chars)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _split(text: str, delimiter: str, limits: Limits) -> list[list[str]]:
    """The file's rows of stripped cells; refused at the first row, cell or field beyond `limits`. Cells are
    interned: a month, a unit and an indicator code repeat on every row of a long file, and one string each instead
    of one a cell is most of its memory."""
    rows: list[list[str]] = []
    cells = 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    with field_limit(limits.cell_chars):
        while True:
            first_line = reader.line_num + 1
            try:
                row = [intern(cell.strip()) for cell in next(reader)]
            except StopIteration:
                return rows
            except csv.Error as exc:
                raise broken_field(text, first_line, limits) from exc
            cells += len(row)
            if len(row) > limits.columns:
                _check_columns(row, first_line, limits)
            if cells > limits.cells:
                raise _too_many_cells(first_line, limits)
            if len(rows) >= limits.rows:
                raise _too_many_rows(limits)
            rows.append(row)


def _line(text: str, number: int) -> str:
    """Line `number` (1 is the first) of `text`."""
    start = 0
    for _ in range(number - 1):
        start = text.find("\n", start) + 1
        if not start:
            return ""
    end = text.find("\n", start)
    return text[start:] if end < 0 else text[start:end]


def broken_field(text: str, row: int, limits: Limits) -> UnreadableFile:
    """A field beyond the cell limit, which is also how a quote that is never closed shows: every line after it
    becomes one field."""
    chars = f"{limits.cell_chars:,}"
    if _line(text, row).count('"') % 2:
        return UnreadableFile(
            f"a quote (\") opened in this row is never closed, so the rest of the file reads as one cell longer than "
            f"the {chars} characters allowed; close the quote or remove it, then upload the file again",
            f"该行有一个引号（\"）没有成对关闭，其后的内容都被读成一个单元格，超过允许的 {chars} 个字符；"
            f"请补上或删除该引号后重新上传", row)
    return _long_cell(row, limits)


def _long_cell(row: int, limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        f"a cell in this row is longer than the {limits.cell_chars:,} characters allowed; shorten it (a cell holds "
        f"one value) and upload the file again",
        f"该行有单元格超过允许的 {limits.cell_chars:,} 个字符；一个单元格只填一个数值，请缩短后重新上传", row)


def _check_columns(row: list[str], row_number: int, limits: Limits) -> None:
    """Refuses a row whose last non-empty cell lies beyond the column limit (empty cells after it are allowed:
    some programs pad every row)."""
    last = max((i for i, cell in enumerate(row) if cell), default=-1) + 1
    if last > limits.columns:
        raise _far_column(row_number, last, limits)


def _far_column(row: int, column: int, limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        f"this row has a value in column {column:,}, beyond the {limits.columns:,} columns allowed; a monthly file "
        f"has one column per indicator and a few more: remove the extra columns",
        f"该行第 {column:,} 列有内容，超过允许的 {limits.columns:,} 列；月报文件每个指标一列，另加几列说明，"
        f"请删除多余的列", row)


def _too_many_rows(limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        f"the file has more than the {limits.rows:,} rows allowed; split it into several files (a year or a few "
        f"months each) and upload them one by one",
        f"文件超过允许的 {limits.rows:,} 行：请按年或按几个月拆分成几个文件，分别上传")


def _too_many_cells(row: int, limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        f"up to this row the file has more than the {limits.cells:,} cells allowed; split it into several files "
        f"(a year or a few months each) and upload them one by one",
        f"读到该行时文件已超过允许的 {limits.cells:,} 个单元格：请按年或按几个月拆分成几个文件，分别上传", row)


def _delimiter(text: str, limits: Limits) -> str:
    """The delimiter under which the most rows agree on a field count above one (a broken quote in the first
    lines is left to the split to report)."""
    head = "\n".join(text[:65536].splitlines()[:200])
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        try:
            split = _split(head, delimiter, limits)
        except UnreadableFile:
            continue
        lengths = Counter(len(r) for r in split if len(r) > 1)
        if not lengths:
            continue
        width, count = lengths.most_common(1)[0]
        if (count, width) > best_score:
            best, best_score = delimiter, (count, width)
    return best


def read_csv(data: bytes, limits: Limits) -> Grid:
    text, encoding = decode(data)
    if "\x00" in text:
        raise UnreadableFile("the file holds binary data; upload a CSV or .xlsx file",
                             "文件包含二进制内容：请上传 CSV 或 .xlsx 文件")
    if text.count("\n") > limits.rows:
        raise _too_many_rows(limits)
    delimiter = _delimiter(text, limits)
    return Grid(rows=_split(text, delimiter, limits), encoding=encoding, delimiter=delimiter)


def _cell_text(value, days: bool = False) -> str:
    """A cell's value as text; a date cell as its month (2026-10), or with `days` as its day (2026-10-15)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}" + (f"-{value.day:02d}" if days else "")
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value).strip()


def _damaged(what: str, what_zh: str, row: int | None = None) -> UnreadableFile:
    return UnreadableFile(f"the .xlsx file cannot be read: {what}; open it in Excel and save it again, or save the "
                          f"sheet as CSV UTF-8", f"无法读取该 .xlsx 文件：{what_zh}；请用 Excel 打开后重新保存，"
                          f"或另存为 CSV UTF-8", row)


_END_OF_DIRECTORY = struct.Struct("<4s4H2LH")


def _check_archive(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """The workbook's zip archive, once its directory shows it within the limits: the number of parts (read from
    the end record before the directory is parsed), the size the parts expand to, and each part but the sheets.
    A part that expands beyond the size its directory entry declares stops there with a checksum error, so the
    declared sizes bound what reading can unpack."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or len(data) - end < _END_OF_DIRECTORY.size:
        raise _damaged("it is not a complete zip archive (an .xlsx file is one)",
                       "文件不是完整的 zip 压缩包（.xlsx 文件应是）")
    parts = _END_OF_DIRECTORY.unpack_from(data, end)[4]
    if parts > limits.xlsx_parts:
        raise _damaged(f"it holds {parts:,} parts, more than the {limits.xlsx_parts:,} allowed (a workbook has a few "
                       f"dozen)", f"压缩包含 {parts:,} 个部件，超过允许的 {limits.xlsx_parts:,} 个"
                                  f"（工作簿通常只有几十个）")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise _damaged(f"its zip directory is damaged ({exc})", "压缩包目录已损坏") from exc
    infos = archive.infolist()
    expanded = sum(info.file_size for info in infos)
    if expanded > limits.xlsx_expanded_mb * MB:
        raise UnreadableFile(
            f"the .xlsx file expands to {megabytes(expanded)}, more than the {limits.xlsx_expanded_mb:,} MB allowed; "
            f"split it into several files (a year or a few months each), or save it as CSV UTF-8",
            f"该 .xlsx 文件解压后为 {megabytes(expanded)}，超过允许的 {limits.xlsx_expanded_mb:,} MB：请按年或按几个月"
            f"拆分成几个文件，或另存为 CSV UTF-8")
    for info in infos:
        if not info.filename.startswith(_SHEETS) and info.file_size > limits.xlsx_part_mb * MB:
            raise UnreadableFile(
                f"the part {info.filename} of the .xlsx file expands to {megabytes(info.file_size)}, more than the "
                f"{limits.xlsx_part_mb:,} MB allowed for a part other than a sheet; save the sheet as CSV UTF-8",
                f"该 .xlsx 文件的部件 {info.filename} 解压后为 {megabytes(info.file_size)}，超过工作表以外部件允许的 "
                f"{limits.xlsx_part_mb:,} MB：请将工作表另存为 CSV UTF-8")
    return archive


_SHEETS = "xl/worksheets/"


@cache
def _sheet_parser(base: type) -> type:
    """openpyxl's sheet parser (`base`), reading a cell that holds one plain inline string (<is><t>text</t></is>, as
    openpyxl and many exporters write every text cell) without building openpyxl's rich-text objects for it, which
    cost most of the reading of such a sheet; any other cell, and any other inline string, goes through `base`."""
    from openpyxl.utils import coordinate_to_tuple
    from openpyxl.worksheet._reader import FORMULA_TAG, INLINE_STRING
    from openpyxl.xml.constants import SHEET_MAIN_NS

    text_tag = f"{{{SHEET_MAIN_NS}}}t"

    class SheetParser(base):
        def parse_cell(self, element):
            child = element.find(INLINE_STRING) if element.get("t") == "inlineStr" else None
            if (child is None or child.attrib or len(child) != 1 or child[0].tag != text_tag
                    or (not self.data_only and element.find(FORMULA_TAG) is not None)):
                return super().parse_cell(element)
            style_id = element.get("s", 0)
            if style_id:
                style_id = int(style_id)
            if coordinate := element.get("r"):
                row, column = coordinate_to_tuple(coordinate)
                self.col_counter = column
            else:
                self.col_counter += 1
                row, column = self.row_counter, self.col_counter
            return {"row": row, "column": column, "value": child[0].text or "", "data_type": "s",
                    "style_id": style_id}

    return SheetParser


def _sheet_cells(data: bytes, *, data_only: bool) -> Iterator[tuple[int, list[dict]]]:
    """The first worksheet's rows as openpyxl's sheet parser reads them: (row number, the cells the sheet holds,
    each {"column", "value", "data_type", …}), the saved values (`data_only`) or the formulas.

    openpyxl's own read-only sheet is not used: opening one scans the whole sheet for its size when the sheet does
    not declare it, and its rows are padded with an empty cell up to the last column of each (a cell in column XFD
    makes 16,384), which a crafted file turns into gigabytes. The parser it uses, over the workbook's strings,
    dates and styles, reads one row at a time."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.worksheet._reader import WorkSheetParser

    parser = None
    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=data_only)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        target = next((rel.target for _, rel in reader.parser.find_sheets()
                       if rel.target in reader.valid_files and "chartsheet" not in rel.Type), None)
        if target is None:
            raise _damaged("it holds no worksheet", "文件中没有工作表")
        with reader.archive.open(target) as source:
            parser = _sheet_parser(WorkSheetParser)(source, reader.shared_strings, data_only=data_only,
                                                    epoch=reader.wb.epoch, date_formats=reader.wb._date_formats,
                                                    timedelta_formats=reader.wb._timedelta_formats)
            yield from parser.parse()
    except (UnreadableFile, MemoryError):
        raise
    except IndexError as exc:
        at = parser.row_counter if parser is not None else None
        raise _damaged("a cell refers to a shared text the file does not hold",
                       "有单元格引用了文件中不存在的共享文本", at or None) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _damaged("a compressed part does not match its size or checksum",
                       "某个压缩部件与其大小或校验值不符") from exc
    except Exception as exc:  # openpyxl, zipfile, zlib and expat raise many types for a damaged or foreign file
        at = parser.row_counter if parser is not None else None
        where, where_zh = (" after this row", "（该行之后）") if at else ("", "")
        raise _damaged(f"a part of it is damaged or not a workbook part{where} ({exc.__class__.__name__}: "
                       f"{str(exc)[:120]})", f"文件的某个部件已损坏或不是工作簿的内容{where_zh}", at or None) from exc


def _sheet_rows(data: bytes, limits: Limits, days: bool = False) -> list[list[str]]:
    """The first sheet's rows of cell text, row i being sheet row i + 1, each ending with its last non-empty cell
    (a date cell with its day where `days`); refused at the first row, cell or column beyond `limits`."""
    rows: list[list[str]] = []
    cells = 0
    for number, found in _sheet_cells(data, data_only=True):
        if number > limits.rows:
            raise _too_many_rows(limits)
        if number <= len(rows):
            raise _damaged("this row appears twice in the sheet, or out of order", "该行在工作表中出现两次或顺序错乱",
                           number)
        rows.extend([] for _ in range(number - 1 - len(rows)))
        texts = {cell["column"]: text for cell in found if (text := _cell_text(cell["value"], days))}
        row = [""] * max(texts, default=0)
        if len(row) > limits.columns:
            raise _far_column(number, len(row), limits)
        for column, text in texts.items():
            if len(text) > limits.cell_chars:
                raise _long_cell(number, limits)
            row[column - 1] = intern(text)
        cells += len(row)
        if cells > limits.cells:
            raise _too_many_cells(number, limits)
        rows.append(row)
    return rows


_FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s/>]")


def _has_formulas(archive: zipfile.ZipFile) -> bool:
    """Whether any worksheet of the workbook holds a formula element (most uploads hold none: no second read),
    read a megabyte at a time."""
    for name in archive.namelist():
        if not (name.startswith(_SHEETS) and name.endswith(".xml")):
            continue
        with archive.open(name) as part:
            tail = b""
            while chunk := part.read(MB):
                if _FORMULA_ELEMENT.search(tail + chunk):
                    return True
                tail = chunk[-8:]
    return False


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

    empty = {(number - 1, cell["column"] - 1): text for number, found in _sheet_cells(data, data_only=False)
             for cell in found if (text := _formula_text(cell["value"])) is not None
             and read_empty(number - 1, cell["column"] - 1)}
    if not empty:
        return ()
    computed_text = {(number - 1, cell["column"] - 1) for number, found in _sheet_cells(data, data_only=True)
                     for cell in found if cell["data_type"] == "str"}
    return tuple(Formula(r, c, f"{get_column_letter(c + 1)}{r + 1}", text) for (r, c), text in empty.items()
                 if (r, c) not in computed_text)


def read_xlsx(data: bytes, limits: Limits, days: bool = False) -> Grid:
    archive = _check_archive(data, limits)
    rows = _sheet_rows(data, limits, days)
    try:
        formulas = _uncomputed(data, rows) if _has_formulas(archive) else ()
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _damaged("a compressed part does not match its size or checksum",
                       "某个压缩部件与其大小或校验值不符") from exc
    return Grid(rows=rows, encoding="xlsx", delimiter=None, formulas=formulas)


def size_problem(size: int, limits: Limits) -> UnreadableFile | None:
    """The refusal of a file of `size` bytes, or None when the size is allowed."""
    if size > limits.file_mb * MB:
        return UnreadableFile(
            f"the file is {megabytes(size)}, more than the {limits.file_mb:,} MB allowed; split it into several "
            f"files (a year or a few months each) and upload them one by one",
            f"文件大小为 {megabytes(size)}，超过允许的 {limits.file_mb:,} MB：请按年或按几个月拆分成几个文件，"
            f"分别上传")
    return None


def read_grid(data: bytes, file_name: str, limits: Limits | None = None, *, days: bool = False) -> Grid:
    """The file's cells as text; XLSX by its zip signature or name, everything else as CSV. Refused (UnreadableFile)
    beyond `limits` (None: data/limits.toml), before the work the limit bounds. An .xlsx date cell reads as its
    month (2026-10: the monthly upload), or with `days` as its day (2026-10-15: the hazard ledger's dates)."""
    limits = limits or load_limits()
    if (too_large := size_problem(len(data), limits)) is not None:
        raise too_large
    if data.startswith(b"PK\x03\x04") or file_name.lower().endswith((".xlsx", ".xlsm")):
        return read_xlsx(data, limits, days)
    if file_name.lower().endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("old Excel .xls files are not read; save the sheet as .xlsx or CSV UTF-8",
                             "不支持旧版 Excel .xls 文件：请另存为 .xlsx 或 CSV UTF-8")
    return read_csv(data, limits)
