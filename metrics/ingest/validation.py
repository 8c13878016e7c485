"""Validating uploaded cells against the catalog, the units and the unit's own history. Pure: no store, no file.

Errors reject the whole file; warnings are shown and committed with it (see problems.gate).
"""
from __future__ import annotations

import difflib
import operator
from dataclasses import dataclass, field
from datetime import date
from functools import reduce

import numpy as np
import pandas as pd

from metrics.core.catalog import Catalog, Kind
from metrics.core.codes import AVG_EMPLOYEES, HOURS_WORKED
from metrics.core.months import add_months, iso_month, parse_month
from metrics.core.parsing import key, name_index, parse_number
from metrics.core.problems import Level, Problem, rows_named
from metrics.core.reporting import earliest_month
from metrics.ingest.shape import SECOND_NAME, Cells

HOURS_JUMP = 10.0
HOURS_PER_EMPLOYEE = (8.0, 375.0)
CONTEXT_INDICATORS = (HOURS_WORKED, AVG_EMPLOYEES, "staff_requiring_cert", "staff_certified")
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
_ROLE_EN = {"subsidiary": "unit code", "subsidiary_name": "unit name", "indicator": "indicator code",
            "indicator_name": "indicator name"}


def _convert(texts: pd.Series, convert) -> tuple[pd.Series, dict]:
    """Apply `convert` once per distinct text (a file repeats its months, units and indicators)."""
    codes, uniques = pd.factorize(texts, use_na_sentinel=False)
    resolved = {text: convert(text) for text in uniques}
    values = np.array([resolved[text] for text in uniques] + [None], dtype=object)
    return pd.Series(values[codes], index=texts.index), resolved


@dataclass(frozen=True)
class Names:
    """How a file may name one kind of thing (a unit, an indicator): by its code or by one of its names."""
    what: str  # "unit" or "indicator"
    role: str  # its column's role in shape.ALIASES ("subsidiary", "indicator")
    index: dict[str, str]
    """key(any spelling) -> code."""
    labels: dict[str, tuple[str, str]]
    """code -> (Chinese name, English name)."""
    shared: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """key(a name) -> the codes of the units that share it, in a store from before names were unique (units
    import refuses a name another unit has): it finds no unit, the row must give the code."""

    @property
    def choices(self) -> list[str]:
        """What a near miss is matched against: the Chinese names, then the codes."""
        return [zh for zh, _ in self.labels.values()] + list(self.labels)

    def meaning(self, text: str, code: str) -> str:
        """What a cell means, in the other spelling: the name of a code, the code of a name."""
        return self.labels[code][0] if key(text) == key(code) else code


def _unit_names(units: pd.DataFrame) -> Names:
    """Units by code or name; a code always finds its own unit, a name that more than one unit has finds none."""
    labels = {c: (zh, en) for c, zh, en in zip(units["code"], units["name_zh"], units["name_en"])}
    owners: dict[str, set[str]] = {}
    for record in zip(units["code"], units["name_en"], units["name_zh"]):
        for spelling in name_index([record]):
            owners.setdefault(spelling, set()).add(record[0])
    codes = name_index((code,) for code in units["code"])
    shared = {k: tuple(sorted(c)) for k, c in owners.items() if len(c) > 1 and k not in codes}
    index = {k: next(iter(c)) for k, c in owners.items() if len(c) == 1} | codes
    return Names("unit", "subsidiary", index, labels, shared)


def _catalog_names(catalog: Catalog) -> Names:
    labels = {i.code: (i.name_zh, i.name_en) for i in catalog.indicators}
    return Names("indicator", "indicator", _indicator_names(catalog), labels)


def _unknown(names: Names, row: int, column: str, text: str) -> Problem:
    close = difflib.get_close_matches(text, names.choices, n=1, cutoff=0.4)
    hint = f"; did you mean {close[0]}?" if close else ""
    hint_zh = f"；是否应为“{close[0]}”？" if close else ""
    return Problem(row, column, text, f"unknown {names.what}{hint}",
                   message_zh=f"无法识别的{_WHAT_ZH[names.what]}{hint_zh}")


def _missing(names: Names, row: int, columns: list[str]) -> Problem:
    what, what_zh = names.what, _WHAT_ZH[names.what]
    code, (name_zh, _) = next(iter(names.labels.items()), ("", ("", "")))
    example, example_zh = (f" (e.g. {code})", f"（如 {code} 或 {name_zh}）") if code else ("", "")
    empty = f"both the {what} code and the {what} name are empty" if len(columns) > 1 else f"the {what} is missing"
    empty_zh = f"{'和'.join(columns)}都未填写" if len(columns) > 1 else f"缺少{what_zh}"
    return Problem(row, columns[0], "", f"{empty}: write the {what}'s code{example} or its name",
                   message_zh=f"{empty_zh}：请填写{what_zh}编码或{what_zh}名称{example_zh}",
                   marks=tuple(columns) if len(columns) > 1 else ())


def _shared(row: int, column: str, text: str, codes: tuple[str, ...]) -> Problem:
    return Problem(row, column, text, f"{text} is the name of more than one unit ({', '.join(codes)}): write the "
                                      f"unit code",
                   message_zh=f"“{text}”是多个单位（{'、'.join(codes)}）的名称：请填写单位编码")


def _disagree(names: Names, row: int, columns: list[str], texts: tuple[str, str], codes: tuple[str, str]) -> Problem:
    what = names.what
    zh = [f"{column} {text}（{names.meaning(text, code)}）" for column, text, code in zip(columns, texts, codes)]
    en = [f"{_ROLE_EN[role]} {code} ({names.labels[code][1]})"
          for role, code in zip((names.role, SECOND_NAME[names.role]), codes)]
    return Problem(row, " / ".join(columns), " / ".join(texts),
                   f"the {en[0]} and the {en[1]} are not the same {what}; correct one of them",
                   message_zh=f"{zh[0]}与{zh[1]}不是同一{_WHAT_ZH[what]}：请核对后改正其中之一",
                   marks=tuple(columns))


def identify(names: Names, frame: pd.DataFrame, headers: dict[str, str], problems: list[Problem]) -> pd.Series:
    """The code each row of `frame` names in its `names.role` column (by code or name) and, where the file has
    one, the second column of shape.SECOND_NAME (the template's 单位名称 beside 单位编码).

    A row names its unit (or indicator) by either column; where it fills both, they must name the same one, and
    each must be known: a misspelt name is an error even beside a valid code. None where a row names nothing
    known or two different things (each reported once in `problems`).
    """
    first_role, second_role = names.role, SECOND_NAME[names.role]
    columns = [headers.get(first_role, first_role)] + ([headers[second_role]] if second_role in headers else [])
    texts = [frame[first_role]] + ([frame[second_role]] if len(columns) > 1 else [])
    codes = [_convert(text, lambda t: names.index.get(key(t)))[0] for text in texts]
    shared = [_convert(text, lambda t: names.shared.get(key(t)))[0] if names.shared else pd.Series(None, text.index)
              for text in texts]
    blank = [text == "" for text in texts]
    rows = frame["row"]
    unknown = [c.isna() & ~b & s.isna() for c, b, s in zip(codes, blank, shared)]
    nothing = reduce(operator.and_, blank)
    found = codes[0].where(codes[0].notna(), codes[-1])
    bad = nothing | reduce(operator.or_, unknown) | reduce(operator.or_, [s.notna() for s in shared])
    for column, text, owners in zip(columns, texts, shared):
        for index in frame.index[owners.notna()]:
            problems.append(_shared(int(rows[index]), column, text[index], owners[index]))
    if len(codes) > 1:
        differ = codes[0].notna() & codes[1].notna() & (codes[0] != codes[1])
        for index in frame.index[differ]:
            problems.append(_disagree(names, int(rows[index]), columns, (texts[0][index], texts[1][index]),
                                      (codes[0][index], codes[1][index])))
        bad |= differ
    for index in frame.index[nothing]:
        problems.append(_missing(names, int(rows[index]), columns))
    for column, text, mask in zip(columns, texts, unknown):
        for index in frame.index[mask]:
            problems.append(_unknown(names, int(rows[index]), column, text[index]))
    return found.where(~bad, None)


def _indicator_names(catalog: Catalog) -> dict[str, str]:
    return name_index((i.code, i.name_en, i.name_zh) for i in catalog.indicators)


def indicator_header_keys(catalog: Catalog) -> dict[str, str]:
    """Header texts that name an indicator column in the wide shape."""
    return _indicator_names(catalog)


def _months(cells: pd.Series, rows: pd.Series, column: str, today: date,
            problems: list[Problem]) -> pd.Series:
    messages: dict[str, tuple[str, str]] = {}
    current = date(today.year, today.month, 1)

    def month_of(text: str) -> date | None:
        try:
            month = parse_month(text)
        except ValueError as exc:
            messages[text] = (str(exc), f"无法识别的月份“{text}”：请写成 2026-10、2026/10、2026年10月 或 202610") \
                if text else ("the month is missing", "缺少月份")
            return None
        if month > current:
            messages[text] = (f"{iso_month(month)} is in the future; check the year and the month",
                              f"{month.year}年{month.month}月尚未到来：请检查年份和月份")
            return None
        if month < (first := earliest_month()):
            english = (f"{iso_month(month)} is before {iso_month(first)}, the earliest month the dashboard "
                       f"takes; check the year")
            chinese = (f"{month.year}年{month.month}月早于系统接受的最早月份（{first.year}年{first.month}月）："
                       f"请检查年份")
            messages[text] = (english, chinese)
            return None
        return month

    mapped, _ = _convert(cells, month_of)
    for index in mapped.index[mapped.isna()]:
        english, chinese = messages[cells[index]]
        problems.append(Problem(int(rows[index]), column, cells[index], english, message_zh=chinese))
    return mapped


def _values(frame: pd.DataFrame, catalog: Catalog, problems: list[Problem]) -> pd.Series:
    def number(text: str) -> float:
        try:
            return parse_number(text)
        except ValueError:
            return float("nan")

    values = _convert(frame["value"], number)[0].astype("float64")
    counts = {i.code for i in catalog.indicators if i.kind is Kind.COUNT}
    bounds = {i.code: catalog.upper_bounds.get(i.kind, np.inf) for i in catalog.indicators}
    bound = frame["indicator"].map(bounds).astype("float64")
    bad_number = values.isna()
    negative = values < 0
    too_large = values > bound
    fraction = frame["indicator"].isin(counts) & (values % 1 != 0) & ~bad_number & ~too_large
    for index in frame.index[bad_number | negative | too_large | fraction]:
        r = frame.loc[index]
        if bad_number[index]:
            message = "not a number; write digits such as 1234, 1,234.5 or 1.5E+05"
            chinese = "不是数字：请填写如 1234、1,234.5 或 1.5E+05 的数值"
        elif negative[index]:
            message, chinese = "a value cannot be negative", "数值不能为负"
        elif too_large[index]:
            indicator, most = catalog[r["indicator"]], f"{bound[index]:,.0f}"
            message = (f"more than one unit can report for a month (at most {most} {indicator.unit_en}): check the "
                       f"number and its unit of measure")
            chinese = f"超出单个单位一个月可能的数值（不超过 {most} {indicator.unit_zh}）：请核对数值及计量单位"
        else:
            message = f"{r['indicator']} counts whole events or people: a fraction is an input error"
            chinese = "该指标按起数或人数计，只能是整数：小数是填报错误"
        problems.append(Problem(int(r["row"]), r["value_column"], r["value"], message, message_zh=chinese))
    return values.where(~(bad_number | negative | too_large | fraction))


def _duplicates(obs: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    keys = ["month", "subsidiary", "indicator"]
    dup = obs[obs.duplicated(keys, keep=False)]
    if dup.empty:
        return obs
    for (month, unit, indicator), group in dup.groupby(keys, sort=False):
        rows, rows_zh = rows_named(group["row"].tolist())
        if group["value"].nunique() > 1:
            message = f"conflicting values for {unit} / {indicator} / {iso_month(month)} on rows {rows}: keep one"
            chinese = f"{unit} / {indicator} / {iso_month(month)} 的数值互相矛盾（第 {rows_zh}）：只保留一行"
            for r in group.itertuples(index=False):
                problems.append(Problem(int(r.row), r.value_column, r.value_text, message, message_zh=chinese))
        else:
            first = group.iloc[0]
            problems.append(Problem(int(first["row"]), first["value_column"], first["value_text"],
                                    f"the same value for {unit} / {indicator} / {iso_month(month)} appears on "
                                    f"rows {rows}; it is written once", Level.WARNING,
                                    message_zh=f"{unit} / {indicator} / {iso_month(month)} 重复且数值相同"
                                               f"（第 {rows_zh}）：只写入一次"))
    return obs.drop_duplicates(keys, keep="first")


def _context_warnings(obs: pd.DataFrame, context: pd.DataFrame | None, problems: list[Problem]) -> None:
    """Hours ten times (or a tenth of) last month's, hours per employee outside 8–375, certified > required.

    Judged on the file's values over the stored ones, set-wise; a loop runs only over the flagged rows.
    """
    mine = obs[obs["indicator"].isin(CONTEXT_INDICATORS)]
    if mine.empty:
        return
    keys = ["subsidiary", "month", "indicator"]
    stored = context if context is not None else pd.DataFrame(columns=keys + ["value"])
    combined = pd.concat([stored[keys + ["value"]], mine[keys + ["value"]]]).drop_duplicates(keys, keep="last")
    wide = combined.pivot_table(index=["subsidiary", "month"], columns="indicator", values="value", aggfunc="last")
    wide = wide.reindex(columns=list(CONTEXT_INDICATORS))
    cells = mine.set_index(keys)
    present = set(mine["indicator"])
    in_file = {ind: pd.Series(wide.index.isin(cells.xs(ind, level="indicator").index) if ind in present
                              else False, index=wide.index) for ind in CONTEXT_INDICATORS}
    previous_month = {m: add_months(m, -1) for m in wide.index.get_level_values("month").unique()}
    previous_keys = pd.MultiIndex.from_arrays([wide.index.get_level_values("subsidiary"),
                                               wide.index.get_level_values("month").map(previous_month)])
    wide["previous_hours"] = wide[HOURS_WORKED].reindex(previous_keys).to_numpy()
    wide["per_head"] = wide[HOURS_WORKED] / wide[AVG_EMPLOYEES].where(wide[AVG_EMPLOYEES] > 0)

    def report(flagged: pd.DataFrame, indicators: list[str], message, chinese) -> None:
        """A warning on the first of `indicators` the file holds for each flagged (unit, month)."""
        remaining = flagged
        for indicator in indicators:
            if remaining.empty or indicator not in present:
                continue
            own = cells.xs(indicator, level="indicator")
            hit = remaining.index.isin(own.index)
            here = remaining[hit].join(own[["row", "value_column", "value_text"]])
            for (unit, month), r in zip(here.index, here.itertuples(index=False)):
                problems.append(Problem(int(r.row), r.value_column, r.value_text, message(unit, month, r),
                                        Level.WARNING, chinese(unit, month, r)))
            remaining = remaining[~hit]

    ratio = wide[HOURS_WORKED] / wide["previous_hours"].where(wide["previous_hours"] > 0)
    jumped = wide[in_file[HOURS_WORKED] & ((ratio >= HOURS_JUMP) | (ratio <= 1 / HOURS_JUMP))]
    report(jumped, [HOURS_WORKED],
           lambda u, m, r: f"hours worked are {r.hours_worked / r.previous_hours:.1f}× last month's "
                           f"{r.previous_hours:,.0f} for {u}: check the unit (hours, not 万小时)",
           lambda u, m, r: f"{u} 的实际工时是上月 {r.previous_hours:,.0f} 的 {r.hours_worked / r.previous_hours:.1f} "
                           f"倍：请检查单位（小时，不是万小时）")
    low, high = HOURS_PER_EMPLOYEE
    touched = in_file[HOURS_WORKED] | in_file[AVG_EMPLOYEES]
    odd = wide[touched & wide["per_head"].notna() & ~wide["per_head"].between(low, high)]
    report(odd, [HOURS_WORKED, AVG_EMPLOYEES],
           lambda u, m, r: f"{r.per_head:.1f} hours per employee in {iso_month(m)} for {u} is outside "
                           f"{low:g}–{high:g}: check hours worked and average employees",
           lambda u, m, r: f"{u} {iso_month(m)} 人均工时 {r.per_head:.1f} 小时，超出 {low:g}–{high:g}："
                           f"请检查实际工时和平均职工人数")
    over = wide[wide["staff_certified"] > wide["staff_requiring_cert"]]
    report(over, ["staff_certified", "staff_requiring_cert"],
           lambda u, m, r: f"more certified staff ({r.staff_certified:,.0f}) than staff requiring certification "
                           f"({r.staff_requiring_cert:,.0f})",
           lambda u, m, r: f"持证上岗人数（{r.staff_certified:,.0f}）多于应持证人数（{r.staff_requiring_cert:,.0f}）")


def _without_hours(obs: pd.DataFrame, written: pd.DataFrame, ref: Reference, column: str | None,
                   problems: list[Problem]) -> None:
    """A warning for each unit-month of the file that would have no hours worked, neither in the file (a blank
    cell, or no such row) nor in the store: every rate per hour worked (LTIFR, TRIR, …) rests on it.

    The warning is on the unit-month's first row, in the hours column where the file has one (wide).
    """
    rates = [i for i in ref.catalog.derived if i.denominator == HOURS_WORKED]
    if obs.empty or not rates:
        return
    keys = ["subsidiary", "month"]
    stored = ref.context if ref.context is not None else pd.DataFrame(columns=keys + ["indicator"])
    have = pd.concat([written.loc[written["indicator"] == HOURS_WORKED, keys],
                      stored.loc[stored["indicator"] == HOURS_WORKED, keys]])
    first_rows = obs.groupby(keys, sort=False)["row"].min()
    hours = ref.catalog[HOURS_WORKED]
    for (unit, month), row in first_rows[~first_rows.index.isin(pd.MultiIndex.from_frame(have))].items():
        problems.append(Problem(
            int(row), column, "" if column else None,
            f"no hours worked for {unit} in {iso_month(month)}: {len(rates)} rates rest on them ({rates[0].name_en} "
            f"and others) and cannot be computed; the file can be committed, but report the hours soon",
            Level.WARNING,
            f"{unit} {iso_month(month)} 未填{hours.name_zh}：{rates[0].name_zh}等 {len(rates)} 项比率以它为分母，"
            f"将无法计算；可照常提交，请尽快补报"))


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
    row_month = _months(by_row["month"], by_row["row"], headers.get("month", "month"), ref.today, problems)
    row_unit = identify(_unit_names(ref.units), by_row, headers, problems)
    if cells.shape == "long":
        indicators = identify(_catalog_names(catalog), everything, headers, problems)
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
    at_row = pd.Index(by_row["row"]).get_indexer(frame["row"])
    written = pd.DataFrame({"month": row_month.to_numpy()[at_row], "subsidiary": row_unit.to_numpy()[at_row],
                            "indicator": frame["indicator"], "value": values, "row": frame["row"],
                            "value_column": frame["value_column"], "value_text": frame["value"]})
    obs = written[written[OBSERVATION_COLUMNS].notna().all(axis=1) & ~is_derived].reset_index(drop=True)
    obs = _duplicates(obs, problems)
    _context_warnings(obs[~obs["row"].isin(cells.shifted)], ref.context, problems)
    hours_column = cells.frame.loc[cells.frame["indicator"] == HOURS_WORKED, "value_column"].head(1).tolist() \
        if cells.shape == "wide" else []
    _without_hours(obs, written, ref, hours_column[0] if hours_column else None, problems)
    problems = _dedupe(problems)
    problems.sort(key=lambda p: (p.row or 0, p.level is Level.WARNING))
    return Validated(obs[OBSERVATION_COLUMNS].reset_index(drop=True), problems)
