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
from pathlib import Path

import duckdb
import pytest

from metrics import store
from metrics.ingest import upload
from metrics.ingest.initialise import init_store
from metrics.store import audit, backup, raw_files
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


def meta(path) -> dict:
    with store.connect(path, read_only=True) as con:
        return dict(con.execute("SELECT key, value FROM store_meta").fetchall())


ANCHOR = (audit.HEAD_ID, audit.HEAD_HASH)


def data_tables(frames: dict) -> dict:
    """Every table but the audit trail, store_meta without the trail's anchor."""
    data = {name: frame for name, frame in frames.items() if name != "audit_log"}
    data["store_meta"] = data["store_meta"][~data["store_meta"]["key"].isin(ANCHOR)].reset_index(drop=True)
    return data


def assert_same(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    for name, frame in first.items():
        assert frame.equals(second[name]), name


def assert_whole_and_anchored_at(path, row) -> None:
    """`audit verify` finds the trail whole, and store_meta's anchor names `row` (id and hash)."""
    with store.connect(path, read_only=True) as con:
        assert audit.verify(con) == []
    held = meta(path)
    assert (held[audit.HEAD_ID], held[audit.HEAD_HASH]) == (str(row["id"]), row["hash"])
    done = cli(path, "audit", "verify")
    assert done.returncode == 0 and "the audit trail is whole" in done.stdout, done.stderr


def test_restore_gives_back_the_store_as_it_was_at_the_backup(db, tmp_path):
    """Every data table as the backup holds it; the audit trail keeps the rows written since (the BACKUP row,
    the later import's), ids and hashes as written, then the RESTORE row; no id is used twice."""
    three_uploads_and_a_rollback(db, tmp_path)
    reference = tmp_path / "at-backup.duckdb"
    shutil.copy(db, reference)
    before = tables(reference)
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
    held, ids_held = tables(db), next_ids(db)

    done = cli(db, "restore", folder, "--yes", "--actor", "ops")
    assert done.returncode == 0, done.stderr
    assert "2 audit rows of the store kept after the backup's" in done.stdout
    after = tables(db)
    assert_same(data_tables(after), data_tables(before))
    trail, n = after["audit_log"], len(before["audit_log"])
    assert trail.iloc[:n].equals(before["audit_log"])
    assert trail.iloc[n:-1].equals(held["audit_log"].iloc[n:])  # the rows written since, ids and hashes as written
    assert list(trail.iloc[n:-1]["action"]) == ["backup", "replace"]  # PW01 had reported October
    assert json.loads(trail.iloc[n + 1]["detail"])["batch"] == later
    restore_row = trail.iloc[-1]
    assert (restore_row["action"], restore_row["actor"]) == ("restore", "ops")
    assert restore_row["id"] == held["audit_log"]["id"].max() + 1 == ids_held["audit_ids"]
    assert restore_row["previous_hash"] == held["audit_log"]["hash"].iloc[-1]
    detail = json.loads(restore_row["detail"])
    assert detail["replaced"]["batches"] == len(before["batches"]) + 1
    first_kept, last_kept = held["audit_log"]["id"].iloc[n], held["audit_log"]["id"].iloc[-1]
    assert (detail["audit_rows_kept"], detail["audit_ids_kept"]) == (2, f"{first_kept}–{last_kept}")
    assert "audit_ids_before" not in detail  # nothing renumbered
    assert_whole_and_anchored_at(db, restore_row)
    # Every sequence past where the store's went: the later import's batch id and the RESTORE row's are not
    # drawn again.
    assert next_ids(db) == {**ids_held, "audit_ids": ids_held["audit_ids"] + 1}
    assert ids_held["batch_ids"] == later + 1
    assert len(list(raw_files.raw_dir(db).rglob("*.csv"))) == 4  # the later upload's file stays (write-once)

    fresh = tmp_path / "elsewhere" / "new.duckdb"  # restoring where there is no store needs no --yes
    done = cli(fresh, "restore", folder)
    assert done.returncode == 0, done.stderr
    restored = tables(fresh)
    assert_same(data_tables(restored), data_tables(before))
    assert restored["audit_log"].iloc[:-1].equals(before["audit_log"])
    assert_whole_and_anchored_at(fresh, restored["audit_log"].iloc[-1])
    assert (sorted(p.name for p in raw_files.raw_dir(fresh).rglob("*.csv"))
            == sorted(n.split("/")[-1] for n in raw_names))


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


def test_a_backup_shares_the_store_with_a_reader_but_is_not_kept_without_its_audit_row(db, tmp_path):
    """A dashboard page holding a read-only connection does not stop the copy; only the BACKUP audit row needs
    the store to itself, and when it cannot have it in time the copy is removed: no backup off the record."""
    rows_before = len(tables(db)["audit_log"])
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
    assert done.returncode == 1
    assert "is in use by another process" in done.stderr and "nothing was changed" in done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < 30
    assert list((tmp_path / "b").iterdir()) == []  # neither a backup nor a hidden copy
    assert len(tables(db)["audit_log"]) == rows_before


NOVEMBER = "month,subsidiary,indicator,value\n2026-10,PW01,injuries,3\n"
LATE = "month,subsidiary,indicator,value\n2026-10,LG02,injuries,1\n"


def held_by(folder) -> tuple[dict, dict]:
    """The tables and next sequence values of a backup's store (read from a copy: the backup stays as made)."""
    copy = folder.parent / f"copy-of-{folder.name}.duckdb"
    shutil.copy(folder / "store.duckdb", copy)
    try:
        return tables(copy), next_ids(copy)
    finally:
        copy.unlink()


def test_a_second_restore_keeps_the_first_restore_row(db, tmp_path):
    folder = backup.backup(db, tmp_path / "backups", actor="ops").path
    at_backup, _ = held_by(folder)
    n = len(at_backup["audit_log"])
    import_file(db, tmp_path, "november.csv", NOVEMBER, "wang")
    first = backup.restore(folder, db, actor="ops")
    import_file(db, tmp_path, "late.csv", LATE, "li")
    held, ids_held = tables(db), next_ids(db)
    second = backup.restore(folder, db, actor="ops")
    after = tables(db)
    trail = after["audit_log"]
    assert (first.audit_kept, second.audit_kept) == (2, 4)
    assert trail.iloc[:n].equals(at_backup["audit_log"])
    assert trail.iloc[:-1].equals(held["audit_log"])  # every row as written, the first RESTORE row among them
    assert list(trail["action"].iloc[n:]) == ["backup", "replace", "restore", "upload", "restore"]
    assert trail["id"].is_unique and trail["id"].is_monotonic_increasing
    assert trail["id"].iloc[-1] == ids_held["audit_ids"]
    assert_same(data_tables(after), data_tables(at_backup))
    assert_whole_and_anchored_at(db, trail.iloc[-1])
    assert next_ids(db) == {**ids_held, "audit_ids": ids_held["audit_ids"] + 1}


def test_restoring_another_stores_backup_keeps_this_stores_trail_renumbered_after_it(db, tmp_path):
    """The backup's trail first, as written; then every row of the store's (they share none), numbered after
    every id either store drew and chained anew, their content as written; then the RESTORE row naming their
    former ids."""
    other = tmp_path / "other" / "other.duckdb"
    init_store(other)
    folder = backup.backup(other, tmp_path / "backups", actor="ops").path
    theirs, their_ids = held_by(folder)
    import_file(db, tmp_path, "november.csv", NOVEMBER, "wang")
    ours, our_ids = tables(db), next_ids(db)
    assert theirs["audit_log"]["hash"].iloc[0] != ours["audit_log"]["hash"].iloc[0]
    done = backup.restore(folder, db, actor="ops")
    after = tables(db)
    trail, k, m = after["audit_log"], len(theirs["audit_log"]), len(ours["audit_log"])
    assert done.audit_kept == m and len(trail) == k + m + 1
    assert trail.iloc[:k].equals(theirs["audit_log"])
    first = max(our_ids["audit_ids"], their_ids["audit_ids"])
    kept = trail.iloc[k:k + m].reset_index(drop=True)
    assert list(kept["id"]) == list(range(first, first + m))
    content = ["happened_at", "actor", "action", "outcome", "target", "detail"]
    assert kept[content].equals(ours["audit_log"][content].reset_index(drop=True))
    assert kept["previous_hash"].iloc[0] == theirs["audit_log"]["hash"].iloc[-1]
    restore_row = trail.iloc[-1]
    assert restore_row["id"] == first + m
    detail = json.loads(restore_row["detail"])
    assert detail["audit_ids_before"] == f"{ours['audit_log']['id'].iloc[0]}–{ours['audit_log']['id'].iloc[-1]}"
    assert detail["audit_ids_kept"] == f"{first}–{first + m - 1}"
    assert_same(data_tables(after), data_tables(theirs))
    assert_whole_and_anchored_at(db, restore_row)
    assert next_ids(db) == {"batch_ids": max(our_ids["batch_ids"], their_ids["batch_ids"]),
                            "audit_ids": first + m + 1, "inspection_ids": 1, "hazard_event_ids": 1}


def snapshot(folder) -> dict:
    """Every file and link under `folder` (links not followed): a file's sha256, where a link points."""
    found = {}
    for directory, names, files in os.walk(folder):
        for name in names + files:
            path = Path(directory) / name
            key = path.relative_to(folder).as_posix()
            if path.is_symlink():
                found[key] = f"-> {os.readlink(path)}"
            elif path.is_file():
                found[key] = sha(path)
    return found


@pytest.fixture
def site(pristine, tmp_path):
    """A store with a kept upload, one folder down (tmp_path/site/s.duckdb, its raw/ beside it), and a backup
    of it under tmp_path/backups: a file written above the store would land in tmp_path."""
    path = tmp_path / "site" / "s.duckdb"
    path.parent.mkdir()
    shutil.copy(pristine, path)
    import_file(path, tmp_path, "late.csv", LATE, "li")
    return path, backup.backup(path, tmp_path / "backups", actor="ops").path


PLANTED = b"written where no restore may write\n"


def climbing(folder):
    (folder.parent / "PWNED.txt").write_bytes(PLANTED)  # where the name leads from the backup
    return "raw/../../PWNED.txt", ("'raw/../../PWNED.txt': the path leads outside the backup's raw/ folder (a '..', "
                                   "'.' or empty part); `backup` never writes such a name, so the manifest was made "
                                   "or changed by hand")


def absolute(folder):
    planted = folder.parent / "PWNED.txt"
    planted.write_bytes(PLANTED)
    return str(planted), f"{str(planted)!r}: the manifest names a file that is neither store.duckdb nor under raw/"


def beside_raw(folder):
    (folder / "PWNED.txt").write_bytes(PLANTED)
    return "PWNED.txt", "'PWNED.txt': the manifest names a file that is neither store.duckdb nor under raw/"


def through_a_link(folder):
    planted = folder.parent / "PWNED.txt"
    planted.write_bytes(PLANTED)
    (folder / "raw" / "zz").mkdir()
    (folder / "raw" / "zz" / "PWNED.txt").symlink_to(planted)
    return "raw/zz/PWNED.txt", "'raw/zz/PWNED.txt': the path leads outside the backup through a link"


@pytest.mark.parametrize("craft", [climbing, absolute, beside_raw, through_a_link])
def test_a_manifest_naming_a_file_outside_raw_is_refused_with_nothing_written(site, tmp_path, craft):
    db, folder = site
    name, message = craft(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"][name] = {"sha256": hashlib.sha256(PLANTED).hexdigest(), "bytes": len(PLANTED)}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    before = snapshot(tmp_path)
    with pytest.raises(backup.BackupDamaged) as refused:
        backup.restore(folder, db, actor="ops")
    assert refused.value.problems == [message]
    done = cli(db, "restore", folder, "--yes")
    assert done.returncode == 1
    assert "is damaged or incomplete; nothing was restored" in done.stderr and message in done.stderr
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "PWNED.txt").exists() and not list(raw_files.raw_dir(db).rglob("PWNED.txt"))


def test_a_manifest_entry_that_is_not_a_sha256_and_size_is_refused(site, tmp_path):
    db, folder = site
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["store.duckdb"] = "fine"
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    before = snapshot(tmp_path)
    done = cli(db, "restore", folder, "--yes")
    assert done.returncode == 1
    assert "'store.duckdb': the manifest's entry is not a sha256 and a size in bytes ('fine')" in done.stderr
    assert snapshot(tmp_path) == before


def test_a_raw_folder_of_the_store_leading_out_through_a_link_is_refused_with_nothing_written(site, tmp_path):
    db, folder = site
    kept = next(raw_files.raw_dir(db).rglob("*.csv"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(kept.parent)
    kept.parent.symlink_to(elsewhere, target_is_directory=True)
    before = snapshot(tmp_path)
    done = cli(db, "restore", folder, "--yes")
    assert done.returncode == 1
    assert f"{kept} leads outside {raw_files.raw_dir(db)} through a link" in done.stderr
    assert snapshot(tmp_path) == before and list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("damage, problem", [
    ("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)", "were removed"),
    ("UPDATE audit_log SET actor = 'someone else' WHERE id = (SELECT min(id) FROM audit_log)",
     "its content differs from what was written"),
])
def test_a_restore_onto_a_store_whose_trail_is_broken_is_refused_and_changes_nothing(site, tmp_path, damage,
                                                                                     problem):
    db, folder = site
    next(raw_files.raw_dir(db).rglob("*.csv")).unlink()  # a restore would put it back
    con = duckdb.connect(str(db))
    con.execute(damage)
    con.close()
    before, rows = snapshot(tmp_path), tables(db)
    done = cli(db, "restore", folder, "--yes")
    assert done.returncode == 1
    assert f"the audit trail of {db} is not whole, and a restore keeps it; nothing was restored" in done.stderr
    assert problem in done.stderr
    assert snapshot(tmp_path) == before
    assert_same(tables(db), rows)


# --- a backup killed part way, a full disk, what a backup holds ------------------------------------------------

def backup_rows(path) -> list[dict]:
    """The details of the trail's BACKUP rows, oldest first."""
    with store.connect(path, read_only=True) as con:
        rows = audit.entries(con, action="backup")
    return [json.loads(detail) for detail in reversed(list(rows["detail"]))]


def killed_backup(db, out, point: str) -> None:
    """Run `backup` and SIGKILL it where it pauses at `point` (backup.FAULT_PAUSE_ENV)."""
    run = subprocess.Popen([sys.executable, "-m", "metrics", "backup", "--out", str(out)], cwd=ROOT,
                           env={**os.environ, "SAFETY_DB": str(db), backup.FAULT_PAUSE_ENV: point},
                           stderr=subprocess.PIPE, text=True)
    try:
        assert run.stderr.readline().strip() == f"fault injection: pausing at {point}"
        run.send_signal(signal.SIGKILL)
        assert run.wait(timeout=30) == -signal.SIGKILL
    finally:
        run.kill()
        run.wait()


def test_a_backup_killed_before_its_audit_row_leaves_no_backup_and_the_next_one_removes_its_copy(db, tmp_path):
    out = tmp_path / "backups"
    killed_backup(db, out, "copied")
    [leftover] = list(out.iterdir())
    assert leftover.name.startswith(".safety-backup-") and leftover.name.endswith(".partial")
    assert (leftover / "manifest.json").is_file()  # complete, but never recorded: not a backup
    assert backup_rows(db) == []
    with pytest.raises(backup.BackupDamaged, match="stopped before it was finished"):
        backup.verify_backup(leftover)
    refused = cli(db, "restore", leftover, "--yes")
    assert refused.returncode == 1 and "the hidden folder of a backup that stopped" in refused.stderr

    done = cli(db, "backup", "--out", out)
    assert done.returncode == 0, done.stderr
    assert f"warning: removed {leftover}: an unfinished backup left by a run that stopped" in done.stderr
    folder = the_backup(out)
    assert list(out.iterdir()) == [folder]
    assert [row["backup"] for row in backup_rows(db)] == [folder.name]


def test_a_backup_killed_after_its_audit_row_is_finished_by_the_next_one(db, tmp_path):
    out = tmp_path / "backups"
    killed_backup(db, out, "recorded")
    [leftover] = list(out.iterdir())
    name = leftover.name[1:-len(".partial")]
    [row] = backup_rows(db)
    assert row["backup"] == name  # on the record, not yet in place
    assert not (out / name).exists()

    done = cli(db, "backup", "--out", out)
    assert done.returncode == 0, done.stderr
    assert f"warning: finished {out / name}: a backup stopped after its BACKUP audit row was written" in done.stderr
    folders = sorted(out.iterdir())
    assert [f.name for f in folders] == sorted(r["backup"] for r in backup_rows(db))  # each on the record
    assert len(folders) == 2 and not [f for f in folders if f.name.startswith(".")]
    finished = backup.verify_backup(out / name)
    assert hashlib.sha256((out / name / "manifest.json").read_bytes()).hexdigest() == row["manifest_sha256"]
    assert finished["audit_last_id"] == row["audit_last_id"]


def test_a_backup_holds_the_committed_uploads_files_only(db, tmp_path):
    """A raw file no batch was committed from (a rejected upload's, left by an older version or a crash) is
    not evidence: the backup leaves it out, and its manifest checks out."""
    three_uploads_and_a_rollback(db, tmp_path)
    stray = raw_files.raw_dir(db) / "ab" / f"{'ab' * 32}.csv"
    stray.parent.mkdir(parents=True)
    stray.write_text("month,subsidiary,indicator,value\n2026-10,CM01,injuries,-1\n", encoding="utf-8")
    done = backup.backup(db, tmp_path / "backups", actor="ops")
    kept = sorted(name for name in backup.verify_backup(done.path)["files"] if name.startswith("raw/"))
    assert len(kept) == done.raw_files == 3  # the rolled-back batch's file stays: it was committed
    assert not (done.path / "raw" / "ab").exists()


def test_a_full_disk_gives_a_clear_message_and_leaves_nothing_half_written(db, tmp_path, small_disk):
    """The backup folder on a 1 MiB disk, the store 6 MiB: the copy cannot be written."""
    out = small_disk("1m")
    rows_before = len(tables(db)["audit_log"])
    done = cli(db, "backup", "--out", out)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: the disk holding {out} is full")
    assert "no backup was written and nothing was left half-written" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(out.iterdir()) == []  # no hidden copy either
    assert len(tables(db)["audit_log"]) == rows_before


@pytest.mark.parametrize("where", ["a new path", "over a store"])
def test_a_backup_whose_trail_is_broken_is_refused_and_changes_nothing(site, tmp_path, where):
    """A backup copies the trail as the store holds it, breaks and all; a restore does not put such a trail
    back, where there is no store (checked before anything is written) nor over one (the transaction's check)."""
    db, earlier = site
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)")
    con.close()
    folder = backup.backup(db, tmp_path / "cut-backups", actor="ops").path
    target = tmp_path / "new" / "s.duckdb" if where == "a new path" else tmp_path / "other" / "s.duckdb"
    if where == "over a store":
        target.parent.mkdir()
        shutil.copy(earlier / "store.duckdb", target)  # the store as it was before the cut
    before = snapshot(tmp_path)
    done = cli(target, "restore", folder, "--yes")
    assert done.returncode == 1 and "nothing was restored" in done.stderr
    if where == "a new path":
        assert f"the audit trail in the backup {folder} is not whole" in done.stderr
        assert "were removed" in done.stderr  # the cut the backup holds
        assert snapshot(tmp_path) == before and not target.parent.exists()
    else:  # the RESTORE row would follow the row the backup's anchor names, which it lacks
        assert "the restored audit trail would not be whole" in done.stderr
        assert "a row was removed or inserted" in done.stderr
        assert {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("other/raw/")} == before
