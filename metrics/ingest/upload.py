"""The monthly upload: keep the raw file, read it, validate it whole, and commit it whole or not at all.

Re-submitting replaces the (subsidiary, month, indicator) values present in the file; blank cells delete
nothing; every value written is kept in observation_history with what it replaced, so a batch can be rolled
back exactly. A file whose every value equals the store is `unchanged` and writes no batch.
"""
from __future__ import annotations

import gc
import hashlib
import os
import sys
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from metrics import store
from metrics.core import clock
from metrics.core.catalog import Catalog, load_catalog
from metrics.core.limits import MB, Limits, load_limits
from metrics.core.months import add_months, parse_month
from metrics.core.problems import Level, Problem, errors, listed
from metrics.ingest.preview import kept_for_preview
from metrics.ingest.reader import UnreadableFile, size_problem
from metrics.ingest.shape import Cells, shape_cells
from metrics.ingest.validation import CONTEXT_INDICATORS, Reference, Validated, indicator_header_keys, validate
from metrics.ingest.worker import out_of_memory, read_grid_isolated
from metrics.store import Connection, audit, schema
from metrics.store.audit import Action
from metrics.store.raw_files import drop_unnamed_raw_files, keep_raw_file

# Uploads: what an incoming file would change, and writing it. `incoming` is the validated file
# (month, subsidiary, indicator, value); `changes` is the result of CHANGES.
CHANGES = """
SELECT i.month, i.subsidiary, i.indicator, i.value, o.value AS previous_value, o.batch_id AS previous_batch_id
FROM incoming i
LEFT JOIN observations o ON o.month = i.month AND o.subsidiary = i.subsidiary AND o.indicator = i.indicator
WHERE o.value IS NULL OR o.value <> i.value
"""
INSERT_HISTORY_CHANGES = """
INSERT INTO observation_history (batch_id, month, subsidiary, indicator, value, previous_value,
                                 previous_batch_id)
SELECT $batch_id, month, subsidiary, indicator, value, previous_value, previous_batch_id FROM changes
"""
UPSERT_OBSERVATIONS = """
INSERT INTO observations (month, subsidiary, indicator, value, batch_id)
SELECT month, subsidiary, indicator, value, $batch_id FROM changes
ON CONFLICT (month, subsidiary, indicator) DO UPDATE SET value = excluded.value, batch_id = excluded.batch_id
"""
CONTEXT_VALUES = """
SELECT month, subsidiary, indicator, value FROM observations
WHERE list_contains(CAST($indicators AS VARCHAR[]), indicator)
  AND month BETWEEN CAST($first_month AS DATE) AND CAST($last_month AS DATE)
  AND (CAST($units AS VARCHAR[]) IS NULL OR list_contains(CAST($units AS VARCHAR[]), subsidiary))
"""
SELECT_BATCHES = """
SELECT id, created_at, actor, source, file_name, sha256, rows, replaced, status, rolled_back_by, note
FROM batches ORDER BY id DESC
"""
SELECT_BATCH = "SELECT * FROM batches WHERE id = $batch_id"
BATCH_UNITS = "SELECT DISTINCT subsidiary FROM observation_history WHERE batch_id = $batch_id ORDER BY 1"
SELECT_BATCH_CHANGES = """
SELECT h.month, h.subsidiary, u.name_zh, u.name_en, h.indicator, h.value, h.previous_value, h.previous_batch_id
FROM observation_history h
LEFT JOIN subsidiaries u ON u.code = h.subsidiary
LEFT JOIN indicators i ON i.code = h.indicator
WHERE h.batch_id = $batch_id
ORDER BY h.month, h.subsidiary, i.position
"""
# Values of the batch that a later batch has since overwritten (or removed): rolling back would lose them.
ROLLBACK_CONFLICTS = """
SELECT h.month, h.subsidiary, h.indicator, o.batch_id AS current_batch_id
FROM observation_history h
LEFT JOIN observations o ON o.month = h.month AND o.subsidiary = h.subsidiary AND o.indicator = h.indicator
WHERE h.batch_id = $batch_id AND o.batch_id IS DISTINCT FROM $batch_id
"""
INSERT_HISTORY_ROLLBACK = """
INSERT INTO observation_history (batch_id, month, subsidiary, indicator, value, previous_value,
                                 previous_batch_id)
SELECT $rollback_id, month, subsidiary, indicator, previous_value, value, batch_id
FROM observation_history WHERE batch_id = $batch_id
"""
DELETE_ROLLED_BACK_NEW = """
DELETE FROM observations o USING observation_history h
WHERE h.batch_id = $batch_id AND h.previous_value IS NULL
  AND o.month = h.month AND o.subsidiary = h.subsidiary AND o.indicator = h.indicator
"""
RESTORE_ROLLED_BACK = """
UPDATE observations o SET value = h.previous_value, batch_id = h.previous_batch_id
FROM observation_history h
WHERE h.batch_id = $batch_id AND h.previous_value IS NOT NULL
  AND o.month = h.month AND o.subsidiary = h.subsidiary AND o.indicator = h.indicator
"""

# Test-only fault injection: seconds to wait inside the write transaction, just before COMMIT, so a test can
# kill the process mid-import and check that the store is unchanged.
FAULT_PAUSE_ENV = "SAFETY_FAULT_PAUSE_BEFORE_COMMIT"


@dataclass
class ImportResult:
    status: str  # committed | rejected | unchanged
    rows: int = 0
    replaced: int = 0
    problems: list[Problem] = field(default_factory=list)
    batch_id: int | None = None
    sha256: str = ""
    dry_run: bool = False
    shape: str | None = None
    encoding: str | None = None
    observations: pd.DataFrame | None = None
    cells: Cells | None = None
    """The file's cells as read (None: the file could not be read)."""
    error_count: int = 0
    warning_count: int = 0
    """How many errors and warnings the file has in all: `problems` lists at most problems.LISTED_PER_FILE of each."""

    @property
    def headers(self) -> dict[str, str]:
        """role (month, subsidiary, indicator, value, …) -> the header text the file used."""
        return self.cells.headers if self.cells else {}

    @property
    def errors(self) -> list[Problem]:
        return errors(self.problems)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level is Level.WARNING]

    def for_display(self) -> ImportResult:
        """What a page keeps of the check between reruns: the problems, counts and the rows its preview shows,
        without the file's values (`observations`) and its other cells."""
        cells = None if self.cells is None else kept_for_preview(self.cells, self.problems)
        return replace(self, observations=None, cells=cells)

    def as_json(self) -> dict:
        def entry(p: Problem) -> dict:
            return {"row": p.row, "column": p.column, "value": p.value, "message": p.message}

        doc = {"status": self.status, "rows": self.rows, "replaced": self.replaced,
               "errors": [entry(p) for p in self.errors], "warnings": [entry(p) for p in self.warnings],
               "error_count": self.error_count, "warning_count": self.warning_count}
        if self.batch_id is not None:
            doc["batch"] = self.batch_id
        if self.dry_run:
            doc["dry_run"] = True
        return doc


@dataclass(frozen=True)
class RollbackResult:
    batch_id: int
    rollback_batch_id: int
    restored: int
    removed: int


class RollbackRefused(RuntimeError):
    """The batch cannot be rolled back as it is (unknown, already rolled back, or overwritten since)."""


@contextmanager
def kept_while_read(con: Connection, data: bytes, file_name: str,
                    directory: Path | None) -> Iterator[None]:
    """Keep the file in `directory` (None: nowhere) while its upload is read, checked and committed, so a crash
    never loses the file of a batch that commits; afterwards `directory` holds only committed files (this
    one unless it committed, and any left by an earlier upload that crashed are removed)."""
    if directory is None:
        yield
        return
    keep_raw_file(data, file_name, directory)
    try:
        yield
    finally:
        drop_unnamed_raw_files(con, directory)


@contextmanager
def _no_cyclic_gc():
    """Building millions of small row lists makes Python's cycle collector rescan them over and over; the
    rows hold no cycles, so it is paused while a file is shaped (halves the time of a large file)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _months_named(texts: pd.Series) -> list[date]:
    """The months a file names (unparseable ones are left to validation to report)."""
    found = []
    for text in pd.unique(texts):
        try:
            found.append(parse_month(text))
        except ValueError:
            continue
    return found


def _context(con: Connection, months: list[date],
             units: Collection[str] | None = None) -> pd.DataFrame:
    """Stored values the history warnings compare the file with: its months and the month before, of `units`
    only (None: every unit). A unit user's file is compared with their own units' values alone, so no warning
    can quote another unit's stored number."""
    if not months:
        return pd.DataFrame(columns=["month", "subsidiary", "indicator", "value"])
    frame = store.query(con, CONTEXT_VALUES, {"first_month": add_months(min(months), -1),
                                                 "last_month": max(months),
                                                 "units": None if units is None else sorted(units),
                                                 "indicators": list(CONTEXT_INDICATORS)})
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    return frame


def check_file(con: Connection, data: bytes, file_name: str, *, catalog: Catalog | None = None,
               today: date | None = None, units: Collection[str] | None = None, limits: Limits | None = None
               ) -> tuple[Validated, Cells | None, str | None]:
    """Read (in a worker process, within `limits`; None: data/limits.toml) and validate a file against the store
    without writing: (validated, cells, encoding). `units`: the only units whose stored values the file is
    compared with (None: every unit)."""
    catalog, limits = catalog or load_catalog(), limits or load_limits()
    try:
        grid = read_grid_isolated(data, file_name, limits)
        try:
            with _no_cyclic_gc():
                cells = shape_cells(grid.rows, indicator_header_keys(catalog), delimiter=grid.delimiter,
                                    formulas=grid.formulas)
            encoding = grid.encoding
            del grid  # the text grid of a large file is large; only the cells are needed from here
            reference = Reference(catalog=catalog, units=store.query(con, schema.SELECT_UNITS),
                                  today=today or clock.today(),
                                  context=_context(con, _months_named(cells.frame["month"]), units))
            return validate(cells, reference), cells, encoding
        except MemoryError:  # the process ran out while checking what the worker read (pyarrow's error is one too)
            raise out_of_memory(limits) from None
    except UnreadableFile as exc:
        empty = pd.DataFrame(columns=["month", "subsidiary", "indicator", "value", "row"])
        problem = Problem(exc.row, None, file_name if exc.row is None else None, str(exc), message_zh=exc.message_zh)
        return Validated(empty, [problem]), None, None


def _changes(con: Connection, observations: pd.DataFrame) -> pd.DataFrame:
    incoming = observations[["month", "subsidiary", "indicator", "value"]]
    with store.registered(con, incoming):
        return con.execute(CHANGES).df()


def foreign_unit_problems(observations: pd.DataFrame, allowed_units: Collection[str],
                          column: str = "subsidiary") -> list[Problem]:
    """One error per row that names a unit outside `allowed_units` (a unit user's own subsidiaries), in the
    file's unit `column`."""
    allowed = set(allowed_units)
    foreign = observations[~observations["subsidiary"].isin(allowed)].drop_duplicates("row")
    mine = "、".join(sorted(allowed))
    return [Problem(int(r.row), column, r.subsidiary,
                    f"unit {r.subsidiary} is not one of yours ({', '.join(sorted(allowed))}); remove its rows "
                    f"or ask the group safety department to upload them",
                    message_zh=f"单位 {r.subsidiary} 不是你负责的单位（{mine}）；请删除这些行，或请集团安全部上传")
            for r in foreign.itertuples(index=False)]


def _no_warnings_on_foreign_rows(problems: list[Problem], observations: pd.DataFrame,
                                 allowed_units: Collection[str]) -> list[Problem]:
    """`problems` without the warnings on rows of units outside `allowed_units`: a warning speaks about its
    unit's data (a blank in the store, last month's hours), which is not the uploader's to see. The row's
    errors stay (they are about the file's own text), led by foreign_unit_problems."""
    foreign = set(observations.loc[~observations["subsidiary"].isin(set(allowed_units)), "row"])
    return [p for p in problems if p.level is not Level.WARNING or p.row not in foreign]


def import_file(con: Connection, data: bytes, file_name: str, *, actor: str,
                dry_run: bool = False, raw_directory: Path | None = None, today: date | None = None,
                catalog: Catalog | None = None, allowed_units: Collection[str] | None = None,
                record_rejection: bool | None = None, created_at: datetime | None = None,
                then: Callable[[Connection, pd.DataFrame], object] | None = None) -> ImportResult:
    """Validate `data` whole; unless rejected, unchanged or a dry run, commit it as one batch.

    `allowed_units`: the only units the file may carry (a unit user's); a row of any other rejects the whole
    file. Every upload that is not a dry run is on the audit trail, one row each (`record_rejection` also
    records a rejected dry run: the page's check is where a user's upload is refused). `created_at`: the
    batch's time (None: now); a rebuild replays an upload at the time it was first committed. `raw_directory`:
    where the file is kept while it is imported, and for good once its batch commits (kept_while_read). `then`:
    what follows from the batch, written in its transaction (given the changes written: month, subsidiary,
    indicator, value...), so both commit or neither does.
    """
    with kept_while_read(con, data, file_name, None if dry_run else raw_directory):
        return _checked_and_committed(con, data, file_name, actor=actor, dry_run=dry_run, today=today,
                                      catalog=catalog, allowed_units=allowed_units,
                                      record_rejection=record_rejection, created_at=created_at, then=then)


def _checked_and_committed(con: Connection, data: bytes, file_name: str, *, actor: str,
                           dry_run: bool, today: date | None, catalog: Catalog | None,
                           allowed_units: Collection[str] | None, record_rejection: bool | None,
                           created_at: datetime | None,
                           then: Callable[[Connection, pd.DataFrame], object] | None) -> ImportResult:
    """import_file's work while the file is kept: validate, then commit or record why not."""
    digest = hashlib.sha256(data).hexdigest()
    validated, cells, encoding = check_file(con, data, file_name, catalog=catalog, today=today, units=allowed_units)
    problems = validated.problems
    if allowed_units is not None:
        column = cells.headers.get("subsidiary", "subsidiary") if cells else "subsidiary"
        problems = foreign_unit_problems(validated.observations, allowed_units, column) + \
            _no_warnings_on_foreign_rows(problems, validated.observations, allowed_units)
    error_count = len(errors(problems))
    result = ImportResult(status="rejected", problems=listed(problems), sha256=digest, dry_run=dry_run,
                          shape=cells.shape if cells else None, encoding=encoding,
                          observations=validated.observations, cells=cells, error_count=error_count,
                          warning_count=len(problems) - error_count)
    detail = {"file": file_name, "sha256": digest, "bytes": len(data)}
    if result.errors:
        if not dry_run if record_rejection is None else record_rejection:
            _record_rejection(con, actor, file_name, detail, result)
        return result
    changes = _changes(con, validated.observations)
    result.rows = len(changes)
    result.replaced = int(changes["previous_value"].notna().sum())
    if changes.empty:
        result.status = "unchanged"
        if not dry_run:
            audit.record(con, actor, Action.UPLOAD_UNCHANGED, target=file_name, detail=detail)
        return result
    result.status = "committed"
    if dry_run:
        return result
    with store.registered(con, changes, "changes"), store.transaction(con):
        batch_id = con.execute(schema.NEXT_BATCH_ID).fetchall()[0][0]
        con.execute(schema.INSERT_BATCH, {"id": batch_id, "created_at": created_at, "actor": actor, "source": "upload",
                                       "note": None,
                                       "file_name": file_name, "sha256": digest, "rows": result.rows,
                                       "replaced": result.replaced})
        con.execute(INSERT_HISTORY_CHANGES, {"batch_id": batch_id})
        con.execute(UPSERT_OBSERVATIONS, {"batch_id": batch_id})
        audit.record(con, actor, Action.REPLACE if result.replaced else Action.UPLOAD, target=file_name,
                     detail={**detail, "batch": int(batch_id), "rows": result.rows, "replaced": result.replaced,
                             "units": sorted(set(changes["subsidiary"])),
                             "months": sorted({f"{pd.Timestamp(m):%Y-%m}" for m in changes["month"]})})
        if then is not None:
            then(con, changes)
        pause = float(os.environ.get(FAULT_PAUSE_ENV, "0") or 0)
        if pause:
            print(f"fault injection: pausing {pause:g} s before COMMIT", file=sys.stderr, flush=True)
            time.sleep(pause)
    result.batch_id = batch_id
    return result


def _record_rejection(con: Connection, actor: str, file_name: str, detail: dict,
                      result: ImportResult) -> None:
    audit.record(con, actor, Action.UPLOAD_REJECTED, target=file_name, outcome=audit.Outcome.REFUSED,
                 detail={**detail, "errors": result.error_count, "first_errors": [str(p) for p in result.errors[:5]]})


def refuse_oversized(con: Connection, file: Path, *, actor: str, dry_run: bool,
                     limits: Limits | None = None) -> ImportResult | None:
    """A file on disk beyond the size limit, refused before it is read (the command line would read it whole):
    on the audit trail as any rejection, its sha256 hashed a megabyte at a time. None: the size is allowed."""
    size = file.stat().st_size
    problem = size_problem(size, limits or load_limits())
    if problem is None:
        return None
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        while chunk := stream.read(MB):
            digest.update(chunk)
    result = ImportResult(status="rejected", sha256=digest.hexdigest(), dry_run=dry_run, error_count=1,
                          problems=[Problem(None, None, file.name, str(problem), message_zh=problem.message_zh)])
    if not dry_run:
        _record_rejection(con, actor, file.name, {"file": file.name, "sha256": result.sha256, "bytes": size}, result)
    return result


def rollback(con: Connection, batch_id: int, *, actor: str,
             created_at: datetime | None = None) -> RollbackResult:
    """Restore exactly what `batch_id` replaced (and remove what it added), recorded as a new batch
    (created at `created_at`, None: now)."""
    batch = store.query(con, SELECT_BATCH, {"batch_id": batch_id})
    if batch.empty:
        raise RollbackRefused(f"there is no batch {batch_id}")
    if batch.iloc[0]["source"] == "rollback":
        raise RollbackRefused(f"batch {batch_id} is itself a rollback; upload the file again instead")
    if batch.iloc[0]["status"] != "committed":
        raise RollbackRefused(f"batch {batch_id} was already rolled back (by batch "
                              f"{int(batch.iloc[0]['rolled_back_by'])})")
    conflicts = store.query(con, ROLLBACK_CONFLICTS, {"batch_id": batch_id})
    if not conflicts.empty:
        later = sorted({int(b) for b in conflicts["current_batch_id"].dropna()})
        raise RollbackRefused(f"{len(conflicts)} values of batch {batch_id} were changed since by batch(es) "
                              f"{', '.join(map(str, later)) or '(removed)'}; roll those back first")
    changes = store.query(con, SELECT_BATCH_CHANGES, {"batch_id": batch_id})
    with store.transaction(con):
        rollback_id = con.execute(schema.NEXT_BATCH_ID).fetchall()[0][0]
        con.execute(schema.INSERT_BATCH, {"id": rollback_id, "created_at": created_at, "actor": actor,
                                       "source": "rollback",
                                       "note": f"rollback of batch {batch_id}", "file_name": None,
                                       "sha256": None, "rows": len(changes),
                                       "replaced": int(changes["previous_value"].notna().sum())})
        con.execute(INSERT_HISTORY_ROLLBACK, {"rollback_id": rollback_id, "batch_id": batch_id})
        con.execute(DELETE_ROLLED_BACK_NEW, {"batch_id": batch_id})
        con.execute(RESTORE_ROLLED_BACK, {"batch_id": batch_id})
        con.execute(schema.MARK_ROLLED_BACK, {"batch_id": batch_id, "rollback_id": rollback_id})
        audit.record(con, actor, Action.ROLLBACK, target=f"batch {batch_id}",
                     detail={"batch": batch_id, "rollback_batch": int(rollback_id), "values": len(changes)})
    return RollbackResult(batch_id=batch_id, rollback_batch_id=rollback_id,
                          restored=int(changes["previous_value"].notna().sum()),
                          removed=int(changes["previous_value"].isna().sum()))


def batches(con: Connection) -> pd.DataFrame:
    return store.query(con, SELECT_BATCHES)


def batch_changes(con: Connection, batch_id: int) -> pd.DataFrame:
    return store.query(con, SELECT_BATCH_CHANGES, {"batch_id": batch_id})
