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
    assert steps.options == ["上传整改证据", "整改完成，提交验收", "延期", "作废"]
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
    assert [b.label for b in at.get("download_button")] == ["下载 after.jpg"]
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


def test_the_scorecard_opens_the_hazards_behind_its_hazard_numbers(pristine, monkeypatch):
    monkeypatch.setenv("SAFETY_DB", str(pristine))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["unit"] = "CM01"
    at.switch_page("pages/unit.py")
    ok(at.run())
    links = {link.proto.label: link.proto for link in at.get("page_link") if link.proto.label.startswith("查看隐患")}
    assert set(links) == {"查看隐患：排查隐患数", "查看隐患：已整改隐患数", "查看隐患：重大隐患数",
                          "查看隐患：超期未整改隐患数", "查看隐患：隐患整改率"}
    overdue = links["查看隐患：超期未整改隐患数"]
    assert overdue.page == "hazards"
    assert "units=CM01" in overdue.query_string and "overdue=1" in overdue.query_string
    assert "level=major" in links["查看隐患：重大隐患数"].query_string
    assert "overdue" not in links["查看隐患：排查隐患数"].query_string
