"""Backup and restore: a restored store equals the original table by table, a damaged backup is refused
and changes nothing, and a backup never waits on, blocks or includes the uncommitted work of a writer."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from metrics import audit, backup, store, upload
from tests.test_rebuild import cli, import_file, three_uploads_and_a_rollback
from tests.test_upload import ROOT, big_history_file


def tables(path) -> dict:
    """Every table of the store, sorted, by name."""
    with store.connect(path, read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
                 .fetchall()]
        return {n: store.query(con, f'SELECT * FROM "{n}" ORDER BY ALL') for n in sorted(names)}


def next_ids(path) -> dict:
    """The next value of every sequence (on a scratch copy: nextval writes)."""
    scratch = path.with_name(f"scratch-{path.name}")
    shutil.copy(path, scratch)
    con = duckdb.connect(str(scratch))
    try:
        names = [r[0] for r in con.execute("SELECT sequence_name FROM duckdb_sequences()").fetchall()]
        return {n: con.execute(f"SELECT nextval('{n}')").fetchall()[0][0] for n in names}
    finally:
        con.close()
        scratch.unlink()


def the_backup(folder):
    found = sorted(folder.glob("safety-backup-*"))
    assert len(found) == 1, found
    return found[0]


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_restore_gives_back_the_store_as_it_was_at_the_backup(db, tmp_path):
    three_uploads_and_a_rollback(db, tmp_path)
    reference = tmp_path / "at-backup.duckdb"
    shutil.copy(db, reference)
    before, ids_before = tables(reference), next_ids(reference)
    done = cli(db, "backup", "--out", tmp_path / "backups", "--actor", "ops")
    assert done.returncode == 0, done.stderr
    folder = the_backup(tmp_path / "backups")
    assert f"backup written: {folder}" in done.stdout
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"] == {name: len(frame) for name, frame in before.items()}
    assert manifest["audit_last_id"] == before["audit_log"]["id"].max()
    raw_names = sorted(name for name in manifest["files"] if name.startswith("raw/"))
    assert len(raw_names) == 3 and all((folder / n).read_bytes() == (db.parent / n).read_bytes() for n in raw_names)
    assert not list((tmp_path / "backups").glob(".*"))  # no partial left behind
    with store.connect(db, read_only=True) as con:
        row = audit.entries(con).iloc[0]
        assert (row["action"], row["actor"]) == ("backup", "ops")
        assert json.loads(row["detail"])["audit_last_id"] == manifest["audit_last_id"]

    later = import_file(db, tmp_path, "november.csv", "month,subsidiary,indicator,value\n2026-10,PW01,injuries,3\n",
                        "wang")
    assert tables(db)["batches"]["id"].max() == later
    changed = sha(db)
    refused = cli(db, "restore", folder)
    assert refused.returncode == 1 and "--yes" in refused.stderr and "The backup checks out" in refused.stderr
    assert sha(db) == changed

    done = cli(db, "restore", folder, "--yes", "--actor", "ops")
    assert done.returncode == 0, done.stderr
    after = tables(db)
    for name, frame in before.items():
        if name != "audit_log":
            assert after[name].equals(frame), name
    trail = after["audit_log"]
    assert trail.iloc[:-1].equals(before["audit_log"])
    restore_row = trail.iloc[-1]
    assert (restore_row["action"], restore_row["actor"]) == ("restore", "ops")
    assert json.loads(restore_row["detail"])["replaced"]["batches"] == len(before["batches"]) + 1
    with store.connect(db, read_only=True) as con:
        assert audit.verify(con) == []
    assert next_ids(db) == {**ids_before, "audit_ids": ids_before["audit_ids"] + 1}
    assert len(list(upload.raw_dir(db).rglob("*.csv"))) == 4  # the later upload's file stays (write-once)

    fresh = tmp_path / "elsewhere" / "new.duckdb"  # restoring where there is no store needs no --yes
    done = cli(fresh, "restore", folder)
    assert done.returncode == 0, done.stderr
    restored = tables(fresh)
    assert all(restored[n].equals(f) for n, f in before.items() if n != "audit_log")
    assert restored["audit_log"].iloc[:-1].equals(before["audit_log"])
    assert sorted(p.name for p in upload.raw_dir(fresh).rglob("*.csv")) == sorted(n.split("/")[-1] for n in raw_names)


def flip_a_byte(folder):
    path = folder / "store.duckdb"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return "store.duckdb: its content differs"


def delete_a_raw_file(folder):
    victim = sorted(folder.glob("raw/*/*"))[0]
    victim.unlink()
    return f"{victim.relative_to(folder).as_posix()}: missing"


def drop_the_manifest(folder):
    (folder / "manifest.json").unlink()
    return "no manifest.json"


@pytest.mark.parametrize("damage", [flip_a_byte, delete_a_raw_file, drop_the_manifest])
def test_a_damaged_backup_is_refused_and_the_store_is_left_byte_for_byte(db, tmp_path, damage):
    import_file(db, tmp_path, "october.csv", "month,subsidiary,indicator,value\n2026-10,LG02,injuries,1\n", "wang")
    folder = backup.backup(db, tmp_path / "backups").path
    import_file(db, tmp_path, "november.csv", "month,subsidiary,indicator,value\n2026-10,PW01,injuries,3\n", "wang")
    expected = damage(folder)
    digest = sha(db)
    done = cli(db, "restore", folder, "--yes")
    assert done.returncode == 1
    assert "damaged or incomplete; nothing was restored" in done.stderr and expected in done.stderr
    assert sha(db) == digest


def test_a_failure_inside_the_restore_rolls_all_of_it_back(db, tmp_path, monkeypatch):
    result = backup.backup(db, tmp_path / "backups", actor="ops")
    import_file(db, tmp_path, "november.csv", "month,subsidiary,indicator,value\n2026-10,PW01,injuries,3\n", "wang")
    before = tables(db)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(backup.audit, "record", fail)  # the RESTORE row is the last step of the transaction
    with pytest.raises(RuntimeError, match="disk full"):
        backup.restore(result.path, db, actor="ops")
    after = tables(db)
    assert after.keys() == before.keys() and all(after[n].equals(before[n]) for n in before)


def test_a_backup_waits_for_a_writer_and_holds_none_of_its_uncommitted_values(db, tmp_path):
    source = tmp_path / "big.csv"
    big_history_file(source)
    before = tables(db)
    writer = subprocess.Popen([sys.executable, "-m", "metrics", "import", str(source)], cwd=ROOT,
                              env={**os.environ, "SAFETY_DB": str(db), upload.FAULT_PAUSE_ENV: "60"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "pausing" in writer.stderr.readline()  # every value is written, COMMIT is next
        backup_run = subprocess.Popen([sys.executable, "-m", "metrics", "backup", "--out", str(tmp_path / "b")],
                                      cwd=ROOT, env={**os.environ, "SAFETY_DB": str(db), "SAFETY_DB_TIMEOUT": "60"},
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(4)
        assert backup_run.poll() is None  # still waiting for the writer
        writer.send_signal(signal.SIGKILL)
        out, err = backup_run.communicate(timeout=120)
    finally:
        writer.kill()
        writer.wait()
    assert backup_run.returncode == 0, err
    copy = the_backup(tmp_path / "b") / "store.duckdb"
    held = tables(copy)
    assert held["observations"].equals(before["observations"])
    assert held["batches"].equals(before["batches"])


def test_a_store_busy_past_the_timeout_fails_clearly_and_leaves_no_backup(db, tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(60)", str(db)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        done = cli(db, "backup", "--out", tmp_path / "b", env={"SAFETY_DB_TIMEOUT": "1"})
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1 and "in use by another process" in done.stderr
    assert list((tmp_path / "b").iterdir()) == []


def test_a_backup_shares_the_store_with_a_reader(db, tmp_path):
    """A dashboard page holding a read-only connection does not stop the copy; only the BACKUP audit row needs
    the store to itself, and when it cannot have it in time the complete backup says so."""
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; "
                               "c = duckdb.connect(sys.argv[1], read_only=True); print('open', flush=True); "
                               "time.sleep(60)", str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        started = time.monotonic()
        done = cli(db, "backup", "--out", tmp_path / "b", env={"SAFETY_DB_TIMEOUT": "2"})
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 0, done.stderr
    assert "its BACKUP audit row could not be written" in done.stderr
    assert elapsed < 30
    folder = the_backup(tmp_path / "b")
    assert backup.verify_backup(folder)["tables"]["observations"] == len(tables(db)["observations"])
