"""Reading small administrative CSV files (units, targets) as text, with the row numbers a user sees."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from metrics.problems import Problem, Rejected


def read_rows(path: str | Path, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a UTF-8 CSV as (row number as in a spreadsheet, {column: stripped text}).

    Raises Rejected when a required column is missing.
    """
    text = Path(path).read_bytes().decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise Rejected([Problem(1, c, None, f"column {c} is missing; the header must be "
                                             f"{','.join(required)}") for c in missing])
    rows = []
    for index, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if any(row.values()):
            rows.append((index, row))
    return rows
