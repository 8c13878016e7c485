"""Targets (安全生产目标管理责任书): validating, importing and exporting the per-year target table."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pandas as pd

from metrics import store
from metrics.core.catalog import Catalog, Direction
from metrics.core.exports import neutralise
from metrics.core.parsing import parse_number
from metrics.core.problems import Problem, gate
from metrics.ingest.csvfiles import read_rows
from metrics.store import Connection, schema

COLUMNS = ["year", "subsidiary", "indicator", "target", "limit", "weight", "veto"]
GROUP_DEFAULT = "*"
_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f", ""}


def validate_targets(rows: list[tuple[int, dict[str, str]]], catalog: Catalog,
                     unit_codes: set[str]) -> tuple[pd.DataFrame, list[Problem]]:
    """Check target rows against the catalog and the units. Pure: no store, no file.

    A unit code is also read as the sanitising export writes it (`'=1+1` for `=1+1`): an export comes back."""
    problems: list[Problem] = []
    exported = {neutralise(code): code for code in unit_codes}
    records = []
    seen: dict[tuple, int] = {}
    known = set(catalog.codes)
    for row_no, row in rows:
        def bad(column: str, message: str, row_no: int = row_no, row: dict[str, str] = row) -> None:  # this row's
            problems.append(Problem(row_no, column, row.get(column, ""), message))

        try:
            year = int(row["year"])
            if not 1900 <= year <= 2999:
                raise ValueError
        except ValueError:
            bad("year", "not a year; write it as 2026")
            year = None
        unit = exported.get(row["subsidiary"], row["subsidiary"])
        if unit != GROUP_DEFAULT and unit not in unit_codes:
            bad("subsidiary", "unknown unit code; use a code from `units import` or * for the group default")
        code = row["indicator"]
        indicator = catalog[code] if code in known else None
        if indicator is None:
            bad("indicator", "unknown indicator code; see data/catalog.toml")
        elif indicator.direction is Direction.NONE:
            bad("indicator", f"{code} has no direction (context or exposure); it takes no target")
        numbers: dict[str, float | None] = {}
        for column, required in (("target", True), ("limit", False), ("weight", True)):
            text = row[column]
            if not text:
                numbers[column] = None
                if required:
                    bad(column, f"{column} is required")
                continue
            try:
                numbers[column] = parse_number(text)
            except ValueError:
                bad(column, "not a number; write digits such as 3, 0.5 or 1,200")
                numbers[column] = None
        if numbers["weight"] is not None and numbers["weight"] < 0:
            bad("weight", "weight must be 0 or more")
        veto_text = row["veto"].lower()
        if veto_text not in _TRUE | _FALSE:
            bad("veto", "write true or false")
        target, limit = numbers["target"], numbers["limit"]
        if indicator is not None and target is not None and limit is not None:
            if indicator.direction is Direction.LOWER_BETTER and limit < target:
                bad("limit", f"{code} is lower-better: the limit (控制值) must be at or above the target {target:g}")
            if indicator.direction is Direction.HIGHER_BETTER and limit > target:
                bad("limit", f"{code} is higher-better: the limit (控制值) must be at or below the target {target:g}")
        key = (year, unit, code)
        if key in seen:
            bad("indicator", f"a target for {unit} / {code} in {year} is already on row {seen[key]}")
        seen.setdefault(key, row_no)
        records.append({"year": year, "subsidiary": unit, "indicator": code, "target": target, "limit": limit,
                        "weight": numbers["weight"], "veto": veto_text in _TRUE})
    if not records:
        problems.append(Problem(None, None, None, "the file has no target rows"))
    frame = pd.DataFrame(records, columns=COLUMNS)
    return frame.astype({"target": "float64", "limit": "float64", "weight": "float64"}), problems


def as_text(value) -> str:
    """A target cell as a user would type it, so targets edited in a table go through the CSV validation."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}" if value.is_integer() else repr(value)
    return str(value).strip()


def frame_rows(frame: pd.DataFrame) -> list[tuple[int, dict[str, str]]]:
    """A table of targets as numbered text rows (row 2 is the first, as in the CSV under its header)."""
    return [(i + 2, {c: as_text(record.get(c)) for c in COLUMNS})
            for i, record in enumerate(frame.to_dict("records"))]


def apply_targets(con: Connection, rows: list[tuple[int, dict[str, str]]], catalog: Catalog, *,
                  actor: str, source: str = "edit") -> pd.DataFrame:
    """Validate the rows whole, then replace all targets of each year they hold. Raises Rejected."""
    unit_codes = set(store.query(con, schema.SELECT_UNITS)["code"])
    frame, problems = validate_targets(rows, catalog, unit_codes)
    gate(problems)
    store.replace_targets(con, frame, actor=actor, source=source)
    return frame


def import_targets(con: Connection, source: str | Path | bytes, catalog: Catalog, *,
                   actor: str) -> pd.DataFrame:
    """A targets CSV (a path or its bytes), validated whole; replaces all targets of each year it holds."""
    name = source.name if isinstance(source, Path) else "import"
    return apply_targets(con, read_rows(source, COLUMNS), catalog, actor=actor, source=f"csv {name}")




def export_targets(con: Connection, year: int) -> str:
    """The targets of one year as CSV text in the import format (subsidiary * = group default); codes through
    the sanitising export (numbers stay numbers: a negative target is not a formula)."""
    frame = store.query(con, schema.SELECT_TARGETS_OF_YEAR, {"year": year})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in frame.itertuples(index=False):
        writer.writerow([record.year, neutralise(record.subsidiary), neutralise(record.indicator),
                         as_text(record.target),
                         as_text(None if pd.isna(record.limit) else record.limit), as_text(record.weight),
                         as_text(bool(record.veto))])
    return out.getvalue()
