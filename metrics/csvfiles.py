"""Reading small administrative CSV files (units, targets) as text, with the row numbers a user sees."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from metrics.problems import Problem, Rejected
from metrics.reader import UnreadableFile, decode


def read_rows(source: str | Path | bytes, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV (a path or its bytes; UTF-8, GBK/GB18030 or UTF-16, as uploads) as (spreadsheet row
    number, {column: text}).

    Raises Rejected when a required column is missing or a row has more cells than the header (an unquoted
    1,000 or a stray delimiter shifts every later cell: the row is refused, never read shifted).
    """
    try:
        text, _ = decode(source if isinstance(source, bytes) else Path(source).read_bytes())
    except UnreadableFile as exc:
        raise Rejected([Problem(None, None, "" if isinstance(source, bytes) else str(source), str(exc),
                                message_zh=exc.message_zh)]) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise Rejected([Problem(1, c, None, f"column {c} is missing; the header must be "
                                             f"{','.join(required)}") for c in missing])
    rows, shifted = [], []
    for index, raw in enumerate(reader, start=2):
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
