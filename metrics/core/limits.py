"""What one uploaded file may cost: declared limits (data/limits.toml), each with the sentence a user reads when a
file goes beyond it.

A limit is checked before the work it bounds (the size before reading, the zip's directory before unpacking, the
row, column and cell counts while reading), so a file beyond one costs no more than the check; the reading itself
runs in a worker process with `seconds` and `memory_mb` (metrics/ingest/worker.py), which bounds what no count foresees.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from metrics.core.paths import DATA

LIMITS_FILE = DATA / "limits.toml"
LIMITS_ENV = "SAFETY_LIMITS"
"""A TOML file whose values replace those of data/limits.toml (any subset of them)."""
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    file_mb: int
    rows: int
    columns: int
    cells: int
    cell_chars: int
    xlsx_expanded_mb: int
    xlsx_part_mb: int
    xlsx_parts: int
    seconds: int
    memory_mb: int


class LimitsError(ValueError):
    """data/limits.toml (or the file SAFETY_LIMITS names) is not a set of positive whole numbers."""


def load_limits(path: Path | None = None) -> Limits:
    """The limits of data/limits.toml, with the values of `path` (None: the file $SAFETY_LIMITS names, if any)
    in their place."""
    values = _read(LIMITS_FILE)
    override = path or (Path(os.environ[LIMITS_ENV]) if os.environ.get(LIMITS_ENV) else None)
    if override is not None:
        values.update(_read(override))
    return Limits(**values)


def _read(path: Path) -> dict[str, int]:
    names = {f.name for f in fields(Limits)}
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LimitsError(f"{path}: {exc}") from exc
    unknown = sorted(set(doc) - names)
    if unknown:
        raise LimitsError(f"{path}: unknown limit(s) {', '.join(unknown)}; the limits are {', '.join(sorted(names))}")
    for key, value in doc.items():
        if type(value) is not int or value < 1:
            raise LimitsError(f"{path}: {key} is {value!r}; a limit is a whole number of at least 1")
    return doc


def megabytes(size: int) -> str:
    """A size in MB as the limits name it: 70.2 MB, 4,133 MB."""
    return f"{size / MB:,.1f} MB" if size < 100 * MB else f"{size / MB:,.0f} MB"


MALLOC_ARENAS = 2
_M_ARENA_MAX = -8
"""glibc's mallopt parameter number for the most malloc arenas (malloc.h)."""


def few_malloc_arenas() -> None:
    """Keep glibc's malloc to MALLOC_ARENAS arenas in this process (as MALLOC_ARENA_MAX=2 would). By default every
    thread that allocates may get an arena of its own, each reserving 64 MB of address space, and DuckDB's and
    Arrow's threads are many: a process checking the largest allowed upload then ran out of a 1.5 GB address space
    while resident in 560 MB. Two arenas keep what it reserves close to what it uses; Python allocates under one
    lock anyway. Without glibc (another libc) nothing changes."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        ctypes.CDLL(name).mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
    except (OSError, AttributeError):
        return
