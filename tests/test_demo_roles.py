"""The demo seen as each role, and the users page: a new user starts with the least privileged role, the demo
administrator is listed, and the demo's role switch changes the acting user of every page (demo store only).

The demo's facts used here (a demo store ending 2026-10): 12 units; 北川煤矿 (CM03) is vetoed for a fatality;
华源化工有限公司 is CH01.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics import access, store
from metrics.auth.roles import Role, by_privilege, privileges
from metrics.scoring import breaches
from tests.builders import add_user, asking_for_sign_in, signed_in

APP = Path(__file__).resolve().parents[1] / "app.py"
END_MONTH = date(2026, 10, 1)
ASK = "。如需权限请联系集团安全部。"
UNIT_NAV = ["总览", "排名", "趋势", "预警与问责", "单位详情", "隐患台账", "指标与目标", "上传数据"]
EXECUTIVE_NAV = ["总览", "排名", "趋势", "预警与问责", "单位详情", "隐患台账", "指标与目标", "会议模式"]
ADMIN_NAV = [*UNIT_NAV, "会议模式", "审计日志", "用户与权限"]


def run_page(page: str = "app.py", name: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    if name:
        signed_in(at, name)
    if page != "app.py":
        at.switch_page(page)
    return checked(at.run())


def checked(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def switch(at: AppTest) -> list:
    return [s for s in at.sidebar.selectbox if s.key in ("demo_view_role", "demo_view_unit")]


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def links(at: AppTest) -> list[str]:
    return [link.proto.label for link in at.sidebar.get("page_link")]


@pytest.fixture
def demo(db, monkeypatch) -> Path:
    monkeypatch.setenv("SAFETY_DB", str(db))
    return db


@pytest.fixture
def real(db, monkeypatch) -> Path:
    """The demo's data as a real store: sign-in needed, one administrator."""
    asking_for_sign_in(db)
    monkeypatch.setenv("SAFETY_DB", str(db))
    return db


# --- the least privileged role ------------------------------------------------------------------------------------

def test_the_roles_order_from_the_least_privileged():
    # unit: only the group view over every unit (details, upload, rollback and the hazard ledger of its own);
    # executive: the group view, every unit's details and the meeting; admin: all ten permissions.
    assert [tuple(len(rights) for rights in privileges(role)) for role in Role] == [(10, 0), (3, 0), (1, 4)]
    assert by_privilege() == [Role.UNIT, Role.EXECUTIVE, Role.ADMIN]


@pytest.mark.parametrize("store_kind", ["demo", "real"])
def test_a_new_user_starts_as_unit_staff(request, store_kind):
    request.getfixturevalue(store_kind)
    at = run_page("pages/users.py", None if store_kind == "demo" else "admin")
    role = at.selectbox(key="add_user_role")
    assert role.value is Role.UNIT
    assert role.options == ["单位填报员", "领导（只读）", "管理员（集团安全部）"]


def test_a_user_added_without_choosing_a_role_is_unit_staff(real):
    at = run_page("pages/users.py", "admin")
    at.text_input[0].input("wang@cm01.cn")
    at.multiselect[0].select("CM01")
    at.button[0].click()
    checked(at.run())
    assert [s.value.startswith("已新建用户 wang@") for s in at.success] == [True]
    with store.connect(real, read_only=True) as con:
        added = store.query(con, "SELECT role, units FROM users WHERE name = 'wang@cm01.cn'")
    assert added.to_dict("records") == [{"role": "unit", "units": ["CM01"]}]


# --- the demo administrator on the users page ---------------------------------------------------------------------

def test_the_users_page_lists_the_demo_administrator(demo):
    at = run_page("pages/users.py")
    table = at.dataframe[0].value
    assert table.to_dict("records")[0] | {"锁定至": None} == {
        "用户名": "demo", "姓名": "🧪 演示管理员", "角色": "管理员（集团安全部）", "负责单位": "", "启用": True,
        "已设密码": False, "连续失败": 0, "锁定至": None}
    assert len(table) == 1
    assert "🧪 演示管理员：演示模式自动登录的账号，不在用户表中，不能修改。" in [c.value for c in at.caption]
    assert not [s for s in at.selectbox if s.key == "edit_user"]  # nothing to change: the demo row is not editable


def test_a_real_store_lists_its_users_only(real):
    at = run_page("pages/users.py", "admin")
    assert list(at.dataframe[0].value["用户名"]) == ["admin"]
    assert "🧪 演示管理员" not in " ".join(c.value for c in at.caption)


# --- the role switch ------------------------------------------------------------------------------------------------

def test_the_switch_is_offered_on_the_demo_only(demo):
    with store.connect(demo, read_only=True) as con:
        assert access.demo_roles(con) == [Role.ADMIN, Role.EXECUTIVE, Role.UNIT]
    at = run_page()
    [role] = switch(at)
    assert (role.label, role.options, role.value) == ("以…身份查看", ["演示管理员", "领导（只读）", "单位填报员"],
                                                      Role.ADMIN)
    assert "👤 演示管理员 · 管理员（集团安全部）" in captions(at)


def test_no_switch_when_signed_in_on_a_real_store(real):
    with store.connect(real, read_only=True) as con:
        assert access.demo_roles(con) == []
    at = run_page("app.py", "admin")
    assert switch(at) == []
    assert "👤 admin · 管理员（集团安全部）" in captions(at)
    at.session_state["demo_view_role"] = Role.UNIT  # a switch's value left in the session does nothing either
    checked(at.run())
    assert links(at) == ADMIN_NAV and switch(at) == []


def test_no_switch_on_a_demo_store_that_has_users(demo):
    add_user(demo, "admin")
    with store.connect(demo, read_only=True) as con:
        assert access.demo_roles(con) == []
    at = run_page()
    assert switch(at) == []
    at.session_state["demo_view_role"] = Role.EXECUTIVE  # a switch's value left in the session does nothing
    signed_in(at, "admin")
    checked(at.run())
    assert switch(at) == [] and links(at) == ADMIN_NAV


def test_the_demo_viewed_as_a_unit_shows_only_that_units_data(demo):
    at = run_page()
    at.sidebar.selectbox(key="demo_view_role").select(Role.UNIT)
    checked(at.run())
    unit = at.sidebar.selectbox(key="demo_view_unit")
    assert (unit.label, len(unit.options), unit.value) == ("填报单位", 12, "CH01")
    unit.select("CM01")
    checked(at.run())
    assert links(at) == UNIT_NAV
    assert "👤 演示用户 · 单位填报员 · CM01" in captions(at)
    assert "正以单位填报员（CM01）身份查看" in " ".join(m.value for m in at.markdown)
    assert [e.value for e in at.error] == ["一票否决：北川煤矿，本年累计得分归零"]  # without the veto's indicator

    at.switch_page("pages/breaches.py")
    checked(at.run())
    table = at.dataframe[0].value
    with store.connect(demo, read_only=True) as con:
        own = [b for b in breaches.find_breaches(con, END_MONTH) if b.subsidiary == "CM01"]
    assert set(table["单位"]) == {"东峰煤矿"} and len(table) == len(own) > 0
    assert at.sidebar.selectbox(key="demo_view_unit").value == "CM01"  # the choice follows from page to page

    at.switch_page("pages/unit.py")
    checked(at.run())
    assert at.selectbox(key="unit").options == ["东峰煤矿 (CM01)"]

    at.switch_page("pages/users.py")
    checked(at.run())
    assert [e.value for e in at.error] == ["只有管理员可以管理用户" + ASK]
    assert at.dataframe.len == 0


def test_the_demo_viewed_as_an_executive_reads_everything_and_writes_nothing(demo):
    at = run_page()
    at.sidebar.selectbox(key="demo_view_role").select(Role.EXECUTIVE)
    checked(at.run())
    assert links(at) == EXECUTIVE_NAV
    assert "👤 演示用户 · 领导（只读）" in captions(at)
    assert not [s for s in at.sidebar.selectbox if s.key == "demo_view_unit"]
    assert [e.value for e in at.error] == ["一票否决：北川煤矿（死亡人数 1），本年累计得分归零"]
    at.switch_page("pages/upload.py")
    checked(at.run())
    assert [e.value for e in at.error] == ["领导账号只读，不能上传或撤回数据" + ASK]
    at.switch_page("pages/meeting.py")
    checked(at.run())
    assert [t.value for t in at.title] == ["2026年10月集团安全生产总体情况"]

    at.sidebar.selectbox(key="demo_view_role").select(Role.ADMIN)  # and back
    checked(at.run())
    assert links(at) == ADMIN_NAV and "👤 演示管理员 · 管理员（集团安全部）" in captions(at)


def test_a_unit_view_uploads_for_its_unit_only(demo):
    with store.connect(demo) as con:
        viewer = access.viewed_as(Role.UNIT, "CM01")
        assert (viewer.name, viewer.role, viewer.units, viewer.demo) == ("demo", Role.UNIT, ("CM01",), True)
        found = access.check_upload(con, viewer, b"month,subsidiary,indicator,value\n2026-10,CH01,near_misses,3\n",
                                    "other.csv", demo.parent / "raw")
    assert found.status == "rejected" and [p.row for p in found.errors] == [2]
