"""Finding the header of an uploaded grid and turning long or wide data rows into one cell per value.

The header is the first row that names the month and unit columns (long: also indicator and value; wide:
also at least one indicator column). Rows above it are titles; rows after a blank row at the end that hold
a single text cell are notes; both are skipped with a warning. Every other non-blank row is data.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from metrics.core.parsing import key, parse_number
from metrics.core.problems import Level, Problem
from metrics.ingest.reader import Formula

ALIASES = {
    "month": ("month", "月份", "统计月份", "报告月份", "月度"),
    "subsidiary": ("subsidiary", "unit", "单位", "单位编码", "单位代码", "子公司", "公司", "subsidiary code",
                   "unit code"),
    "subsidiary_name": ("subsidiary name", "unit name", "单位名称", "子公司名称", "公司名称"),
    "indicator": ("indicator", "指标", "指标编码", "指标代码", "indicator code"),
    "indicator_name": ("indicator name", "指标名称"),
    "value": ("value", "数值", "值", "指标值"),
    "note": ("note", "备注", "说明"),
}


def _key(text: str) -> str:
    """How a header is matched with ALIASES: as parsing.key, with "unit_name" read as "unit name"."""
    return key(text.replace("_", " "))


_ALIAS_KEYS = {_key(alias): role for role, aliases in ALIASES.items() for alias in aliases}

SECOND_NAME = {"subsidiary": "subsidiary_name", "indicator": "indicator_name"}
"""A second column that names the same thing as the first (the template's 单位名称 beside 单位编码). Alone it
stands in for the first; beside it, a row that fills both must name the same unit or indicator in both
(validation.identify; docs/rules.md, "Upload contract")."""

CELL_COLUMNS = ["row", "month", "subsidiary", "subsidiary_name", "indicator", "indicator_name", "value", "note",
                "value_column"]


@dataclass
class Cells:
    """One row per uploaded value cell, still as text, with the spreadsheet row it came from."""
    shape: str  # "long" or "wide"
    frame: pd.DataFrame  # CELL_COLUMNS
    headers: dict[str, str]  # role -> the header text the user wrote (for messages)
    problems: list[Problem] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    """The header row as the user wrote it."""
    roles: dict[str, int] = field(default_factory=dict)
    """role -> the index of its column in `header`."""
    value_columns: list[int] = field(default_factory=list)
    """Wide: the indexes of the indicator columns, in the order each row's value cells appear in `frame`."""
    shifted: frozenset[int] = frozenset()
    """The rows (as Excel numbers them) with more cells than the header: rejected, and their values, which stand
    under the wrong headers, are not compared with the unit's history (no warning about 310 employees)."""


def _roles(row: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(row):
        role = _ALIAS_KEYS.get(_key(cell))
        if role and role not in found:
            found[role] = index
    for first, second in SECOND_NAME.items():
        if first not in found and second in found:
            found[first] = found.pop(second)
    return found


_ROLE_ZH = {"month": "月份", "subsidiary": "单位", "subsidiary_name": "单位名称", "indicator": "指标",
            "indicator_name": "指标名称", "value": "数值", "note": "备注"}
_SPLIT_NUMBER = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", re.ASCII)


def _repeated_columns(header: list[str], header_row: int, columns: dict[int, str]) -> list[Problem]:
    """A second column of the same meaning (two 月份, 单位 beside 单位编码, an indicator by code and by name): one
    of them would be ignored, so the header is refused."""
    meanings: dict[tuple[str, str], list[int]] = {}
    for index, text in enumerate(header):
        role = _ALIAS_KEYS.get(_key(text)) if text else None
        if role or index in columns:
            meanings.setdefault(("role", role) if role else ("indicator", columns[index]), []).append(index)
    problems = []
    for (kind, meaning), indexes in meanings.items():
        if len(indexes) < 2:
            continue
        numbers, texts = [str(i + 1) for i in indexes], [header[i] for i in indexes]
        listed = f"{', '.join(numbers[:-1])} and {numbers[-1]}"
        what = f"the {meaning.replace('_', ' ')}" if kind == "role" else f"the indicator {meaning}"
        what_zh = _ROLE_ZH[meaning] if kind == "role" else "同一指标"
        problems.append(Problem(header_row, texts[1], " / ".join(texts),
                                f"columns {listed} ({', '.join(texts)}) all give {what}: keep one of them and "
                                f"delete the others" if len(indexes) > 2 else
                                f"columns {listed} ({', '.join(texts)}) both give {what}: keep one of them and "
                                f"delete the other",
                                message_zh=f"第 {'、'.join(numbers)} 列（{'、'.join(texts)}）都是{what_zh}："
                                           f"请只保留其中一列",
                                marks=tuple(dict.fromkeys(texts))))
    return problems


def _too_many_cells(row_number: int, row: list[str], header: list[str], delimiter: str | None) -> Problem:
    """A row longer than the header: its cells no longer stand under their headers (a thousands comma outside
    quotes reads 652,310 as 652 and 310 and shifts every later cell), whether or not the extra cells are empty.
    Where exactly one pair of cells joins into such a number, the message names it."""
    width, extra = len(header), len(row) - len(header)
    head_zh = f"该行有 {len(row)} 个单元格，多于表头的 {width} 列，各格已与表头错位："
    head = f"the row has {len(row)} cells but the header has {width} columns, so its cells are shifted: "
    if delimiter is None:
        cells = [c for c in row[width:] if c]
        return Problem(row_number, None, cells[0] if cells else "",
                       head + "give the extra column a header or move its values under one",
                       message_zh=head_zh + "请为多出的列填写表头，或把其中的数值移到对应的列下")
    splits = [i for i in range(width) if _SPLIT_NUMBER.fullmatch(",".join(row[i:i + extra + 1]))] \
        if delimiter == "," else []
    if len(splits) == 1:
        at = splits[0]
        number = ",".join(row[at:at + extra + 1])
        return Problem(row_number, header[at] or None, number,
                       head + f"{number} under {header[at]} was read as {extra + 1} cells; write it without the "
                              f"comma ({number.replace(',', '')}) or in quotes (\"{number}\")",
                       message_zh=head_zh + f"“{header[at]}”下的 {number} 被逗号拆成了 {extra + 1} 格；请去掉千位分隔符"
                                            f"写成 {number.replace(',', '')}，或加英文双引号写成 \"{number}\"")
    cells = [c for c in row[width:] if c]
    return Problem(row_number, None, cells[0] if cells else "",
                   head + "write numbers without a thousands comma or in quotes (1234 or \"1,234\"), and remove "
                          "any stray delimiter",
                   message_zh=head_zh + "数字请不用千位分隔符或加英文双引号（1234 或 \"1,234\"），并删除多余的分隔符")


def _uncomputed(formulas: Sequence[Formula], header: list[str] | None) -> list[Problem]:
    """Formula cells without a saved value (reader.Formula), each in its header's column where it has one."""
    def column(f: Formula) -> str:
        return header[f.column] if header and f.column < len(header) and header[f.column] else f"column {f.column + 1}"

    return [Problem(f.row + 1, column(f), f.text,
                    f"cell {f.cell} holds a formula without a saved value: save the workbook in Excel so formulas "
                    f"have values, then upload it again",
                    message_zh=f"单元格 {f.cell} 的公式没有计算结果：请在 Excel 中打开并保存该工作簿，使公式得出数值，"
                               f"再重新上传")
            for f in formulas]


def _indicator_columns(row: list[str], roles: dict[str, int], indicator_keys: dict[str, str]) -> dict[int, str]:
    taken = set(roles.values())
    return {i: indicator_keys[key(c)] for i, c in enumerate(row) if i not in taken and key(c) in indicator_keys}


def _is_number(text: str) -> bool:
    try:
        parse_number(text)
    except ValueError:
        return False
    return True


def _note_rows(rows: list[list[str]], first_data: int) -> set[int]:
    """Indexes of trailing note rows: single text cells at the end of the file, after a blank row."""
    tail_start = len(rows)
    for index in range(len(rows) - 1, first_data - 1, -1):
        filled = [c for c in rows[index] if c]
        if len(filled) > 1 or (len(filled) == 1 and _is_number(filled[0])):
            break
        tail_start = index
    blanks = [i for i in range(tail_start, len(rows)) if not any(rows[i])]
    if not blanks:
        return set()
    return {i for i in range(blanks[0], len(rows)) if any(rows[i])}


def shape_cells(rows: list[list[str]], indicator_keys: dict[str, str], *, delimiter: str | None = ",",
                formulas: Sequence[Formula] = ()) -> Cells:
    """Locate the header and flatten the data rows.

    `indicator_keys` maps key(code or Chinese name) to the indicator code, for wide headers. `delimiter`: the
    CSV's (None: an .xlsx file); `formulas`: the .xlsx cells whose formula has no saved value (every one refused).
    """
    problems: list[Problem] = []
    header_index = None
    for index, row in enumerate(rows):
        roles = _roles(row)
        if "month" in roles and "subsidiary" in roles and (
                {"indicator", "value"} <= roles.keys() or _indicator_columns(row, roles, indicator_keys)):
            header_index = index
            break
    if header_index is None:
        problems.append(Problem(None, None, None,
                                "no header row found: the file needs the columns 月份 and 单位, and either 指标 and "
                                "数值 (long shape) or one column per indicator (wide shape, as in the template)",
                                message_zh="找不到表头：文件需要“月份”“单位”两列，以及“指标”“数值”两列（长表），"
                                           "或每个指标一列（宽表，与模板相同）"))
        return Cells("long", pd.DataFrame(columns=CELL_COLUMNS), {}, problems + _uncomputed(formulas, None))

    for index in range(header_index):
        if any(rows[index]):
            problems.append(Problem(index + 1, None, " ".join(c for c in rows[index] if c)[:80],
                                    "skipped: a title row above the header", Level.WARNING,
                                    message_zh="已跳过：表头上方的标题行"))
    header = rows[header_index]
    roles = _roles(header)
    headers = {role: header[i] for role, i in roles.items()}
    notes = _note_rows(rows, header_index + 1)
    for index in sorted(notes):
        problems.append(Problem(index + 1, None, next(c for c in rows[index] if c)[:80],
                                "skipped: a note row after the data", Level.WARNING,
                                message_zh="已跳过：数据之后的备注行"))
    data_rows = [(i, rows[i]) for i in range(header_index + 1, len(rows)) if any(rows[i]) and i not in notes]
    problems += _uncomputed(formulas, header)
    problems += [_too_many_cells(i + 1, r, header, delimiter) for i, r in data_rows if len(r) > len(header)]
    shifted = frozenset(i + 1 for i, r in data_rows if len(r) > len(header))

    def cell(row: list[str], role: str) -> str:
        index = roles.get(role)
        return row[index] if index is not None and index < len(row) else ""

    long = {"indicator", "value"} <= roles.keys()
    if long:
        width = len(header)
        padded = [r if len(r) == width else (r + [""] * width)[:width] for _, r in data_rows]
        table = pd.DataFrame(padded, columns=range(width))
        frame = pd.DataFrame({
            "row": [i + 1 for i, _ in data_rows],
            **{role: table[roles[role]] if role in roles else "" for role in
               ("month", "subsidiary", "subsidiary_name", "indicator", "indicator_name", "value", "note")},
            "value_column": headers["value"],
        }, columns=CELL_COLUMNS)
        problems += _repeated_columns(header, header_index + 1, {})
        unnamed = [index for index, text in enumerate(header) if not text]
        for i, r in data_rows:
            for index in unnamed:
                if index < len(r) and r[index]:
                    problems.append(Problem(i + 1, f"column {index + 1}", r[index],
                                            "a value under a column without a header: check for a stray "
                                            "delimiter (1,234 must be quoted in a comma-separated file)",
                                            message_zh="没有表头的列中有数值：请检查多余的分隔符（逗号分隔的文件中 "
                                                       "1,234 须加引号）"))
        return Cells("long", frame, headers, problems, header, roles, [roles["value"]], shifted)

    columns = _indicator_columns(header, roles, indicator_keys)
    problems += _repeated_columns(header, header_index + 1, columns)
    known_names = list(indicator_keys)
    for index, text in enumerate(header):
        if index in roles.values() or index in columns or _key(text) in _ALIAS_KEYS or not text:
            if not text and any(index < len(r) and r[index] for _, r in data_rows):
                problems.append(Problem(header_index + 1, f"column {index + 1}", "",
                                        "a column without a header holds values: name it",
                                        message_zh="没有表头的列中有数值：请填写列名"))
            continue
        close = difflib.get_close_matches(key(text), known_names, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else "; use an indicator code or its Chinese name"
        hint_zh = f"；是否应为“{close[0]}”？" if close else "；请使用指标编码或指标中文名"
        problems.append(Problem(header_index + 1, text, text, f"unknown indicator column{hint}",
                                message_zh=f"无法识别的指标列{hint_zh}"))
    firsts: dict[str, int] = {}
    for index, code in columns.items():
        firsts.setdefault(code, index)
    columns = {index: code for code, index in firsts.items()}  # a repeated indicator column is read once
    records = []
    for i, r in data_rows:
        month, unit, unit_name, note = (cell(r, role) for role in ("month", "subsidiary", "subsidiary_name", "note"))
        for index, code in columns.items():
            value = r[index] if index < len(r) else ""
            records.append((i + 1, month, unit, unit_name, code, "", value, note, header[index]))
    return Cells("wide", pd.DataFrame(records, columns=CELL_COLUMNS), headers, problems, header, roles,
                 list(columns), shifted)
