"""Reading small administrative CSV files (units, targets) as text, with the row numbers a user sees."""
from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

from metrics.core.limits import load_limits
from metrics.core.problems import Problem, Rejected
from metrics.ingest.reader import (
    UnreadableFile,
    broken_field,
    decode,
    field_limit,
    size_problem,
)


def read_rows(source: str | Path | bytes, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV (a path or its bytes; UTF-8, GBK/GB18030 or UTF-16, as uploads) as (spreadsheet row
    number, {column: text}).

    Raises Rejected when a required column is missing or a row has more cells than the header (an unquoted
    1,000 or a stray delimiter shifts every later cell: the row is refused, never read shifted).
    """
    limits = load_limits()
    name = "" if isinstance(source, bytes) else str(source)
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        if (too_large := size_problem(len(data), limits)) is not None:
            raise too_large
        text, _ = decode(data)
    except UnreadableFile as exc:
        raise Rejected([Problem(None, None, name, str(exc), message_zh=exc.message_zh)]) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    first_line = [1]
    with field_limit(limits.cell_chars):
        try:
            return _rows(reader, required, first_line)
        except csv.Error as exc:  # a cell beyond the limit, which is how a quote never closed shows
            broken = broken_field(text, first_line[0], limits)
            raise Rejected([Problem(broken.row, None, None, str(broken), message_zh=broken.message_zh)]) from exc


def _rows(reader: csv.DictReader, required: list[str], first_line: list[int]) -> list[tuple[int, dict[str, str]]]:
    """The rows of `reader`; `first_line[0]` is kept at the line where the record being read starts, which names
    a broken record."""
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise Rejected([Problem(1, c, None, f"column {c} is missing; the header must be "
                                             f"{','.join(required)}") for c in missing])
    rows, shifted = [], []
    for index in itertools.count(2):
        first_line[0] = reader.line_num + 1
        raw = next(reader, None)
        if raw is None:
            break
        if None in raw:
            cells = len(header) + len(raw[None])
            shifted.append(Problem(index, None, ",".join(raw[None]),
                                   f"the row has {cells} cells but the header has {len(header)} columns, so its cells "
                                   f"are shifted: write numbers without a thousands comma or in quotes (1000 or "
                                   f"\"1,000\"), and remove any stray delimiter"))
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if any(row.values()):
            rows.append((index, row))
    if shifted:
        raise Rejected(shifted)
    return rows
