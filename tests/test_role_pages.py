"""Roles on the pages: who sees which page, what each page shows them, what they may upload, download and edit.

One store for the module: a copy of the demo store (ending 2026-10) with the demo flag turned off, so it needs
sign-in, and five users: an administrator, an executive and three unit users (CM01; CH01; LG01 and LG02). The
demo's facts used here: 北川煤矿 (CM03) is vetoed for a fatality, 铁运公司 (LG02) has not reported 2026-10.

The pages are run with Streamlit's AppTest, signed in through the server-side session key the sign-in form sets
(tests.builders.signed_in). A page run for a user is made once and shared by the tests that only read it (the
module store is never written to); tests that write (uploads, refused target edits, deactivation, a role change)
work on their own copy of it.
"""
from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics import access, store
from metrics.auth import users
from metrics.auth.roles import Forbidden, Role
from metrics.ingest.initialise import DEMO_KEY
from metrics.ingest.targets import export_targets
from metrics.scoring import breaches
from metrics.store import audit
from tests.builders import add_user, asking_for_sign_in, signed_in

APP = Path(__file__).resolve().parents[1] / "app.py"
END_MONTH = date(2026, 10, 1)

# --- the users --------------------------------------------------------------------------------------------------

USERS = {  # sign-in name: (role, units)
    "admin": (Role.ADMIN, ()),
    "exec": (Role.EXECUTIVE, ()),
    "cm01": (Role.UNIT, ("CM01",)),
    "ch01": (Role.UNIT, ("CH01",)),
    "lg": (Role.UNIT, ("LG01", "LG02")),
}
UNIT_USERS = [name for name, (role, _) in USERS.items() if role is Role.UNIT]
UNIT_NAMES = {"CM01": "东峰煤矿", "CH01": "华源化工有限公司", "LG01": "通达物流公司", "LG02": "铁运公司"}


def role_of(name: str) -> Role:
    return USERS[name][0]


def own_units(name: str) -> tuple[str, ...]:
    return USERS[name][1]


def own_names(name: str) -> list[str]:
    return [UNIT_NAMES[u] for u in own_units(name)]


# --- what each role reads -----------------------------------------------------------------------------------------

ASK = "。如需权限请联系集团安全部。"
NO_UPLOAD = "领导账号只读，不能上传或撤回数据" + ASK
NO_MEETING = "会议模式和月度通报仅限领导和集团安全部" + ASK
NO_AUDIT = "只有管理员可以查看审计日志" + ASK
NO_USERS = "只有管理员可以管理用户" + ASK
OK = None

VETO_FULL = "一票否决：北川煤矿（死亡人数 1），本年累计得分归零"
VETO_PLAIN = "一票否决：北川煤矿，本年累计得分归零"
SIGN_IN_TITLE = "登录 · 集团安全生产指标看板"

# The matrix of pages: the title an allowed user sees, else the refusal the role reads (and nothing else).
#   page                   title when allowed                  admin  executive   unit
VIEW = [
    ("app.py",              "集团安全生产指标看板",            OK,    OK,         OK),
    ("pages/ranking.py",    "排名",                            OK,    OK,         OK),
    ("pages/trends.py",     "趋势",                            OK,    OK,         OK),
    ("pages/breaches.py",   "预警与问责",                      OK,    OK,         OK),
    ("pages/unit.py",       "单位详情",                        OK,    OK,         OK),
    ("pages/indicators.py", "指标与目标",                      OK,    OK,         OK),
    ("pages/upload.py",     "上传数据",                        OK,    NO_UPLOAD,  OK),
    ("pages/meeting.py",    "2026年10月集团安全生产总体情况",  OK,    OK,         NO_MEETING),  # the first slide
    ("pages/audit.py",      "审计日志",                        OK,    NO_AUDIT,   NO_AUDIT),
    ("pages/users.py",      "用户与权限",                      OK,    NO_USERS,   NO_USERS),
]
COLUMN = {Role.ADMIN: 2, Role.EXECUTIVE: 3, Role.UNIT: 4}

BREACH_FILES = {"下载 Excel", "下载 CSV"}
BULLETIN_FILES = {"下载 PPTX 演示文稿", "下载 PDF", "下载 Excel 数据"}
AUDIT_FILES = {"下载 Excel", "下载 CSV"}
TARGET_FILES = {"导出本年度目标 CSV"}
TEMPLATE_FILES = {"模板 CSV（Excel 可直接打开）", "模板 Excel（.xlsx）"}
NO_FILES: set[str] = set()
# The download buttons each role gets on a page.
#   page                   admin            executive        unit
DOWNLOADS = [
    ("app.py",              NO_FILES,        NO_FILES,        NO_FILES),
    ("pages/breaches.py",   BREACH_FILES,    BREACH_FILES,    BREACH_FILES),
    ("pages/indicators.py", TARGET_FILES,    TARGET_FILES,    TARGET_FILES),
    ("pages/upload.py",     TEMPLATE_FILES,  NO_FILES,        TEMPLATE_FILES),
    ("pages/meeting.py",    BULLETIN_FILES,  BULLETIN_FILES,  NO_FILES),
    ("pages/audit.py",      AUDIT_FILES,     NO_FILES,        NO_FILES),
    ("pages/users.py",      NO_FILES,        NO_FILES,        NO_FILES),
]
DOWNLOAD_COLUMN = {Role.ADMIN: 1, Role.EXECUTIVE: 2, Role.UNIT: 3}

NAV = ["总览", "排名", "趋势", "预警与问责", "单位详情", "隐患台账", "指标与目标", "上传数据", "会议模式", "审计日志",
       "用户与权限"]
SIDEBAR = {
    Role.ADMIN: NAV,
    Role.EXECUTIVE: ["总览", "排名", "趋势", "预警与问责", "单位详情", "隐患台账", "指标与目标", "会议模式"],
    Role.UNIT: ["总览", "排名", "趋势", "预警与问责", "单位详情", "隐患台账", "指标与目标", "上传数据"],
}
ROLE_CAPTION = {"admin": "👤 admin · 管理员（集团安全部）", "exec": "👤 exec · 领导（只读）",
                "cm01": "👤 cm01 · 单位填报员 · CM01", "ch01": "👤 ch01 · 单位填报员 · CH01",
                "lg": "👤 lg · 单位填报员 · LG01、LG02"}


# --- fixtures and helpers ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def role_store(pristine, tmp_path_factory) -> Path:
    """The demo store turned into a real one (sign-in needed) with the five users; nobody writes to it."""
    path = tmp_path_factory.mktemp("roles") / "safety.duckdb"
    shutil.copy(pristine, path)
    asking_for_sign_in(path, admin=None)
    for name, (role, units) in USERS.items():
        add_user(path, name, role.value, units)
    assert not path.with_name(path.name + ".wal").exists()  # the copies below take the file alone
    return path


@pytest.fixture(scope="module")
def opened(role_store):
    """open_as(user, page): the page run once for the user on the module store, shared by the reading tests."""
    runs: dict[tuple, AppTest] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAFETY_DB", str(role_store))

        def open_as(name: str, page: str, **query: str) -> AppTest:
            key = (name, page, tuple(sorted(query.items())))
            if key not in runs:
                runs[key] = run_page(name, page, **query)
            return runs[key]

        yield open_as


@pytest.fixture
def writable(role_store, tmp_path, monkeypatch) -> Path:
    """A copy of the module store for a test that writes; the pages read it."""
    path = tmp_path / "safety.duckdb"
    shutil.copy(role_store, path)
    monkeypatch.setenv("SAFETY_DB", str(path))
    return path


def run_page(name: str, page: str, **query: str) -> AppTest:
    at = signed_in(AppTest.from_file(str(APP), default_timeout=90), name)
    at.query_params.update(query)
    if page != "app.py":
        at.switch_page(page)
    return at.run()


def exceptions(at: AppTest) -> list[str]:
    return [e.message for e in at.exception]


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, exceptions(at)
    return at


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def downloads(at: AppTest) -> set[str]:
    return {b.label for b in at.get("download_button")}


def sidebar_links(at: AppTest) -> list[str]:
    return [link.proto.label for link in at.sidebar.get("page_link")]


def data_elements(at: AppTest) -> dict[str, int]:
    """How many elements that show data the page has drawn (a refused page draws none)."""
    return {"dataframe": len(at.dataframe), "table": len(at.table), "plotly_chart": len(at.get("plotly_chart")),
            "metric": len(at.metric), "download_button": len(at.get("download_button"))}


def user(con, name: str):
    found = users.active_user(con, name)
    assert found is not None, name
    return found


# --- view: every page for every user ---------------------------------------------------------------------------------

def view_cases() -> list:
    cases = []
    for page, title, *by_role in VIEW:
        for name, (role, _) in USERS.items():
            refusal = by_role[COLUMN[role] - 2]
            cases.append(pytest.param(name, page, title, refusal, id=f"{name}-{page}"))
    return cases


@pytest.mark.parametrize("name, page, title, refusal", view_cases())
def test_each_user_sees_the_pages_of_their_role_and_a_clear_refusal_elsewhere(opened, name, page, title, refusal):
    at = opened(name, page)
    assert not at.exception, exceptions(at)
    if refusal is OK:
        assert titles(at) == [title]
        assert not [e for e in errors(at) if "如需权限" in e], errors(at)
        assert sum(data_elements(at).values()) > 0, "an allowed page shows its data"
    else:
        assert errors(at) == [refusal]
        assert titles(at) == []
        assert data_elements(at) == dict.fromkeys(data_elements(at), 0)
    # Wherever the user is, the sidebar lists only the pages their role may open, and who they are.
    assert sidebar_links(at) == SIDEBAR[role_of(name)]
    assert ROLE_CAPTION[name] in texts(at.sidebar.caption)


def test_the_refusals_name_what_is_refused_in_english_too(opened):
    at = opened("cm01", "pages/meeting.py", lang="en")
    assert errors(at) == ["the meeting page and the bulletin are for executives and the group safety department. "
                          "Ask the group safety department for access."]


# --- nothing of another unit is shown to a unit user -------------------------------------------------------------

@pytest.mark.parametrize("name", ["admin", "exec"])
def test_the_overview_names_the_veto_indicator_for_those_who_see_every_unit(opened, name):
    at = opened(name, "app.py")
    assert errors(at) == [VETO_FULL]
    assert [w.value for w in at.warning] == ["逾期未报（截止 11月10日）：铁运公司"]


@pytest.mark.parametrize("name", UNIT_USERS)
def test_the_overview_shows_another_units_veto_without_its_indicators(opened, name):
    at = opened(name, "app.py")
    assert errors(at) == [VETO_PLAIN]
    assert "死亡人数 1" not in texts(at.error)


@pytest.mark.parametrize("name", UNIT_USERS)
def test_the_breaches_table_holds_only_the_users_own_units(opened, role_store, name):
    at = opened(name, "pages/breaches.py")
    table = at.dataframe[0].value
    assert set(table["单位"]) == set(own_names(name))
    assert at.multiselect(key="breach_units").options == own_names(name)
    with store.connect(role_store, read_only=True) as con:
        own = [b for b in breaches.find_breaches(con, END_MONTH) if b.subsidiary in own_units(name)]
    assert len(table) == len(own)
    assert "北川煤矿" not in set(table["单位"])


@pytest.mark.parametrize("name", UNIT_USERS)
def test_the_unit_page_offers_only_the_users_own_units_even_when_the_url_names_another(opened, name):
    at = opened(name, "pages/unit.py", unit="CM03")
    assert not at.exception, exceptions(at)
    picker = at.selectbox(key="unit")
    assert picker.options == [f"{UNIT_NAMES[u]} ({u})" for u in own_units(name)]
    assert picker.value == own_units(name)[0]
    assert "本年一票否决：死亡人数" not in errors(at)  # CM03's scorecard is not shown
    assert at.query_params["unit"] in (own_units(name)[0], [own_units(name)[0]])  # the URL now says what is shown


def test_the_unit_page_follows_the_url_for_an_executive(opened):
    at = opened("exec", "pages/unit.py", unit="CM03")
    assert at.selectbox(key="unit").value == "CM03"
    assert len(at.selectbox(key="unit").options) == 12
    assert errors(at) == ["本年一票否决：死亡人数"]


def test_the_ranking_heat_map_has_every_unit_for_an_administrator(opened):
    at = opened("admin", "pages/ranking.py")
    heat = figures(at)[0]["data"][0]
    assert heat["type"] == "heatmap" and len(heat["y"]) == 12 and "北川煤矿" in heat["y"]


@pytest.mark.parametrize("name", UNIT_USERS)
def test_the_ranking_shows_every_units_score_but_the_heat_map_only_the_users_rows(opened, name):
    at = opened(name, "pages/ranking.py")
    assert not at.exception, exceptions(at)
    assert len(at.dataframe[0].value) == 12  # every unit's score and grade
    heat = figures(at)[0]["data"][0]
    assert heat["y"] == own_names(name)
    assert len(heat["text"]) == len(own_names(name))
    assert not [h for row in heat["hovertext"] for h in row if not h.startswith(tuple(own_names(name)))]


@pytest.mark.parametrize("name", UNIT_USERS)
def test_trends_offer_the_group_and_the_users_own_units_but_no_sectors(opened, name):
    at = opened(name, "pages/trends.py")
    options = at.multiselect(key="trend_entities").options
    assert options == ["集团", *own_names(name)]
    assert not [o for o in options if o.startswith("板块")]


def test_trends_offer_sectors_to_an_administrator(opened):
    options = opened("admin", "pages/trends.py").multiselect(key="trend_entities").options
    assert "板块 · 煤矿" in options and "北川煤矿" in options


@pytest.mark.parametrize("name", ["cm01"])
def test_the_control_chart_offers_the_group_and_the_users_own_units_only(opened, name):
    at = opened(name, "pages/trends.py")
    assert at.selectbox(key="u_chart_unit").options == ["集团", *own_names(name)]


@pytest.mark.parametrize("name", UNIT_USERS)
def test_the_targets_tab_shows_the_group_default_and_the_users_own_overrides_only(opened, name):
    at = opened(name, "pages/indicators.py")
    shown = set(at.dataframe[1].value["subsidiary"])
    assert shown == {"集团默认（*）", *(f"{UNIT_NAMES[u]} ({u})" for u in own_units(name))}


@pytest.mark.parametrize("name", UNIT_USERS)
def test_the_upload_history_holds_only_the_users_own_units_batches(opened, name):
    at = opened(name, "pages/upload.py")
    history = at.dataframe[0].value
    assert len(history) >= 35
    assert not [f for f in history["文件"] if not f.startswith(own_units(name))]  # "LG02 2026-09"
    assert set(at.dataframe[1].value["单位"]) <= set(own_names(name))  # the chosen batch's changes


# --- downloads --------------------------------------------------------------------------------------------------------

def download_cases() -> list:
    return [pytest.param(name, page, by_role[DOWNLOAD_COLUMN[role] - 1], id=f"{name}-{page}")
            for page, *by_role in DOWNLOADS for name, (role, _) in USERS.items()]


@pytest.mark.parametrize("name, page, files", download_cases())
def test_the_download_buttons_each_role_gets(opened, name, page, files):
    at = opened(name, page)
    assert not at.exception, exceptions(at)
    assert downloads(at) == files


# --- upload -------------------------------------------------------------------------------------------------------

def observations(path: Path):
    with store.connect(path, read_only=True) as con:
        return store.query(con, "SELECT * FROM observations ORDER BY month, subsidiary, indicator")


def last_audit(path: Path):
    with store.connect(path, read_only=True) as con:
        return audit.entries(con).iloc[0]


@pytest.mark.parametrize("name, unit", [("cm01", "CM01"), ("lg", "LG02")])
def test_a_unit_user_commits_their_own_units_rows(writable, name, unit):
    at = run_page(name, "pages/upload.py")
    assert not at.exception, exceptions(at)
    assert f"你可以上传本单位（{'、'.join(own_units(name))}）的数据" in texts(at.caption)
    csv = f"month,subsidiary,indicator,value\n2026-10,{unit},near_misses,977\n"
    at.file_uploader(key="upload_file").upload("own.csv", csv.encode("utf-8"), "text/csv")
    rerun(at)
    assert "校验通过：将写入 1 个数值" in texts(at.success)
    at.button(key="commit").click()
    rerun(at)
    assert "已提交：批次" in texts(at.success)
    with store.connect(writable, read_only=True) as con:
        assert store.scalar(con, "SELECT value FROM observations WHERE subsidiary = $u AND indicator = 'near_misses' "
                                 "AND month = DATE '2026-10-01'", {"u": unit}) == 977
        assert store.scalar(con, "SELECT actor FROM batches ORDER BY id DESC LIMIT 1") == name


@pytest.mark.parametrize("name, own, foreign", [("cm01", "CM01", "CH01"), ("lg", "LG01", "CM03")])
def test_a_file_with_another_units_row_is_rejected_whole(writable, name, own, foreign):
    before = observations(writable)
    at = run_page(name, "pages/upload.py")
    csv = (f"month,subsidiary,indicator,value\n"
           f"2026-10,{own},near_misses,977\n"
           f"2026-10,{foreign},near_misses,7\n")
    at.file_uploader(key="upload_file").upload("mixed.csv", csv.encode("utf-8"), "text/csv")
    rerun(at)
    assert errors(at) == ["文件有 1 处错误，未写入任何数据。请按下表修改后重新上传。"]
    problems = at.dataframe[0].value
    assert problems.to_dict("records") == [{
        "行": 3, "列": "subsidiary", "填写值": foreign,
        "问题": f"单位 {foreign} 不是你负责的单位（{'、'.join(own_units(name))}）；请删除这些行，或请集团安全部上传"}]
    assert not [b for b in at.button if b.key == "commit"]  # nothing to commit: the own row is not written either
    assert observations(writable).equals(before)
    refused = last_audit(writable)
    assert (refused["actor"], refused["action"], refused["outcome"], refused["target"]) == \
           (name, "upload_rejected", "refused", "mixed.csv")


# The upload-warning path. CM02's stored values (no unit user here has CM02): hours worked 574,142 in 2026-09 and
# 580,132 in 2026-10, 2,825.5 employees and 840 staff requiring certification in 2026-10, hours in 2026-08 too.
# Each CM02 row below would warn against one of them; the user's own row warns against their own stored value.
FOREIGN_ROWS = ("2026-10,CM02,hours_worked,6000000\n"  # 10.5× last month's 574,142; 2,123.5 hours a head
                "2026-10,CM02,staff_certified,9999\n"  # more than the 840 requiring certification
                "2026-08,CM02,near_misses,1\n")  # a CM01 user must not learn whether CM02 has hours for 2026-08
FOREIGN_FIGURES = ("574,142", "580,132", "2,825.5", "2,123.5", "10.5", "840")
OWN_REQUIRED = {"CM01": "960", "CH01": "450", "LG01": "270"}
"""Each user's first unit's staff requiring certification in 2026-10 (stored in the demo)."""


def problem_tables(at: AppTest) -> list[list[dict]]:
    return [frame.value.to_dict("records") for frame in at.dataframe if "问题" in frame.value.columns]


@pytest.mark.parametrize("name", UNIT_USERS)
def test_a_rejected_upload_shows_nothing_of_another_unit(writable, name):
    own = own_units(name)[0]
    csv = f"month,subsidiary,indicator,value\n2026-10,{own},staff_certified,99999\n{FOREIGN_ROWS}"
    at = run_page(name, "pages/upload.py")
    at.file_uploader(key="upload_file").upload("mixed.csv", csv.encode("utf-8"), "text/csv")
    rerun(at)
    assert errors(at) == ["文件有 3 处错误，未写入任何数据。请按下表修改后重新上传。"]
    not_yours = f"单位 CM02 不是你负责的单位（{'、'.join(own_units(name))}）；请删除这些行，或请集团安全部上传"
    assert problem_tables(at) == [
        [{"行": row, "列": "subsidiary", "填写值": "CM02", "问题": not_yours} for row in (3, 4, 5)],
        [{"行": 2, "列": "value", "填写值": "99999",
          "问题": f"持证上岗人数（99,999）多于应持证人数（{OWN_REQUIRED[own]}）"}],  # the own row is still checked
    ]
    shown = " ".join([*errors(at), *(w.value for w in at.warning), *(i.value for i in at.info),
                      *(m.value for m in at.markdown), *(c.value for c in at.caption), *(e.label for e in at.expander),
                      *(str(v) for table in problem_tables(at) for record in table for v in record.values())])
    assert "提醒（不影响提交） · 1" in shown  # the count of warnings has none of CM02 either
    assert [figure for figure in FOREIGN_FIGURES if figure in shown] == []


def test_the_same_file_from_an_administrator_is_checked_against_cm02s_values(writable):
    """What the unit users above must not see is there to see for someone who may: the test above is not empty."""
    at = run_page("admin", "pages/upload.py")
    csv = f"month,subsidiary,indicator,value\n{FOREIGN_ROWS}"
    at.file_uploader(key="upload_file").upload("cm02.csv", csv.encode("utf-8"), "text/csv")
    rerun(at)
    assert [w["问题"] for w in problem_tables(at)[0]] == [
        "CM02 的实际工时是上月 574,142 的 10.5 倍：请检查单位（小时，不是万小时）",
        "CM02 2026-10 人均工时 2123.5 小时，超出 8–375：请检查实际工时和平均职工人数",
        "持证上岗人数（9,999）多于应持证人数（840）"]


def test_an_executive_may_not_upload_even_around_the_page(writable):
    before = observations(writable)
    with store.connect(writable) as con:
        with pytest.raises(Forbidden) as refused:
            access.commit_upload(con, user(con, "exec"), b"month,subsidiary,indicator,value\n2026-10,CM01,injuries,0\n",
                                 "x.csv", writable.parent / "raw")
    assert refused.value.message("zh") == NO_UPLOAD
    assert observations(writable).equals(before)
    denied = last_audit(writable)
    assert (denied["actor"], denied["action"], denied["outcome"]) == ("exec", "access_denied", "refused")


# --- targets ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(USERS))
def test_only_an_administrator_gets_the_targets_editor(opened, name):
    at = opened(name, "pages/indicators.py")
    toggles = [t.key for t in at.toggle]
    read_only = "目标由集团安全部管理员维护；此处只读。" in [c.value for c in at.caption]
    if role_of(name) is Role.ADMIN:
        assert (toggles, read_only) == (["edit_targets"], False)
        assert [u.key for u in at.get("file_uploader")] == ["targets_file"]
    else:
        assert (toggles, read_only) == ([], True)
        assert not at.get("file_uploader")


def test_the_administrators_toggle_opens_the_editor(writable):
    at = run_page("admin", "pages/indicators.py")
    at.toggle(key="edit_targets").set_value(True)
    rerun(at)
    assert [b.key for b in at.button if b.key == "save_targets"] == ["save_targets"]
    assert [d.proto.editing_mode for d in at.dataframe][-1] == 2  # a data editor with rows to add (dynamic)


EDIT = [(2, {"year": "2026", "subsidiary": "*", "indicator": "injuries", "target": "0", "limit": "1",
             "weight": "10", "veto": "false"})]


@pytest.mark.parametrize("name", ["exec", "cm01", "lg"])
def test_changing_targets_around_the_page_is_refused_and_on_the_record(writable, name):
    with store.connect(writable) as con:
        before = export_targets(con, 2026)
        with pytest.raises(Forbidden) as refused:
            access.apply_targets(con, user(con, name), EDIT)
        assert export_targets(con, 2026) == before
    assert refused.value.message("zh") == "只有集团安全部管理员可以修改目标" + ASK
    denied = last_audit(writable)
    assert (denied["actor"], denied["action"], denied["outcome"], denied["target"]) == \
           (name, "access_denied", "refused", "targets")
    assert json.loads(denied["detail"])["permission"] == "edit_targets"


# --- changes by the administrator apply on the next run --------------------------------------------------------------

def test_a_deactivated_user_is_sent_back_to_the_sign_in_form(writable):
    at = run_page("ch01", "pages/indicators.py")
    assert titles(at) == ["指标与目标"]
    with store.connect(writable) as con:
        users.set_active(con, user(con, "admin"), "ch01", False)
    rerun(at)
    assert titles(at) == [SIGN_IN_TITLE]
    assert [t.key for t in at.text_input] == ["sign_in_name", "sign_in_password"]
    assert "signed_in_user" not in at.session_state
    assert data_elements(at) == dict.fromkeys(data_elements(at), 0)
    at.text_input(key="sign_in_name").input("ch01")
    at.text_input(key="sign_in_password").input("correct horse battery")
    at.button[0].click()
    rerun(at)
    assert titles(at) == [SIGN_IN_TITLE]
    assert errors(at) == ["该账号已停用，请联系集团安全部"]


def test_a_changed_role_applies_on_the_next_run(writable):
    at = run_page("cm01", "pages/meeting.py")
    assert errors(at) == [NO_MEETING]
    with store.connect(writable) as con:
        users.change_role(con, user(con, "admin"), "cm01", Role.EXECUTIVE)
    rerun(at)
    assert titles(at) == ["2026年10月集团安全生产总体情况"]
    assert sidebar_links(at) == SIDEBAR[Role.EXECUTIVE]
    assert downloads(at) == BULLETIN_FILES

    with store.connect(writable) as con:
        users.change_role(con, user(con, "admin"), "cm01", Role.UNIT, ["CM02"])
    rerun(at)
    assert errors(at) == [NO_MEETING]
    at.switch_page("app.py")
    rerun(at)
    assert errors(at) == [VETO_PLAIN]
    assert "👤 cm01 · 单位填报员 · CM02" in texts(at.sidebar.caption)


# --- sign-in tells nothing of an account until its password is right ------------------------------------------------

WRONG_NAME_OR_PASSWORD = "用户名或密码不正确"


def sign_in_answer(name: str, password: str, lang: str = "zh") -> list[str]:
    """What the sign-in form answers (the page's errors) for this name and password, from a fresh session."""
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["lang"] = lang
    at.run()
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    at.button[0].click()
    rerun(at)
    assert "signed_in_user" not in at.session_state
    return errors(at)


def test_locked_deactivated_and_unknown_accounts_get_the_answer_of_a_wrong_password(writable):
    with store.connect(writable) as con:
        for attempt in range(users.MAX_FAILURES):
            with pytest.raises(users.SignInFailed):
                users.authenticate(con, "cm01", f"wrong password {attempt}")
        users.set_active(con, user(con, "admin"), "ch01", False)
    cases = {"locked": "cm01", "deactivated": "ch01", "unknown": "nobody@group.cn", "active": "lg"}
    assert {case: sign_in_answer(name, "not the password") for case, name in cases.items()} == \
           dict.fromkeys(cases, [WRONG_NAME_OR_PASSWORD])
    assert {case: sign_in_answer(name, "not the password", "en") for case, name in cases.items()} == \
           dict.fromkeys(cases, ["wrong name or password"])
    # With the right password the owner learns why (and until when): the lock-out itself was not extended.
    [locked] = sign_in_answer("cm01", "correct horse battery")
    with store.connect(writable, read_only=True) as con:
        until = store.scalar(con, "SELECT locked_until FROM users WHERE name = 'cm01'")
        failures = store.scalar(con, "SELECT failed_attempts FROM users WHERE name = 'cm01'")
    assert locked == f"密码连续错误 5 次，账号已锁定至 {until:%H:%M}；请稍后再试或联系管理员解锁" and failures == 5
    assert sign_in_answer("ch01", "correct horse battery") == ["该账号已停用，请联系集团安全部"]


# --- demo mode never applies to a store with users --------------------------------------------------------------

def test_a_store_with_users_asks_for_sign_in_even_with_the_demo_flag(writable):
    with store.connect(writable) as con:
        store.set_meta(con, DEMO_KEY, "true")
        assert access.demo_user(con) is None
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.switch_page("pages/users.py")
    rerun(at)
    assert titles(at) == [SIGN_IN_TITLE]
    assert data_elements(at) == dict.fromkeys(data_elements(at), 0)
    assert not sidebar_links(at) and "演示" not in texts(at.sidebar.caption) + texts(at.markdown)
