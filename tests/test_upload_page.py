"""The upload page through AppTest: a file is checked, its problems listed and marked, then committed."""
import hashlib
import json
import re
import shutil
import subprocess
import sys
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from metrics import store
from metrics.ingest import upload
from metrics.store import audit
from metrics.store.raw_files import raw_dir
from tests.disk import fill


def upload_page(path, monkeypatch) -> AppTest:
    """The upload page on the store at `path` (the demo administrator's session)."""
    monkeypatch.setenv("SAFETY_DB", str(path))
    at = AppTest.from_file("../app.py", default_timeout=90)
    at.run()
    at.switch_page("pages/upload.py")
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def app(db, monkeypatch):
    return upload_page(db, monkeypatch), db


DEMO_BATCHES = 12 * 36 - 1  # one submission per unit and month; LG02 has not submitted the last month


def raw_files(path) -> list[str]:
    """Every file under the store's raw/, hidden ones too."""
    return sorted(p.name for p in raw_dir(path).rglob("*") if p.is_file())


def texts(elements):
    return " ".join(e.value for e in elements)


def tables(at, column):
    """The page's tables with this column, in page order (问题: the problem lists; 报送状态: the due list; row: the
    preview; 状态: the batch history; 新值: the chosen batch's changes)."""
    return [frame for frame in at.dataframe if column in frame.value.columns]


def test_a_bad_file_lists_every_error_and_writes_nothing(app):
    at, path = app
    bad = "月份,单位,指标,数值\n2026-10,铁运工司,负伤人数（轻伤及以上）,1\n2026-10,铁运公司,负伤人数（轻伤及以上）,-2\n"
    at.file_uploader(key="upload_file").upload("bad.csv", bad.encode("utf-8"), "text/csv")
    at.run()
    assert not at.exception
    assert "2 处错误" in texts(at.error)
    errors = tables(at, "问题")[0].value
    assert errors.iloc[:, 0].tolist() == [2, 3]
    assert "是否应为“铁运公司”" in errors.iloc[0, 3]  # the page speaks Chinese by default
    assert "数值不能为负" in errors.iloc[1, 3]
    assert not [b for b in at.button if b.key == "commit"]
    assert raw_files(path) == []  # a rejected file is not kept (docs/rules.md): the trail names it by its sha256
    with store.connect(path, read_only=True) as con:
        assert len(upload.batches(con)) == DEMO_BATCHES
        row = audit.entries(con).iloc[0]
    assert row["action"] == "upload_rejected"
    assert json.loads(row["detail"])["sha256"] == hashlib.sha256(bad.encode("utf-8")).hexdigest()


def test_a_file_with_more_errors_than_are_listed_counts_them_all_and_lists_a_bounded_few(app):
    from metrics.core.problems import LISTED_PER_FILE

    at, path = app
    rows = "".join(f"2026-10,CM01,hours_worked,{100000 + i}\n" for i in range(150))
    at.file_uploader(key="upload_file").upload("dup.csv", f"month,subsidiary,indicator,value\n{rows}".encode(),
                                               "text/csv")
    at.run()
    assert not at.exception
    assert "文件有 150 处错误" in texts(at.error)
    errors = tables(at, "问题")[0].value
    assert len(errors) == LISTED_PER_FILE + 1
    assert errors.iloc[0, 3] == ("CM01 / hours_worked / 2026-10 的数值互相矛盾（第 2、3、4 … 行等，另有 147 行）："
                                 "只保留一行")
    assert errors.iloc[-1, 3].startswith("另有 50 处错误未列出，文件同样不予写入")
    assert errors.iloc[:-1, 0].tolist() == list(range(2, 2 + LISTED_PER_FILE))
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
        # the demo store signs in as demo
        assert (batch["file_name"], batch["rows"], batch["actor"]) == ("october.csv", 2, "demo")
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


def test_the_dashboard_shows_an_import_from_the_command_line_without_a_restart(db, tmp_path, monkeypatch):
    import subprocess
    import sys
    from pathlib import Path

    path = db
    monkeypatch.setenv("SAFETY_DB", str(path))
    at = AppTest.from_file("../app.py", default_timeout=90)
    at.run()
    assert "逾期未报（截止 11月10日）：铁运公司" in texts(at.warning)
    rows = "\n".join(f"2026-10,LG02,{code},{value}" for code, value in (
        ("injuries", 0), ("fatalities", 0), ("hours_worked", 220000), ("avg_employees", 1100)))
    data = tmp_path / "lg02.csv"
    data.write_text("month,subsidiary,indicator,value\n" + rows + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "metrics", "import", str(data), "--db", str(path)], check=False,
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    at.run()
    assert not at.exception
    assert "逾期未报（截止 11月10日）：铁运公司" not in texts(at.warning)
    assert {m.label: m.value for m in at.metric}["报送单位 · 当月"] == "12 / 12"


# Issue 12: the preview in the user's shape, the hours warning, what is due, the template command, the new state
# at once after a commit or a rollback.

WIDE = ("月份,单位编码,单位名称,负伤人数（轻伤及以上）,排查隐患数,实际工时（小时）\n"
        "2026-10,LG02,铁运公司,1,14,\n"  # row 2: no hours for LG02 (none stored either): a warning
        "2026-10,CM01,东峰煤矿,-2,42,669876\n"  # row 3: a negative value
        "2026-10,LG01,铁运公司,3,11,188000\n")  # row 4: coded LG01, named as LG02
ERROR_STYLE, WARNING_STYLE = "background-color: #fdecea", "background-color: #fff8e1"


def cell_styles(frame) -> dict[tuple[int, str], str]:
    """(spreadsheet row, column) -> the CSS the page's Styler gave the cell, read back from the element."""
    table = frame.value
    found = {}
    for rule in frame.proto.arrow_data.styler.styles.split("}"):
        if "{" not in rule:
            continue
        selectors, css = rule.split("{")
        for selector in selectors.split(","):
            match = re.search(r"_row(\d+)_col(\d+)", selector)
            if match:
                row, column = int(match.group(1)), int(match.group(2))
                found[(int(table.iloc[row, 0]), table.columns[column])] = css.strip()
    return found


def test_the_preview_shows_the_users_rows_and_headers_and_marks_only_the_wrong_cells(app):
    at, _ = app
    at.file_uploader(key="upload_file").upload("october.csv", WIDE.encode("utf-8-sig"), "text/csv")
    at.run()
    assert not at.exception
    assert "2 处错误" in texts(at.error)
    errors = tables(at, "问题")[0].value
    assert errors.iloc[:, :3].values.tolist() == [[3, "负伤人数（轻伤及以上）", "-2"],
                                                 [4, "单位编码 / 单位名称", "LG01 / 铁运公司"]]
    preview = tables(at, "row")[0]
    assert list(preview.value.columns) == ["row", "月份", "单位编码", "单位名称", "负伤人数（轻伤及以上）",
                                           "排查隐患数",
                                           "实际工时（小时）"]
    assert preview.value.values.tolist() == [[2, "2026-10", "LG02", "铁运公司", "1", "14", ""],
                                             [3, "2026-10", "CM01", "东峰煤矿", "-2", "42", "669876"],
                                             [4, "2026-10", "LG01", "铁运公司", "3", "11", "188000"]]
    marked = {cell: css.split(";")[0] for cell, css in cell_styles(preview).items() if css}
    assert marked == {(3, "负伤人数（轻伤及以上）"): ERROR_STYLE, (4, "单位编码"): ERROR_STYLE,
                      (4, "单位名称"): ERROR_STYLE, (2, "实际工时（小时）"): WARNING_STYLE}


def test_a_blank_hours_cell_is_warned_and_the_file_still_commits(app):
    at, _ = app
    at.file_uploader(key="upload_file").upload("lg02.csv", WIDE.split("2026-10,CM01")[0].encode("utf-8"), "text/csv")
    at.run()
    assert "校验通过：将写入 2 个数值" in texts(at.success)
    [warning] = tables(at, "问题")
    assert warning.value.values.tolist() == [[2, "实际工时（小时）", "", (
        "LG02 2026-10 未填实际工时（小时）：百万工时伤害率（GB 6441）等 4 项比率以它为分母，将无法计算；可照常提交，"
        "请尽快补报")]]
    at.button(key="commit").click()
    at.run()
    assert f"已提交：批次 {DEMO_BATCHES + 1}，写入 2 个数值" in texts(at.success)


@pytest.fixture
def on(monkeypatch):
    """on("2026-11-23"): the product takes that day as today."""
    return lambda day: monkeypatch.setenv("SAFETY_NOW", day)


def test_an_administrator_sees_every_units_state_for_the_month_due(app, on):
    at, _ = app
    on("2026-11-23")
    at.run()
    assert "**报送情况 · 2026年10月 · 截止 11月10日** · 已报送 11 / 12 个单位" in texts(at.markdown)
    due = tables(at, "报送状态")[0].value
    assert due.iloc[:3].values.tolist() == [["LG02 铁运公司", "逾期未报", ""],
                                            ["LG01 通达物流公司", "逾期报送", "11月13日"],
                                            ["CH01 华源化工有限公司", "已报送", "11月3日"]]
    assert len(due) == 12 and set(due["报送状态"][2:]) == {"已报送"}


@pytest.fixture
def unit_users(db, monkeypatch):
    """A copy of the demo store that asks for sign-in, with unit users lg02 (LG02) and lg (LG01, LG02)."""
    from tests.builders import add_user, asking_for_sign_in, signed_in

    path = asking_for_sign_in(db)
    add_user(path, "lg02", "unit", ("LG02",))
    add_user(path, "lg", "unit", ("LG01", "LG02"))
    monkeypatch.setenv("SAFETY_DB", str(path))

    def page(name: str, lang: str = "zh") -> AppTest:
        at = signed_in(AppTest.from_file("../app.py", default_timeout=90), name)
        at.query_params["lang"] = lang
        at.switch_page("pages/upload.py")
        at.run()
        assert not at.exception
        return at
    return page


def test_a_unit_user_reads_what_is_due_for_their_unit(unit_users, on):
    on("2026-11-05")
    assert texts(unit_users("lg02").info) == "2026年10月 · 截止 11月10日 · 本单位尚未报送"
    assert texts(unit_users("lg02", "en").info) == "Oct 2026 · due 10 Nov · your unit: not reported yet"
    on("2026-11-23")
    at = unit_users("lg")
    assert [w.value for w in at.warning] == ["2026年10月 · 截止 11月10日 · 通达物流公司逾期报送（11月13日）",
                                             "2026年10月 · 截止 11月10日 · 铁运公司逾期未报"]
    assert not tables(at, "报送状态")  # no list of the other units


def test_the_template_command_writes_the_pages_template(app, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from metrics.access import DEMO_USER
    from ui import data

    _, path = app
    month = date(2026, 10, 1)
    page_csv, page_xlsx = data.template_files(str(path), DEMO_USER, month, data.version(path))
    for fmt, made in (("csv", page_csv), ("xlsx", page_xlsx)):
        out = tmp_path / f"template.{fmt}"
        done = subprocess.run([sys.executable, "-m", "metrics", "template", "--month", "2026-10", "--format", fmt,
                               "--out", str(out), "--db", str(path)], check=False,
                              cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert out.read_bytes() == made(), fmt
    lines = (tmp_path / "template.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("月份,单位编码,单位名称,死亡人数,")
    assert lines[1].startswith("2026-10,CH01,华源化工有限公司,,") and len(lines) == 13


def test_after_a_commit_the_page_shows_the_new_batch_at_once(app):
    at, _ = app
    at.selectbox(key="batch_choice").set_value(DEMO_BATCHES - 3)
    at.run()
    good = "月份,单位编码,单位名称,负伤人数（轻伤及以上）,实际工时（小时）\n2026-10,LG02,铁运公司,1,220000\n"
    at.file_uploader(key="upload_file").upload("october.csv", good.encode("utf-8"), "text/csv")
    at.run()
    at.button(key="commit").click()
    at.run()
    assert not at.exception
    batch = DEMO_BATCHES + 1
    assert texts(at.success).startswith(f"已提交：批次 {batch}，写入 2 个数值")
    assert not [b for b in at.button if b.key == "commit"]  # the file is in: nothing left to commit
    history = tables(at, "状态")[0].value
    first = history.iloc[0]
    assert (first["批次"], first["文件"], first["状态"]) == (batch, "october.csv", "已提交")
    assert at.selectbox(key="batch_choice").value == batch  # the picker shows the new batch, not the old choice
    assert tables(at, "新值")[0].value["新值"].tolist() == ["1", "220,000"]


def test_after_a_rollback_the_page_shows_it_at_once_and_the_confirm_box_is_cleared(app):
    at, path = app
    with store.connect(path) as con:
        first = upload.import_file(con, b"month,subsidiary,indicator,value\n2026-10,LG02,injuries,3\n", "a.csv",
                                   actor="a", today=date(2026, 11, 23))
        second = upload.import_file(con, b"month,subsidiary,indicator,value\n2026-10,LG02,hazards_found,4\n",
                                    "b.csv", actor="a", today=date(2026, 11, 23))
    at.run()
    at.selectbox(key="batch_choice").set_value(second.batch_id)
    at.run()
    at.checkbox(key="rollback_confirm").check()
    at.run()
    at.button(key="rollback").click()
    at.run()
    assert not at.exception
    undo = second.batch_id + 1
    assert f"批次 {second.batch_id} 已撤销（记录为批次 {undo}）" in texts(at.success)
    history = tables(at, "状态")[0].value.set_index("批次")["状态"]
    assert (history[undo], history[second.batch_id], history[first.batch_id]) == ("已提交", "已撤销", "已提交")
    assert at.selectbox(key="batch_choice").value == undo  # the rollback itself, which cannot be rolled back
    assert not [c for c in at.checkbox if c.key == "rollback_confirm"]
    at.selectbox(key="batch_choice").set_value(first.batch_id)
    at.run()
    assert at.checkbox(key="rollback_confirm").value is False  # not still ticked from the last rollback
    assert at.button(key="rollback").disabled


# Issue 18, item 14: a busy store and a full disk give the page a sentence, and nothing is changed.

GOOD = "month,subsidiary,indicator,value\n2026-10,LG02,injuries,1\n"
BUSY_ZH = ("数据库正被另一个程序写入（导入、备份或恢复），等候超时。本次操作没有进行，任何数据都没有改动。"
           "请一分钟后刷新本页再试；如果一直如此，请告知系统管理员。")
BUSY_EN = ("The store is busy: another program (an import, a backup or a restore) has been writing to it for longer "
           "than the wait. Nothing was done and nothing was changed. Reload this page in a minute and try again; if "
           "it stays like this, tell the system administrator.")
FULL_ZH = ("服务器磁盘已满，本次操作没有完成：数据库没有任何改动，也没有留下写了一半的文件。"
           "请告知系统管理员腾出磁盘空间，然后再试一次。")


def held(path) -> subprocess.Popen:
    """Another process holding the store's write lock (as an import does) until killed."""
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(120)", str(path)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "open"
    return holder


def batch_count(path) -> int:
    with store.connect(path, read_only=True) as con:
        return len(upload.batches(con))


def test_an_upload_into_a_busy_store_says_so_and_changes_nothing(app, monkeypatch):
    at, path = app
    monkeypatch.setenv("SAFETY_DB_TIMEOUT", "1")
    holder = held(path)
    try:
        at.file_uploader(key="upload_file").upload("october.csv", GOOD.encode(), "text/csv")
        at.run()
    finally:
        holder.kill()
        holder.wait()
    assert not at.exception
    assert [e.value for e in at.error] == [BUSY_ZH]
    assert not [b for b in at.button if b.key == "commit"]
    assert raw_files(path) == [] and batch_count(path) == DEMO_BATCHES
    at.run()  # a minute later: the same file is checked as usual
    assert not at.exception and "将写入 1 个数值" in texts(at.success)


def test_a_page_opened_while_the_store_is_busy_says_so_in_english(db, monkeypatch):
    """A first visit, nothing cached: the first thing the page reads is the store."""
    path = db
    monkeypatch.setenv("SAFETY_DB", str(path))
    monkeypatch.setenv("SAFETY_DB_TIMEOUT", "1")
    holder = held(path)
    try:
        at = AppTest.from_file("../pages/ranking.py", default_timeout=90)
        at.query_params["lang"] = "en"
        at.run()
    finally:
        holder.kill()
        holder.wait()
    assert not at.exception
    assert [e.value for e in at.error] == [BUSY_EN]


def test_an_upload_onto_a_full_disk_says_so_and_leaves_nothing_half_written(pristine, monkeypatch, small_disk):
    disk = small_disk("32m")
    path = disk / "s.duckdb"
    shutil.copy(pristine, path)
    at = upload_page(path, monkeypatch)
    with store.connect(path, read_only=True) as con:
        trail = len(audit.entries(con))
    filler = fill(disk)
    at.file_uploader(key="upload_file").upload("october.csv", GOOD.encode(), "text/csv")
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [FULL_ZH]
    assert raw_files(path) == []  # no half-written temporary file
    filler.unlink()
    with store.connect(path, read_only=True) as con:
        assert len(audit.entries(con)) == trail
    assert batch_count(path) == DEMO_BATCHES
