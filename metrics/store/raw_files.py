"""Uploaded files, kept write-once by their sha256 beside the store (data/raw/ for data/safety.duckdb): only
a committed batch's file and a hazard's evidence of rectification are kept for good; any other file goes
(README, docs/rules.md). Backups copy what is kept."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from metrics.store.audit import Action
from metrics.store.connection import Connection, schema_version

COMMITTED_FILES = """
SELECT sha256 FROM batches WHERE sha256 IS NOT NULL
UNION
SELECT json_extract_string(detail, '$.sha256') FROM audit_log
WHERE list_contains(CAST($actions AS VARCHAR[]), action) AND json_extract_string(detail, '$.sha256') IS NOT NULL
"""
EVIDENCE_FILES = "SELECT sha256 FROM hazard_evidence"
EVIDENCE_SINCE = 7
"""The schema version that keeps hazard evidence (metrics/store/schema.py, v7)."""


def raw_dir(db: Path) -> Path:
    """Where uploaded files are kept, beside the store: data/raw/ for data/safety.duckdb."""
    return db.parent / "raw"


def keep_raw_file(data: bytes, file_name: str, directory: Path) -> Path:
    """Store the file write-once under its sha256; an existing copy is never overwritten. The bytes go to a
    hidden temporary file renamed into place when whole; a write that fails (a full disk) removes it."""
    digest = hashlib.sha256(data).hexdigest()
    suffix = Path(file_name).suffix.lower()[:8]
    target = directory / digest[:2] / f"{digest}{suffix}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def committed_files(con: Connection) -> set[str]:
    """The sha256 of every file committed as a batch (rolled back or not, or replaced by a restore since: the
    trail's upload rows name it), of every findings workbook committed to the hazard ledger (its hazard_import
    row names it) and of every hazard's evidence: the kept files that are evidence."""
    actions = [Action.UPLOAD.value, Action.REPLACE.value, Action.HAZARD_IMPORT.value]
    named = {row[0] for row in con.execute(COMMITTED_FILES, {"actions": actions}).fetchall()}
    if schema_version(con) >= EVIDENCE_SINCE:
        named |= {row[0] for row in con.execute(EVIDENCE_FILES).fetchall()}
    return named


def drop_unnamed_raw_files(con: Connection, directory: Path) -> int:
    """Remove from `directory` every kept file never committed (a rejected or unchanged upload, a check never
    committed, an upload that crashed or met a full disk) and every temporary file a killed write left;
    returns how many. The retention rule (README, docs/rules.md): only a committed batch's file is evidence,
    kept for good; any other upload is on the audit trail with its name, size, sha256 and errors, and its file
    goes. Run on a read-write connection, whose lock no other upload holds between keeping its file and
    committing its batch, so no file a batch is about to name can go (a page's check keeps its file again at
    the commit)."""
    named = committed_files(con)
    dropped = 0
    for folder, _, names in os.walk(directory):  # os.walk, not rglob: no stat per file (60,000 files in 0.2 s)
        for name in names:
            temporary = name.startswith(".") and name.endswith(".tmp")
            if temporary or (not name.startswith(".") and name.split(".")[0] not in named):
                Path(folder, name).unlink(missing_ok=True)
                dropped += 1
    return dropped
