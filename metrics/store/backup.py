"""Backups of the store and its raw files, and restoring one, while the dashboard runs.

A backup is a directory `safety-backup-YYYYmmdd-HHMMSS/` holding `store.duckdb` (a copy made by DuckDB
itself), `raw/` (every uploaded file, as kept beside the store) and `manifest.json` (when, schema version,
row count of every table, the last audit row the copy holds, and the sha256 and size of every file).

How it stays out of the dashboard's way: the copy is taken through a *read-only* connection (store.connect
retries while another process writes), and DuckDB lets any number of read-only processes share the file,
so the pages keep rendering during the copy. `COPY FROM DATABASE` writes every table, constraint and
sequence position into a new file attached to that connection: the copy is one consistent snapshot, never
a half-written file or a file without its WAL. Only committed uploads' raw files are copied (the retention
rule, raw_files.drop_unnamed_raw_files). The backup is assembled under a hidden `.…partial` name and renamed
only once complete and recorded, so a directory named `safety-backup-…` is always whole and on the trail.

The BACKUP audit row: a read-only connection cannot write it, so it is appended to the live store after the
copy, in a short read-write connection, before the rename. The backup therefore holds the trail up to, not
including, its own BACKUP row; that row names the backup and the last audit row it holds
(`audit_last_id`), so the trail says exactly what the backup contains. If the store is busy for longer than
the timeout at that moment, or the disk is full, the copy is removed and the backup fails: nothing is left
that looks like a backup. A run killed part way leaves only its hidden folder; the next backup into the same
folder (one run at a time, under a lock on it) renames it into place where its BACKUP row was written, and
removes it otherwise.

Restore goes through DuckDB too, into the live file under its write lock (store.connect, read-write): one
transaction drops every table and sequence, copies the backup's in, checks the row counts and the last audit
row against the manifest, upgrades an older backup, keeps the audit rows the store wrote after the backup
(audit.keep: the trail survives a restore, its ids never reused) and appends the RESTORE audit row; a
failure anywhere rolls all of it back. Every name in a manifest must be the store file or a file under raw/,
inside the backup; any other refuses the whole backup before a file is read or written. No file is swapped
under a running process, so the dashboard simply reads the restored data on its next query, and no
stale WAL can be replayed onto the wrong file. (Where there is no store file at all, the backup's file is
put in place with an exclusive link, then the RESTORE row is appended.)
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from metrics import store
from metrics.core.paths import db_path
from metrics.store import audit, raw_files, schema
from metrics.store.audit import Action
from metrics.store.raw_files import raw_dir


def identifier(name: str) -> str:
    """`name` as a quoted SQL identifier (for the {placeholders} of this section)."""
    return '"' + name.replace('"', '""') + '"'
CURRENT_DATABASE = "SELECT current_database()"
# The backup's new store file, attached read-write to the (read-only) connection to the live store.
ATTACH_BACKUP_TARGET = "ATTACH $path AS backup_target (READ_WRITE)"
CHECKPOINT_BACKUP_TARGET = "CHECKPOINT backup_target"
DETACH_BACKUP_TARGET = "DETACH backup_target"
# A backup's store file, attached read-only to the connection that restores it into the live store.
ATTACH_BACKUP_SOURCE = "ATTACH $path AS backup_source (READ_ONLY)"
DETACH_BACKUP_SOURCE = "DETACH backup_source"
# Every table, sequence, constraint and row of one database into another (sequences keep their position).
COPY_DATABASE = "COPY FROM DATABASE {source} TO {target}"
LIST_TABLES = """
SELECT table_name FROM duckdb_tables() WHERE database_name = $database AND schema_name = 'main'
ORDER BY table_name
"""
LIST_SEQUENCES = """
SELECT sequence_name FROM duckdb_sequences() WHERE database_name = $database AND schema_name = 'main'
ORDER BY sequence_name
"""
COUNT_TABLE_ROWS = "SELECT count(*) FROM {database}.main.{table}"
DROP_TABLE = "DROP TABLE {table}"
DROP_SEQUENCE = "DROP SEQUENCE {sequence}"
LAST_AUDIT_ROW = "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"

FORMAT = "safety-backup/1"
MANIFEST = "manifest.json"
STORE_FILE = "store.duckdb"
RAW = "raw"
PREFIX = "safety-backup-"
PARTIAL = ".partial"
FAULT_PAUSE_ENV = "SAFETY_FAULT_PAUSE_IN_BACKUP"
"""Test-only: `copied` or `recorded`, where backup() stops for a minute so a test can kill it (_fault_point)."""
AUDIT_SINCE = 4
"""The schema version that added audit_log: an older store has no trail to append BACKUP or RESTORE to."""


class BackupDamaged(RuntimeError):
    """The backup directory is not exactly what its manifest lists: nothing was changed."""

    def __init__(self, backup_dir: Path, problems: list[str]):
        self.problems = problems
        super().__init__(f"the backup {backup_dir} is damaged or incomplete; nothing was restored:\n  "
                         + "\n  ".join(problems))


class RestoreRefused(RuntimeError):
    """The backup is whole, but restoring it here would lose or contradict something: nothing was changed."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    created_at: datetime
    schema_version: int
    tables: dict[str, int]
    raw_files: int
    bytes: int
    seconds: float
    recorded: bool
    """Whether the BACKUP audit row is in the live store (False: the store has no trail, or was busy)."""
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RestoreResult:
    backup: Path
    db: Path
    backup_created_at: str
    tables: dict[str, int]
    raw_restored: int
    raw_present: int
    replaced: dict | None
    """What the store held before: batches, observations and its last audit row (None: there was no store)."""
    audit_kept: int
    """Rows of the store's audit trail beyond the backup's, kept after them."""
    seconds: float


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _raw_files(directory: Path) -> list[Path]:
    """The kept uploads under `directory` (not the hidden temporary files of a write in progress)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith("."))


def _table_counts(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    tables = [row[0] for row in con.execute(LIST_TABLES, {"database": database}).fetchall()]
    return {t: int(con.execute(COUNT_TABLE_ROWS.format(database=identifier(database),
                                                           table=identifier(t))).fetchall()[0][0])
            for t in tables}


def _last_audit(con: duckdb.DuckDBPyConnection) -> tuple[int | None, str | None]:
    rows = con.execute(LAST_AUDIT_ROW).fetchall()
    return (int(rows[0][0]), rows[0][1]) if rows else (None, None)


def _new_name(out: Path, now: datetime) -> str:
    name = f"{PREFIX}{now:%Y%m%d-%H%M%S}"
    candidate, n = name, 1
    while (out / candidate).exists():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def backup(db: str | Path | None, out: Path, *, actor: str = "cli", timeout: float | None = None) -> BackupResult:
    """Write a complete backup of the store `db` into a new directory under `out`; returns what it holds.

    The order makes a folder named safety-backup-… always whole and on the record: the copy is made under a
    hidden `.…partial` name, its BACKUP audit row is committed, and only then is it renamed into place. A run
    that cannot write the row (the store busy past the wait, a full disk) removes the copy and fails. A run
    killed part way leaves a hidden folder that the next backup into `out` finishes (its row was written) or
    removes (it was not), under a lock on `out` that one run holds at a time."""
    started = time.monotonic()
    source = db_path(db)
    if not source.exists():
        raise store.StoreError(f"no store at {source}: nothing to back up")
    out.mkdir(parents=True, exist_ok=True)
    with _only_run(out, timeout):
        try:
            return _backup(source, out, actor=actor, timeout=timeout, started=started)
        except BaseException as exc:
            if store.is_disk_full(exc):
                raise store.DiskFull(f"the disk holding {out} is full ({exc}): no backup was written and "
                                     f"nothing was left half-written; free some space and run it again") from exc
            raise


def _backup(source: Path, out: Path, *, actor: str, timeout: float | None, started: float) -> BackupResult:
    now = datetime.now()
    with store.connect(source, read_only=True, timeout=timeout) as con:
        version = store.schema_version(con)
        warnings = _finish_or_remove_leftovers(con, out, version)
    name = _new_name(out, now)
    partial = out / f".{name}{PARTIAL}"
    final = out / name
    partial.mkdir()
    try:
        copy = partial / STORE_FILE
        with store.connect(source, read_only=True, timeout=timeout) as con:
            live_name = con.execute(CURRENT_DATABASE).fetchall()[0][0]
            con.execute(ATTACH_BACKUP_TARGET, {"path": str(copy)})
            try:
                con.execute(COPY_DATABASE.format(source=identifier(live_name),
                                                     target=identifier("backup_target")))
                con.execute(CHECKPOINT_BACKUP_TARGET)
                tables = _table_counts(con, "backup_target")
            finally:
                con.execute(DETACH_BACKUP_TARGET)
            last_id, last_hash = _last_audit(con) if version >= AUDIT_SINCE else (None, None)
            committed = raw_files.committed_files(con) if version >= AUDIT_SINCE else None
        # Raw files are written before the batch that names them commits, so every file the copy refers to
        # is already on disk. Only committed files are evidence (raw_files.drop_unnamed_raw_files): a rejected
        # upload's leftover is not copied.
        files: dict[str, dict[str, Any]] = {STORE_FILE: {"sha256": sha256_file(copy), "bytes": copy.stat().st_size}}
        for path in _raw_files(raw_dir(source)):
            if committed is not None and path.name.split(".")[0] not in committed:
                continue
            relative = Path(RAW) / path.relative_to(raw_dir(source))
            target = partial / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            _fsync(target)
            digest = sha256_file(target)
            if not path.name.startswith(digest):
                warnings.append(f"raw file {path} does not match its name (sha256 {digest}): it is damaged")
            files[relative.as_posix()] = {"sha256": digest, "bytes": target.stat().st_size}
        manifest = {"format": FORMAT, "created_at": now.isoformat(timespec="seconds"), "schema_version": version,
                    "source": str(source.resolve()), "tables": tables,
                    "audit_last_id": last_id, "audit_last_hash": last_hash, "files": files}
        text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        (partial / MANIFEST).write_text(text, encoding="utf-8")
        for path in [copy, partial / MANIFEST]:
            _fsync(path)
        size = sum(entry["bytes"] for entry in files.values())
        _fault_point("copied")
        if version >= AUDIT_SINCE:
            with store.connect(source, timeout=timeout) as con:
                audit.record(con, actor, Action.BACKUP, target=str(final.resolve()),
                             detail={"backup": name, "manifest_sha256": hashlib.sha256(text.encode()).hexdigest(),
                                     "tables": tables, "raw_files": len(files) - 1, "bytes": size,
                                     "audit_last_id": last_id})
        _fault_point("recorded")
        os.rename(partial, final)
        _fsync(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupResult(path=final, created_at=now, schema_version=version, tables=tables,
                        raw_files=len(files) - 1, bytes=size, seconds=time.monotonic() - started,
                        recorded=version >= AUDIT_SINCE, warnings=warnings)


@contextmanager
def _only_run(out: Path, timeout: float | None) -> Iterator[None]:
    """Hold a lock on the folder `out` (flock: the system releases it when the process ends, even killed), so
    every hidden `.…partial` folder found there while holding it is a leftover, never a run in progress."""
    wait = float(os.environ.get("SAFETY_DB_TIMEOUT", "15")) if timeout is None else timeout
    deadline = time.monotonic() + wait
    fd = os.open(out, os.O_RDONLY)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise store.StoreBusy(f"another backup is being written into {out}; nothing was changed: try "
                                          f"again when it is done") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def _finish_or_remove_leftovers(con: duckdb.DuckDBPyConnection, out: Path, version: int) -> list[str]:
    """Clear what a killed backup left in `out` (under _only_run): a hidden folder whose BACKUP row the store's
    trail holds (same name, folder and manifest) is whole and on the record, so it is renamed into place; any
    other is an unfinished copy and removed. Returns a sentence for each."""
    done = []
    recorded = _recorded_backups(con) if version >= AUDIT_SINCE else {}
    for leftover in sorted(p for p in out.glob(f".{PREFIX}*{PARTIAL}") if p.is_dir()):
        name = leftover.name[1:-len(PARTIAL)]
        final = out / name
        manifest = leftover / MANIFEST
        row = recorded.get(name)
        if row is not None and row[0] == str(final.resolve()) and manifest.is_file() and not final.exists() \
                and hashlib.sha256(manifest.read_bytes()).hexdigest() == row[1]:  # written after every file's fsync
            os.rename(leftover, final)
            _fsync(out)
            done.append(f"finished {final}: a backup stopped after its BACKUP audit row was written")
            continue
        shutil.rmtree(leftover)
        done.append(f"removed {leftover}: an unfinished backup left by a run that stopped before it was "
                    f"recorded (never a backup)")
    return done


def _recorded_backups(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """Backup name -> (its folder, its manifest's sha256), from the trail's BACKUP rows."""
    rows = audit.entries(con, action=Action.BACKUP.value, limit=1_000_000)
    return {detail["backup"]: (target, detail.get("manifest_sha256"))
            for target, detail in zip(rows["target"], map(json.loads, rows["detail"]))}


def _fault_point(point: str) -> None:
    """Test-only fault injection: stop at `point` for a minute when FAULT_PAUSE_ENV names it, so a test can
    kill the backup there."""
    if os.environ.get(FAULT_PAUSE_ENV) == point:
        print(f"fault injection: pausing at {point}", file=sys.stderr, flush=True)
        time.sleep(60)


def verify_backup(backup_dir: Path) -> dict:
    """The backup's manifest, once every file it lists is present with its size and sha256 and nothing else
    is there; raises BackupDamaged listing every problem otherwise."""
    if backup_dir.name.endswith(PARTIAL):
        raise BackupDamaged(backup_dir, [(f"{backup_dir.name} is the hidden folder of a backup that stopped before "
                                          f"it was finished; the next `backup` into {backup_dir.parent} finishes "
                                          f"or removes it")])
    problems: list[str] = []
    try:
        manifest = json.loads((backup_dir / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupDamaged(backup_dir, [f"no {MANIFEST}: not a backup, or one that was never completed"]) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupDamaged(backup_dir, [f"{MANIFEST} is unreadable: {exc}"]) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or \
            not isinstance(manifest.get("files"), dict) or STORE_FILE not in manifest["files"]:
        raise BackupDamaged(backup_dir, [f"{MANIFEST} is not a {FORMAT} manifest"])
    unsafe = [problem for name, entry in sorted(manifest["files"].items())
              if (problem := _unsafe_name(backup_dir, name) or _unsafe_entry(name, entry))]
    if unsafe:  # before any file it names is opened
        raise BackupDamaged(backup_dir, unsafe)
    for name, entry in sorted(manifest["files"].items()):
        path = backup_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif path.stat().st_size != entry.get("bytes"):
            problems.append(f"{name}: {path.stat().st_size} bytes, the manifest says {entry.get('bytes')}")
        elif sha256_file(path) != entry.get("sha256"):
            problems.append(f"{name}: its content differs from when it was backed up (sha256 mismatch)")
    listed = set(manifest["files"]) | {MANIFEST}
    for path in sorted(p for p in backup_dir.rglob("*") if p.is_file()):
        if path.relative_to(backup_dir).as_posix() not in listed:
            problems.append(f"{path.relative_to(backup_dir).as_posix()}: not in the manifest")
    if problems:
        raise BackupDamaged(backup_dir, problems)
    return manifest


def _unsafe_name(backup_dir: Path, name: str) -> str | None:
    """Why a file name from a manifest may not be used (None: the store file or a file under raw/, inside the
    backup). A manifest is data from outside: a name that climbs out (`raw/../../x`), is absolute, or leads out
    through a link would be read from, and restored to, somewhere else."""
    parts = name.split("/")
    if name != STORE_FILE and (len(parts) < 2 or parts[0] != RAW):
        return f"{name!r}: the manifest names a file that is neither {STORE_FILE} nor under {RAW}/"
    if any(part in ("", ".", "..") for part in parts) or "\\" in name or "\0" in name:
        return (f"{name!r}: the path leads outside the backup's {RAW}/ folder (a '..', '.' or empty part); "
                f"`backup` never writes such a name, so the manifest was made or changed by hand")
    if not (backup_dir / name).resolve().is_relative_to(backup_dir.resolve()):
        return f"{name!r}: the path leads outside the backup through a link"
    return None


def _unsafe_entry(name: str, entry: object) -> str | None:
    """Why a manifest's entry for a file is not what `backup` writes (None: its sha256 and size)."""
    if isinstance(entry, dict) and isinstance(entry.get("sha256"), str) and type(entry.get("bytes")) is int:
        return None
    return f"{name!r}: the manifest's entry is not a sha256 and a size in bytes ({entry!r})"


def describe_store(db: str | Path | None, *, timeout: float | None = None) -> dict | None:
    """What a restore would replace: batches, observations and the last audit row (None: no store)."""
    target = db_path(db)
    if not target.exists():
        return None
    with store.connect(target, read_only=True, timeout=timeout) as con:
        return _describe(con)


def _describe(con: duckdb.DuckDBPyConnection) -> dict:
    version = store.schema_version(con)
    counts = _table_counts(con, con.execute(CURRENT_DATABASE).fetchall()[0][0])
    last_id, last_hash = _last_audit(con) if version >= AUDIT_SINCE else (None, None)
    return {"schema_version": version, "batches": counts.get("batches"),
            "observations": counts.get("observations"), "audit_last_id": last_id, "audit_last_hash": last_hash}


def _restore_raw_files(backup_dir: Path, manifest: dict, directory: Path) -> tuple[int, int]:
    """Copy the backup's raw files that the store lacks (write-once: an existing file is never overwritten;
    one that differs from the backup's copy refuses the restore before anything is written)."""
    raw = {name: entry for name, entry in manifest["files"].items() if name.startswith(f"{RAW}/")}
    conflicts, missing = [], []
    for name, entry in sorted(raw.items()):
        target = directory / Path(name).relative_to(RAW)
        if not target.resolve().is_relative_to(directory.resolve()):
            conflicts.append(f"{target} leads outside {directory} through a link")
        elif not target.exists():
            missing.append((name, target))
        elif sha256_file(target) != entry["sha256"]:
            conflicts.append(f"{target} differs from the backup's copy")
    if conflicts:
        raise RestoreRefused("raw files of the store differ from the backup's copies of the same upload (a kept "
                             "file is write-once, so one of them is damaged) or lead outside its raw/ folder; "
                             "move them aside and run restore again:\n  " + "\n  ".join(conflicts))
    for name, target in missing:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(backup_dir / name, temporary)
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    return len(missing), len(raw) - len(missing)


def _replace_contents(con: duckdb.DuckDBPyConnection, copy: Path, manifest: dict, replaced: audit.Trail,
                      record: Callable[[dict], None]) -> dict:
    """In one transaction: drop every table and sequence of the store, copy the backup's in, check its row counts
    and last audit row against the manifest, upgrade it to this program's schema, keep the store's audit rows
    the backup lacks (audit.keep), move every sequence past where the store's was, call `record` with what was
    kept (the RESTORE row) and check the trail is whole — all or nothing. Returns what was kept."""
    live = con.execute(CURRENT_DATABASE).fetchall()[0][0]
    drawn = dict(con.execute(schema.SEQUENCES_DRAWN).fetchall())
    con.execute(ATTACH_BACKUP_SOURCE, {"path": str(copy)})
    try:
        with store.transaction(con):
            for (table,) in con.execute(LIST_TABLES, {"database": live}).fetchall():
                con.execute(DROP_TABLE.format(table=identifier(table)))
            for (sequence,) in con.execute(LIST_SEQUENCES, {"database": live}).fetchall():
                con.execute(DROP_SEQUENCE.format(sequence=identifier(sequence)))
            con.execute(COPY_DATABASE.format(source=identifier("backup_source"),
                                                 target=identifier(live)))
            counts = _table_counts(con, live)
            if counts != manifest["tables"]:
                raise RestoreRefused(f"the restored tables do not hold the rows the manifest lists "
                                     f"({counts} against {manifest['tables']}); nothing was restored")
            head = _last_audit(con) if int(manifest["schema_version"]) >= AUDIT_SINCE else (None, None)
            if head != (manifest.get("audit_last_id"), manifest.get("audit_last_hash")):
                raise RestoreRefused(f"the backup's audit trail ends at row {head[0]}, but its manifest says row "
                                     f"{manifest.get('audit_last_id')}; nothing was restored")
            store.migrate(con, in_transaction=True)
            kept = audit.keep(con, replaced)
            for sequence, position in con.execute(schema.SEQUENCES_DRAWN).fetchall():
                if drawn.get(sequence, position) > position:
                    con.execute(schema.ADVANCE_SEQUENCE, {"sequence": sequence, "n": drawn[sequence] - position})
            record(kept)
            broken = audit.verify(con)
            if broken:
                raise RestoreRefused("the restored audit trail would not be whole, so nothing was restored:\n  "
                                     + "\n  ".join(broken))
    finally:
        con.execute(DETACH_BACKUP_SOURCE)
    return kept


def restore(backup_dir: Path, db: str | Path | None, *, actor: str = "cli",
            timeout: float | None = None) -> RestoreResult:
    """Replace the store `db` with the backup in `backup_dir` (verified first; a damaged backup changes
    nothing), add the backup's raw files the store lacks, and keep the store's audit trail: the rows it holds
    beyond the backup's stay after them (audit.keep), then the RESTORE row, so no row is lost and no id reused."""
    started = time.monotonic()
    target = db_path(db)
    manifest = verify_backup(backup_dir)
    version = int(manifest["schema_version"])
    if version > store.SCHEMA_VERSION:
        raise RestoreRefused(f"the backup's schema version {version} is newer than this program "
                             f"({store.SCHEMA_VERSION}); restore it with the program that made it")
    copy = backup_dir / STORE_FILE
    detail = {"backup": backup_dir.name, "backup_created_at": manifest["created_at"],
              "tables": manifest["tables"], "audit_last_id_of_backup": manifest.get("audit_last_id")}

    def record(con: duckdb.DuckDBPyConnection, replaced: dict | None, raw_restored: int, kept: dict) -> None:
        audit.record(con, actor, Action.RESTORE, target=str(backup_dir.resolve()),
                     detail={**detail, "raw_files_restored": raw_restored, "replaced": replaced, **kept})

    if target.exists():
        with store.connect(target, timeout=timeout) as con:
            _refuse_a_broken_trail(con, target)
            store.migrate(con)
            replaced, trail = _describe(con), audit.held(con)
            restored, present = _restore_raw_files(backup_dir, manifest, raw_dir(target))
            kept = _replace_contents(con, copy, manifest, trail,
                                     lambda kept: record(con, replaced, restored, kept))
    else:
        replaced, kept = None, {}
        wal = target.with_name(f"{target.name}.wal")
        if wal.exists():
            raise RestoreRefused(f"{wal} is the write-ahead log of a store no longer there; DuckDB would apply it "
                                 f"to the restored file: move it aside and run restore again")
        _refuse_a_backup_with_a_broken_trail(backup_dir, version)
        restored, present = _restore_raw_files(backup_dir, manifest, raw_dir(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.restore")
        shutil.copyfile(copy, temporary)
        _fsync(temporary)
        try:
            os.link(temporary, target)  # fails if a store appeared meanwhile: never replaces one unseen
        except FileExistsError:
            raise RestoreRefused(f"a store appeared at {target} while restoring; run restore again") from None
        finally:
            temporary.unlink()
        with store.connect(target, timeout=timeout) as con:
            store.migrate(con)
            with store.transaction(con):
                record(con, None, restored, {})
    return RestoreResult(backup=backup_dir, db=target, backup_created_at=manifest["created_at"],
                         tables=manifest["tables"], raw_restored=restored, raw_present=present,
                         replaced=replaced, audit_kept=kept.get("audit_rows_kept", 0),
                         seconds=time.monotonic() - started)


def _refuse_a_backup_with_a_broken_trail(backup_dir: Path, version: int) -> None:
    """Where there is no store the backup's file is put in place as it is, so its trail is checked first (where
    there is one, the restore's transaction checks the trail it leaves, backup's and store's together)."""
    if version < AUDIT_SINCE:
        return
    with store.connect(backup_dir / STORE_FILE, read_only=True) as con:
        broken = audit.verify(con)
    if broken:
        raise RestoreRefused(f"the audit trail in the backup {backup_dir} is not whole, so nothing was restored; "
                             f"restore an earlier backup. Its problems:\n  " + "\n  ".join(broken))


def _refuse_a_broken_trail(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """A restore keeps the store's audit trail; one that is not whole would carry its breaks into the restored
    store (or, renumbered, hide them), so the store is kept as evidence instead. Checked before the store is
    upgraded: a refused store is left as it was."""
    if store.schema_version(con) < AUDIT_SINCE:
        return
    broken = audit.verify(con)
    if broken:
        raise RestoreRefused(f"the audit trail of {target} is not whole, and a restore keeps it; nothing was "
                             f"restored. Keep the store as evidence: move it (and any {target.name}.wal) aside, "
                             f"then restore into its place. Its problems:\n  " + "\n  ".join(broken))
