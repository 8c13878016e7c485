"""The store: migrations keep rows, init never wipes, demo data is deterministic."""
from datetime import date

import duckdb
import pandas as pd
import pytest

from metrics import sql, store
from metrics.initialise import NotEmpty, init_store


def make_v1_store(path):
    con = duckdb.connect(str(path))
    con.execute(sql.MIGRATIONS[0])
    con.execute(sql.SET_META, {"key": "schema_version", "value": "1"})
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
        assert store.schema_version(con) == store.SCHEMA_VERSION == 5
        assert store.query(con, "SELECT month, subsidiary, indicator, value, batch_id FROM observations "
                                "ORDER BY indicator").values.tolist() == [
            [pd.Timestamp("2024-12-01"), "A", "hours_worked", 400000.0, 7],
            [pd.Timestamp("2024-12-01"), "A", "injuries", 2.0, 7]]
        batch = store.query(con, "SELECT id, actor, rows, replaced, status FROM batches").iloc[0].tolist()
        assert batch == [7, "alice", 0, 0, "committed"]
        assert store.scalar(con, "SELECT count(*) FROM targets") == 1
        assert store.scalar(con, "SELECT count(*) FROM subsidiaries") == 1
        assert store.scalar(con, "SELECT count(*) FROM indicators") == 38
        assert store.scalar(con, "SELECT count(*) FROM indicators WHERE definition_zh = ''") == 0
        assert store.scalar(con, "SELECT count(*) FROM observation_history") == 0


def test_a_store_newer_than_the_program_is_refused(tmp_path):
    path = tmp_path / "new.duckdb"
    init_store(path)
    with store.connect(path) as con:
        con.execute(sql.SET_META, {"key": "schema_version", "value": "99"})
    with pytest.raises(store.StoreError, match="newer"):
        init_store(path)


def test_init_twice_keeps_everything(tmp_path):
    path = tmp_path / "s.duckdb"
    init_store(path, with_demo=True, end_month=date(2026, 10, 1))
    with store.connect(path, read_only=True) as con:
        before = store.scalar(con, sql.COUNT_OBSERVATIONS)
    init_store(path)
    with pytest.raises(NotEmpty):
        init_store(path, with_demo=True, end_month=date(2026, 10, 1))
    with store.connect(path, read_only=True) as con:
        assert store.scalar(con, sql.COUNT_OBSERVATIONS) == before > 0


def test_demo_is_deterministic_and_tells_its_stories(tmp_path):
    frames = []
    for name in ("one", "two"):
        path = tmp_path / f"{name}.duckdb"
        init_store(path, with_demo=True, end_month=date(2026, 10, 1))
        with store.connect(path, read_only=True) as con:
            frames.append(store.query(con, "SELECT month, subsidiary, indicator, value FROM observations "
                                           "ORDER BY ALL"))
            units = store.query(con, sql.SELECT_UNITS)
            months = store.query(con, sql.MONTHS)["month"]
            years = store.query(con, sql.TARGET_YEARS)["year"].tolist()
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


def test_winter_has_more_injuries_than_summer_in_the_demo(tmp_path):
    path = tmp_path / "s.duckdb"
    init_store(path, with_demo=True, end_month=date(2026, 10, 1))
    with store.connect(path, read_only=True) as con:
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
    assert store.scalar(con, sql.COUNT_OBSERVATIONS) == 0
