"""The hazard ledger page (pages/hazards.py) run with Streamlit's AppTest on a real store of units A, B and C, on
20 November 2026 (SAFETY_NOW), signed in as an administrator, an executive or A's staff.

The ledger (found on, deadline, days over on the 20th):
- A-2026-0001 general, being rectified, found 11-02, deadline 11-10: 10 days over; a routine inspection
- A-2026-0002 general, registered, found 11-15, no deadline; a consultancy's finding
- A-2026-0003 major, being rectified, found 11-01, deadline 11-05: 15 days over; a higher authority's inspection
- B-2026-0001 general, being rectified, found 11-10, deadline 11-30: not over
The lists show the newest found first: A-0002, B-0001, A-0001, A-0003; the overdue list A-0003 (15), A-0001 (10).
"""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from metrics import access, store
from metrics.auth.roles import Role, User
from metrics.ingest.initialise import init_store
from metrics.ledger import hazards
from metrics.ledger.hazards import Change, NewHazard, State
from metrics.store import audit
from tests.builders import UNITS, add_user, signed_in

APP = Path(__file__).resolve().parents[1] / "app.py"
PAGE = "pages/hazards.py"
NOW = "2026-11-20T10:00"
ADMIN = User("admin", Role.ADMIN)
FIVE = {"owner": "王工", "measures": "加装护罩并挂牌", "funds": 0.5, "verifier": "赵主任"}
NEWEST_FIRST = ["A-2026-0002", "B-2026-0001", "A-2026-0001", "A-2026-0003"]


def new(unit: str, place: str, found: date, *, source: str = "daily", level: str = "general") -> NewHazard:
    major = {"criterion": "coal", "clause": "第十二条"} if level == "major" else {}
    return NewHazard(unit, source, place, f"{place}护罩缺失，转动部位外露", level, "thing", "machinery", found,
                     "李工", **major)


def issue(con, number: str, deadline: date, **more) -> None:
    access.hazard_step(con, ADMIN, number, "issue", Change(ADMIN.name, date(2026, 11, 3), "",
                                                           FIVE | {"deadline": deadline} | more))


def empty_store(folder: Path) -> Path:
    """Units A, B and C, no data and no hazards; an administrator, an executive and A's staff."""
    path = folder / "safety.duckdb"
    init_store(path)
    with store.connect(path) as con:
        store.upsert_units(con, pd.DataFrame(UNITS, columns=["code", "name_zh", "name_en", "sector"]), actor="test")
    add_user(path, "admin")
    add_user(path, "boss", "executive")
    add_user(path, "a-staff", "unit", ("A",))
    return path


@pytest.fixture(scope="module")
def ledger_store(tmp_path_factory) -> Path:
    path = empty_store(tmp_path_factory.mktemp("hazard-page"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAFETY_NOW", NOW)
        with store.connect(path) as con:
            first = access.register_hazard(con, ADMIN, new("A", "2号皮带机头", date(2026, 11, 2)))
            issue(con, first, date(2026, 11, 10))
            access.register_hazard(con, ADMIN, new("A", "3号皮带机尾", date(2026, 11, 15), source="consultancy"))
            major = access.register_hazard(con, ADMIN, new("A", "1201 工作面", date(2026, 11, 1),
                                                           source="supervision", level="major"))
            issue(con, major, date(2026, 11, 5), contingency="撤人、停采")
            other = access.register_hazard(con, ADMIN, new("B", "装车站台", date(2026, 11, 10)))
            issue(con, other, date(2026, 11, 30))
    return path


@pytest.fixture
def now(monkeypatch):
    monkeypatch.setenv("SAFETY_NOW", NOW)


def run(path: Path, monkeypatch, name: str, **query: str) -> AppTest:
    monkeypatch.setenv("SAFETY_DB", str(path))
    at = signed_in(AppTest.from_file(str(APP), default_timeout=90), name)
    at.query_params.update(query)
    at.switch_page(PAGE)
    return ok(at.run())


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def table(at: AppTest, column: str, index: int = -1) -> pd.DataFrame:
    """A table of the page by a column of its own: 编号 the lists (the first the overdue ones, the last every hazard
    the filters keep), 事项 the hazard's events, 文件名 its evidence."""
    return [d.value for d in at.dataframe if column in d.value.columns][index]


def listed(at: AppTest) -> list[str]:
    return list(table(at, "编号")["编号"])


def count_line(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("截至"))


def by_label(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def writable(ledger_store: Path, tmp_path: Path) -> Path:
    path = tmp_path / "safety.duckdb"
    shutil.copy(ledger_store, path)
    return path


def test_the_list_holds_every_hazard_and_the_overdue_ones_by_days_over(ledger_store, now, monkeypatch):
    at = run(ledger_store, monkeypatch, "admin")
    assert [t.value for t in at.title] == ["隐患台账"]
    assert listed(at) == NEWEST_FIRST
    assert count_line(at) == "截至 2026-11-20 · 显示 4 / 4 条隐患，其中超期 2 条、重大隐患 1 条"
    overdue = table(at, "编号", 0)
    assert list(overdue["编号"]) == ["A-2026-0003", "A-2026-0001"]
    assert list(overdue.columns[:2]) == ["编号", "超期天数"]
    assert list(overdue["超期天数"]) == ["15", "10"]
    every = table(at, "编号").set_index("编号")
    row = every.loc["A-2026-0001"]
    assert dict(row) == {"单位": "甲煤矿", "部位": "2号皮带机头", "描述": "2号皮带机头护罩缺失，转动部位外露",
                         "级别": "一般", "状态": "整改中", "责任人": "王工", "期限": "2026-11-10", "超期天数": "10",
                         "证据": 0}
    assert (every.loc["A-2026-0003", "级别"], every.loc["A-2026-0002", "状态"]) == ("重大", "登记")


@pytest.mark.parametrize("query, shown", [
    ({"units": "A", "overdue": "1"}, ["A-2026-0001", "A-2026-0003"]),
    ({"units": "B"}, ["B-2026-0001"]),
    ({"level": "major"}, ["A-2026-0003"]),
    ({"state": "registered"}, ["A-2026-0002"]),
    ({"source": "supervision,consultancy"}, ["A-2026-0002", "A-2026-0003"]),
    ({"age": "10-18"}, ["B-2026-0001", "A-2026-0001"]),  # found 10 and 18 days before; A-0003 19, A-0002 5
])
def test_the_filters_from_the_url(ledger_store, now, monkeypatch, query, shown):
    at = run(ledger_store, monkeypatch, "admin", **query)
    assert listed(at) == shown
    assert {k: at.query_params[k] for k in query} in (query, {k: [v] for k, v in query.items()})


def test_the_filters_on_the_page_and_into_the_url(ledger_store, now, monkeypatch):
    at = run(ledger_store, monkeypatch, "admin")
    at.toggle(key="hazard_overdue").set_value(True)
    ok(at.multiselect(key="hazard_levels").set_value(["general"]).run())
    assert listed(at) == ["A-2026-0001"]
    assert count_line(at) == "截至 2026-11-20 · 显示 1 / 4 条隐患，其中超期 1 条、重大隐患 0 条"
    assert at.query_params["overdue"] in ("1", ["1"]) and at.query_params["level"] in ("general", ["general"])
    ok(at.multiselect(key="hazard_units").set_value(["C"]).run())
    assert [i.value for i in at.info] == ["没有符合筛选条件的隐患。"]  # a sentence, not an empty grid
    assert len(at.dataframe) == 0


def test_a_link_opens_one_hazard_with_its_fields_events_and_five_fixes(ledger_store, now, monkeypatch):
    at = run(ledger_store, monkeypatch, "admin", hazard="A-2026-0003")
    assert at.selectbox(key="hazard").value == "A-2026-0003"
    assert [s.value for s in at.subheader][-1] == "A-2026-0003 · 1201 工作面"
    assert [e.value for e in at.error] == ["已超期 15 天（整改期限 2026-11-05）"]
    fields = " ".join(m.value for m in at.markdown)
    for shown in ("**判定标准**：煤矿重大事故隐患判定标准", "**条款**：第十二条", "**应急预案**：撤人、停采",
                  "**原定整改期限**：2026-11-05", "**检查类型**：上级督查", "**可能导致的事故类型**：机械伤害"):
        assert shown in fields
    events = table(at, "事项")
    assert list(events["事项"]) == ["登记", "下达整改"]
    assert list(events["状态变化"]) == ["登记", "登记 → 整改中"]
    assert set(events["办理人"]) == {"admin"}
    assert at.query_params["hazard"] in ("A-2026-0003", ["A-2026-0003"])


def test_a_unit_user_sees_only_their_units_hazards(ledger_store, now, monkeypatch):
    at = run(ledger_store, monkeypatch, "a-staff", hazard="B-2026-0001")
    assert listed(at) == ["A-2026-0002", "A-2026-0001", "A-2026-0003"]
    assert at.multiselect(key="hazard_units").options == ["甲煤矿"]
    assert [i.value for i in at.info] == ["台账中没有您可查看的编号为 B-2026-0001 的隐患。"]
    assert at.selectbox(key="hazard").value is None
    assert "B-2026-0001" not in at.selectbox(key="hazard").options
    assert by_label(at.selectbox, "单位").options == ["甲煤矿 (A)"]  # registers only for their own unit


def test_an_executive_sees_the_ledger_and_no_forms(ledger_store, now, monkeypatch):
    at = run(ledger_store, monkeypatch, "boss", hazard="A-2026-0001")
    assert listed(at) == NEWEST_FIRST
    assert [s.value for s in at.subheader][-1] == "A-2026-0001 · 2号皮带机头"
    assert "领导账号只读：可查看台账，登记与办理由各单位和集团安全部进行。" in [c.value for c in at.caption]
    assert at.get("form") == [] and at.expander == []
    assert [b.label for b in at.main.button] == []  # the sidebar holds only the sign-out
    assert [r.label for r in at.radio if r.label == "办理事项"] == []


def test_registering_through_the_form_numbers_the_first_hazard(tmp_path, now, monkeypatch):
    path = empty_store(tmp_path)
    at = run(path, monkeypatch, "a-staff")
    assert [i.value for i in at.info] == ["台账中还没有您可查看的隐患记录。"]
    by_label(at.text_input, "隐患部位").set_value("3号皮带机头")
    by_label(at.text_area, "隐患描述").set_value("托辊护罩缺失")
    by_label(at.text_input, "发现人").set_value("李工")
    ok(by_label(at.button, "登记").click().run())
    assert [e.value for e in at.error] == ["请选择隐患类别、可能导致的事故类型，没有写入任何内容。"]
    by_label(at.selectbox, "隐患类别").set_value("thing")
    by_label(at.selectbox, "可能导致的事故类型").set_value("machinery")
    ok(by_label(at.button, "登记").click().run())
    assert at.success[0].value == "已登记隐患 A-2026-0001，下一步请下达整改（五定）。"
    assert listed(at) == ["A-2026-0001"]
    assert at.selectbox(key="hazard").value == "A-2026-0001"
    with store.connect(path, read_only=True) as con:
        found = hazards.get(con, "A-2026-0001")
    assert (found.state, found.place, found.factor, found.found_on, found.found_by) == \
        (State.REGISTERED, "3号皮带机头", "thing", date(2026, 11, 20), "李工")


def test_a_refused_step_shows_its_reasons_and_writes_nothing(ledger_store, tmp_path, now, monkeypatch):
    path = writable(ledger_store, tmp_path)
    with store.connect(path, read_only=True) as con:
        before = (hazards.get(con, "A-2026-0001"), len(hazards.events(con, "A-2026-0001")))
    at = run(path, monkeypatch, "a-staff", hazard="A-2026-0001")
    steps = at.radio(key="hazard_action_A-2026-0001")
    assert steps.options == ["上传整改证据", "整改完成，提交验收", "延期", "作废", "修改五定"]
    ok(steps.set_value("submit").run())
    ok(by_label(at.button, "整改完成，提交验收").click().run())
    assert [e.value for e in at.error][-1] == "隐患 A-2026-0001：没有整改证据：请先上传整改后的照片或文件"
    with store.connect(path, read_only=True) as con:
        assert (hazards.get(con, "A-2026-0001"), len(hazards.events(con, "A-2026-0001"))) == before
        refusal = audit.entries(con).iloc[0]
    assert (refusal["action"], refusal["outcome"], refusal["target"]) == ("hazard_change", "refused", "A-2026-0001")


def test_a_step_taken_reruns_the_page_in_the_new_state(ledger_store, tmp_path, now, monkeypatch):
    path = writable(ledger_store, tmp_path)
    with store.connect(path) as con:
        access.attach_evidence(con, ADMIN, "A-2026-0001", b"photo after", "after.jpg", path.parent / "raw")
    at = run(path, monkeypatch, "a-staff", hazard="A-2026-0001")
    assert list(table(at, "文件名")["文件名"]) == ["after.jpg"]
    assert [b.label for b in at.get("download_button")] == ["下载模板 CSV", "下载模板 Excel（.xlsx）", "下载 after.jpg"]
    ok(at.radio(key="hazard_action_A-2026-0001").set_value("submit").run())
    ok(by_label(at.button, "整改完成，提交验收").click().run())
    assert at.success[0].value == "整改完成，提交验收：已办理，隐患 A-2026-0001 现为“待验收”。"
    assert "待验收 · 一般 · 甲煤矿" in [c.value for c in at.caption]
    # The owner's own unit may verify a general hazard, but the form offers only what the state allows.
    assert at.radio(key="hazard_action_A-2026-0001").options == ["验收通过，销号", "验收不通过，退回整改", "作废"]
    with store.connect(path, read_only=True) as con:
        after = hazards.get(con, "A-2026-0001")
    assert (after.state, after.rectified_on) == (State.AWAITING, date(2026, 11, 20))


def test_a_unit_user_is_not_offered_the_groups_steps_on_a_major_hazard(ledger_store, tmp_path, now, monkeypatch):
    path = writable(ledger_store, tmp_path)
    with store.connect(path) as con:
        access.attach_evidence(con, ADMIN, "A-2026-0003", b"roof bolted", "bolts.jpg", path.parent / "raw")
        access.hazard_step(con, ADMIN, "A-2026-0003", "submit",
                           Change(ADMIN.name, date(2026, 11, 18), "", {"rectified_on": date(2026, 11, 18)}))
    staff = run(path, monkeypatch, "a-staff", hazard="A-2026-0003")
    assert staff.radio(key="hazard_action_A-2026-0003").options == ["作废"]
    admin = run(path, monkeypatch, "admin", hazard="A-2026-0003")
    assert admin.radio(key="hazard_action_A-2026-0003").options == ["验收通过，销号", "验收不通过，退回整改", "作废"]


# --- the drill-through from a figure and the reminders ----------------------------------------------------------

def issue_on(con, number: str, on: date, deadline: date, **more) -> None:
    """Issued the day it was found (the deadline in force from then, as the month-end figures read it)."""
    access.hazard_step(con, ADMIN, number, "issue", Change(ADMIN.name, on, "", FIVE | {"deadline": deadline} | more))


def close(con, folder: Path, number: str, on: date) -> None:
    access.attach_evidence(con, ADMIN, number, f"photo {number}".encode(), f"{number}.jpg", folder / "raw")
    access.hazard_step(con, ADMIN, number, "submit", Change(ADMIN.name, on, "", {"rectified_on": on}))
    access.hazard_step(con, ADMIN, number, "accept", Change(ADMIN.name, on, "", {"verified_on": on}))


@pytest.fixture(scope="module")
def drill_store(tmp_path_factory) -> Path:
    """On 20 November 2026 (found, deadline; September's end: the 30th):
    - A-2026-0001 general, found 09-03, deadline 09-20, being rectified: overdue at September's end (10 days), at
      October's and now;
    - A-2026-0002 general, found 09-10, deadline 09-25, closed 10-05: overdue at September's end, closed since;
    - A-2026-0003 major, found 09-15, deadline 10-15, being rectified: found in September, overdue from October;
    - A-2026-0004 general, found 10-02, deadline 10-10, closed 10-08: found and rectified in October;
    - B-2026-0001 general, found 09-20, deadline 09-22, being rectified: B's overdue one;
    - B-2026-0002 / 0003 / 0004, found 11-01 / 02 / 03, deadlines 11-22 (due in 2 days), 11-20 (today, owner 刘工),
      11-17 (3 days over).
    Reminders on the 20th: A-0001 (61 days over), A-0003 (36), B-0001 (59) escalated; B-0004 overdue; B-0003 due
    today; B-0002 due soon."""
    folder = tmp_path_factory.mktemp("hazard-drill")
    path = empty_store(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAFETY_NOW", NOW)
        with store.connect(path) as con:
            for unit, place, found, deadline, more in (
                    ("A", "2号皮带机头", date(2026, 9, 3), date(2026, 9, 20), {}),
                    ("A", "3号皮带机尾", date(2026, 9, 10), date(2026, 9, 25), {}),
                    ("A", "1201 工作面", date(2026, 9, 15), date(2026, 10, 15), {"contingency": "撤人、停采"}),
                    ("A", "主井井口", date(2026, 10, 2), date(2026, 10, 10), {}),
                    ("B", "装车站台", date(2026, 9, 20), date(2026, 9, 22), {}),
                    ("B", "罐区", date(2026, 11, 1), date(2026, 11, 22), {}),
                    ("B", "泵房", date(2026, 11, 2), date(2026, 11, 20), {"owner": "刘工"}),
                    ("B", "配电室", date(2026, 11, 3), date(2026, 11, 17), {})):
                number = access.register_hazard(con, ADMIN, new(unit, place, found,
                                                                level="major" if more.get("contingency") else
                                                                "general"))
                issue_on(con, number, found, deadline, **more)
            close(con, folder, "A-2026-0002", date(2026, 10, 5))
            close(con, folder, "A-2026-0004", date(2026, 10, 8))
    return path


def drill_line(at: AppTest) -> str:
    return next(i.value for i in at.info if "项" in i.value or ": " in i.value)


@pytest.mark.parametrize("query, line, shown, overdue", [
    ({"units": "A", "month": "2026-09", "figure": "hazards_overdue"},
     "A 甲煤矿 2026年9月 超期未整改隐患数（月末）：2 项（超期天数按 2026-09-30 计）",
     ["A-2026-0002", "A-2026-0001"], ["A-2026-0001"]),
    ({"month": "2026-10", "figure": "hazards_overdue"},
     "集团 2026年10月 超期未整改隐患数（月末）：3 项（超期天数按 2026-10-31 计）",
     ["B-2026-0001", "A-2026-0003", "A-2026-0001"], ["A-2026-0001", "B-2026-0001", "A-2026-0003"]),
    ({"units": "A", "month": "2026-10", "figure": "hazards_found", "basis": "ytd"},
     "A 甲煤矿 2026年1—10月 排查隐患数：4 项（超期天数按 2026-10-31 计）",
     ["A-2026-0004", "A-2026-0003", "A-2026-0002", "A-2026-0001"], ["A-2026-0001", "A-2026-0003"]),
    ({"units": "A", "month": "2026-10", "figure": "hazards_found", "basis": "month"},
     "A 甲煤矿 2026年10月 排查隐患数：1 项（超期天数按 2026-10-31 计）", ["A-2026-0004"], []),
    ({"units": "A,B", "month": "2026-09", "figure": "major_hazards", "basis": "month"},
     "A 甲煤矿、B 乙化工 2026年9月 重大隐患数：1 项（超期天数按 2026-09-30 计）", ["A-2026-0003"], []),
    ({"units": "A", "month": "2026-10", "figure": "hazards_rectified", "basis": "ytd"},
     "A 甲煤矿 2026年1—10月 已整改隐患数：1 项（超期天数按 2026-10-31 计）", ["A-2026-0004"], []),
    ({"units": "B", "month": "2026-11", "figure": "hazards_overdue"},  # the month not over: days over today
     "B 乙化工 2026年11月 超期未整改隐患数（月末）：4 项（超期天数按 2026-11-20 计）",
     ["B-2026-0004", "B-2026-0003", "B-2026-0002", "B-2026-0001"], ["B-2026-0001", "B-2026-0004"]),
])
def test_a_figures_link_lists_the_hazards_behind_it(drill_store, now, monkeypatch, query, line, shown, overdue):
    at = run(drill_store, monkeypatch, "admin", **query)
    assert drill_line(at) == line
    assert (listed(at), list(table(at, "编号", 0)["编号"]) if overdue else []) == (shown, overdue)
    as_of = line.split("按 ")[1][:10]
    assert count_line(at).startswith(f"截至 {as_of} · 显示 {len(shown)} / 8 条隐患，其中超期 {len(overdue)} 条")
    assert at.query_params["figure"] in (query["figure"], [query["figure"]])


def test_days_over_are_at_the_months_end_and_the_figure_can_be_cleared(drill_store, now, monkeypatch):
    at = run(drill_store, monkeypatch, "admin", units="A", month="2026-09", figure="hazards_overdue")
    assert list(table(at, "编号", 0)["超期天数"]) == ["10"]  # A-0001 at 09-30; A-0002, closed since, none
    assert "列表中的状态与整改期限为 2026-11-20 的情况；月末以后已销号或延期的隐患，按目前的状态与期限计超期天数。" in [
        c.value for c in at.caption]
    assert dict(table(at, "编号").set_index("编号")["状态"]) == {"A-2026-0002": "已销号", "A-2026-0001": "整改中"}
    ok(by_label(at.button, "取消按指标筛选").click().run())
    assert not [i.value for i in at.info if "项" in i.value]
    assert listed(at) == ["A-2026-0004", "A-2026-0003", "A-2026-0002", "A-2026-0001"]  # A's, as of today
    assert list(table(at, "编号", 0)["超期天数"]) == ["61", "36"]
    assert count_line(at) == "截至 2026-11-20 · 显示 4 / 8 条隐患，其中超期 2 条、重大隐患 1 条"
    assert "figure" not in at.query_params and at.query_params["units"] in ("A", ["A"])


def test_a_unit_users_link_holds_only_their_own_units_hazards(drill_store, now, monkeypatch):
    at = run(drill_store, monkeypatch, "a-staff", units="B", month="2026-09", figure="hazards_overdue")
    assert drill_line(at) == "A 甲煤矿 2026年9月 超期未整改隐患数（月末）：2 项（超期天数按 2026-09-30 计）"
    assert listed(at) == ["A-2026-0002", "A-2026-0001"]


def test_the_line_in_english(drill_store, now, monkeypatch):
    at = run(drill_store, monkeypatch, "admin", lang="en", units="A", month="2026-09", figure="hazards_overdue")
    assert drill_line(at) == ("A Mine A, Sep 2026, Overdue hazards (month end): 2 (days over as at 2026-09-30)")
    assert [b.label for b in at.button if b.label == "Clear the figure"] == ["Clear the figure"]
    ytd = run(drill_store, monkeypatch, "admin", lang="en", month="2026-10", figure="hazards_found")
    assert drill_line(ytd) == "Group, Jan–Oct 2026, Hazards found: 5 (days over as at 2026-10-31)"


@pytest.mark.parametrize("query, warning", [
    ({"month": "2026-09", "figure": "fatalities"}, "指标“死亡人数”不是由隐患台账统计的数字，下面列出全部隐患。"),
    ({"month": "2026-09", "figure": "no_such_code"},  # as written, in plain text (Markdown's _ escaped)
     "指标“no\\_such\\_code”不是由隐患台账统计的数字，下面列出全部隐患。"),
    ({"month": "九月", "figure": "hazards_overdue"}, "链接中的月份“九月”无法识别，下面列出全部隐患。"),
])
def test_a_link_the_page_cannot_follow_says_so_and_lists_every_hazard(drill_store, now, monkeypatch, query,
                                                                      warning):
    at = run(drill_store, monkeypatch, "admin", **query)
    assert [w.value for w in at.warning] == [warning]
    assert len(listed(at)) == 8 and "figure" not in at.query_params


def test_the_reminders_per_unit_and_owner(drill_store, now, monkeypatch):
    at = run(drill_store, monkeypatch, "admin")
    assert [tab.label for tab in at.tabs] == ["隐患清单", "到期提醒"]
    at.session_state["hazard_view"] = "到期提醒"
    ok(at.run())
    reminders = at.tabs[1]
    assert [c.value for c in reminders.caption] == [  # data/hazards.toml's days
        "提醒规则：距整改期限 3 天以内为“即将到期”，期限当天为“今日到期”，超过期限为“已超期”，"
        "超期满 7 天为“超期升级”。"]
    assert [m.value for m in reminders.markdown] == [
        "2026-11-20 共 6 条提醒（按单位、责任人排列）：即将到期 1 条、今日到期 1 条、已超期 1 条、超期升级 3 条"]
    shown = reminders.dataframe[0].value
    assert shown.values.tolist() == [
        ["A 甲煤矿", "王工", "超期升级", "A-2026-0001", "2号皮带机头", "2026-09-20", "已超期 61 天"],
        ["A 甲煤矿", "王工", "超期升级", "A-2026-0003", "1201 工作面", "2026-10-15", "已超期 36 天"],
        ["B 乙化工", "刘工", "今日到期", "B-2026-0003", "泵房", "2026-11-20", "今天到期"],
        ["B 乙化工", "王工", "超期升级", "B-2026-0001", "装车站台", "2026-09-22", "已超期 59 天"],
        ["B 乙化工", "王工", "已超期", "B-2026-0004", "配电室", "2026-11-17", "已超期 3 天"],
        ["B 乙化工", "王工", "即将到期", "B-2026-0002", "罐区", "2026-11-22", "还有 2 天"]]
    assert list(shown.columns) == ["单位", "整改责任人", "提醒", "编号", "部位", "整改期限", "到期情况"]
    ok(at.multiselect(key="hazard_units").set_value(["A"]).run())  # the units chosen above the tabs
    assert list(at.tabs[1].dataframe[0].value["编号"]) == ["A-2026-0001", "A-2026-0003"]
    staff = run(drill_store, monkeypatch, "a-staff")
    staff.session_state["hazard_view"] = "到期提醒"
    ok(staff.run())
    assert list(staff.tabs[1].dataframe[0].value["编号"]) == ["A-2026-0001", "A-2026-0003"]


def test_the_five_fixes_are_corrected_on_the_page_and_the_state_stays(ledger_store, tmp_path, now, monkeypatch):
    """修改五定, offered last: a new owner and measures for A-2026-0001 (being rectified), its deadline untouched (it
    moves only by an extension), the change an event of the hazard."""
    path = writable(ledger_store, tmp_path)
    at = run(path, monkeypatch, "a-staff", hazard="A-2026-0001")
    assert at.radio(key="hazard_action_A-2026-0001").options[-1] == "修改五定"
    ok(at.radio(key="hazard_action_A-2026-0001").set_value("update").run())
    by_label(at.text_input, "整改责任人").set_value("孙工")
    by_label(at.text_area, "整改措施").set_value("更换托辊护罩并加设警示标识")
    ok(by_label(at.button, "修改五定").click().run())
    assert at.success[0].value == "修改五定：已办理，隐患 A-2026-0001 现为“整改中”。"
    with store.connect(path, read_only=True) as con:
        after = hazards.get(con, "A-2026-0001")
        events = hazards.events(con, "A-2026-0001")
    assert (after.state, after.owner, after.measures, after.deadline) == (
        State.RECTIFYING, "孙工", "更换托辊护罩并加设警示标识", date(2026, 11, 10))
    assert events["action"].iloc[-1] == "update"
