"""The one path by which tables leave the product as files (CSV, XLSX), with every text cell made inert.

A cell whose text begins with `=`, `+`, `-` or `@` (or a control character) is evaluated by a spreadsheet as
a formula when the file is opened: names and remarks come from uploads, so a downloaded breach list could
otherwise run `=HYPERLINK(...)` or worse (CSV injection). Following the OWASP advice, such text gets a leading
apostrophe; numbers stay numbers, so a negative value is still a number the reader can sum.
"""
from __future__ import annotations

import io
import math
import numbers
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TypeVar, overload

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype, is_scalar, is_timedelta64_dtype

_T = TypeVar("_T")

# Full-width forms too: an IME may type them, and some spreadsheet locales read them as the ASCII operators.
_FORMULA_STARTS = frozenset("=+-@＝＋－＠")
_CONTROLS_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_MAX = 31
_WIDTH_MAX = 60
_HEADER_FILL = "DDEBF7"


@overload
def neutralise(value: str) -> str: ...
@overload
def neutralise(value: _T) -> _T: ...
def neutralise(value: object) -> object:
    """Text made inert for a spreadsheet; any other value (number, bool, date, None, NaN) unchanged.

    Text beginning with a formula character (`= + - @`, their full-width forms) or a control character gets
    a leading `'`; control characters other than the newline are removed wherever they are. Idempotent.
    """
    if not isinstance(value, str):
        return value
    risky = bool(value) and (value[0] in _FORMULA_STARTS or unicodedata.category(value[0]) == "Cc")
    text = _CONTROLS_BUT_NEWLINE.sub("", value)
    return "'" + text if risky else text


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame (without its index) as CSV in UTF-8 with a BOM, so that Excel opens Chinese correctly."""
    columns = [column if _is_typed(column) else column.astype(object).map(_csv_cell) for _, column in frame.items()]
    safe = pd.concat(columns, axis=1, ignore_index=True) if columns else pd.DataFrame(index=frame.index)
    safe.columns = [_csv_cell(label) for label in frame.columns]
    return safe.to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(sheets: dict[str, pd.DataFrame], *, title: str | None = None) -> bytes:
    """One worksheet per frame (without its index), in the dict's order; no cell is ever a formula.

    Sheet names are made valid for Excel (31 characters, none of `[]:*?/\\`, unique ignoring case). Numbers
    stay numeric, dates are dates; missing and non-finite numbers (Excel has no NaN or infinity) are empty
    cells; time zones are dropped, keeping the wall-clock time. Raises ValueError for an empty dict, since a
    workbook needs a sheet.
    """
    from openpyxl import Workbook

    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for name, frame in sheets.items():
        _write_sheet(workbook.create_sheet(_sheet_title(name, taken)), frame)
    if title is not None:
        workbook.properties.title = title
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _is_typed(column: pd.Series) -> bool:
    """A column whose dtype holds no text (numbers, booleans, dates, durations): nothing to neutralise."""
    return is_numeric_dtype(column) or is_datetime64_any_dtype(column) or is_timedelta64_dtype(column)


def _csv_cell(value: object) -> object:
    """A value as pandas may write it to CSV: text neutralised, any other object as neutralised text."""
    if isinstance(value, str):
        return neutralise(value)
    plain = (numbers.Number, np.bool_, date, time, timedelta, np.datetime64, np.timedelta64)
    if value is None or isinstance(value, plain) or (is_scalar(value) and pd.isna(value)):
        return value
    return neutralise(str(value))


def _xlsx_cell(value: object) -> object:
    """A value openpyxl stores with the right type: None, bool, number, date/time, or neutralised text."""
    if is_scalar(value) and pd.isna(value):
        return None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.timedelta64):
        value = pd.Timedelta(value)
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    elif isinstance(value, pd.Timedelta):
        value = value.to_pytimedelta()
    if isinstance(value, (datetime, time)) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if isinstance(value, (float, Decimal)) and not math.isfinite(value):
        return None
    if isinstance(value, (bool, int, float, Decimal, date, time, timedelta)):
        return value
    return neutralise(value if isinstance(value, str) else str(value))


def write_cell(sheet, row: int, column: int, value: object):
    """Write one worksheet cell (openpyxl) as the exports do: typed, text neutralised and stored as a string,
    never a formula. Every workbook the product writes fills its cells through here. Returns the cell."""
    value = _xlsx_cell(value)
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would read "#N/A" as an error; neutralised text is never "="
    return cell


def _write_sheet(sheet, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    widths = [0] * len(frame.columns)
    rows = [frame.columns] + list(frame.itertuples(index=False, name=None))
    for row_number, row in enumerate(rows, start=1):
        for column_number, raw in enumerate(row, start=1):
            cell = write_cell(sheet, row_number, column_number, raw)
            widths[column_number - 1] = max(widths[column_number - 1], _display_width(cell.value))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
    for column_number, width in enumerate(widths, start=1):
        # + 2 of margin, and room for the header's filter button
        sheet.column_dimensions[get_column_letter(column_number)].width = min(width + 4, _WIDTH_MAX)
    sheet.freeze_panes = "A2"
    if widths:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(widths))}{len(rows)}"


def _display_width(value: object) -> int:
    """Roughly how many narrow characters the value takes on screen; East Asian wide characters count 2."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, (int, float, Decimal)):
        return len(f"{value:.10g}")  # about what Excel's General format shows
    if isinstance(value, datetime):
        return 19
    if isinstance(value, date):
        return 10
    text = value if isinstance(value, str) else str(value)
    return max(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
               for line in text.split("\n"))


def _sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unused Excel sheet name close to `name`; `taken` holds the casefolded names in use."""
    base = _SHEET_FORBIDDEN.sub("_", _CONTROLS.sub("", str(name))).strip("'") or "Sheet"
    if base.casefold() == "history":  # reserved by Excel
        base += "_"
    candidate = base[:_SHEET_MAX].rstrip("'")
    copy = 1
    while candidate.casefold() in taken:
        copy += 1
        suffix = f" ({copy})"
        candidate = base[:_SHEET_MAX - len(suffix)].rstrip("'") + suffix
    taken.add(candidate.casefold())
    return candidate
