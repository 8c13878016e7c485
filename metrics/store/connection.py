"""Opening the DuckDB store, upgrading its schema, and loading reference data.

How the store is held (see README, "The store and concurrency"): every use opens a short-lived connection
and closes it, so a command-line import can take the file between two page renders. Within one process a
lock serialises connections, because DuckDB refuses to open one file with two configurations (read-only
and read-write) at once, and a connection must not be shared between Streamlit's session threads.
A connection that finds the file locked by another process retries until `timeout`, then raises StoreBusy;
a full disk met inside a connection's block (DuckDB's commit, a kept raw file) is raised as DiskFull. Both
say that nothing was changed: the one place the pages open the store (ui/data.py) and the command line show
their sentence instead of a traceback.
"""
from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from metrics.core.catalog import Catalog, load_catalog
from metrics.core.paths import GRADES_FILE, SECTORS_FILE, db_path
from metrics.store import audit, schema

SCHEMA_VERSION_TABLE_EXISTS = """
SELECT count(*) FROM information_schema.tables WHERE table_name = 'store_meta' AND table_schema = 'main'
"""
UPSERT_INDICATORS = """
INSERT INTO indicators BY NAME SELECT * FROM incoming
ON CONFLICT (code) DO UPDATE SET
    position = excluded.position, name_zh = excluded.name_zh, name_en = excluded.name_en,
    unit_zh = excluded.unit_zh, unit_en = excluded.unit_en, kind = excluded.kind,
    direction = excluded.direction, category = excluded.category, rollup = excluded.rollup,
    numerator = excluded.numerator, denominator = excluded.denominator, factor = excluded.factor,
    description = excluded.description, ledger = excluded.ledger,
    definition_zh = excluded.definition_zh, definition_en = excluded.definition_en
"""
UPSERT_SECTORS = """
INSERT INTO sectors BY NAME SELECT * FROM incoming
ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en
"""
UPSERT_GRADES = """
INSERT INTO grades BY NAME SELECT * FROM incoming
ON CONFLICT (grade) DO UPDATE SET min_score = excluded.min_score, name_zh = excluded.name_zh,
    name_en = excluded.name_en
"""
UPSERT_UNITS = """
INSERT INTO subsidiaries BY NAME SELECT * FROM incoming
ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
    sector = excluded.sector
"""
COUNT_SECTORS = "SELECT count(*) FROM sectors"
DELETE_TARGETS_OF_YEAR = "DELETE FROM targets WHERE year = $year"
INSERT_TARGETS = "INSERT INTO targets BY NAME SELECT * FROM incoming"
# `incoming` carries the batch_id of each row (one statement writes several batches).
INSERT_OBSERVATIONS_NEW = """
INSERT INTO observations (month, subsidiary, indicator, value, batch_id)
SELECT month, subsidiary, indicator, value, batch_id FROM incoming
"""
INSERT_HISTORY_NEW = """
INSERT INTO observation_history (batch_id, month, subsidiary, indicator, value, previous_value,
                                 previous_batch_id)
SELECT batch_id, month, subsidiary, indicator, value, NULL, NULL FROM incoming
"""

SCHEMA_VERSION = len(schema.MIGRATIONS)
# What the other parts annotate a connection with, and the error any statement may raise.
Connection = duckdb.DuckDBPyConnection
DatabaseError = duckdb.Error
_PROCESS_LOCK = threading.RLock()


class StoreBusy(RuntimeError):
    """Another process holds the store file longer than the wait: nothing was done."""


class DiskFull(RuntimeError):
    """The disk (or the quota) is full: what was being written was not, and nothing was changed."""


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(exc: BaseException) -> bool:
    """An OSError of a full disk or quota, DuckDB's report of one (it quotes the system's words), or DiskFull."""
    if isinstance(exc, DiskFull):
        return True
    if isinstance(exc, OSError):
        return exc.errno in _DISK_FULL
    return isinstance(exc, duckdb.Error) and any(os.strerror(code) in str(exc) for code in _DISK_FULL)


class StoreError(RuntimeError):
    """The store file is not usable as it is (missing, too new, not initialised)."""


def _is_lock_conflict(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


@contextmanager
def connect(path: str | Path | None = None, *, read_only: bool = False,
            timeout: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection to the store, retried while another process holds the file.

    The wait defaults to $SAFETY_DB_TIMEOUT seconds, else 15.
    """
    target = db_path(path)
    if timeout is None:
        timeout = float(os.environ.get("SAFETY_DB_TIMEOUT", "15"))
    if read_only and not target.exists():
        raise StoreError(f"no store at {target}: run `python -m metrics init` first")
    target.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with _PROCESS_LOCK:
        while True:
            try:
                con = duckdb.connect(str(target), read_only=read_only)
                break
            except duckdb.IOException as exc:
                if not _is_lock_conflict(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"the store {target} is in use by another process (an import, a backup or the "
                        f"dashboard writing) for longer than {timeout:g} s; nothing was changed: try again in "
                        f"a minute"
                    ) from exc
                time.sleep(0.1)
        try:
            yield con
        except (OSError, duckdb.Error) as exc:
            if is_disk_full(exc):
                raise DiskFull(f"the disk is full ({exc}); nothing was changed: free some space there and try "
                               f"again") from exc
            raise
        finally:
            con.close()


def meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = con.execute(schema.GET_META, {"key": key}).fetchall()
    return rows[0][0] if rows else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute(schema.SET_META, {"key": key, "value": value})


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    if con.execute(SCHEMA_VERSION_TABLE_EXISTS).fetchall()[0][0] == 0:
        return 0
    rows = con.execute(schema.GET_META, {"key": "schema_version"}).fetchall()
    return int(rows[0][0]) if rows else 0


def migrate(con: duckdb.DuckDBPyConnection, *, in_transaction: bool = False) -> int:
    """Upgrade the store to the current schema, one version per transaction, or all of it inside the caller's
    (`in_transaction`: a restore upgrades an older backup with the rest of its work); rows are kept."""
    version = schema_version(con)
    if version > SCHEMA_VERSION:
        raise StoreError(f"store schema version {version} is newer than this program ({SCHEMA_VERSION})")
    for target_version in range(version + 1, SCHEMA_VERSION + 1):
        with nullcontext() if in_transaction else transaction(con):
            con.execute(schema.MIGRATIONS[target_version - 1])
            con.execute(schema.SET_META, {"key": "schema_version", "value": str(target_version)})
    return SCHEMA_VERSION


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit when the block ends, roll back when it raises. A transaction opened inside another
    on the same connection joins it (a write and what follows from it, e.g. an upload and the ledger's figures,
    commit together): only the outermost block commits or rolls back."""
    if id(con) in _IN_TRANSACTION:
        yield con
        return
    con.execute("BEGIN TRANSACTION")
    _IN_TRANSACTION.add(id(con))
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        _IN_TRANSACTION.discard(id(con))
    con.execute("COMMIT")


_IN_TRANSACTION: set[int] = set()
"""The connections (by id) inside a transaction block."""


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, name: str = "incoming") -> Iterator[None]:
    """Expose a DataFrame to SQL as `incoming` for the duration of the block."""
    con.register(name, frame)
    try:
        yield
    finally:
        con.unregister(name)


def _upsert(con: duckdb.DuckDBPyConnection, statement: str, frame: pd.DataFrame) -> None:
    with registered(con, frame):
        con.execute(statement)


def catalog_frame(catalog: Catalog) -> pd.DataFrame:
    rows = []
    for position, ind in enumerate(catalog.indicators):
        row = asdict(ind)
        row.update(position=position, kind=ind.kind.value, direction=ind.direction.value,
                   category=ind.category.value, rollup=ind.rollup.value if ind.rollup else None,
                   ledger=ind.ledger.value if ind.ledger else None)
        rows.append(row)
    return pd.DataFrame(rows).astype({"factor": "float64"})


def load_reference_data(con: duckdb.DuckDBPyConnection, catalog: Catalog | None = None, *,
                        actor: str = "system") -> None:
    """Load the catalog and grades from data/ into the store (in one transaction); a new catalog version is on
    the audit trail. The sectors of data/ only go into a store that holds none: after that the store's own are
    read (and changed by `sectors import`, metrics.ingest.sectors)."""
    catalog = catalog or load_catalog()
    held = meta(con, "catalog_version")
    with transaction(con):
        if held != str(catalog.version):
            audit.record(con, actor, audit.Action.CATALOG_CHANGE, target="catalog",
                         detail={"from": held, "to": str(catalog.version),
                                 "indicators": len(catalog.indicators)})
        _upsert(con, UPSERT_INDICATORS, catalog_frame(catalog))
        if not scalar(con, COUNT_SECTORS):
            _upsert(con, UPSERT_SECTORS, pd.read_csv(SECTORS_FILE, dtype=str))
        _upsert(con, UPSERT_GRADES, pd.read_csv(GRADES_FILE, dtype={"grade": str, "min_score": float}))
        con.execute(schema.SET_META, {"key": "catalog_version", "value": str(catalog.version)})


def upsert_units(con: duckdb.DuckDBPyConnection, units: pd.DataFrame, *, actor: str) -> None:
    """Add or rename units, in one transaction with its audit row."""
    frame = units[["code", "name_zh", "name_en", "sector"]]
    before = query(con, schema.SELECT_UNITS).set_index("code")[["name_zh", "name_en", "sector"]]
    changed = [r.code for r in frame.itertuples(index=False)
               if r.code not in before.index or tuple(before.loc[r.code]) != (r.name_zh, r.name_en, r.sector)]
    with registered(con, frame), transaction(con):
        con.execute(UPSERT_UNITS)
        audit.record(con, actor, audit.Action.UNITS_CHANGE, target="units",
                     detail={"units": len(frame), "added_or_changed": changed})


def upsert_sectors(con: duckdb.DuckDBPyConnection, sectors: pd.DataFrame, changed: list[str], *,
                   actor: str) -> list[str]:
    """Add or rename sectors (code, name_zh, name_en), in one transaction with its audit row naming the codes
    `changed`; returns them."""
    with registered(con, sectors[["code", "name_zh", "name_en"]]), transaction(con):
        con.execute(UPSERT_SECTORS)
        audit.record(con, actor, audit.Action.SECTORS_CHANGE, target="sectors",
                     detail={"sectors": len(sectors), "added_or_changed": changed})
    return changed


TARGET_FIELDS = ("target", "limit", "weight", "veto")


def target_changes(before: pd.DataFrame, after: pd.DataFrame) -> list[dict]:
    """Each changed number of the target table: year, subsidiary, indicator, field, old and new value
    (None where the row did not exist or no longer exists). `limit` holds the limit column."""
    keys = ["year", "subsidiary", "indicator"]
    merged = before.merge(after, on=keys, how="outer", suffixes=("_old", "_new"), indicator=True)
    changes = []
    for row in merged.to_dict("records"):
        for name in TARGET_FIELDS:
            old = None if row["_merge"] == "right_only" or pd.isna(row[f"{name}_old"]) else row[f"{name}_old"]
            new = None if row["_merge"] == "left_only" or pd.isna(row[f"{name}_new"]) else row[f"{name}_new"]
            if old != new:
                changes.append({"year": int(row["year"]), "subsidiary": row["subsidiary"],
                                "indicator": row["indicator"], "field": name, "old": old, "new": new})
    return changes


def replace_targets(con: duckdb.DuckDBPyConnection, targets: pd.DataFrame, *, actor: str,
                    source: str = "") -> list[dict]:
    """Replace every target of each year present in `targets`, in one transaction with its audit row (which
    lists every number that changed); returns those changes."""
    frame = targets.rename(columns={"limit": "limit_value"})[
        ["year", "subsidiary", "indicator", "target", "limit_value", "weight", "veto"]]
    years = [int(y) for y in sorted(frame["year"].unique())]
    before = pd.concat([query(con, schema.SELECT_TARGETS_OF_YEAR, {"year": y}) for y in years])
    after = frame.rename(columns={"limit_value": "limit"})
    held = set(before["year"].astype(int))
    changes = [c for c in target_changes(before.astype({"year": int}), after.astype({"year": int}))
               if c["year"] in held]  # a year's first letter is listed by its row count, not number by number
    with registered(con, frame), transaction(con):
        for year in years:
            con.execute(DELETE_TARGETS_OF_YEAR, {"year": year})
        con.execute(INSERT_TARGETS)
        audit.record(con, actor, audit.Action.TARGETS_CHANGE, target=", ".join(map(str, years)),
                     detail={"source": source, "rows": len(frame), "changes": changes})
    return changes


def insert_new_batch(con: duckdb.DuckDBPyConnection, observations: pd.DataFrame, *, actor: str,
                     source: str, note: str | None = None, created_at: datetime | None = None) -> int:
    """Write observations that are new to the store as one batch, in one transaction."""
    batches = pd.DataFrame({"key": [0], "created_at": [created_at], "note": [note]})
    return insert_new_batches(con, observations.assign(key=0), batches, actor=actor, source=source)[0]


def insert_new_batches(con: duckdb.DuckDBPyConnection, observations: pd.DataFrame, batches: pd.DataFrame, *,
                       actor: str, source: str) -> list[int]:
    """Write observations that are new to the store as several batches in one transaction.

    `batches` has one row per batch: key, created_at (None: now), note; each observation names its batch
    by `key`. Returns the batch ids in the order of `batches` (ids are drawn before the transaction: a
    sequence is not transactional, so a failed write leaves a gap, never a reused id).
    """
    rows = observations.groupby("key").size()
    ids = [con.execute(schema.NEXT_BATCH_ID).fetchall()[0][0] for _ in range(len(batches))]
    frame = observations.assign(batch_id=observations["key"].map(dict(zip(batches["key"], ids))))
    with registered(con, frame[["month", "subsidiary", "indicator", "value", "batch_id"]]), transaction(con):
        for batch_id, b in zip(ids, batches.itertuples(index=False)):
            created = None if b.created_at is None or pd.isna(b.created_at) else b.created_at
            con.execute(schema.INSERT_BATCH, {"id": batch_id, "created_at": created, "actor": actor,
                                           "source": source, "note": b.note, "file_name": None, "sha256": None,
                                           "rows": int(rows.get(b.key, 0)), "replaced": 0})
        con.execute(INSERT_OBSERVATIONS_NEW)
        con.execute(INSERT_HISTORY_NEW)
    return ids


def query(con: duckdb.DuckDBPyConnection, statement: str, params: dict | None = None) -> pd.DataFrame:
    return con.execute(statement, params or {}).df()


def scalar(con: duckdb.DuckDBPyConnection, statement: str, params: dict | None = None):
    return con.execute(statement, params or {}).fetchall()[0][0]
