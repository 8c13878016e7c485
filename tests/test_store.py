"""The store: migrations keep rows, init never wipes, demo data is deterministic."""
import hashlib
import json
from datetime import date, datetime

import duckdb
import pandas as pd
import pytest

from metrics import access, store
from metrics.ingest import initialise
from metrics.ingest.initialise import NotEmpty, init_store
from metrics.scoring import overview
from metrics.store import audit, schema


def make_v1_store(path):
    con = duckdb.connect(str(path))
    con.execute(schema.MIGRATIONS[0])
    con.execute(schema.SET_META, {"key": "schema_version", "value": "1"})
    con.execute("INSERT INTO subsidiaries VALUES ('A', '甲煤矿', 'Mine A', 'coal')")
    con.execute("INSERT INTO batches VALUES (7, TIMESTAMP '2025-01-05 10:00:00', 'alice', 'upload', NULL)")
    con.execute("INSERT INTO observations VALUES (DATE '2024-12-01', 'A', 'injuries', 2, 7), "
                "(DATE '2024-12-01', 'A', 'hours_worked', 400000, 7)")
    con.execute("INSERT INTO targets VALUES (2024, '*', 'injuries', 2, 4, 10, false)")
    con.close()


def test_an_older_store_upgrades_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.duckdb"
    make_v1_store(path)
    init_store(path)
    with store.connect(path, read_only=True) as con:
        assert store.schema_version(con) == store.SCHEMA_VERSION == 9
        assert "veto_default" not in store.query(con, "DESCRIBE indicators")["column_name"].tolist()
        assert store.query(con, "SELECT month, subsidiary, indicator, value, batch_id FROM observations "
                                "ORDER BY indicator").values.tolist() == [
            [pd.Timestamp("2024-12-01"), "A", "hours_worked", 400000.0, 7],
            [pd.Timestamp("2024-12-01"), "A", "injuries", 2.0, 7]]
        batch = store.query(con, "SELECT id, actor, rows, replaced, status FROM batches").iloc[0].tolist()
        assert batch == [7, "alice", 0, 0, "committed"]
        assert store.scalar(con, "SELECT count(*) FROM targets") == 1
        assert store.scalar(con, "SELECT count(*) FROM subsidiaries") == 1
        assert store.scalar(con, "SELECT count(*) FROM indicators") == 54  # 38, 16 the ledger counts only
        assert store.scalar(con, "SELECT count(*) FROM indicators WHERE definition_zh = ''") == 0
        assert store.scalar(con, "SELECT count(*) FROM observation_history") == 0


GENESIS = "0" * 64
V4_ROWS = [(datetime(2025, 1, 5, 10, 0), "alice", "upload", "ok", "a.csv", '{"batch": 7}'),
           (datetime(2025, 1, 6, 11, 30, 0, 250), "bob", "sign_in_failed", "failed", "bob",
            '{"reason": "wrong password"}'),
           (datetime(2025, 1, 7, 9, 15), "alice", "export", "ok", "目标.csv", '{"what": "targets"}')]


def make_v4_store(path) -> list[str]:
    """A store as the program of schema v4 left it: its audit rows hashed as their fields joined by U+001F
    (written out here as that program did), no anchor. Returns the rows' hashes."""
    make_v1_store(path)
    con = duckdb.connect(str(path))
    for version in (2, 3, 4):
        con.execute(schema.MIGRATIONS[version - 1])
        con.execute(schema.SET_META, {"key": "schema_version", "value": str(version)})
    hashes, previous = [], GENESIS
    for at, actor, action, outcome, target, detail in V4_ROWS:
        row_id = con.execute(audit.NEXT_AUDIT_ID).fetchall()[0][0]
        fields = [previous, str(row_id), at.isoformat(timespec="microseconds"), actor, action, outcome, target, detail]
        digest = hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()
        con.execute(audit.INSERT_AUDIT, {"id": row_id, "at": at, "actor": actor, "action": action, "outcome": outcome,
                                       "target": target, "detail": detail, "previous_hash": previous, "hash": digest})
        hashes.append(digest)
        previous = digest
    con.close()
    return hashes


def test_an_upgraded_v4_store_is_anchored_at_its_last_row_and_its_rows_still_verify(tmp_path):
    path = tmp_path / "v4.duckdb"
    hashes = make_v4_store(path)
    with store.connect(path) as con:
        assert audit.verify(con) == []
        store.migrate(con)
        assert [store.meta(con, key) for key in (audit.HEAD_ID, audit.HEAD_HASH, audit.JSON_FROM)] == \
            ["3", hashes[-1], "4"]
        assert audit.verify(con) == []
        at = datetime(2026, 11, 2, 9, 0)
        assert audit.record(con, "cli:ops", audit.Action.SIGN_OUT, target="ops", at=at) == 4
        canonical = json.dumps([hashes[-1], 4, "2026-11-02T09:00:00.000000", "cli:ops", "sign_out", "ok", "ops", "{}"],
                               separators=(",", ":"))
        assert store.scalar(con, "SELECT hash FROM audit_log WHERE id = 4") == \
            hashlib.sha256(canonical.encode()).hexdigest()
        assert audit.verify(con) == []
        con.execute("UPDATE audit_log SET target = 'alice' WHERE id = 2")  # an old row is still checked
        assert audit.verify(con) == ["audit row 2: its content differs from what was written"]
        con.execute("UPDATE audit_log SET target = 'bob' WHERE id = 2")
        con.execute("DELETE FROM audit_log WHERE id = 4")
        assert audit.verify(con) == ["the audit trail ends at row 3, but row 4 was written last: the rows after 3 "
                                     "were removed"]


def test_a_store_newer_than_the_program_is_refused(tmp_path):
    path = tmp_path / "new.duckdb"
    init_store(path)
    with store.connect(path) as con:
        con.execute(schema.SET_META, {"key": "schema_version", "value": "99"})
    with pytest.raises(store.StoreError, match="newer"):
        init_store(path)


def test_init_twice_keeps_everything(tmp_path):
    path = tmp_path / "s.duckdb"
    init_store(path, with_demo=True, end_month=date(2026, 10, 1))
    with store.connect(path, read_only=True) as con:
        before = store.scalar(con, initialise.COUNT_OBSERVATIONS)
    init_store(path)
    with pytest.raises(NotEmpty):
        init_store(path, with_demo=True, end_month=date(2026, 10, 1))
    with store.connect(path, read_only=True) as con:
        assert store.scalar(con, initialise.COUNT_OBSERVATIONS) == before > 0


def test_demo_is_deterministic_and_tells_its_stories(tmp_path):
    frames = []
    for name in ("one", "two"):
        path = tmp_path / f"{name}.duckdb"
        init_store(path, with_demo=True, end_month=date(2026, 10, 1))
        with store.connect(path, read_only=True) as con:
            frames.append(store.query(con, "SELECT month, subsidiary, indicator, value FROM observations "
                                           "ORDER BY ALL"))
            units = store.query(con, schema.SELECT_UNITS)
            months = store.query(con, overview.MONTHS)["month"]
            years = store.query(con, access.TARGET_YEARS)["year"].tolist()
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert 10 <= len(units) <= 14 and set(units["sector"]) == {"coal", "chemical", "power", "logistics",
                                                                "construction"}
    assert len(months) == 36 and months.iloc[-1] == pd.Timestamp("2026-10-01")
    assert years == [2023, 2024, 2025, 2026]
    obs = frames[0]
    this_year = obs[(obs.month >= "2026-01-01") & (obs.indicator == "fatalities") & (obs.value > 0)]
    assert this_year["subsidiary"].tolist() == ["CM03"]
    latest = obs[obs.month == "2026-10-01"]
    assert "LG02" not in set(latest["subsidiary"]) and latest["subsidiary"].nunique() == len(units) - 1
    assert (obs["value"] >= 0).all()
    counts = obs[obs.indicator.isin(["injuries", "fatalities", "hazards_found"])]["value"]
    assert (counts == counts.round()).all()


def test_winter_has_more_injuries_than_summer_in_the_demo(pristine):
    with store.connect(pristine, read_only=True) as con:
        by_month = store.query(con, "SELECT month(month) AS m, sum(value) AS v FROM observations "
                                    "WHERE indicator = 'injuries' GROUP BY ALL")
    winter = by_month[by_month.m.isin([12, 1, 2])]["v"].sum()
    summer = by_month[by_month.m.isin([6, 7, 8])]["v"].sum()
    assert winter > 1.3 * summer


def test_negative_values_cannot_enter_the_store():
    from tests.builders import add_values, memory_store
    con = memory_store()
    with pytest.raises(duckdb.ConstraintException):
        add_values(con, [("2026-10", "A", "injuries", -1)])
    assert store.scalar(con, initialise.COUNT_OBSERVATIONS) == 0
