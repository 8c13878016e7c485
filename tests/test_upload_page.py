"""The upload page through AppTest: a file is checked, its problems listed and marked, then committed."""
import shutil
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from metrics import store, upload


@pytest.fixture
def app(pristine, tmp_path, monkeypatch):
    path = tmp_path / "s.duckdb"
    shutil.copy(pristine, path)
    monkeypatch.setenv("SAFETY_DB", str(path))
    at = AppTest.from_file("../app.py", default_timeout=90)
    at.run()
    at.switch_page("pages/upload.py")
    at.run()
    assert not at.exception
    return at, path


DEMO_BATCHES = 12 * 36 - 1  # one submission per unit and month; LG02 has not submitted the last month


def texts(elements):
    return " ".join(e.value for e in elements)


def table(at, column):
    """The page's one table with this column (问题: the problem lists; 报送状态: the due list; 行: the preview)."""
    [found] = [frame for frame in at.dataframe if column in frame.value.columns]
    return found


def test_a_bad_file_lists_every_error_and_writes_nothing(app):
    at, path = app
    bad = "月份,单位,指标,数值\n2026-10,铁运工司,负伤人数（轻伤及以上）,1\n2026-10,铁运公司,负伤人数（轻伤及以上）,-2\n"
    at.file_uploader(key="upload_file").upload("bad.csv", bad.encode("utf-8"), "text/csv")
    at.run()
    assert not at.exception
    assert "2 处错误" in texts(at.error)
    errors = table(at, "问题").value
    assert errors.iloc[:, 0].tolist() == [2, 3]
    assert "是否应为“铁运公司”" in errors.iloc[0, 3]  # the page speaks Chinese by default
    assert "数值不能为负" in errors.iloc[1, 3]
    assert not [b for b in at.button if b.key == "commit"]
    kept = list((path.parent / "raw").rglob("*.csv"))
    assert [k.read_bytes() for k in kept] == [bad.encode("utf-8")]  # what the unit sent is kept, even rejected
    with store.connect(path, read_only=True) as con:
        assert len(upload.batches(con)) == DEMO_BATCHES


def test_a_good_file_is_previewed_then_committed_with_one_click(app):
    at, path = app
    good = "月份,单位编码,负伤人数（轻伤及以上）,实际工时（小时）\n2026年10月,LG02,1,\"220,000\"\n"
    at.file_uploader(key="upload_file").upload("october.csv", good.encode("gb18030"), "text/csv")
    at.run()
    assert "将写入 2 个数值" in texts(at.success)
    at.button(key="commit").click()
    at.run()
    assert not at.exception
    assert f"已提交：批次 {DEMO_BATCHES + 1}，" in texts(at.success)
    with store.connect(path, read_only=True) as con:
        batch = upload.batches(con).iloc[0]
        assert (batch["file_name"], batch["rows"], batch["actor"]) == ("october.csv", 2, "demo")  # the demo store signs in as demo
        assert store.scalar(con, "SELECT value FROM observations WHERE subsidiary = 'LG02' AND "
                                 "indicator = 'hours_worked' AND month = DATE '2026-10-01'") == 220000


def test_rollback_from_the_page(app):
    at, path = app
    with store.connect(path) as con:
        done = upload.import_file(con, b"month,subsidiary,indicator,value\n2026-10,LG02,injuries,3\n", "x.csv",
                                  actor="a", today=date(2026, 11, 23))
    at.run()
    at.selectbox(key="batch_choice").set_value(done.batch_id)
    at.run()
    at.checkbox(key="rollback_confirm").check()
    at.run()
    at.button(key="rollback").click()
    at.run()
    assert not at.exception
    assert f"批次 {done.batch_id} 已撤销" in texts(at.success)
    with store.connect(path, read_only=True) as con:
        assert store.scalar(con, "SELECT count(*) FROM observations WHERE subsidiary = 'LG02' AND "
                                 "month = DATE '2026-10-01'") == 0


def test_the_dashboard_shows_an_import_from_the_command_line_without_a_restart(pristine, tmp_path, monkeypatch):
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "s.duckdb"
    shutil.copy(pristine, path)
    monkeypatch.setenv("SAFETY_DB", str(path))
    at = AppTest.from_file("../app.py", default_timeout=90)
    at.run()
    assert "逾期未报（截止 11月10日）：铁运公司" in texts(at.warning)
    rows = "\n".join(f"2026-10,LG02,{code},{value}" for code, value in (
        ("injuries", 0), ("fatalities", 0), ("hours_worked", 220000), ("avg_employees", 1100)))
    data = tmp_path / "lg02.csv"
    data.write_text("month,subsidiary,indicator,value\n" + rows + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "metrics", "import", str(data), "--db", str(path)],
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    at.run()
    assert not at.exception
    assert "逾期未报（截止 11月10日）：铁运公司" not in texts(at.warning)
    assert {m.label: m.value for m in at.metric}["报送单位 · 当月"] == "12 / 12"
