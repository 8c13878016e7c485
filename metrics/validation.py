"""Validating uploaded cells against the catalog, the units and the unit's own history. Pure: no store, no file.

Errors reject the whole file; warnings are shown and committed with it (see problems.gate).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date

import pandas as pd

from metrics.catalog import Catalog, Kind
from metrics.months import add_months, iso_month, parse_month
from metrics.parsing import key, parse_number
from metrics.problems import Level, Problem
from metrics.shape import Cells

HOURS_JUMP = 10.0
HOURS_PER_EMPLOYEE = (8.0, 375.0)
CONTEXT_INDICATORS = ("hours_worked", "avg_employees", "staff_requiring_cert", "staff_certified")
OBSERVATION_COLUMNS = ["month", "subsidiary", "indicator", "value", "row"]


@dataclass(frozen=True)
class Reference:
    catalog: Catalog
    units: pd.DataFrame
    """code, name_zh, name_en of every subsidiary."""
    today: date
    context: pd.DataFrame | None = None
    """Stored values (month, subsidiary, indicator, value) of CONTEXT_INDICATORS around the file's months."""


@dataclass(frozen=True)
class Validated:
    observations: pd.DataFrame
    """month (date), subsidiary, indicator, value (float), row: one row per reported value."""
    problems: list[Problem]


_WHAT_ZH = {"unit": "单位", "indicator": "指标"}


def _lookup(names: dict[str, str], choices: list[str], what: str, column: str, cells: pd.Series,
            rows: pd.Series, problems: list[Problem]) -> pd.Series:
    """Map texts to codes via `names` (key -> code); report each unknown text with the closest choice."""
    unique = pd.unique(cells)
    resolved = {text: names.get(key(text)) for text in unique}
    mapped = cells.map(resolved)
    for index in mapped.index[mapped.isna()]:
        text = cells[index]
        if not text:
            problems.append(Problem(int(rows[index]), column, "", f"the {what} is missing",
                                    message_zh=f"缺少{_WHAT_ZH[what]}"))
            continue
        close = difflib.get_close_matches(text, choices, n=1, cutoff=0.4)
        hint = f"; did you mean {close[0]}?" if close else ""
        hint_zh = f"；是否应为“{close[0]}”？" if close else ""
        problems.append(Problem(int(rows[index]), column, text, f"unknown {what}{hint}",
                                message_zh=f"无法识别的{_WHAT_ZH[what]}{hint_zh}"))
    return mapped


def _unit_names(units: pd.DataFrame) -> dict[str, str]:
    names = {}
    for u in units.itertuples(index=False):
        for text in (u.name_en, u.name_zh, u.code):
            names[key(text)] = u.code
    return names


def _indicator_names(catalog: Catalog) -> dict[str, str]:
    names = {}
    for ind in catalog.indicators:
        for text in (ind.name_en, ind.name_zh, ind.code):
            names[key(text)] = ind.code
    return names


def indicator_header_keys(catalog: Catalog) -> dict[str, str]:
    """Header texts that name an indicator column in the wide shape."""
    return _indicator_names(catalog)


def _months(cells: pd.Series, rows: pd.Series, column: str, today: date,
            problems: list[Problem]) -> pd.Series:
    parsed: dict[str, date | None] = {}
    messages: dict[str, tuple[str, str]] = {}
    current = date(today.year, today.month, 1)
    for text in pd.unique(cells):
        try:
            month = parse_month(text)
        except ValueError as exc:
            parsed[text] = None
            messages[text] = (str(exc), f"无法识别的月份“{text}”：请写成 2026-10、2026/10、2026年10月 或 202610") \
                if text else ("the month is missing", "缺少月份")
            continue
        if month > current:
            parsed[text] = None
            messages[text] = (f"{iso_month(month)} is in the future; check the year and the month",
                              f"{month.year}年{month.month}月尚未到来：请检查年份和月份")
        else:
            parsed[text] = month
    mapped = cells.map(parsed)
    for index in mapped.index[mapped.isna()]:
        english, chinese = messages[cells[index]]
        problems.append(Problem(int(rows[index]), column, cells[index], english, message_zh=chinese))
    return mapped


def _values(frame: pd.DataFrame, catalog: Catalog, problems: list[Problem]) -> pd.Series:
    parsed: dict[str, float | None] = {}
    for text in pd.unique(frame["value"]):
        try:
            parsed[text] = parse_number(text)
        except ValueError:
            parsed[text] = None
    values = frame["value"].map(parsed).astype("float64")
    counts = {i.code for i in catalog.indicators if i.kind is Kind.COUNT}
    bad_number = values.isna()
    negative = values < 0
    fraction = frame["indicator"].isin(counts) & (values % 1 != 0) & ~bad_number
    for index in frame.index[bad_number | negative | fraction]:
        r = frame.loc[index]
        if bad_number[index]:
            message = "not a number; write digits such as 1234, 1,234.5 or 1.5E+05"
            chinese = "不是数字：请填写如 1234、1,234.5 或 1.5E+05 的数值"
        elif negative[index]:
            message, chinese = "a value cannot be negative", "数值不能为负"
        else:
            message = f"{r['indicator']} counts whole events or people: a fraction is an input error"
            chinese = "该指标按起数或人数计，只能是整数：小数是填报错误"
        problems.append(Problem(int(r["row"]), r["value_column"], r["value"], message, message_zh=chinese))
    return values.where(~(bad_number | negative | fraction))


def _duplicates(obs: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    keys = ["month", "subsidiary", "indicator"]
    dup = obs[obs.duplicated(keys, keep=False)]
    if dup.empty:
        return obs
    for (month, unit, indicator), group in dup.groupby(keys, sort=False):
        rows = ", ".join(str(r) for r in group["row"])
        if group["value"].nunique() > 1:
            for r in group.itertuples(index=False):
                problems.append(Problem(int(r.row), r.value_column, r.value_text,
                                        f"conflicting values for {unit} / {indicator} / {iso_month(month)} "
                                        f"on rows {rows}: keep one",
                                        message_zh=f"{unit} / {indicator} / {iso_month(month)} 在第 {rows} 行的"
                                                   f"数值互相矛盾：只保留一行"))
        else:
            first = group.iloc[0]
            problems.append(Problem(int(first["row"]), first["value_column"], first["value_text"],
                                    f"the same value for {unit} / {indicator} / {iso_month(month)} appears on "
                                    f"rows {rows}; it is written once", Level.WARNING,
                                    message_zh=f"{unit} / {indicator} / {iso_month(month)} 在第 {rows} 行重复且"
                                               f"数值相同：只写入一次"))
    return obs.drop_duplicates(keys, keep="first")


def _context_warnings(obs: pd.DataFrame, context: pd.DataFrame | None, problems: list[Problem]) -> None:
    """Hours ten times (or a tenth of) last month's, hours per employee outside 8–375, certified > required."""
    mine = obs[obs["indicator"].isin(CONTEXT_INDICATORS)][["month", "subsidiary", "indicator", "value", "row"]]
    if mine.empty:
        return
    stored = context if context is not None else pd.DataFrame(columns=["month", "subsidiary", "indicator", "value"])
    stored = stored.assign(row=pd.NA)
    combined = pd.concat([stored[["month", "subsidiary", "indicator", "value", "row"]], mine])
    combined = combined.drop_duplicates(["month", "subsidiary", "indicator"], keep="last")
    wide = combined.pivot_table(index=["subsidiary", "month"], columns="indicator", values="value",
                                aggfunc="last")
    cells = obs[obs["indicator"].isin(CONTEXT_INDICATORS)].set_index(["subsidiary", "month", "indicator"])
    rows = cells["row"]

    def problem(unit, month, indicators, message, chinese):
        for indicator in indicators:
            if (unit, month, indicator) in cells.index:
                c = cells.loc[(unit, month, indicator)]
                problems.append(Problem(int(c["row"]), c["value_column"], c["value_text"], message, Level.WARNING,
                                        message_zh=chinese))
                return
    for column in CONTEXT_INDICATORS:
        if column not in wide:
            wide[column] = float("nan")

    for (unit, month), r in wide.iterrows():
        hours, people = r["hours_worked"], r["avg_employees"]
        in_file = (unit, month, "hours_worked") in rows.index or (unit, month, "avg_employees") in rows.index
        if not in_file:
            continue
        previous = wide["hours_worked"].get((unit, add_months(month, -1)))
        if (unit, month, "hours_worked") in rows.index and previous and previous > 0 and hours == hours:
            if hours >= HOURS_JUMP * previous or hours * HOURS_JUMP <= previous:
                problem(unit, month, ["hours_worked"],
                        f"hours worked are {hours / previous:.1f}× last month's {previous:,.0f} for {unit}: "
                        f"check the unit (hours, not 万小时)",
                        f"{unit} 的实际工时是上月 {previous:,.0f} 的 {hours / previous:.1f} 倍：请检查单位（小时，不是万小时）")
        if hours == hours and people == people and people > 0:
            per_head = hours / people
            low, high = HOURS_PER_EMPLOYEE
            if not low <= per_head <= high:
                problem(unit, month, ["hours_worked", "avg_employees"],
                        f"{per_head:.1f} hours per employee in {iso_month(month)} for {unit} is outside "
                        f"{low:g}–{high:g}: check hours worked and average employees",
                        f"{unit} {iso_month(month)} 人均工时 {per_head:.1f} 小时，超出 {low:g}–{high:g}：请检查实际工时和"
                        f"平均职工人数")
    checks = wide[["staff_certified", "staff_requiring_cert"]].dropna()
    for (unit, month), r in checks[checks["staff_certified"] > checks["staff_requiring_cert"]].iterrows():
        problem(unit, month, ["staff_certified", "staff_requiring_cert"],
                f"more certified staff ({r['staff_certified']:,.0f}) than staff requiring certification "
                f"({r['staff_requiring_cert']:,.0f})",
                f"持证上岗人数（{r['staff_certified']:,.0f}）多于应持证人数（{r['staff_requiring_cert']:,.0f}）")


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """One report per problem: a wide row's unit or month is checked once, not once per value cell."""
    return list(dict.fromkeys(problems))


def validate(cells: Cells, ref: Reference) -> Validated:
    """Every problem of the file, and the observations it would write.

    Every data row's month, unit (and, long, indicator) is checked even when its value is blank, so a stray
    text row is reported rather than read as "not reported"; only non-blank values are parsed and written.
    """
    problems = list(cells.problems)
    everything = cells.frame.reset_index(drop=True)
    headers = cells.headers
    catalog = ref.catalog
    by_row = everything.drop_duplicates("row")
    month_of_row = dict(zip(by_row["row"], _months(by_row["month"], by_row["row"], headers.get("month", "month"),
                                                   ref.today, problems)))
    unit_codes = list(ref.units["code"])
    unit_of_row = dict(zip(by_row["row"], _lookup(
        _unit_names(ref.units), list(ref.units["name_zh"]) + unit_codes, "unit",
        headers.get("subsidiary", "subsidiary"), by_row["subsidiary"], by_row["row"], problems)))
    if cells.shape == "long":
        indicators = _lookup(_indicator_names(catalog), [i.name_zh for i in catalog.indicators] + catalog.codes,
                             "indicator", headers.get("indicator", "indicator"), everything["indicator"],
                             everything["row"], problems)
    else:
        indicators = everything["indicator"]
    everything = everything.assign(indicator=indicators, indicator_text=everything["indicator"])
    frame = everything[everything["value"] != ""].reset_index(drop=True)
    if frame.empty:
        if not any(p.level is Level.ERROR for p in problems):
            problems.append(Problem(None, None, None, "the file has no data rows (every value cell is empty)",
                                    message_zh="文件没有数据行（所有数值单元格都是空的）"))
        return Validated(pd.DataFrame(columns=OBSERVATION_COLUMNS), _dedupe(problems))
    derived = {i.code for i in catalog.derived}
    is_derived = frame["indicator"].isin(derived)
    reported: set[tuple] = set()
    for index in frame.index[is_derived]:
        r = frame.loc[index]
        column = headers.get("indicator", r["value_column"]) if cells.shape == "long" else r["value_column"]
        if cells.shape == "wide" and r["value_column"] in reported:
            continue
        reported.add(r["value_column"])
        written = r["indicator_text"] if cells.shape == "long" else r["value_column"]
        problems.append(Problem(int(r["row"]), column, written,
                                f"{r['indicator']} is computed by the system from its inputs; leave it out of "
                                f"the file", message_zh="该指标由系统根据基础指标计算，请勿填报"))
    values = _values(frame, catalog, problems)
    obs = pd.DataFrame({"month": frame["row"].map(month_of_row), "subsidiary": frame["row"].map(unit_of_row),
                        "indicator": frame["indicator"], "value": values, "row": frame["row"],
                        "value_column": frame["value_column"], "value_text": frame["value"]})
    obs = obs[obs[OBSERVATION_COLUMNS].notna().all(axis=1) & ~is_derived].reset_index(drop=True)
    obs = _duplicates(obs, problems)
    _context_warnings(obs, ref.context, problems)
    problems = _dedupe(problems)
    problems.sort(key=lambda p: (p.row or 0, p.level is Level.WARNING))
    return Validated(obs[OBSERVATION_COLUMNS].reset_index(drop=True), problems)
