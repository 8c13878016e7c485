"""Rebuild from raw files: replaying every upload and rollback gives the live store again, and a missing raw
file or a value changed behind the product's back is reported."""
import json
import os
import subprocess
import sys

import pandas as pd

from metrics import store
from metrics.ingest import rebuild
from metrics.store import audit, raw_files
from tests.test_upload import ROOT

FIRST = ("month,subsidiary,indicator,value\n2026-10,LG02,injuries,1\n2026-10,LG02,hours_worked,210000\n"
         "2026-10,CM01,near_misses,40\n")
CORRECTION = "月份,单位,指标,数值\n2026年10月,LG02,负伤人数（轻伤及以上）,2\n2026-10,CM01,near_misses,41\n"
MISTAKE = "month,subsidiary,indicator,value\n2026-09,CH01,injuries,9\n2026-09,LG01,training_hours,5\n"


def cli(db_file, *args, env=None):
    return subprocess.run([sys.executable, "-m", "metrics", *map(str, args)], cwd=ROOT,
                          env={**os.environ, "SAFETY_DB": str(db_file), **(env or {})}, capture_output=True,
                          text=True, timeout=300)


def import_file(db_file, folder, name, text, actor):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    done = cli(db_file, "import", path, "--json", "--actor", actor)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["status"] == "committed", doc
    return doc["batch"]


def three_uploads_and_a_rollback(db_file, folder):
    """Three files through the CLI: a correction that replaces values of the first, and one rolled back."""
    first = import_file(db_file, folder, "october.csv", FIRST, "wang")
    second = import_file(db_file, folder, "october-fix.csv", CORRECTION, "li")
    third = import_file(db_file, folder, "september.csv", MISTAKE, "wang")
    done = cli(db_file, "rollback", third, "--actor", "zhang")
    assert done.returncode == 0, done.stderr
    return first, second, third


def observations(path):
    with store.connect(path, read_only=True) as con:
        return store.query(con, "SELECT month, subsidiary, indicator, value FROM observations ORDER BY ALL")


def test_replaying_the_raw_files_gives_the_live_store_again(db, tmp_path):
    first, second, third = three_uploads_and_a_rollback(db, tmp_path)
    out = tmp_path / "rebuilt.duckdb"
    done = cli(db, "rebuild", "--out", out, "--actor", "auditor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 uploads replayed from their raw files, 1 rollbacks replayed" in done.stdout
    assert "copied from the live history because they never had a raw file" in done.stdout  # the demo seed
    assert "equals the live store" in done.stdout
    assert observations(out).equals(observations(db))
    with store.connect(db, read_only=True) as live, store.connect(out, read_only=True) as rebuilt:
        fields = "actor, source, file_name, sha256, rows, replaced, status, created_at"
        query = f"SELECT {fields} FROM batches WHERE source <> 'demo' ORDER BY id"
        assert store.query(rebuilt, query).equals(store.query(live, query))
        assert store.query(live, query)["status"].tolist() == ["committed", "committed", "rolled_back", "committed"]
        row = audit.entries(live, action="rebuild").iloc[0]
        assert (row["actor"], row["outcome"]) == ("auditor", "ok")
        assert json.loads(row["detail"])["equal"] is True
        assert audit.verify(live) == []


def test_a_missing_raw_file_and_a_value_changed_behind_the_products_back_are_reported(db, tmp_path):
    first, second, _ = three_uploads_and_a_rollback(db, tmp_path)
    with store.connect(db) as con:
        sha = store.scalar(con, "SELECT sha256 FROM batches WHERE id = $id", {"id": first})
        con.execute("UPDATE observations SET value = 99 WHERE subsidiary = 'CM01' AND indicator = 'near_misses' "
                    "AND month = DATE '2026-10-01'")
    kept = rebuild.find_raw_file(raw_files.raw_dir(db), sha)
    kept.unlink()
    done = cli(db, "rebuild")
    assert done.returncode == 1
    assert f"batch {first} (october.csv, sha256 {sha}): raw file missing" in done.stdout
    assert "DIFFERS" in done.stdout
    assert "2026-10, CM01, near_misses: live 99.0, rebuilt 41.0" in done.stdout
    assert "temporary and is removed" in done.stdout

    result = rebuild.rebuild(db, tmp_path / "again.duckdb", actor="auditor")
    assert not result.ok and not result.equal
    assert [(u.batch_id, u.sha256) for u in result.unreplayed] == [(first, sha)]
    assert result.from_raw == 2 and result.rollbacks == 1
    assert [(d.table, d.kind, d.count) for d in result.differences] == [
        ("observations", "rows whose value differs", 1)]
    with store.connect(db, read_only=True) as con:
        row = audit.entries(con, action="rebuild").iloc[0]
        assert row["outcome"] == "failed" and json.loads(row["detail"])["equal"] is False


def test_a_rebuild_of_the_demo_store_alone_copies_the_seed_and_says_so(db, tmp_path):
    result = rebuild.rebuild(db, tmp_path / "r.duckdb")
    assert result.ok and result.from_raw == 0 and result.copied == {"demo": result.batches}
    assert "not checked against raw files" in result.report()
    with store.connect(db, read_only=True) as live, store.connect(tmp_path / "r.duckdb", read_only=True) as out:
        query = "SELECT created_at, actor, note, rows FROM batches ORDER BY id"
        assert store.query(out, query).equals(store.query(live, query))


def test_compare_names_every_kind_of_difference():
    month = pd.Timestamp("2026-10-01")
    obs = pd.DataFrame({"month": [month, month], "subsidiary": ["A", "B"], "indicator": ["injuries"] * 2,
                        "value": [1.0, 2.0], "batch_id": [1, 1]})
    batches = pd.DataFrame({"id": [1], "created_at": [pd.Timestamp("2026-11-01 09:00")], "actor": ["wang"],
                            "source": ["upload"], "note": [None], "file_name": ["a.csv"], "sha256": ["ab"],
                            "rows": [2], "replaced": [0], "status": ["committed"], "rolled_back_by": [None]})
    history = obs.drop(columns="batch_id").assign(batch_id=1, previous_value=None, previous_batch_id=None)
    live = rebuild.Snapshot(pd.DataFrame(), pd.DataFrame(), batches, history, obs)
    changed = obs.iloc[[0]].assign(value=5.0)
    other = rebuild.Snapshot(pd.DataFrame(), pd.DataFrame(), batches.assign(actor="li", id=7),
                             history.assign(batch_id=7), changed.assign(batch_id=7))
    found = {(d.table, d.kind): d for d in rebuild.compare(live, other, {1: 7})}
    assert found[("observations", "rows missing from the rebuilt store")].count == 1
    assert found[("observations", "rows whose value differs")].examples == [
        "2026-10, A, injuries: live 1.0, rebuilt 5.0"]
    assert found[("batches", "rows whose actor differs")].examples == ["7: live wang, rebuilt li"]
    assert rebuild.compare(live, live, {1: 1}) == []
