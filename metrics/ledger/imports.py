"""Importing a findings workbook (a consultancy's spreadsheet, a unit's monthly ledger) into the hazard ledger, as
the monthly upload imports its file: read within the upload's limits in a child process (ingest/worker.py), every
row checked, then committed whole in one transaction, or rejected with every problem (the spreadsheet's row, the
column as its header is written, the value, what to do, in Chinese and English) and nothing written but the
rejection's audit row.

A row without 隐患编号 registers a hazard (登记) and issues it for rectification (下达整改) when its 五定 are
complete; a row whose number the ledger holds updates that hazard's 五定 through the declared `update` step, never
its state (a state change is a step on the page); a number the ledger does not hold is an error. A row without a
number that matches a hazard of the ledger by unit, place, description and day found is that hazard, so a file
imported again registers nothing twice; a file whose every row equals the ledger is `unchanged`. Blank cells change
nothing. Each hazard's change is written as the page's steps write it (the hazard, its events, its deadline), but
for the whole file at once; the file is one audit row (hazard_import) naming its sha256, so its raw file is kept in
raw/ for good and every backup holds it. Rules: docs/rules.md, "9. The hazard ledger".
"""
from __future__ import annotations

import difflib
import hashlib
import io
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from metrics import store
from metrics.core import clock, exports
from metrics.core.limits import Limits, load_limits
from metrics.core.parsing import fold_width, key, parse_number
from metrics.core.problems import Level, Problem, errors, listed
from metrics.core.reporting import earliest_month
from metrics.core.text import Text
from metrics.ingest.reader import Grid, UnreadableFile
from metrics.ingest.shape import _note_rows, _too_many_cells, _uncomputed
from metrics.ingest.upload import foreign_unit_problems, kept_while_read
from metrics.ingest.validation import _unit_names, identify
from metrics.ingest.worker import out_of_memory, read_grid_isolated
from metrics.ledger import hazards
from metrics.ledger.hazards import STEPS, Change, Hazard, NewHazard, State
from metrics.ledger.vocabulary import Vocabulary, load_vocabulary
from metrics.store import Connection, audit, schema
from metrics.store.audit import Action, Outcome

SEQUENCES = """
SELECT subsidiary, year, max(sequence) AS sequence FROM hazards
WHERE list_contains(CAST($units AS VARCHAR[]), subsidiary) GROUP BY subsidiary, year
"""
INSERT_EVENTS = """
INSERT INTO hazard_events (id, number, happened_at, actor, action, from_state, to_state, comment, detail)
SELECT nextval('hazard_event_ids'), number, happened_at, actor, action, from_state, to_state, comment, detail
FROM incoming
RETURNING id, number
"""
INSERT_DEADLINES = """
INSERT INTO hazard_deadlines BY NAME SELECT number, effective_from, deadline, event_id FROM incoming
"""
# The hazards a file's rows may be (`incoming`: number, subsidiary, place, description, found_on of each row).
CANDIDATES = """
SELECT h.* FROM hazards h JOIN (SELECT DISTINCT number FROM incoming WHERE number IS NOT NULL) n USING (number)
UNION
SELECT h.* FROM hazards h
JOIN (SELECT DISTINCT subsidiary, place, description, CAST(found_on AS DATE) AS found_on FROM incoming
      WHERE number IS NULL AND subsidiary IS NOT NULL AND found_on IS NOT NULL) k
  ON k.subsidiary = h.subsidiary AND k.place = trim(h.place) AND k.description = trim(h.description)
 AND k.found_on = h.found_on
"""
UPDATE_FIVE_FIXES = """
UPDATE hazards SET owner = i.owner, measures = i.measures, funds = i.funds, deadline = i.deadline,
    deadline_since = i.deadline_since, original_deadline = i.original_deadline, contingency = i.contingency,
    verifier = i.verifier,
    updated_at = i.updated_at
FROM incoming i WHERE hazards.number = i.number
"""


@dataclass(frozen=True)
class Column:
    """A column of the findings workbook: its role (a field of the ledger), its header in the template, and the
    other headers it is known by (matched as parsing.key matches names: width, case and spaces aside)."""
    role: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()


COLUMNS = (
    Column("number", "隐患编号", "hazard number", ("number", "编号")),
    Column("subsidiary", "单位编码", "unit code", ("subsidiary", "unit", "单位", "单位代码")),
    Column("subsidiary_name", "单位名称", "unit name", ("subsidiary name",)),
    Column("source", "检查类型", "source", ("检查类别", "隐患来源", "inspection type")),
    Column("place", "隐患部位", "place", ("部位", "隐患地点", "location")),
    Column("description", "隐患描述", "description", ("隐患内容", "存在问题")),
    Column("level", "隐患级别", "level", ("级别", "hazard level")),
    Column("criterion", "判定标准", "criterion"),
    Column("clause", "条款", "clause", ("判定条款",)),
    Column("factor", "隐患类别", "factor class", ("factor", "隐患因素类别")),
    Column("accident_type", "可能导致的事故类型", "accident type", ("事故类型",)),
    Column("found_on", "发现日期", "found on", ("检查日期", "date found")),
    Column("found_by", "发现人", "found by", ("检查人",)),
    Column("owner", "整改责任人", "owner", ("责任人",)),
    Column("measures", "整改措施", "measures"),
    Column("funds", "整改资金（万元）", "funds (10k yuan)", ("整改资金", "funds")),
    Column("deadline", "整改期限", "deadline", ("整改时限",)),
    Column("contingency", "应急预案", "contingency plan", ("contingency",)),
    Column("verifier", "验收人", "verifier"),
)
BY_ROLE = {c.role: c for c in COLUMNS}
_HEADER_KEYS = {key(text.replace("_", " ")): c.role for c in COLUMNS
                for text in (c.role, c.zh, c.en, *c.aliases)}
LISTS = ("source", "level", "criterion", "factor", "accident_type")
"""The columns whose values are a list of data/hazards.toml (the role is the list's name there)."""
DATES = ("found_on", "deadline")
REGISTRATION = ("source", "place", "description", "level", "criterion", "clause", "factor", "accident_type",
                "found_on", "found_by")
"""What registering a hazard records; an import never changes it on a hazard the ledger holds."""
FIVE_FIXES = ("owner", "measures", "funds", "deadline", "contingency", "verifier")
NEEDED = ("source", "place", "description", "level", "factor", "accident_type", "found_on", "found_by")
"""The columns a file with a new hazard must have (and a unit: 单位编码 or 单位名称)."""
KEY = ("subsidiary", "place", "description", "found_on")
"""How a row without a number is matched to a hazard the ledger holds (docs/rules.md, section 9)."""
_DAY = (re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$", re.ASCII),
        re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$", re.ASCII),
        re.compile(r"^(\d{4})(\d{2})(\d{2})$", re.ASCII))
TEMPLATE_NAME = "隐患排查治理台账导入模板"
FORMATS = ("csv", "xlsx")


@dataclass
class HazardImport:
    """What importing a findings workbook did, or would do (a dry run)."""
    status: str  # committed | rejected | unchanged
    sha256: str
    problems: list[Problem] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)
    """The numbers of the hazards registered (a dry run: the numbers they would get)."""
    issued: list[str] = field(default_factory=list)
    """Those of them issued for rectification at once (their 五定 complete)."""
    updated: list[str] = field(default_factory=list)
    """The hazards whose 五定 the file changed."""
    rows: int = 0
    dry_run: bool = False
    error_count: int = 0
    warning_count: int = 0

    @property
    def errors(self) -> list[Problem]:
        return errors(self.problems)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level is Level.WARNING]

    def as_json(self) -> dict:
        def entry(p: Problem) -> dict:
            return {"row": p.row, "column": p.column, "value": p.value, "message": p.message,
                    "message_zh": p.message_zh}

        doc = {"status": self.status, "rows": self.rows, "registered": self.registered, "issued": self.issued,
               "updated": self.updated, "errors": [entry(p) for p in self.errors],
               "warnings": [entry(p) for p in self.warnings], "error_count": self.error_count,
               "warning_count": self.warning_count, "sha256": self.sha256}
        return doc | ({"dry_run": True} if self.dry_run else {})


def parse_day(text: str) -> date:
    """A day written as 2026-11-02, 2026/11/2, 2026.11.2, 2026年11月2日 or 20261102 (an .xlsx date cell reads as
    2026-11-02; a time after it, as Excel writes a date in CSV, is ignored). ValueError for anything else."""
    cleaned = fold_width(text)
    for pattern in _DAY:
        if match := pattern.match(cleaned):
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    raise ValueError(text)


# Reading the grid -------------------------------------------------------------------------------------------------

@dataclass
class _Sheet:
    """The file's data rows by role, with the header as written."""
    frame: pd.DataFrame
    """row (as the spreadsheet numbers it), then one text column per role the header has."""
    records: list[dict]
    """The same rows as dictionaries."""
    headers: dict[str, str]
    """role -> the header as written."""
    header_row: int


def _roles(row: list[str]) -> dict[int, str]:
    return {i: role for i, cell in enumerate(row) if (role := _HEADER_KEYS.get(key(cell.replace("_", " "))))}


def _header_index(rows: list[list[str]]) -> int | None:
    """The first row naming at least two columns of the template, the number or the description among them."""
    for index, row in enumerate(rows):
        roles = set(_roles(row).values())
        if len(roles) >= 2 and roles & {"number", "description"}:
            return index
    return None


def _sheet(grid: Grid, problems: list[Problem]) -> _Sheet | None:
    rows = grid.rows
    index = _header_index(rows)
    if index is None:
        names = "、".join(c.zh for c in COLUMNS)
        problems.append(Problem(None, None, None, "no header row found: the file needs the columns of the template "
                                "(python -m metrics hazards template), among them 隐患编号 or 隐患描述",
                                message_zh=f"找不到表头：文件须有导入模板的各列（{names}），"
                                           f"至少须有“隐患编号”或“隐患描述”"))
        return None
    header = rows[index]
    for above in range(index):
        if any(rows[above]):
            problems.append(Problem(above + 1, None, " ".join(c for c in rows[above] if c)[:80],
                                    "skipped: a title row above the header", Level.WARNING,
                                    message_zh="已跳过：表头上方的标题行"))
    notes = _note_rows(rows, index + 1)
    for at in sorted(notes):
        problems.append(Problem(at + 1, None, next(c for c in rows[at] if c)[:80],
                                "skipped: a note row after the data", Level.WARNING,
                                message_zh="已跳过：数据之后的备注行"))
    data = [(i, rows[i]) for i in range(index + 1, len(rows)) if any(rows[i]) and i not in notes]
    problems += _uncomputed(grid.formulas, header)
    problems += [_too_many_cells(i + 1, r, header, grid.delimiter) for i, r in data if len(r) > len(header)]
    roles = _roles(header)
    problems += _header_problems(header, index + 1, roles, data)
    first: dict[str, int] = {}
    for at, role in roles.items():
        first.setdefault(role, at)
    records = [{"row": i + 1, **{role: r[at] if at < len(r) else "" for role, at in first.items()}} for i, r in data]
    frame = pd.DataFrame(records, columns=["row", *first])
    return _Sheet(frame, records, {role: header[at] for role, at in first.items()}, index + 1)


def _header_problems(header: list[str], row: int, roles: dict[int, str],
                     data: list[tuple[int, list[str]]]) -> list[Problem]:
    """A second column of one meaning (an error: one of them would be ignored); a column the import does not read
    or one without a header that holds values (a warning: its values are not read)."""
    problems = []
    seen: dict[str, int] = {}
    for at, role in roles.items():
        if role in seen:
            first = header[seen[role]]
            problems.append(Problem(row, header[at], header[at],
                                    f"columns {seen[role] + 1} and {at + 1} ({first}, {header[at]}) both give the "
                                    f"{BY_ROLE[role].en}: keep one of them and delete the other",
                                    message_zh=f"第 {seen[role] + 1}、{at + 1} 列（{first}、{header[at]}）都是"
                                               f"{BY_ROLE[role].zh}：请只保留其中一列", marks=(first, header[at])))
        seen.setdefault(role, at)
    for at, text in enumerate(header):
        if at in roles:
            continue
        if text:
            problems.append(Problem(row, text, text, "not a column of the findings template: its values are not "
                                    "read (the template's columns: python -m metrics hazards template)",
                                    Level.WARNING, message_zh="不是隐患台账导入模板中的列，该列内容不会导入"))
        elif any(at < len(r) and r[at] for _, r in data):
            problems.append(Problem(row, f"column {at + 1}", "", "a column without a header holds values: they are "
                                    "not read; name the column as in the template", Level.WARNING,
                                    message_zh=f"第 {at + 1} 列没有表头但有内容，不会导入：请按模板填写列名"))
    return problems


def read_sheet(data: bytes, file_name: str, limits: Limits, problems: list[Problem]) -> _Sheet | None:
    """The file's rows by role (None: unreadable, or no header; the reason is in `problems`)."""
    try:
        grid = read_grid_isolated(data, file_name, limits, days=True)
        try:
            return _sheet(grid, problems)
        except MemoryError:
            raise out_of_memory(limits) from None
    except UnreadableFile as exc:
        problems.append(Problem(exc.row, None, file_name if exc.row is None else None, str(exc),
                                message_zh=exc.message_zh))
        return None


# One row's values --------------------------------------------------------------------------------------------------

class _Terms:
    """The names a list of data/hazards.toml may be written by: its codes, Chinese and English names, and the
    beginning of a Chinese name that begins no other (人 for 人的不安全行为)."""

    def __init__(self, vocabulary: Vocabulary, kind: str) -> None:
        self.terms = vocabulary.terms[kind]
        self.index = {key(text): t.code for t in self.terms for text in (t.code, t.name.zh, t.name.en)}
        self.read: dict[str, str | None] = {}
        """Each text as read before (a file repeats its lists' values on every row)."""

    def code(self, text: str) -> str | None:
        if text not in self.read:
            found = self.index.get(key(text))
            if found is None:
                starts = {t.code for t in self.terms if key(t.name.zh).startswith(key(text))}
                found = next(iter(starts)) if len(starts) == 1 else None
            self.read[text] = found
        return self.read[text]

    def unknown(self, row: int, column: Column, header: str, text: str) -> Problem:
        names = [t.name.zh for t in self.terms]
        close = difflib.get_close_matches(text, names, n=1, cutoff=0.4)
        hint, hint_zh = (f"; did you mean {close[0]}?", f"是否应为“{close[0]}”？") if close else ("", "")
        return Problem(row, header, text, f"unknown {column.en}{hint}; write one of: "
                       f"{', '.join(t.name.en for t in self.terms)} (or its Chinese name or code)",
                       message_zh=f"无法识别的{column.zh}：{hint_zh}请填写以下之一：{'、'.join(names)}")


def _parsed(records: list[dict], headers: dict[str, str], vocabulary: Vocabulary,
            problems: list[Problem]) -> tuple[list[dict], set[tuple[int, str]]]:
    """Each row's values by role (texts stripped, lists as codes, dates, funds as a number; None where blank or
    not understood) and the (row, role) cells already reported."""
    terms = {kind: _Terms(vocabulary, kind) for kind in LISTS}
    first = earliest_month()
    rows: list[dict] = []
    bad: set[tuple[int, str]] = set()
    for record in records:
        row = int(record["row"])
        values: dict = {"row": row}
        for role in headers:
            text = str(record.get(role) or "").strip()
            if role in ("row", "subsidiary", "subsidiary_name"):
                continue
            column, header = BY_ROLE[role], headers[role]
            if not text:
                values[role] = None
            elif role in LISTS:
                values[role] = terms[role].code(text)
                if values[role] is None:
                    problems.append(terms[role].unknown(row, column, header, text))
            elif role in DATES:
                values[role] = _day(row, header, text, first, problems)
            elif role == "funds":
                values[role] = _funds(row, header, text, problems)
            else:
                values[role] = text
            if text and values[role] is None:
                bad.add((row, role))
            values[f"{role}_text"] = text
        rows.append(values)
    return rows, bad


def _day(row: int, header: str, text: str, first: date, problems: list[Problem]) -> date | None:
    try:
        day = parse_day(text)
    except ValueError:
        problems.append(Problem(row, header, text, "not a date: write it as 2026-11-02, 2026/11/2 or 2026年11月2日",
                                message_zh="无法识别的日期：请写成 2026-11-02、2026/11/2 或 2026年11月2日"))
        return None
    if day < first:
        problems.append(Problem(row, header, text, f"{day:%Y-%m-%d} is before {first:%Y-%m}, the earliest month the "
                                "dashboard takes: check the year",
                                message_zh=f"{day.year}年{day.month}月{day.day}日早于系统接受的最早月份"
                                           f"（{first.year}年{first.month}月）：请检查年份"))
        return None
    return day


def _funds(row: int, header: str, text: str, problems: list[Problem]) -> float | None:
    try:
        return parse_number(text)
    except ValueError:
        problems.append(Problem(row, header, text, "not a number: write the funds in 10,000 yuan, such as 0.5 or 12 "
                                "(0 if none)", message_zh="不是数字：请以万元为单位填写，如 0.5 或 12（无资金填 0）"))
        return None


# What a step's or a registration's reason is about: the column it names, and what to do where it does not say.
_ABOUT: dict[Text, tuple[str, Text | None]] = {
    Text("请填写隐患部位", "give the place"): ("place", None),
    Text("请填写隐患描述", "give the description"): ("description", None),
    Text("请填写发现人", "give the found by"): ("found_by", None),
    Text("重大隐患须注明所依据的判定标准", "a major hazard needs the criterion it meets"): ("criterion", None),
    Text("重大隐患须注明判定标准的条款", "a major hazard needs the clause of its criterion"): ("clause", None),
    Text("发现日期晚于今天", "the day it was found is after today"):
        ("found_on", Text("请核对发现日期", "check the day it was found")),
    hazards.NEGATIVE_FUNDS.reason: ("funds", Text("请填写 0 或正数", "write 0 or more")),
    hazards.VERIFIER_IS_OWNER.reason: ("verifier", Text("请另指定验收人", "name another verifier")),
    hazards.DEADLINE_BEFORE_FOUND.reason: ("deadline", Text("请核对整改期限与发现日期",
                                                             "check the deadline and the day found")),
}
_LIST_REASONS = {"检查类型": "source", "隐患级别": "level", "隐患因素类别": "factor",
                 "可能导致的事故类型": "accident_type"}


def _about(reason: Text, fallback: str | None) -> tuple[str | None, Text | None]:
    """The role a reason of hazards.py is about (check_new's and the steps' reasons), and what to do."""
    if reason in _ABOUT:
        return _ABOUT[reason]
    for zh, role in _LIST_REASONS.items():
        if reason.zh.startswith(f"{zh}“"):
            return role, None
    if reason.zh.startswith("没有编码为"):
        return "subsidiary", None
    return fallback, None


def _reasons(row: dict, reasons: list[Text], sheet: _Sheet, bad: set[tuple[int, str]], fallback: str | None,
             problems: list[Problem]) -> int:
    """hazards.py's reasons as errors of the row, each in the column it is about; a reason about a cell already
    reported (unreadable, unknown) or a column the file lacks (reported once, at the header) is left out. Returns
    how many it reported."""
    before = len(problems)
    for reason in dict.fromkeys(reasons):
        role, todo = _about(reason, fallback)
        if role is not None and ((row["row"], role) in bad or role not in sheet.headers):
            continue
        header = sheet.headers.get(role) if role else None
        value = row.get(f"{role}_text", "") if role else None
        en, zh = reason.en, reason.zh
        if todo is not None:
            en, zh = f"{en}: {todo.en}", f"{zh}：{todo.zh}"
        problems.append(Problem(row["row"], header, value, en, message_zh=zh))
    return len(problems) - before


# Deciding each row --------------------------------------------------------------------------------------------------

@dataclass
class _Plan:
    """What the file writes: the hazards it registers (and of them those issued at once) and the updates."""
    new: list[tuple[dict, NewHazard, bool]] = field(default_factory=list)
    """(row, the hazard, issued at once)."""
    updates: list[tuple[dict, Hazard, Hazard]] = field(default_factory=list)
    """(row, the hazard as it is, as it will be)."""


def _units_of(sheet: _Sheet, units: pd.DataFrame, problems: list[Problem]) -> pd.Series:
    """The unit code each row names by 单位编码 or 单位名称 (None: none, or not known: reported), checked as the
    monthly upload checks them (validation.identify); a row with a number may leave both blank."""
    frame = sheet.frame
    if "subsidiary" not in sheet.headers and "subsidiary_name" not in sheet.headers:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    shaped = pd.DataFrame({"row": frame["row"],
                           "subsidiary": frame.get("subsidiary", pd.Series("", index=frame.index)),
                           "subsidiary_name": frame.get("subsidiary_name", pd.Series("", index=frame.index))})
    headers: dict[str, str] = {r: sheet.headers[r] for r in ("subsidiary", "subsidiary_name") if r in sheet.headers}
    if "subsidiary" not in headers:
        headers = {"subsidiary": headers["subsidiary_name"]}
        shaped["subsidiary"] = shaped.pop("subsidiary_name")
    numbered = frame.get("number", pd.Series("", index=frame.index)).astype(str).str.strip() != ""
    blank = (shaped["subsidiary"].str.strip() == "") & (shaped.get("subsidiary_name", "") == "")
    asked = ~(numbered & blank)
    found = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if asked.any():
        found[asked] = identify(_unit_names(units), shaped[asked], headers, problems)
    return found


def _stored(con: Connection, rows: list[dict]) -> tuple[dict[str, Hazard], dict[tuple, list[Hazard]]]:
    """The ledger's hazards the rows may be: those of their numbers, and those of their unit, place, description
    and day found (KEY); by number, and by KEY."""
    wanted = pd.DataFrame([(r.get("number"), r.get("subsidiary"), _text(r, "place"), _text(r, "description"),
                            r.get("found_on")) for r in rows],
                          columns=["number", "subsidiary", "place", "description", "found_on"], dtype=object)
    with store.registered(con, wanted):
        cursor = con.execute(CANDIDATES)
        names = [d[0] for d in cursor.description]
        found = [_record(dict(zip(names, values))) for values in cursor.fetchall()]
    by_key: dict[tuple, list[Hazard]] = {}
    for h in found:
        by_key.setdefault((h.subsidiary, h.place.strip(), h.description.strip(), h.found_on), []).append(h)
    return {h.number: h for h in found}, by_key


_HAZARD_FIELDS = frozenset(f.name for f in fields(Hazard))
_NEW_FIELDS = tuple(f.name for f in fields(NewHazard))


def _record(values: dict) -> Hazard:
    """A hazard from its row as DuckDB returns it (dates as dates, NULL as None)."""
    known = {k: v for k, v in values.items() if k in _HAZARD_FIELDS}
    return Hazard(**known | {"state": State(known["state"])})


def _plan(rows: list[dict], sheet: _Sheet, stored: dict[str, Hazard], by_key: dict[tuple, list[Hazard]],
          vocabulary: Vocabulary, unit_codes: list[str], allowed: Collection[str] | None, actor: str, today: date,
          bad: set[tuple[int, str]], problems: list[Problem]) -> _Plan:
    plan = _Plan()
    seen: dict[object, int] = {}
    missing = _missing_columns(rows, sheet, problems)
    for row in rows:
        known, hazard = _which(row, sheet, stored, by_key, problems)
        if not known:
            continue
        unit = hazard.subsidiary if hazard else row.get("subsidiary")
        if allowed is not None and unit is not None and unit not in allowed:
            column = "subsidiary" if row.get("subsidiary_text") or not row.get("number") else "number"
            problems += foreign_unit_problems(pd.DataFrame([{"row": row["row"], "subsidiary": unit}]), allowed,
                                              sheet.headers.get(column, BY_ROLE[column].zh))
            continue
        identity = hazard.number if hazard else ("new", unit, *(_text(row, r) for r in KEY[1:]))
        if identity in seen:
            problems.append(_twice(row, sheet, seen[identity], hazard))
            continue
        seen[identity] = row["row"]
        if hazard:
            update = _update(row, hazard, sheet, actor, today, bad, problems)
            if update is not None:
                plan.updates.append((row, hazard, update))
        elif unit is not None and not missing:
            new = _register(row, unit, sheet, vocabulary, unit_codes, actor, today, bad, problems)
            if new is not None:
                plan.new.append((row, *new))
    return plan


def _text(row: dict, role: str):
    value = row.get(role)
    return value.strip() if isinstance(value, str) else value


def _missing_columns(rows: list[dict], sheet: _Sheet, problems: list[Problem]) -> bool:
    """Whether a column that registering needs is missing while some row has no number (one error per column, at
    the header)."""
    if not any(not r.get("number") for r in rows):
        return False
    lacking = [BY_ROLE[r] for r in NEEDED if r not in sheet.headers]
    if "subsidiary" not in sheet.headers and "subsidiary_name" not in sheet.headers:
        lacking.insert(0, BY_ROLE["subsidiary"])
    for column in lacking:
        problems.append(Problem(sheet.header_row, None, None, f"the file has no column {column.zh} ({column.en}), "
                                f"which a hazard without a number needs to be registered: add it as in the template",
                                message_zh=f"文件缺少“{column.zh}”列，未填隐患编号的新隐患登记时必须填写：请按模板补上该列"))
    return bool(lacking)


def _which(row: dict, sheet: _Sheet, stored: dict[str, Hazard], by_key: dict[tuple, list[Hazard]],
           problems: list[Problem]) -> tuple[bool, Hazard | None]:
    """The ledger's hazard the row is (None: a new one), or (False, None) where it can be neither (reported)."""
    number = row.get("number")
    if number:
        if number not in stored:
            problems.append(Problem(row["row"], sheet.headers["number"], number,
                                    "the ledger holds no hazard with this number: leave 隐患编号 blank for a new "
                                    "hazard (the ledger numbers it), or correct the number",
                                    message_zh="台账中没有这个编号的隐患：新发现的隐患请不填隐患编号（由系统编号），"
                                               "已登记的隐患请核对编号"))
            return False, None
        return True, stored[number]
    if row.get("subsidiary") is None:
        return False, None
    matches = by_key.get((row["subsidiary"], *(_text(row, r) for r in KEY[1:])), [])
    if len(matches) > 1:
        numbers = ", ".join(h.number for h in matches)
        problems.append(Problem(row["row"], sheet.headers.get("description"), row.get("description_text"),
                                f"the ledger holds {len(matches)} hazards of this unit, place, description and day "
                                f"found ({numbers}): write the 隐患编号 of the one this row is",
                                message_zh=f"台账中有 {len(matches)} 条单位、部位、描述和发现日期都相同的隐患"
                                           f"（{'、'.join(h.number for h in matches)}）：请填写本行对应的隐患编号"))
        return False, None
    return True, matches[0] if matches else None


def _twice(row: dict, sheet: _Sheet, first: int, hazard: Hazard | None) -> Problem:
    if hazard is not None:
        return Problem(row["row"], sheet.headers.get("number") or sheet.headers.get("description"),
                       row.get("number_text") or row.get("description_text"),
                       f"the same hazard ({hazard.number}) as row {first}: keep one of the two rows",
                       message_zh=f"与第 {first} 行是同一隐患（{hazard.number}）：两行只保留一行")
    return Problem(row["row"], sheet.headers.get("description"), row.get("description_text"),
                   f"the same unit, place, description and day found as row {first}: keep one of the two rows, or "
                   f"describe the two hazards apart", message_zh=f"单位、部位、描述和发现日期与第 {first} 行相同："
                                                                 f"两行只保留一行，或分别写明两处隐患")


def _equal(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) < 1e-9
    return (a.strip() if isinstance(a, str) else a) == (b.strip() if isinstance(b, str) else b)


def _update(row: dict, hazard: Hazard, sheet: _Sheet, actor: str, today: date, bad: set[tuple[int, str]],
            problems: list[Problem]) -> Hazard | None:
    """The hazard once the row's 五定 are set through the `update` step (None: the row changes nothing, or is
    refused: reported). What registering recorded is not the import's to change."""
    if row.get("subsidiary") is not None and row["subsidiary"] != hazard.subsidiary:
        problems.append(_differs(row, sheet, "subsidiary", hazard.subsidiary))
    for role in REGISTRATION:
        given = row.get(role)
        if given is not None and not _equal(given, getattr(hazard, role)):
            problems.append(_differs(row, sheet, role, getattr(hazard, role)))
    values = {r: row[r] for r in FIVE_FIXES if row.get(r) is not None and not _equal(row[r], getattr(hazard, r))}
    if "deadline" in values and hazard.state is not State.REGISTERED:
        if values["deadline"] == hazard.original_deadline:
            values.pop("deadline")  # the file keeps the deadline first set; an extension moved it since
        else:
            problems.append(_deadline_moves(row, sheet, hazard))
            return None
    if not values:
        return None
    change = Change(actor, today, "", values)
    reasons = hazards.refusals(hazard, STEPS["update"], change)
    if reasons:
        _reasons(row, reasons, sheet, bad, "number", problems)
        return None
    after = hazards._after(hazard, STEPS["update"], change)
    if after.deadline != hazard.deadline:  # as hazards.take dates a new deadline
        after = replace(after, deadline_since=today if after.deadline else None)
    return after


def _differs(row: dict, sheet: _Sheet, role: str, stored) -> Problem:
    """A registration field of a row that is not as the ledger holds it (a list's value by its name)."""
    column = BY_ROLE[role]
    shown = {lang: f"{stored:%Y-%m-%d}" if isinstance(stored, date) else
             load_vocabulary().name(role, stored, lang) if role in LISTS and stored else stored
             for lang in ("zh", "en")}
    header = sheet.headers.get(role) or (sheet.headers.get("subsidiary_name") if role == "subsidiary" else None)
    return Problem(row["row"], header, row.get(f"{role}_text") or row.get("subsidiary_text"),
                   f"differs from the ledger's {column.en} of {row.get('number') or 'this hazard'} ({shown['en']}); "
                   f"an import sets only the five fixes of a hazard the ledger holds: write it as the ledger has it",
                   message_zh=f"与台账中该隐患的{column.zh}（{shown['zh']}）不同；导入只修改已登记隐患的五定："
                              f"请按台账填写")


def _deadline_moves(row: dict, sheet: _Sheet, hazard: Hazard) -> Problem:
    return Problem(row["row"], sheet.headers["deadline"], row.get("deadline_text"),
                   f"{hazard.number} has been issued with the deadline {hazard.deadline:%Y-%m-%d}: a deadline moves "
                   f"only by an extension, on the hazard ledger page; write the deadline as the ledger has it",
                   message_zh=f"隐患 {hazard.number} 已下达整改，整改期限为 {hazard.deadline:%Y-%m-%d}；期限只能"
                              f"通过延期变更（在隐患台账页面办理）：请按台账填写")


def _register(row: dict, unit: str, sheet: _Sheet, vocabulary: Vocabulary, unit_codes: list[str], actor: str,
              today: date, bad: set[tuple[int, str]], problems: list[Problem]) -> tuple[NewHazard, bool] | None:
    """The row as a new hazard and whether it is issued at once (None: refused, reported)."""
    for role in ("source", "level", "factor", "accident_type", "found_on"):
        if row.get(role) is None and (row["row"], role) not in bad:
            column = BY_ROLE[role]
            choices = "、".join(t.name.zh for t in vocabulary.terms[role]) if role in LISTS else "如 2026-11-02"
            problems.append(Problem(row["row"], sheet.headers[role], "", f"give the {column.en} of the hazard",
                                    message_zh=f"请填写{column.zh}（{choices}）"))
            bad.add((row["row"], role))
    placeholder = (row["row"], "found_on") in bad
    if placeholder:
        bad.add((row["row"], "deadline"))  # a deadline cannot be judged against a day found that is not there
    new = NewHazard(unit, row.get("source") or "", row.get("place") or "", row.get("description") or "",
                    row.get("level") or "", row.get("factor") or "", row.get("accident_type") or "",
                    row.get("found_on") or today, row.get("found_by") or "", criterion=row.get("criterion"),
                    clause=row.get("clause"), **{r: row.get(r) for r in FIVE_FIXES})
    refused = _reasons(row, hazards.check_new(new, vocabulary, unit_codes), sheet, bad, None, problems)
    if refused or any((row["row"], role) in bad for role in BY_ROLE):
        return None
    provisional = Hazard(number="", subsidiary=unit, year=new.found_on.year, sequence=0, state=State.REGISTERED,
                         created_at=datetime.min, updated_at=datetime.min,
                         **{f.name: getattr(new, f.name) for f in fields(NewHazard) if f.name != "subsidiary"})
    reasons = hazards.refusals(provisional, STEPS["issue"], Change(actor, today))
    incomplete = [r for r in reasons if r in (hazards.NO_FIVE_FIXES.reason, hazards.NO_CONTINGENCY.reason)]
    if _reasons(row, [r for r in reasons if r not in incomplete], sheet, bad, None, problems):
        return None
    if incomplete and any(row.get(r) is not None for r in FIVE_FIXES):
        problems.append(Problem(row["row"], None, None, "registered, not yet issued for rectification ("
                                + "; ".join(r.en for r in incomplete) + ")", Level.WARNING,
                                message_zh="已登记，暂不下达整改。" + "；".join(r.zh for r in incomplete)))
    return new, not incomplete


# Writing -------------------------------------------------------------------------------------------------------------

def _numbered(con: Connection, plan: _Plan) -> list[tuple[str, int]]:
    """The number and sequence each new hazard gets: unit-year-sequence in the order of the file, as
    hazards.register numbers them."""
    units = sorted({new.subsidiary for _, new, _ in plan.new})
    last = {(r.subsidiary, int(r.year)): int(r.sequence) for r in
            store.query(con, SEQUENCES, {"units": units}).itertuples(index=False)} if units else {}
    numbers = []
    for _, new, _ in plan.new:
        at = (new.subsidiary, new.found_on.year)
        last[at] = last.get(at, 0) + 1
        numbers.append((f"{new.subsidiary}-{at[1]}-{last[at]:04d}", last[at]))
    return numbers


_DETAIL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)
"""An event's detail as hazards.py's steps write it (json.dumps with these options, its encoder made once)."""
_EVENT_COLUMNS = ["number", "happened_at", "actor", "action", "from_state", "to_state", "comment", "detail"]


def _events(rows: list[tuple], actor: str, now: datetime, source: dict) -> pd.DataFrame:
    """rows: (number, action, from state, to state, detail); built column by column (a frame from one dictionary
    per row costs as much again)."""
    if not rows:
        return pd.DataFrame(columns=_EVENT_COLUMNS)
    numbers, actions, befores, afters, details = zip(*rows)
    return pd.DataFrame({"number": numbers, "happened_at": [now] * len(rows), "actor": actor, "action": actions,
                         "from_state": [before.value if before else None for before in befores],
                         "to_state": [after.value for after in afters], "comment": "",
                         "detail": [_DETAIL.encode(detail | source) for detail in details]}, columns=_EVENT_COLUMNS)


def _insert_events(con: Connection, frame: pd.DataFrame) -> dict[str, int]:
    if frame.empty:
        return {}
    with store.registered(con, frame):
        return {number: int(event) for event, number in con.execute(INSERT_EVENTS).fetchall()}


def _insert_deadlines(con: Connection, rows: list[tuple[str, date, date, int]]) -> None:
    if rows:
        frame = pd.DataFrame(rows, columns=["number", "effective_from", "deadline", "event_id"])
        with store.registered(con, frame):
            con.execute(INSERT_DEADLINES)


def _write(con: Connection, plan: _Plan, sequences: list[tuple[str, int]], *, actor: str, today: date,
           now: datetime, source: dict) -> None:
    """The plan's hazards, events and deadlines, as hazards.register, `issue` and `update` write them, inside the
    caller's transaction."""
    numbers = [number for number, _ in sequences]
    if plan.new:
        given = [{f: getattr(new, f) for f in _NEW_FIELDS} for _, new, _ in plan.new]  # asdict, without its deep copy
        count = len(given)
        columns = {f: [values[f] for values in given] for f in _NEW_FIELDS}
        frame = pd.DataFrame(columns | {
            "funds": pd.Series(columns["funds"], dtype=object),  # None stays NULL (a float column would hold NaN)
            "number": numbers, "year": [new.found_on.year for _, new, _ in plan.new],
            "sequence": [sequence for _, sequence in sequences],
            "state": [(State.RECTIFYING if issued else State.REGISTERED).value for _, _, issued in plan.new],
            "original_deadline": columns["deadline"], "sent_back": [0] * count, "extensions": [0] * count,
            "deadline_since": [new.found_on if new.deadline else None for _, new, _ in plan.new],
            "created_at": [now] * count, "updated_at": [now] * count,
            **{name: [None] * count for name in ("requested_deadline", "rectified_on", "verified_on", "verified_by",
                                                  "closed_on", "result", "void_reason", "void_approver")}})
        with store.registered(con, frame):
            con.execute(hazards.INSERT_HAZARD)
        registered = _insert_events(con, _events(
            [(n, "register", None, State.REGISTERED, {"hazard": values}) for values, n in zip(given, numbers)],
            actor, now, source))
        _insert_events(con, _events([(n, "issue", State.REGISTERED, State.RECTIFYING, {})
                                     for (_, _, issued), n in zip(plan.new, numbers) if issued], actor, now, source))
        _insert_deadlines(con, [(n, new.found_on, new.deadline, registered[n]) for (_, new, _), n in
                                zip(plan.new, numbers) if new.deadline is not None])
    if plan.updates:
        frame = pd.DataFrame([{"number": after.number, **{r: getattr(after, r) for r in FIVE_FIXES},
                               "deadline_since": after.deadline_since, "original_deadline": after.original_deadline,
                               "updated_at": now}
                              for _, _, after in plan.updates]).astype({"funds": object})
        with store.registered(con, frame):
            con.execute(UPDATE_FIVE_FIXES)
        updated = _insert_events(con, _events(
            [(after.number, "update", before.state, after.state, hazards._changed(before, after))
             for _, before, after in plan.updates], actor, now, source))
        _insert_deadlines(con, [(after.number, today, after.deadline, updated[after.number])
                                for _, before, after in plan.updates
                                if after.deadline is not None and after.deadline != before.deadline])


def import_file(con: Connection, data: bytes, file_name: str, *, actor: str, allowed_units: Collection[str] | None
                = None, dry_run: bool = False, raw_directory: Path | None = None, today: date | None = None,
                limits: Limits | None = None, record_rejection: bool | None = None,
                now: datetime | None = None) -> HazardImport:
    """Check the findings workbook whole; unless it is rejected, unchanged or a dry run, commit it in one
    transaction. `allowed_units`: the only units its rows may be of (a unit user's; None: any). Every import that
    is not a dry run is on the audit trail, one row (`record_rejection` also records a rejected dry run). The file
    is kept in `raw_directory` while it is imported, and for good once committed (upload.kept_while_read)."""
    with kept_while_read(con, data, file_name, None if dry_run else raw_directory):
        return _checked_and_committed(con, data, file_name, actor=actor, allowed_units=allowed_units,
                                      dry_run=dry_run, today=today or clock.today(), limits=limits or load_limits(),
                                      record_rejection=record_rejection, now=now)


def _checked_and_committed(con: Connection, data: bytes, file_name: str, *, actor: str,
                           allowed_units: Collection[str] | None, dry_run: bool, today: date, limits: Limits,
                           record_rejection: bool | None, now: datetime | None) -> HazardImport:
    digest = hashlib.sha256(data).hexdigest()
    problems: list[Problem] = []
    sheet = read_sheet(data, file_name, limits, problems)
    plan, rows = _Plan(), 0
    if sheet is not None:
        rows = len(sheet.frame)
        plan = _checked(con, sheet, actor=actor, allowed_units=allowed_units, today=today, problems=problems)
        if not rows and not errors(problems):
            problems.append(Problem(None, None, None, "the file has no data rows under its header",
                                    message_zh="文件表头下没有数据行"))
    problems.sort(key=lambda p: (p.row or 0, p.level is Level.WARNING))
    error_count = len(errors(problems))
    result = HazardImport("rejected", digest, listed(problems), rows=rows, dry_run=dry_run, error_count=error_count,
                          warning_count=len(problems) - error_count)
    detail = {"file": file_name, "sha256": digest, "bytes": len(data), "what": "hazards"}
    if error_count:
        if not dry_run if record_rejection is None else record_rejection:
            audit.record(con, actor, Action.UPLOAD_REJECTED, target=file_name, outcome=Outcome.REFUSED,
                         detail=detail | {"errors": error_count, "first_errors": [str(p) for p in result.errors[:5]]})
        return result
    if not plan.new and not plan.updates:
        result.status = "unchanged"
        if not dry_run:
            audit.record(con, actor, Action.UPLOAD_UNCHANGED, target=file_name, detail=detail)
        return result
    result.status = "committed"
    if dry_run:
        _counted(result, plan, [number for number, _ in _numbered(con, plan)])
        return result
    now = now or datetime.now()  # the trail's clock is the machine's (metrics/core/clock.py)
    with store.transaction(con):
        sequences = _numbered(con, plan)
        _write(con, plan, sequences, actor=actor, today=today, now=now, source={"file": file_name, "sha256": digest})
        _counted(result, plan, [number for number, _ in sequences])
        audit.record(con, actor, Action.HAZARD_IMPORT, target=file_name, at=now,
                     detail={k: v for k, v in detail.items() if k != "what"} |
                     {"rows": rows, "registered": len(result.registered), "issued": len(result.issued),
                      "updated": len(result.updated),
                      "units": sorted({n.subsidiary for _, n, _ in plan.new} | {b.subsidiary for _, b, _ in
                                                                                plan.updates})})
    return result


def _counted(result: HazardImport, plan: _Plan, numbers: list[str]) -> None:
    result.registered = numbers
    result.issued = [n for (_, _, issued), n in zip(plan.new, numbers) if issued]
    result.updated = [after.number for _, _, after in plan.updates]


def _checked(con: Connection, sheet: _Sheet, *, actor: str, allowed_units: Collection[str] | None, today: date,
             problems: list[Problem]) -> _Plan:
    """Every problem of the sheet's rows, and what they write."""
    vocabulary = load_vocabulary()
    units = store.query(con, schema.SELECT_UNITS)
    unit_of = _units_of(sheet, units, problems)
    rows, bad = _parsed(sheet.records, sheet.headers, vocabulary, problems)
    named = next((sheet.frame[r] for r in ("subsidiary", "subsidiary_name") if r in sheet.headers),
                 pd.Series("", index=sheet.frame.index))
    for row, unit, text in zip(rows, unit_of, named):
        row["subsidiary"], row["subsidiary_text"] = unit if isinstance(unit, str) else None, str(text).strip()
    stored, by_key = _stored(con, rows)
    return _plan(rows, sheet, stored, by_key, vocabulary, units["code"].tolist(), allowed_units, actor, today, bad,
                 problems)


# The template ------------------------------------------------------------------------------------------------------

def template_file(fmt: str, vocabulary: Vocabulary | None = None) -> bytes:
    """The findings workbook to fill in: one column per field under its Chinese header, no rows (CSV in UTF-8 with
    BOM; the .xlsx also lists every list's names on a second sheet, 可选项)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown template format {fmt!r}; use one of {', '.join(FORMATS)}")
    frame = pd.DataFrame(columns=[c.zh for c in COLUMNS])
    if fmt == "csv":
        return exports.csv_bytes(frame)
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    vocabulary = vocabulary or load_vocabulary()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "隐患台账"
    for at, column in enumerate(COLUMNS, start=1):
        cell = exports.write_cell(sheet, 1, at, column.zh)
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
        sheet.column_dimensions[cell.column_letter].width = 30 if column.role in ("description", "measures") else 14
    sheet.freeze_panes = "A2"
    choices = workbook.create_sheet("可选项")
    for at, kind in enumerate(LISTS, start=1):
        exports.write_cell(choices, 1, at, BY_ROLE[kind].zh).font = Font(bold=True)
        for line, term in enumerate(vocabulary.terms[kind], start=2):
            exports.write_cell(choices, line, at, term.name.zh)
        choices.column_dimensions[choices.cell(row=1, column=at).column_letter].width = 24
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_name(fmt: str) -> str:
    return f"{TEMPLATE_NAME}.{fmt}"

