"""The error preview of an upload: the file's rows as the user filled them in, under their own headers, with
each cell a problem concerns marked (not its whole row or column).

Built from the cells the reader kept (metrics.ingest.shape.Cells), not from the file again: the long shape has one
record per row, the wide shape one per indicator cell, in the order of `Cells.value_columns`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from metrics.core.problems import Level, Problem
from metrics.ingest.shape import Cells

ROW = "row"
"""The preview's first column: the row as Excel numbers it. A problem of the whole row is marked here."""
ROW_ROLES = ("month", "subsidiary", "subsidiary_name", "note")
"""The columns a wide row has once (the others are its indicator cells)."""


@dataclass(frozen=True)
class Preview:
    table: pd.DataFrame
    """ROW, then the file's columns that were read, in the file's order, under the user's headers (made unique)."""
    marks: pd.DataFrame
    """The same shape: "error", "warning" or "" for each cell."""


def _unique(labels: list[str]) -> list[str]:
    """The headers as column names: a repeated (or blank) header gets " (2)", " (3)"…"""
    seen: dict[str, int] = {ROW: 1}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 and label else f"{label} ({seen[label]})".strip())
    return out


def _columns(cells: Cells, shown: pd.DataFrame) -> list[tuple[int, pd.Series]]:
    """(header index, the shown rows' texts) of every column read, in any order."""
    if cells.shape == "long":
        return [(index, shown[role].reset_index(drop=True)) for role, index in cells.roles.items()]
    width = len(cells.value_columns)
    firsts = shown.iloc[::width].reset_index(drop=True)
    values = shown["value"].to_numpy().reshape(-1, width)
    return [(cells.roles[role], firsts[role]) for role in ROW_ROLES if role in cells.roles] + \
        [(index, pd.Series(values[:, k])) for k, index in enumerate(cells.value_columns)]


HEAD, LIMIT = 200, 500
"""The preview shows the first HEAD data rows and every row with a problem, at most LIMIT rows."""


def _rows(cells: Cells, problems: list[Problem], head: int, limit: int) -> list:
    data_rows = pd.unique(cells.frame["row"])
    wanted = {p.row for p in problems if p.row is not None}
    return sorted(set(data_rows[:head]) | (wanted & set(data_rows)))[:limit]


def kept_for_preview(cells: Cells, problems: list[Problem]) -> Cells:
    """`cells` with only the rows the preview shows: what a page keeps of a checked file between its reruns (the
    cells of the largest allowed file take hundreds of megabytes, kept per session until it ends)."""
    rows = _rows(cells, problems, HEAD, LIMIT)
    return replace(cells, frame=cells.frame[cells.frame["row"].isin(rows)].reset_index(drop=True))


def build_preview(cells: Cells, problems: list[Problem], head: int = HEAD, limit: int = LIMIT) -> Preview:
    """The first `head` data rows and every row with a problem (at most `limit` rows), marked."""
    frame = cells.frame
    rows = _rows(cells, problems, head, limit)
    shown = frame[frame["row"].isin(rows)]
    columns = sorted(_columns(cells, shown), key=lambda column: column[0])
    labels = _unique([cells.header[index] for index, _ in columns])
    table = pd.DataFrame({ROW: rows, **dict(zip(labels, (texts for _, texts in columns)))})
    by_header: dict[str, list[str]] = {}
    for (index, _), label in zip(columns, labels):
        by_header.setdefault(cells.header[index], []).append(label)
    marks = pd.DataFrame("", index=table.index, columns=table.columns)
    position = {row: i for i, row in enumerate(rows)}
    for problem in sorted(problems, key=lambda p: p.level is Level.ERROR):  # errors last: they win a cell
        if problem.row not in position:
            continue
        targets = [label for header in (problem.marks or (problem.column,)) if header is not None
                   for label in by_header.get(header, [])]
        for label in targets or [ROW]:
            marks.iloc[position[problem.row], marks.columns.get_loc(label)] = problem.level.value
    return Preview(table, marks)
