"""Upload commit semantics: replace, history, rollback, no-op re-upload, crash safety, a busy store."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from metrics import store
from metrics.core import problems
from metrics.ingest import upload
from metrics.store import audit
from metrics.store.raw_files import raw_dir
from tests.disk import PAGE, fill

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 23)



def values(con, unit, month="2026-10-01"):
    frame = store.query(con, "SELECT indicator, value, batch_id FROM observations WHERE subsidiary = $u "
                             "AND month = CAST($m AS DATE)", {"u": unit, "m": month})
    return {r.indicator: (r.value, r.batch_id) for r in frame.itertuples(index=False)}


def dump(con):
    return store.query(con, "SELECT * FROM observations ORDER BY ALL")


def run_import(con, text, name="f.csv"):
    return upload.import_file(con, text.encode("utf-8"), name, actor="tester", today=TODAY)


def test_replace_keeps_history_and_rollback_restores_exactly(db):
    with store.connect(db) as con:
        before = dump(con)
        original = values(con, "CM01")
        first = run_import(con, "月份,单位,负伤人数（轻伤及以上）,实际工时（小时）,排查隐患数\n"
                                f"2026-10,CM01,9,{original['hours_worked'][0]:.0f},\n")
        # injuries replaced; hours identical (not written); hazards_found blank (deletes nothing)
        assert (first.status, first.rows, first.replaced) == ("committed", 1, 1)
        after = values(con, "CM01")
        assert after["injuries"] == (9.0, first.batch_id)
        assert after["hours_worked"] == original["hours_worked"]
        assert after["hazards_found"] == original["hazards_found"]
        history = upload.batch_changes(con, first.batch_id)
        assert history[["indicator", "value", "previous_value", "previous_batch_id"]].values.tolist() == [
            ["injuries", 9.0, original["injuries"][0], original["injuries"][1]]]
        second = run_import(con, "month,subsidiary,indicator,value\n2026-10,CM01,injuries,10\n"
                                 "2026-10,LG02,injuries,2\n")
        assert (second.rows, second.replaced) == (2, 1)
        with pytest.raises(upload.RollbackRefused, match="roll those back first"):
            upload.rollback(con, first.batch_id, actor="tester")
        undo_second = upload.rollback(con, second.batch_id, actor="tester")
        assert (undo_second.restored, undo_second.removed) == (1, 1)
        assert values(con, "CM01")["injuries"] == (9.0, first.batch_id)
        assert "injuries" not in values(con, "LG02")
        upload.rollback(con, first.batch_id, actor="tester")
        assert dump(con).equals(before)
        statuses = dict(zip(upload.batches(con)["id"], upload.batches(con)["status"]))
        assert statuses[first.batch_id] == statuses[second.batch_id] == "rolled_back"
        with pytest.raises(upload.RollbackRefused, match="already rolled back"):
            upload.rollback(con, first.batch_id, actor="tester")


def test_identical_reupload_is_a_no_op(db):
    text = "month,subsidiary,indicator,value\n2026-10,LG02,injuries,1\n2026-10,LG02,hours_worked,200000\n"
    with store.connect(db) as con:
        first = run_import(con, text)
        count = len(upload.batches(con))
        again = run_import(con, text, "again.csv")
        assert (first.status, again.status, again.rows, again.replaced) == ("committed", "unchanged", 0, 0)
        assert len(upload.batches(con)) == count
        batch = upload.batches(con).iloc[0]
        assert (batch["file_name"], batch["sha256"], batch["actor"], batch["rows"], batch["replaced"]) == (
            "f.csv", hashlib.sha256(text.encode()).hexdigest(), "tester", 2, 0)


DATA_TABLES = ("indicators", "subsidiaries", "targets", "batches", "observations", "observation_history",
               "users", "store_meta")
STORE_META = "SELECT * FROM store_meta WHERE key NOT IN ('audit_head_id', 'audit_head_hash') ORDER BY ALL"
"""The store's settings, without the audit trail's anchor: it moves with the rejected file's audit row."""


def data_tables(con) -> dict:
    return {name: store.query(con, STORE_META if name == "store_meta" else f"SELECT * FROM {name} ORDER BY ALL")
            for name in DATA_TABLES}


def test_a_rejected_file_changes_no_data_and_is_on_the_audit_trail_once(db):
    with store.connect(db) as con:
        before = data_tables(con)
        trail = len(audit.entries(con))
        result = run_import(con, "month,subsidiary,indicator,value\n2026-10,LG02,injuries,1\n"
                                 "2026-10,LG02,injuries,-1\n")
        assert result.status == "rejected"
        after = data_tables(con)
        assert all(after[name].equals(before[name]) for name in DATA_TABLES)
        entries = audit.entries(con)
        assert len(entries) == trail + 1
        assert (entries.iloc[0]["action"], entries.iloc[0]["actor"], entries.iloc[0]["outcome"]) == (
            "upload_rejected", "tester", "refused")


def conflicting_duplicates(count: int) -> str:
    """`count` rows of one unit-month-indicator, every value different (about 33 bytes a row)."""
    return "month,subsidiary,indicator,value\n" + "".join(f"2026-10,CM01,hours_worked,{100000 + i}\n"
                                                        for i in range(count))


def test_a_groups_rows_are_named_up_to_a_bound():
    assert problems.rows_named([2, 5]) == ("2, 5", "2、5 行")
    assert problems.rows_named([2, 3, 4]) == ("2, 3, 4", "2、3、4 行")
    assert problems.rows_named(list(range(2, 10_002))) == ("2, 3, 4 … and 9,997 more", "2、3、4 … 行等，另有 9,997 行")


def test_ten_thousand_conflicting_duplicates_are_checked_within_300_mb_and_listed_capped(db):
    """Each conflict's sentence used to name every row of its group, and every row had one: 10,000 rows took
    gigabytes. Now a sentence names three rows, and a file lists 100 errors and a line counting the rest."""
    import json
    import tracemalloc

    text = conflicting_duplicates(10_000)
    assert 300_000 < len(text) < 340_000
    with store.connect(db) as con:
        before = data_tables(con)
        tracemalloc.start()
        try:
            result = run_import(con, text, "duplicates.csv")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 300 * 2**20, f"{peak / 2**20:.0f} MB"
        assert (result.status, result.error_count) == ("rejected", 10_000)
        listed = result.errors
        assert len(listed) == problems.LISTED_PER_FILE + 1
        assert [p.row for p in listed[:3]] == [2, 3, 4]
        assert {p.message for p in listed[:-1]} == {
            "conflicting values for CM01 / hours_worked / 2026-10 on rows 2, 3, 4 … and 9,997 more: keep one"}
        assert listed[0].message_zh == ("CM01 / hours_worked / 2026-10 的数值互相矛盾（第 2、3、4 … 行等，"
                                        "另有 9,997 行）：只保留一行")
        assert listed[-1].row is None
        assert listed[-1].message == ("9,900 more errors are not listed; the file is rejected anyway: correct the "
                                      "ones above and check the file again to see the rest")
        assert listed[-1].message_zh.startswith("另有 9,900 处错误未列出，文件同样不予写入")
        after = data_tables(con)
        assert all(after[name].equals(before[name]) for name in DATA_TABLES)
        entry = audit.entries(con).iloc[0]
        detail = json.loads(entry["detail"])
        assert (entry["action"], detail["errors"]) == ("upload_rejected", 10_000)
        assert detail["first_errors"] == [f"row {r}, column value, value '{100000 + r - 2}': conflicting values for "
                                          f"CM01 / hours_worked / 2026-10 on rows 2, 3, 4 … and 9,997 more: keep one"
                                          for r in range(2, 7)]


def test_a_few_conflicting_duplicates_are_all_named():
    from tests.builders import memory_store

    result = upload.import_file(memory_store(), conflicting_duplicates(3).replace("CM01", "A").encode(), "d.csv",
                                actor="tester", today=TODAY)
    assert [(p.row, p.message) for p in result.errors] == [
        (r, "conflicting values for A / hours_worked / 2026-10 on rows 2, 3, 4: keep one") for r in (2, 3, 4)]
    assert result.errors[0].message_zh == "A / hours_worked / 2026-10 的数值互相矛盾（第 2、3、4 行）：只保留一行"
    assert result.error_count == 3


def test_cli_import_json_and_raw_file_kept(db, tmp_path):
    data = tmp_path / "october.csv"
    data.write_text("month,subsidiary,indicator,value\n2026-10,LG02,injuries,1\n", encoding="utf-8")
    env = {**os.environ, "SAFETY_DB": str(db)}
    done = subprocess.run([sys.executable, "-m", "metrics", "import", str(data), "--json", "--actor", "wang"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import json
    doc = json.loads(done.stdout)
    assert {k: doc[k] for k in ("status", "rows", "replaced", "errors", "warnings")} == {
        "status": "committed", "rows": 1, "replaced": 0, "errors": [], "warnings": [
            {"row": 2, "column": None, "value": None,  # LG02 has no hours for 2026-10, in the file or the store
             "message": "no hours worked for LG02 in 2026-10: 4 rates rest on them (Injury frequency rate per "
                        "million hours (GB 6441) and others) and cannot be computed; the file can be committed, but "
                        "report the hours soon"}]}
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    kept = db.parent / "raw" / digest[:2] / f"{digest}.csv"
    assert kept.read_bytes() == data.read_bytes()
    dry = subprocess.run([sys.executable, "-m", "metrics", "import", str(data), "--dry-run", "--json"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert json.loads(dry.stdout)["status"] == "unchanged"
    bad = tmp_path / "bad.csv"
    bad.write_text("month,subsidiary,indicator,value\n2026-10,LG9,injuries,1\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "metrics", "import", str(bad), "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert json.loads(done.stdout)["errors"] == [
        {"row": 2, "column": "subsidiary", "value": "LG9", "message": "unknown unit; did you mean LG02?"}]


def big_history_file(path: Path, units=("CM01", "CM02", "CH01", "LG02"), value=1000) -> None:
    lines = ["month,subsidiary,indicator,value"]
    indicators = ("injuries", "hazards_found", "near_misses", "training_hours", "inspections_done",
                  "emergency_drills", "major_hazards", "serious_injuries")
    for year in (2024, 2025, 2026):
        for month in range(1, 11):
            for unit in units:
                for indicator in indicators:
                    lines.append(f"{year}-{month:02d},{unit},{indicator},{month + value}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_sigkill_paused_inside_the_write_transaction_leaves_the_store_as_before(db, tmp_path):
    source = tmp_path / "big.csv"
    big_history_file(source)
    with store.connect(db, read_only=True) as con:
        before = dump(con)
        batches_before = len(upload.batches(con))
    env = {**os.environ, "SAFETY_DB": str(db), upload.FAULT_PAUSE_ENV: "60"}
    process = subprocess.Popen([sys.executable, "-m", "metrics", "import", str(source)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "pausing" in process.stderr.readline()  # every value is written, COMMIT is next
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    with store.connect(db, read_only=True) as con:
        assert dump(con).equals(before)
        assert len(upload.batches(con)) == batches_before
    done = subprocess.run([sys.executable, "-m", "metrics", "import", str(source)], cwd=ROOT,
                          env={**os.environ, "SAFETY_DB": str(db)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with store.connect(db, read_only=True) as con:
        assert values(con, "LG02", "2026-10-01")["injuries"][0] == 1010


def full_history_file(path: Path) -> None:
    """Every indicator a unit types, of every demo unit for 36 months: about 12,000 values."""
    from metrics.core.catalog import load_catalog
    units = ("CM01", "CM02", "CM03", "CM04", "CH01", "CH02", "CH03", "PW01", "LG01", "LG02", "CN01", "CN02")
    months = [f"{2023 + (10 + i) // 12}-{(10 + i) % 12 + 1:02d}" for i in range(36)]
    lines = ["month,subsidiary,indicator,value"]
    for month in months:
        for unit in units:
            lines += [f"{month},{unit},{ind.code},7" for ind in load_catalog().typed]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def import_cli(db, source):
    return subprocess.run([sys.executable, "-m", "metrics", "import", str(source)], cwd=ROOT,
                          env={**os.environ, "SAFETY_DB": str(db)}, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.3, 1.8, 2.5])
def test_sigkill_at_any_moment_is_all_or_nothing(db, tmp_path, delay):
    """Killed at some moment of a large import (reading, validating, writing, committing), the store holds
    either none of the file or all of it, and the next import works."""
    source = tmp_path / "big.csv"
    full_history_file(source)
    reference = tmp_path / "reference.duckdb"
    shutil.copy(db, reference)
    assert import_cli(reference, source).returncode == 0
    with store.connect(reference, read_only=True) as con:
        after = dump(con).drop(columns="batch_id")
    with store.connect(db, read_only=True) as con:
        before = dump(con).drop(columns="batch_id")
    assert not after.equals(before)
    process = subprocess.Popen([sys.executable, "-m", "metrics", "import", str(source)], cwd=ROOT,
                               env={**os.environ, "SAFETY_DB": str(db)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    with store.connect(db, read_only=True) as con:
        now = dump(con).drop(columns="batch_id")
    assert now.equals(before) or now.equals(after)
    assert import_cli(db, source).returncode == 0
    with store.connect(db, read_only=True) as con:
        assert dump(con).drop(columns="batch_id").equals(after)


def test_an_import_waits_for_a_reader_then_commits(db, tmp_path):
    data = tmp_path / "m.csv"
    data.write_text("month,subsidiary,indicator,value\n2026-10,LG02,injuries,1\n", encoding="utf-8")
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(3)", str(db)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "open"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "metrics", "import", str(data)], cwd=ROOT,
                          env={**os.environ, "SAFETY_DB": str(db)}, capture_output=True, text=True, timeout=120)
    holder.wait(timeout=30)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started >= 1.0  # it waited for the other process
    with store.connect(db, read_only=True) as con:
        assert values(con, "LG02")["injuries"][0] == 1


def test_a_store_held_too_long_fails_clearly_and_changes_nothing(db, tmp_path):
    data = tmp_path / "m.csv"
    data.write_text("month,subsidiary,indicator,value\n2026-10,LG02,injuries,1\n", encoding="utf-8")
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(60)", str(db)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        done = subprocess.run([sys.executable, "-m", "metrics", "import", str(data)], cwd=ROOT,
                              env={**os.environ, "SAFETY_DB": str(db), "SAFETY_DB_TIMEOUT": "1"},
                              capture_output=True, text=True, timeout=120)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: the store {db} is in use by another process")
    assert "for longer than 1 s; nothing was changed: try again in a minute" in done.stderr
    assert "Traceback" not in done.stderr
    with store.connect(db, read_only=True) as con:
        assert "injuries" not in values(con, "LG02")


def test_every_upload_problem_of_the_corpus_speaks_chinese_too(db):
    """The page shows problems in the reader's language: each one carries a Chinese message."""
    corpus = ROOT / "tests" / "corpus" / "files"
    seen = 0
    with store.connect(db, read_only=True) as con:
        for path in sorted(corpus.iterdir()):
            result = upload.import_file(con, path.read_bytes(), path.name, actor="t", dry_run=True, today=TODAY)
            for problem in result.problems:
                seen += 1
                assert problem.message_zh and problem.text("zh") != problem.text("en"), (path.name, problem)
    assert seen > 50


# --- what raw/ keeps, and a full disk --------------------------------------------------------------------------

def raw_files(db) -> list[str]:
    """Every file under the store's raw/, hidden ones too, relative to it."""
    folder = raw_dir(db)
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def kept_name(text: str, suffix: str = ".csv") -> str:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return f"{digest[:2]}/{digest}{suffix}"


def cli_import(db, path, *args, env=None):
    return subprocess.run([sys.executable, "-m", "metrics", "import", str(path), *args], cwd=ROOT, check=False,
                          env={**os.environ, "SAFETY_DB": str(db), **(env or {})}, capture_output=True, text=True,
                          timeout=120)


GOOD = "month,subsidiary,indicator,value\n2026-10,LG02,injuries,1\n"
BAD = "month,subsidiary,indicator,value\n2026-10,LG02,injuries,-1\n"
SAME = "month,subsidiary,indicator,value\n2026-10,CM01,hazards_found,{value:.0f}\n"


def test_raw_keeps_the_files_of_committed_batches_only(db, tmp_path):
    """The retention rule (docs/rules.md): a rejected or unchanged upload's file goes once its upload ends, and
    the leftovers of a crashed one (a whole file no batch names, a hidden temporary) at the next upload; the file
    of a committed batch stays for good, rolled back or not. The trail keeps the sha256 of every one."""
    with store.connect(db, read_only=True) as con:
        hazards = values(con, "CM01")["hazards_found"][0]
    files = {}
    for name, text in [("bad.csv", BAD), ("same.csv", SAME.format(value=hazards)), ("good.csv", GOOD)]:
        files[name] = tmp_path / name
        files[name].write_text(text, encoding="utf-8")
    assert cli_import(db, files["bad.csv"]).returncode == 1
    assert raw_files(db) == []
    assert cli_import(db, files["same.csv"]).returncode == 0
    assert raw_files(db) == []
    with store.connect(db, read_only=True) as con:
        trail = audit.entries(con)
    assert list(trail["action"][:2]) == ["upload_unchanged", "upload_rejected"]
    assert [json.loads(d)["sha256"] for d in trail["detail"][:2]] == [
        hashlib.sha256(SAME.format(value=hazards).encode()).hexdigest(), hashlib.sha256(BAD.encode()).hexdigest()]

    crashed = raw_dir(db) / "ff" / f"{'f' * 64}.csv"  # what a killed import leaves
    crashed.parent.mkdir(parents=True)
    crashed.write_text(BAD, encoding="utf-8")
    (crashed.parent / f".{'e' * 64}.csv.4242.tmp").write_text("month,subsid", encoding="utf-8")
    done = cli_import(db, files["good.csv"], "--json")
    assert done.returncode == 0, done.stderr
    batch = json.loads(done.stdout)["batch"]
    assert raw_files(db) == [kept_name(GOOD)]
    with store.connect(db) as con:
        upload.rollback(con, batch, actor="tester")
    assert cli_import(db, files["bad.csv"]).returncode == 1
    assert raw_files(db) == [kept_name(GOOD)]  # a rolled-back batch's file is still the evidence of what it wrote


def on_a_small_disk(db, tmp_path, small_disk):
    """The store copied onto a 32 MB tmpfs, a month file to import, and what the store held: its tables and
    the length of its audit trail."""
    disk = small_disk("32m")
    store_file = disk / "s.duckdb"
    shutil.copy(db, store_file)
    source = tmp_path / "m.csv"
    source.write_text(GOOD, encoding="utf-8")
    with store.connect(store_file, read_only=True) as con:
        return disk, store_file, source, dump(con), len(audit.entries(con))


def test_a_full_disk_before_the_raw_file_is_kept_leaves_nothing_behind(db, tmp_path, small_disk):
    disk, store_file, source, before, trail = on_a_small_disk(db, tmp_path, small_disk)
    filler = fill(disk)
    done = cli_import(store_file, source)
    assert done.returncode == 1
    assert done.stderr.startswith("error: the disk is full ([Errno 28] No space left on device); nothing was "
                                  "changed: free some space there and try again")
    assert "Traceback" not in done.stderr
    assert raw_files(store_file) == []  # no half-written temporary file
    filler.unlink()
    with store.connect(store_file, read_only=True) as con:
        assert dump(con).equals(before) and len(audit.entries(con)) == trail


def test_a_full_disk_at_the_store_write_leaves_the_store_and_raw_as_they_were(db, tmp_path, small_disk):
    """Room for the kept file (one page) but not for DuckDB's write-ahead log: the commit fails whole, the
    kept file goes again; once there is room the same file commits."""
    disk, store_file, source, before, trail = on_a_small_disk(db, tmp_path, small_disk)
    filler = fill(disk, leave=PAGE)
    done = cli_import(store_file, source)
    assert done.returncode == 1
    assert f'Could not write file "{store_file}.wal": No space left on device' in done.stderr
    assert "nothing was changed: free some space there and try again" in done.stderr
    assert "Traceback" not in done.stderr
    assert raw_files(store_file) == []
    filler.unlink()
    with store.connect(store_file, read_only=True) as con:
        assert dump(con).equals(before) and len(audit.entries(con)) == trail
    assert cli_import(store_file, source).returncode == 0
    assert raw_files(store_file) == [kept_name(GOOD)]


def test_what_a_page_keeps_of_a_large_check_is_the_preview_not_the_file(db):
    """for_display: the problems and counts whole, the cells of the rows the preview shows (the first 200 data
    rows and every row with a problem), none of the file's values: a session keeps this between reruns."""
    lines = ["month,subsidiary,indicator,value"] + [f"{2000 + i // 12}-{i % 12 + 1:02d},LG02,near_misses,1"
                                                     for i in range(300)]
    lines[250] = "2020-10,LG02,near_misses,-1"  # row 251 of the file: the one error, beyond the first 200 rows
    with store.connect(db) as con:
        result = upload.import_file(con, "\n".join(lines).encode(), "long.csv", actor="test", dry_run=True)
    kept = result.for_display()
    assert (kept.status, kept.error_count, kept.problems) == ("rejected", 1, result.problems)
    assert [p.row for p in kept.errors] == [251]
    assert kept.observations is None and len(result.observations) == 299
    assert sorted(set(kept.cells.frame["row"])) == [*range(2, 202), 251]
    assert kept.cells.header == result.cells.header
    assert len(result.cells.frame) == 300
