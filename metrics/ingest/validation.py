"""Validating uploaded cells against the catalog, the units and the unit's own history. Pure: no store, no file.

The upload checks are declared once, in CHECKS (the end of this module), in the order `validate` walks them:
each its id, its level, its words (Chinese then English), its constants and the function that finds where it
applies. Errors reject the whole file; warnings are shown and committed with it (problems.gate decides).
"""
from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from functools import cached_property, reduce
from typing import Any

import numpy as np
import pandas as pd

from metrics.core.catalog import Catalog, Kind, Ledger
from metrics.core.codes import AVG_EMPLOYEES, HOURS_WORKED, STAFF_CERTIFIED, STAFF_REQUIRING_CERT
from metrics.core.months import add_months, iso_month, parse_month
from metrics.core.parsing import key, name_index, parse_number
from metrics.core.problems import Level, Problem, rows_named
from metrics.core.reporting import earliest_month
from metrics.core.text import Text
from metrics.ingest.shape import SECOND_NAME, Cells

CONTEXT_INDICATORS = (HOURS_WORKED, AVG_EMPLOYEES, STAFF_REQUIRING_CERT, STAFF_CERTIFIED)
OBSERVATION_COLUMNS = ["month", "subsidiary", "indicator", "value", "row"]
KEYS = ["month", "subsidiary", "indicator"]


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
    fired: frozenset[tuple[str, str]] = frozenset()
    """(check id, sentence) of every check of CHECKS that found something in the file."""


# What a check found, and how it becomes a problem ---------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """Where a check applies, before it has words: the cell, which of the check's sentences (`case`) and the
    values that sentence names (a value that is a Text goes into each language's sentence in that language)."""
    row: int | None
    column: str | None
    value: str | None
    case: str
    values: Mapping[str, object] = field(default_factory=dict)
    marks: tuple[str, ...] = ()


class Scope(Enum):
    ROWS = "rows"
    """Every data row, its value blank or not (a stray text row is reported, not read as "not reported")."""
    VALUES = "values"
    """The non-blank values: not run on a file without any."""


@dataclass(frozen=True)
class Check:
    """One upload check: the logic (`find`) and the sentences a user reads, in one declared object."""
    id: str
    level: Level
    scope: Scope
    words: Mapping[str, Text]
    """Its sentences by case, with {placeholders} for a finding's values and the check's constants."""
    find: Callable[[Check, Reading], Iterable[Finding]]
    constants: Mapping[str, float] = field(default_factory=dict)
    parts: Mapping[str, Text] = field(default_factory=dict)
    """Pieces some sentences take (an example), filled by `find` as a Text value."""

    def sentence(self, found: Finding) -> Text:
        return self.words[found.case].fill(**{**self.constants, **found.values})

    def problem(self, found: Finding, words: Text | None = None) -> Problem:
        """The finding as a Problem; `words`: its sentence already filled (shared by the findings of one group)."""
        words = words or self.sentence(found)
        return Problem(found.row, found.column, found.value, words.en, level=self.level, message_zh=words.zh,
                       marks=found.marks)


NO_TEXT = Text("", "")


def _convert(texts: pd.Series, convert) -> tuple[pd.Series, dict]:
    """Apply `convert` once per distinct text (a file repeats its months, units and indicators)."""
    codes, uniques = pd.factorize(texts, use_na_sentinel=False)
    resolved = {text: convert(text) for text in uniques}
    values = np.array([resolved[text] for text in uniques] + [None], dtype=object)
    return pd.Series(values[codes], index=texts.index), resolved


# Names: units and indicators by code or name ---------------------------------------------------------------------

@dataclass(frozen=True)
class Names:
    """How a file may name one kind of thing (a unit, an indicator): by its code or by one of its names."""
    what: str  # "unit" or "indicator": the id of its check
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


def _indicator_names(catalog: Catalog) -> dict[str, str]:
    return name_index((i.code, i.name_en, i.name_zh) for i in catalog.indicators)


def indicator_header_keys(catalog: Catalog) -> dict[str, str]:
    """Header texts that name an indicator column in the wide shape."""
    return _indicator_names(catalog)


def _read_names(names: Names, frame: pd.DataFrame, headers: dict[str, str],
                example: Text) -> tuple[pd.Series, list[Finding]]:
    """The code each row of `frame` names in its `names.role` column (by code or name) and, where the file has
    one, the second column of shape.SECOND_NAME (the template's 单位名称 beside 单位编码), with what is wrong.

    A row names its unit (or indicator) by either column; where it fills both, they must name the same one, and
    each must be known: a misspelt name is an error even beside a valid code. None where a row names nothing
    known or two different things (each found once: shared names, disagreements, blanks, unknown texts).
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
    findings: list[Finding] = []
    for column, text, owners in zip(columns, texts, shared):
        for index in frame.index[owners.notna()]:
            findings.append(Finding(int(rows[index]), column, text[index], "shared",
                                    {"text": text[index], "codes": Text("、".join(owners[index]),
                                                                        ", ".join(owners[index]))}))
    if len(codes) > 1:
        differ = codes[0].notna() & codes[1].notna() & (codes[0] != codes[1])
        for index in frame.index[differ]:
            pair, both = (texts[0][index], texts[1][index]), (codes[0][index], codes[1][index])
            findings.append(Finding(int(rows[index]), " / ".join(columns), " / ".join(pair), "disagree", {
                "column": columns[0], "text": pair[0], "meaning": names.meaning(pair[0], both[0]),
                "other_column": columns[1], "other_text": pair[1], "other_meaning": names.meaning(pair[1], both[1]),
                "code": both[0], "name": names.labels[both[0]][1],
                "other_code": both[1], "other_name": names.labels[both[1]][1]}, tuple(columns)))
        bad |= differ
    code, (name_zh, _) = next(iter(names.labels.items()), ("", ("", "")))
    values = {"example": example.fill(code=code, name_zh=name_zh) if code else NO_TEXT,
              "columns": "和".join(columns)}
    for index in frame.index[nothing]:
        findings.append(Finding(int(rows[index]), columns[0], "", "both_missing" if len(columns) > 1 else "missing",
                                values, tuple(columns) if len(columns) > 1 else ()))
    for column, text, mask in zip(columns, texts, unknown):
        for index in frame.index[mask]:
            close = difflib.get_close_matches(text[index], names.choices, n=1, cutoff=0.4)
            findings.append(Finding(int(rows[index]), column, text[index], "unknown_close" if close else "unknown",
                                    {"close": close[0]} if close else {}))
    return found.where(~bad, None), findings


def identify(names: Names, frame: pd.DataFrame, headers: dict[str, str], problems: list[Problem]) -> pd.Series:
    """The code each row of `frame` names (see _read_names), each problem added to `problems` in the words of
    the check of `names.what` ("unit" or "indicator")."""
    check = CHECK[names.what]
    found, findings = _read_names(names, frame, headers, check.parts["example"])
    problems.extend(check.problem(f) for f in findings)
    return found


# The file as the checks read it ----------------------------------------------------------------------------------

def _read_months(texts: pd.Series, today: date) -> tuple[pd.Series, dict[str, tuple[str, dict[str, object]]]]:
    """Each text's month (None where it is none) and, by text, why not: (a case of the month check, values)."""
    why: dict[str, tuple[str, dict[str, object]]] = {}
    current = date(today.year, today.month, 1)

    def month_of(text: str) -> date | None:
        try:
            month = parse_month(text)
        except ValueError:
            why[text] = ("unreadable", {"text": text}) if text else ("missing", {})
            return None
        named = {"iso": iso_month(month), "year": month.year, "number": month.month}
        if month > current:
            why[text] = ("future", named)
            return None
        if month < (first := earliest_month()):
            why[text] = ("too_early", named | {"first_iso": iso_month(first), "first_year": first.year,
                                               "first_number": first.month})
            return None
        return month

    return _convert(texts, month_of)[0], why


def _read_values(frame: pd.DataFrame, catalog: Catalog) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Each value as a number, the kind's upper bound of its indicator, and what is wrong with it (a case of
    the value check, None where nothing is)."""
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
    too_large = values > bound
    fraction = frame["indicator"].isin(counts) & (values % 1 != 0) & ~bad_number & ~too_large
    cases = np.select([bad_number, values < 0, too_large, fraction],
                      ["not_a_number", "negative", "too_large", "fraction"], default="")
    return values, bound, pd.Series(cases, index=frame.index, dtype=object).where(cases != "", None)


@dataclass(frozen=True)
class History:
    """The context indicators of each (unit, month) the file touches, its values over the stored ones."""
    wide: pd.DataFrame
    """(subsidiary, month) -> one column per CONTEXT_INDICATORS, previous_hours, per_head."""
    cells: pd.DataFrame
    """(subsidiary, month, indicator) -> the file's row, value_column, value_text."""
    in_file: dict[str, pd.Series]
    """indicator -> whether the file holds it, by (subsidiary, month) of `wide`."""

    def findings(self, flagged: pd.DataFrame, indicators: list[str], case: str,
                 values: Callable[[str, date, Any], dict[str, object]]) -> Iterator[Finding]:
        """A finding on the first of `indicators` the file holds for each flagged (unit, month)."""
        remaining = flagged
        present = set(self.cells.index.get_level_values("indicator"))
        for indicator in indicators:
            if remaining.empty or indicator not in present:
                continue
            own = self.cells.xs(indicator, level="indicator")
            hit = remaining.index.isin(own.index)
            here = remaining[hit].join(own[["row", "value_column", "value_text"]])
            for (unit, month), r in zip(here.index, here.itertuples(index=False)):
                yield Finding(int(r.row), r.value_column, r.value_text, case, values(unit, month, r))
            remaining = remaining[~hit]


def _history(obs: pd.DataFrame, context: pd.DataFrame | None) -> History | None:
    """Judged on the file's values over the stored ones, set-wise; None where the file has no context value."""
    mine = obs[obs["indicator"].isin(CONTEXT_INDICATORS)]
    if mine.empty:
        return None
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
    return History(wide, cells, in_file)


@dataclass
class Reading:
    """The file as the checks read it: each step (months, names, numbers, …) done once, when first asked for,
    and the problems found so far."""
    cells: Cells
    ref: Reference
    problems: list[Problem]

    @cached_property
    def text(self) -> pd.DataFrame:
        """Every value cell as the file wrote it (shape.CELL_COLUMNS)."""
        return self.cells.frame.reset_index(drop=True)

    @cached_property
    def by_row(self) -> pd.DataFrame:
        """One cell of each data row: its month and unit are read once, not once per value cell."""
        return self.text.drop_duplicates("row")

    @cached_property
    def months(self) -> tuple[pd.Series, dict[str, tuple[str, dict[str, object]]]]:
        """Each row's month, by by_row's index, and why not by text."""
        return _read_months(self.by_row["month"], self.ref.today)

    @cached_property
    def units(self) -> tuple[pd.Series, list[Finding]]:
        return _read_names(_unit_names(self.ref.units), self.by_row, self.cells.headers,
                           CHECK["unit"].parts["example"])

    @cached_property
    def indicators(self) -> tuple[pd.Series, list[Finding]]:
        """Long: the indicator each row names; wide: the indicator of each value's column (shape read it)."""
        if self.cells.shape != "long":
            return self.text["indicator"], []
        return _read_names(_catalog_names(self.ref.catalog), self.text, self.cells.headers,
                           CHECK["indicator"].parts["example"])

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The non-blank value cells, with the indicator's code (indicator) and its text (indicator_text)."""
        everything = self.text.assign(indicator=self.indicators[0], indicator_text=self.text["indicator"])
        return everything[everything["value"] != ""].reset_index(drop=True)

    @cached_property
    def values(self) -> tuple[pd.Series, pd.Series, pd.Series]:
        return _read_values(self.frame, self.ref.catalog)

    @cached_property
    def is_derived(self) -> pd.Series:
        return self.frame["indicator"].isin({i.code for i in self.ref.catalog.derived})

    @cached_property
    def written(self) -> pd.DataFrame:
        """Every non-blank value with its month, unit, indicator and number (None or NaN where not read)."""
        frame, (numbers, _, wrong) = self.frame, self.values
        at_row = pd.Index(self.by_row["row"]).get_indexer(frame["row"])
        return pd.DataFrame({"month": self.months[0].to_numpy()[at_row],
                             "subsidiary": self.units[0].to_numpy()[at_row],
                             "indicator": frame["indicator"], "value": numbers.where(wrong.isna()),
                             "row": frame["row"], "value_column": frame["value_column"], "value_text": frame["value"]})

    @cached_property
    def readable(self) -> pd.DataFrame:
        """The values that would be written, duplicates included."""
        written = self.written
        return written[written[OBSERVATION_COLUMNS].notna().all(axis=1) & ~self.is_derived].reset_index(drop=True)

    @cached_property
    def duplicates(self) -> list[tuple[tuple, pd.DataFrame]]:
        """((month, unit, indicator), its rows) of each key the file gives more than once, in the file's order."""
        readable = self.readable
        dup = readable[readable.duplicated(KEYS, keep=False)]
        return [] if dup.empty else list(dup.groupby(KEYS, sort=False))

    @cached_property
    def observations(self) -> pd.DataFrame:
        """What the file writes: each (month, unit, indicator) once, its first row."""
        return self.readable.drop_duplicates(KEYS, keep="first")

    @cached_property
    def history(self) -> History | None:
        """The file's context values beside the stored ones; a shifted row's values are not the unit's."""
        obs = self.observations
        return _history(obs[~obs["row"].isin(self.cells.shifted)], self.ref.context)


# The checks' logic, in the order of CHECKS -----------------------------------------------------------------------

def _months(check: Check, reading: Reading) -> Iterator[Finding]:
    mapped, why = reading.months
    texts, rows = reading.by_row["month"], reading.by_row["row"]
    column = reading.cells.headers.get("month", "month")
    for index in mapped.index[mapped.isna()]:
        case, values = why[texts[index]]
        yield Finding(int(rows[index]), column, texts[index], case, values)


def _units(check: Check, reading: Reading) -> list[Finding]:
    return reading.units[1]


def _indicators(check: Check, reading: Reading) -> list[Finding]:
    return reading.indicators[1]


def _no_data(check: Check, reading: Reading) -> list[Finding]:
    """Only where nothing else is wrong: a file of unknown units has no data rows either."""
    if reading.frame.empty and not any(p.level is Level.ERROR for p in reading.problems):
        return [Finding(None, None, None, "empty")]
    return []


def _derived(check: Check, reading: Reading) -> Iterator[Finding]:
    """Once a column in the wide shape, once a row in the long one."""
    frame, long = reading.frame, reading.cells.shape == "long"
    reported: set[str] = set()
    for index in frame.index[reading.is_derived]:
        r = frame.loc[index]
        if not long and r["value_column"] in reported:
            continue
        reported.add(r["value_column"])
        column = reading.cells.headers.get("indicator", r["value_column"]) if long else r["value_column"]
        yield Finding(int(r["row"]), column, r["indicator_text"] if long else r["value_column"], "derived",
                      {"indicator": r["indicator"]})


def _from_ledger(check: Check, reading: Reading) -> Iterator[Finding]:
    """A value the hazard ledger counts: of an indicator only the ledger counts, or of one a unit keeping its
    ledger here (units.ledger_from) no longer types from that month on."""
    catalog = reading.ref.catalog
    only, kept = set(catalog.from_ledger(Ledger.ONLY)), set(catalog.from_ledger(Ledger.KEPT))
    written = reading.written
    units = reading.ref.units
    since = {code: pd.Timestamp(start).date() for code, start in
             zip(units["code"], units.get("ledger_from", pd.Series(dtype=object))) if pd.notna(start)}
    for r in written[written["indicator"].isin(only | kept)].itertuples(index=False):
        name = Text(catalog[r.indicator].name_zh, r.indicator)
        if r.indicator in only:
            yield Finding(int(r.row), r.value_column, r.value_text, "only", {"indicator": name})
        elif r.subsidiary in since and pd.notna(r.month) and r.month >= since[r.subsidiary]:
            yield Finding(int(r.row), r.value_column, r.value_text, "kept",
                          {"indicator": name, "unit": r.subsidiary, "since": iso_month(since[r.subsidiary])})


def _values(check: Check, reading: Reading) -> Iterator[Finding]:
    frame, catalog = reading.frame, reading.ref.catalog
    _, bound, wrong = reading.values
    for index in frame.index[wrong.notna()]:
        r = frame.loc[index]
        named: dict[str, object] = {"indicator": r["indicator"]}
        if wrong[index] == "too_large":
            indicator = catalog[r["indicator"]]
            named |= {"most": bound[index], "unit_zh": indicator.unit_zh, "unit_en": indicator.unit_en}
        yield Finding(int(r["row"]), r["value_column"], r["value"], wrong[index], named)


def _duplicates(conflicting: bool) -> Callable[[Check, Reading], Iterator[Finding]]:
    """Conflicting duplicates on each of their rows; identical ones on their first row."""
    def find(check: Check, reading: Reading) -> Iterator[Finding]:
        for (month, unit, indicator), group in reading.duplicates:
            if (group["value"].nunique() > 1) != conflicting:
                continue
            rows, rows_zh = rows_named(group["row"].tolist())
            named = {"unit": unit, "indicator": indicator, "month": iso_month(month), "rows": Text(rows_zh, rows)}
            for r in group.itertuples(index=False) if conflicting else group.head(1).itertuples(index=False):
                yield Finding(int(r.row), r.value_column, r.value_text, check.id, named)
    return find


def _hours_jump(check: Check, reading: Reading) -> Iterable[Finding]:
    """Hours ten times (or a tenth of) last month's: hours typed in 万小时, or a digit too many."""
    if (history := reading.history) is None:
        return []
    wide, jump = history.wide, check.constants["jump"]
    ratio = wide[HOURS_WORKED] / wide["previous_hours"].where(wide["previous_hours"] > 0)
    jumped = wide[history.in_file[HOURS_WORKED] & ((ratio >= jump) | (ratio <= 1 / jump))]
    return history.findings(jumped, [HOURS_WORKED], check.id, lambda u, m, r: {
        "unit": u, "ratio": r.hours_worked / r.previous_hours, "previous": r.previous_hours})


def _hours_per_head(check: Check, reading: Reading) -> Iterable[Finding]:
    if (history := reading.history) is None:
        return []
    wide, in_file = history.wide, history.in_file
    touched = in_file[HOURS_WORKED] | in_file[AVG_EMPLOYEES]
    odd = wide[touched & wide["per_head"].notna()
               & ~wide["per_head"].between(check.constants["low"], check.constants["high"])]
    return history.findings(odd, [HOURS_WORKED, AVG_EMPLOYEES], check.id, lambda u, m, r: {
        "unit": u, "month": iso_month(m), "per_head": r.per_head})


def _certified(check: Check, reading: Reading) -> Iterable[Finding]:
    if (history := reading.history) is None:
        return []
    wide = history.wide
    over = wide[wide[STAFF_CERTIFIED] > wide[STAFF_REQUIRING_CERT]]
    return history.findings(over, [STAFF_CERTIFIED, STAFF_REQUIRING_CERT], check.id, lambda u, m, r: {
        "certified": r.staff_certified, "required": r.staff_requiring_cert})


def _without_hours(check: Check, reading: Reading) -> Iterable[Finding]:
    """Each unit-month of the file that would have no hours worked, neither in the file (a blank cell, or no
    such row) nor in the store: every rate per hour worked (LTIFR, TRIR, …) rests on it. On the unit-month's
    first row, in the hours column where the file has one (wide)."""
    catalog, obs, cells = reading.ref.catalog, reading.observations, reading.cells
    rates = [i for i in catalog.derived if i.denominator == HOURS_WORKED]
    if obs.empty or not rates:
        return []
    hours_column = cells.frame.loc[cells.frame["indicator"] == HOURS_WORKED, "value_column"].head(1).tolist() \
        if cells.shape == "wide" else []
    column = hours_column[0] if hours_column else None
    keys = ["subsidiary", "month"]
    stored = reading.ref.context if reading.ref.context is not None else pd.DataFrame(columns=keys + ["indicator"])
    written = reading.written
    have = pd.concat([written.loc[written["indicator"] == HOURS_WORKED, keys],
                      stored.loc[stored["indicator"] == HOURS_WORKED, keys]])
    first_rows = obs.groupby(keys, sort=False)["row"].min()
    named = {"count": len(rates), "rate": Text(rates[0].name_zh, rates[0].name_en),
             "hours": catalog[HOURS_WORKED].name_zh}
    return [Finding(int(row), column, "" if column else None, check.id,
                    named | {"unit": unit, "month": iso_month(month)})
            for (unit, month), row in first_rows[~first_rows.index.isin(pd.MultiIndex.from_frame(have))].items()]


# The upload checks, in the order validate walks them -------------------------------------------------------------

_EXAMPLE = {"example": Text("（如 {code} 或 {name_zh}）", " (e.g. {code})")}

CHECKS: tuple[Check, ...] = (
    Check("month", Level.ERROR, Scope.ROWS, {
        "missing": Text("缺少月份", "the month is missing"),
        "unreadable": Text("无法识别的月份“{text}”：请写成 2026-10、2026/10、2026年10月 或 202610",
                           "not a month: {text!r}; write it as 2026-10, 2026/10, 2026年10月 or 202610"),
        "future": Text("{year}年{number}月尚未到来：请检查年份和月份",
                       "{iso} is in the future; check the year and the month"),
        "too_early": Text("{year}年{number}月早于系统接受的最早月份（{first_year}年{first_number}月）：请检查年份",
                          "{iso} is before {first_iso}, the earliest month the dashboard takes; check the year"),
    }, _months),
    Check("unit", Level.ERROR, Scope.ROWS, {
        "shared": Text("“{text}”是多个单位（{codes}）的名称：请填写单位编码",
                       "{text} is the name of more than one unit ({codes}): write the unit code"),
        "disagree": Text("{column} {text}（{meaning}）与{other_column} {other_text}（{other_meaning}）不是同一单位："
                         "请核对后改正其中之一",
                         "the unit code {code} ({name}) and the unit name {other_code} ({other_name}) are not the "
                         "same unit; correct one of them"),
        "missing": Text("缺少单位：请填写单位编码或单位名称{example}",
                        "the unit is missing: write the unit's code{example} or its name"),
        "both_missing": Text("{columns}都未填写：请填写单位编码或单位名称{example}",
                             "both the unit code and the unit name are empty: write the unit's code{example} or "
                             "its name"),
        "unknown": Text("无法识别的单位", "unknown unit"),
        "unknown_close": Text("无法识别的单位；是否应为“{close}”？", "unknown unit; did you mean {close}?"),
    }, _units, parts=_EXAMPLE),
    Check("indicator", Level.ERROR, Scope.ROWS, {
        "disagree": Text("{column} {text}（{meaning}）与{other_column} {other_text}（{other_meaning}）不是同一指标："
                         "请核对后改正其中之一",
                         "the indicator code {code} ({name}) and the indicator name {other_code} ({other_name}) "
                         "are not the same indicator; correct one of them"),
        "missing": Text("缺少指标：请填写指标编码或指标名称{example}",
                        "the indicator is missing: write the indicator's code{example} or its name"),
        "both_missing": Text("{columns}都未填写：请填写指标编码或指标名称{example}",
                             "both the indicator code and the indicator name are empty: write the indicator's "
                             "code{example} or its name"),
        "unknown": Text("无法识别的指标", "unknown indicator"),
        "unknown_close": Text("无法识别的指标；是否应为“{close}”？", "unknown indicator; did you mean {close}?"),
    }, _indicators, parts=_EXAMPLE),
    Check("no_data", Level.ERROR, Scope.ROWS, {
        "empty": Text("文件没有数据行（所有数值单元格都是空的）",
                      "the file has no data rows (every value cell is empty)"),
    }, _no_data),
    Check("derived", Level.ERROR, Scope.VALUES, {
        "derived": Text("该指标由系统根据基础指标计算，请勿填报",
                        "{indicator} is computed by the system from its inputs; leave it out of the file"),
    }, _derived),
    Check("from_ledger", Level.ERROR, Scope.VALUES, {
        "only": Text("{indicator}由隐患台账计算，不填报：请从文件中删去该值",
                     "{indicator} is counted from the hazard ledger, never typed; leave it out of the file"),
        "kept": Text("{unit} 自 {since} 起在本系统记录隐患台账，{indicator}由台账计算、不再填报：请删去该值（留空）",
                     "{unit} keeps its hazard ledger in this system from {since}: {indicator} is counted from the "
                     "ledger and no longer typed; leave the cell empty"),
    }, _from_ledger),
    Check("value", Level.ERROR, Scope.VALUES, {
        "not_a_number": Text("不是数字：请填写如 1234、1,234.5 或 1.5E+05 的数值",
                             "not a number; write digits such as 1234, 1,234.5 or 1.5E+05"),
        "negative": Text("数值不能为负", "a value cannot be negative"),
        "too_large": Text("超出单个单位一个月可能的数值（不超过 {most:,.0f} {unit_zh}）：请核对数值及计量单位",
                          "more than one unit can report for a month (at most {most:,.0f} {unit_en}): check the "
                          "number and its unit of measure"),
        "fraction": Text("该指标按起数或人数计，只能是整数：小数是填报错误",
                         "{indicator} counts whole events or people: a fraction is an input error"),
    }, _values),
    Check("conflicting_duplicate", Level.ERROR, Scope.VALUES, {
        "conflicting_duplicate": Text("{unit} / {indicator} / {month} 的数值互相矛盾（第 {rows}）：只保留一行",
                                      "conflicting values for {unit} / {indicator} / {month} on rows {rows}: "
                                      "keep one"),
    }, _duplicates(conflicting=True)),
    Check("identical_duplicate", Level.WARNING, Scope.VALUES, {
        "identical_duplicate": Text("{unit} / {indicator} / {month} 重复且数值相同（第 {rows}）：只写入一次",
                                    "the same value for {unit} / {indicator} / {month} appears on rows {rows}; "
                                    "it is written once"),
    }, _duplicates(conflicting=False)),
    Check("hours_jump", Level.WARNING, Scope.VALUES, {
        "hours_jump": Text("{unit} 的实际工时是上月 {previous:,.0f} 的 {ratio:.1f} 倍：请检查单位（小时，不是万小时）",
                           "hours worked are {ratio:.1f}× last month's {previous:,.0f} for {unit}: check the unit "
                           "(hours, not 万小时)"),
    }, _hours_jump, {"jump": 10.0}),
    Check("hours_per_head", Level.WARNING, Scope.VALUES, {
        "hours_per_head": Text("{unit} {month} 人均工时 {per_head:.1f} 小时，超出 {low:g}–{high:g}："
                               "请检查实际工时和平均职工人数",
                               "{per_head:.1f} hours per employee in {month} for {unit} is outside {low:g}–{high:g}: "
                               "check hours worked and average employees"),
    }, _hours_per_head, {"low": 8.0, "high": 375.0}),
    Check("certified_over_required", Level.WARNING, Scope.VALUES, {
        "certified_over_required": Text("持证上岗人数（{certified:,.0f}）多于应持证人数（{required:,.0f}）",
                                        "more certified staff ({certified:,.0f}) than staff requiring "
                                        "certification ({required:,.0f})"),
    }, _certified),
    Check("without_hours", Level.WARNING, Scope.VALUES, {
        "without_hours": Text("{unit} {month} 未填{hours}：{rate}等 {count} 项比率以它为分母，将无法计算；"
                              "可照常提交，请尽快补报",
                              "no hours worked for {unit} in {month}: {count} rates rest on them ({rate} and "
                              "others) and cannot be computed; the file can be committed, but report the hours "
                              "soon"),
    }, _without_hours),
)
CHECK = {c.id: c for c in CHECKS}


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """One report per problem: a wide row's unit or month is checked once, not once per value cell."""
    return list(dict.fromkeys(problems))


def validate(cells: Cells, ref: Reference) -> Validated:
    """Every problem of the file, and the observations it would write: the shape's problems, then each check of
    CHECKS in order; sorted by row, a row's errors before its warnings (a file without values: in that order).

    Every data row's month, unit (and, long, indicator) is checked even when its value is blank, so a stray
    text row is reported rather than read as "not reported"; only non-blank values are parsed and written.
    """
    reading = Reading(cells, ref, list(cells.problems))
    fired: set[tuple[str, str]] = set()
    for check in CHECKS:
        if check.scope is Scope.VALUES and reading.frame.empty:
            continue
        # Findings of one group share their values (a million-row file's duplicates: one dict per group), so
        # their sentence is filled once and its strings shared, as the problems' memory needs.
        last: tuple[Mapping[str, object], str, Text] | None = None
        for found in check.find(check, reading):
            if last is None or last[0] is not found.values or last[1] != found.case:
                last = (found.values, found.case, check.sentence(found))
            reading.problems.append(check.problem(found, last[2]))
            fired.add((check.id, found.case))
    problems = _dedupe(reading.problems)
    if reading.frame.empty:
        return Validated(pd.DataFrame(columns=OBSERVATION_COLUMNS), problems, frozenset(fired))
    problems.sort(key=lambda p: (p.row or 0, p.level is Level.WARNING))
    return Validated(reading.observations[OBSERVATION_COLUMNS].reset_index(drop=True), problems, frozenset(fired))
